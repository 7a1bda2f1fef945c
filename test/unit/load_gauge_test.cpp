#include "core/load_gauge.hpp"

#include <gtest/gtest.h>

#include <random>

using colmig::core::LoadGauge;
using colmig::core::LoadSample;

namespace {

// A worker sampling every `step` seconds for `seconds`, with `sessions`
// active and `writes_per_second` others' transactions.
void run(LoadGauge &gauge, double seconds, int sessions, double writes_per_second,
         double step = 0.01) {
  double owed = 0; // writes not yet whole
  for (double t = 0; t < seconds; t += step) {
    owed += writes_per_second * step;
    const auto writes = static_cast<std::int64_t>(owed);
    owed -= static_cast<double>(writes);
    gauge.record({step, sessions, writes, 0});
  }
}

} // namespace

TEST(LoadGauge, QuietDatabaseStaysAtZeroAndSaysNothing) {
  LoadGauge gauge;
  run(gauge, 5, 0, 0);
  EXPECT_EQ(gauge.level(), 0);
  EXPECT_EQ(gauge.reason(), "");
}

TEST(LoadGauge, TpcbLikeLoadIsBusy) {
  LoadGauge gauge;
  // 1400 writes/s, three sessions in a transaction at a time.
  for (int i = 0; i < 300; ++i)
    gauge.record({0.01, 3, 14, 0});
  EXPECT_DOUBLE_EQ(gauge.level(), 1.0);
  EXPECT_EQ(gauge.reason(), "load: 3 sessions in a transaction, 1400 writes/s");
}

TEST(LoadGauge, RampingLoadRaisesTheLevelSmoothly) {
  LoadGauge gauge;
  double last = 0;
  for (int rate = 40; rate <= 200; rate += 20) {
    run(gauge, 1, 0, rate);
    EXPECT_GE(gauge.level(), last);
    EXPECT_NEAR(gauge.level(), rate / 200.0, 0.05) << "at " << rate << " writes/s";
    last = gauge.level();
  }
}

TEST(LoadGauge, AnApplicationThatStartsIsSeenWithinAFewBatches) {
  LoadGauge gauge;
  run(gauge, 2, 0, 0);
  // Ten 10 ms batches into a 1400 writes/s load.
  run(gauge, 0.1, 3, 1400);
  EXPECT_GT(gauge.level(), 0.5);
}

TEST(LoadGauge, SessionsWaitingOnABatchMakeItBusyAtOnce) {
  LoadGauge gauge;
  run(gauge, 2, 0, 0);
  gauge.record({0.01, 0, 0, 2});
  EXPECT_DOUBLE_EQ(gauge.level(), 1.0);
  EXPECT_EQ(gauge.reason(), "load: 2 sessions waited on a batch");
}

TEST(LoadGauge, ABurstKeepsTheJobGentleForAWhileThenLetsGo) {
  LoadGauge gauge;
  run(gauge, 1, 4, 2000);
  ASSERT_DOUBLE_EQ(gauge.level(), 1.0);
  // Quiet again: the averaged signals fall, then the level halves every
  // second.
  run(gauge, 2, 0, 0);
  EXPECT_GT(gauge.level(), 0.4);
  EXPECT_LT(gauge.level(), 1.0);
  EXPECT_EQ(gauge.reason(), "load: quieter now, speeding up again");
  run(gauge, 2, 0, 0);
  EXPECT_LT(gauge.level(), 0.2);
  run(gauge, 6, 0, 0);
  EXPECT_LT(gauge.level(), colmig::core::kQuietLevel);
  EXPECT_EQ(gauge.reason(), "");
}

TEST(LoadGauge, OneSessionCaughtInOneSampleBarelyMovesIt) {
  LoadGauge gauge;
  run(gauge, 2, 0, 0);
  gauge.record({0.01, 1, 0, 0});
  EXPECT_LT(gauge.level(), 0.1);
  // Nor in the very first sample, a monitoring query at the job's start.
  LoadGauge fresh;
  fresh.record({0.01, 1, 0, 0});
  EXPECT_EQ(fresh.level(), 0);
}

TEST(LoadGauge, NoisySignalsAroundHalfTheBusyLoadStayNearHalf) {
  LoadGauge gauge;
  std::mt19937 random(12);
  std::poisson_distribution<int> writes(1.0); // 100 writes/s at 10 ms samples
  std::binomial_distribution<int> sessions(4, 0.25);
  double lowest = 1, highest = 0;
  for (int i = 0; i < 2000; ++i) {
    gauge.record({0.01, sessions(random), writes(random), 0});
    if (i > 500) {
      lowest = std::min(lowest, gauge.level());
      highest = std::max(highest, gauge.level());
    }
  }
  EXPECT_GT(lowest, 0.3) << highest;
  EXPECT_LT(highest, 0.9) << lowest;
}

TEST(LoadGauge, ABeginningLoadShowsTenthsOfASession) {
  LoadGauge gauge;
  run(gauge, 0.05, 1, 400);
  EXPECT_GT(gauge.level(), colmig::core::kQuietLevel);
  EXPECT_EQ(gauge.reason(), "load: 0.1 sessions in a transaction, 38 writes/s");
}

TEST(LoadGauge, NonsenseSamplesDoNotBreakIt) {
  LoadGauge gauge;
  gauge.record({0, -3, -100, -1});
  EXPECT_EQ(gauge.level(), 0);
  gauge.record({-1, 0, 1000000, 0});
  EXPECT_DOUBLE_EQ(gauge.level(), 1.0);
}
