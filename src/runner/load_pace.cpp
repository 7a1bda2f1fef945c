#include "runner/load_pace.hpp"

#include "guc.hpp"
#include "ipc/shared_state.hpp"
#include "pg/load_signals.hpp"

namespace colmig::runner {

namespace {

// Transaction ids colmig took: every job worker's when colmig is
// preloaded, else only this job's batches (one each).
std::uint64_t colmig_xids(std::uint64_t own_batches) {
  return ipc::worker_xids().value_or(own_batches);
}
constexpr std::chrono::seconds kReasonMinAge{1};

core::Pace unthrottled_pace() {
  core::Pace pace;
  pace.batch_target_seconds = guc::batch_target_ms / 1000.0;
  return pace;
}

// A throttled job on a quiet database: full speed, but colmig.batch_pause
// (a DBA's floor, 0 by default) after every batch.
core::Pace quiet_pace() {
  core::Pace pace = unthrottled_pace();
  pace.least_pause_seconds = guc::batch_pause_ms / 1000.0;
  return pace;
}

core::Pace busy_pace() {
  core::Pace pace;
  pace.batch_target_seconds = guc::busy_batch_target_ms / 1000.0;
  pace.rests = {guc::batch_slice_ms / 1000.0, guc::batch_pause_ratio};
  pace.least_pause_seconds = guc::batch_pause_ms / 1000.0;
  return pace;
}

} // namespace

LoadPace::LoadPace(const catalog::Job &job)
    : throttled_(job.throttle), sampled_at_(Clock::now()),
      next_xid_(pg::read_load().next_xid), colmig_xids_(colmig_xids(0)) {}

core::Pace LoadPace::next(int waited_on_last_batch) {
  const Clock::time_point now = Clock::now();
  ++own_batches_;
  const pg::LoadReading reading = pg::read_load();
  const std::uint64_t ours = colmig_xids(own_batches_);
  core::LoadSample sample;
  sample.seconds = std::chrono::duration<double>(now - sampled_at_).count();
  sample.active_sessions = reading.active_sessions;
  // An id is counted as its transaction ends, a little after it was
  // taken: the difference evens out over the next samples.
  sample.other_xids = static_cast<std::int64_t>(reading.next_xid - next_xid_) -
                      static_cast<std::int64_t>(ours - colmig_xids_);
  sample.waiting_on_us = waited_on_last_batch;
  gauge_.record(sample);
  sampled_at_ = now;
  next_xid_ = reading.next_xid;
  colmig_xids_ = ours;

  if (!throttled_)
    return unthrottled_pace();
  std::string words = gauge_.reason();
  std::optional<std::string> reason =
      words.empty() ? std::nullopt : std::optional<std::string>(std::move(words));
  // From quiet to load and back, and sessions waiting on a batch, at once;
  // a new figure at most once a second.
  const bool at_once = reason.has_value() != reason_.has_value() || gauge_.waited();
  if (reason != reason_ && (at_once || now - reason_at_ >= kReasonMinAge)) {
    reason_ = std::move(reason);
    reason_at_ = now;
  }
  return core::pace_at_load(gauge_.level(), quiet_pace(), busy_pace());
}

} // namespace colmig::runner
