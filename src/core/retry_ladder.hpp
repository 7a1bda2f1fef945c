// Back-off for statements that need a strong lock: each attempt waits at
// most lock_timeout, and between attempts the worker steps aside for a
// growing, jittered while so the application's queue drains.
#pragma once
#include "core/cpp_only.hpp"

#include <chrono>
#include <optional>

namespace colmig::core {

struct RetryPolicy {
  int max_attempts = 50;
  std::chrono::milliseconds base_delay{50};
  std::chrono::milliseconds max_delay{5000};
};

// The wait before the next attempt after `failures` failed attempts (>= 1),
// or nothing once the attempts are used up. `jitter` is uniform in [0, 1):
// the delay is scaled into [0.5, 1.5) of the exponential step so that
// several workers (or retrying clients) do not retry in lock step.
std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy &policy,
                                                     int failures, double jitter);

} // namespace colmig::core
