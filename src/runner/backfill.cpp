#include "core/batch_controller.hpp"
#include "core/batch_sizer.hpp"
#include "core/pacing.hpp"

#include "runner/backfill.hpp"

#include "catalog/ranges.hpp"
#include "guc.hpp"
#include "pg/latch.hpp"
#include "pg/load_signals.hpp"
#include "pg/pacing.hpp"
#include "pg/row_fill.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "pg/wal.hpp"
#include "pg/writeback.hpp"
#include "runner/as_job_owner.hpp"
#include "runner/health.hpp"
#include "runner/job_table.hpp"
#include "runner/load_pace.hpp"
#include "runner/locked_step.hpp"
#include "runner/proof.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>

extern "C" {
#include "utils/errcodes.h"
}

namespace colmig::runner {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kHeldPatience{1};

double rows_per_page_estimate(Oid relid) {
  pg::execute("SELECT (CASE WHEN relpages > 0 AND reltuples > 0 "
              "THEN reltuples / relpages ELSE 0 END)::float8 "
              "FROM pg_catalog.pg_class WHERE oid = $1",
              {pg::oid_param(relid)});
  return pg::result_rows() > 0 ? pg::get_float8(0, 0).value_or(0) : 0;
}

// Full-page images are a large part of a batch's WAL after a checkpoint.
// When the server does not compress them, the worker compresses its own:
// less WAL for the application's commits to flush along with theirs.
std::optional<std::string> wal_compression_for_batches() {
  pg::execute("SELECT CASE WHEN pg_catalog.current_setting('wal_compression') <> 'off' "
              "THEN NULL WHEN 'lz4' = ANY (enumvals) THEN 'lz4' ELSE 'pglz' END "
              "FROM pg_catalog.pg_settings WHERE name = 'wal_compression'");
  return pg::result_rows() > 0 ? pg::get_text(0, 0) : std::nullopt;
}

core::BatchTarget target_from_settings() {
  core::BatchTarget target;
  target.target_seconds = guc::batch_target_ms / 1000.0;
  target.min_rows = guc::batch_size_min;
  target.max_rows = guc::batch_size_max;
  return target;
}

struct BatchOutcome {
  bool stopped = false;
  bool finished = false;
  // The sweep begins again (a rewrite, a changed trigger): from page 0.
  bool restarted = false;
  core::PageRange range{};
  pg::FillResult filled{};
  std::int64_t wal_bytes = 0;
  std::int64_t waiting_sessions = 0;
  // Where the cursor goes: past every page done. The batch scanned up to
  // range.end; it stopped early, or left rows waiting for room before it.
  std::uint64_t done_to = 0;
};

pg::FillRequest fill_request(const catalog::Job &job, bool is_sweep) {
  pg::FillRequest request{};
  request.job_id = job.id;
  request.relid = job.relid;
  request.attnum = job.column_attnum.value_or(InvalidAttrNumber);
  request.expression = job.fill_node->c_str();
  // The first pass skips rows the application has locked; the sweep must
  // see every row, so it waits for them, at most colmig.lock_timeout a time.
  request.wait_for_locked_rows = is_sweep;
  request.fire_triggers = job.fire_triggers;
  request.own_trigger = job.fill_trigger;
  // The sweep's proof needs the table it began on (core/fill_proof.hpp).
  request.expected_filenode = is_sweep ? job.sweep_filenode : InvalidOid;
  // Three targets: the batch's rests included, as docs/configuration.md
  // says a batch holds its row locks at most.
  request.budget_seconds = 3 * guc::batch_target_ms / 1000.0;
  // The sweep fills the few rows left as they come.
  request.in_place = job.compact && !is_sweep;
  return request;
}

} // namespace

