// The objects an analysed expression uses, exactly as PostgreSQL records
// them in pg_depend for a column default: functions, operators, types,
// collations, and columns of the expression's own table. Pinned (built-in)
// objects are left out: they cannot be dropped.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/nodes.h"
}

namespace colmig::pg {

struct ObjectRef {
  Oid classid;
  Oid objid;
  int32 objsubid;
};

struct ObjectRefs {
  ObjectRef *refs; // palloc'd in CurrentMemoryContext
  int count;
};

// `expr` has Vars of range table entry 1 standing for `relid`'s columns
// (InvalidOid: an expression without columns). C-level: call it inside
// pg::call.
ObjectRefs expression_dependencies(Node *expr, Oid relid);

} // namespace colmig::pg
