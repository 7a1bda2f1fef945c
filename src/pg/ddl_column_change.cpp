// The analyses behind ADD COLUMN ... DEFAULT and ALTER COLUMN ... TYPE, made
// the way tablecmds.c makes them (ATExecAddColumn, ATPrepAlterColumnType,
// ATColumnChangeRequiresRewrite), and the deparsed expressions colmig's
// calls take.
#include "pg/ddl_statement_parts.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
}

namespace colmig::pg::ddl {

namespace {

// A parse state that sees `rel`'s columns (a statement on the table holds
// a lock on it by then; here the caller holds ACCESS SHARE).
ParseState *parse_state_for(Relation rel) {
  ParseState *pstate = make_parsestate(nullptr);
  if (rel != nullptr) {
    ParseNamespaceItem *item =
        addRangeTableEntryForRelation(pstate, rel, AccessShareLock, nullptr, false, true);
    addNSItemToQuery(pstate, item, true, true, true);
  }
  return pstate;
}

// ATColumnChangeRequiresRewrite of PostgreSQL 15: only a chain of
// binary-compatible relabels (and a domain without constraints) over the
// old column keeps its values as they are.
bool requires_rewrite(Node *expr, AttrNumber attnum) {
  for (;;) {
    if (IsA(expr, Var) && reinterpret_cast<Var *>(expr)->varattno == attnum)
      return false;
    if (IsA(expr, RelabelType)) {
      expr = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(expr)->arg);
    } else if (IsA(expr, CoerceToDomain)) {
      auto *domain = reinterpret_cast<CoerceToDomain *>(expr);
      if (DomainHasConstraints(domain->resulttype))
        return true;
      expr = reinterpret_cast<Node *>(domain->arg);
    } else if (IsA(expr, FuncExpr)) {
      auto *call = reinterpret_cast<FuncExpr *>(expr);
      // timestamp <-> timestamptz keeps the stored values when the
      // session's time zone is UTC.
      if ((call->funcid == F_TIMESTAMPTZ_TIMESTAMP ||
           call->funcid == F_TIMESTAMP_TIMESTAMPTZ) &&
          !TimestampTimestampTzRequiresRewrite())
        expr = static_cast<Node *>(linitial(call->args));
      else
        return true;
    } else {
      return true;
    }
  }
}

} // namespace

ColumnDefault analyse_default(Relation rel, Node *raw_default, Oid type, int32 typmod) {
  ColumnDefault result{false, false, nullptr};
  if (raw_default == nullptr)
    return result;
  ParseState *pstate = parse_state_for(nullptr);
  Node *expr = transformExpr(pstate, raw_default, EXPR_KIND_COLUMN_DEFAULT);
  assign_expr_collations(pstate, expr);
  result.present = true;
  result.text = deparse_expression(expr, NIL, false, false);
  Node *coerced = coerce_to_target_type(pstate, expr, exprType(expr), type, typmod,
                                        COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
  result.is_volatile = contain_volatile_functions(coerced != nullptr ? coerced : expr);
  // A NULL default stores nothing: ADD COLUMN ... DEFAULT NULL is catalog only.
  if (IsA(expr, Const) && reinterpret_cast<Const *>(expr)->constisnull)
    result.present = false;
  return result;
}

TypeChange type_change_rewrites(Relation rel, AttrNumber attnum, Oid new_type,
                                int32 new_typmod, Node *raw_using) {
  Form_pg_attribute attribute = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
  ParseState *pstate = parse_state_for(rel);
  Node *expr = raw_using != nullptr
                   ? transformExpr(pstate, raw_using, EXPR_KIND_ALTER_COL_TRANSFORM)
                   : reinterpret_cast<Node *>(makeVar(1, attnum, attribute->atttypid,
                                                      attribute->atttypmod,
                                                      attribute->attcollation, 0));
  assign_expr_collations(pstate, expr);
  Node *coerced =
      coerce_to_target_type(pstate, expr, exprType(expr), new_type, new_typmod,
                            COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
  if (coerced == nullptr)
    return TypeChange::refused;
  assign_expr_collations(pstate, coerced);
  coerced =
      reinterpret_cast<Node *>(expression_planner(reinterpret_cast<Expr *>(coerced)));
  return requires_rewrite(coerced, attnum) ? TypeChange::rewrites
                                           : TypeChange::keeps_values;
}

namespace {

// Whether the expressions or predicate (column `field` of pg_index) of an
// index read column `attnum`.
bool index_expression_reads(HeapTuple index, int field, AttrNumber attnum) {
  bool isnull = false;
  const Datum value = SysCacheGetAttr(INDEXRELID, index, field, &isnull);
  if (isnull)
    return false;
  Bitmapset *columns = nullptr;
  pull_varattnos(static_cast<Node *>(stringToNode(TextDatumGetCString(value))), 1,
                 &columns);
  return bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, columns);
}

// Whether key column `key` of an index on the column is rebuilt: when the
// collation it took from the column changes, or the new type's default
// operator class is of another family than the old type's it uses.
bool index_key_rebuilt(Form_pg_attribute column, Oid class_oid, Oid collation, Oid am,
                       Oid new_type, Oid new_collation) {
  if (collation == column->attcollation && new_collation != column->attcollation)
    return true;
  // A class the index names itself is named again when it is rebuilt.
  if (class_oid != GetDefaultOpClass(column->atttypid, am))
    return false;
  // CheckIndexCompatible compares the classes themselves: timestamp_ops
  // and timestamptz_ops share a family, and still the index is rebuilt.
  const Oid new_class = GetDefaultOpClass(new_type, am);
  return !OidIsValid(new_class) || new_class != class_oid;
}

} // namespace

Oid access_method_of(Oid index) {
  HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(index));
  if (!HeapTupleIsValid(tuple))
    return InvalidOid;
  const Oid am = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relam;
  ReleaseSysCache(tuple);
  return am;
}

