#include "core/operations.hpp"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace colmig::core {
namespace {

constexpr std::array<StepKind, kStepKinds> kAllKinds{
    StepKind::add_column,
    StepKind::add_column_for_backfill,
    StepKind::backfill,
    StepKind::sweep,
    StepKind::verify,
    StepKind::add_not_null_check,
    StepKind::validate_not_null_check,
    StepKind::set_not_null,
    StepKind::drop_fill_trigger,
    StepKind::add_check,
    StepKind::add_foreign_key,
    StepKind::validate_constraints,
    StepKind::build_index,
    StepKind::attach_index,
    StepKind::drop_index,
    StepKind::fill_shards,
    StepKind::release_shards,
    StepKind::attach_fill_trigger,
    StepKind::await_release,
};

AddColumnRequest make_request(bool has_default, bool default_is_volatile,
                              bool has_backfill_expr, bool not_null) {
  AddColumnRequest request;
  request.has_default = has_default;
  request.default_is_volatile = default_is_volatile;
  request.has_backfill_expr = has_backfill_expr;
  request.not_null = not_null;
  return request;
}

// All 16 combinations of the four flags.
std::vector<AddColumnRequest> all_requests() {
  std::vector<AddColumnRequest> requests;
  for (unsigned bits = 0; bits < 16; ++bits)
    requests.push_back(make_request(bits & 1, bits & 2, bits & 4, bits & 8));
  return requests;
}

std::string describe(const AddColumnRequest &r) {
  return std::string("has_default=") + (r.has_default ? "1" : "0") +
         " default_is_volatile=" + (r.default_is_volatile ? "1" : "0") +
         " has_backfill_expr=" + (r.has_backfill_expr ? "1" : "0") +
         " not_null=" + (r.not_null ? "1" : "0");
}

std::vector<StepKind> kinds(const Plan &plan) {
  std::vector<StepKind> result;
  for (const Step &step : plan)
    result.push_back(step.kind);
  return result;
}

const Step &find(const Plan &plan, StepKind kind) {
  for (const Step &step : plan)
    if (step.kind == kind)
      return step;
  ADD_FAILURE() << "no step " << to_string(kind) << " in plan";
  return plan.front();
}

// --- the fast path -------------------------------------------------------------

TEST(PlanAddColumn, NoDefaultIsOneCatalogOnlyStep) {
  for (bool not_null : {false, true}) {
    SCOPED_TRACE(not_null);
    Plan plan = plan_add_column(make_request(false, false, false, not_null));
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].kind, StepKind::add_column);
    EXPECT_EQ(plan[0].lock, LockMode::access_exclusive);
    EXPECT_FALSE(plan[0].rewrites_table);
    EXPECT_FALSE(plan[0].batched);
  }
}

TEST(PlanAddColumn, NonVolatileDefaultIsOneCatalogOnlyStep) {
  for (bool not_null : {false, true}) {
    SCOPED_TRACE(not_null);
    const AddColumnRequest request = make_request(true, false, false, not_null);
    EXPECT_FALSE(needs_backfill(request));
    Plan plan = plan_add_column(request);
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].kind, StepKind::add_column);
    EXPECT_EQ(plan[0].lock, LockMode::access_exclusive);
    EXPECT_FALSE(plan[0].rewrites_table);
    EXPECT_FALSE(plan[0].batched);
  }
}

TEST(PlanAddColumn, VolatileFlagWithoutADefaultIsTheFastPath) {
  // Nothing to evaluate per row when there is no default at all.
  const AddColumnRequest request = make_request(false, true, false, false);
  EXPECT_FALSE(needs_backfill(request));
  EXPECT_EQ(kinds(plan_add_column(request)), std::vector<StepKind>{StepKind::add_column});
}

// --- the backfill path ---------------------------------------------------------

TEST(PlanAddColumn, VolatileDefaultBackfillsInBatches) {
  const AddColumnRequest request = make_request(true, true, false, false);
  EXPECT_TRUE(needs_backfill(request));
  const std::vector<StepKind> expected{StepKind::add_column_for_backfill,
                                       StepKind::backfill, StepKind::sweep,
                                       StepKind::verify, StepKind::drop_fill_trigger};
  EXPECT_EQ(kinds(plan_add_column(request)), expected);
}

