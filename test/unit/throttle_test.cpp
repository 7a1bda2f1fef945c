#include "core/throttle.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace colmig::core {
namespace {

constexpr int kDay = 24 * 60;
constexpr std::int64_t kMB = 1024 * 1024;

constexpr int hm(int hours, int minutes) { return hours * 60 + minutes; }

RunWindow window(int start, int end) {
  RunWindow w;
  w.start_minute = start;
  w.end_minute = end;
  return w;
}

// --- RunWindow ---------------------------------------------------------------------

TEST(RunWindow, ContainsIsHalfOpen) {
  const RunWindow w = window(hm(1, 0), hm(5, 0));
  EXPECT_FALSE(w.contains(0));
  EXPECT_FALSE(w.contains(hm(0, 59)));
  EXPECT_TRUE(w.contains(hm(1, 0)));
  EXPECT_TRUE(w.contains(hm(3, 30)));
  EXPECT_TRUE(w.contains(hm(4, 59)));
  EXPECT_FALSE(w.contains(hm(5, 0)));
  EXPECT_FALSE(w.contains(hm(23, 59)));
}

TEST(RunWindow, ContainsWrapsPastMidnight) {
  const RunWindow w = window(hm(22, 0), hm(2, 30));
  EXPECT_TRUE(w.contains(hm(22, 0)));
  EXPECT_TRUE(w.contains(hm(23, 59)));
  EXPECT_TRUE(w.contains(0));
  EXPECT_TRUE(w.contains(hm(2, 29)));
  EXPECT_FALSE(w.contains(hm(2, 30)));
  EXPECT_FALSE(w.contains(hm(12, 0)));
  EXPECT_FALSE(w.contains(hm(21, 59)));
}

TEST(RunWindow, EqualStartAndEndIsTheWholeDay) {
  for (int at : {0, hm(5, 0), hm(23, 59)}) {
    SCOPED_TRACE(at);
    const RunWindow w = window(at, at);
    for (int minute = 0; minute < kDay; ++minute) {
      EXPECT_TRUE(w.contains(minute)) << minute;
      EXPECT_EQ(w.minutes_until_open(minute), 0) << minute;
    }
  }
}

TEST(RunWindow, MinutesUntilOpen) {
  const RunWindow w = window(hm(1, 0), hm(5, 0));
  EXPECT_EQ(w.minutes_until_open(hm(0, 0)), 60);
  EXPECT_EQ(w.minutes_until_open(hm(0, 59)), 1);
  EXPECT_EQ(w.minutes_until_open(hm(1, 0)), 0);
  EXPECT_EQ(w.minutes_until_open(hm(4, 59)), 0);
  EXPECT_EQ(w.minutes_until_open(hm(5, 0)), hm(20, 0)); // until 01:00 tomorrow
  EXPECT_EQ(w.minutes_until_open(hm(23, 59)), 61);
}

TEST(RunWindow, MinutesUntilOpenOfAWrappingWindow) {
  const RunWindow w = window(hm(22, 0), hm(2, 0));
  EXPECT_EQ(w.minutes_until_open(hm(2, 0)), hm(20, 0));
  EXPECT_EQ(w.minutes_until_open(hm(12, 0)), hm(10, 0));
  EXPECT_EQ(w.minutes_until_open(hm(21, 59)), 1);
  EXPECT_EQ(w.minutes_until_open(hm(22, 0)), 0);
  EXPECT_EQ(w.minutes_until_open(hm(23, 0)), 0);
  EXPECT_EQ(w.minutes_until_open(hm(1, 59)), 0);
}

TEST(RunWindow, MinutesUntilOpenIsZeroExactlyInsideAndLessThanADay) {
  for (const RunWindow &w : {window(hm(1, 0), hm(5, 0)), window(hm(22, 0), hm(2, 0)),
                             window(0, 1), window(hm(23, 59), 0)}) {
    for (int minute = 0; minute < kDay; ++minute) {
      const int until = w.minutes_until_open(minute);
      EXPECT_GE(until, 0);
      EXPECT_LT(until, kDay);
      EXPECT_EQ(until == 0, w.contains(minute)) << minute;
      // Waiting that long lands inside the window.
      EXPECT_TRUE(w.contains((minute + until) % kDay)) << minute;
    }
  }
}

// --- parse_run_window / format_run_window ----------------------------------------

TEST(ParseRunWindow, AcceptsWellFormedWindows) {
  struct Case {
    const char *text;
    int start;
    int end;
  };
  for (const Case &c :
       {Case{"01:00-05:00", hm(1, 0), hm(5, 0)},
        Case{" 22:00 - 02:30 ", hm(22, 0), hm(2, 30)},
        Case{"\t22:00-02:30\t", hm(22, 0), hm(2, 30)}, Case{"00:00-00:00", 0, 0},
        Case{"23:59-00:01", hm(23, 59), 1}, Case{"1:05-2:07", hm(1, 5), hm(2, 7)},
        // 24:00 is midnight, at the end of a day or its start.
        Case{"22:00-24:00", hm(22, 0), 0}, Case{"24:00-02:00", 0, hm(2, 0)},
        Case{"00:00-24:00", 0, 0}}) {
    SCOPED_TRACE(c.text);
    const auto parsed = parse_run_window(c.text);
    ASSERT_TRUE(parsed.has_value());
    ASSERT_TRUE(parsed->has_value());
    EXPECT_EQ((*parsed)->start_minute, c.start);
    EXPECT_EQ((*parsed)->end_minute, c.end);
  }
}

TEST(ParseRunWindow, EmptyTextIsNoWindow) {
  for (const char *text : {"", " ", "  \t "}) {
    SCOPED_TRACE(text);
    const auto parsed = parse_run_window(text);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_FALSE(parsed->has_value());
  }
}

TEST(ParseRunWindow, TwentyFourHundredIsMidnight) {
  const auto parsed = parse_run_window("22:00-24:00");
  ASSERT_TRUE(parsed && *parsed);
  const RunWindow w = **parsed;
  EXPECT_TRUE(w.contains(hm(23, 59)));
  EXPECT_FALSE(w.contains(0));
  EXPECT_FALSE(w.contains(hm(21, 59)));
}

TEST(ParseRunWindow, RejectsMalformedText) {
  for (const char *text : {"1-2",           "25:00-01:00",
                           "01:60-02:00",   "01:00-02:00x",
                           "abc",           "24:01-02:00",
                           "01:00-24:30",   "01:00",
                           "24:00",         "-",
                           "01:00-",        "-02:00",
                           "01:00--02:00",  "01:00-02:00-03:00",
                           "-1:00-02:00",   "01:-5-02:00",
                           "01:00 02:00",   "01.00-02.00",
                           "01:00-02:00 x", "x01:00-02:00"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parse_run_window(text).has_value());
  }
}

TEST(FormatRunWindow, ZeroPadded) {
  EXPECT_EQ(format_run_window(window(hm(1, 0), hm(5, 0))), "01:00-05:00");
  EXPECT_EQ(format_run_window(window(hm(22, 0), hm(2, 30))), "22:00-02:30");
  EXPECT_EQ(format_run_window(window(0, 0)), "00:00-00:00");
  EXPECT_EQ(format_run_window(window(hm(23, 59), 1)), "23:59-00:01");
}

TEST(FormatRunWindow, RoundTripsThroughParse) {
  for (const char *text : {"01:00-05:00", "22:00-02:30", "00:00-00:00", "23:59-00:01",
                           "12:34-12:35", "09:05-17:45"}) {
    SCOPED_TRACE(text);
    const auto parsed = parse_run_window(text);
    ASSERT_TRUE(parsed && *parsed);
    EXPECT_EQ(format_run_window(**parsed), text);
  }
  // Every window there is, through text and back.
  for (int start = 0; start < kDay; start += 7) {
    for (int end = 0; end < kDay; end += 11) {
      const RunWindow w = window(start, end);
      const auto parsed = parse_run_window(format_run_window(w));
      ASSERT_TRUE(parsed && *parsed) << format_run_window(w);
      EXPECT_EQ((*parsed)->start_minute, start);
      EXPECT_EQ((*parsed)->end_minute, end);
    }
  }
  // Non-canonical text comes back canonical.
  const auto loose = parse_run_window(" 22:00 - 2:30 ");
  ASSERT_TRUE(loose && *loose);
  EXPECT_EQ(format_run_window(**loose), "22:00-02:30");
  const auto midnight = parse_run_window("22:00-24:00");
  ASSERT_TRUE(midnight && *midnight);
  EXPECT_EQ(format_run_window(**midnight), "22:00-00:00");
}

// --- format_bytes --------------------------------------------------------------------

TEST(FormatBytes, Examples) {
  EXPECT_EQ(format_bytes(0), "0B");
  EXPECT_EQ(format_bytes(1), "1B");
  EXPECT_EQ(format_bytes(1023), "1023B");
  EXPECT_EQ(format_bytes(1024), "1.0kB");
  EXPECT_EQ(format_bytes(1536), "1.5kB");
  EXPECT_EQ(format_bytes(10 * 1024), "10kB");
  EXPECT_EQ(format_bytes(100 * 1024), "100kB");
  EXPECT_EQ(format_bytes(static_cast<double>(kMB)), "1.0MB");
  EXPECT_EQ(format_bytes(16.0 * kMB), "16MB");
  EXPECT_EQ(format_bytes(64.0 * kMB), "64MB");
  EXPECT_EQ(format_bytes(83886080), "80MB");
  EXPECT_EQ(format_bytes(2.5 * 1024 * kMB), "2.5GB");
  EXPECT_EQ(format_bytes(3.0 * 1024 * 1024 * kMB), "3.0TB");
  // Terabytes are the largest unit.
  EXPECT_EQ(format_bytes(2048.0 * 1024 * 1024 * kMB), "2048TB");
}

// --- decide_throttle -------------------------------------------------------------------

HealthSignals healthy(int minute_of_day = hm(3, 0)) {
  HealthSignals s;
  s.minute_of_day = minute_of_day;
  s.replication_lag_bytes = 1 * kMB;
  s.replication_lag_seconds = 0.5;
  s.job_wal_bytes_per_second = 4.0 * kMB;
  s.last_batch_seconds = 0.1;
  s.autovacuum_on_table = false;
  return s;
}

ThrottleLimits all_limits() {
  ThrottleLimits l;
  l.window = window(hm(1, 0), hm(5, 0));
  l.max_lag_bytes = 64 * kMB;
  l.max_lag_seconds = 10.0;
  l.max_wal_bytes_per_second = 16.0 * kMB;
  l.wait_for_autovacuum = true;
  return l;
}

void expect_go(const ThrottleDecision &d) {
  EXPECT_FALSE(d.wait_seconds.has_value())
      << "waits " << *d.wait_seconds << ": " << d.reason;
  EXPECT_EQ(d.reason, "");
}

TEST(DecideThrottle, NothingWhenAllIsWell) {
  expect_go(decide_throttle(healthy(), all_limits()));
  expect_go(decide_throttle(HealthSignals{}, ThrottleLimits{}));
  // Unknown lag (no standby) is no reason to wait.
  HealthSignals s = healthy();
  s.replication_lag_bytes.reset();
  s.replication_lag_seconds.reset();
  expect_go(decide_throttle(s, all_limits()));
}

TEST(DecideThrottle, NothingWhenLimitsAreOff) {
  HealthSignals s;
  s.minute_of_day = hm(12, 0);
  s.replication_lag_bytes = 100000 * kMB;
  s.replication_lag_seconds = 3600.0;
  s.job_wal_bytes_per_second = 1e12;
  s.last_batch_seconds = 1.0;
  s.autovacuum_on_table = true;
  for (double off : {0.0, -1.0}) {
    SCOPED_TRACE(off);
    ThrottleLimits l;
    l.window.reset();
    l.max_lag_bytes = static_cast<std::int64_t>(off);
    l.max_lag_seconds = off;
    l.max_wal_bytes_per_second = off;
    l.wait_for_autovacuum = false;
    expect_go(decide_throttle(s, l));
  }
}

TEST(DecideThrottle, AtTheLimitIsNotOverIt) {
  HealthSignals s = healthy();
  s.replication_lag_bytes = 64 * kMB;
  s.replication_lag_seconds = 10.0;
  s.job_wal_bytes_per_second = 16.0 * kMB;
  expect_go(decide_throttle(s, all_limits()));
}

TEST(DecideThrottle, OutsideTheWindowWaitsUntilItOpensAtMostAMinute) {
  ThrottleLimits l;
  l.window = window(hm(1, 0), hm(5, 0));
  ThrottleDecision d = decide_throttle(healthy(hm(12, 0)), l);
  ASSERT_TRUE(d.wait_seconds.has_value());
  EXPECT_DOUBLE_EQ(*d.wait_seconds, 60.0); // 13 hours away, capped
  EXPECT_EQ(d.reason, "outside run window 01:00-05:00");

  d = decide_throttle(healthy(hm(0, 59)), l); // opens in a minute
  ASSERT_TRUE(d.wait_seconds.has_value());
  EXPECT_DOUBLE_EQ(*d.wait_seconds, 60.0);

  d = decide_throttle(healthy(hm(5, 0)), l); // just closed
  ASSERT_TRUE(d.wait_seconds.has_value());
  EXPECT_DOUBLE_EQ(*d.wait_seconds, 60.0);
  EXPECT_EQ(d.reason, "outside run window 01:00-05:00");

  expect_go(decide_throttle(healthy(hm(1, 0)), l));
  expect_go(decide_throttle(healthy(hm(4, 59)), l));
}

TEST(DecideThrottle, AWindowWaitSaysItIsOne) {
  ThrottleLimits l;
  l.window = window(hm(1, 0), hm(5, 0));
  EXPECT_TRUE(decide_throttle(healthy(hm(12, 0)), l).outside_window);
  l.window.reset();
  l.max_lag_bytes = 64 * kMB;
  HealthSignals lagging = healthy(hm(12, 0));
  lagging.replication_lag_bytes = 80 * kMB;
  const ThrottleDecision d = decide_throttle(lagging, l);
  ASSERT_TRUE(d.wait_seconds.has_value());
  EXPECT_FALSE(d.outside_window);
}

TEST(JobRunWindow, TheJobsOwnElseTheGlobalOneAndNoneUnthrottled) {
  const std::optional<RunWindow> global = window(hm(22, 0), hm(2, 0));
  const auto own = job_run_window(true, hm(1, 0), hm(5, 0), global);
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->start_minute, hm(1, 0));
  EXPECT_EQ(own->end_minute, hm(5, 0));
  const auto inherited = job_run_window(true, std::nullopt, std::nullopt, global);
  ASSERT_TRUE(inherited.has_value());
  EXPECT_EQ(inherited->start_minute, hm(22, 0));
  EXPECT_FALSE(
      job_run_window(true, std::nullopt, std::nullopt, std::nullopt).has_value());
  EXPECT_FALSE(job_run_window(false, hm(1, 0), hm(5, 0), global).has_value());
}

