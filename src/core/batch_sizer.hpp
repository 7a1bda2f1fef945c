// Turns a batch size in rows into a ctid page range. Backfill batches are
// page ranges (TID range scans need no index and no primary key), so the
// sizer learns how many rows a page holds from the batches it has seen.
#pragma once
#include "core/cpp_only.hpp"

#include <cstdint>

namespace colmig::core {

struct PageRange {
  std::uint64_t first; // inclusive
  std::uint64_t end;   // exclusive
};

class BatchSizer {
public:
  // `initial_rows_per_page` comes from pg_class (reltuples / relpages); a
  // value <= 0 means unknown.
  BatchSizer(std::int64_t rows_per_batch, double initial_rows_per_page);

  // The next range starting at `cursor`, never past `end_page`.
  PageRange next(std::uint64_t cursor, std::uint64_t end_page) const;

  // Feed back what a batch did: rows it filled over pages it scanned.
  // Ranges already filled count as sparse, so the next batch grows.
  void record(std::int64_t rows_seen, std::uint64_t pages);

  std::int64_t rows_per_batch() const { return rows_per_batch_; }
  void set_rows_per_batch(std::int64_t rows) { rows_per_batch_ = rows > 0 ? rows : 1; }
  double rows_per_page() const { return rows_per_page_; }

  // Upper bound on pages in one batch, however sparse the table is.
  static constexpr std::uint64_t kMaxPagesPerBatch = 16384; // 128 MB

private:
  std::int64_t rows_per_batch_;
  double rows_per_page_;
  std::uint64_t last_pages_ = 0;
};

} // namespace colmig::core
