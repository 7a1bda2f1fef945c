// Whether the worker should hold back before its next batch, decided from
// health signals the worker reads (replication lag, the job's WAL rate,
// autovacuum on the table, the time of day). Pure: the worker measures,
// this decides, and the reason it gives is shown in colmig.progress.
#pragma once
#include "core/cpp_only.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace colmig::core {

// A daily window in minutes since midnight, [start, end); start > end
// wraps past midnight (22:00-02:00).
struct RunWindow {
  int start_minute = 0;
  int end_minute = 0;
  bool contains(int minute_of_day) const;
  // Minutes from `minute_of_day` until the window opens (0 when inside).
  int minutes_until_open(int minute_of_day) const;
};

// The window a job runs in: its own, else the database's
// (colmig.run_window); none for a job with throttle => false.
std::optional<RunWindow> job_run_window(bool throttle, std::optional<int> start_minute,
                                        std::optional<int> end_minute,
                                        const std::optional<RunWindow> &global);

// Seconds from now (`minute_of_day`, and `second` into that minute) until
// `window` opens; 0 inside it.
double seconds_until_open(const std::optional<RunWindow> &window, int minute_of_day,
                          double second);

// What colmig.progress says of a job waiting for `window`.
std::string outside_window_reason(const RunWindow &window);

// "HH:MM-HH:MM"; empty text is no window; nothing when malformed.
std::optional<std::optional<RunWindow>> parse_run_window(std::string_view text);
std::string format_run_window(const RunWindow &window);
bool is_valid_run_window(std::string_view text);

struct HealthSignals {
  int minute_of_day = 0;
  std::optional<std::int64_t> replication_lag_bytes; // worst standby
  std::optional<double> replication_lag_seconds;
  // WAL the job wrote per second in its last batch; the worker clears it
  // after holding back for it, so the pause is not repeated.
  double job_wal_bytes_per_second = 0;
  double last_batch_seconds = 0;
  bool autovacuum_on_table = false;
};

struct ThrottleLimits {
  std::optional<RunWindow> window;
  std::int64_t max_lag_bytes = 0;      // <= 0: off
  double max_lag_seconds = 0;          // <= 0: off
  double max_wal_bytes_per_second = 0; // <= 0: off
  bool wait_for_autovacuum = false;
};

struct ThrottleDecision {
  // Nothing: go on at once. Otherwise wait this long, then decide again.
  std::optional<double> wait_seconds;
  std::string reason; // e.g. "replication lag 80MB > 64MB"
  // The wait is for the run window, whose opening time is known: a job
  // need not keep a worker meanwhile.
  bool outside_window = false;
};

ThrottleDecision decide_throttle(const HealthSignals &signals,
                                 const ThrottleLimits &limits);

// 83886080 -> "80MB"
std::string format_bytes(double bytes);

} // namespace colmig::core