TEST(SecondsUntilOpen, CountsTheSecondsIntoTheCurrentMinute) {
  const std::optional<RunWindow> w = window(hm(1, 0), hm(5, 0));
  EXPECT_DOUBLE_EQ(seconds_until_open(w, hm(0, 59), 30.0), 30.0);
  EXPECT_DOUBLE_EQ(seconds_until_open(w, hm(0, 0), 0.0), 3600.0);
  EXPECT_DOUBLE_EQ(seconds_until_open(w, hm(2, 0), 59.9), 0.0); // inside
  EXPECT_DOUBLE_EQ(seconds_until_open(std::nullopt, hm(12, 0), 0.0), 0.0);
  EXPECT_EQ(outside_window_reason(*w), "outside run window 01:00-05:00");
}

TEST(DecideThrottle, WindowWaitIsNeverMoreThanAMinuteAllDayLong) {
  ThrottleLimits l;
  l.window = window(hm(22, 0), hm(2, 30));
  for (int minute = 0; minute < kDay; ++minute) {
    const ThrottleDecision d = decide_throttle(healthy(minute), l);
    if (l.window->contains(minute)) {
      expect_go(d);
    } else {
      ASSERT_TRUE(d.wait_seconds.has_value()) << minute;
      EXPECT_GT(*d.wait_seconds, 0.0) << minute;
      EXPECT_LE(*d.wait_seconds, 60.0) << minute;
      EXPECT_EQ(d.reason, "outside run window 22:00-02:30") << minute;
    }
  }
}

