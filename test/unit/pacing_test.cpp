#include "core/pacing.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace colmig::core {
namespace {

constexpr double kMs = 0.001;

PacingRule rule(double slice_ms, double ratio) { return {slice_ms * kMs, ratio}; }

TEST(Pacing, NoRestBeforeTheSliceIsUsedUp) {
  EXPECT_EQ(rest_after(rule(1, 2), 0), 0);
  EXPECT_EQ(rest_after(rule(1, 2), 0.9 * kMs), 0);
}

TEST(Pacing, RestsRatioTimesTheWork) {
  EXPECT_DOUBLE_EQ(rest_after(rule(1, 2), 1 * kMs), 2 * kMs);
  EXPECT_DOUBLE_EQ(rest_after(rule(1, 1), 1.5 * kMs), 1.5 * kMs);
  EXPECT_DOUBLE_EQ(rest_after(rule(1, 0.5), 4 * kMs), 2 * kMs);
}

TEST(Pacing, RestsInsideABatchStayShortAtHighRatios) {
  // batch_pause_ratio 32 must not hold the batch's row locks 32 times as
  // long as it works: twice at most, the pause after the batch does the rest.
  EXPECT_DOUBLE_EQ(rest_after(rule(1, 32), 1 * kMs), 2 * kMs);
}

TEST(Pacing, RestAfterALongLockWaitIsCapped) {
  EXPECT_DOUBLE_EQ(rest_after(rule(1, 2), 500 * kMs), kLongestRestSeconds);
}

TEST(Pacing, NoSliceOrNoRatioNeverRests) {
  EXPECT_EQ(rest_after(rule(0, 2), 1.0), 0);
  EXPECT_EQ(rest_after(rule(1, 0), 1.0), 0);
  EXPECT_EQ(rest_after(rule(-1, 2), 1.0), 0);
}

TEST(Pacing, PauseAfterBatchMakesUpTheRatio) {
  // 10 ms of work at ratio 2 owes 20 ms; 18 ms were rested inside.
  EXPECT_DOUBLE_EQ(pause_after_batch(10 * kMs, 18 * kMs, 2, 0), 2 * kMs);
  // Ratio 32: 320 ms owed, 20 ms rested inside.
  EXPECT_DOUBLE_EQ(pause_after_batch(10 * kMs, 20 * kMs, 32, 0), 300 * kMs);
}

TEST(Pacing, PauseAfterBatchIsAtLeastTheLeastPause) {
  EXPECT_DOUBLE_EQ(pause_after_batch(10 * kMs, 20 * kMs, 2, 20 * kMs), 20 * kMs);
  // Unthrottled: no ratio, only colmig.batch_pause (which may be 0).
  EXPECT_DOUBLE_EQ(pause_after_batch(10 * kMs, 0, 0, 0), 0);
}

} // namespace
} // namespace colmig::core

namespace {

colmig::core::Pace quiet_pace() {
  colmig::core::Pace pace;
  pace.batch_target_seconds = 0.010;
  return pace;
}

colmig::core::Pace busy_pace() {
  colmig::core::Pace pace;
  pace.batch_target_seconds = 0.002;
  pace.rests = {0.001, 2.0};
  pace.least_pause_seconds = 0.004;
  return pace;
}

} // namespace

TEST(PaceAtLoad, QuietIsFullSpeedWithNoRests) {
  const auto pace = colmig::core::pace_at_load(0.0, quiet_pace(), busy_pace());
  EXPECT_DOUBLE_EQ(pace.batch_target_seconds, 0.010);
  EXPECT_EQ(pace.rests.slice_seconds, 0);
  EXPECT_EQ(pace.least_pause_seconds, 0);
  EXPECT_EQ(colmig::core::rest_after(pace.rests, 1.0), 0);
}

TEST(PaceAtLoad, BusyIsTheBusyPace) {
  const auto pace = colmig::core::pace_at_load(1.0, quiet_pace(), busy_pace());
  EXPECT_DOUBLE_EQ(pace.batch_target_seconds, 0.002);
  EXPECT_DOUBLE_EQ(pace.rests.slice_seconds, 0.001);
  EXPECT_DOUBLE_EQ(pace.rests.rest_ratio, 2.0);
  EXPECT_DOUBLE_EQ(pace.least_pause_seconds, 0.004);
}

TEST(PaceAtLoad, HalfwayShrinksTheBatchGeometricallyAndRestsInProportion) {
  const auto pace = colmig::core::pace_at_load(0.5, quiet_pace(), busy_pace());
  EXPECT_NEAR(pace.batch_target_seconds, std::sqrt(0.010 * 0.002), 1e-12);
  EXPECT_DOUBLE_EQ(pace.rests.slice_seconds, 0.001);
  EXPECT_DOUBLE_EQ(pace.rests.rest_ratio, 1.0);
  EXPECT_DOUBLE_EQ(pace.least_pause_seconds, 0.002);
}

TEST(PaceAtLoad, OutOfRangeLevelsAreClamped) {
  EXPECT_DOUBLE_EQ(
      colmig::core::pace_at_load(-3, quiet_pace(), busy_pace()).batch_target_seconds,
      0.010);
  EXPECT_DOUBLE_EQ(
      colmig::core::pace_at_load(7, quiet_pace(), busy_pace()).batch_target_seconds,
      0.002);
  // Not a number: the safe side.
  EXPECT_DOUBLE_EQ(colmig::core::pace_at_load(std::nan(""), quiet_pace(), busy_pace())
                       .batch_target_seconds,
                   0.002);
}

TEST(ContentionPause, AsLongAsTheBatchHeldItsRowsWithinBounds) {
  EXPECT_DOUBLE_EQ(colmig::core::contention_pause(0.012), 0.012);
  EXPECT_DOUBLE_EQ(colmig::core::contention_pause(0.0001),
                   colmig::core::kLeastContentionPause);
  EXPECT_DOUBLE_EQ(colmig::core::contention_pause(3.0),
                   colmig::core::kLongestContentionPause);
  EXPECT_DOUBLE_EQ(colmig::core::contention_pause(std::nan("")),
                   colmig::core::kLongestContentionPause);
}
