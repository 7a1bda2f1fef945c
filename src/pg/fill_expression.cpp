#include "pg/fill_expression.hpp"

extern "C" {
#include "access/tupdesc.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace colmig::pg {

namespace {

struct VarCheck {
  TupleDesc desc;
  const char *relname;
  const char *what;
};

bool check_var(Node *node, void *context) {
  if (node == nullptr)
    return false;
  if (IsA(node, Var)) {
    const auto *check = static_cast<VarCheck *>(context);
    const Var *var = reinterpret_cast<Var *>(node);
    if (var->varattno <= 0 || var->varattno > check->desc->natts ||
        TupleDescAttr(check->desc, var->varattno - 1)->attisdropped)
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                      errmsg("a column that %s reads was dropped from \"%s\"",
                             check->what, check->relname)));
    Form_pg_attribute attr = TupleDescAttr(check->desc, var->varattno - 1);
    if (attr->atttypid != var->vartype || attr->atttypmod != var->vartypmod ||
        attr->attcollation != var->varcollid)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("column \"%s\" of \"%s\", which %s reads, changed its type",
                             NameStr(attr->attname), check->relname, check->what)));
    return false;
  }
  // PostgreSQL 15 declares the walker without parameters; the cast goes
  // through void (*)(), the type GCC accepts for such a conversion.
  return expression_tree_walker(
      node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(check_var)),
      context);
}

} // namespace

Expr *load_fill_expression(const char *stored, Relation rel, AttrNumber target,
                           const char *job) {
  TupleDesc desc = RelationGetDescr(rel);
  const char *relname = RelationGetRelationName(rel);
  if (target <= 0 || target > desc->natts ||
      TupleDescAttr(desc, target - 1)->attisdropped)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("the column colmig job %s fills was dropped from \"%s\"", job,
                           relname)));
  Node *expr = static_cast<Node *>(stringToNode(stored));
  // The value is built for the column as it was: a column whose type
  // changed since would store it as something else.
  Form_pg_attribute column = TupleDescAttr(desc, target - 1);
  if (column->atttypid != exprType(expr) || column->atttypmod != exprTypmod(expr))
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("column \"%s\" of \"%s\", which colmig job %s fills, changed "
                           "its type",
                           NameStr(column->attname), relname, job)));
  char what[64];
  snprintf(what, sizeof(what), "the expression of colmig job %s", job);
  VarCheck check{desc, relname, what};
  (void)check_var(expr, &check);
  return reinterpret_cast<Expr *>(expr);
}

ExprState *compile_fill_expression(Expr *expr) {
  return ExecInitExpr(expression_planner(expr), nullptr);
}

} // namespace colmig::pg
