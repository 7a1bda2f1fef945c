// Which jobs are alive, in one place: a job lives while it can still run
// (queued, running, paused) and while a helper object of it may still
// exist on its table (a failed or cancelled job whose cleanup is pending).
// Everything that must not outlive a job (its fill trigger, its check, the
// protection of what its expressions use) is tied to this.
#pragma once

namespace colmig::catalog {

// A condition on colmig.jobs aliased "j".
inline constexpr const char *kLiveJob =
    "(j.state IN ('queued', 'running', 'paused') OR j.cleanup_needed)";

} // namespace colmig::catalog
