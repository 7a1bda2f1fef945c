// A job worker: connects to one database and runs its jobs one after the
// other until none is left, then exits. Several may run in one database;
// the advisory-lock claim keeps them on different jobs.
#include "catalog/claim.hpp"
#include "guc.hpp"
#include "ipc/shared_state.hpp"
#include "ipc/start.hpp"
#include "pg/citus.hpp"
#include "pg/context_allocator.hpp"
#include "pg/guc_scope.hpp"
#include "pg/transaction.hpp"
#include "runner/run_job.hpp"
#include "pg/latch.hpp"
#include "worker/bgworker_main.hpp"

#include <algorithm>

#include <boost/container/flat_set.hpp>

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
}

namespace colmig::worker {

namespace {

using JobIds = boost::container::flat_set<std::int64_t, std::less<std::int64_t>,
                                          pg::ContextAllocator<std::int64_t>>;
// Jobs this worker has already taken up once: a failed or cancelled job
// whose cleanup could not finish is left for a later worker instead of
// being retried in a tight loop.
JobIds *seen = nullptr;

bool already_seen(std::int64_t job_id) { return seen->count(job_id) > 0; }

// How often a database whose colmig is older than this library is looked
// at again while it has jobs waiting for the update.
constexpr double kVersionRecheckSeconds = 10.0;

catalog::Claim claim(std::int64_t preferred) {
  catalog::Claim claim;
  pg::in_transaction("colmig: looking for work", [&] {
    if (catalog::extension_current())
      claim = catalog::claim_next_job(preferred, guc::global_run_window(), already_seen);
    else if (catalog::older_extension_has_work())
      // Nothing wakes a worker when ALTER EXTENSION ... UPDATE commits:
      // look again a little later.
      claim.next_start_in = kVersionRecheckSeconds;
  });
  return claim;
}

// Longest a worker waits for a job whose start_at lies ahead (or that is
// held back after its worker died); later ones get a worker then.
constexpr double kLongestStartWaitSeconds = 5.0;

void job_worker_loop(Oid database, const ipc::WorkerStart &start) {
  setup_worker();
  BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0);
  // colmig's own statements never resolve names through a user's schema.
  SetConfigOption("search_path", pg::kSafeSearchPath, PGC_SUSET, PGC_S_OVERRIDE);
  pgstat_report_appname("colmig worker");
  // A fill_shard job works on a Citus shard placement directly.
  pg::citus::allow_shard_access();

  JobIds jobs_seen{pg::ContextAllocator<std::int64_t>(TopMemoryContext)};
  seen = &jobs_seen;
  MemoryContext job_context =
      AllocSetContextCreate(TopMemoryContext, "colmig job", ALLOCSET_DEFAULT_SIZES);
  catalog::Claim next;
  for (;;) {
    next = claim(start.job_id);
    if (!next.job_id) {
      // A job due soon is waited for here; one due later gets a worker
      // then, from the launcher: an idle worker must not hold one of
      // colmig.max_workers meanwhile, for this database or any other.
      if (!next.next_start_in || !ipc::shared_state_available())
        break;
      if (*next.next_start_in > kLongestStartWaitSeconds) {
        const TimestampTz at = TimestampTzPlusMilliseconds(
            GetCurrentTimestamp(), static_cast<long>(*next.next_start_in * 1000.0));
        if (ipc::request_worker_at(at))
          break;
      }
      pg::wait_for_latch(static_cast<long>(
          std::min(*next.next_start_in, kLongestStartWaitSeconds) * 1000.0 + 1));
      continue;
    }
    const std::int64_t job_id = *next.job_id;
    jobs_seen.insert(job_id);
    // One job never holds the others back: a job waiting for its window,
    // for a lock, or failing slowly, runs beside the next one.
    if (next.more_runnable)
      ipc::request_another_worker();
    MemoryContext previous = MemoryContextSwitchTo(job_context);
    // A parked job (waiting for others) is this worker's to take up
    // again, when it is due.
    if (runner::run_job(job_id))
      jobs_seen.erase(job_id);
    pg::in_transaction("colmig: releasing job", [&] { catalog::release_job(job_id); });
    MemoryContextSwitchTo(previous);
    MemoryContextReset(job_context);
  }
  // A job passed over because this worker already took it up (a cleanup
  // that could not finish, a job resumed while we still held it) is left
  // to a fresh worker: exiting "unclean" makes the launcher start one a
  // naptime later.
  if (!next.skipped)
    ipc::slot_mark_clean_exit(start.slot);
}

} // namespace

} // namespace colmig::worker

extern "C" PGDLLEXPORT void colmig_job_worker_main(Datum);

void colmig_job_worker_main(Datum main_arg) {
  colmig::ipc::WorkerStart start{};
  memcpy(&start, MyBgworkerEntry->bgw_extra, sizeof(start));
  Oid database = DatumGetObjectId(main_arg);
  // Its writes are colmig's, not the application's load.
  colmig::ipc::count_worker_xids();
  colmig::worker::run_bgworker([&] { colmig::worker::job_worker_loop(database, start); });
}
