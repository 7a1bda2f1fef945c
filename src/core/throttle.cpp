#include "core/throttle.hpp"

#include <algorithm>
#include <cstdio>

namespace colmig::core {

namespace {

constexpr int kMinutesPerDay = 24 * 60;
// How long to hold back before looking at a lasting signal again.
constexpr double kRecheckSeconds = 1.0;
// A window that is far away is still re-checked now and then, so a change
// of setting or of the clock is noticed.
constexpr double kMaxWindowWaitSeconds = 60.0;

std::optional<int> parse_clock(std::string_view text) {
  int hours = 0, minutes = 0;
  char trailing = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d:%d%c", &hours, &minutes, &trailing) != 2)
    return std::nullopt;
  if (hours < 0 || hours > 24 || minutes < 0 || minutes > 59 || (hours == 24 && minutes))
    return std::nullopt;
  return hours * 60 + minutes;
}

std::string trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  auto last = text.find_last_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  return std::string(text.substr(first, last - first + 1));
}

std::string format_seconds(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1fs", seconds);
  return buffer;
}

} // namespace

bool RunWindow::contains(int minute_of_day) const {
  if (start_minute == end_minute)
    return true; // a full day
  if (start_minute < end_minute)
    return minute_of_day >= start_minute && minute_of_day < end_minute;
  return minute_of_day >= start_minute || minute_of_day < end_minute;
}

int RunWindow::minutes_until_open(int minute_of_day) const {
  if (contains(minute_of_day))
    return 0;
  return ((start_minute - minute_of_day) % kMinutesPerDay + kMinutesPerDay) %
         kMinutesPerDay;
}

std::optional<RunWindow> job_run_window(bool throttle, std::optional<int> start_minute,
                                        std::optional<int> end_minute,
                                        const std::optional<RunWindow> &global) {
  if (!throttle)
    return std::nullopt;
  if (start_minute && end_minute)
    return RunWindow{*start_minute, *end_minute};
  return global;
}

double seconds_until_open(const std::optional<RunWindow> &window, int minute_of_day,
                          double second) {
  if (!window || window->contains(minute_of_day))
    return 0;
  return std::max(0.0, window->minutes_until_open(minute_of_day) * 60.0 - second);
}

std::string outside_window_reason(const RunWindow &window) {
  return "outside run window " + format_run_window(window);
}

std::optional<std::optional<RunWindow>> parse_run_window(std::string_view text) {
  std::string trimmed = trim(text);
  std::optional<std::optional<RunWindow>> result;
  if (trimmed.empty()) {
    result.emplace(std::nullopt); // valid: no window
    return result;
  }
  auto dash = trimmed.find('-');
  if (dash == std::string::npos)
    return std::nullopt;
  auto start = parse_clock(trim(std::string_view(trimmed).substr(0, dash)));
  auto end = parse_clock(trim(std::string_view(trimmed).substr(dash + 1)));
  if (!start || !end)
    return std::nullopt;
  result.emplace(RunWindow{*start % kMinutesPerDay, *end % kMinutesPerDay});
  return result;
}

bool is_valid_run_window(std::string_view text) {
  return parse_run_window(text).has_value();
}

std::string format_run_window(const RunWindow &window) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%02d:%02d-%02d:%02d", window.start_minute / 60,
                window.start_minute % 60, window.end_minute / 60, window.end_minute % 60);
  return buffer;
}

std::string format_bytes(double bytes) {
  const char *units[] = {"B", "kB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  char buffer[32];
  if (bytes >= 10 || unit == 0)
    std::snprintf(buffer, sizeof(buffer), "%.0f%s", bytes, units[unit]);
  else
    std::snprintf(buffer, sizeof(buffer), "%.1f%s", bytes, units[unit]);
  return buffer;
}

ThrottleDecision decide_throttle(const HealthSignals &signals,
                                 const ThrottleLimits &limits) {
  // In order of how long the wait is likely to be: the window first.
  if (limits.window && !limits.window->contains(signals.minute_of_day)) {
    double until = limits.window->minutes_until_open(signals.minute_of_day) * 60.0;
    return {std::min(until, kMaxWindowWaitSeconds), outside_window_reason(*limits.window),
            true};
  }
  if (limits.max_lag_bytes > 0 && signals.replication_lag_bytes &&
      *signals.replication_lag_bytes > limits.max_lag_bytes)
    return {kRecheckSeconds,
            "replication lag " +
                format_bytes(static_cast<double>(*signals.replication_lag_bytes)) +
                " > " + format_bytes(static_cast<double>(limits.max_lag_bytes))};
  if (limits.max_lag_seconds > 0 && signals.replication_lag_seconds &&
      *signals.replication_lag_seconds > limits.max_lag_seconds)
    return {kRecheckSeconds, "replication lag " +
                                 format_seconds(*signals.replication_lag_seconds) +
                                 " > " + format_seconds(limits.max_lag_seconds)};
  if (limits.wait_for_autovacuum && signals.autovacuum_on_table)
    return {kRecheckSeconds, "autovacuum is running on the table"};
  if (limits.max_wal_bytes_per_second > 0 &&
      signals.job_wal_bytes_per_second > limits.max_wal_bytes_per_second &&
      signals.last_batch_seconds > 0) {
    // Stretch the last batch's WAL over the time the cap allows for it.
    const double bytes = signals.job_wal_bytes_per_second * signals.last_batch_seconds;
    const double wait =
        bytes / limits.max_wal_bytes_per_second - signals.last_batch_seconds;
    return {wait, "WAL rate " + format_bytes(signals.job_wal_bytes_per_second) + "/s > " +
                      format_bytes(limits.max_wal_bytes_per_second) + "/s"};
  }
  return {};
}

} // namespace colmig::core
