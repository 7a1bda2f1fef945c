// A job as stored in colmig.jobs, and the statements that read and advance
// it. Every function here runs inside a transaction with SPI connected; the
// caller decides what commits together (a batch commits its rows and the
// cursor in one transaction).
#pragma once
#include "core/evaluation_settings.hpp"
#include "core/job_state.hpp"
#include "core/operation.hpp"
#include "core/operations.hpp"

#include "pg/postgres.hpp"

extern "C" {
#include "access/attnum.h"
#include "access/transam.h"
}

#include <boost/container/static_vector.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace colmig::catalog {

// A validate_constraint job validates at most this many constraints, and
// a foreign key has at most as many columns as an index (INDEX_MAX_KEYS).
inline constexpr std::size_t kMaxJobConstraints = 64;
inline constexpr std::size_t kMaxKeyColumns = 32;

struct Job {
  std::int64_t id = 0;
  core::Operation operation = core::Operation::add_column;
  Oid relid = InvalidOid;
  std::string relation; // the name at creation, for messages once it is gone
  std::string target;   // the column, constraint or index, for messages
  // The table a foreign key job references (it locks that one too).
  Oid referenced_relid = InvalidOid;
  // The operation's arguments as the SQL function stored them (jsonb
  // text); read with job_arg().
  std::string args;
  // The step names of the plan, in order (core/plan.hpp).
  boost::container::static_vector<std::string, core::kMaxPlanSteps> plan;
  // The constraints validate_constraints works through, in order;
  // cursor_page counts the ones done.
  boost::container::static_vector<Oid, kMaxJobConstraints> constraint_oids;
  std::string column;                      // empty for operations on no column
  std::optional<AttrNumber> column_attnum; // once the column exists
  std::string column_type;
  // What runs: the expressions as add_column analysed them.
  std::optional<std::string> default_node;
  std::optional<std::string> fill_node;
  bool default_volatile = false;
  bool has_backfill_expr = false;
  bool not_null = false;
  std::optional<std::int32_t> batch_size;
  bool throttle = true;
  bool fire_triggers = false;
  // The backfill's workers (ranges) and whether it fills rows in place
  // (pg/row_fill.hpp); jobs made before 0.3 have one and do not.
  int parallel = 1;
  bool compact = false;
  // A Citus distributed or reference table on the coordinator: fill_shard
  // jobs on the nodes fill its placements (docs/citus.md).
  bool distributed = false;
  // The job's own run window in minutes since midnight, or none.
  std::optional<int> window_start_minute;
  std::optional<int> window_end_minute;
  Oid owner = InvalidOid;
  // The creator's settings the expression is evaluated with (never used
  // to parse anything of the job's).
  core::EvaluationSettings settings;
  core::JobState state = core::JobState::queued;
  std::string phase;
  bool cleanup_needed = false;
  int attempts = 0;
  Oid fill_trigger = InvalidOid;
  TransactionId fill_trigger_xmin = InvalidTransactionId;
  Oid sweep_filenode = InvalidOid;
  int sweep_restarts = 0;
  // Rows the fill trigger had left NULL when the sweep began
  // (catalog/fill_errors.hpp).
  std::optional<std::int64_t> fill_error_count;
  std::int64_t cursor_page = 0;
  std::optional<std::int64_t> end_page;
  std::int64_t rows_done = 0;

  core::AddColumnRequest request() const;
};

std::optional<Job> load_job(std::int64_t job_id);

// One of the job's arguments (a key of colmig.jobs.args) as text, or
// nothing when absent or JSON null; the _int64s form reads an array.
std::optional<std::string> job_arg(const Job &job, const char *key);
std::optional<std::int64_t> job_arg_int64(const Job &job, const char *key);
using JobArgInts = boost::container::static_vector<std::int64_t, kMaxKeyColumns>;
JobArgInts job_arg_int64s(const Job &job, const char *key);
// An array of texts; JSON nulls read as "".
using JobArgTexts = boost::container::static_vector<std::string, kMaxKeyColumns>;
JobArgTexts job_arg_texts(const Job &job, const char *key);
std::optional<core::JobState> load_state(std::int64_t job_id);

