// colmig.run_pending(): starts job workers from SQL, for servers where
// colmig is not preloaded (pg_cron calls it every minute) and to resume
// jobs there after a restart.
#include "core/throttle.hpp"

#include "api/catalog_access.hpp"
#include "catalog/claim.hpp"
#include "guc.hpp"
#include "ipc/start.hpp"
#include "pg/context_allocator.hpp"

#include <boost/container/vector.hpp>

namespace {

using namespace colmig;

// Of the jobs that may be taken up now (catalog::jobs_with_work), those
// without a live worker, that no run_pending() handed to a worker in the
// last minute (a worker that never got to claim its job is retried after
// that).
const char *const kJobsWithoutWorker = R"sql(
SELECT j.job_id
  FROM colmig.jobs j
 WHERE j.job_id = ANY ($1)
   AND (j.launch_requested_at IS NULL
        OR j.launch_requested_at < now() - interval '1 minute')
   AND NOT EXISTS (
       SELECT 1 FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted
          AND l.database = (SELECT oid FROM pg_catalog.pg_database
                             WHERE datname = pg_catalog.current_database())
          AND l.classid = colmig.job_lock_class()::oid
          AND l.objid = (j.job_id % 4294967296)::oid AND l.objsubid = 3)
 ORDER BY array_position($1, j.job_id)
 LIMIT $2)sql";

bool start_worker_for(std::int64_t job_id) {
  ipc::WorkerStart start{-1, job_id};
  return pg::call([&] {
    BackgroundWorkerHandle *handle = nullptr;
    return ipc::start_job_worker(MyDatabaseId, start, &handle);
  });
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_run_pending) {
  std::int32_t started = 0;
  {
    api::CatalogAccess catalog;
    // One caller at a time per database: a second waits here, then finds
    // the jobs the first one handed out marked as such.
    pg::execute("SELECT pg_catalog.pg_advisory_xact_lock($1, 0)",
                {pg::int4_param(catalog::kJobLockClass)});
    using Ids =
        boost::container::vector<std::int64_t, pg::ContextAllocator<std::int64_t>>;
    Ids due{pg::ContextAllocator<std::int64_t>(CurrentMemoryContext)};
    for (const catalog::JobWithWork &job :
         catalog::jobs_with_work(0, guc::global_run_window()))
      if (job.starts_in <= 0)
        due.push_back(job.job_id);
    pg::execute(kJobsWithoutWorker, {pg::int8_array_param(due.data(), due.size()),
                                     pg::int4_param(guc::max_workers)});
    Ids jobs{pg::ContextAllocator<std::int64_t>(CurrentMemoryContext)};
    for (std::uint64_t row = 0; row < pg::result_rows(); ++row)
      jobs.push_back(*pg::get_int64(row, 0));
    for (std::int64_t job_id : jobs) {
      if (!start_worker_for(job_id)) {
        pg::call([] {
          ereport(WARNING, (errmsg("colmig: no background worker slot is free"),
                            errhint("Raise max_worker_processes.")));
        });
        break;
      }
      pg::execute("UPDATE colmig.jobs SET launch_requested_at = now() WHERE job_id = $1",
                  {pg::int8_param(job_id)});
      ++started;
    }
  }
  PG_RETURN_INT32(started);
}
