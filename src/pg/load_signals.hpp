// What the worker reads of the application's load between batches, from
// shared memory: no statement, no transaction, no statistics snapshot
// (the cumulative statistics lag by up to a second, and querying
// pg_stat_activity builds a tuple descriptor per call that cost the worker
// more than its batches' bookkeeping). The reads take no lock: a value
// torn by a concurrent change is a sample off by one, which the gauge
// (core/load_gauge.hpp) averages away.
#pragma once

#include "pg/postgres.hpp"

#include <cstdint>

namespace colmig::pg {

struct LoadReading {
  // Other client sessions in a transaction that holds a transaction id, or
  // running a statement (core::LoadSample::active_sessions). Background
  // workers, autovacuum, idle sessions and read-only ones asleep in
  // pg_sleep or in an extension's wait (colmig.wait_job) do not count.
  int active_sessions = 0;
  // The next transaction id to be assigned.
  std::uint64_t next_xid = 0;
};

LoadReading read_load();

// Sessions waiting now for a lock this transaction holds: a row the batch
// updated (its transaction id) or the table itself (DDL queued behind the
// batch). Called inside the batch's transaction, before it commits.
int sessions_waiting_on_us(Oid relid);

} // namespace colmig::pg
