// The launcher (colmig preloaded only): starts a job worker for a database
// when a transaction there commits new work, for every database once at
// server start (to resume jobs after a restart or crash), and again for a
// database whose worker died without finishing. See docs/workers.md.
#include "guc.hpp"
#include "ipc/shared_state.hpp"
#include "ipc/start.hpp"
#include "pg/latch.hpp"
#include "worker/bgworker_main.hpp"

#include <algorithm>

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace colmig::worker {

namespace {

// Plain arrays: the loop below calls PostgreSQL functions that may longjmp
// (to a FATAL exit), so it owns nothing with a destructor.
struct RunningWorker {
  bool used;
  Oid database;
  BackgroundWorkerHandle *handle;
};

constexpr int kMaxPending = 1024;

RunningWorker running[ipc::kMaxSlots];
Oid pending[kMaxPending];
int pending_count = 0;
Oid retry_next_tick[ipc::kMaxSlots];
int retry_count = 0;

void add_pending(Oid database) {
  for (int i = 0; i < pending_count; ++i)
    if (pending[i] == database)
      return;
  if (pending_count < kMaxPending)
    pending[pending_count++] = database;
}

// Databases that accept connections; `only` limits the result to one.
int list_databases(Oid *out, int max, Oid only) {
  int count = 0;
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  (void)GetTransactionSnapshot();
  Relation rel = table_open(DatabaseRelationId, AccessShareLock);
  TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
  HeapTuple tuple;
  while ((tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
    auto *form = (Form_pg_database)GETSTRUCT(tuple);
    if (!form->datallowconn || form->datistemplate)
      continue;
    if (OidIsValid(only) && form->oid != only)
      continue;
    if (count < max)
      out[count++] = form->oid;
  }
  table_endscan(scan);
  table_close(rel, AccessShareLock);
  CommitTransactionCommand();
  return count;
}

void queue_all_databases() {
  Oid databases[kMaxPending];
  int count = list_databases(databases, kMaxPending, InvalidOid);
  for (int i = 0; i < count; ++i)
    add_pending(databases[i]);
}

void reap_stopped_workers() {
  for (int slot = 0; slot < ipc::kMaxSlots; ++slot) {
    RunningWorker &worker = running[slot];
    pid_t pid;
    if (!worker.used || GetBackgroundWorkerPid(worker.handle, &pid) != BGWH_STOPPED)
      continue;
    worker.used = false;
    pfree(worker.handle);
    if (!ipc::slot_exited_cleanly(slot) && retry_count < ipc::kMaxSlots) {
      elog(LOG,
           "colmig: worker for database %u ended without finishing; "
           "restarting it",
           worker.database);
      retry_next_tick[retry_count++] = worker.database;
    }
  }
}

void start_pending_workers() {
  int in_use = 0;
  for (auto &worker : running)
    in_use += worker.used ? 1 : 0;
  while (pending_count > 0 && in_use < guc::max_workers) {
    int slot = 0;
    while (slot < ipc::kMaxSlots && running[slot].used)
      ++slot;
    if (slot == ipc::kMaxSlots)
      return;
    Oid database = pending[0];
    ipc::slot_begin(slot, database);
    BackgroundWorkerHandle *handle = nullptr;
    if (!ipc::start_job_worker(database, ipc::WorkerStart{slot, 0}, &handle)) {
      elog(WARNING, "colmig: no background worker slot free; raise "
                    "max_worker_processes");
      return; // stays pending; tried again on the next tick
    }
    running[slot] = {true, database, handle};
    ++in_use;
    memmove(pending, pending + 1, sizeof(Oid) * (pending_count - 1));
    --pending_count;
  }
}

// A database whose worker died is tried again one tick later, and only if
// it still exists; also when other workers run there, since they may be
// busy with long jobs of their own.
void requeue_retries() {
  for (int i = 0; i < retry_count; ++i) {
    Oid found;
    if (list_databases(&found, 1, retry_next_tick[i]) == 1)
      add_pending(found);
  }
  retry_count = 0;
}

void launcher_loop() {
  setup_worker();
  BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
  ipc::register_launcher();
  elog(LOG, "colmig launcher started");
  queue_all_databases();
  TimestampTz next_tick = GetCurrentTimestamp();
  for (;;) {
    reap_stopped_workers();
    Oid woken[ipc::kMaxSlots];
    int count = ipc::take_pending_databases(woken, ipc::kMaxSlots);
    for (int i = 0; i < count; ++i)
      add_pending(woken[i]);
    if (GetCurrentTimestamp() >= next_tick) {
      requeue_retries();
      next_tick = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
                                              guc::launcher_naptime_s * 1000L);
    }
    TimestampTz next_wakeup = 0;
    count =
        ipc::take_due_wakeups(GetCurrentTimestamp(), woken, ipc::kMaxSlots, &next_wakeup);
    for (int i = 0; i < count; ++i)
      add_pending(woken[i]);
    start_pending_workers();
    long timeout = pending_count > 0 ? 1000L : guc::launcher_naptime_s * 1000L;
    if (next_wakeup != 0) {
      const long until =
          static_cast<long>((next_wakeup - GetCurrentTimestamp()) / 1000) + 1;
      timeout = std::max(1L, std::min(timeout, until));
    }
    // colmig.run_window may have changed: jobs left until their window
    // opens are looked at again.
    if (pg::wait_for_latch(timeout))
      queue_all_databases();
  }
}

} // namespace

} // namespace colmig::worker

extern "C" PGDLLEXPORT void colmig_launcher_main(Datum);

void colmig_launcher_main(Datum) {
  colmig::worker::run_bgworker([] { colmig::worker::launcher_loop(); });
}
