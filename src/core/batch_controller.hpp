// Picks the next batch size so that a batch takes about the target
// duration: long enough to be efficient, short enough that no application
// query waits long on the rows a batch has locked.
#pragma once
#include "core/cpp_only.hpp"

#include <cstdint>

namespace colmig::core {

struct BatchTarget {
  double target_seconds = 0.1;
  std::int64_t min_rows = 100;
  std::int64_t max_rows = 100000;
  // Most a batch may grow over the one before, so one fast batch on an
  // empty stretch does not make the next one on a dense stretch too long.
  double max_growth = 2.0;
  // Weight of the newest measurement in the moving average of the rate.
  double smoothing = 0.5;
};

class BatchController {
public:
  // `fixed` keeps `initial_rows` whatever happens (a job's batch_size).
  BatchController(const BatchTarget &target, std::int64_t initial_rows, bool fixed);

  std::int64_t rows() const { return rows_; }
  // Rows per second, smoothed; 0 until a batch was measured.
  double rate() const { return rate_; }

  // A batch covered `rows` rows (filled or not) in `seconds`.
  void record(std::int64_t rows, double seconds);
  // The pace changed (core/pacing.hpp): batches aim at this long from
  // now on. A shorter target shrinks the next batch at once; a longer one
  // lets batches grow, within max_growth per batch.
  void set_target_seconds(double seconds);
  // A batch hit its statement timeout, or application sessions were found
  // waiting on its locks: the next one is half as large.
  void halve();

private:
  BatchTarget target_;
  std::int64_t rows_;
  bool fixed_;
  double rate_ = 0;
  std::int64_t clamp(double rows) const;
};

} // namespace colmig::core
