#pragma once

namespace colmig::runner {

// How a step ended: done (the next phase is committed), stopped because
// the job is no longer running (paused or cancelled by its owner), or
// parked: it only waits for others, and gives its worker back until its
// next look (catalog::park).
enum class StepResult { done, stopped, parked };

} // namespace colmig::runner
