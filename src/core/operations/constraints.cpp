#include "core/operations.hpp"

namespace colmig::core {

// A constraint is added NOT VALID (a moment of a strong lock, no scan):
// from then on it holds for every row written. The scan of the rows that
// were there runs apart, under a lock that lets reads and writes go on.
Plan plan_add_check() {
  return Plan{step(StepKind::add_check), step(StepKind::validate_constraints)};
}

Plan plan_add_foreign_key() {
  return Plan{step(StepKind::add_foreign_key), step(StepKind::validate_constraints)};
}

Plan plan_validate_constraint() { return Plan{step(StepKind::validate_constraints)}; }

} // namespace colmig::core
