// The key columns of an index as colmig.create_index() receives them
// (`columns`, the text between the parentheses of CREATE INDEX), parsed by
// PostgreSQL's own grammar and analysed against the table. Plain C-level
// helpers: call them inside pg::call.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/nodes.h"
#include "utils/relcache.h"
}

namespace colmig::pg {

// Bits of IndexKey::options.
inline constexpr int kKeyDescending = 1, kKeyAscending = 2, kKeyNullsFirst = 4,
                     kKeyNullsLast = 8;

struct IndexKey {
  AttrNumber attnum; // 0 for an expression
  char *expr_node;   // the analysed expression (nodeToString), or null
  Node *expr;
  Oid collation; // InvalidOid: the default
  Oid opclass;   // InvalidOid: the default
  int options;
};

struct IndexKeys {
  IndexKey *keys;
  int count;
};

// Parses `columns` as exactly the key list of one CREATE INDEX (42601
// otherwise: no second statement, no other clause), and checks each key
// for access method `am`: the column exists, an expression uses only
// IMMUTABLE functions (42P17), operator classes and collations exist
// (42704), ASC/DESC only where the method orders (0A000).
IndexKeys analyse_index_keys(Relation rel, Oid am, const char *columns);

} // namespace colmig::pg
