#include "pg/load_signals.hpp"

#include "pg/guard.hpp"

extern "C" {
#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/wait_event.h"
}

namespace colmig::pg {

namespace {

constexpr std::uint32_t kWaitClassMask = 0xFF000000U;

// The first MaxBackends entries of the proc array are the backends,
// autovacuum, background workers and WAL senders; prepared transactions'
// dummy entries follow and are not sessions.
int process_count() { return MaxBackends; }

bool asleep(std::uint32_t wait_event_info) {
  const std::uint32_t wait_class = wait_event_info & kWaitClassMask;
  return wait_class == PG_WAIT_TIMEOUT || wait_class == PG_WAIT_EXTENSION;
}

} // namespace

LoadReading read_load() {
  return call([] {
    LoadReading reading;
    for (int i = 0; i < process_count(); ++i) {
      const volatile PGPROC *proc = &ProcGlobal->allProcs[i];
      if (proc == MyProc || proc->pid == 0 || proc->isBackgroundWorker ||
          (proc->statusFlags & PROC_IS_AUTOVACUUM) != 0)
        continue;
      const std::uint32_t wait = proc->wait_event_info;
      // A transaction that has written counts however it waits: it may
      // hold rows a batch needs.
      const bool writing = TransactionIdIsValid(proc->xid);
      const bool running = TransactionIdIsValid(proc->xmin) && !asleep(wait) &&
                           (wait & kWaitClassMask) != PG_WAIT_CLIENT;
      if (writing || running)
        ++reading.active_sessions;
    }
    reading.next_xid = U64FromFullTransactionId(ReadNextFullTransactionId());
    return reading;
  });
}

int sessions_waiting_on_us(Oid relid) {
  return call([relid] {
    if (!TransactionIdIsValid(GetTopTransactionIdIfAny()))
      return 0;
    int waiting = 0;
    for (int i = 0; i < process_count(); ++i) {
      const volatile PGPROC *proc = &ProcGlobal->allProcs[i];
      if (proc == MyProc || proc->pid == 0)
        continue;
      // The lock object stays in shared memory after its waiter is woken:
      // reading a stale one is safe, and at worst counts a waiter twice.
      const LOCK *lock = proc->waitLock;
      if (lock == nullptr)
        continue;
      const LOCKTAG tag = lock->tag;
      const bool on_our_rows = tag.locktag_type == LOCKTAG_TRANSACTION &&
                               TransactionIdIsCurrentTransactionId(tag.locktag_field1);
      const bool on_our_table = tag.locktag_type == LOCKTAG_RELATION &&
                                tag.locktag_field1 == MyDatabaseId &&
                                tag.locktag_field2 == relid;
      if (on_our_rows || on_our_table)
        ++waiting;
    }
    return waiting;
  });
}

} // namespace colmig::pg
