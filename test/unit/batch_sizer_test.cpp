#include "core/batch_sizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace colmig::core {
namespace {

std::uint64_t pages(const PageRange &range) { return range.end - range.first; }

constexpr std::uint64_t kFarEnd = 1ULL << 40; // an end_page no range reaches

// --- the first range -------------------------------------------------------------

TEST(BatchSizer, FirstRangeIsRowsPerBatchOverRowsPerPageRoundedUp) {
  struct Case {
    std::int64_t rows_per_batch;
    double rows_per_page;
    std::uint64_t pages;
  };
  for (const Case &c :
       {Case{1000, 100.0, 10}, Case{1000, 30.0, 34}, Case{1000, 0.5, 2000},
        Case{10000, 3.3, 3031}, Case{10000, 226.0, 45}, Case{1001, 1000.0, 2},
        Case{1, 100.0, 1}, Case{50, 1e9, 1}}) {
    SCOPED_TRACE(testing::Message() << "rows_per_batch=" << c.rows_per_batch
                                    << " rows_per_page=" << c.rows_per_page);
    BatchSizer sizer(c.rows_per_batch, c.rows_per_page);
    EXPECT_EQ(sizer.rows_per_batch(), c.rows_per_batch);
    EXPECT_DOUBLE_EQ(sizer.rows_per_page(), c.rows_per_page);
    PageRange range = sizer.next(0, kFarEnd);
    EXPECT_EQ(range.first, 0u);
    EXPECT_EQ(range.end, c.pages);
  }
}

TEST(BatchSizer, RangeStartsAtTheCursor) {
  BatchSizer sizer(1000, 100.0);
  PageRange range = sizer.next(500, kFarEnd);
  EXPECT_EQ(range.first, 500u);
  EXPECT_EQ(range.end, 510u);
}

TEST(BatchSizer, NextDoesNotChangeTheSizer) {
  BatchSizer sizer(1000, 30.0);
  PageRange a = sizer.next(7, kFarEnd);
  PageRange b = sizer.next(7, kFarEnd);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.end, b.end);
  EXPECT_DOUBLE_EQ(sizer.rows_per_page(), 30.0);
}

TEST(BatchSizer, UnknownRowsPerPageUsesAPositiveDefault) {
  const BatchSizer reference(10000, 0.0);
  const double fallback = reference.rows_per_page();
  EXPECT_TRUE(std::isfinite(fallback));
  EXPECT_GT(fallback, 1.0);
  const auto expected_pages = static_cast<std::uint64_t>(std::ceil(10000 / fallback));

  for (double unknown : {0.0, -0.0, -1.0, -1e9, -std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN()}) {
    SCOPED_TRACE(unknown);
    BatchSizer sizer(10000, unknown);
    EXPECT_DOUBLE_EQ(sizer.rows_per_page(), fallback);
    PageRange range = sizer.next(0, kFarEnd);
    EXPECT_EQ(pages(range), expected_pages);
    // Not the "every row is on its own page" worst case, nor the maximum.
    EXPECT_LT(pages(range), 10000u);
    EXPECT_LT(pages(range), BatchSizer::kMaxPagesPerBatch);
  }
}

TEST(BatchSizer, RowsPerBatchBelowOneMeansOneRow) {
  for (std::int64_t rows :
       {std::int64_t{0}, std::int64_t{-1}, std::numeric_limits<std::int64_t>::min()}) {
    SCOPED_TRACE(rows);
    BatchSizer sizer(rows, 100.0);
    EXPECT_EQ(sizer.rows_per_batch(), 1);
    EXPECT_EQ(pages(sizer.next(0, kFarEnd)), 1u);
  }
}

TEST(BatchSizer, AtLeastOnePageEvenForVeryDenseTables) {
  BatchSizer sizer(1, std::numeric_limits<double>::infinity());
  PageRange range = sizer.next(3, kFarEnd);
  EXPECT_EQ(range.first, 3u);
  EXPECT_EQ(range.end, 4u);
}

