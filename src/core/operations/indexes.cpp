#include "core/operations.hpp"

namespace colmig::core {

// The index is built under a name of the job's own, so that whatever a
// failed or interrupted build leaves behind is known to be the job's and
// can be dropped; it takes the name asked for once it is valid.
Plan plan_create_index() {
  return Plan{step(StepKind::build_index), step(StepKind::attach_index)};
}

Plan plan_drop_index() { return Plan{step(StepKind::drop_index)}; }

} // namespace colmig::core
