// An SQL expression over the columns of one table row, as add_column's
// backfill_expr and default_expr are written. Plain C-level helpers: call
// them inside pg::call.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/nodes.h"
#include "utils/relcache.h"
}

namespace colmig::pg {

// Parses `expr` as exactly one expression (wrapped in parentheses, so text
// that closes them and goes on does not parse), over the columns of `rel`
// when `rel` is given, and coerces it to `type_oid`/`type_mod` as an
// assignment would. `argument` names the expression in errors (42601,
// 42804, 0A000 for a subquery). Allocates in CurrentMemoryContext.
Node *analyze_row_expression(Relation rel, const char *expr, Oid type_oid, int32 type_mod,
                             const char *argument);

} // namespace colmig::pg
