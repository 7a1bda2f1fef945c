#include "core/retry_ladder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <optional>

namespace colmig::core {
namespace {

using std::chrono::milliseconds;

constexpr double kMidJitter = 0.5;      // scale factor exactly 1
constexpr double kMinJitter = 0.0;      // scale factor 0.5
constexpr double kMaxJitter = 0.999999; // scale factor just below 1.5

RetryPolicy policy(int max_attempts, long long base_ms, long long max_ms) {
  RetryPolicy p;
  p.max_attempts = max_attempts;
  p.base_delay = milliseconds(base_ms);
  p.max_delay = milliseconds(max_ms);
  return p;
}

// The delay in milliseconds, so that failures print readable values.
std::optional<long long> delay_ms(const RetryPolicy &p, int failures, double jitter) {
  auto delay = retry_delay(p, failures, jitter);
  if (!delay)
    return std::nullopt;
  return delay->count();
}

// A cap that the tests below never reach.
constexpr long long kNoCap = 1LL << 50;

TEST(RetryDelay, NothingBeforeTheFirstFailure) {
  const RetryPolicy p;
  for (int failures : {0, -1, -100, INT_MIN})
    EXPECT_FALSE(retry_delay(p, failures, kMidJitter).has_value()) << failures;
}

TEST(RetryDelay, NothingOnceTheAttemptsAreUsedUp) {
  const RetryPolicy p = policy(5, 50, 5000);
  for (int failures = 1; failures < 5; ++failures)
    EXPECT_TRUE(retry_delay(p, failures, kMidJitter).has_value()) << failures;
  for (int failures : {5, 6, 1000, INT_MAX})
    EXPECT_FALSE(retry_delay(p, failures, kMidJitter).has_value()) << failures;
}

TEST(RetryDelay, SingleAttemptNeverWaits) {
  EXPECT_FALSE(retry_delay(policy(1, 50, 5000), 1, kMidJitter).has_value());
}

TEST(RetryDelay, DefaultPolicyAllowsFiftyAttempts) {
  const RetryPolicy p;
  EXPECT_TRUE(retry_delay(p, 49, kMidJitter).has_value());
  EXPECT_FALSE(retry_delay(p, 50, kMidJitter).has_value());
}

TEST(RetryDelay, DoublesWithEachFailureAtMidJitter) {
  const RetryPolicy p = policy(100, 10, kNoCap);
  long long expected = 10;
  for (int failures = 1; failures <= 30; ++failures, expected *= 2) {
    EXPECT_EQ(delay_ms(p, failures, kMidJitter), expected) << failures;
  }
}

TEST(RetryDelay, DefaultPolicyLadder) {
  const RetryPolicy p; // 50 ms doubling up to 5 s
  const long long expected[] = {50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  for (int failures = 1; failures <= 10; ++failures)
    EXPECT_EQ(delay_ms(p, failures, kMidJitter), expected[failures - 1]) << failures;
}

TEST(RetryDelay, JitterStaysWithinHalfToOneAndAHalfTimesTheStep) {
  const RetryPolicy p = policy(100, 100, kNoCap);
  for (int failures = 1; failures <= 12; ++failures) {
    const long long step = 100LL << (failures - 1);
    for (double jitter : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999}) {
      SCOPED_TRACE(testing::Message() << "failures=" << failures << " jitter=" << jitter);
      auto delay = delay_ms(p, failures, jitter);
      ASSERT_TRUE(delay.has_value());
      EXPECT_GE(*delay * 2, step);     // >= 0.5 x
      EXPECT_LT(*delay * 2, step * 3); // < 1.5 x
    }
    EXPECT_EQ(delay_ms(p, failures, kMinJitter), step / 2) << failures;
    EXPECT_GT(delay_ms(p, failures, kMaxJitter), step) << failures;
  }
}

TEST(RetryDelay, JitterScalesLinearly) {
  const RetryPolicy p = policy(100, 1000, kNoCap);
  EXPECT_EQ(delay_ms(p, 1, 0.0), 500);
  EXPECT_EQ(delay_ms(p, 1, 0.25), 750);
  EXPECT_EQ(delay_ms(p, 1, 0.5), 1000);
  EXPECT_EQ(delay_ms(p, 1, 0.75), 1250);
  EXPECT_EQ(delay_ms(p, 3, 0.25), 3000);
}

TEST(RetryDelay, GrowsMonotonicallyWithJitter) {
  const RetryPolicy p = policy(100, 37, kNoCap);
  for (int failures = 1; failures <= 10; ++failures) {
    long long previous = 0;
    for (int i = 0; i < 100; ++i) {
      auto delay = delay_ms(p, failures, i / 100.0);
      ASSERT_TRUE(delay.has_value());
      EXPECT_GE(*delay, previous) << "failures=" << failures << " jitter=" << i / 100.0;
      previous = *delay;
    }
  }
}

TEST(RetryDelay, JitterOutsideTheUnitIntervalIsClamped) {
  const RetryPolicy p = policy(100, 1000, kNoCap);
  EXPECT_EQ(delay_ms(p, 2, -3.0), delay_ms(p, 2, 0.0));
  EXPECT_EQ(delay_ms(p, 2, 7.0), 3000);
}

TEST(RetryDelay, NeverExceedsMaxDelay) {
  const RetryPolicy p; // 50 ms .. 5 s
  for (int failures = 1; failures < p.max_attempts; ++failures) {
    for (double jitter : {0.0, 0.5, 0.75, 0.999999, 1.0}) {
      auto delay = delay_ms(p, failures, jitter);
      ASSERT_TRUE(delay.has_value());
      EXPECT_LE(*delay, p.max_delay.count())
          << "failures=" << failures << " jitter=" << jitter;
    }
  }
}

TEST(RetryDelay, CappedStepStillJittersDownwards) {
  const RetryPolicy p = policy(100, 50, 5000);
  // Well past the cap: the step is max_delay, jitter below the middle shortens it.
  EXPECT_EQ(delay_ms(p, 20, kMidJitter), 5000);
  EXPECT_EQ(delay_ms(p, 20, kMinJitter), 2500);
  EXPECT_EQ(delay_ms(p, 20, 0.25), 3750);
  EXPECT_EQ(delay_ms(p, 20, kMaxJitter), 5000);
}

TEST(RetryDelay, BaseAboveMaxIsCapped) {
  const RetryPolicy p = policy(10, 10000, 300);
  EXPECT_EQ(delay_ms(p, 1, kMidJitter), 300);
  EXPECT_EQ(delay_ms(p, 1, kMinJitter), 150);
}

TEST(RetryDelay, NeverBelowOneMillisecond) {
  for (double jitter : {0.0, 0.5, 0.999999}) {
    SCOPED_TRACE(jitter);
    EXPECT_EQ(delay_ms(policy(10, 0, 5000), 1, jitter), 1);
    EXPECT_EQ(delay_ms(policy(10, 0, 5000), 9, jitter), 1);
    EXPECT_EQ(delay_ms(policy(10, 5, 0), 3, jitter), 1);
  }
  // 1 ms at jitter 0 would be 0.5 ms.
  EXPECT_EQ(delay_ms(policy(10, 1, 5000), 1, kMinJitter), 1);
}

TEST(RetryDelay, HugeFailureCountsDoNotOverflow) {
  const RetryPolicy p = policy(INT_MAX, 50, 5000);
  for (int failures : {31, 32, 63, 64, 65, 1000, 1024, 5000, 1 << 20, INT_MAX - 1}) {
    SCOPED_TRACE(failures);
    EXPECT_EQ(delay_ms(p, failures, kMidJitter), 5000);
    EXPECT_EQ(delay_ms(p, failures, kMinJitter), 2500);
  }
  EXPECT_FALSE(retry_delay(p, INT_MAX, kMidJitter).has_value());
}

TEST(RetryDelay, LongLaddersWithAHighCapStayFiniteAndMonotonic) {
  // Longest settings the GUCs allow: base 60 s, cap 1 h.
  const RetryPolicy gucs = policy(100000, 60 * 1000, 3600 * 1000);
  // And a cap far beyond any exponent the ladder uses.
  const RetryPolicy uncapped = policy(100000, 1, 1LL << 52);
  for (const RetryPolicy &p : {gucs, uncapped}) {
    long long previous = 0;
    for (int failures = 1; failures < 3000; ++failures) {
      auto delay = delay_ms(p, failures, kMidJitter);
      ASSERT_TRUE(delay.has_value()) << failures;
      EXPECT_GE(*delay, 1) << failures;
      EXPECT_LE(*delay, p.max_delay.count()) << failures;
      EXPECT_GE(*delay, previous) << failures;
      previous = *delay;
    }
  }
}

} // namespace
} // namespace colmig::core
