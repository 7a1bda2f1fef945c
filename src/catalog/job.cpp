#include "catalog/job.hpp"
#include "catalog/claim.hpp"
#include "catalog/dependencies.hpp"
#include "catalog/ranges.hpp"

#include "pg/spi.hpp"

namespace colmig::catalog {

namespace {

const char *const kSelectJob = R"sql(
SELECT job_id, relid::int8, relation, column_name::text, column_attnum::int8,
       column_type, default_node, fill_node, default_volatile,
       backfill_expr IS NOT NULL, not_null, batch_size::int8, throttle, fire_triggers,
       (extract(hour FROM window_start) * 60 + extract(minute FROM window_start))::int8,
       (extract(hour FROM window_end) * 60 + extract(minute FROM window_end))::int8,
       owner::int8, state, phase, cleanup_needed, attempts::int8,
       fill_trigger::int8, fill_trigger_xmin, sweep_filenode::int8,
       sweep_restarts::int8, cursor_page, end_page, rows_done,
       fill_error_count, settings, operation, target, args::text, plan,
       constraint_oids::int8[], (args ->> 'ref_relid')::int8,
       coalesce((args ->> 'parallel')::int8, 1), coalesce((args ->> 'compact')::bool, false),
       args ->> 'citus' IS NOT NULL
  FROM colmig.jobs WHERE job_id = $1)sql";

// The job table's writes are few and fixed: their plans are kept.
void update(const char *sql, std::initializer_list<pg::Param> params) {
  pg::execute_kept(sql, params);
}

// The writes that move a running job on touch it only while it is running;
// a pause() or cancel() that committed meanwhile makes them touch nothing.
void update_running(const char *sql, std::initializer_list<pg::Param> params) {
  if (pg::execute_kept(sql, params) == 0)
    throw JobStopped{};
}

int int_at(int column) { return static_cast<int>(pg::get_int64(0, column).value_or(0)); }

} // namespace

core::AddColumnRequest Job::request() const {
  core::AddColumnRequest request;
  request.has_default = default_node.has_value();
  request.default_is_volatile = default_volatile;
  request.has_backfill_expr = has_backfill_expr;
  request.not_null = not_null;
  return request;
}

std::optional<Job> load_job(std::int64_t job_id) {
  if (pg::execute(kSelectJob, {pg::int8_param(job_id)}) == 0)
    return std::nullopt;
  Job job;
  job.id = *pg::get_int64(0, 0);
  job.relid = static_cast<Oid>(*pg::get_int64(0, 1));
  job.relation = *pg::get_text(0, 2);
  job.column = pg::get_text(0, 3).value_or("");
  if (auto attnum = pg::get_int64(0, 4))
    job.column_attnum = static_cast<AttrNumber>(*attnum);
  job.column_type = pg::get_text(0, 5).value_or("");
  job.default_node = pg::get_text(0, 6);
  job.fill_node = pg::get_text(0, 7);
  job.default_volatile = *pg::get_bool(0, 8);
  job.has_backfill_expr = *pg::get_bool(0, 9);
  job.not_null = *pg::get_bool(0, 10);
  if (auto size = pg::get_int64(0, 11))
    job.batch_size = static_cast<std::int32_t>(*size);
  job.throttle = *pg::get_bool(0, 12);
  job.fire_triggers = *pg::get_bool(0, 13);
  if (auto start = pg::get_int64(0, 14))
    job.window_start_minute = static_cast<int>(*start);
  if (auto end = pg::get_int64(0, 15))
    job.window_end_minute = static_cast<int>(*end);
  job.owner = static_cast<Oid>(*pg::get_int64(0, 16));
  job.state =
      core::parse_job_state(*pg::get_text(0, 17)).value_or(core::JobState::failed);
  job.phase = *pg::get_text(0, 18);
  job.cleanup_needed = *pg::get_bool(0, 19);
  job.attempts = int_at(20);
  job.fill_trigger = static_cast<Oid>(pg::get_int64(0, 21).value_or(0));
  job.fill_trigger_xmin = static_cast<TransactionId>(pg::get_int64(0, 22).value_or(0));
  job.sweep_filenode = static_cast<Oid>(pg::get_int64(0, 23).value_or(0));
  job.sweep_restarts = int_at(24);
  job.cursor_page = *pg::get_int64(0, 25);
  job.end_page = pg::get_int64(0, 26);
  job.rows_done = *pg::get_int64(0, 27);
  job.fill_error_count = pg::get_int64(0, 28);
  if (!pg::get_text_array(0, 29, job.settings.data(), job.settings.size()))
    pg::raise("XX000", "colmig job " + std::to_string(job_id) +
                           " does not have one value for each evaluation setting");
  const auto operation = core::parse_operation(*pg::get_text(0, 30));
  if (!operation)
    pg::raise("XX000",
              "colmig job " + std::to_string(job_id) +
                  " has an operation this colmig does not know: " + *pg::get_text(0, 30));
  job.operation = *operation;
  job.target = *pg::get_text(0, 31);
  job.args = *pg::get_text(0, 32);
  job.plan = pg::get_text_list<core::kMaxPlanSteps>(0, 33);
  for (std::int64_t oid : pg::get_int64_list<kMaxJobConstraints>(0, 34))
    job.constraint_oids.push_back(static_cast<Oid>(oid));
  job.referenced_relid = static_cast<Oid>(pg::get_int64(0, 35).value_or(0));
  job.parallel = int_at(36);
  job.compact = *pg::get_bool(0, 37);
  job.distributed = *pg::get_bool(0, 38);
  return job;
}

