// Runs one transaction that needs a strong lock: under colmig.lock_timeout,
// retried on lock timeouts and deadlocks with the back-off ladder, never
// queueing application sessions for long behind it.
#pragma once
#include "catalog/job.hpp"
#include "runner/step_result.hpp"

#include <functional>

namespace colmig::runner {

// `work` runs inside the transaction; it is called again on each attempt.
// Before each attempt the job's state is read: a job that is no longer
// running (or, with `while_stopping`, one being cancelled) stops the step.
StepResult run_locked_step(const catalog::Job &job, const char *activity,
                           const std::function<void()> &work,
                           bool allow_when_not_running = false);

} // namespace colmig::runner