TEST(PlanAddColumn, BackfillExpressionBackfillsInBatches) {
  for (bool has_default : {false, true}) {
    SCOPED_TRACE(has_default);
    const AddColumnRequest request = make_request(has_default, false, true, false);
    EXPECT_TRUE(needs_backfill(request));
    const std::vector<StepKind> expected{StepKind::add_column_for_backfill,
                                         StepKind::backfill, StepKind::sweep,
                                         StepKind::verify, StepKind::drop_fill_trigger};
    EXPECT_EQ(kinds(plan_add_column(request)), expected);
  }
}

TEST(PlanAddColumn, NotNullWithBackfillGoesThroughACheckConstraint) {
  for (const auto &request :
       {make_request(true, true, false, true), make_request(false, false, true, true),
        make_request(true, true, true, true)}) {
    SCOPED_TRACE(describe(request));
    const std::vector<StepKind> expected{StepKind::add_column_for_backfill,
                                         StepKind::backfill,
                                         StepKind::sweep,
                                         StepKind::verify,
                                         StepKind::add_not_null_check,
                                         StepKind::validate_not_null_check,
                                         StepKind::set_not_null,
                                         StepKind::drop_fill_trigger};
    EXPECT_EQ(kinds(plan_add_column(request)), expected);
  }
}

TEST(PlanAddColumn, LocksOfTheBackfillPlan) {
  const Plan plan = plan_add_column(make_request(true, true, true, true));
  ASSERT_EQ(plan.size(), 8u);
  EXPECT_EQ(find(plan, StepKind::add_column_for_backfill).lock,
            LockMode::access_exclusive);
  EXPECT_EQ(find(plan, StepKind::backfill).lock, LockMode::row_exclusive);
  EXPECT_EQ(find(plan, StepKind::sweep).lock, LockMode::row_exclusive);
  // The proof reads the catalog only.
  EXPECT_EQ(find(plan, StepKind::verify).lock, LockMode::access_share);
  EXPECT_EQ(find(plan, StepKind::add_not_null_check).lock, LockMode::access_exclusive);
  // The full scan runs under a lock that lets reads and writes through.
  EXPECT_EQ(find(plan, StepKind::validate_not_null_check).lock,
            LockMode::share_update_exclusive);
  EXPECT_EQ(find(plan, StepKind::set_not_null).lock, LockMode::access_exclusive);
  EXPECT_EQ(find(plan, StepKind::drop_fill_trigger).lock, LockMode::access_exclusive);
}

// --- properties over every request -----------------------------------------------

TEST(PlanAddColumn, MatchesTheSpecForEveryCombination) {
  for (const auto &request : all_requests()) {
    SCOPED_TRACE(describe(request));
    const bool backfill =
        request.has_backfill_expr || (request.has_default && request.default_is_volatile);
    EXPECT_EQ(needs_backfill(request), backfill);

    std::vector<StepKind> expected;
    if (!backfill) {
      expected = {StepKind::add_column};
    } else {
      expected = {StepKind::add_column_for_backfill, StepKind::backfill, StepKind::sweep,
                  StepKind::verify};
      if (request.not_null)
        expected.insert(expected.end(),
                        {StepKind::add_not_null_check, StepKind::validate_not_null_check,
                         StepKind::set_not_null});
      expected.push_back(StepKind::drop_fill_trigger);
    }
    EXPECT_EQ(kinds(plan_add_column(request)), expected);
  }
}

TEST(PlanAddColumn, NoStepEverRewritesTheTable) {
  for (const auto &request : all_requests()) {
    SCOPED_TRACE(describe(request));
    const Plan plan = plan_add_column(request);
    ASSERT_FALSE(plan.empty());
    for (const Step &step : plan)
      EXPECT_FALSE(step.rewrites_table) << to_string(step.kind);
  }
}

TEST(PlanAddColumn, OnlyBackfillAndSweepAreBatched) {
  for (const auto &request : all_requests()) {
    SCOPED_TRACE(describe(request));
    for (const Step &step : plan_add_column(request)) {
      const bool batched =
          step.kind == StepKind::backfill || step.kind == StepKind::sweep;
      EXPECT_EQ(step.batched, batched) << to_string(step.kind);
      // Batches run under ROW EXCLUSIVE, like the application's own writes.
      if (step.batched) {
        EXPECT_EQ(step.lock, LockMode::row_exclusive) << to_string(step.kind);
      } else {
        EXPECT_NE(step.lock, LockMode::row_exclusive) << to_string(step.kind);
      }
      // Every step that changes the catalog takes more than a reader's lock.
      if (step.kind != StepKind::verify) {
        EXPECT_NE(step.lock, LockMode::access_share) << to_string(step.kind);
      }
    }
  }
}

