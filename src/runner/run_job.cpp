// The job state machine. The phase stored in colmig.jobs names the next
// step to run; each step commits its work and the following phase in one
// transaction, so after any crash the stored phase is exactly where to go
// on. See docs/workers.md for the phases of each plan.
#include "runner/run_job.hpp"
#include "core/plan.hpp"

#include "catalog/job.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runner/backfill.hpp"
#include "runner/health.hpp"
#include "runner/job_scope.hpp"
#include "runner/locked_step.hpp"
#include "runner/statements.hpp"

#include <chrono>
#include <string>

namespace colmig::runner {

namespace {

using core::StepKind;

std::int64_t relation_pages(Oid relid) {
  pg::execute("SELECT (pg_catalog.pg_relation_size($1) / "
              "pg_catalog.current_setting('block_size')::int8)::int8",
              {pg::oid_param(relid)});
  return pg::get_int64(0, 0).value_or(0);
}

std::optional<std::int64_t> estimated_rows(Oid relid) {
  pg::execute("SELECT reltuples::int8 FROM pg_catalog.pg_class WHERE oid = $1",
              {pg::oid_param(relid)});
  auto rows = pg::get_int64(0, 0);
  if (!rows || *rows < 0)
    return std::nullopt;
  return rows;
}

bool relation_exists(Oid relid) {
  pg::execute("SELECT 1 FROM pg_catalog.pg_class WHERE oid = $1", {pg::oid_param(relid)});
  return pg::result_rows() > 0;
}

class JobRun {
public:
  // Inside a transaction: statements are rendered from the catalogs.
  explicit JobRun(catalog::Job job)
      : job_(std::move(job)), plan_(core::plan_add_column(job_.request())), sql_(job_) {}
  // sql_ refers to job_: a JobRun stays where it was built.
  JobRun(const JobRun &) = delete;
  JobRun &operator=(const JobRun &) = delete;

  const catalog::Job &job() const { return job_; }

  // Runs steps from the stored phase until the plan ends or the job stops.
  void run() {
    if (job_.phase == core::kDonePhase) {
      // Every step ran while the job was paused or being resumed.
      pg::in_transaction("colmig: finishing job",
                         [&] { catalog::mark_succeeded(job_.id); });
      return;
    }
    pg::in_transaction("colmig: checking table",
                       [&] { catalog::check_table_unchanged(job_); });
    StepKind step = current_step();
    Throttle throttle(job_);
    for (;;) {
      // Outside its run window (or while a standby lags) a job does not
      // start its next step either.
      LastBatch none;
      if (!throttle.hold_back(none))
        return after_stop();
      auto next = core::next_step(plan_, step);
      const auto started = std::chrono::steady_clock::now();
      if (run_step(step, next) == StepResult::stopped)
        return after_stop();
      // One line a step: when the strong locks were taken is what a DBA
      // matches against the application's slow statements.
      elog(LOG, "colmig: job %ld: %s done in %.1f ms", static_cast<long>(job_.id),
           core::to_string(step),
           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                     started)
               .count());
      if (!next)
        return;
      step = *next;
    }
  }

  // Removes the helper objects of a cancelled or failed job: the fill
  // triggers and our NOT VALID check. The column stays.
  void clean_up() {
    bool table_exists = false;
    pg::in_transaction("colmig: checking table",
                       [&] { table_exists = relation_exists(job_.relid); });
    run_locked_step(
        job_, "colmig: removing helper objects",
        [&] {
          if (table_exists) {
            AsJobOwner owner(job_);
            pg::execute(sql_.drop_fill_triggers());
            pg::execute(sql_.drop_not_null_check());
          }
          catalog::mark_cancelled_done(job_.id);
        },
        /*allow_when_not_running=*/true);
  }

private:
  catalog::Job job_;
  core::Plan plan_;
  Statements sql_;

  StepKind current_step() const {
    auto stored = core::parse_step_kind(job_.phase);
    return stored ? *stored : plan_.front().kind;
  }

  // Commits the move to `next` (or success) inside the current transaction.
  void complete(std::optional<StepKind> next, std::optional<std::int64_t> end_page = {}) {
    if (next)
      catalog::enter_phase(job_.id, core::to_string(*next), end_page);
    else
      catalog::mark_succeeded(job_.id);
  }

  void as_owner(const std::string &statement) {
    AsJobOwner owner(job_);
    pg::execute(statement);
  }

