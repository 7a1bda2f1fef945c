// Statements that cannot run inside a transaction block (CREATE INDEX
// CONCURRENTLY, DROP INDEX CONCURRENTLY): they commit transactions of
// their own, so they cannot go through SPI. The worker runs them as a
// client's simple query runs, through a portal at top level (pg_cron's
// ExecuteSqlString has the same shape), outside any transaction of ours.
#pragma once

#include "pg/postgres.hpp"

#include <functional>
#include <optional>
#include <string>

extern "C" {
#include "storage/lockdefs.h"
}

namespace colmig::pg {

struct TopLevelStatement {
  const char *activity; // shown in pg_stat_activity
  // Locked in `lock_mode` before the statement is rendered, waiting at most
  // `lock_timeout_ms`: its name cannot change until the statement holds
  // its own lock. A lock timeout raises 55P03 before anything ran.
  Oid lock_relid;
  LOCKMODE lock_mode;
  int lock_timeout_ms;
  // The role the statement runs as (restricted like AsRole); InvalidOid:
  // the worker's own.
  Oid role;
  // Builds the statement once the lock is held (names read by OID then,
  // SPI connected); nothing when there is nothing left to do.
  std::function<std::optional<std::string>()> render;
};

// Runs the statement to its end with lock_timeout off (its waits for older
// transactions block no reader or writer and must not time out) and
// colmig's pinned search_path. Must be called outside any transaction.
void run_outside_transaction_block(const TopLevelStatement &statement);

} // namespace colmig::pg
