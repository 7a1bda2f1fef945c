#include "core/page_ranges.hpp"
#include "core/throttle.hpp"

#include "guc.hpp"

#include <climits>

#include "pg/postgres.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace colmig::guc {

int lock_timeout_ms = 50;
int lock_retries = 50;
int max_attempts = 5;
int retry_base_delay_ms = 50;
int retry_max_delay_ms = 5000;
int batch_size = 1000;
int batch_pause_ms = 0;
double batch_pause_ratio = 2.0;
int max_workers = 4;
int launcher_naptime_s = 10;
int batch_target_ms = 10;
double busy_batch_target_ms = 3.0;
int batch_size_min = 100;
int batch_size_max = 100000;
int batch_statement_timeout_ms = 10000;
int max_replication_lag_mb = 1024;
int max_replication_lag_time_ms = 0;
int max_wal_rate_mb = 0;
bool wait_for_autovacuum = false;
bool smooth_io = true;
double batch_slice_ms = 1.0;
char *run_window = nullptr;
int parallel = 1;
int max_parallel = 4;
bool compact = true;
int guard = kGuardOff;
int guard_min_rows = 10000;

namespace {
const struct config_enum_entry kGuardModes[] = {
    {"off", kGuardOff, false},
    {"warn", kGuardWarn, false},
    {"block", kGuardBlock, false},
    {nullptr, 0, false},
};

bool check_run_window(char **value, void **, GucSource) {
  // A check hook is called from C: nothing may throw out of it.
  bool valid = false;
  try {
    valid = core::is_valid_run_window(*value ? *value : "");
  } catch (...) {
    GUC_check_errdetail("colmig could not check the window (out of memory).");
    return false;
  }
  if (valid)
    return true;
  GUC_check_errdetail("Use HH:MM-HH:MM, e.g. 01:00-05:00, or an empty string.");
  return false;
}
} // namespace

// Limits on workers beyond this need max_worker_processes raised anyway.
constexpr int kMaxWorkersLimit = 64;

