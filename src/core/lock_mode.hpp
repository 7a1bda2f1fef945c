// PostgreSQL's eight table lock modes, what each conflicts with and what
// an application's statements stop doing while one is held. The steps of a
// job's plan (core/plan.hpp) and the guard's rules (core/ddl_rules.hpp)
// both name their locks with these.
#pragma once
#include "core/cpp_only.hpp"

namespace colmig::core {

// In PostgreSQL's order, weakest first.
enum class LockMode {
  access_share,           // SELECT
  row_share,              // SELECT FOR UPDATE/SHARE
  row_exclusive,          // INSERT, UPDATE, DELETE
  share_update_exclusive, // VACUUM, VALIDATE CONSTRAINT, CREATE INDEX CONCURRENTLY
  share,                  // CREATE INDEX
  share_row_exclusive,    // ADD FOREIGN KEY, CREATE TRIGGER
  exclusive,              // REFRESH MATERIALIZED VIEW CONCURRENTLY
  access_exclusive        // most ALTER TABLE forms, DROP, TRUNCATE, VACUUM FULL
};

inline constexpr int kLockModes = 8;

// The conflict table of PostgreSQL's documentation ("Table-Level Locks").
bool conflicts(LockMode held, LockMode requested);

// Whether a transaction holding `held` is granted `requested` at once: every
// mode that conflicts with `requested` conflicts with `held` too, so no
// other transaction can hold or be waiting for one ahead of it. (SHARE does
// not cover SHARE UPDATE EXCLUSIVE, although it comes later in the order.)
bool covers(LockMode held, LockMode requested);

// What the application cannot do while the lock is held: reads are SELECT
// (ACCESS SHARE), writes are INSERT/UPDATE/DELETE (ROW EXCLUSIVE).
enum class Blocks { nothing, writes, reads_and_writes };
Blocks blocks(LockMode mode);

const char *to_string(LockMode mode);  // "ACCESS EXCLUSIVE"
const char *to_string(Blocks blocked); // "reads and writes"
// The name pg_locks uses ("AccessExclusiveLock").
const char *lock_view_name(LockMode mode);

} // namespace colmig::core