TEST(BatchSizer, NeverMoreThanMaxPagesPerBatch) {
  BatchSizer sparse(1'000'000, 1.0);
  EXPECT_EQ(pages(sparse.next(0, kFarEnd)), BatchSizer::kMaxPagesPerBatch);
  BatchSizer wide(10'000, 0.01);
  EXPECT_EQ(pages(wide.next(0, kFarEnd)), BatchSizer::kMaxPagesPerBatch);
  // The extremes the backfill runner can pass: an int4 batch size, and one
  // row in a table of 2^32 - 1 pages.
  BatchSizer extreme(std::numeric_limits<std::int32_t>::max(), 1.0 / 4294967295.0);
  EXPECT_EQ(pages(extreme.next(0, kFarEnd)), BatchSizer::kMaxPagesPerBatch);
}

// Disabled: fails today. When rows_per_batch / rows_per_page exceeds 2^64,
// BatchSizer::next() converts the page count to std::uint64_t before capping
// it at kMaxPagesPerBatch (src/core/batch_sizer.cpp:24), which is undefined
// behaviour; on x86-64 it yields 0 pages, i.e. an empty range before
// end_page, which run_batches() takes for the end of the table. Enable once
// the cap is applied before the conversion.
TEST(BatchSizer, HugeRowsPerBatchOverRowsPerPageStillCapsAtMaxPages) {
  BatchSizer sizer(std::numeric_limits<std::int64_t>::max(), 0.001);
  EXPECT_EQ(pages(sizer.next(0, kFarEnd)), BatchSizer::kMaxPagesPerBatch);
}

// --- the end of the table --------------------------------------------------------

TEST(BatchSizer, RangeNeverPassesEndPage) {
  BatchSizer sizer(1000, 100.0); // 10 pages wanted
  PageRange range = sizer.next(0, 3);
  EXPECT_EQ(range.first, 0u);
  EXPECT_EQ(range.end, 3u);
  range = sizer.next(95, 100);
  EXPECT_EQ(range.first, 95u);
  EXPECT_EQ(range.end, 100u);
  range = sizer.next(99, 100);
  EXPECT_EQ(range.first, 99u);
  EXPECT_EQ(range.end, 100u);
  for (std::uint64_t cursor = 0; cursor < 37; ++cursor) {
    range = sizer.next(cursor, 37);
    EXPECT_EQ(range.first, cursor);
    EXPECT_GT(range.end, range.first) << cursor;
    EXPECT_LE(range.end, 37u) << cursor;
  }
}

TEST(BatchSizer, EmptyRangeAtOrAfterEndPage) {
  BatchSizer sizer(1000, 100.0);
  for (auto [cursor, end] : {std::pair<std::uint64_t, std::uint64_t>{0, 0},
                             {10, 10},
                             {11, 10},
                             {1000, 1},
                             {kFarEnd, kFarEnd}}) {
    SCOPED_TRACE(testing::Message() << "cursor=" << cursor << " end=" << end);
    PageRange range = sizer.next(cursor, end);
    EXPECT_EQ(range.first, cursor);
    EXPECT_EQ(range.end, cursor);
  }
}

TEST(BatchSizer, NonEmptyRangeBeforeEndPage) {
  BatchSizer sizer(1, 1e6);
  for (std::uint64_t cursor = 0; cursor < 10; ++cursor)
    EXPECT_EQ(pages(sizer.next(cursor, 10)), 1u) << cursor;
}

// --- learning from measured batches ----------------------------------------------

TEST(BatchSizer, GrowsAtMostFourfoldAfterARecordedBatch) {
  // The estimate wants 100 pages, but the last batch only scanned one.
  BatchSizer sizer(10000, 100.0);
  EXPECT_EQ(pages(sizer.next(0, kFarEnd)), 100u);
  sizer.record(100, 1);
  EXPECT_DOUBLE_EQ(sizer.rows_per_page(), 100.0);
  EXPECT_EQ(pages(sizer.next(1, kFarEnd)), 4u);
  sizer.record(400, 4);
  EXPECT_EQ(pages(sizer.next(5, kFarEnd)), 16u);
  sizer.record(1600, 16);
  EXPECT_EQ(pages(sizer.next(21, kFarEnd)), 64u);
  sizer.record(6400, 64);
  // 256 pages allowed now: back to what the estimate (still 100 rows per
  // page) asks for.
  EXPECT_NEAR(sizer.rows_per_page(), 100.0, 1e-9);
  const std::uint64_t n = pages(sizer.next(85, kFarEnd));
  EXPECT_GE(n, 100u);
  EXPECT_LE(n, 101u);
}

TEST(BatchSizer, ShrinksImmediatelyWhenRowsGetDenser) {
  BatchSizer sizer(10000, 10.0);
  EXPECT_EQ(pages(sizer.next(0, kFarEnd)), 1000u);
  sizer.record(1000 * 1000, 1000); // 1000 rows per page
  const double expected = 0.7 * 10.0 + 0.3 * 1000.0;
  EXPECT_NEAR(sizer.rows_per_page(), expected, 1e-9);
  EXPECT_EQ(pages(sizer.next(1000, kFarEnd)),
            static_cast<std::uint64_t>(std::ceil(10000 / expected)));
}

TEST(BatchSizer, GrowthBoundHoldsOnAnyDensity) {
  std::mt19937_64 random(20240601);
  std::uniform_int_distribution<int> density(0, 300); // rows per page, 0 = empty
  BatchSizer sizer(5000, 0.0);
  std::uint64_t cursor = 0;
  std::uint64_t last = 0;
  for (int batch = 0; batch < 2000; ++batch) {
    PageRange range = sizer.next(cursor, kFarEnd);
    ASSERT_EQ(range.first, cursor);
    ASSERT_GT(range.end, range.first);
    const std::uint64_t n = pages(range);
    if (last > 0) {
      EXPECT_LE(n, 4 * last) << "batch " << batch;
    }
    EXPECT_LE(n, BatchSizer::kMaxPagesPerBatch);
    EXPECT_LE(n, 5000u); // the estimate never drops below one row per page
    sizer.record(
        static_cast<std::int64_t>(density(random)) * static_cast<std::int64_t>(n), n);
    EXPECT_GE(sizer.rows_per_page(), 1.0);
    cursor = range.end;
    last = n;
  }
}

TEST(BatchSizer, EmptyBatchesKeepTheEstimateAtOneRowPerPageOrMore) {
  BatchSizer sizer(10000, 100.0);
  std::uint64_t cursor = 0;
  for (int batch = 0; batch < 200; ++batch) {
    PageRange range = sizer.next(cursor, kFarEnd);
    sizer.record(0, pages(range));
    EXPECT_GE(sizer.rows_per_page(), 1.0) << batch;
    cursor = range.end;
  }
  EXPECT_NEAR(sizer.rows_per_page(), 1.0, 1e-6);
  // One row per page: a batch covers rows_per_batch pages, not the maximum.
  EXPECT_EQ(pages(sizer.next(cursor, kFarEnd)), 10000u);

  // Negative counts are no worse than empty ones.
  sizer.record(-1000, 10);
  EXPECT_GE(sizer.rows_per_page(), 1.0);
}

TEST(BatchSizer, EmptyBatchesOfALargeBatchStopAtMaxPages) {
  BatchSizer sizer(1'000'000, 100.0);
  std::uint64_t cursor = 0;
  for (int batch = 0; batch < 100; ++batch) {
    PageRange range = sizer.next(cursor, kFarEnd);
    EXPECT_LE(pages(range), BatchSizer::kMaxPagesPerBatch) << batch;
    sizer.record(0, pages(range));
    cursor = range.end;
  }
  EXPECT_EQ(pages(sizer.next(cursor, kFarEnd)), BatchSizer::kMaxPagesPerBatch);
}

TEST(BatchSizer, RecordOfNoPagesIsIgnored) {
  BatchSizer sizer(10000, 100.0);
  sizer.record(12345, 0);
  EXPECT_DOUBLE_EQ(sizer.rows_per_page(), 100.0);
  // ... and does not start the growth bound either.
  EXPECT_EQ(pages(sizer.next(0, kFarEnd)), 100u);
}

TEST(BatchSizer, MovingAverageMovesTowardTheMeasurement) {
  BatchSizer up(10000, 100.0);
  up.record(2000, 10); // 200 rows per page
  EXPECT_GT(up.rows_per_page(), 100.0);
  EXPECT_LT(up.rows_per_page(), 200.0);

  BatchSizer down(10000, 100.0);
  down.record(500, 10); // 50 rows per page
  EXPECT_LT(down.rows_per_page(), 100.0);
  EXPECT_GT(down.rows_per_page(), 50.0);

  BatchSizer same(10000, 100.0);
  same.record(1000, 10);
  EXPECT_DOUBLE_EQ(same.rows_per_page(), 100.0);
}

TEST(BatchSizer, MovingAverageConvergesWithoutOvershooting) {
  BatchSizer sizer(10000, 20.0);
  double previous = sizer.rows_per_page();
  for (int i = 0; i < 60; ++i) {
    sizer.record(250 * 40, 40); // 250 rows per page; 4 x 40 pages allowed next
    EXPECT_GT(sizer.rows_per_page(), previous) << i;
    EXPECT_LE(sizer.rows_per_page(), 250.0) << i;
    previous = sizer.rows_per_page();
  }
  EXPECT_NEAR(sizer.rows_per_page(), 250.0, 0.01);
  // 10000 / 250 = 40 pages, give or take the rounding up of a value that is
  // still a hair below 250.
  const std::uint64_t n = pages(sizer.next(0, kFarEnd));
  EXPECT_GE(n, 40u);
  EXPECT_LE(n, 41u);
}

// --- a whole scan ----------------------------------------------------------------

TEST(BatchSizer, RangesTileTheTableExactly) {
  const std::uint64_t end_page = 123457;
  BatchSizer sizer(10000, 0.0);
  std::uint64_t cursor = 0;
  int batches = 0;
  for (;;) {
    PageRange range = sizer.next(cursor, end_page);
    ASSERT_EQ(range.first, cursor); // contiguous, no gap, no overlap
    ASSERT_LE(range.end, end_page);
    if (range.first >= range.end)
      break;
    // 60 rows per page, except an empty stretch in the middle.
    const bool empty = range.first >= 40000 && range.first < 60000;
    sizer.record(empty ? 0 : static_cast<std::int64_t>(60 * pages(range)), pages(range));
    cursor = range.end;
    ASSERT_LT(++batches, 100000) << "the scan does not make progress";
  }
  EXPECT_EQ(cursor, end_page);
  EXPECT_GT(batches, 1);
}

} // namespace
} // namespace colmig::core