bool checks_read_column(Relation rel, AttrNumber attnum) {
  TupleConstr *constr = RelationGetDescr(rel)->constr;
  for (int i = 0; constr != nullptr && i < constr->num_check; ++i) {
    if (!constr->check[i].ccvalid)
      continue; // re-added NOT VALID: not checked again
    Bitmapset *columns = nullptr;
    pull_varattnos(static_cast<Node *>(stringToNode(constr->check[i].ccbin)), 1,
                   &columns);
    if (bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, columns))
      return true;
  }
  return false;
}

int indexes_rebuilt_by_type_change(Relation rel, AttrNumber attnum, Oid new_type,
                                   Oid new_collation) {
  Form_pg_attribute column = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
  int rebuilt = 0;
  List *indexes = RelationGetIndexList(rel);
  ListCell *cell;
  foreach (cell, indexes) {
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(cell)));
    if (!HeapTupleIsValid(tuple))
      continue;
    auto *form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
    // CheckIndexCompatible does not assess expressions or predicates: an
    // index with either is rebuilt whenever it depends on the column.
    const bool assessed = heap_attisnull(tuple, Anum_pg_index_indexprs, nullptr) &&
                          heap_attisnull(tuple, Anum_pg_index_indpred, nullptr);
    bool uses = index_expression_reads(tuple, Anum_pg_index_indexprs, attnum) ||
                index_expression_reads(tuple, Anum_pg_index_indpred, attnum);
    for (int i = 0; i < form->indnatts; ++i)
      uses = uses || form->indkey.values[i] == attnum;
    bool rebuilds = uses && !assessed;
    bool isnull = false;
    auto *classes = reinterpret_cast<oidvector *>(DatumGetPointer(
        SysCacheGetAttr(INDEXRELID, tuple, Anum_pg_index_indclass, &isnull)));
    auto *collations = reinterpret_cast<oidvector *>(DatumGetPointer(
        SysCacheGetAttr(INDEXRELID, tuple, Anum_pg_index_indcollation, &isnull)));
    const Oid am = access_method_of(form->indexrelid);
    for (int i = 0; i < form->indnkeyatts && uses && !rebuilds; ++i)
      rebuilds = form->indkey.values[i] == attnum &&
                 index_key_rebuilt(column, classes->values[i], collations->values[i], am,
                                   new_type, new_collation);
    ReleaseSysCache(tuple);
    rebuilt += rebuilds ? 1 : 0;
  }
  list_free(indexes);
  return rebuilt;
}

const char *deparse_table_expression(Relation rel, Node *raw, ParseExprKind kind) {
  if (raw == nullptr)
    return nullptr;
  ParseState *pstate = parse_state_for(rel);
  Node *expr = transformExpr(pstate, raw, kind);
  assign_expr_collations(pstate, expr);
  return deparse_expression(
      expr, deparse_context_for(RelationGetRelationName(rel), RelationGetRelid(rel)),
      false, false);
}

const char *deparse_index_columns(Relation rel, List *index_params) {
  StringInfoData out;
  initStringInfo(&out);
  ListCell *cell;
  foreach (cell, index_params) {
    auto *elem = castNode(IndexElem, lfirst(cell));
    if (cell != list_head(index_params))
      appendStringInfoString(&out, ", ");
    if (elem->name != nullptr)
      appendStringInfoString(&out, quote_identifier(elem->name));
    else
      appendStringInfo(
          &out, "(%s)",
          deparse_table_expression(rel, elem->expr, EXPR_KIND_INDEX_EXPRESSION));
    if (elem->collation != NIL)
      appendStringInfo(&out, " COLLATE %s", NameListToQuotedString(elem->collation));
    if (elem->opclass != NIL)
      appendStringInfo(&out, " %s", NameListToQuotedString(elem->opclass));
    if (elem->ordering == SORTBY_DESC)
      appendStringInfoString(&out, " DESC");
    else if (elem->ordering == SORTBY_ASC)
      appendStringInfoString(&out, " ASC");
    if (elem->nulls_ordering == SORTBY_NULLS_FIRST)
      appendStringInfoString(&out, " NULLS FIRST");
    else if (elem->nulls_ordering == SORTBY_NULLS_LAST)
      appendStringInfoString(&out, " NULLS LAST");
  }
  return out.data;
}

} // namespace colmig::pg::ddl
