#include "core/pacing.hpp"

#include <algorithm>

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

} // namespace colmig::core
