#include "core/helper_names.hpp"

#include "api/validate.hpp"

#include "pg/guard.hpp"
#include "pg/row_expression.hpp"

extern "C" {
#include "access/relation.h"
#include "access/sysattr.h"
#include "access/tableam.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/extension.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
}

namespace colmig::api {

namespace {

// The functions below run inside pg::call and hold no C++ objects: an
// ereport longjmps straight out of them.

// What only an open relation can tell: its table access method, its
// inheritance children and its column count.
void check_relation_shape(Oid relid, const char *relname) {
  Relation rel = relation_open(relid, AccessShareLock);
  const bool tid_ranges =
      rel->rd_tableam != nullptr && rel->rd_tableam->scan_set_tidrange != nullptr;
  const int natts = RelationGetNumberOfAttributes(rel);
  const Oid of_type = rel->rd_rel->reloftype;
  const bool is_partition = rel->rd_rel->relispartition;
  relation_close(rel, NoLock);

  if (is_partition)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("colmig cannot add a column to \"%s\": it is a partition", relname),
             errdetail("PostgreSQL adds columns to a partitioned table as a whole, "
                       "which colmig does not support yet.")));
  if (OidIsValid(of_type))
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("cannot add column to typed table \"%s\"", relname)));
  if (find_inheritance_children(relid, NoLock) != NIL)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("colmig does not support inheritance parents yet: \"%s\" has child "
                    "tables",
                    relname),
             errdetail("ALTER TABLE would add the column to the child tables too, and "
                       "colmig fills the rows of one table.")));
  if (!tid_ranges)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("colmig cannot fill \"%s\": its table access method has no TID "
                    "range scans",
                    relname)));
  if (natts >= MaxHeapAttributeNumber)
    ereport(ERROR,
            (errcode(ERRCODE_TOO_MANY_COLUMNS),
             errmsg("tables can have at most %d columns", MaxHeapAttributeNumber)));
}

char *check_plain_table_c(Oid relid, const char **relname_out) {
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
  // colmig's own tables among them: an extension's objects change with
  // ALTER EXTENSION ... UPDATE, and its scripts expect them as they made them.
  Oid extension = getExtensionOfObject(RelationRelationId, relid);
  if (OidIsValid(extension))
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("colmig does not change tables of extensions: \"%s\" belongs to "
                    "extension \"%s\"",
                    relname, get_extension_name(extension))));
  *relname_out = relname;
  return quote_qualified_identifier(get_namespace_name(nspid), relname);
}

char *check_table_c(Oid relid) {
  const char *relname = nullptr;
  char *qualified = check_plain_table_c(relid, &relname);
  check_relation_shape(relid, relname);
  return qualified;
}

char *check_owned_table_c(Oid relid, bool refuse_inheritance) {
  const char *relname = nullptr;
  char *qualified = check_plain_table_c(relid, &relname);
  if (refuse_inheritance && find_inheritance_children(relid, NoLock) != NIL)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("colmig does not support inheritance parents yet: \"%s\" has child "
                    "tables",
                    relname),
             errdetail("The change would reach the child tables too, under locks "
                       "colmig does not take with its retries.")));
  return qualified;
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

// tablecmds.c (ATExecAddColumn) rewrites the table for a column whose type
// is a domain with constraints (even without a default: NULL must pass
// them), and for a volatile default of the type itself.
void check_type_adds_without_rewrite(Oid type_oid, bool for_backfill) {
  if (DomainHasConstraints(type_oid))
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("colmig cannot add a column of type %s: the domain has constraints",
                    format_type_be(type_oid)),
             errdetail("ALTER TABLE ADD COLUMN checks every existing row against a "
                       "domain's constraints, rewriting the table under ACCESS "
                       "EXCLUSIVE."),
             errhint("Add the column with the domain's base type.")));
  Node *type_default = get_typdefault(type_oid);
  if (type_default == nullptr)
    return;
  if (contain_volatile_functions(type_default))
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("colmig cannot add a column of type %s: its default is volatile",
                    format_type_be(type_oid)),
             errdetail("ALTER TABLE ADD COLUMN evaluates a volatile default for every "
                       "existing row, rewriting the table under ACCESS EXCLUSIVE.")));
  if (for_backfill)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("colmig cannot backfill a column of type %s: the type has a default "
                    "of its own",
                    format_type_be(type_oid)),
             errdetail("ADD COLUMN would give every existing row the type's default, "
                       "and the backfill fills only rows where the column is NULL."),
             errhint("Add the column with the domain's base type.")));
}

ResolvedType resolve_type_c(const char *column, const char *type_text,
                            bool for_backfill) {
  ResolvedType result;
  TypeName *type_name = typeStringToTypeName(type_text);
  typenameTypeIdAndMod(nullptr, type_name, &result.type_oid, &result.type_mod);
  AclResult acl = pg_type_aclcheck(result.type_oid, GetUserId(), ACL_USAGE);
  if (acl != ACLCHECK_OK)
    aclcheck_error_type(acl, result.type_oid);
  // Rejects pseudo-types and other types a column cannot have.
  CheckAttributeType(column, result.type_oid, get_typcollation(result.type_oid), NIL, 0);
  check_type_adds_without_rewrite(result.type_oid, for_backfill);
  result.sql_name =
      format_type_extended(result.type_oid, result.type_mod,
                           FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
  return result;
}

struct Analysed {
  char *node;
  Node *tree;
  bool is_volatile;
};

Analysed analyse_expression_c(Oid relid, Oid type_oid, int32 type_mod, const char *expr,
                              bool is_default) {
  const char *argument = is_default ? "default_expr" : "backfill_expr";
  Relation rel = relation_open(relid, AccessShareLock);
  Node *coerced = pg::analyze_row_expression(is_default ? nullptr : rel, expr, type_oid,
                                             type_mod, argument);
  if (expression_returns_set(coerced))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("%s must not return a set", argument)));
  // The batches and the fill trigger evaluate the expression over the
  // row's own columns: no system columns, no whole-row reference (the
  // row would include the new column, not yet filled).
  Bitmapset *attrs = nullptr;
  pull_varattnos(coerced, 1, &attrs);
  for (int member = -1; (member = bms_next_member(attrs, member)) >= 0;) {
    const int attnum = member + FirstLowInvalidHeapAttributeNumber;
    if (attnum == 0)
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("%s must not reference the whole row", argument),
                      errhint("Name the columns it needs.")));
    if (attnum < 0)
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("%s must not reference system columns", argument)));
  }
  Analysed result{nodeToString(coerced), coerced, contain_volatile_functions(coerced)};
  relation_close(rel, NoLock);
  return result;
}

