#include "core/operations.hpp"

namespace colmig::core {

bool needs_backfill(const AddColumnRequest &request) {
  // A volatile default must yield one value per row; PostgreSQL would get
  // there by rewriting the table under ACCESS EXCLUSIVE.
  return request.has_backfill_expr ||
         (request.has_default && request.default_is_volatile);
}

namespace {

// The rows live in shard placements on other nodes: each is filled and
// proven there by a fill_shard job, whose fill trigger stays until the
// coordinator has set NOT NULL on every placement through Citus.
Plan plan_distributed_backfill(Plan plan, bool not_null) {
  plan.push_back(step(StepKind::fill_shards));
  if (not_null) {
    plan.push_back(step(StepKind::add_not_null_check));
    plan.push_back(step(StepKind::validate_not_null_check));
    plan.push_back(step(StepKind::set_not_null));
  }
  plan.push_back(step(StepKind::release_shards));
  return plan;
}

} // namespace

Plan plan_fill_shard() {
  Plan plan;
  for (StepKind kind :
       {StepKind::attach_fill_trigger, StepKind::backfill, StepKind::sweep,
        StepKind::verify, StepKind::await_release, StepKind::drop_fill_trigger})
    plan.push_back(step(kind));
  return plan;
}

Plan plan_add_column(const AddColumnRequest &request) {
  Plan plan;
  if (!needs_backfill(request)) {
    // Since PostgreSQL 11 a non-volatile default is stored once in the
    // catalog, and NOT NULL with a non-null stored default needs no scan.
    plan.push_back(step(StepKind::add_column));
    return plan;
  }
  plan.push_back(step(StepKind::add_column_for_backfill));
  if (request.distributed)
    return plan_distributed_backfill(std::move(plan), request.not_null);
  plan.push_back(step(StepKind::backfill));
  plan.push_back(step(StepKind::sweep));
  // Success is proven, not assumed: no rewrite moved rows behind the
  // sweep, and the fill trigger saw every write while it ran.
  plan.push_back(step(StepKind::verify));
  if (request.not_null) {
    // The fill trigger stays until NOT NULL is set, so rows written by the
    // application meanwhile cannot break the validation.
    plan.push_back(step(StepKind::add_not_null_check));
    plan.push_back(step(StepKind::validate_not_null_check));
    plan.push_back(step(StepKind::set_not_null));
  }
  plan.push_back(step(StepKind::drop_fill_trigger));
  return plan;
}

} // namespace colmig::core
