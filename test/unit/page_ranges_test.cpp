#include "core/page_ranges.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace colmig::core {
namespace {

// Every page of [0, end_page) is in exactly one range, the ranges are in
// page order and none is empty.
void expect_exact_cover(const PageRanges &ranges, std::uint64_t end_page) {
  std::vector<int> covered(end_page, 0);
  std::uint64_t next = 0;
  for (const PageRange &range : ranges) {
    EXPECT_EQ(range.first, next) << "ranges leave a gap or overlap";
    EXPECT_LT(range.first, range.end) << "an empty range";
    for (std::uint64_t page = range.first; page < range.end && page < end_page; ++page)
      ++covered[page];
    next = range.end;
  }
  EXPECT_EQ(next, end_page) << "the last range ends elsewhere";
  for (std::uint64_t page = 0; page < end_page; ++page)
    ASSERT_EQ(covered[page], 1) << "page " << page;
}

TEST(PageRanges, CoverEveryPageExactlyOnce) {
  for (std::uint64_t end_page :
       {1ULL, 2ULL, 3ULL, 7ULL, 100ULL, 101ULL, 1000ULL, 8197ULL})
    for (int parts = 1; parts <= kMaxParallel; ++parts) {
      SCOPED_TRACE(testing::Message() << "end_page=" << end_page << " parts=" << parts);
      const PageRanges ranges = plan_page_ranges(end_page, parts);
      expect_exact_cover(ranges, end_page);
      EXPECT_EQ(ranges.size(), std::min<std::uint64_t>(end_page, parts));
    }
}

TEST(PageRanges, CoverRandomSizesExactlyOnce) {
  std::mt19937_64 random(42);
  std::uniform_int_distribution<std::uint64_t> pages(0, 50000);
  std::uniform_int_distribution<int> parts(-3, kMaxParallel + 5);
  for (int i = 0; i < 500; ++i) {
    const std::uint64_t end_page = pages(random);
    const int wanted = parts(random);
    SCOPED_TRACE(testing::Message() << "end_page=" << end_page << " parts=" << wanted);
    expect_exact_cover(plan_page_ranges(end_page, wanted), end_page);
  }
}

TEST(PageRanges, SizesDifferByAtMostOnePage) {
  const PageRanges ranges = plan_page_ranges(1003, 4);
  ASSERT_EQ(ranges.size(), 4u);
  for (const PageRange &range : ranges) {
    const std::uint64_t size = range.end - range.first;
    EXPECT_TRUE(size == 250 || size == 251) << size;
  }
  EXPECT_EQ(ranges[0].end - ranges[0].first, 251u); // the longer ones first
}

TEST(PageRanges, HugeTablesCoverTheirLastPage) {
  const std::uint64_t end_page = 0xFFFFFFFEULL; // MaxBlockNumber
  const PageRanges ranges = plan_page_ranges(end_page, 3);
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges.front().first, 0u);
  EXPECT_EQ(ranges.back().end, end_page);
  EXPECT_EQ(ranges[1].first, ranges[0].end);
  EXPECT_EQ(ranges[2].first, ranges[1].end);
}

TEST(PageRanges, EmptyTableHasNoRange) { EXPECT_TRUE(plan_page_ranges(0, 4).empty()); }

TEST(PageRanges, PartsAreClamped) {
  EXPECT_EQ(plan_page_ranges(100, 0).size(), 1u);
  EXPECT_EQ(plan_page_ranges(100, -5).size(), 1u);
  EXPECT_EQ(plan_page_ranges(1000, kMaxParallel + 10).size(),
            static_cast<std::size_t>(kMaxParallel));
}

TEST(WorkersForJob, BoundedByCapAndFreeSlots) {
  EXPECT_EQ(workers_for_job(4, 8, 10), 4);
  EXPECT_EQ(workers_for_job(4, 2, 10), 2); // colmig.max_parallel
  EXPECT_EQ(workers_for_job(4, 8, 1), 2);  // one slot free: itself and one
  EXPECT_EQ(workers_for_job(4, 8, 0), 1);  // no slot: alone
  EXPECT_EQ(workers_for_job(4, 8, -3), 1); // never below one
  EXPECT_EQ(workers_for_job(1, 8, 10), 1);
  EXPECT_EQ(workers_for_job(0, 8, 10), 1);
}

} // namespace
} // namespace colmig::core
