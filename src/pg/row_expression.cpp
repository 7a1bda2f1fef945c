#include "pg/row_expression.hpp"

extern "C" {
#include "nodes/makefuncs.h"
#include "storage/lockdefs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
}

namespace colmig::pg {

namespace {

bool is_single_expression(Node *stmt) {
  if (stmt == nullptr || !IsA(stmt, SelectStmt))
    return false;
  SelectStmt *select = (SelectStmt *)stmt;
  if (select->op != SETOP_NONE || list_length(select->targetList) != 1)
    return false;
  // `1 AS x` is a column alias, not an expression.
  ResTarget *target = linitial_node(ResTarget, select->targetList);
  return target->name == nullptr && target->indirection == NIL &&
         select->fromClause == NIL && select->whereClause == nullptr &&
         select->groupClause == NIL && select->havingClause == nullptr &&
         select->windowClause == NIL && select->valuesLists == NIL &&
         select->sortClause == NIL && select->limitOffset == nullptr &&
         select->limitCount == nullptr && select->lockingClause == NIL &&
         select->withClause == nullptr && select->distinctClause == NIL &&
         select->intoClause == nullptr;
}

// The one expression of `expr`, parsed (42601 when it is not exactly one);
// `query` gets the text the parse positions refer to.
Node *parse_one_expression(const char *expr, const char *argument, char **query) {
  // No parentheses around the text: inside them, `1) --` would close them
  // and comment out the rest, and still parse.
  *query = psprintf("SELECT %s", expr);
  List *parsed = raw_parser(*query, RAW_PARSE_DEFAULT);
  Node *stmt = list_length(parsed) == 1 ? linitial_node(RawStmt, parsed)->stmt : nullptr;
  if (!is_single_expression(stmt))
    ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR),
                    errmsg("%s must be exactly one SQL expression", argument),
                    errdetail("Got: %s", expr)));
  return linitial_node(ResTarget, ((SelectStmt *)stmt)->targetList)->val;
}

ParseState *parse_state_over(Relation rel, const char *source) {
  ParseState *pstate = make_parsestate(nullptr);
  pstate->p_sourcetext = source;
  ParseNamespaceItem *item =
      addRangeTableEntryForRelation(pstate, rel, AccessShareLock, nullptr, false, true);
  addNSItemToQuery(pstate, item, true, true, true);
  return pstate;
}

} // namespace

Node *analyze_condition(Relation rel, const char *expr, ParseExprKind kind,
                        const char *argument) {
  char *query = nullptr;
  Node *raw = parse_one_expression(expr, argument, &query);
  ParseState *pstate = parse_state_over(rel, query);
  Node *cooked = transformExpr(pstate, raw, kind);
  cooked = coerce_to_boolean(pstate, cooked,
                             kind == EXPR_KIND_CHECK_CONSTRAINT ? "CHECK" : "WHERE");
  assign_expr_collations(pstate, cooked);
  free_parsestate(pstate);
  return cooked;
}

Node *analyze_index_expression(Relation rel, Node *raw, const char *source) {
  ParseState *pstate = parse_state_over(rel, source);
  Node *cooked = transformExpr(pstate, raw, EXPR_KIND_INDEX_EXPRESSION);
  assign_expr_collations(pstate, cooked);
  free_parsestate(pstate);
  return cooked;
}

Node *analyze_row_expression(Relation rel, const char *expr, Oid type_oid, int32 type_mod,
                             const char *argument) {
  char *query = nullptr;
  Node *raw = parse_one_expression(expr, argument, &query);

  ParseState *pstate = make_parsestate(nullptr);
  pstate->p_sourcetext = query;
  if (rel != nullptr) {
    ParseNamespaceItem *item =
        addRangeTableEntryForRelation(pstate, rel, AccessShareLock, nullptr, false, true);
    addNSItemToQuery(pstate, item, true, true, true);
  }
  Node *cooked = transformExpr(
      pstate, raw, rel != nullptr ? EXPR_KIND_UPDATE_SOURCE : EXPR_KIND_COLUMN_DEFAULT);
  // The fill trigger evaluates the expression row by row without a plan,
  // as PostgreSQL does for a generated column.
  if (checkExprHasSubLink(cooked))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s must not contain a subquery", argument),
                    errhint("Put the subquery in a function and call that.")));
  Oid expr_type = exprType(cooked);
  Node *coerced = coerce_to_target_type(pstate, cooked, expr_type, type_oid, type_mod,
                                        COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
  if (coerced == nullptr)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("%s is of type %s but the column is of type %s", argument,
                           format_type_be(expr_type), format_type_be(type_oid)),
                    errhint("Add an explicit cast to the expression.")));
  assign_expr_collations(pstate, coerced);
  free_parsestate(pstate);
  return coerced;
}

} // namespace colmig::pg
