#include "core/batch_sizer.hpp"

#include <algorithm>
#include <cmath>

namespace colmig::core {

namespace {
// A guess used until a batch has been measured: narrow rows.
constexpr double kDefaultRowsPerPage = 100.0;
// Weight of the newest measurement in the moving average.
constexpr double kSmoothing = 0.3;
} // namespace

BatchSizer::BatchSizer(std::int64_t rows_per_batch, double initial_rows_per_page)
    : rows_per_batch_(std::max<std::int64_t>(1, rows_per_batch)),
      rows_per_page_(initial_rows_per_page > 0 ? initial_rows_per_page
                                               : kDefaultRowsPerPage) {}

PageRange BatchSizer::next(std::uint64_t cursor, std::uint64_t end_page) const {
  if (cursor >= end_page)
    return {cursor, cursor};
  // Capped while still a double: the ratio can exceed what an integer holds.
  const double wanted = std::ceil(static_cast<double>(rows_per_batch_) / rows_per_page_);
  auto pages = static_cast<std::uint64_t>(
      std::clamp(wanted, 1.0, static_cast<double>(kMaxPagesPerBatch)));
  // Sparse stretches (deleted rows, already filled ranges) make the estimate
  // drop; growing at most fourfold per batch keeps one batch from suddenly
  // covering a dense region many times larger than intended.
  if (last_pages_ > 0)
    pages = std::min(pages, last_pages_ * 4);
  return {cursor, cursor + std::min(pages, end_page - cursor)};
}

void BatchSizer::record(std::int64_t rows_seen, std::uint64_t pages) {
  if (pages == 0)
    return;
  last_pages_ = pages;
  // Never below one row per page: empty ranges would otherwise drive the
  // estimate to zero and the next range to its maximum.
  const double measured = std::max(1.0, static_cast<double>(rows_seen) / pages);
  rows_per_page_ = (1.0 - kSmoothing) * rows_per_page_ + kSmoothing * measured;
}

} // namespace colmig::core