TEST(DecideThrottle, WholeDayWindowNeverWaits) {
  ThrottleLimits l;
  l.window = window(hm(6, 0), hm(6, 0));
  for (int minute = 0; minute < kDay; minute += 13)
    expect_go(decide_throttle(healthy(minute), l));
}

TEST(DecideThrottle, ReplicationLagInBytes) {
  HealthSignals s = healthy();
  s.replication_lag_bytes = 80 * kMB;
  const ThrottleDecision d = decide_throttle(s, all_limits());
  ASSERT_TRUE(d.wait_seconds.has_value());
  EXPECT_DOUBLE_EQ(*d.wait_seconds, 1.0);
  EXPECT_EQ(d.reason, "replication lag 80MB > 64MB");
}

TEST(DecideThrottle, ReplicationLagInSeconds) {
  HealthSignals s = healthy();
  s.replication_lag_seconds = 12.5;
  const ThrottleDecision d = decide_throttle(s, all_limits());
  ASSERT_TRUE(d.wait_seconds.has_value());
  EXPECT_DOUBLE_EQ(*d.wait_seconds, 1.0);
  EXPECT_EQ(d.reason, "replication lag 12.5s > 10.0s");
}

TEST(DecideThrottle, AutovacuumOnlyWhenAskedTo) {
  HealthSignals s = healthy();
  s.autovacuum_on_table = true;
  ThrottleLimits l = all_limits();
  const ThrottleDecision d = decide_throttle(s, l);
  ASSERT_TRUE(d.wait_seconds.has_value());
  EXPECT_DOUBLE_EQ(*d.wait_seconds, 1.0);
  EXPECT_EQ(d.reason, "autovacuum is running on the table");

  l.wait_for_autovacuum = false;
  expect_go(decide_throttle(s, l));
}

