// A job's stored expression (nodeToString of what add_column analysed),
// made ready to evaluate over a row of its table. Nothing is parsed: the
// names were bound to objects when the job was created. C-level helpers:
// call them inside pg::call.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/execnodes.h"
#include "utils/relcache.h"
}

namespace colmig::pg {

// Reads `stored` for filling column `target` of `rel`, and checks that the
// target and every column it reads are still there, with the types they
// had (42703 / 42804 otherwise: a column was dropped or changed its type
// since, and the value would no longer fit, or be read wrongly). `job`
// names the job in errors.
Expr *load_fill_expression(const char *stored, Relation rel, AttrNumber target,
                           const char *job);

// Plans and compiles `expr` for evaluation over ecxt_scantuple, in the
// current memory context.
ExprState *compile_fill_expression(Expr *expr);

} // namespace colmig::pg
