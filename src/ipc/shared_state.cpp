#include "ipc/shared_state.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "port/atomics.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
}

namespace colmig::ipc {

namespace {

struct Slot {
  Oid database;
  bool clean_exit;
};

// A database that wants a worker later (its next job's start_at).
struct Wakeup {
  Oid database; // InvalidOid: free
  TimestampTz at;
};

// An application INSERT that left a column out and had it filled by a
// colmig fill trigger: the latest one per column (the guard's
// fill_trigger_reliance rule).
struct InsertFill {
  Oid database; // InvalidOid: free
  Oid relid;
  AttrNumber attnum;
  TimestampTz at;
};
constexpr int kMaxInsertFills = 64;

struct SharedState {
  slock_t mutex;
  InsertFill insert_fills[kMaxInsertFills];
  Latch *launcher_latch;
  int pending_count;
  Oid pending[kMaxSlots];
  Slot slots[kMaxSlots];
  Wakeup wakeups[kMaxSlots];
  pg_atomic_uint64 worker_xids;
};

SharedState *shared = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;
bool wake_requested = false;

void request_shmem() {
  if (previous_request_hook)
    previous_request_hook();
  RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
}

void startup_shmem() {
  if (previous_startup_hook)
    previous_startup_hook();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  shared =
      static_cast<SharedState *>(ShmemInitStruct("colmig", sizeof(SharedState), &found));
  if (!found) {
    memset(shared, 0, sizeof(SharedState));
    SpinLockInit(&shared->mutex);
    pg_atomic_init_u64(&shared->worker_xids, 0);
  }
  LWLockRelease(AddinShmemInitLock);
}

void enqueue_database(Oid database) {
  SpinLockAcquire(&shared->mutex);
  bool present = false;
  for (int i = 0; i < shared->pending_count; ++i)
    present = present || shared->pending[i] == database;
  if (!present && shared->pending_count < kMaxSlots)
    shared->pending[shared->pending_count++] = database;
  Latch *latch = shared->launcher_latch;
  SpinLockRelease(&shared->mutex);
  if (latch != nullptr)
    SetLatch(latch);
}

// This process is a colmig job worker: its transaction ids are colmig's.
bool counting_xids = false;

void count_transaction_id(XactEvent event) {
  if (!counting_xids || shared == nullptr)
    return;
  if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_ABORT)
    return;
  if (TransactionIdIsValid(GetTopTransactionIdIfAny()))
    (void)pg_atomic_fetch_add_u64(&shared->worker_xids, 1);
}

// Waking before commit would let the worker look before the job exists.
void on_transaction_end(XactEvent event, void *) {
  count_transaction_id(event);
  if (event == XACT_EVENT_COMMIT && wake_requested && shared != nullptr)
    enqueue_database(MyDatabaseId);
  if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
      event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
    wake_requested = false;
}

} // namespace

void install_shmem_hooks() {
  previous_request_hook = shmem_request_hook;
  shmem_request_hook = request_shmem;
  previous_startup_hook = shmem_startup_hook;
  shmem_startup_hook = startup_shmem;
}

bool shared_state_available() { return shared != nullptr; }

void note_insert_fill(Oid relid, AttrNumber attnum) {
  if (shared == nullptr)
    return;
  // One note a second per column is plenty: every insert passes here.
  static Oid last_relid = InvalidOid;
  static AttrNumber last_attnum = 0;
  static TimestampTz last_at = 0;
  const TimestampTz now = GetCurrentTimestamp();
  if (relid == last_relid && attnum == last_attnum && now - last_at < USECS_PER_SEC)
    return;
  last_relid = relid;
  last_attnum = attnum;
  last_at = now;
  SpinLockAcquire(&shared->mutex);
  InsertFill *entry = &shared->insert_fills[0];
  for (InsertFill &fill : shared->insert_fills) {
    if (fill.database == MyDatabaseId && fill.relid == relid && fill.attnum == attnum) {
      entry = &fill;
      break;
    }
    if (fill.at < entry->at)
      entry = &fill; // the oldest (or a free one) makes room
  }
  *entry = InsertFill{MyDatabaseId, relid, attnum, now};
  SpinLockRelease(&shared->mutex);
}

