// Shared memory, present only when colmig is in shared_preload_libraries:
// the launcher's latch, the databases that asked for a worker since the
// launcher last looked, and one slot per running job worker.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

#include <cstdint>
#include <optional>

namespace colmig::ipc {

constexpr int kMaxSlots = 64;

void install_shmem_hooks();
// Whether a launcher can be woken (colmig was preloaded).
bool shared_state_available();

// Remember that the current database has new work; at commit the launcher
// is woken to start a worker for it. Does nothing when not preloaded.
void wake_launcher_at_commit();
// Asks the launcher now for one more worker for the current database (a
// worker that saw a job nobody runs besides its own). Does nothing when not
// preloaded.
void request_another_worker();
// Asks the launcher for a worker for the current database at `at` (the
// next job's start_at), so that no worker waits idle for it meanwhile.
// False when it cannot be kept (not preloaded, or no room).
bool request_worker_at(TimestampTz at);
// From _PG_init: the commit callback behind wake_launcher_at_commit().
void register_commit_callback();

// The transaction ids colmig's job workers took (their top-level
// transactions that wrote, counted as they end): what the load gauge takes
// off the server's transaction id counter, so that colmig's own jobs are
// not the application's load (runner/load_pace.hpp). A job worker calls
// count_worker_xids() once; worker_xids() is nothing when colmig is not
// preloaded.
void count_worker_xids();
std::optional<std::uint64_t> worker_xids();

// The fill trigger notes an INSERT whose column `attnum` of `relid` it
// filled (at most once a second per backend and column); the guard asks
// when that last happened, before a SET NOT NULL of the column. Nothing
// when colmig is not preloaded.
void note_insert_fill(Oid relid, AttrNumber attnum);
std::optional<TimestampTz> last_insert_fill(Oid relid, AttrNumber attnum);

// Launcher side.
void register_launcher();                      // sets the latch to wake
int take_pending_databases(Oid *out, int max); // drains the queue
// The databases whose wake-up time has come (taken off the list); `next`
// gets the earliest one still ahead, or 0.
int take_due_wakeups(TimestampTz now, Oid *out, int max, TimestampTz *next);
void slot_begin(int slot, Oid database);
bool slot_exited_cleanly(int slot);

// Worker side: called just before a worker exits by itself.
void slot_mark_clean_exit(int slot);

} // namespace colmig::ipc