TEST(PlanAddColumn, DropFillTriggerIsLastWheneverThereIsABackfill) {
  for (const auto &request : all_requests()) {
    SCOPED_TRACE(describe(request));
    const Plan plan = plan_add_column(request);
    ASSERT_FALSE(plan.empty());
    if (needs_backfill(request)) {
      EXPECT_EQ(plan.back().kind, StepKind::drop_fill_trigger);
    } else {
      EXPECT_EQ(plan.back().kind, StepKind::add_column);
    }
  }
}

TEST(PlanAddColumn, NoStepAppearsTwice) {
  // next_step() identifies a position by its kind.
  for (const auto &request : all_requests()) {
    SCOPED_TRACE(describe(request));
    const Plan plan = plan_add_column(request);
    const auto steps = kinds(plan);
    EXPECT_EQ(std::set<StepKind>(steps.begin(), steps.end()).size(), steps.size());
    EXPECT_LE(plan.size(), plan.capacity());
  }
}

// --- next_step -----------------------------------------------------------------

std::vector<StepKind> kinds_of(const Plan &plan) {
  std::vector<StepKind> out;
  for (const Step &step : plan)
    out.push_back(step.kind);
  return out;
}

TEST(PlanAddColumnDistributed, ShardJobsFillAndTheCoordinatorSetsNotNull) {
  AddColumnRequest request = make_request(false, false, true, true);
  request.distributed = true;
  EXPECT_EQ(kinds_of(plan_add_column(request)),
            (std::vector<StepKind>{StepKind::add_column_for_backfill,
                                   StepKind::fill_shards, StepKind::add_not_null_check,
                                   StepKind::validate_not_null_check,
                                   StepKind::set_not_null, StepKind::release_shards}));
}

TEST(PlanAddColumnDistributed, NullableReleasesTheShardJobsOnceFilled) {
  AddColumnRequest request = make_request(true, true, false, false);
  request.distributed = true;
  EXPECT_EQ(kinds_of(plan_add_column(request)),
            (std::vector<StepKind>{StepKind::add_column_for_backfill,
                                   StepKind::fill_shards, StepKind::release_shards}));
}

TEST(PlanAddColumnDistributed, WithoutBackfillItIsTheFastPathThroughCitus) {
  AddColumnRequest request = make_request(true, false, false, true);
  request.distributed = true;
  EXPECT_EQ(kinds_of(plan_add_column(request)),
            std::vector<StepKind>{StepKind::add_column});
}

TEST(PlanAddColumnDistributed, TheCoordinatorRewritesNothingAndWaitsWithoutLocks) {
  AddColumnRequest request = make_request(false, false, true, true);
  request.distributed = true;
  for (const Step &step : plan_add_column(request)) {
    EXPECT_FALSE(step.rewrites_table);
    if (step.kind == StepKind::fill_shards || step.kind == StepKind::release_shards) {
      EXPECT_LT(step.lock, LockMode::share_update_exclusive);
    }
  }
}

TEST(PlanFillShard, FillsProvesThenHoldsItsTriggerUntilReleased) {
  EXPECT_EQ(kinds_of(plan_fill_shard()),
            (std::vector<StepKind>{
                StepKind::attach_fill_trigger, StepKind::backfill, StepKind::sweep,
                StepKind::verify, StepKind::await_release, StepKind::drop_fill_trigger}));
  EXPECT_EQ(next_step(plan_fill_shard(), StepKind::verify), StepKind::await_release);
}

TEST(NextStep, WalksEveryPlanInOrderAndStopsAtTheEnd) {
  for (const auto &request : all_requests()) {
    SCOPED_TRACE(describe(request));
    const Plan plan = plan_add_column(request);
    ASSERT_FALSE(plan.empty());
    std::vector<StepKind> walked{plan.front().kind};
    for (auto next = next_step(plan, walked.back()); next;
         next = next_step(plan, walked.back())) {
      walked.push_back(*next);
      ASSERT_LE(walked.size(), plan.size()) << "next_step does not terminate";
    }
    EXPECT_EQ(walked, kinds(plan));
    EXPECT_FALSE(next_step(plan, plan.back().kind).has_value());
  }
}

TEST(NextStep, SingleStepPlanHasNoSuccessor) {
  const Plan plan = plan_add_column(make_request(true, false, false, true));
  EXPECT_FALSE(next_step(plan, StepKind::add_column).has_value());
}