std::optional<TimestampTz> last_insert_fill(Oid relid, AttrNumber attnum) {
  if (shared == nullptr)
    return std::nullopt;
  std::optional<TimestampTz> at;
  SpinLockAcquire(&shared->mutex);
  for (const InsertFill &fill : shared->insert_fills)
    if (fill.database == MyDatabaseId && fill.relid == relid && fill.attnum == attnum)
      at = fill.at;
  SpinLockRelease(&shared->mutex);
  return at;
}

void register_commit_callback() { RegisterXactCallback(on_transaction_end, nullptr); }

void count_worker_xids() { counting_xids = true; }

std::optional<std::uint64_t> worker_xids() {
  if (shared == nullptr)
    return std::nullopt;
  return pg_atomic_read_u64(&shared->worker_xids);
}

void wake_launcher_at_commit() { wake_requested = true; }

void request_another_worker() {
  if (shared != nullptr)
    enqueue_database(MyDatabaseId);
}

bool request_worker_at(TimestampTz at) {
  if (shared == nullptr)
    return false;
  bool kept = false;
  SpinLockAcquire(&shared->mutex);
  Wakeup *free_entry = nullptr;
  for (Wakeup &wakeup : shared->wakeups) {
    if (wakeup.database == MyDatabaseId) {
      wakeup.at = wakeup.at < at ? wakeup.at : at;
      kept = true;
      break;
    }
    if (wakeup.database == InvalidOid && free_entry == nullptr)
      free_entry = &wakeup;
  }
  if (!kept && free_entry != nullptr) {
    *free_entry = {MyDatabaseId, at};
    kept = true;
  }
  SpinLockRelease(&shared->mutex);
  return kept;
}

int take_due_wakeups(TimestampTz now, Oid *out, int max, TimestampTz *next) {
  int count = 0;
  *next = 0;
  SpinLockAcquire(&shared->mutex);
  for (Wakeup &wakeup : shared->wakeups) {
    if (wakeup.database == InvalidOid)
      continue;
    if (wakeup.at <= now && count < max) {
      out[count++] = wakeup.database;
      wakeup.database = InvalidOid;
    } else if (*next == 0 || wakeup.at < *next) {
      *next = wakeup.at;
    }
  }
  SpinLockRelease(&shared->mutex);
  return count;
}

void register_launcher() {
  SpinLockAcquire(&shared->mutex);
  shared->launcher_latch = &MyProc->procLatch;
  SpinLockRelease(&shared->mutex);
}

int take_pending_databases(Oid *out, int max) {
  SpinLockAcquire(&shared->mutex);
  int count = shared->pending_count < max ? shared->pending_count : max;
  for (int i = 0; i < count; ++i)
    out[i] = shared->pending[i];
  for (int i = count; i < shared->pending_count; ++i)
    shared->pending[i - count] = shared->pending[i];
  shared->pending_count -= count;
  SpinLockRelease(&shared->mutex);
  return count;
}

void slot_begin(int slot, Oid database) {
  SpinLockAcquire(&shared->mutex);
  shared->slots[slot].database = database;
  shared->slots[slot].clean_exit = false;
  SpinLockRelease(&shared->mutex);
}

bool slot_exited_cleanly(int slot) {
  SpinLockAcquire(&shared->mutex);
  bool clean = shared->slots[slot].clean_exit;
  SpinLockRelease(&shared->mutex);
  return clean;
}

void slot_mark_clean_exit(int slot) {
  if (shared == nullptr || slot < 0 || slot >= kMaxSlots)
    return;
  SpinLockAcquire(&shared->mutex);
  shared->slots[slot].clean_exit = true;
  SpinLockRelease(&shared->mutex);
}

} // namespace colmig::ipc