std::optional<std::string> job_arg(const Job &job, const char *key) {
  pg::execute("SELECT $1::jsonb ->> $2",
              {pg::text_param(job.args), pg::text_param(std::string(key))});
  return pg::get_text(0, 0);
}

std::optional<std::int64_t> job_arg_int64(const Job &job, const char *key) {
  pg::execute("SELECT ($1::jsonb ->> $2)::int8",
              {pg::text_param(job.args), pg::text_param(std::string(key))});
  return pg::get_int64(0, 0);
}

JobArgInts job_arg_int64s(const Job &job, const char *key) {
  pg::execute("SELECT ARRAY(SELECT pg_catalog.jsonb_array_elements_text($1::jsonb -> $2)"
              "::int8)",
              {pg::text_param(job.args), pg::text_param(std::string(key))});
  return pg::get_int64_list<kMaxKeyColumns>(0, 0);
}

JobArgTexts job_arg_texts(const Job &job, const char *key) {
  pg::execute(
      "SELECT ARRAY(SELECT pg_catalog.jsonb_array_elements_text($1::jsonb -> $2))",
      {pg::text_param(job.args), pg::text_param(std::string(key))});
  return pg::get_text_list<kMaxKeyColumns>(0, 0);
}

std::optional<core::JobState> load_state(std::int64_t job_id) {
  if (pg::execute("SELECT state FROM colmig.jobs WHERE job_id = $1",
                  {pg::int8_param(job_id)}) == 0)
    return std::nullopt;
  return core::parse_job_state(*pg::get_text(0, 0));
}

core::JobState state_for_step(std::int64_t job_id, std::optional<int> range_no) {
  pg::execute_kept("SELECT state FROM colmig.jobs WHERE job_id = $1",
                   {pg::int8_param(job_id)});
  if (pg::result_rows() == 0)
    pg::raise("42704", "colmig job " + std::to_string(job_id) + " no longer exists");
  auto state =
      core::parse_job_state(*pg::get_text(0, 0)).value_or(core::JobState::failed);
  if (range_no ? !range_claim_held(job_id, *range_no) : !claim_held(job_id))
    pg::raise("55000",
              "this worker lost its claim on colmig job " + std::to_string(job_id) +
                  (range_no ? " (range " + std::to_string(*range_no) + ")" : ""),
              "The job's own SQL released the advisory lock that marks it as running.");
  return state;
}

void check_owner_unchanged(const Job &job) {
  pg::execute("SELECT relowner::int8 FROM pg_catalog.pg_class WHERE oid = $1",
              {pg::oid_param(job.relid)});
  if (pg::result_rows() == 0)
    pg::raise("42P01", "table " + job.relation + " of colmig job " +
                           std::to_string(job.id) + " was dropped");
  if (static_cast<Oid>(*pg::get_int64(0, 0)) != job.owner)
    pg::raise("42501",
              "table " + job.relation + " changed owner since colmig job " +
                  std::to_string(job.id) + " was created",
              {}, "The job runs as the table's owner at creation; create a new job.");
}

