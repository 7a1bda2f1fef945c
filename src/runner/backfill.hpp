// The batched phases (backfill and sweep): ctid page ranges, each batch one
// short transaction that commits its rows together with the job's cursor.
#pragma once
#include "catalog/job.hpp"
#include "runner/step_result.hpp"

#include <cstdint>
#include <functional>
#include <optional>

namespace colmig::runner {

// Where a batched phase keeps its place: the job's own cursor (up to its
// end page), or one range of a parallel backfill (catalog/ranges.hpp),
// which this worker has claimed.
struct BatchSpan {
  std::optional<int> range_no;
  std::int64_t cursor_page = 0;
  std::int64_t end_page = 0;

  static BatchSpan of_job(const catalog::Job &job) {
    return {std::nullopt, job.cursor_page, job.end_page.value_or(0)};
  }
};

// Runs batches from the span's cursor up to its end page, each committing
// its rows with the span's new cursor. When the span is done, `finish`
// runs in one more transaction (for the job's cursor it commits the next
// phase), so a crash never repeats or skips the phase change.
// The sweep (`is_sweep`) waits for rows the application has locked; the
// first pass skips them. Each batch first checks the backfill's proof
// (runner/proof.hpp): a sweep that must begin again does so from page 0.
// A compact job's backfill fills rows in place (pg/page_room.hpp): its
// cursor passes a page only once no row there waits for room.
StepResult run_batches(catalog::Job &job, bool is_sweep, BatchSpan span,
                       const std::function<void()> &finish);

} // namespace colmig::runner
