#pragma once

namespace colmig::runner {

// How a step ended: done (the next phase is committed), or stopped because
// the job is no longer running (paused or cancelled by its owner).
enum class StepResult { done, stopped };

} // namespace colmig::runner
