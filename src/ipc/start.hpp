// Registering the dynamic background workers that run jobs.
#pragma once

#include "pg/postgres.hpp"

#include <cstdint>

extern "C" {
#include "postmaster/bgworker.h"
}

namespace colmig::ipc {

// What a job worker is started with (bgw_extra).
struct WorkerStart {
  int slot;            // the launcher's bookkeeping slot, or -1 from SQL
  std::int64_t job_id; // the job to try first, or 0
};

// Starts a job worker for `database`. Returns false when no background
// worker slot was free (max_worker_processes).
bool start_job_worker(Oid database, const WorkerStart &start,
                      BackgroundWorkerHandle **handle);

// Starts a range worker for job `job_id` of the current database: it fills
// free page ranges of the job's parallel backfill (runner/parallel_backfill.hpp)
// and exits. False when no background worker slot was free.
bool start_range_worker(std::int64_t job_id);

// Registers the launcher at server start; only from _PG_init while
// shared_preload_libraries is being processed.
void register_launcher_worker();

} // namespace colmig::ipc