StepResult run_batches(catalog::Job &job, bool is_sweep, BatchSpan span,
                       const std::function<void()> &finish) {
  const std::string lock_timeout = std::to_string(guc::lock_timeout_ms) + "ms";
  const std::string activity =
      "colmig: job " + std::to_string(job.id) + " " + (is_sweep ? "sweep" : "backfill") +
      " batch on " + job.relation +
      (span.range_no ? " (range " + std::to_string(*span.range_no) + ")" : "");
  const core::ProofPoint point =
      is_sweep ? core::ProofPoint::sweep : core::ProofPoint::backfill;

  double rows_per_page = 0;
  std::optional<std::string> wal_compression;
  pg::in_transaction("colmig: planning batches", [&] {
    rows_per_page = rows_per_page_estimate(job.relid);
    if (guc::smooth_io)
      wal_compression = wal_compression_for_batches();
  });
  const bool fixed = job.batch_size.has_value();
  core::BatchController controller(target_from_settings(),
                                   fixed ? *job.batch_size : guc::batch_size, fixed);
  core::BatchSizer sizer(controller.rows(), rows_per_page);
  Throttle throttle(job);
  LoadPace load(job);
  LastBatch last;

  std::int64_t last_wal_bytes = 0;
  int waited_on_last_batch = 0;
  // A compact batch leaves rows waiting on pages an old snapshot keeps
  // from being pruned; once the batches have found such pages for
  // kHeldPatience, rows move from them rather than wait, until a batch
  // finds none.
  auto held_since = Clock::now();
  for (int conflicts = 0, timeouts = 0;;) {
    const core::Pace pace = load.next(waited_on_last_batch);
    waited_on_last_batch = 0;
    // Smoothing the I/O is for the application's commits: on a quiet
    // database it would only make the backfill slower (a tenth, measured).
    const bool smooth_io = guc::smooth_io && !load.quiet();
    if (!throttle.hold_back(last, load.reason()))
      return StepResult::stopped;
    controller.set_target_seconds(pace.batch_target_seconds);
    // Room for the next two batches' WAL, made here rather than by the
    // application's commits (pg/wal.hpp). Outside any transaction: the
    // zero-fill of a new segment holds no lock.
    if (smooth_io)
      pg::prepare_wal_segments(2 * last_wal_bytes);
    sizer.set_rows_per_batch(controller.rows());
    BatchOutcome batch;
    const auto started = Clock::now();
    // Under load the batch rests inside (pg/pacing.hpp); at full speed it
    // runs through.
    const pg::Pacing pacing(pace.rests.slice_seconds, pace.rests.rest_ratio);
    const auto end_page = static_cast<std::uint64_t>(span.end_page);
    try {
      pg::in_transaction(activity.c_str(), [&] {
        if (catalog::state_for_step(job.id, span.range_no) != core::JobState::running) {
          batch.stopped = true;
          return;
        }
        pg::set_local("lock_timeout", lock_timeout.c_str());
        // By OID, first: a dropped table fails the job (42P01), and while
        // the batch holds this lock nobody can rewrite the table.
        (void)lock_job_table(job, RowExclusiveLock);
        if (check_proof(job, point, observe(job))) {
          batch.restarted = true;
          return;
        }
        // Rest points between the batch's own steps too: together they
        // are a few milliseconds of work (pg/pacing.hpp).
        pg::rest_if_due();
        batch.range = sizer.next(static_cast<std::uint64_t>(span.cursor_page), end_page);
        if (batch.range.first >= batch.range.end) {
          finish();
          batch.finished = true;
          return;
        }
        // A crash loses a batch's rows and its cursor together: redone.
        pg::set_local("synchronous_commit", "off");
        if (smooth_io && wal_compression)
          pg::set_local("wal_compression", wal_compression->c_str());
        const std::int64_t wal_before = pg::wal_insert_position();
        std::optional<pg::GrowthWriteback> growth;
        if (smooth_io)
          growth.emplace(job.relid);
        {
          pg::StatementTimeout timeout(guc::batch_statement_timeout_ms);
          AsJobOwner owner(job, SearchPath::creators);
          pg::FillRequest request = fill_request(job, is_sweep);
          request.move_while_held = Clock::now() - held_since > kHeldPatience;
          batch.filled =
              pg::fill_page_range(request, static_cast<BlockNumber>(batch.range.first),
                                  static_cast<BlockNumber>(batch.range.end));
        }
        if (is_sweep && batch.filled.skipped_by_trigger > 0)
          pg::raise("55000",
                    "cannot show that every row of " + job.relation +
                        " is filled: a BEFORE trigger of the table kept rows from being "
                        "filled (fire_triggers => true)");
        if (batch.filled.table_rewritten) {
          // Nothing was done: the sweep begins again on the new table.
          (void)check_proof(job, point, observe(job));
          batch.restarted = true;
          return;
        }
        // A batch that ran out of time covered only its first pages.
        if (batch.filled.stopped_early)
          batch.range.end = batch.filled.next_page;
        batch.done_to = batch.range.end;
        if (batch.filled.deferred > 0)
          batch.done_to =
              std::min<std::uint64_t>(batch.done_to, batch.filled.first_deferred_page);
        if (growth)
          growth->start();
        batch.wal_bytes = pg::wal_insert_position() - wal_before;
        pg::rest_if_due();
        batch.waiting_sessions = pg::sessions_waiting_on_us(job.relid);
        pg::rest_if_due();
        const auto done_to = static_cast<std::int64_t>(batch.done_to);
        const auto filled = static_cast<std::int64_t>(batch.filled.filled);
        if (span.range_no)
          catalog::advance_range(job.id, *span.range_no, done_to, filled);
        else
          catalog::advance_cursor(job.id, done_to, filled, controller.rows());
      });
    } catch (const catalog::JobStopped &) {
      return StepResult::stopped;
    } catch (const pg::Error &error) {
      if (error.sqlerrcode() == ERRCODE_QUERY_CANCELED) {
        // statement_timeout: the same range again, half as large. A fixed
        // batch_size cannot shrink, so timeouts are bounded like lock
        // retries instead of repeating forever.
        if (++timeouts >= guc::lock_retries)
          pg::raise(
              "57014",
              "backfill batches of job " + std::to_string(job.id) +
                  " keep exceeding colmig.batch_statement_timeout",
              error.what(),
              "Raise colmig.batch_statement_timeout, or lower the job's batch_size.");
        elog(LOG, "colmig: job %ld batch of %ld rows timed out; halving it",
             static_cast<long>(job.id), static_cast<long>(controller.rows()));
        controller.halve();
        continue;
      }
      // The batch rolled back with its cursor: the same range again, after
      // the back-off (an application lock, a deadlock).
      wait_before_retry(job, "a backfill batch", error, conflicts, false);
      controller.halve();
      continue;
    }
    conflicts = 0;
    timeouts = 0;
    if (batch.stopped)
      return StepResult::stopped;
    if (batch.finished)
      return StepResult::done;
    if (batch.restarted) {
      if (!is_sweep)
        return StepResult::done; // the sweep was begun instead of the backfill
      // From page 0 of the table as it is now (begin_sweep moved the job's
      // cursor and end page).
      span = BatchSpan::of_job(job);
      continue;
    }

    // The batch's work, without its rests: what the controller sizes and
    // the pause after it answers.
    const double rested = pacing.rested_seconds();
    const double seconds = std::max(
        0.0, std::chrono::duration<double>(Clock::now() - started).count() - rested);
    const std::uint64_t pages = batch.range.end - batch.range.first;
    if (batch.filled.held_pages == 0)
      held_since = Clock::now();
    span.cursor_page = static_cast<std::int64_t>(batch.done_to);
    if (!span.range_no) {
      job.cursor_page = span.cursor_page;
      job.rows_done += static_cast<std::int64_t>(batch.filled.filled);
    }
    // The controller works in rows the batch covered (filled or not), the
    // sizer maps rows to pages with what it learned of the table.
    controller.record(static_cast<std::int64_t>(pages * sizer.rows_per_page()), seconds);
    sizer.record(static_cast<std::int64_t>(batch.filled.filled), pages);
    last = {seconds, static_cast<double>(batch.wal_bytes)};
    last_wal_bytes = batch.wal_bytes;
    elog(DEBUG1,
         "colmig: job %ld batch pages %lu-%lu: %lu rows in %.1f ms (and %.1f ms of "
         "rests), %lu locked rows skipped, %lu left for room, %ld WAL bytes; load %.2f "
         "(%.1f sessions, %.0f writes/s)",
         static_cast<long>(job.id), static_cast<unsigned long>(batch.range.first),
         static_cast<unsigned long>(batch.range.end),
         static_cast<unsigned long>(batch.filled.filled), seconds * 1000.0,
         rested * 1000.0, static_cast<unsigned long>(batch.filled.skipped_locked),
         static_cast<unsigned long>(batch.filled.deferred),
         static_cast<long>(batch.wal_bytes), load.gauge().level(),
         load.gauge().sessions(), load.gauge().xids_per_second());
    if (batch.waiting_sessions > 0) {
      // Someone waited on our locks: smaller batches, room now, and the
      // busy pace from the next batch on.
      waited_on_last_batch = static_cast<int>(batch.waiting_sessions);
      controller.halve();
      const double pause =
          std::max(core::contention_pause(seconds + rested), pace.least_pause_seconds);
      pg::wait_for_latch(std::max(1L, std::lround(pause * 1000)));
    } else {
      // The rests the batch took inside count towards its pause.
      const double pause = core::pause_after_batch(seconds, rested, pace.rests.rest_ratio,
                                                   pace.least_pause_seconds);
      if (pause > 0)
        pg::wait_for_latch(std::max(1L, std::lround(pause * 1000)));
    }
  }
}

} // namespace colmig::runner
