// How busy the application keeps the database, as the worker sees it
// between two batches: a level from 0 (nobody else there) to 1 (busy), and
// the words colmig.progress.throttled shows for it. Pure: the worker reads
// the signals (pg/load_signals.hpp), this judges them.
//
// Why these signals: an application slows down behind a backfill in two
// ways, by waiting on the rows a batch holds and by losing CPU and WAL
// bandwidth to it. Both scale with how many of its transactions are in
// flight and how many it starts per second; both are free to read from
// shared memory (the proc array and the transaction id counter), with no
// statistics collector delay. Sessions found waiting on a batch's rows are
// the plainest sign of all: the level goes to 1 at once.
#pragma once
#include "core/cpp_only.hpp"

#include <cstdint>
#include <string>

namespace colmig::core {

struct LoadSample {
  // Since the previous sample (or the gauge's start).
  double seconds = 0;
  // Other sessions in a transaction that is doing something: running a
  // statement, or holding a transaction id (an application between two
  // statements of a writing transaction). Sessions asleep (pg_sleep,
  // colmig.wait_job) and idle ones do not count.
  int active_sessions = 0;
  // Transaction ids the others took meanwhile: about their write commits.
  std::int64_t other_xids = 0;
  // Sessions that were waiting on the last batch's row locks.
  int waiting_on_us = 0;
};

struct LoadScale {
  // The load at which the pace is the busy one. Below, the pace lies
  // between the quiet and the busy one in proportion.
  double busy_sessions = 2.0;
  double busy_xids_per_second = 200.0;
  // The signals are averaged over about this long, so one sample's noise
  // (a session caught between two statements) does not swing the pace.
  double smoothing_seconds = 0.5;
  // After the load is gone the level halves every this many seconds: a
  // burst keeps the job gentle for a few seconds, and a quiet moment
  // between two bursts does not bring back the full speed at once.
  double half_life_seconds = 1.0;
};

class LoadGauge {
public:
  explicit LoadGauge(const LoadScale &scale = {}) : scale_(scale) {}

  void record(const LoadSample &sample);

  // 0: quiet, 1: busy.
  double level() const { return level_; }
  // Averaged signals, for the reason.
  double sessions() const { return sessions_; }
  double xids_per_second() const { return xid_rate_; }
  // The last sample saw sessions waiting on a batch.
  bool waited() const { return waited_on_ > 0; }

  // What colmig.progress.throttled says while the level is above 0,
  // "load: 3 sessions in a transaction, 1400 writes/s", or that the load is
  // going and the pace picks up again; empty when quiet.
  // Rounded, so the text changes only when the load does.
  std::string reason() const;

private:
  LoadScale scale_;
  double level_ = 0;
  double sessions_ = 0;
  double xid_rate_ = 0;
  int waited_on_ = 0;
  bool easing_ = false; // the level decays: the load has gone
};

// Below this level the database counts as quiet: full speed, no reason
// shown.
constexpr double kQuietLevel = 0.1;

} // namespace colmig::core
