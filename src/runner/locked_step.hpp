// Runs one transaction that needs a strong lock: under colmig.lock_timeout,
// retried on lock timeouts and deadlocks with the back-off ladder, never
// queueing application sessions for long behind it.
#pragma once
#include "catalog/job.hpp"
#include "runner/step_result.hpp"

#include "pg/error.hpp"

#include <functional>

namespace colmig::runner {

// After a lock timeout, deadlock or serialization failure: records the
// retry (with who held the lock) and waits the back-off, or raises 55P03
// once colmig.lock_retries attempts are used up. With
// `cancels_autovacuum` (a step whose lock conflicts with autovacuum's), an
// autovacuum of the table that holds a lock on it is cancelled first
// (runner/lock_holders.hpp); a batch's lock never conflicts with it.
// Any other error is rethrown as it is. `what` names the step.
void wait_before_retry(const catalog::Job &job, const char *what, const pg::Error &error,
                       int &failures, bool cancels_autovacuum);

// `work` runs inside the transaction; it is called again on each attempt.
// Before each attempt the job's state is read: a job that is no longer
// running stops the step (unless `allow_when_not_running`: cleanup). A
// catalog::JobStopped thrown by the work (the job was paused or cancelled
// while the step ran) rolls the step back and stops it too.
StepResult run_locked_step(const catalog::Job &job, const char *activity,
                           const std::function<void()> &work,
                           bool allow_when_not_running = false);

} // namespace colmig::runner
