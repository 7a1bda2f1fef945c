// A job as stored in colmig.jobs, and the statements that read and advance
// it. Every function here runs inside a transaction with SPI connected; the
// caller decides what commits together (a batch commits its rows and the
// cursor in one transaction).
#pragma once
#include "core/job_state.hpp"
#include "core/plan.hpp"

#include "pg/postgres.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace colmig::catalog {

struct Job {
  std::int64_t id = 0;
  Oid relid = InvalidOid;
  std::string relation;
  std::string column;
  std::string column_type;
  std::optional<std::string> default_expr;
  std::optional<std::string> backfill_expr;
  bool default_volatile = false;
  bool not_null = false;
  std::optional<std::int32_t> batch_size;
  bool throttle = true;
  // The job's own run window in minutes since midnight, or none.
  std::optional<int> window_start_minute;
  std::optional<int> window_end_minute;
  std::string search_path;
  Oid owner = InvalidOid;
  core::JobState state = core::JobState::queued;
  std::string phase;
  bool cleanup_needed = false;
  std::int64_t cursor_page = 0;
  std::optional<std::int64_t> end_page;
  std::int64_t rows_done = 0;

  core::AddColumnRequest request() const;
};

std::optional<Job> load_job(std::int64_t job_id);
std::optional<core::JobState> load_state(std::int64_t job_id);

// The job's state before a step or batch. Not locked: a pause() or
// cancel() never waits for a batch; one that commits during a step lets
// the step finish and commit its phase change, and stops the next one.
// Raises when this worker no longer holds the job's claim (the job's own
// SQL could have released it with pg_advisory_unlock_all()).
core::JobState state_for_step(std::int64_t job_id);

// The job's table still exists and still belongs to the job's owner.
void check_table_unchanged(const Job &job);

// queued/running -> running, with started_at set once.
void mark_running(std::int64_t job_id);
// Moves to `phase` and resets the cursor for it; `end_page` bounds a
// batched phase.
void enter_phase(std::int64_t job_id, const char *phase,
                 std::optional<std::int64_t> end_page);
void set_rows_total(std::int64_t job_id, std::optional<std::int64_t> rows_total);
void set_cleanup_needed(std::int64_t job_id, bool needed);
void advance_cursor(std::int64_t job_id, std::int64_t cursor_page,
                    std::int64_t rows_added, std::int64_t batch_rows);
void record_lock_retry(std::int64_t job_id, const std::string &error);
// Why the worker holds back now (shown in colmig.progress), or nothing.
void set_throttled(std::int64_t job_id, const std::optional<std::string> &reason);
// Records that every step ran. A job paused or cancelled meanwhile keeps
// that state with phase 'done'; resuming it only marks it succeeded.
void mark_succeeded(std::int64_t job_id);
void mark_failed(std::int64_t job_id, const std::string &error,
                 const std::string &sqlstate);
void mark_cancelled_done(std::int64_t job_id);

} // namespace colmig::catalog
