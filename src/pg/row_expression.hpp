// An SQL expression over the columns of one table row, as add_column's
// backfill_expr and default_expr are written. Plain C-level helpers: call
// them inside pg::call.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/nodes.h"
#include "parser/parse_node.h"
#include "utils/relcache.h"
}

namespace colmig::pg {

// Parses `expr` as exactly one expression (the target of `SELECT <expr>`
// and nothing else: no alias, clause or second statement), over the
// columns of `rel` when `rel` is given (Vars of range table entry 1), and
// coerces it to `type_oid`/`type_mod` as an assignment would. `argument`
// names the expression in errors (42601, 42804, 0A000 for a subquery).
// The result is what runs: colmig stores it (nodeToString) and never
// parses the text again. Allocates in CurrentMemoryContext.
Node *analyze_row_expression(Relation rel, const char *expr, Oid type_oid, int32 type_mod,
                             const char *argument);

// A condition over the columns of `rel`, as PostgreSQL analyses a CHECK
// constraint or an index predicate (`kind`): exactly one expression,
// coerced to boolean, collations assigned. Errors as above.
Node *analyze_condition(Relation rel, const char *expr, ParseExprKind kind,
                        const char *argument);

// An index key expression, already parsed (`raw`, from `source`), over
// the columns of `rel`.
Node *analyze_index_expression(Relation rel, Node *raw, const char *source);

} // namespace colmig::pg
