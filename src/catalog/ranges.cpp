#include "catalog/ranges.hpp"

#include "catalog/claim.hpp"
#include "catalog/job.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/lock.h"
}

namespace colmig::catalog {

namespace {

// Apart from the job claim (kind 3, catalog/claim.cpp) and from every
// advisory lock SQL can take (kinds 1 and 2): no role can hold a range to
// stall a job. colmig.progress counts these locks as the job's workers.
constexpr uint16 kRangeLockKind = 4;

LOCKTAG range_tag(std::int64_t job_id, int range_no) {
  LOCKTAG tag;
  SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(job_id & 0xffffffff),
                       static_cast<uint32>(range_no), kRangeLockKind);
  return tag;
}

JobRange range_at(std::uint64_t row) {
  JobRange range;
  range.range_no = static_cast<int>(*pg::get_int64(row, 0));
  range.first_page = *pg::get_int64(row, 1);
  range.end_page = *pg::get_int64(row, 2);
  range.cursor_page = *pg::get_int64(row, 3);
  range.rows_done = *pg::get_int64(row, 4);
  return range;
}

const char *const kSelectRanges =
    "SELECT range_no::int8, first_page, end_page, cursor_page, rows_done "
    "FROM colmig.job_ranges WHERE job_id = $1 ORDER BY range_no";

} // namespace

JobRanges load_ranges(std::int64_t job_id) {
  JobRanges ranges;
  pg::execute(kSelectRanges, {pg::int8_param(job_id)});
  for (std::uint64_t row = 0; row < pg::result_rows() && row < ranges.capacity(); ++row)
    ranges.push_back(range_at(row));
  return ranges;
}

JobRanges begin_ranges(std::int64_t job_id, const core::PageRanges &ranges) {
  JobRanges stored = load_ranges(job_id);
  if (!stored.empty())
    return stored;
  for (std::size_t i = 0; i < ranges.size(); ++i)
    pg::execute(
        "INSERT INTO colmig.job_ranges (job_id, range_no, first_page, end_page, "
        "cursor_page) VALUES ($1, $2, $3, $3 + $4, $3)",
        {pg::int8_param(job_id), pg::int4_param(static_cast<std::int32_t>(i)),
         pg::int8_param(static_cast<std::int64_t>(ranges[i].first)),
         pg::int8_param(static_cast<std::int64_t>(ranges[i].end - ranges[i].first))});
  return load_ranges(job_id);
}

std::optional<JobRange> claim_free_range(std::int64_t job_id) {
  for (const JobRange &range : load_ranges(job_id)) {
    if (range.done() || range_claim_held(job_id, range.range_no))
      continue;
    const bool claimed = pg::call([&] {
      LOCKTAG tag = range_tag(job_id, range.range_no);
      return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
    });
    if (!claimed)
      continue;
    // Read again under the claim: its last holder may have moved it on
    // after the snapshot above was taken.
    pg::execute("SELECT range_no::int8, first_page, end_page, cursor_page, rows_done "
                "FROM colmig.job_ranges WHERE job_id = $1 AND range_no = $2",
                {pg::int8_param(job_id), pg::int4_param(range.range_no)});
    if (pg::result_rows() == 1) {
      JobRange now = range_at(0);
      if (!now.done())
        return now;
    }
    release_range(job_id, range.range_no);
  }
  return std::nullopt;
}

void release_range(std::int64_t job_id, int range_no) {
  pg::call([&] {
    LOCKTAG tag = range_tag(job_id, range_no);
    if (LockHeldByMe(&tag, ExclusiveLock))
      (void)LockRelease(&tag, ExclusiveLock, true);
  });
}

bool range_claim_held(std::int64_t job_id, int range_no) {
  return pg::call([&] {
    LOCKTAG tag = range_tag(job_id, range_no);
    return LockHeldByMe(&tag, ExclusiveLock);
  });
}

void advance_range(std::int64_t job_id, int range_no, std::int64_t cursor_page,
                   std::int64_t rows_added) {
  // FOR SHARE: the workers of one job do not wait for each other; a
  // pause() or cancel() that committed after this batch's snapshot is seen
  // (the row is read again in its newest version), and one in flight
  // waits for this batch to commit, so it cannot commit before it.
  if (pg::execute_kept(
          "SELECT 1 FROM colmig.jobs WHERE job_id = $1 AND state = 'running' "
          "FOR SHARE",
          {pg::int8_param(job_id)}) == 0)
    throw JobStopped{};
  // No range any more: the sweep began (a batch of another worker found
  // the table rewritten), and the backfill is over.
  if (pg::execute_kept("UPDATE colmig.job_ranges SET cursor_page = $3, "
                       "rows_done = rows_done + $4, updated_at = now() "
                       "WHERE job_id = $1 AND range_no = $2",
                       {pg::int8_param(job_id), pg::int4_param(range_no),
                        pg::int8_param(cursor_page), pg::int8_param(rows_added)}) == 0)
    throw JobStopped{};
}

void note_range_progress(std::int64_t job_id) {
  pg::execute("UPDATE colmig.jobs SET attempts = 0, updated_at = now() "
              "WHERE job_id = $1 AND state = 'running' AND attempts > 0",
              {pg::int8_param(job_id)});
}

bool all_ranges_done(std::int64_t job_id) {
  pg::execute("SELECT NOT EXISTS (SELECT 1 FROM colmig.job_ranges "
              "WHERE job_id = $1 AND cursor_page < end_page)",
              {pg::int8_param(job_id)});
  return pg::get_bool(0, 0).value_or(false);
}

void end_ranges(std::int64_t job_id) {
  pg::execute("WITH ended AS (DELETE FROM colmig.job_ranges WHERE job_id = $1 "
              "RETURNING rows_done) "
              "UPDATE colmig.jobs SET rows_done = rows_done + "
              "(SELECT coalesce(sum(rows_done), 0) FROM ended) WHERE job_id = $1",
              {pg::int8_param(job_id)});
}

} // namespace colmig::catalog