  StepResult run_step(StepKind step, std::optional<StepKind> next) {
    const char *activity = core::to_string(step);
    switch (step) {
    case StepKind::add_column:
      return run_locked_step(job_, activity, [&] {
        as_owner(sql_.add_column_fast());
        complete(next);
      });
    case StepKind::add_column_for_backfill:
      return run_locked_step(job_, activity, [&] {
        as_owner(sql_.add_column_bare());
        if (job_.default_expr)
          as_owner(sql_.set_default());
        as_owner(sql_.create_fill_triggers());
        catalog::set_cleanup_needed(job_.id, true);
        // Taken under ACCESS EXCLUSIVE: every row written before this
        // commit lies below this page, every later one passes the trigger.
        job_.end_page = relation_pages(job_.relid);
        catalog::set_rows_total(job_.id, estimated_rows(job_.relid));
        complete(next, job_.end_page);
      });
    case StepKind::backfill:
    case StepKind::sweep:
      return run_batches(job_, sql_, step == StepKind::sweep, [&] {
        // The sweep covers the table as it is now: rows that moved behind
        // the cursor while the backfill ran are found again.
        std::optional<std::int64_t> end;
        if (next == StepKind::sweep)
          end = relation_pages(job_.relid);
        complete(next, end);
        job_.cursor_page = 0;
        if (end)
          job_.end_page = end;
      });
    case StepKind::add_not_null_check:
      return run_locked_step(job_, activity, [&] {
        as_owner(sql_.drop_not_null_check());
        as_owner(sql_.add_not_null_check());
        complete(next);
      });
    case StepKind::validate_not_null_check:
      return run_locked_step(job_, activity, [&] {
        try {
          as_owner(sql_.validate_not_null_check());
        } catch (const pg::Error &error) {
          if (error.sqlstate() != "23514")
            throw;
          pg::raise("23502",
                    "column \"" + job_.column + "\" of " + job_.relation +
                        " still has NULL values, so NOT NULL was not set",
                    error.what(),
                    "The backfill or default expression yields NULL for some rows.");
        }
        complete(next);
      });
    case StepKind::set_not_null:
      return run_locked_step(job_, activity, [&] {
        as_owner(sql_.set_not_null());
        as_owner(sql_.drop_not_null_check());
        complete(next);
      });
    case StepKind::drop_fill_trigger:
      return run_locked_step(job_, activity, [&] {
        as_owner(sql_.drop_fill_triggers());
        catalog::set_cleanup_needed(job_.id, false);
        complete(next);
      });
    }
    return StepResult::stopped;
  }

  void after_stop() {
    std::optional<core::JobState> state;
    pg::in_transaction("colmig: reading job state",
                       [&] { state = catalog::load_state(job_.id); });
    if (state == core::JobState::cancelled)
      clean_up();
  }
};

void record_failure(std::int64_t job_id, const pg::Error &error) {
  std::string message = error.what();
  if (!error.detail().empty())
    message += " (" + error.detail() + ")";
  pg::in_transaction("colmig: recording failure",
                     [&] { catalog::mark_failed(job_id, message, error.sqlstate()); });
  elog(LOG, "colmig: job %ld failed: %s", static_cast<long>(job_id), message.c_str());
}

// Loads the job and, when it may run, marks it running.
void start(std::int64_t job_id, std::optional<JobRun> &run) {
  pg::in_transaction("colmig: starting job", [&] {
    auto job = catalog::load_job(job_id);
    if (!job)
      return;
    if (core::is_runnable(job->state)) {
      catalog::mark_running(job_id);
      job->state = core::JobState::running;
    }
    run.emplace(std::move(*job));
  });
}

// A failed job must not leave its trigger filling rows forever.
void clean_up_if_failed(std::int64_t job_id) {
  std::optional<JobRun> run;
  start(job_id, run);
  if (run && run->job().state == core::JobState::failed && run->job().cleanup_needed)
    run->clean_up();
}

} // namespace

void run_job(std::int64_t job_id) {
  try {
    std::optional<JobRun> run;
    start(job_id, run);
    if (!run)
      return;
    const catalog::Job &job = run->job();
    if (job.state == core::JobState::running)
      run->run();
    else if (job.cleanup_needed && core::is_terminal(job.state))
      run->clean_up();
    return;
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
}

} // namespace colmig::runner