int mark_running(std::int64_t job_id) {
  pg::execute(R"sql(
UPDATE colmig.jobs
   SET state = 'running', started_at = coalesce(started_at, now()),
       attempts = attempts + 1, throttled = NULL,
       last_error = NULL, last_sqlstate = NULL, updated_at = now()
 WHERE job_id = $1 AND state IN ('queued', 'running')
RETURNING attempts::int8)sql",
              {pg::int8_param(job_id)});
  return pg::result_rows() > 0 ? int_at(0) : 0;
}

void enter_phase(std::int64_t job_id, const char *phase,
                 std::optional<std::int64_t> end_page) {
  update_running(R"sql(
UPDATE colmig.jobs
   SET phase = $2, cursor_page = 0, end_page = coalesce($3, end_page), attempts = 0,
       backfill_started_at = CASE WHEN $2 = 'backfill' THEN now()
                                  ELSE backfill_started_at END,
       updated_at = now()
 WHERE job_id = $1 AND state = 'running')sql",
                 {pg::int8_param(job_id), pg::text_param(std::string(phase)),
                  end_page ? pg::int8_param(*end_page) : pg::null_param(INT8OID)});
}

void set_rows_total(std::int64_t job_id, std::optional<std::int64_t> rows_total) {
  update("UPDATE colmig.jobs SET rows_total = $2 WHERE job_id = $1",
         {pg::int8_param(job_id),
          rows_total ? pg::int8_param(*rows_total) : pg::null_param(INT8OID)});
}

void set_cleanup_needed(std::int64_t job_id, bool needed) {
  update("UPDATE colmig.jobs SET cleanup_needed = $2, updated_at = now() "
         "WHERE job_id = $1",
         {pg::int8_param(job_id), pg::bool_param(needed)});
}

void record_constraint(Job &job, Oid constraint) {
  update_running("UPDATE colmig.jobs SET constraint_oids = ARRAY[$2::oid], "
                 "updated_at = now() WHERE job_id = $1 AND state = 'running'",
                 {pg::int8_param(job.id), pg::oid_param(constraint)});
  job.constraint_oids.assign(1, constraint);
}

void mark_build_started(Job &job) {
  update_running("UPDATE colmig.jobs SET args = args || '{\"build_started\": true}', "
                 "cleanup_needed = true, updated_at = now() "
                 "WHERE job_id = $1 AND state = 'running' RETURNING args::text",
                 {pg::int8_param(job.id)});
  job.args = *pg::get_text(0, 0);
  job.cleanup_needed = true;
}

void advance_position(std::int64_t job_id, std::int64_t done) {
  update_running(
      "UPDATE colmig.jobs SET cursor_page = $2, attempts = 0, throttled = NULL, "
      "updated_at = now() WHERE job_id = $1 AND state = 'running'",
      {pg::int8_param(job_id), pg::int8_param(done)});
}

void record_fill_trigger(std::int64_t job_id, AttrNumber attnum, Oid trigger,
                         TransactionId trigger_xmin) {
  update("UPDATE colmig.jobs SET column_attnum = $2, fill_trigger = $3, "
         "fill_trigger_xmin = $4, cleanup_needed = true, updated_at = now() "
         "WHERE job_id = $1",
         {pg::int8_param(job_id), pg::int4_param(attnum), pg::oid_param(trigger),
          pg::int8_param(trigger_xmin)});
}

void record_column(std::int64_t job_id, std::optional<AttrNumber> attnum) {
  update("UPDATE colmig.jobs SET column_attnum = $2, cleanup_needed = true, "
         "updated_at = now() WHERE job_id = $1",
         {pg::int8_param(job_id),
          attnum ? pg::int4_param(*attnum) : pg::null_param(INT4OID)});
}

void begin_sweep(std::int64_t job_id, const SweepBaseline &baseline,
                 std::int64_t end_page, bool restart) {
  const auto optional_int8 = [](const std::optional<std::int64_t> &value) {
    return value ? pg::int8_param(*value) : pg::null_param(INT8OID);
  };
  // A parallel backfill ends here too when a batch of it finds the table
  // rewritten and the sweep begins again.
  end_ranges(job_id);
  update_running(R"sql(
UPDATE colmig.jobs
   SET phase = 'sweep', cursor_page = 0, end_page = $4, sweep_filenode = $2,
       fill_trigger_xmin = $3, fill_error_count = $6,
       sweep_restarts = sweep_restarts + CASE WHEN $5 THEN 1 ELSE 0 END,
       updated_at = now()
 WHERE job_id = $1 AND state = 'running')sql",
                 {pg::int8_param(job_id), pg::oid_param(baseline.filenode),
                  pg::int8_param(baseline.trigger_xmin), pg::int8_param(end_page),
                  pg::bool_param(restart), optional_int8(baseline.fill_error_count)});
}

