#include "pg/index_keys.hpp"

#include "pg/row_expression.hpp"

extern "C" {
#include "access/amapi.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "commands/defrem.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace colmig::pg {

namespace {

constexpr const char *kPlaceholder = "colmig_index_keys";

// The key list of `CREATE INDEX ON placeholder (<columns>)`, when that is
// all the text made of the statement.
List *parse_key_list(const char *columns, char **source) {
  *source = psprintf("CREATE INDEX ON %s (%s)", kPlaceholder, columns);
  List *parsed = raw_parser(*source, RAW_PARSE_DEFAULT);
  Node *stmt = list_length(parsed) == 1 ? linitial_node(RawStmt, parsed)->stmt : nullptr;
  IndexStmt *index =
      stmt != nullptr && IsA(stmt, IndexStmt) ? (IndexStmt *)stmt : nullptr;
  const bool only_keys =
      index != nullptr && index->idxname == nullptr && index->relation != nullptr &&
      index->relation->schemaname == nullptr &&
      strcmp(index->relation->relname, kPlaceholder) == 0 &&
      strcmp(index->accessMethod, DEFAULT_INDEX_TYPE) == 0 &&
      index->indexIncludingParams == NIL && index->options == NIL &&
      index->tableSpace == nullptr && index->whereClause == nullptr && !index->unique &&
      !index->nulls_not_distinct && !index->concurrent && !index->if_not_exists &&
      index->indexParams != NIL;
  if (!only_keys)
    ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR),
                    errmsg("columns must be the key list of one index, as between the "
                           "parentheses of CREATE INDEX"),
                    errdetail("Got: %s", columns),
                    errhint("For example: 'lower(email), created_at DESC'. Give the "
                            "predicate and INCLUDE columns as their own arguments.")));
  return index->indexParams;
}

} // namespace

IndexKeys analyse_index_keys(Relation rel, Oid am, const char *columns) {
  char *source = nullptr;
  List *params = parse_key_list(columns, &source);
  IndexAmRoutine *routine = GetIndexAmRoutineByAmId(am, false);
  const char *am_name = get_am_name(am);
  if (list_length(params) > 1 && !routine->amcanmulticol)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("access method \"%s\" does not support multicolumn indexes",
                           am_name)));
  if (list_length(params) > INDEX_MAX_KEYS)
    ereport(ERROR,
            (errcode(ERRCODE_TOO_MANY_COLUMNS),
             errmsg("cannot use more than %d columns in an index", INDEX_MAX_KEYS)));
  IndexKeys result{(IndexKey *)palloc0(sizeof(IndexKey) * list_length(params)), 0};
  ListCell *cell;
  foreach (cell, params) {
    IndexElem *elem = lfirst_node(IndexElem, cell);
    IndexKey &key = result.keys[result.count++];
    if (elem->name != nullptr) {
      key.attnum = get_attnum(RelationGetRelid(rel), elem->name);
      if (key.attnum == InvalidAttrNumber)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("column \"%s\" does not exist", elem->name)));
      if (key.attnum < 0)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("index creation on system columns is not supported")));
    } else {
      key.expr = analyze_index_expression(rel, elem->expr, source);
      if (contain_mutable_functions(key.expr))
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                 errmsg("functions in index expression must be marked IMMUTABLE")));
      if (expression_returns_set(key.expr))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("index expressions must not return a set")));
      key.expr_node = nodeToString(key.expr);
    }
    if (elem->opclassopts != NIL)
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("colmig does not support operator class parameters yet")));
    if (elem->collation != NIL)
      key.collation = get_collation_oid(elem->collation, false);
    if (elem->opclass != NIL)
      key.opclass = get_opclass_oid(am, elem->opclass, false);
    if (elem->ordering != SORTBY_DEFAULT ||
        elem->nulls_ordering != SORTBY_NULLS_DEFAULT) {
      if (!routine->amcanorder)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("access method \"%s\" does not support ASC/DESC options",
                               am_name)));
    }
    key.options = (elem->ordering == SORTBY_DESC ? kKeyDescending : 0) |
                  (elem->ordering == SORTBY_ASC ? kKeyAscending : 0) |
                  (elem->nulls_ordering == SORTBY_NULLS_FIRST ? kKeyNullsFirst : 0) |
                  (elem->nulls_ordering == SORTBY_NULLS_LAST ? kKeyNullsLast : 0);
  }
  return result;
}

} // namespace colmig::pg
