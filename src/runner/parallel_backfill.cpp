#include "core/page_ranges.hpp"

#include "runner/parallel_backfill.hpp"

#include "catalog/claim.hpp"
#include "guc.hpp"
#include "catalog/ranges.hpp"
#include "ipc/start.hpp"
#include "pg/latch.hpp"
#include "pg/transaction.hpp"
#include "runner/backfill.hpp"
#include "runner/proof.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace colmig::runner {

namespace {

// How often the job's own worker looks at the ranges while the others
// fill theirs: it takes over one whose worker died, and sees the end.
constexpr long kRangePollMs = 100;

// Fills one claimed range to its end (or until the job stops), then gives
// the claim back.
StepResult fill_range(catalog::Job &job, const catalog::JobRange &range) {
  BatchSpan span{range.range_no, range.cursor_page, range.end_page};
  StepResult result = StepResult::stopped;
  try {
    result = run_batches(job, false, span, [] {});
  } catch (...) {
    pg::in_transaction("colmig: releasing range",
                       [&] { catalog::release_range(job.id, range.range_no); });
    throw;
  }
  pg::in_transaction("colmig: releasing range",
                     [&] { catalog::release_range(job.id, range.range_no); });
  return result;
}

struct RangesNow {
  std::optional<catalog::JobRange> claimed;
  bool all_done = false;
  bool running = false;
  std::string phase;
  std::int64_t pages_done = 0;
};

RangesNow look_at_ranges(std::int64_t job_id) {
  RangesNow now;
  pg::in_transaction("colmig: looking at ranges", [&] {
    const auto job = catalog::load_job(job_id);
    if (!job)
      return;
    now.running = job->state == core::JobState::running;
    now.phase = job->phase;
    if (!now.running || now.phase != core::to_string(core::StepKind::backfill))
      return;
    now.claimed = catalog::claim_free_range(job_id);
    if (now.claimed)
      return;
    now.all_done = true;
    for (const catalog::JobRange &range : catalog::load_ranges(job_id)) {
      now.all_done &= range.done();
      now.pages_done += range.cursor_page - range.first_page;
    }
  });
  return now;
}

// Up to `wanted` range workers; how many started.
int start_range_workers(std::int64_t job_id, int wanted) {
  int started = 0;
  while (started < wanted && ipc::start_range_worker(job_id))
    ++started;
  return started;
}

// The phase moved on under a range (a rewrite made a batch begin the
// sweep): the job as stored now, for the steps after.
void reload(catalog::Job &job) {
  pg::in_transaction("colmig: loading job", [&] {
    if (auto stored = catalog::load_job(job.id))
      job = std::move(*stored);
  });
}

} // namespace

StepResult run_parallel_backfill(catalog::Job &job) {
  catalog::JobRanges ranges;
  pg::in_transaction("colmig: planning ranges", [&] {
    ranges = catalog::begin_ranges(
        job.id, core::plan_page_ranges(static_cast<std::uint64_t>(std::max<std::int64_t>(
                                           0, job.end_page.value_or(0))),
                                       job.parallel));
  });
  const auto undone = static_cast<int>(
      std::count_if(ranges.begin(), ranges.end(),
                    [](const catalog::JobRange &r) { return !r.done(); }));
  // colmig.max_parallel as it is now: it may have been lowered since the
  // job was made.
  const int wanted = std::min({job.parallel, guc::max_parallel, undone}) - 1;
  if (wanted > 0) {
    const int started = start_range_workers(job.id, wanted);
    if (started < wanted)
      elog(LOG,
           "colmig: job %ld backfills %d ranges with %d of the %d workers it asked for: "
           "no background worker slot free (raise max_worker_processes)",
           static_cast<long>(job.id), undone, started + 1, wanted + 1);
    else
      elog(LOG, "colmig: job %ld backfills %d ranges with %d workers",
           static_cast<long>(job.id), undone, started + 1);
  }
  std::int64_t pages_seen = -1;
  for (;;) {
    const RangesNow now = look_at_ranges(job.id);
    if (!now.running)
      return StepResult::stopped;
    if (now.phase != job.phase) {
      reload(job);
      return StepResult::done;
    }
    if (now.claimed) {
      const StepResult result = fill_range(job, *now.claimed);
      if (job.phase != core::to_string(core::StepKind::backfill))
        return StepResult::done;
      if (result == StepResult::stopped) {
        // Paused or cancelled, out of its run window (the job stays
        // running, and its worker is given back until the window opens),
        // or the sweep began in another worker's batch.
        reload(job);
        return job.phase == core::to_string(core::StepKind::backfill)
                   ? StepResult::stopped
                   : StepResult::done;
      }
      pg::in_transaction("colmig: range done",
                         [&] { catalog::note_range_progress(job.id); });
      continue;
    }
    if (now.all_done) {
      bool stopped = false;
      try {
        pg::in_transaction("colmig: ending the backfill", [&] {
          if (catalog::state_for_step(job.id) != core::JobState::running ||
              !catalog::all_ranges_done(job.id)) {
            stopped = true;
            return;
          }
          begin_sweep(job, observe(job), false);
        });
      } catch (const catalog::JobStopped &) {
        return StepResult::stopped;
      }
      if (stopped)
        continue;
      return StepResult::done;
    }
    // Every range left is being filled by another worker.
    if (now.pages_done != pages_seen) {
      if (pages_seen >= 0)
        pg::in_transaction("colmig: ranges moved on",
                           [&] { catalog::note_range_progress(job.id); });
      pages_seen = now.pages_done;
    }
    pg::wait_for_latch(kRangePollMs);
  }
}

void fill_free_ranges(std::int64_t job_id) {
  try {
    std::optional<catalog::Job> job;
    pg::in_transaction("colmig: loading job", [&] {
      if (catalog::extension_current())
        job = catalog::load_job(job_id);
    });
    if (!job)
      return;
    for (;;) {
      const RangesNow now = look_at_ranges(job_id);
      if (!now.claimed)
        return; // nothing free: done, stopped, or the others have it all
      if (fill_range(*job, *now.claimed) == StepResult::stopped)
        return;
    }
  } catch (const pg::Error &error) {
    elog(LOG, "colmig: a range worker of job %ld stopped: %s", static_cast<long>(job_id),
         error.what());
  }
}

} // namespace colmig::runner