// The job's state before a step or batch. Not locked: a pause() or
// cancel() never waits for a step. What the step then does commits only if
// the job is still running when it ends (every write below that moves a
// running job on is conditional on it, see JobStopped).
// Raises when this worker no longer holds the job's claim (the job's own
// SQL could have released it with pg_advisory_unlock_all()), or, for a
// batch of a parallel backfill, the claim of its range (catalog/ranges.hpp).
core::JobState state_for_step(std::int64_t job_id, std::optional<int> range_no = {});

// Thrown by the writes that move a running job on when the job is no
// longer running (paused or cancelled while its step or batch ran): the
// transaction must roll back, so that nothing the step did outlives the
// pause() or cancel() a caller already saw commit.
struct JobStopped {};

// The job's table still belongs to the job's owner (or is gone: the steps
// raise 42P01 when they find it so).
void check_owner_unchanged(const Job &job);

// queued/running -> running, with started_at set once. Counts the attempt.
// Returns the attempts since the job last made progress.
int mark_running(std::int64_t job_id);
// Moves to `phase` and resets the cursor for it; `end_page` bounds a
// batched phase.
void enter_phase(std::int64_t job_id, const char *phase,
                 std::optional<std::int64_t> end_page);
void set_rows_total(std::int64_t job_id, std::optional<std::int64_t> rows_total);
void set_cleanup_needed(std::int64_t job_id, bool needed);
// The constraint an add_check or add_foreign_key step added, for the
// validate_constraints step to follow by OID.
void record_constraint(Job &job, Oid constraint);
// create_index: the build is about to start, so an index under the job's
// building name is the job's own from now on (and cleanup may drop it).
void mark_build_started(Job &job);
// validate_constraints: `done` constraints are valid now.
void advance_position(std::int64_t job_id, std::int64_t done);
// The column as added, and its fill trigger as created.
void record_fill_trigger(std::int64_t job_id, AttrNumber attnum, Oid trigger,
                         TransactionId trigger_xmin);
// A distributed add_column: the column as added through Citus. Its shard
// jobs' triggers are helpers from now on (cleanup cancels those jobs).
void record_column(std::int64_t job_id, std::optional<AttrNumber> attnum);
// What the sweep's proof rests on: the relfilenode and the fill trigger's
// row version at its start. `restart` counts a new start after a rewrite.
struct SweepBaseline {
  Oid filenode;
  TransactionId trigger_xmin;
  std::optional<std::int64_t> fill_error_count;
};
void begin_sweep(std::int64_t job_id, const SweepBaseline &baseline,
                 std::int64_t end_page, bool restart);
void advance_cursor(std::int64_t job_id, std::int64_t cursor_page,
                    std::int64_t rows_added, std::int64_t batch_rows);
void record_lock_retry(std::int64_t job_id, const std::string &error);
// Why the worker holds back now (shown in colmig.progress), or nothing.
// Skipped while another transaction holds the job's row.
void set_throttled(std::int64_t job_id, const std::optional<std::string> &reason);
// The running job's worker lets it go until its run window opens: that
// worker did not die with it, so the take-up counts no attempt.
void leave_until_window(std::int64_t job_id);
// A step that only waits for others (a distributed job's shard jobs, or
// their coordinator) gives its worker back: the job stays running and is
// taken up again after `milliseconds` (the claim holds it back until then),
// so that waiting jobs never hold every worker from the jobs they wait for.
// `why` shows in colmig.progress.throttled meanwhile.
void park(std::int64_t job_id, int milliseconds, const std::string &why);
// A paused distributed job's shard jobs have been told to pause (until it
// is resumed).
void mark_pause_passed_on(std::int64_t job_id);
// Records that every step ran.
void mark_succeeded(std::int64_t job_id);
void mark_failed(std::int64_t job_id, const std::string &error,
                 const std::string &sqlstate);
// A failed or cancelled job whose helpers are gone: nothing of it remains
// on its table.
void mark_cleaned_up(std::int64_t job_id);

} // namespace colmig::catalog
