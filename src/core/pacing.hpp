// How a throttled batch spends its CPU: in slices, with a short rest after
// each (pg/pacing.hpp sleeps, this decides how long). Pure.
#pragma once
#include "core/cpp_only.hpp"

namespace colmig::core {

struct PacingRule {
  // Work between two rests; 0 never rests.
  double slice_seconds = 0;
  // colmig.batch_pause_ratio: rest per second of work.
  double rest_ratio = 0;
};

// Rests inside a batch keep its row locks, so they are short: at most
// twice the work before them (enough for the application to get a CPU)
// and at most this long, however long the work before them waited on a
// lock. The pause after the batch makes up the rest of the ratio.
constexpr double kLargestRestRatio = 2.0;
constexpr double kLongestRestSeconds = 0.02;

// Seconds to rest now, after `worked` seconds of work since the last rest;
// 0 while the slice is not used up.
double rest_after(const PacingRule &rule, double worked);

// The pause after a batch that worked `worked` seconds and rested `rested`
// of them inside: what the ratio still asks for, and at least
// `least_pause`. Unthrottled (ratio 0) it is just `least_pause`.
double pause_after_batch(double worked, double rested, double ratio, double least_pause);

} // namespace colmig::core
