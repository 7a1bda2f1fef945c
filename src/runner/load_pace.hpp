// The pace of a job's next backfill batch, from the application's load:
// the worker samples the load before each batch (pg/load_signals.hpp),
// core::LoadGauge judges it, and core::pace_at_load turns the level into
// the batch's work target, its rests and the pause after it. A job with
// throttle => false, or a quiet database, gets the full-speed pace; the
// load is read for both, as colmig.smooth_io applies only under load.
#pragma once
#include "core/load_gauge.hpp"
#include "core/pacing.hpp"

#include "catalog/job.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace colmig::runner {

class LoadPace {
public:
  explicit LoadPace(const catalog::Job &job);

  // Samples the load and returns the pace of the next batch.
  // `waited_on_last_batch`: sessions found waiting on the last batch's
  // locks.
  core::Pace next(int waited_on_last_batch);

  // What colmig.progress.throttled should say of the load now; nothing when
  // quiet. Changes at most once a second, so recording it stays cheap.
  const std::optional<std::string> &reason() const { return reason_; }
  const core::LoadGauge &gauge() const { return gauge_; }
  // Nobody else is working on the database (always judged, also for a
  // job with throttle => false, whose pace it does not change).
  bool quiet() const { return gauge_.level() == 0; }

private:
  using Clock = std::chrono::steady_clock;
  bool throttled_;
  core::LoadGauge gauge_;
  Clock::time_point sampled_at_;
  std::uint64_t next_xid_ = 0;
  std::uint64_t colmig_xids_ = 0; // colmig's ids at the last sample
  std::uint64_t own_batches_ = 0;
  std::optional<std::string> reason_;
  Clock::time_point reason_at_{};
};

} // namespace colmig::runner
