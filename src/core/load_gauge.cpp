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
  if (!sampled_) {
    sessions_ = sessions;
    xid_rate_ = rate;
    sampled_ = true;
  } else {
    const double weight = 1.0 - std::exp(-seconds / scale_.smoothing_seconds);
    sessions_ += weight * (sessions - sessions_);
    xid_rate_ += weight * (rate - xid_rate_);
  }
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
    std::snprintf(buffer, sizeof(buffer), "load: %d session%s waited on a batch's rows",
                  waited_on_, waited_on_ == 1 ? "" : "s");
    return buffer;
  }
  if (easing_)
    return "load: quieter now, speeding up again";
  const long sessions = std::lround(sessions_);
  std::snprintf(buffer, sizeof(buffer),
                "load: %ld session%s in a transaction, %ld writes/s", sessions,
                sessions == 1 ? "" : "s", rounded_rate(xid_rate_));
  return buffer;
}

} // namespace colmig::core
