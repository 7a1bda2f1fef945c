#include "runner/health.hpp"

#include "guc.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "pg/latch.hpp"

#include <algorithm>

namespace colmig::runner {

namespace {

constexpr double kBytesPerMegabyte = 1024.0 * 1024.0;
constexpr double kLongestSliceSeconds = 1.0;
// A run window further away than this is waited for without a worker.
constexpr double kLongestHoldSeconds = 5.0;
constexpr std::chrono::milliseconds kSignalsMaxAge{100};

core::HealthSignals read_signals(Oid relid) {
  pg::execute(R"sql(
SELECT (extract(hour FROM localtime) * 60 + extract(minute FROM localtime))::int8,
       (SELECT max(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), replay_lsn))::int8
          FROM pg_catalog.pg_stat_replication),
       (SELECT extract(epoch FROM max(replay_lag))::float8 FROM pg_catalog.pg_stat_replication),
       EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_vacuum v
                 JOIN pg_catalog.pg_stat_activity a ON a.pid = v.pid
                WHERE v.relid = $1 AND a.backend_type = 'autovacuum worker'))sql",
              {pg::oid_param(relid)});
  core::HealthSignals signals;
  signals.minute_of_day = static_cast<int>(pg::get_int64(0, 0).value_or(0));
  signals.replication_lag_bytes = pg::get_int64(0, 1);
  signals.replication_lag_seconds = pg::get_float8(0, 2);
  signals.autovacuum_on_table = pg::get_bool(0, 3).value_or(false);
  return signals;
}

} // namespace

core::ThrottleLimits Throttle::limits() const {
  core::ThrottleLimits limits;
  limits.window = core::job_run_window(job_.throttle, job_.window_start_minute,
                                       job_.window_end_minute, guc::global_run_window());
  limits.max_lag_bytes =
      static_cast<std::int64_t>(guc::max_replication_lag_mb) * 1024 * 1024;
  limits.max_lag_seconds = guc::max_replication_lag_time_ms / 1000.0;
  limits.max_wal_bytes_per_second = guc::max_wal_rate_mb * kBytesPerMegabyte;
  limits.wait_for_autovacuum = guc::wait_for_autovacuum;
  return limits;
}

void Throttle::announce(const std::optional<std::string> &reason, bool pacing) {
  // The first time, whatever the column says: a step before this one may
  // have left its reason there.
  if (recorded_ && reason == reason_)
    return;
  recorded_ = true;
  const bool was_holding = reason_ && !pacing_;
  const bool holding = reason && !pacing;
  if (was_holding && !holding)
    elog(LOG, "colmig: job %ld goes on after holding back %.1f s (%s)",
         static_cast<long>(job_.id), held_seconds_, reason_->c_str());
  if (holding)
    elog(LOG, "colmig: job %ld holds back: %s", static_cast<long>(job_.id),
         reason->c_str());
  // The load's figures change often: logged only as the pacing starts and
  // ends.
  const bool was_pacing = reason_ && pacing_;
  const bool now_pacing = reason && pacing;
  if (now_pacing && !was_pacing)
    elog(LOG, "colmig: job %ld paces itself: %s", static_cast<long>(job_.id),
         reason->c_str());
  if (was_pacing && !reason)
    elog(LOG, "colmig: job %ld goes on at full speed", static_cast<long>(job_.id));
  if (!holding)
    held_seconds_ = 0;
  reason_ = reason;
  pacing_ = now_pacing;
  pg::in_transaction("colmig: recording throttle",
                     [&] { catalog::set_throttled(job_.id, reason_); });
}

bool Throttle::hold_back(LastBatch &last,
                         const std::optional<std::string> &pacing_reason) {
  if (!job_.throttle)
    return true;
  // A DBA's new colmig.run_window (or other limit) counts from the next
  // batch on.
  (void)pg::reload_config_if_pending();
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (!signals_ || now - signals_read_at_ >= kSignalsMaxAge) {
      std::optional<core::JobState> state;
      pg::in_transaction("colmig: reading health signals", [&] {
        state = catalog::load_state(job_.id);
        signals_ = read_signals(job_.relid);
      });
      signals_read_at_ = now;
      if (state != core::JobState::running) {
        announce(std::nullopt, false);
        return false;
      }
    }
    core::HealthSignals signals = *signals_;
    if (last.seconds > 0) {
      signals.last_batch_seconds = last.seconds;
      signals.job_wal_bytes_per_second = last.wal_bytes / last.seconds;
    }
    core::ThrottleDecision decision = core::decide_throttle(signals, limits());
    if (!decision.wait_seconds) {
      announce(pacing_reason, true);
      return true;
    }
    announce(decision.reason, false);
    if (decision.outside_window && *decision.wait_seconds > kLongestHoldSeconds) {
      // The job gives its worker back until its window opens (the claim
      // holds it back until then, catalog/claim.hpp): a job outside its
      // window must not keep one of colmig.max_workers from other jobs.
      pg::in_transaction("colmig: leaving job until its window",
                         [&] { catalog::leave_until_window(job_.id); });
      return false;
    }
    // The batch's WAL is paid for by this wait.
    last.wal_bytes = 0;
    // Long waits (a window hours away) are cut into slices, so a pause or
    // cancel is noticed within a second.
    const double slice = std::min(*decision.wait_seconds, kLongestSliceSeconds);
    held_seconds_ += slice;
    pg::wait_for_latch(static_cast<long>(slice * 1000.0) + 1);
  }
}

} // namespace colmig::runner
