#include "core/retry_ladder.hpp"

#include <algorithm>
#include <cmath>

namespace colmig::core {

std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy &policy,
                                                     int failures, double jitter) {
  if (failures < 1 || failures >= policy.max_attempts)
    return std::nullopt;
  const double base = static_cast<double>(policy.base_delay.count());
  const double cap = static_cast<double>(policy.max_delay.count());
  // 2^30 already exceeds any sensible cap; bounding the exponent keeps the
  // arithmetic finite for large attempt counts.
  const double step = std::min(cap, base * std::ldexp(1.0, std::min(failures - 1, 30)));
  const double scaled = step * (0.5 + std::clamp(jitter, 0.0, 1.0));
  const double bounded = std::clamp(scaled, 1.0, std::max(cap, 1.0));
  return std::chrono::milliseconds(static_cast<long long>(bounded));
}

} // namespace colmig::core
