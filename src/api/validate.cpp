#include "api/validate.hpp"

#include "pg/guard.hpp"
#include "pg/row_expression.hpp"

extern "C" {
#include "access/relation.h"
#include "access/sysattr.h"
#include "catalog/catalog.h"
#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace colmig::api {

namespace {

// The functions below run inside pg::call and hold no C++ objects: an
// ereport longjmps straight out of them.

char *check_table_c(Oid relid) {
  HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
  if (!HeapTupleIsValid(tuple))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("relation with OID %u does not exist", relid)));
  Form_pg_class form = (Form_pg_class)GETSTRUCT(tuple);
  char relkind = form->relkind;
  char persistence = form->relpersistence;
  char *relname = pstrdup(NameStr(form->relname));
  Oid nspid = form->relnamespace;
  ReleaseSysCache(tuple);

  if (relkind == RELKIND_PARTITIONED_TABLE)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("colmig does not support partitioned tables yet: \"%s\"", relname),
             errhint("Run the job on each partition.")));
  if (relkind != RELKIND_RELATION)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("\"%s\" is not a table", relname)));
  if (persistence == RELPERSISTENCE_TEMP)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("colmig cannot migrate temporary table \"%s\"", relname),
                    errdetail("A background worker cannot see another "
                              "session's temporary tables.")));
  if (IsCatalogRelationOid(relid))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied: \"%s\" is a system catalog", relname)));
  if (!pg_class_ownercheck(relid, GetUserId()))
    aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, relname);
  return quote_qualified_identifier(get_namespace_name(nspid), relname);
}

void check_column_absent_c(Oid relid, const char *column, const char *table) {
  if (get_attnum(relid, column) != InvalidAttrNumber)
    ereport(ERROR,
            (errcode(ERRCODE_DUPLICATE_COLUMN),
             errmsg("column \"%s\" of relation %s already exists", column, table)));
}

struct ResolvedType {
  Oid type_oid;
  int32 type_mod;
  char *sql_name;
};

ResolvedType resolve_type_c(const char *column, const char *type_text) {
  ResolvedType result;
  TypeName *type_name = typeStringToTypeName(type_text);
  typenameTypeIdAndMod(nullptr, type_name, &result.type_oid, &result.type_mod);
  AclResult acl = pg_type_aclcheck(result.type_oid, GetUserId(), ACL_USAGE);
  if (acl != ACLCHECK_OK)
    aclcheck_error_type(acl, result.type_oid);
  // Rejects pseudo-types and other types a column cannot have.
  CheckAttributeType(column, result.type_oid, get_typcollation(result.type_oid), NIL, 0);
  result.sql_name =
      format_type_extended(result.type_oid, result.type_mod,
                           FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
  return result;
}

bool check_expression_c(Oid relid, Oid type_oid, int32 type_mod, const char *expr,
                        bool is_default) {
  const char *argument = is_default ? "default_expr" : "backfill_expr";
  Relation rel = relation_open(relid, AccessShareLock);
  Node *coerced = pg::analyze_row_expression(is_default ? nullptr : rel, expr, type_oid,
                                             type_mod, argument);
  if (expression_returns_set(coerced))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s must not return a set", argument)));
  // The fill trigger evaluates the expression over NEW, which has no
  // system columns.
  Bitmapset *attrs = nullptr;
  pull_varattnos(coerced, 1, &attrs);
  for (int member = -1; (member = bms_next_member(attrs, member)) >= 0;)
    if (member + FirstLowInvalidHeapAttributeNumber <= 0)
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("%s must not reference system columns", argument)));
  bool is_volatile = contain_volatile_functions(coerced);
  relation_close(rel, NoLock);
  return is_volatile;
}

} // namespace

TargetTable check_table(Oid relid) {
  char *name = pg::call([&] { return check_table_c(relid); });
  return {relid, name};
}

void check_column_absent(const TargetTable &table, const std::string &column) {
  const char *col = column.c_str();
  const char *name = table.qualified_name.c_str();
  pg::call([&] { check_column_absent_c(table.relid, col, name); });
}

ColumnType resolve_type(const std::string &column, const std::string &type_text) {
  const char *col = column.c_str();
  const char *text = type_text.c_str();
  ResolvedType resolved = pg::call([&] { return resolve_type_c(col, text); });
  return {resolved.type_oid, resolved.type_mod, resolved.sql_name};
}

bool check_expression(const TargetTable &table, const ColumnType &type,
                      const std::string &expr, ExprKind kind) {
  const char *text = expr.c_str();
  return pg::call([&] {
    return check_expression_c(table.relid, type.type_oid, type.type_mod, text,
                              kind == ExprKind::default_value);
  });
}

} // namespace colmig::api