void advance_cursor(std::int64_t job_id, std::int64_t cursor_page,
                    std::int64_t rows_added, std::int64_t batch_rows) {
  update_running(R"sql(
UPDATE colmig.jobs
   SET cursor_page = $2, rows_done = rows_done + $3, current_batch_size = $4,
       attempts = 0,
       rows_per_second = (rows_done + $3) / greatest(0.001,
           extract(epoch FROM clock_timestamp() - backfill_started_at)::float8),
       updated_at = now()
 WHERE job_id = $1 AND state = 'running')sql",
                 {pg::int8_param(job_id), pg::int8_param(cursor_page),
                  pg::int8_param(rows_added),
                  pg::int4_param(static_cast<std::int32_t>(batch_rows))});
}

void record_lock_retry(std::int64_t job_id, const std::string &error) {
  // A failed job's own error stays: its cleanup's retries do not replace it.
  update("UPDATE colmig.jobs SET lock_retries = lock_retries + 1, "
         "last_error = CASE WHEN state = 'failed' THEN last_error ELSE $2 END, "
         "updated_at = now() WHERE job_id = $1",
         {pg::int8_param(job_id), pg::text_param(error)});
}

void set_throttled(std::int64_t job_id, const std::optional<std::string> &reason) {
  // Not while another worker's batch holds the row (a parallel backfill's
  // batches read it FOR SHARE): the note waits for no batch, and no batch
  // sees a colmig worker waiting on it as the application's contention.
  update("UPDATE colmig.jobs SET throttled = $2, updated_at = now() WHERE job_id = "
         "(SELECT job_id FROM colmig.jobs WHERE job_id = $1 FOR UPDATE SKIP LOCKED)",
         {pg::int8_param(job_id), pg::text_param(reason)});
}

void leave_until_window(std::int64_t job_id) {
  update("UPDATE colmig.jobs SET attempts = 0, updated_at = now() "
         "WHERE job_id = $1 AND state = 'running'",
         {pg::int8_param(job_id)});
}

void park(std::int64_t job_id, int milliseconds, const std::string &why) {
  update_running(
      "UPDATE colmig.jobs SET args = args || "
      "pg_catalog.jsonb_build_object('look_again_at', "
      "pg_catalog.clock_timestamp() + $2 * interval '1 millisecond'), attempts = 0, "
      "throttled = $3, updated_at = now() WHERE job_id = $1 AND state = 'running'",
      {pg::int8_param(job_id), pg::int4_param(milliseconds), pg::text_param(why)});
}

void mark_pause_passed_on(std::int64_t job_id) {
  update("UPDATE colmig.jobs SET args = args || '{\"pause_passed_on\": true}' "
         "WHERE job_id = $1 AND state = 'paused'",
         {pg::int8_param(job_id)});
}

void mark_succeeded(std::int64_t job_id) {
  update_running(R"sql(
UPDATE colmig.jobs
   SET state = 'succeeded', finished_at = now(), phase = 'done', cleanup_needed = false,
       throttled = NULL, last_error = NULL, last_sqlstate = NULL, updated_at = now()
 WHERE job_id = $1 AND state = 'running')sql",
                 {pg::int8_param(job_id)});
  forget_dependencies(job_id);
}

void mark_failed(std::int64_t job_id, const std::string &error,
                 const std::string &sqlstate) {
  update(R"sql(
UPDATE colmig.jobs
   SET state = CASE WHEN state = 'cancelled' THEN state ELSE 'failed' END,
       finished_at = now(), throttled = NULL,
       -- A cancel that interrupted the job's statement is no error of it.
       last_error = CASE WHEN state = 'cancelled' THEN last_error ELSE $2 END,
       last_sqlstate = CASE WHEN state = 'cancelled' THEN last_sqlstate ELSE $3 END,
       updated_at = now()
 WHERE job_id = $1)sql",
         {pg::int8_param(job_id), pg::text_param(error), pg::text_param(sqlstate)});
}

void mark_cleaned_up(std::int64_t job_id) {
  update("UPDATE colmig.jobs SET finished_at = coalesce(finished_at, now()), "
         "cleanup_needed = false, updated_at = now() WHERE job_id = $1",
         {pg::int8_param(job_id)});
  forget_dependencies(job_id);
}

} // namespace colmig::catalog
