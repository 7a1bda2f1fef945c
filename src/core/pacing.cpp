#include "core/pacing.hpp"

#include <algorithm>
#include <cmath>

namespace colmig::core {

double rest_after(const PacingRule &rule, double worked) {
  if (rule.slice_seconds <= 0 || rule.rest_ratio <= 0 || worked < rule.slice_seconds)
    return 0;
  return std::min(worked * std::min(rule.rest_ratio, kLargestRestRatio),
                  kLongestRestSeconds);
}

double pause_after_batch(double worked, double rested, double ratio, double least_pause) {
  return std::max(least_pause, worked * ratio - rested);
}

double contention_pause(double batch_seconds) {
  if (!std::isfinite(batch_seconds))
    return kLongestContentionPause;
  return std::clamp(batch_seconds, kLeastContentionPause, kLongestContentionPause);
}

Pace pace_at_load(double level, const Pace &quiet, const Pace &busy) {
  level = std::isfinite(level) ? std::clamp(level, 0.0, 1.0) : 1.0;
  if (level <= 0)
    return quiet;
  if (level >= 1)
    return busy;
  auto between = [level](double from, double to) { return from + level * (to - from); };
  Pace pace;
  pace.batch_target_seconds =
      quiet.batch_target_seconds > 0 && busy.batch_target_seconds > 0
          ? quiet.batch_target_seconds *
                std::pow(busy.batch_target_seconds / quiet.batch_target_seconds, level)
          : between(quiet.batch_target_seconds, busy.batch_target_seconds);
  pace.rests.slice_seconds =
      busy.rests.slice_seconds > 0 ? busy.rests.slice_seconds : quiet.rests.slice_seconds;
  pace.rests.rest_ratio = between(quiet.rests.rest_ratio, busy.rests.rest_ratio);
  pace.least_pause_seconds = between(quiet.least_pause_seconds, busy.least_pause_seconds);
  return pace;
}

} // namespace colmig::core
