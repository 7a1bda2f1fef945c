#include "core/lock_mode.hpp"

#include <gtest/gtest.h>

namespace colmig::core {
namespace {

constexpr LockMode kAll[] = {LockMode::access_share,  LockMode::row_share,
                             LockMode::row_exclusive, LockMode::share_update_exclusive,
                             LockMode::share,         LockMode::share_row_exclusive,
                             LockMode::exclusive,     LockMode::access_exclusive};

TEST(LockMode, ConflictsAreSymmetric) {
  for (LockMode a : kAll)
    for (LockMode b : kAll)
      EXPECT_EQ(conflicts(a, b), conflicts(b, a))
          << to_string(a) << " / " << to_string(b);
}

TEST(LockMode, ConflictCountsMatchTheDocumentation) {
  // The number of modes each one conflicts with, from PostgreSQL's table.
  constexpr int kExpected[] = {1, 2, 4, 5, 5, 6, 7, 8};
  for (int i = 0; i < kLockModes; ++i) {
    int count = 0;
    for (LockMode other : kAll)
      count += conflicts(kAll[i], other) ? 1 : 0;
    EXPECT_EQ(count, kExpected[i]) << to_string(kAll[i]);
  }
}

TEST(LockMode, SelfConflicts) {
  EXPECT_FALSE(conflicts(LockMode::share, LockMode::share));
  EXPECT_FALSE(conflicts(LockMode::row_exclusive, LockMode::row_exclusive));
  EXPECT_TRUE(
      conflicts(LockMode::share_update_exclusive, LockMode::share_update_exclusive));
  EXPECT_TRUE(conflicts(LockMode::share_row_exclusive, LockMode::share_row_exclusive));
}

TEST(LockMode, AHeldLockCoversTheModesWhoseConflictsItShares) {
  for (LockMode mode : kAll) {
    EXPECT_TRUE(covers(mode, mode)) << to_string(mode);
    EXPECT_TRUE(covers(LockMode::access_exclusive, mode)) << to_string(mode);
  }
  EXPECT_TRUE(covers(LockMode::exclusive, LockMode::share));
  EXPECT_TRUE(covers(LockMode::share_row_exclusive, LockMode::share_update_exclusive));
  EXPECT_FALSE(covers(LockMode::share, LockMode::share_update_exclusive));
  EXPECT_FALSE(covers(LockMode::share_update_exclusive, LockMode::share));
  EXPECT_FALSE(covers(LockMode::share, LockMode::row_exclusive));
  EXPECT_FALSE(covers(LockMode::access_share, LockMode::row_exclusive));
}

TEST(LockMode, WhatTheApplicationStops) {
  EXPECT_EQ(blocks(LockMode::access_share), Blocks::nothing);
  EXPECT_EQ(blocks(LockMode::row_exclusive), Blocks::nothing);
  EXPECT_EQ(blocks(LockMode::share_update_exclusive), Blocks::nothing);
  EXPECT_EQ(blocks(LockMode::share), Blocks::writes);
  EXPECT_EQ(blocks(LockMode::share_row_exclusive), Blocks::writes);
  EXPECT_EQ(blocks(LockMode::exclusive), Blocks::writes);
  EXPECT_EQ(blocks(LockMode::access_exclusive), Blocks::reads_and_writes);
  EXPECT_STREQ(to_string(Blocks::reads_and_writes), "reads and writes");
}

TEST(LockMode, Names) {
  EXPECT_STREQ(to_string(LockMode::share_update_exclusive), "SHARE UPDATE EXCLUSIVE");
  EXPECT_STREQ(lock_view_name(LockMode::access_exclusive), "AccessExclusiveLock");
  EXPECT_STREQ(lock_view_name(LockMode::row_share), "RowShareLock");
}

} // namespace
} // namespace colmig::core