bool evaluates_to_null_c(Node *expr) {
  EState *estate = CreateExecutorState();
  ExprState *state = ExecPrepareExpr(reinterpret_cast<Expr *>(expr), estate);
  bool is_null = false;
  (void)ExecEvalExpr(state, GetPerTupleExprContext(estate), &is_null);
  FreeExecutorState(estate);
  return is_null;
}

void check_rows_updatable_c(Oid relid) {
  Relation rel = relation_open(relid, AccessShareLock);
  CheckCmdReplicaIdentity(rel, CMD_UPDATE);
  relation_close(rel, NoLock);
}

void check_triggers_c(Oid relid, bool fire_triggers) {
  Relation rel = relation_open(relid, AccessShareLock);
  TriggerDesc *triggers = rel->trigdesc;
  for (int i = 0; triggers != nullptr && i < triggers->numtriggers; ++i) {
    const Trigger &trigger = triggers->triggers[i];
    if (trigger.tgisinternal)
      continue;
    const bool before_row =
        TRIGGER_FOR_ROW(trigger.tgtype) && TRIGGER_FOR_BEFORE(trigger.tgtype) &&
        (TRIGGER_FOR_INSERT(trigger.tgtype) || TRIGGER_FOR_UPDATE(trigger.tgtype));
    if (before_row && colmig::core::fires_after_fill_trigger(trigger.tgname))
      ereport(ERROR,
              (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
               errmsg("trigger \"%s\" of \"%s\" would fire after colmig's fill trigger",
                      trigger.tgname, RelationGetRelationName(rel)),
               errdetail("PostgreSQL fires BEFORE row triggers in the order of their "
                         "names, and colmig's is named \"%s...\": rows this trigger "
                         "changes would be filled from the values before its change.",
                         colmig::core::kFillTriggerPrefix.data()),
               errhint("Rename the trigger so that its name sorts before \"%s\".",
                       colmig::core::kFillTriggerPrefix.data())));
    if (fire_triggers && TRIGGER_FOR_ROW(trigger.tgtype) &&
        (trigger.tgnewtable != nullptr || trigger.tgoldtable != nullptr))
      ereport(
          ERROR,
          (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
           errmsg("fire_triggers cannot fire trigger \"%s\" of \"%s\": it uses "
                  "transition tables",
                  trigger.tgname, RelationGetRelationName(rel)),
           errdetail("A batch is no statement: it has no transition tables to give.")));
  }
  relation_close(rel, NoLock);
}

} // namespace

TargetTable check_table(Oid relid) {
  char *name = pg::call([&] { return check_table_c(relid); });
  return {relid, name};
}

TargetTable check_owned_table(Oid relid, bool refuse_inheritance) {
  char *name = pg::call([&] { return check_owned_table_c(relid, refuse_inheritance); });
  return {relid, name};
}

void check_column_absent(const TargetTable &table, const std::string &column) {
  const char *col = column.c_str();
  const char *name = table.qualified_name.c_str();
  pg::call([&] { check_column_absent_c(table.relid, col, name); });
}

ColumnType resolve_type(const std::string &column, const std::string &type_text,
                        bool for_backfill) {
  const char *col = column.c_str();
  const char *text = type_text.c_str();
  ResolvedType resolved =
      pg::call([&] { return resolve_type_c(col, text, for_backfill); });
  return {resolved.type_oid, resolved.type_mod, resolved.sql_name};
}

AnalysedExpression analyse_expression(const TargetTable &table, const ColumnType &type,
                                      const std::string &expr, ExprKind kind) {
  const char *text = expr.c_str();
  Analysed analysed = pg::call([&] {
    return analyse_expression_c(table.relid, type.type_oid, type.type_mod, text,
                                kind == ExprKind::default_value);
  });
  return {analysed.node, analysed.tree, analysed.is_volatile};
}

void check_fast_default(const AnalysedExpression &default_value,
                        const std::string &column, bool not_null) {
  Node *tree = default_value.tree;
  if (pg::call([&] { return evaluates_to_null_c(tree); }) && not_null)
    pg::raise("23502", "default_expr of column \"" + column + "\" is NULL",
              "ADD COLUMN ... NOT NULL with a NULL default scans the whole table "
              "under ACCESS EXCLUSIVE, and fails if it has rows.",
              "Give a default that is not NULL, or a backfill_expr.");
}

void check_rows_updatable(const TargetTable &table) {
  pg::call([&] { check_rows_updatable_c(table.relid); });
}

void check_triggers(const TargetTable &table, bool fire_triggers) {
  pg::call([&] { check_triggers_c(table.relid, fire_triggers); });
}

} // namespace colmig::api
