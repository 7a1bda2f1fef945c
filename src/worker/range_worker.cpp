// A range worker: started by a job's own worker for a parallel backfill
// (runner/parallel_backfill.hpp). It fills free page ranges of that one
// job and exits when none is left; it holds no job claim, only the claim
// of the range it fills.
#include "runner/parallel_backfill.hpp"

#include "ipc/shared_state.hpp"
#include "ipc/start.hpp"
#include "pg/citus.hpp"
#include "pg/guc_scope.hpp"
#include "worker/bgworker_main.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"
}

extern "C" PGDLLEXPORT void colmig_range_worker_main(Datum);

void colmig_range_worker_main(Datum main_arg) {
  colmig::ipc::WorkerStart start{};
  memcpy(&start, MyBgworkerEntry->bgw_extra, sizeof(start));
  const Oid database = DatumGetObjectId(main_arg);
  // Its writes are colmig's, not the application's load, and the job's
  // other workers must not pace themselves for them.
  colmig::ipc::count_worker_xids();
  colmig::worker::run_bgworker([&] {
    colmig::worker::setup_worker();
    BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
    SetConfigOption("search_path", colmig::pg::kSafeSearchPath, PGC_SUSET,
                    PGC_S_OVERRIDE);
    pgstat_report_appname("colmig worker");
    colmig::pg::citus::allow_shard_access();
    colmig::runner::fill_free_ranges(start.job_id);
  });
}
