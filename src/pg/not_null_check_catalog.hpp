// A job's NOT VALID check in the catalog, dropped by OID for cleanup. No
// role's rights are needed: a failed or cancelled job removes its own
// helper, also when its table changed owner meanwhile. C-level: call it
// inside pg::call.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "utils/relcache.h"
}

namespace colmig::pg {

// Drops the check constraint `name` of `relid` (locked by the caller) if it
// exists and is colmig's (its expression calls colmig.check_of_job()).
void drop_not_null_check(Oid relid, const char *name);

// Whether the table's valid CHECK constraints prove column `attnum` NOT
// NULL, as ALTER TABLE ... SET NOT NULL decides whether it can skip its
// scan (weak implication over the canonical checks).
bool not_null_proven(Oid relid, AttrNumber attnum);

// The same of a relation the caller has open and locked; takes no lock of
// its own (plan() and the guard must not hold one until the end of the
// caller's transaction).
bool not_null_proven(Relation rel, AttrNumber attnum);

} // namespace colmig::pg
