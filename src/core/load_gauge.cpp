#include "core/load_gauge.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace colmig::core {

namespace {

// Two significant digits: 1400, 96, 7.
long rounded_rate(double rate) {
  if (rate < 100)
    return std::lround(rate);
  const double unit = std::pow(10.0, std::floor(std::log10(rate)) - 1);
  return static_cast<long>(std::lround(rate / unit) * unit);
}

// Signals below this share of the level: the level is decaying.
constexpr double kEasingShare = 0.5;

} // namespace

void LoadGauge::record(const LoadSample &sample) {
  const double seconds = std::max(sample.seconds, 1e-3);
  const double sessions = std::max(0, sample.active_sessions);
  const double rate =
      static_cast<double>(std::max<std::int64_t>(0, sample.other_xids)) / seconds;
  // The averages start from quiet: one sample that caught a monitoring
  // query must not make the first batches gentle, while a real load, many
  // times the busy one, lifts them within a tenth of a second.
  const double weight = 1.0 - std::exp(-seconds / scale_.smoothing_seconds);
  sessions_ += weight * (sessions - sessions_);
  xid_rate_ += weight * (rate - xid_rate_);
  waited_on_ = std::max(0, sample.waiting_on_us);
  double now =
      std::max(sessions_ / scale_.busy_sessions, xid_rate_ / scale_.busy_xids_per_second);
  if (waited_on_ > 0)
    now = 1.0;
  const double decayed = level_ * std::exp2(-seconds / scale_.half_life_seconds);
  level_ = std::clamp(std::max(now, decayed), 0.0, 1.0);
  if (level_ < kQuietLevel)
    level_ = 0; // noise: a monitoring query now and then
  easing_ = now < level_ * kEasingShare;
}

std::string LoadGauge::reason() const {
  if (level_ < kQuietLevel)
    return {};
  char buffer[96];
  if (waited_on_ > 0) {
    std::snprintf(buffer, sizeof(buffer), "load: %d session%s waited on a batch",
                  waited_on_, waited_on_ == 1 ? "" : "s");
    return buffer;
  }
  if (easing_)
    return "load: quieter now, speeding up again";
  // Whole sessions, or a tenth while fewer than one is in a transaction on
  // average (a load that is only beginning).
  char sessions[16];
  if (sessions_ < 0.95)
    std::snprintf(sessions, sizeof(sessions), "%.1f sessions", sessions_);
  else if (std::lround(sessions_) == 1)
    std::snprintf(sessions, sizeof(sessions), "1 session");
  else
    std::snprintf(sessions, sizeof(sessions), "%ld sessions", std::lround(sessions_));
  std::snprintf(buffer, sizeof(buffer), "load: %s in a transaction, %ld writes/s",
                sessions, rounded_rate(xid_rate_));
  return buffer;
}

} // namespace colmig::core
