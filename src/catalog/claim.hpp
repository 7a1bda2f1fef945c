// Which worker runs which job. A job belongs to the worker holding its
// session advisory lock (class colmig.job_lock_class(), key job_id): a
// worker that dies loses it with its session, so the job can be claimed
// again, and two workers can never run one job at once.
#pragma once

#include "pg/postgres.hpp"

#include <cstdint>
#include <optional>

namespace colmig::catalog {

// The advisory lock class that marks a job as owned by a live worker
// (colmig.job_lock_class() in SQL).
constexpr int kJobLockClass = 1668246637;

// Whether CREATE EXTENSION colmig ran in this database.
bool extension_installed();

struct Claim {
  std::optional<std::int64_t> job_id;
  // A job with work left was passed over because `skip` rejected it.
  bool skipped = false;
  // Seconds until the next job whose start_at lies ahead, if any.
  std::optional<double> next_start_in;
  // Besides the claimed job, another one that no worker runs could run
  // now: it need not wait until this one is done.
  bool more_runnable = false;
};

// Claims the oldest job with work left (queued, running without a live
// worker, or a failed or cancelled one with a helper object to remove; a
// paused job keeps its trigger and waits) that `skip` does not reject.
// Jobs whose workers died with them come after the others, and each such
// attempt holds the job back a second longer (catalog/job.hpp, attempts).
// Inside a transaction; the claim outlives it.
// `preferred` (0: none) is tried first: the job run_pending() started this
// worker for.
Claim claim_next_job(std::int64_t preferred, bool (*skip)(std::int64_t job_id));

void release_job(std::int64_t job_id);

// Whether this backend still holds the job's claim. Read from its own
// lock table, not pg_locks: it is asked before every batch, and scanning
// pg_locks takes every lock-manager partition lock the application needs.
bool claim_held(std::int64_t job_id);

} // namespace colmig::catalog
