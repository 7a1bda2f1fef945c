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

// Reads `stored` and checks that every column it reads is still there,
// with the type it had (42703 / 42804 otherwise: the column was dropped or
// its type changed since). `what` names the expression in errors.
Expr *load_fill_expression(const char *stored, Relation rel, const char *what);

// Plans and compiles `expr` for evaluation over ecxt_scantuple, in the
// current memory context.
ExprState *compile_fill_expression(Expr *expr);

} // namespace colmig::pg
