// Which worker runs which job. A job belongs to the worker holding its
// session advisory lock (class colmig.job_lock_class(), key job_id): a
// worker that dies loses it with its session, so the job can be claimed
// again, and two workers can never run one job at once.
#pragma once

#include "core/throttle.hpp"
#include "pg/context_allocator.hpp"
#include "pg/postgres.hpp"

#include <boost/container/vector.hpp>

#include <cstdint>
#include <optional>

namespace colmig::catalog {

// The advisory lock class that marks a job as owned by a live worker
// (colmig.job_lock_class() in SQL).
constexpr int kJobLockClass = 1668246637;

// Whether CREATE EXTENSION colmig ran in this database.
bool extension_installed();

// The version of colmig's SQL objects this library reads and writes.
inline constexpr const char *kSchemaVersion = "0.5";

// Installed, and at kSchemaVersion: between a package upgrade and ALTER
// EXTENSION colmig UPDATE the jobs of the older version are left alone,
// not run (and failed) by a library that expects other columns.
bool extension_current();

// Installed at an older version, with jobs that will want a worker once
// ALTER EXTENSION colmig UPDATE has run (read from columns every version
// has).
bool older_extension_has_work();

// 55000 unless extension_current(), for the functions that store jobs.
void require_current_extension();

struct Claim {
  std::optional<std::int64_t> job_id;
  // A job with work left was passed over because `skip` rejected it.
  bool skipped = false;
  // Seconds until the next job that may not be taken up yet (its start_at
  // or its run window lies ahead), if any.
  std::optional<double> next_start_in;
  // Besides the claimed job, another one that no worker runs could run
  // now: it need not wait until this one is done.
  bool more_runnable = false;
};

// A job with work left (queued, running without a live worker, or a failed
// or cancelled one with a helper object to remove; a paused job keeps its
// trigger and waits), and the seconds until it may be taken up: its
// start_at; outside its run window (with throttle), until it opens; after
// workers died with it, a second per such attempt (catalog/job.hpp).
struct JobWithWork {
  std::int64_t job_id;
  double starts_in;
  // The run window it waits for, when that is what holds it back.
  std::optional<core::RunWindow> waits_for;
};
using JobsWithWork =
    boost::container::vector<JobWithWork, pg::ContextAllocator<JobWithWork>>;

// Best first: `preferred` (0: none), then jobs whose workers did not die
// with them, then the oldest. `global_window` is colmig.run_window.
JobsWithWork jobs_with_work(std::int64_t preferred,
                            const std::optional<core::RunWindow> &global_window);

// Claims the first of jobs_with_work() that may be taken up now and that
// `skip` does not reject. Inside a transaction; the claim outlives it.
// `preferred` is the job run_pending() started this worker for.
Claim claim_next_job(std::int64_t preferred,
                     const std::optional<core::RunWindow> &global_window,
                     bool (*skip)(std::int64_t job_id));

void release_job(std::int64_t job_id);

// Whether this backend still holds the job's claim. Read from its own
// lock table, not pg_locks: it is asked before every batch, and scanning
// pg_locks takes every lock-manager partition lock the application needs.
bool claim_held(std::int64_t job_id);

} // namespace colmig::catalog
