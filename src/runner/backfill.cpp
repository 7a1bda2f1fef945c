#include "runner/backfill.hpp"
#include "core/batch_sizer.hpp"

#include "guc.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runner/job_scope.hpp"
#include "runner/locked_step.hpp"
#include "worker/bgworker_main.hpp"

#include <string>

namespace colmig::runner {

namespace {

std::string tid_text(std::uint64_t page) { return "(" + std::to_string(page) + ",0)"; }

double rows_per_page_estimate(Oid relid) {
  pg::execute("SELECT (CASE WHEN relpages > 0 AND reltuples > 0 "
              "THEN reltuples / relpages ELSE 0 END)::float8 "
              "FROM pg_catalog.pg_class WHERE oid = $1",
              {pg::oid_param(relid)});
  return pg::result_rows() > 0 ? pg::get_float8(0, 0).value_or(0) : 0;
}

} // namespace

StepResult run_batches(catalog::Job &job, const Statements &sql,
                       const std::function<void()> &finish) {
  const std::int64_t rows_per_batch = job.batch_size ? *job.batch_size : guc::batch_size;
  double rows_per_page = 0;
  pg::in_transaction("colmig: planning batches",
                     [&] { rows_per_page = rows_per_page_estimate(job.relid); });
  core::BatchSizer sizer(rows_per_batch, rows_per_page);
  const std::string batch_sql = sql.backfill_batch();
  const auto end_page = static_cast<std::uint64_t>(job.end_page.value_or(0));

  int conflicts = 0;
  for (;;) {
    bool stopped = false;
    bool finished = false;
    core::PageRange range{};
    std::uint64_t rows = 0;
    try {
      pg::in_transaction(batch_sql.c_str(), [&] {
        if (catalog::state_for_step(job.id) != core::JobState::running) {
          stopped = true;
          return;
        }
        range = sizer.next(static_cast<std::uint64_t>(job.cursor_page), end_page);
        if (range.first >= range.end) {
          finish();
          finished = true;
          return;
        }
        {
          AsJobOwner owner(job);
          rows = pg::execute(batch_sql, {pg::text_param(tid_text(range.first)),
                                         pg::text_param(tid_text(range.end))});
        }
        catalog::advance_cursor(job.id, static_cast<std::int64_t>(range.end),
                                static_cast<std::int64_t>(rows), sizer.rows_per_batch());
      });
    } catch (const pg::Error &error) {
      // The batch rolled back with its cursor: the same range again, after
      // the back-off (an application lock, a deadlock).
      wait_before_retry(job, error, conflicts);
      continue;
    }
    conflicts = 0;
    if (stopped)
      return StepResult::stopped;
    if (finished)
      return StepResult::done;
    job.cursor_page = static_cast<std::int64_t>(range.end);
    job.rows_done += static_cast<std::int64_t>(rows);
    sizer.record(static_cast<std::int64_t>(rows), range.end - range.first);
    if (guc::batch_pause_ms > 0)
      worker::wait_for_latch(guc::batch_pause_ms);
  }
}

} // namespace colmig::runner
