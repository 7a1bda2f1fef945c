// The job state machine. The phase stored in colmig.jobs names the next
// step to run; each step commits its work and the following phase in one
// transaction, so after any crash the stored phase is exactly where to go
// on. See docs/workers.md for the phases of each plan.
#include "core/helper_names.hpp"
#include "core/plan.hpp"

#include "runner/run_job.hpp"

#include "catalog/fill_errors.hpp"
#include "catalog/job.hpp"
#include "guc.hpp"
#include "pg/fill_trigger_catalog.hpp"
#include "pg/not_null_check_catalog.hpp"
#include "pg/relation.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runner/health.hpp"
#include "runner/job_table.hpp"
#include "runner/locked_step.hpp"
#include "runner/shard_fills.hpp"
#include "runner/statements.hpp"
#include "runner/steps.hpp"

#include <chrono>
#include <string>

extern "C" {
#include "utils/errcodes.h"
}

namespace colmig::runner {

void complete(catalog::Job &job, NextStep next, std::optional<std::int64_t> end_page) {
  if (next) {
    catalog::enter_phase(job.id, core::to_string(*next), end_page);
    job.phase = core::to_string(*next);
    job.cursor_page = 0;
    if (end_page)
      job.end_page = end_page;
  } else {
    catalog::mark_succeeded(job.id);
    job.phase = std::string(core::kDonePhase);
  }
}

namespace {

using core::StepKind;

StepResult run_step(catalog::Job &job, StepKind step, NextStep next) {
  switch (step) {
  case StepKind::add_column:
    return add_column(job, next);
  case StepKind::add_column_for_backfill:
    return add_column_for_backfill(job, next);
  case StepKind::backfill:
    return backfill(job, next);
  case StepKind::sweep:
    return sweep(job, next);
  case StepKind::verify:
    return verify(job, next);
  case StepKind::add_not_null_check:
    return add_not_null_check(job, next);
  case StepKind::validate_not_null_check:
    return validate_not_null_check(job, next);
  case StepKind::set_not_null:
    return set_not_null(job, next);
  case StepKind::drop_fill_trigger:
    return drop_fill_trigger(job, next);
  case StepKind::add_check:
    return add_check(job, next);
  case StepKind::add_foreign_key:
    return add_foreign_key(job, next);
  case StepKind::validate_constraints:
    return validate_constraints(job, next);
  case StepKind::build_index:
    return build_index(job, next);
  case StepKind::attach_index:
    return attach_index(job, next);
  case StepKind::drop_index:
    return drop_index(job, next);
  case StepKind::fill_shards:
    return fill_shards(job, next);
  case StepKind::release_shards:
    return release_shards(job, next);
  case StepKind::attach_fill_trigger:
    return attach_fill_trigger(job, next);
  case StepKind::await_release:
    return await_release(job, next);
  }
  return StepResult::stopped;
}

// A distributed job's helpers are its shard jobs, each of which removes its
// own fill trigger once cancelled, and the NOT VALID check on every
// placement, dropped through Citus. A node that cannot be reached leaves
// the cleanup to be tried again.
void clean_up_distributed(const catalog::Job &job) {
  pg::in_transaction("colmig: cancelling shard jobs",
                     [&] { ask_shards(job, ShardAction::cancel); });
  run_locked_step(
      job, "colmig: removing helper objects",
      [&] {
        if (pg::lock_relation(job.relid, AccessExclusiveLock))
          drop_distributed_check(job, DropAs::worker);
        catalog::mark_cleaned_up(job.id);
      },
      /*allow_when_not_running=*/true);
}

// Removes the helper objects of a cancelled or failed job: the fill
// trigger and the NOT VALID check, by OID and name, without the rights of
// any role (its table may have changed owner since), and the index a build
// left under the job's name, and an index a cut-off DROP INDEX
// CONCURRENTLY left invalid. The column stays, and so does a constraint
// the job added NOT VALID: it holds for new rows, as asked.
void clean_up(const catalog::Job &job) {
  if (job.distributed && core::has_table_helpers(job.operation))
    return clean_up_distributed(job);
  drop_building_index(job);
  finish_interrupted_drop(job);
  if (!core::has_table_helpers(job.operation)) {
    pg::in_transaction("colmig: finishing cleanup",
                       [&] { catalog::mark_cleaned_up(job.id); });
    return;
  }
  run_locked_step(
      job, "colmig: removing helper objects",
      [&] {
        if (pg::lock_relation(job.relid, AccessExclusiveLock)) {
          const Oid relid = job.relid;
          const Oid trigger = job.fill_trigger;
          const std::string check = core::not_null_check_name(job.id);
          const char *check_name = check.c_str();
          pg::call([&] {
            if (OidIsValid(trigger))
              pg::drop_fill_trigger(trigger, relid);
            pg::drop_not_null_check(relid, check_name);
          });
        }
        catalog::forget_fill_errors(job.id);
        catalog::mark_cleaned_up(job.id);
      },
      /*allow_when_not_running=*/true);
}

class JobRun {
public:
  explicit JobRun(catalog::Job job) : job_(std::move(job)) {
    auto plan = core::parse_plan(job_.plan);
    if (!plan)
      pg::raise("XX000", "colmig job " + std::to_string(job_.id) +
                             " has no plan this colmig can run");
    plan_ = *plan;
  }

  const catalog::Job &job() const { return job_; }

