#include "core/plan.hpp"
#include "core/name_table.hpp"

#include <array>
#include <utility>

namespace colmig::core {

namespace {

constexpr NameTable<StepKind, 9> kStepNames{{
    {StepKind::add_column, "add_column"},
    {StepKind::add_column_for_backfill, "add_column_for_backfill"},
    {StepKind::backfill, "backfill"},
    {StepKind::sweep, "sweep"},
    {StepKind::verify, "verify"},
    {StepKind::add_not_null_check, "add_not_null_check"},
    {StepKind::validate_not_null_check, "validate_not_null_check"},
    {StepKind::set_not_null, "set_not_null"},
    {StepKind::drop_fill_trigger, "drop_fill_trigger"},
}};

Step step(StepKind kind) {
  switch (kind) {
  case StepKind::backfill:
  case StepKind::sweep:
    return {kind, LockMode::row_exclusive, false, true};
  case StepKind::verify:
    return {kind, LockMode::access_share, false, false};
  case StepKind::validate_not_null_check:
    return {kind, LockMode::share_update_exclusive, false, false};
  default:
    return {kind, LockMode::access_exclusive, false, false};
  }
}

} // namespace

bool needs_backfill(const AddColumnRequest &request) {
  // A volatile default must yield one value per row; PostgreSQL would get
  // there by rewriting the table under ACCESS EXCLUSIVE.
  return request.has_backfill_expr ||
         (request.has_default && request.default_is_volatile);
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

const char *to_string(LockMode mode) {
  switch (mode) {
  case LockMode::access_share:
    return "ACCESS SHARE";
  case LockMode::row_exclusive:
    return "ROW EXCLUSIVE";
  case LockMode::share_update_exclusive:
    return "SHARE UPDATE EXCLUSIVE";
  case LockMode::access_exclusive:
    return "ACCESS EXCLUSIVE";
  }
  return "unknown";
}

} // namespace colmig::core
