// How a batch spends its CPU: how long it works, in slices with a short
// rest after each (pg/pacing.hpp sleeps, this decides how long), and how
// long the worker pauses after it. Pure.
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

// After application sessions were found waiting on a batch's locks: room
// for them before the next batch, as long as the batch held its rows (its
// work and rests) and at least kLeastContentionPause, at most
// kLongestContentionPause. The next batch is smaller too
// (BatchController::halve).
constexpr double kLeastContentionPause = 0.005;
constexpr double kLongestContentionPause = 0.2;
double contention_pause(double batch_seconds);

// The pace of a job's batches.
struct Pace {
  double batch_target_seconds = 0; // work per batch, rests not counted
  PacingRule rests;                // inside the batch
  double least_pause_seconds = 0;  // after it
};

// The pace at load `level` (core/load_gauge.hpp), from `quiet` at 0 to
// `busy` at 1: the batch's work shrinks geometrically (halfway between
// 10 ms and 2 ms is 4.5 ms, not 6), the rests and the pause grow in
// proportion, and once there is any load at all the batch works in the
// busy pace's slices.
Pace pace_at_load(double level, const Pace &quiet, const Pace &busy);

} // namespace colmig::core
