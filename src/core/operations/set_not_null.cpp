#include "core/operations.hpp"

namespace colmig::core {

Plan plan_set_not_null(const SetNotNullFacts &facts) {
  Plan plan;
  // PostgreSQL 12+ proves NOT NULL from a valid CHECK (col IS NOT NULL)
  // and skips the scan that would otherwise run under ACCESS EXCLUSIVE.
  if (!facts.has_valid_not_null_check) {
    plan.push_back(step(StepKind::add_not_null_check));
    plan.push_back(step(StepKind::validate_not_null_check));
  }
  plan.push_back(step(StepKind::set_not_null));
  return plan;
}

} // namespace colmig::core
