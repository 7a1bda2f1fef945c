// The page ranges of a parallel backfill (colmig.job_ranges). The job's own
// worker creates them when the backfill begins; every worker of the job
// (the job's own and its range workers) claims one at a time, fills it in
// batches that each commit their rows with the range's cursor, and takes
// the next. A range belongs to the worker holding its session advisory
// lock (job, range, kind 4): a worker that dies loses it with its
// session, and another takes the range up from its cursor. Every function
// here runs inside a transaction with SPI connected, but the claims, which
// outlive it.
#pragma once
#include "core/page_ranges.hpp"

#include <boost/container/static_vector.hpp>

#include <cstdint>
#include <optional>

namespace colmig::catalog {

struct JobRange {
  int range_no = 0;
  std::int64_t first_page = 0;
  std::int64_t end_page = 0;
  std::int64_t cursor_page = 0;
  std::int64_t rows_done = 0;

  bool done() const { return cursor_page >= end_page; }
};
using JobRanges = boost::container::static_vector<JobRange, core::kMaxParallel>;

// The job's ranges, in order; none before the backfill began them or
// after it ended.
JobRanges load_ranges(std::int64_t job_id);

// The job's ranges, created first as `ranges` if it has none yet (a
// backfill taken up again after a crash goes on with the ones it had).
JobRanges begin_ranges(std::int64_t job_id, const core::PageRanges &ranges);

// A range nobody fills now, with pages left, claimed for this worker; none
// when every range is done or held by another worker.
std::optional<JobRange> claim_free_range(std::int64_t job_id);
void release_range(std::int64_t job_id, int range_no);
bool range_claim_held(std::int64_t job_id, int range_no);

// In a batch's transaction, after its rows: the range's new cursor and the
// rows the batch filled. Throws JobStopped when the job is no longer
// running, also when a pause() or cancel() committed after the batch
// began (the job's row is read FOR SHARE, in its newest version; one in
// flight waits for the batch), so nothing commits after one that the
// caller saw commit; and when the range is gone (the sweep began).
void advance_range(std::int64_t job_id, int range_no, std::int64_t cursor_page,
                   std::int64_t rows_added);

// The job's worker saw its ranges move on: the take-ups without progress
// (catalog/job.hpp, mark_running) start counting again.
void note_range_progress(std::int64_t job_id);

// Whether every range of the job is done (also when it has none).
bool all_ranges_done(std::int64_t job_id);

// In the transaction that begins the sweep (catalog::begin_sweep): the
// ranges' rows are added to the job's rows_done and the ranges deleted.
void end_ranges(std::int64_t job_id);

} // namespace colmig::catalog