TEST(NextStep, StepNotInThePlanHasNoSuccessor) {
  const Plan fast = plan_add_column(make_request(true, false, false, false));
  for (StepKind kind : kAllKinds) {
    if (kind != StepKind::add_column) {
      EXPECT_FALSE(next_step(fast, kind).has_value()) << to_string(kind);
    }
  }

  const Plan nullable = plan_add_column(make_request(false, false, true, false));
  for (StepKind kind : {StepKind::add_column, StepKind::add_not_null_check,
                        StepKind::validate_not_null_check, StepKind::set_not_null})
    EXPECT_FALSE(next_step(nullable, kind).has_value()) << to_string(kind);
  // ... while the steps it does have still chain.
  EXPECT_EQ(next_step(nullable, StepKind::sweep), StepKind::verify);
  EXPECT_EQ(next_step(nullable, StepKind::verify), StepKind::drop_fill_trigger);
}

TEST(NextStep, EmptyPlanHasNoSuccessor) {
  const Plan empty;
  for (StepKind kind : kAllKinds)
    EXPECT_FALSE(next_step(empty, kind).has_value()) << to_string(kind);
}

// --- names ---------------------------------------------------------------------

TEST(StepKindNames, RoundTripForEveryKind) {
  for (StepKind kind : kAllKinds) {
    SCOPED_TRACE(to_string(kind));
    EXPECT_STRNE(to_string(kind), "unknown");
    auto parsed = parse_step_kind(to_string(kind));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, kind);
  }
}

TEST(StepKindNames, AreTheStoredPhaseNames) {
  // colmig.jobs.phase holds these; renaming one strands running jobs.
  EXPECT_STREQ(to_string(StepKind::add_column), "add_column");
  EXPECT_STREQ(to_string(StepKind::add_column_for_backfill), "add_column_for_backfill");
  EXPECT_STREQ(to_string(StepKind::backfill), "backfill");
  EXPECT_STREQ(to_string(StepKind::sweep), "sweep");
  EXPECT_STREQ(to_string(StepKind::verify), "verify");
  EXPECT_STREQ(to_string(StepKind::add_not_null_check), "add_not_null_check");
  EXPECT_STREQ(to_string(StepKind::validate_not_null_check), "validate_not_null_check");
  EXPECT_STREQ(to_string(StepKind::set_not_null), "set_not_null");
  EXPECT_STREQ(to_string(StepKind::drop_fill_trigger), "drop_fill_trigger");
}

TEST(StepKindNames, AreDistinct) {
  std::set<std::string> names;
  for (StepKind kind : kAllKinds)
    names.insert(to_string(kind));
  EXPECT_EQ(names.size(), kAllKinds.size());
}

TEST(StepKindNames, UnknownTextDoesNotParse) {
  for (std::string_view text :
       {"", "unknown", "queued", "Backfill", "BACKFILL", "backfill ", " sweep",
        "add_column_for", "add_column_for_backfill_", "drop_fill_triggers"}) {
    SCOPED_TRACE(std::string(text));
    EXPECT_FALSE(parse_step_kind(text).has_value());
  }
  EXPECT_FALSE(parse_step_kind(std::string_view("sweep\0x", 7)).has_value());
}

TEST(StepKindNames, DonePhaseIsNotAStep) {
  EXPECT_EQ(kDonePhase, "done");
  EXPECT_FALSE(parse_step_kind(kDonePhase).has_value());
  for (StepKind kind : kAllKinds)
    EXPECT_NE(std::string_view(to_string(kind)), kDonePhase);
}

TEST(StepKindNames, OutOfRangeValueIsUnknown) {
  EXPECT_STREQ(to_string(static_cast<StepKind>(99)), "unknown");
}

TEST(PlanAddColumn, EveryBackfillIsVerifiedRightAfterItsSweep) {
  for (const auto &request : all_requests()) {
    SCOPED_TRACE(describe(request));
    const Plan plan = plan_add_column(request);
    if (!needs_backfill(request))
      continue;
    EXPECT_EQ(next_step(plan, StepKind::sweep), StepKind::verify);
  }
}

TEST(LockModeNames, AreSqlLockModes) {
  EXPECT_STREQ(to_string(LockMode::access_share), "ACCESS SHARE");
  EXPECT_STREQ(to_string(LockMode::row_exclusive), "ROW EXCLUSIVE");
  EXPECT_STREQ(to_string(LockMode::share_update_exclusive), "SHARE UPDATE EXCLUSIVE");
  EXPECT_STREQ(to_string(LockMode::access_exclusive), "ACCESS EXCLUSIVE");
  EXPECT_STREQ(to_string(static_cast<LockMode>(99)), "unknown");
}

} // namespace
} // namespace colmig::core
