// The planners of the operations other than add_column (plan_test.cpp),
// and what every plan keeps: no step rewrites the table, strong locks only
// where a moment of them is all there is, stored plans read back.
#include "core/operation.hpp"
#include "core/operations.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace colmig::core {
namespace {

std::vector<StepKind> kinds(const Plan &plan) {
  std::vector<StepKind> out;
  for (const Step &step : plan)
    out.push_back(step.kind);
  return out;
}

std::vector<Plan> every_plan() {
  std::vector<Plan> plans;
  for (bool check : {false, true}) {
    SetNotNullFacts facts;
    facts.has_valid_not_null_check = check;
    plans.push_back(plan_set_not_null(facts));
  }
  plans.push_back(plan_add_check());
  plans.push_back(plan_add_foreign_key());
  plans.push_back(plan_validate_constraint());
  plans.push_back(plan_create_index());
  plans.push_back(plan_drop_index());
  plans.push_back(plan_fill_shard());
  return plans;
}

TEST(PlanSetNotNull, WithoutAValidCheckAddsValidatesAndSets) {
  EXPECT_EQ(
      kinds(plan_set_not_null({})),
      (std::vector<StepKind>{StepKind::add_not_null_check,
                             StepKind::validate_not_null_check, StepKind::set_not_null}));
}

TEST(PlanSetNotNull, AValidCheckIsReusedSoOnlySetNotNullRuns) {
  SetNotNullFacts facts;
  facts.has_valid_not_null_check = true;
  EXPECT_EQ(kinds(plan_set_not_null(facts)),
            std::vector<StepKind>{StepKind::set_not_null});
}

TEST(PlanSetNotNull, TheScanRunsUnderShareUpdateExclusive) {
  const Plan plan = plan_set_not_null({});
  EXPECT_EQ(plan[1].lock, LockMode::share_update_exclusive);
  EXPECT_EQ(plan[0].lock, LockMode::access_exclusive);
  EXPECT_EQ(plan[2].lock, LockMode::access_exclusive);
}

TEST(PlanConstraints, AddThenValidateApart) {
  EXPECT_EQ(kinds(plan_add_check()),
            (std::vector<StepKind>{StepKind::add_check, StepKind::validate_constraints}));
  EXPECT_EQ(
      kinds(plan_add_foreign_key()),
      (std::vector<StepKind>{StepKind::add_foreign_key, StepKind::validate_constraints}));
  EXPECT_EQ(kinds(plan_validate_constraint()),
            std::vector<StepKind>{StepKind::validate_constraints});
}

TEST(PlanConstraints, AForeignKeyLocksBothTablesShareRowExclusive) {
  const Step add = plan_add_foreign_key()[0];
  EXPECT_EQ(add.lock, LockMode::share_row_exclusive);
  EXPECT_TRUE(add.locks_referenced_table);
  EXPECT_FALSE(plan_add_check()[0].locks_referenced_table);
  EXPECT_EQ(plan_add_check()[0].lock, LockMode::access_exclusive);
}

TEST(PlanConstraints, ValidationLetsReadsAndWritesGoOn) {
  const Step validate = plan_validate_constraint()[0];
  EXPECT_EQ(validate.lock, LockMode::share_update_exclusive);
  EXPECT_FALSE(validate.outside_transaction);
}

TEST(PlanIndexes, BuildConcurrentlyThenRename) {
  const Plan plan = plan_create_index();
  EXPECT_EQ(kinds(plan),
            (std::vector<StepKind>{StepKind::build_index, StepKind::attach_index}));
  EXPECT_TRUE(plan[0].outside_transaction);
  EXPECT_EQ(plan[0].lock, LockMode::share_update_exclusive);
  EXPECT_FALSE(plan[1].outside_transaction);
  EXPECT_EQ(plan[1].lock, LockMode::share_update_exclusive);
}

TEST(PlanIndexes, DropConcurrently) {
  const Plan plan = plan_drop_index();
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].kind, StepKind::drop_index);
  EXPECT_TRUE(plan[0].outside_transaction);
}

TEST(EveryPlan, NoStepRewritesTheTableAndOnlyIndexBuildsLeaveTransactions) {
  for (const Plan &plan : every_plan()) {
    ASSERT_FALSE(plan.empty());
    for (const Step &step : plan) {
      EXPECT_FALSE(step.rewrites_table) << to_string(step.kind);
      EXPECT_EQ(step.outside_transaction,
                step.kind == StepKind::build_index || step.kind == StepKind::drop_index)
          << to_string(step.kind);
    }
  }
}

TEST(EveryPlan, ReadsBackFromTheStepNamesItIsStoredAs) {
  for (const Plan &plan : every_plan()) {
    std::vector<std::string> names;
    for (const Step &step : plan)
      names.emplace_back(to_string(step.kind));
    const auto parsed = parse_plan(names);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(kinds(*parsed), kinds(plan));
  }
}

TEST(StoredPlans, UnknownEmptyOrTooLongAreRefused) {
  EXPECT_FALSE(parse_plan(std::vector<std::string>{}).has_value());
  EXPECT_FALSE(
      parse_plan(std::vector<std::string>{"backfill", "vacuum_full"}).has_value());
  EXPECT_FALSE(
      parse_plan(std::vector<std::string>(kMaxPlanSteps + 1, "backfill")).has_value());
}

TEST(Operations, NamesRoundTrip) {
  for (Operation operation :
       {Operation::add_column, Operation::set_not_null, Operation::add_check,
        Operation::add_foreign_key, Operation::validate_constraint,
        Operation::create_index, Operation::drop_index})
    EXPECT_EQ(parse_operation(to_string(operation)), operation);
  EXPECT_FALSE(parse_operation("change_type").has_value());
}

} // namespace
} // namespace colmig::core