void define_all() {
  DefineCustomIntVariable(
      "colmig.lock_timeout",
      "Longest a colmig statement waits for a table lock before it steps aside.",
      "Every step that needs ACCESS EXCLUSIVE runs with this lock_timeout and "
      "is retried with back-off, so application queries never queue long "
      "behind it.",
      &lock_timeout_ms, lock_timeout_ms, 1, 60 * 1000, PGC_SUSET, GUC_UNIT_MS, nullptr,
      nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.lock_retries", "Attempts at a locking step before the job fails.", nullptr,
      &lock_retries, lock_retries, 1, 100000, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.max_attempts",
      "Workers that may take up a job without it making progress before it fails.",
      "A job whose worker keeps ending before the job gets anywhere (an expression "
      "that ends its own backend, a crash) fails after this many, so it cannot hold "
      "the other jobs back.",
      &max_attempts, max_attempts, 1, 1000, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.retry_base_delay", "First back-off after a lock timeout.",
      "Doubles with each failed attempt, up to colmig.retry_max_delay, with "
      "jitter of +/-50%.",
      &retry_base_delay_ms, retry_base_delay_ms, 1, 60 * 1000, PGC_SUSET, GUC_UNIT_MS,
      nullptr, nullptr, nullptr);
  DefineCustomIntVariable("colmig.retry_max_delay",
                          "Longest back-off between lock attempts.", nullptr,
                          &retry_max_delay_ms, retry_max_delay_ms, 1, 3600 * 1000,
                          PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("colmig.batch_size",
                          "Rows per backfill batch when a job sets none.", nullptr,
                          &batch_size, batch_size, 1, 10 * 1000 * 1000, PGC_SUSET, 0,
                          nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.batch_pause",
      "Least pause between two backfill batches of a throttled job, whatever the "
      "load.",
      "0 by default: a quiet database gets the full speed; under load the rests "
      "come from colmig.batch_pause_ratio.",
      &batch_pause_ms, batch_pause_ms, 0, 60 * 1000, PGC_SUSET, GUC_UNIT_MS, nullptr,
      nullptr, nullptr);
  DefineCustomRealVariable(
      "colmig.batch_pause_ratio",
      "Rest as a multiple of the worker's work while the database is busy.",
      "Scaled by the load the worker measures (none on a quiet database); taken "
      "partly inside a batch (see colmig.batch_slice) and the rest after it; 2.0 "
      "keeps the worker busy at most a third of the time under full load, leaving "
      "CPU and I/O to the application.",
      &batch_pause_ratio, batch_pause_ratio, 0.0, 100.0, PGC_SUSET, 0, nullptr, nullptr,
      nullptr);
  DefineCustomIntVariable(
      "colmig.max_workers", "Most colmig job workers running at once.",
      "Each takes one of max_worker_processes.", &max_workers, max_workers, 1,
      kMaxWorkersLimit, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("colmig.launcher_naptime",
                          "How often the launcher looks for jobs that lost their worker.",
                          nullptr, &launcher_naptime_s, launcher_naptime_s, 1, 3600,
                          PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.batch_target_duration",
      "How long one backfill batch works at full speed: on a quiet database, or "
      "with throttle => false.",
      "Batch sizes adapt to it; as the application's load grows the target shrinks "
      "towards colmig.busy_batch_target_duration.",
      &batch_target_ms, batch_target_ms, 1, 60 * 1000, PGC_SUSET, GUC_UNIT_MS, nullptr,
      nullptr, nullptr);
  DefineCustomRealVariable(
      "colmig.busy_batch_target_duration",
      "How long one backfill batch works while the application keeps the database "
      "busy.",
      "A batch holds the rows it updated until it commits, so on a busy database "
      "batches are short; with the rests a batch takes inside (colmig.batch_slice), "
      "its rows are held about three times this long.",
      &busy_batch_target_ms, busy_batch_target_ms, 0.1, 60 * 1000.0, PGC_SUSET,
      GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("colmig.batch_size_min", "Smallest adaptive batch, in rows.",
                          nullptr, &batch_size_min, batch_size_min, 1, 10 * 1000 * 1000,
                          PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("colmig.batch_size_max", "Largest adaptive batch, in rows.",
                          nullptr, &batch_size_max, batch_size_max, 1, 10 * 1000 * 1000,
                          PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.batch_statement_timeout", "statement_timeout of one backfill batch.",
      "A batch that takes longer is rolled back and retried half as large.",
      &batch_statement_timeout_ms, batch_statement_timeout_ms, 1, 3600 * 1000, PGC_SUSET,
      GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.max_replication_lag",
      "Backfills wait while a standby's replay lags more than this (0: off).", nullptr,
      &max_replication_lag_mb, max_replication_lag_mb, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MB,
      nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.max_replication_lag_time",
      "Backfills wait while a standby's replay_lag exceeds this (0: off).", nullptr,
      &max_replication_lag_time_ms, max_replication_lag_time_ms, 0, INT_MAX, PGC_SUSET,
      GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("colmig.max_wal_rate",
                          "Most WAL a backfill may write per second (0: off).", nullptr,
                          &max_wal_rate_mb, max_wal_rate_mb, 0, INT_MAX, PGC_SUSET,
                          GUC_UNIT_MB, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable(
      "colmig.smooth_io",
      "Spread and shrink the I/O of backfill batches so that application commits "
      "wait less on it.",
      "Creates the WAL segments the next batches need before they need them, starts "
      "the write-back of the pages each batch adds, and compresses the batches' "
      "full-page images when wal_compression is off.",
      &smooth_io, smooth_io, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.parallel",
      "Workers a backfill uses when add_column() is not given parallel.",
      "Each worker fills its own page range of the table; at most colmig.max_parallel "
      "and what max_worker_processes leaves free.",
      &parallel, parallel, 1, core::kMaxParallel, PGC_USERSET, 0, nullptr, nullptr,
      nullptr);
  DefineCustomIntVariable("colmig.max_parallel", "Most workers one backfill may use.",
                          "A job that asks for more runs with this many, after a NOTICE.",
                          &max_parallel, max_parallel, 1, core::kMaxParallel, PGC_SUSET,
                          0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable(
      "colmig.compact",
      "Fill rows in place so that a backfill does not leave the table twice its size.",
      "Used when add_column() is not given compact. Each batch updates a row only where "
      "its new version fits on the row's own page (a HOT update, no new index entry) "
      "and visits its pages again once the old versions can be pruned; a page that "
      "has no room moves a few rows out.",
      &compact, compact, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomRealVariable(
      "colmig.batch_slice",
      "Longest stretch a batch computes before it rests while the database is busy "
      "(0: no rests inside a batch).",
      "Under load a batch rests its share of colmig.batch_pause_ratio each time "
      "its work reaches this slice, so the application's processes never wait "
      "long for a CPU; the pause after the batch makes up the rest.",
      &batch_slice_ms, batch_slice_ms, 0.0, 1000.0, PGC_SUSET, GUC_UNIT_MS, nullptr,
      nullptr, nullptr);
  DefineCustomBoolVariable("colmig.wait_for_autovacuum",
                           "Backfills wait while autovacuum works on their table.",
                           nullptr, &wait_for_autovacuum, wait_for_autovacuum, PGC_SUSET,
                           0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable(
      "colmig.run_window", "Daily window in which jobs work, e.g. 01:00-05:00.",
      "Empty: any time. A job's window_start/window_end override it.", &run_window, "",
      PGC_SUSET, 0, check_run_window, nullptr, nullptr);
  DefineCustomEnumVariable(
      "colmig.guard", "What colmig does with a DDL statement that would block the table.",
      "off: nothing; warn: a WARNING, and the statement runs; block: an ERROR whose HINT "
      "is the colmig call that does the same online (docs/guard.md).",
      &guard, guard, kGuardModes, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable(
      "colmig.guard_min_rows",
      "Estimated rows from which the guard's size rules apply to a table.", nullptr,
      &guard_min_rows, guard_min_rows, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr,
      nullptr);
  MarkGUCPrefixReserved("colmig");
}

std::optional<core::RunWindow> global_run_window() {
  auto parsed = core::parse_run_window(run_window ? run_window : "");
  return parsed ? *parsed : std::nullopt;
}

} // namespace colmig::guc
