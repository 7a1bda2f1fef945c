#include "core/plan.hpp"
#include "core/name_table.hpp"

namespace colmig::core {

namespace {

constexpr NameTable<StepKind, kStepKinds> kStepNames{{
    {StepKind::add_column, "add_column"},
    {StepKind::add_column_for_backfill, "add_column_for_backfill"},
    {StepKind::backfill, "backfill"},
    {StepKind::sweep, "sweep"},
    {StepKind::verify, "verify"},
    {StepKind::add_not_null_check, "add_not_null_check"},
    {StepKind::validate_not_null_check, "validate_not_null_check"},
    {StepKind::set_not_null, "set_not_null"},
    {StepKind::drop_fill_trigger, "drop_fill_trigger"},
    {StepKind::add_check, "add_check"},
    {StepKind::add_foreign_key, "add_foreign_key"},
    {StepKind::validate_constraints, "validate_constraints"},
    {StepKind::build_index, "build_index"},
    {StepKind::attach_index, "attach_index"},
    {StepKind::drop_index, "drop_index"},
    {StepKind::fill_shards, "fill_shards"},
    {StepKind::release_shards, "release_shards"},
    {StepKind::attach_fill_trigger, "attach_fill_trigger"},
    {StepKind::await_release, "await_release"},
}};

} // namespace

Step step(StepKind kind) {
  Step step{kind, LockMode::access_exclusive, false, false, false, false};
  switch (kind) {
  case StepKind::backfill:
  case StepKind::sweep:
    step.lock = LockMode::row_exclusive;
    step.batched = true;
    break;
  case StepKind::fill_shards:
    // Here it locks nothing; the shard jobs' batches take ROW EXCLUSIVE on
    // their placements.
    step.lock = LockMode::row_exclusive;
    step.batched = true;
    break;
  case StepKind::release_shards:
  case StepKind::await_release:
  case StepKind::verify:
    step.lock = LockMode::access_share;
    break;
  case StepKind::validate_not_null_check:
  case StepKind::attach_index: // an index rename takes only this since PG 12
    step.lock = LockMode::share_update_exclusive;
    break;
  case StepKind::validate_constraints:
    // A foreign key's validation also takes ROW SHARE on the referenced
    // table, which conflicts only with EXCLUSIVE and ACCESS EXCLUSIVE.
    step.lock = LockMode::share_update_exclusive;
    step.batched = true;
    break;
  case StepKind::add_foreign_key:
    step.lock = LockMode::share_row_exclusive;
    step.locks_referenced_table = true;
    break;
  case StepKind::build_index:
  case StepKind::drop_index:
    step.lock = LockMode::share_update_exclusive;
    step.outside_transaction = true;
    break;
  default:
    break;
  }
  return step;
}

std::optional<StepKind> next_step(const Plan &plan, StepKind current) {
  for (std::size_t i = 0; i + 1 < plan.size(); ++i)
    if (plan[i].kind == current)
      return plan[i + 1].kind;
  return std::nullopt;
}

const char *to_string(StepKind kind) { return name_in(kStepNames, kind); }

std::optional<StepKind> parse_step_kind(std::string_view text) {
  return value_in(kStepNames, text);
}

} // namespace colmig::core
