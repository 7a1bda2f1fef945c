#include "runner/locked_step.hpp"
#include "core/retry_ladder.hpp"

#include "guc.hpp"
#include "pg/citus.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "pg/latch.hpp"
#include "runner/lock_holders.hpp"

#include <random>
#include <string>

extern "C" {
#include "utils/errcodes.h"
}

namespace colmig::runner {

namespace {

// Another session's lock was in the way, or (Citus) another node could not
// be reached: worth another try after a pause.
bool is_retryable_conflict(const pg::Error &error) {
  return pg::citus::lost_node_connection(error) ||
         error.sqlerrcode() == ERRCODE_LOCK_NOT_AVAILABLE ||
         error.sqlerrcode() == ERRCODE_T_R_DEADLOCK_DETECTED ||
         error.sqlerrcode() == ERRCODE_T_R_SERIALIZATION_FAILURE;
}

core::RetryPolicy policy_from_settings() {
  core::RetryPolicy policy;
  policy.max_attempts = guc::lock_retries;
  policy.base_delay = std::chrono::milliseconds(guc::retry_base_delay_ms);
  policy.max_delay = std::chrono::milliseconds(guc::retry_max_delay_ms);
  return policy;
}

double jitter() {
  static std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

} // namespace

void wait_before_retry(const catalog::Job &job, const char *what, const pg::Error &error,
                       int &failures, bool cancels_autovacuum) {
  if (!is_retryable_conflict(error))
    throw error;
  ++failures;
  const bool lock_timeout = error.sqlerrcode() == ERRCODE_LOCK_NOT_AVAILABLE;
  if (lock_timeout && cancels_autovacuum && cancel_blocking_autovacuum(job) > 0)
    return; // its lock goes at once: try again now
  std::string step = what;
  if (step.rfind("colmig: ", 0) == 0)
    step = step.substr(8);
  std::string message =
      "could not lock " + job.relation +
      (OidIsValid(job.referenced_relid) ? " or the table it references" : "") + " for " +
      step + ": " + error.what();
  if (lock_timeout) {
    const std::string holders = describe_lock_holders(job);
    if (!holders.empty())
      message += "; held by " + holders;
  }
  auto delay = core::retry_delay(policy_from_settings(), failures, jitter());
  if (!delay)
    pg::raise("55P03",
              "gave up after " + std::to_string(failures) + " attempts: " + message, {},
              "Find the long transaction holding a lock on the table "
              "(pg_locks, pg_stat_activity) or raise colmig.lock_retries.");
  pg::in_transaction("colmig: recording a lock retry",
                     [&] { catalog::record_lock_retry(job.id, message); });
  pg::wait_for_latch(delay->count());
}

StepResult run_locked_step(const catalog::Job &job, const char *activity,
                           const std::function<void()> &work,
                           bool allow_when_not_running) {
  const std::string timeout = std::to_string(guc::lock_timeout_ms) + "ms";
  for (int failures = 0;;) {
    bool stopped = false;
    try {
      pg::in_transaction(activity, [&] {
        auto state = catalog::state_for_step(job.id);
        if (!allow_when_not_running && state != core::JobState::running) {
          stopped = true;
          return;
        }
        pg::set_local("lock_timeout", timeout.c_str());
        // And on every node a statement locks through Citus (shards, and
        // the other nodes' metadata), which the line above does not reach.
        pg::citus::set_local_lock_timeout_everywhere(timeout.c_str());
        // Not waiting for the WAL flush shortens the time the lock is held.
        // A crash may lose the commit, and with it the phase change in the
        // same transaction: the step simply runs again.
        pg::set_local("synchronous_commit", "off");
        work();
      });
      return stopped ? StepResult::stopped : StepResult::done;
    } catch (const catalog::JobStopped &) {
      return StepResult::stopped;
    } catch (const pg::Error &error) {
      // Every locked step takes SHARE UPDATE EXCLUSIVE or more, which an
      // autovacuum of the table holds too.
      wait_before_retry(job, activity, error, failures, true);
    }
  }
}

} // namespace colmig::runner
