#include "core/batch_controller.hpp"

#include <algorithm>
#include <cmath>

namespace colmig::core {

BatchController::BatchController(const BatchTarget &target, std::int64_t initial_rows,
                                 bool fixed)
    : target_(target), rows_(std::max<std::int64_t>(1, initial_rows)), fixed_(fixed) {
  if (!fixed_)
    rows_ = clamp(static_cast<double>(rows_));
}

std::int64_t BatchController::clamp(double rows) const {
  const double low = static_cast<double>(std::max<std::int64_t>(1, target_.min_rows));
  const double high = std::max(low, static_cast<double>(target_.max_rows));
  if (!std::isfinite(rows))
    return static_cast<std::int64_t>(high);
  return static_cast<std::int64_t>(std::clamp(std::round(rows), low, high));
}

void BatchController::record(std::int64_t rows, double seconds) {
  if (rows <= 0 || !(seconds > 0))
    return;
  const double measured = static_cast<double>(rows) / seconds;
  if (!std::isfinite(measured))
    return;
  rate_ = rate_ == 0 ? measured
                     : (1.0 - target_.smoothing) * rate_ + target_.smoothing * measured;
  if (fixed_)
    return;
  const double wanted = rate_ * target_.target_seconds;
  // Floored: rounding the grown size up could exceed the growth bound.
  rows_ = clamp(
      std::floor(std::min(wanted, static_cast<double>(rows_) * target_.max_growth)));
}

void BatchController::set_target_seconds(double seconds) {
  if (!(seconds > 0) || !std::isfinite(seconds) || seconds == target_.target_seconds)
    return;
  target_.target_seconds = seconds;
  if (fixed_ || rate_ == 0)
    return;
  const double wanted = rate_ * seconds;
  if (wanted < static_cast<double>(rows_))
    rows_ = clamp(std::floor(wanted));
}

void BatchController::halve() {
  if (fixed_)
    return;
  rows_ = clamp(static_cast<double>(rows_) / 2.0);
  // The rate that led here was too optimistic; start the average afresh
  // from the smaller batches.
  rate_ = 0;
}

} // namespace colmig::core