TEST(DecideThrottle, WalPacingStretchesTheLastBatchToTheCap) {
  HealthSignals s = healthy();
  s.job_wal_bytes_per_second = 32.0 * kMB;
  s.last_batch_seconds = 0.5;                            // 16MB written in 0.5s
  ThrottleDecision d = decide_throttle(s, all_limits()); // cap 16MB/s
  ASSERT_TRUE(d.wait_seconds.has_value());
  EXPECT_NEAR(*d.wait_seconds, 0.5, 1e-12); // 16MB take 1s at the cap
  EXPECT_EQ(d.reason, "WAL rate 32MB/s > 16MB/s");

  s.job_wal_bytes_per_second = 64.0 * kMB;
  s.last_batch_seconds = 0.25; // 16MB again
  d = decide_throttle(s, all_limits());
  ASSERT_TRUE(d.wait_seconds.has_value());
  EXPECT_NEAR(*d.wait_seconds, 0.75, 1e-12);
  EXPECT_EQ(d.reason, "WAL rate 64MB/s > 16MB/s");
}

TEST(DecideThrottle, WalPacingNeedsAMeasuredBatch) {
  HealthSignals s = healthy();
  s.job_wal_bytes_per_second = 32.0 * kMB;
  s.last_batch_seconds = 0;
  expect_go(decide_throttle(s, all_limits()));
  // Cleared by the worker after holding back once.
  s.job_wal_bytes_per_second = 0;
  s.last_batch_seconds = 0.5;
  expect_go(decide_throttle(s, all_limits()));
}

