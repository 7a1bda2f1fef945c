#include "ipc/start.hpp"

extern "C" {
#include "miscadmin.h"
}

namespace colmig::ipc {

namespace {

void fill_common(BackgroundWorker &worker) {
  memset(&worker, 0, sizeof(worker));
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
  snprintf(worker.bgw_library_name, BGW_MAXLEN, "colmig");
}

} // namespace

static_assert(sizeof(WorkerStart) <= BGW_EXTRALEN, "bgw_extra holds a WorkerStart");

bool start_job_worker(Oid database, const WorkerStart &start,
                      BackgroundWorkerHandle **handle) {
  BackgroundWorker worker;
  fill_common(worker);
  // A worker that dies is not restarted by the postmaster: the launcher (or
  // the next colmig.run_pending()) finds its job again through the job
  // table, whose advisory lock the dead worker no longer holds.
  worker.bgw_restart_time = BGW_NEVER_RESTART;
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "colmig_job_worker_main");
  snprintf(worker.bgw_name, BGW_MAXLEN, "colmig worker for database %u", database);
  snprintf(worker.bgw_type, BGW_MAXLEN, "colmig worker");
  worker.bgw_main_arg = ObjectIdGetDatum(database);
  memcpy(worker.bgw_extra, &start, sizeof(start));
  worker.bgw_notify_pid = start.slot >= 0 ? MyProcPid : 0;
  return RegisterDynamicBackgroundWorker(&worker, handle);
}

bool start_range_worker(std::int64_t job_id) {
  BackgroundWorker worker;
  fill_common(worker);
  // One that dies leaves its range to the job's other workers.
  worker.bgw_restart_time = BGW_NEVER_RESTART;
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "colmig_range_worker_main");
  snprintf(worker.bgw_name, BGW_MAXLEN, "colmig range worker for job %ld",
           static_cast<long>(job_id));
  snprintf(worker.bgw_type, BGW_MAXLEN, "colmig worker");
  worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
  const WorkerStart start{-1, job_id};
  memcpy(worker.bgw_extra, &start, sizeof(start));
  BackgroundWorkerHandle *handle = nullptr;
  return RegisterDynamicBackgroundWorker(&worker, &handle);
}

void register_launcher_worker() {
  BackgroundWorker worker;
  fill_common(worker);
  worker.bgw_restart_time = 5;
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "colmig_launcher_main");
  snprintf(worker.bgw_name, BGW_MAXLEN, "colmig launcher");
  snprintf(worker.bgw_type, BGW_MAXLEN, "colmig launcher");
  RegisterBackgroundWorker(&worker);
}

} // namespace colmig::ipc
