// What colmig.plan() needs to know to plan a `SELECT colmig.f(...)` call
// as the function itself would (pg/ddl_statement.hpp).
#include "pg/ddl_statement_parts.hpp"
#include "pg/not_null_check_catalog.hpp"

extern "C" {
#include "access/relation.h"
#include "catalog/namespace.h"
#include "optimizer/optimizer.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parser.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
}

namespace colmig::pg {

Oid table_of_literal(const char *regclass_text) {
  if (regclass_text == nullptr)
    return InvalidOid;
  List *names = stringToQualifiedNameList(regclass_text);
  return RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
}

bool expression_text_is_volatile(const char *expression) {
  if (expression == nullptr)
    return false;
  List *parsed = raw_parser(psprintf("SELECT (%s)", expression), RAW_PARSE_DEFAULT);
  if (list_length(parsed) != 1)
    return false;
  auto *select = reinterpret_cast<SelectStmt *>(linitial_node(RawStmt, parsed)->stmt);
  if (!IsA(select, SelectStmt) || list_length(select->targetList) != 1)
    return false;
  ParseState *pstate = make_parsestate(nullptr);
  Node *expr = transformExpr(pstate, linitial_node(ResTarget, select->targetList)->val,
                             EXPR_KIND_COLUMN_DEFAULT);
  assign_expr_collations(pstate, expr);
  return contain_volatile_functions(expr);
}

bool column_not_null_proven(Oid relid, const char *column) {
  if (!OidIsValid(relid) || column == nullptr)
    return false;
  const AttrNumber attnum = get_attnum(relid, column);
  // Only when the table is free at once, and without keeping its lock.
  if (attnum <= 0 || !ConditionalLockRelationOid(relid, AccessShareLock))
    return false;
  Relation rel = try_relation_open(relid, NoLock);
  const bool proven = rel != nullptr && not_null_proven(rel, attnum);
  if (rel != nullptr)
    relation_close(rel, NoLock);
  UnlockRelationOid(relid, AccessShareLock);
  return proven;
}

} // namespace colmig::pg