TEST(DecideThrottle, PriorityWindowThenLagThenAutovacuumThenWal) {
  HealthSignals s = healthy(hm(12, 0)); // outside 01:00-05:00
  s.replication_lag_bytes = 80 * kMB;
  s.replication_lag_seconds = 30.0;
  s.autovacuum_on_table = true;
  s.job_wal_bytes_per_second = 32.0 * kMB;
  s.last_batch_seconds = 0.5;
  const ThrottleLimits l = all_limits();

  EXPECT_EQ(decide_throttle(s, l).reason, "outside run window 01:00-05:00");
  s.minute_of_day = hm(3, 0);
  EXPECT_EQ(decide_throttle(s, l).reason, "replication lag 80MB > 64MB");
  s.replication_lag_bytes = 1 * kMB;
  EXPECT_EQ(decide_throttle(s, l).reason, "replication lag 30.0s > 10.0s");
  s.replication_lag_seconds = 0.5;
  EXPECT_EQ(decide_throttle(s, l).reason, "autovacuum is running on the table");
  s.autovacuum_on_table = false;
  EXPECT_EQ(decide_throttle(s, l).reason, "WAL rate 32MB/s > 16MB/s");
  s.job_wal_bytes_per_second = 1.0 * kMB;
  expect_go(decide_throttle(s, l));
}

TEST(DecideThrottle, AWaitIsAlwaysPositiveAndFinite) {
  const ThrottleLimits l = all_limits();
  for (int minute = 0; minute < kDay; minute += 17) {
    for (double wal : {0.0, 8.0 * kMB, 16.5 * kMB, 1e12}) {
      for (double last : {0.0, 1e-6, 0.1, 30.0}) {
        for (bool vacuum : {false, true}) {
          HealthSignals s = healthy(minute);
          s.job_wal_bytes_per_second = wal;
          s.last_batch_seconds = last;
          s.autovacuum_on_table = vacuum;
          const ThrottleDecision d = decide_throttle(s, l);
          if (d.wait_seconds) {
            EXPECT_TRUE(std::isfinite(*d.wait_seconds));
            EXPECT_GT(*d.wait_seconds, 0.0);
            EXPECT_FALSE(d.reason.empty());
          } else {
            EXPECT_TRUE(d.reason.empty());
          }
        }
      }
    }
  }
}

} // namespace
} // namespace colmig::core
