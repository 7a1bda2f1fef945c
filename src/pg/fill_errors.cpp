#include "pg/fill_errors.hpp"

#include "pg/spi.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

namespace colmig::pg {

namespace {

constexpr int kSlots = 1024;

struct FillErrorCounters {
  std::int64_t epoch;
  pg_atomic_uint64 counts[kSlots];
};

FillErrorCounters *counters = nullptr;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

void request_counters() {
  if (previous_request_hook)
    previous_request_hook();
  RequestAddinShmemSpace(MAXALIGN(sizeof(FillErrorCounters)));
}

void start_counters() {
  if (previous_startup_hook)
    previous_startup_hook();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  counters = static_cast<FillErrorCounters *>(
      ShmemInitStruct("colmig fill errors", sizeof(FillErrorCounters), &found));
  if (!found) {
    // Whatever the server start: a mark from before never matches.
    counters->epoch = static_cast<std::int64_t>(GetCurrentTimestamp());
    for (pg_atomic_uint64 &count : counters->counts)
      pg_atomic_init_u64(&count, 0);
  }
  LWLockRelease(AddinShmemInitLock);
}

// colmig.fill_errors, or InvalidOid while the extension is being dropped.
Oid fallback_sequence() {
  const Oid schema = get_namespace_oid("colmig", true);
  return OidIsValid(schema) ? get_relname_relid("fill_errors", schema) : InvalidOid;
}

} // namespace

void install_fill_error_counters() {
  previous_request_hook = shmem_request_hook;
  shmem_request_hook = request_counters;
  previous_startup_hook = shmem_startup_hook;
  shmem_startup_hook = start_counters;
}

void note_fill_error(Oid trigger) {
  if (counters != nullptr) {
    pg_atomic_fetch_add_u64(&counters->counts[trigger % kSlots], 1);
    return;
  }
  // Not transactional, like every nextval(): counted even if the writing
  // transaction rolls back (a sweep for nothing), and no lock is held.
  const Oid sequence = fallback_sequence();
  if (OidIsValid(sequence))
    (void)nextval_internal(sequence, false);
}

FillErrorMark fill_error_mark(Oid trigger) {
  FillErrorMark mark;
  if (counters == nullptr) {
    execute("SELECT pg_catalog.pg_sequence_last_value($1::pg_catalog.regclass)",
            {oid_param(fallback_sequence())}, true);
    mark.count = get_int64(0, 0).value_or(0);
    return mark;
  }
  mark.epoch = counters->epoch;
  mark.count =
      static_cast<std::int64_t>(pg_atomic_read_u64(&counters->counts[trigger % kSlots]));
  return mark;
}

} // namespace colmig::pg
