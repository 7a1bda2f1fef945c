// A job's table, reached by OID: locked first, then named. Renames and
// swaps take ACCESS EXCLUSIVE, so once the lock is held the name read here
// stays the table's name until the transaction ends, and a statement built
// from it acts on this table and no other.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>

extern "C" {
#include "storage/lockdefs.h"
}

namespace colmig::pg {

// Locks `relid` in `mode` (waiting at most lock_timeout) and returns its
// current schema-qualified, quoted name; nothing when it no longer exists.
std::optional<std::string> lock_relation(Oid relid, LOCKMODE mode);

// The table's owner now (InvalidOid when it is gone).
Oid relation_owner(Oid relid);

// The current name of the column `attnum` of `relid`, quoted; nothing when
// it was dropped.
std::optional<std::string> column_name(Oid relid, AttrNumber attnum);

// The attribute number of column `name` of `relid`, if it exists.
std::optional<AttrNumber> column_number(Oid relid, const std::string &name);

// The table's relfilenode: a rewrite (VACUUM FULL, CLUSTER, a rewriting
// ALTER TABLE, TRUNCATE) gives it a new one. InvalidOid when it is gone.
Oid relation_filenode(Oid relid);

// Whether the table has inheritance children now.
bool has_inheritance_children(Oid relid);

// An analysed expression (as stored) as SQL text that parses back to the
// same objects under colmig's pinned search_path: names that path would
// not find are schema-qualified, as pg_dump's use of ruleutils does.
std::string deparse_expression(const std::string &stored);
// The same for an expression over the columns of `relid` (a CHECK, an
// index expression or predicate): its columns are named as they are now.
std::string deparse_expression_for(const std::string &stored, Oid relid);
// The same with every implicit cast written out, for text another node
// parses back (docs/citus.md): the same functions and operators are chosen
// there, whatever overloads it has besides.
std::string deparse_expression_exactly(const std::string &stored, Oid relid);

} // namespace colmig::pg
