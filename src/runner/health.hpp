// Holding back for the health of the database: before each batch the
// worker checks the signals (replication lag, autovacuum on the table and
// the time of day, read at most every 100 ms; the WAL its last batch
// wrote), lets core::decide_throttle judge them, and waits while it says
// so. The reason is shown in colmig.progress.throttled and logged when a
// wait starts and ends. The same column says why the job paces itself
// below full speed, when it does.
#pragma once
#include "core/throttle.hpp"

#include "catalog/job.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace colmig::runner {

struct LastBatch {
  double seconds = 0;
  double wal_bytes = 0;
};

class Throttle {
public:
  explicit Throttle(const catalog::Job &job) : job_(job) {}

  // Waits until the job may go on. False when the job stopped meanwhile
  // (paused or cancelled), or when its run window is further away than a
  // few seconds: the job stays running, and its worker lets it go until
  // then. `last` is the batch before; its WAL is used up once the worker
  // has held back for it. `pacing_reason`: why the job goes on at less
  // than full speed (runner/load_pace.hpp), shown while nothing holds it
  // back.
  bool hold_back(LastBatch &last, const std::optional<std::string> &pacing_reason);

  // Another Throttle (a backfill step's own) may have written the column
  // since: the next hold_back writes it whatever this one last wrote.
  void forget_recorded() { recorded_ = false; }

private:
  const catalog::Job &job_;
  std::optional<std::string> reason_;
  double held_seconds_ = 0;
  // The database's signals, read at most every kSignalsMaxAge while the job
  // goes on: with 10 ms batches, reading them before every batch (a
  // transaction, and views that are costly to parse) was a fifth of the
  // worker's CPU. Each batch still checks the job's state itself.
  std::optional<core::HealthSignals> signals_;
  std::chrono::steady_clock::time_point signals_read_at_{};

  core::ThrottleLimits limits() const;
  // `pacing`: the reason is the load's (logged only as pacing starts and
  // ends), not a wait.
  void announce(const std::optional<std::string> &reason, bool pacing);
  bool pacing_ = false;
  bool recorded_ = false; // the column holds reason_
};

} // namespace colmig::runner