  // Runs steps from the stored phase until the plan ends or the job stops.
  void run() {
    pg::in_transaction("colmig: checking table",
                       [&] { catalog::check_owner_unchanged(job_); });
    Throttle throttle(job_);
    while (job_.phase != core::kDonePhase) {
      const StepKind step = current_step();
      // Outside its run window (or while a standby lags) a job does not
      // start its next step either.
      LastBatch none;
      if (!throttle.hold_back(none, std::nullopt))
        return after_stop();
      const auto started = std::chrono::steady_clock::now();
      const StepResult result = run_step(job_, step, core::next_step(plan_, step));
      throttle.forget_recorded();
      if (result == StepResult::parked) {
        parked_ = true;
        return;
      }
      if (result == StepResult::stopped)
        return after_stop();
      // One line a step: when the strong locks were taken is what a DBA
      // matches against the application's slow statements.
      elog(LOG, "colmig: job %ld: %s done in %.1f ms", static_cast<long>(job_.id),
           core::to_string(step),
           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                     started)
               .count());
    }
  }

  void clean_up() { runner::clean_up(job_); }

  bool parked() const { return parked_; }

private:
  catalog::Job job_;
  bool parked_ = false;
  core::Plan plan_;

  StepKind current_step() const {
    auto stored = core::parse_step_kind(job_.phase);
    return stored ? *stored : plan_.front().kind;
  }

  // The job stopped under the step: cancelled, or failed by someone else
  // (a DROP ... CASCADE of what it uses). Its helpers go now.
  void after_stop() {
    std::optional<core::JobState> state;
    pg::in_transaction("colmig: reading job state",
                       [&] { state = catalog::load_state(job_.id); });
    if (state == core::JobState::cancelled || state == core::JobState::failed)
      clean_up();
  }
};

// Recording a failure can fail too (the extension was dropped meanwhile,
// the server is shutting down): the job then stays as it was, and the next
// worker finds it; the worker itself goes on.
void record_failure(std::int64_t job_id, const pg::Error &error) {
  std::string message = error.what();
  if (!error.detail().empty())
    message += " (" + error.detail() + ")";
  elog(LOG, "colmig: job %ld failed: %s", static_cast<long>(job_id), message.c_str());
  try {
    pg::in_transaction("colmig: recording failure",
                       [&] { catalog::mark_failed(job_id, message, error.sqlstate()); });
  } catch (const pg::Error &again) {
    elog(LOG, "colmig: could not record the failure of job %ld: %s",
         static_cast<long>(job_id), again.what());
  }
}

// Loads the job and, when it may run, marks it running. A job taken up
// more than colmig.max_attempts times without progress fails instead:
// whatever ends its worker would end every worker that takes it.
void start(std::int64_t job_id, std::optional<JobRun> &run) {
  std::optional<std::string> gave_up;
  pg::in_transaction("colmig: starting job", [&] {
    auto job = catalog::load_job(job_id);
    if (!job)
      return;
    if (core::is_runnable(job->state)) {
      const int attempts = catalog::mark_running(job_id);
      job->state = core::JobState::running;
      if (attempts > guc::max_attempts)
        gave_up = "taken up " + std::to_string(attempts - 1) + " times in phase " +
                  job->phase +
                  ", and its worker ended each time before the job made "
                  "progress";
    }
    run.emplace(std::move(*job));
  });
  if (gave_up)
    pg::raise("55000", *gave_up, {},
              "Look in the server log for why the worker ended (an expression that "
              "ends its own backend, a crash); colmig.max_attempts bounds the tries.");
}

// A failed job must not leave its trigger filling rows forever, nor a job
// cancelled in the middle of a step (its worker was interrupted) its index.
void clean_up_if_failed(std::int64_t job_id) {
  std::optional<JobRun> run;
  pg::in_transaction("colmig: loading job", [&] {
    if (auto job = catalog::load_job(job_id))
      run.emplace(std::move(*job));
  });
  if (run && core::is_terminal(run->job().state) && run->job().cleanup_needed)
    run->clean_up();
}

} // namespace

bool run_job(std::int64_t job_id) {
  try {
    std::optional<JobRun> run;
    start(job_id, run);
    if (!run)
      return false;
    const catalog::Job &job = run->job();
    if (job.state == core::JobState::running) {
      run->run();
      return run->parked();
    } else if (job.distributed && job.state == core::JobState::paused) {
      // Paused while parked (catalog/job.hpp): its shard jobs hear it now.
      pass_pause_on(job);
    } else if (job.cleanup_needed && core::is_terminal(job.state)) {
      // An ended job whose helpers cannot go yet (a Citus node that is
      // down) stays as it ended; the next worker tries again.
      try {
        run->clean_up();
      } catch (const pg::Error &error) {
        elog(LOG, "colmig: cleanup of job %ld postponed: %s", static_cast<long>(job_id),
             error.what());
      }
    }
    return false;
  } catch (const pg::Error &error) {
    record_failure(job_id, error);
  } catch (const std::exception &error) {
    record_failure(job_id, pg::Error(ERRCODE_INTERNAL_ERROR, error.what()));
  }
  try {
    clean_up_if_failed(job_id);
  } catch (const pg::Error &error) {
    elog(LOG, "colmig: cleanup of job %ld postponed: %s", static_cast<long>(job_id),
         error.what());
  }
  return false;
}

} // namespace colmig::runner
