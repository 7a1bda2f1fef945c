// ALTER TABLE, one step per subcommand: what PostgreSQL 15 does for each
// (the lock from AlterTableGetLockLevel, the rewrite and scan decisions of
// tablecmds.c) and the colmig call that does the same online. The
// constraint subcommands are in ddl_constraints.cpp.
#include "pg/ddl_statement_parts.hpp"
#include "pg/not_null_check_catalog.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "parser/parse_type.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
}

namespace colmig::pg::ddl {

namespace {

const char *type_text(Oid type, int32 typmod) {
  return format_type_with_typemod(type, typmod);
}

bool is_serial(const TypeName *type) {
  if (list_length(type->names) != 1)
    return false;
  const char *name = strVal(linitial(type->names));
  for (const char *serial :
       {"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})
    if (strcmp(name, serial) == 0)
      return true;
  return false;
}

void add_column(Target &target, AlterTableCmd *cmd) {
  auto *def = castNode(ColumnDef, cmd->def);
  DdlStep *step = add_step(target.script, target.table,
                           psprintf("ADD COLUMN %s", quote_identifier(def->colname)));
  set_lock(step, AccessExclusiveLock);
  Node *raw_default = def->raw_default;
  bool not_null = def->is_not_null, generated = false, validates = false, index = false;
  ListCell *cell;
  foreach (cell, def->constraints) {
    auto *con = castNode(Constraint, lfirst(cell));
    switch (con->contype) {
    case CONSTR_NOTNULL:
      not_null = true;
      break;
    case CONSTR_DEFAULT:
      raw_default = con->raw_expr;
      break;
    case CONSTR_IDENTITY:
    case CONSTR_GENERATED:
      generated = true;
      break;
    case CONSTR_CHECK:
    case CONSTR_FOREIGN:
      validates = !con->skip_validation;
      break;
    case CONSTR_UNIQUE:
    case CONSTR_PRIMARY:
    case CONSTR_EXCLUSION:
      index = true;
      break;
    default:
      break;
    }
  }
  if (generated || is_serial(def->typeName)) {
    step->facts.rule = core::DdlRule::generated_column;
    step->facts.rewrites = step->facts.scans = true;
    step->advice =
        "add a plain column with colmig.add_column(..., backfill_expr => ...) "
        "(for an identity, from a sequence, then ALTER COLUMN ... ADD GENERATED "
        "... AS IDENTITY, catalog only on a NOT NULL column)";
    return;
  }
  Oid type = InvalidOid;
  int32 typmod = -1;
  typenameTypeIdAndMod(nullptr, def->typeName, &type, &typmod);
  if (DomainHasConstraints(type)) {
    step->facts.rule = core::DdlRule::rewriting_add_column;
    step->facts.rewrites = step->facts.scans = true;
    int32 base_typmod = typmod;
    const Oid base = getBaseTypeAndTypmod(type, &base_typmod);
    step->alternative =
        psprintf("SELECT colmig.add_column(%s, %s, %s)", literal(table_name(target)),
                 literal(def->colname), literal(type_text(base, base_typmod)));
    step->remark = "the domain's constraints can then be added with colmig.add_check()";
    return;
  }
  const ColumnDefault value = analyse_default(target.rel, raw_default, type, typmod);
  if (index || validates) {
    step->facts.rule =
        index ? core::DdlRule::index_constraint : core::DdlRule::validating_constraint;
    step->facts.scans = true;
    step->facts.builds_index = index;
    step->advice = "add the column first, then the constraint with colmig.add_check(), "
                   "colmig.add_foreign_key() or colmig.create_index()";
    return;
  }
  if (value.present && value.is_volatile) {
    step->facts.rule = core::DdlRule::volatile_default;
    step->facts.rewrites = step->facts.scans = true;
    step->alternative = psprintf(
        "SELECT colmig.add_column(%s, %s, %s, default_expr => %s, not_null => %s)",
        literal(table_name(target)), literal(def->colname),
        literal(type_text(type, typmod)), literal(value.text),
        not_null ? "true" : "false");
    return;
  }
  if (not_null && !value.present) {
    // Every existing row would be NULL: PostgreSQL reads the table and fails.
    step->facts.scans = true;
    step->remark = "fails on a table with rows: every existing row would be NULL";
    step->alternative = psprintf(
        "SELECT colmig.add_column(%s, %s, %s, backfill_expr => '...', not_null => true)",
        literal(table_name(target)), literal(def->colname),
        literal(type_text(type, typmod)));
    return;
  }
  step->remark = value.present
                     ? "catalog only: the default is stored once, not in every row"
                     : "catalog only";
}

// Whether an earlier step of the script adds column `name` to `relid`.
bool added_by_script(const Script &script, Oid relid, const char *name) {
  const char *action = psprintf("ADD COLUMN %s", quote_identifier(name));
  ListCell *cell;
  foreach (cell, script.steps) {
    const auto *step = static_cast<const DdlStep *>(lfirst(cell));
    if (step->relid == relid && strcmp(step->action, action) == 0)
      return true;
  }
  return false;
}

void set_not_null(Target &target, AlterTableCmd *cmd) {
  DdlStep *step = add_step(target.script, target.table,
                           psprintf("SET NOT NULL %s", quote_identifier(cmd->name)));
  set_lock(step, AccessExclusiveLock);
  if (!OidIsValid(target.table.relid))
    return;
  HeapTuple tuple = SearchSysCacheAttName(target.table.relid, cmd->name);
  if (!HeapTupleIsValid(tuple)) {
    // Neither in the table nor added before: PostgreSQL's error (42703).
    if (!added_by_script(target.script, target.table.relid, cmd->name))
      return;
    // A column the script adds before: nothing proves it NOT NULL, and
    // PostgreSQL reads every row to check it.
    step->facts.rule = core::DdlRule::set_not_null_scan;
    step->facts.scans = true;
    step->remark = "the column is added earlier in the script";
    step->advice = "add the column with colmig.add_column(..., not_null => true), which "
                   "fills it and sets NOT NULL without a long lock";
    return;
  }
  auto *attribute = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tuple));
  const AttrNumber attnum = attribute->attnum;
  const bool already = attribute->attnotnull;
  const bool has_default = attribute->atthasdef;
  ReleaseSysCache(tuple);
  if (already) {
    step->remark = "the column is already NOT NULL: nothing to do";
    return;
  }
  step->not_null_attnum = attnum;
  step->column_has_default = has_default;
  if (target.rel != nullptr && not_null_proven(target.rel, attnum)) {
    step->remark = "a valid CHECK constraint proves the column NOT NULL: no scan";
    return;
  }
  step->facts.rule = core::DdlRule::set_not_null_scan;
  step->facts.scans = true;
  step->alternative = psprintf("SELECT colmig.set_not_null(%s, %s)",
                               literal(table_name(target)), literal(cmd->name));
}

void alter_column_type(Target &target, AlterTableCmd *cmd) {
  auto *def = castNode(ColumnDef, cmd->def);
  DdlStep *step = add_step(target.script, target.table,
                           psprintf("ALTER COLUMN %s TYPE", quote_identifier(cmd->name)));
  set_lock(step, AccessExclusiveLock);
  if (target.table.new_in_script)
    return;
  const AttrNumber attnum = get_attnum(target.table.relid, cmd->name);
  if (attnum <= 0)
    return;
  Oid type = InvalidOid;
  int32 typmod = -1;
  typenameTypeIdAndMod(nullptr, def->typeName, &type, &typmod);
  const TypeChange change =
      target.rel != nullptr
          ? type_change_rewrites(target.rel, attnum, type, typmod, def->raw_default)
          : TypeChange::unknown;
  if (change == TypeChange::refused) {
    step->remark = "PostgreSQL refuses this change: the column cannot be cast "
                   "automatically (USING is needed)";
    return;
  }
  if (change == TypeChange::keeps_values) {
    const int rebuilt = indexes_rebuilt_by_type_change(
        target.rel, attnum, type, GetColumnDefCollation(nullptr, def, type));
    const bool checked = checks_read_column(target.rel, attnum);
    if (rebuilt == 0 && !checked) {
      step->remark =
          "the old values are binary-compatible with the new type: catalog only";
      return;
    }
    // No rewrite, but a CHECK on the column is checked again, and each
    // such index is built again, from every row.
    step->facts.rule = core::DdlRule::rewriting_type_change;
    step->facts.scans = true;
    if (rebuilt == 0) {
      step->remark =
          "the old values are binary-compatible with the new type, but a CHECK "
          "constraint on the column is added again and checked for every row";
      step->advice =
          "drop the CHECK constraint first, change the type, then add it again "
          "with colmig.add_check()";
      return;
    }
    step->remark =
        psprintf("the old values are binary-compatible with the new type, but "
                 "%d %s on the column %s rebuilt (a new collation or operator "
                 "class, or an expression or partial index)%s",
                 rebuilt, rebuilt == 1 ? "index" : "indexes", rebuilt == 1 ? "is" : "are",
                 checked ? ", and a CHECK constraint on it is checked again" : "");
    step->facts.builds_index = true;
    step->advice =
        "expand and contract: add a new column with colmig.add_column(..., "
        "backfill_expr => ...) and build its index with colmig.create_index(), "
        "move the readers over, then drop the old column";
    return;
  }
  if (change == TypeChange::unknown)
    step->remark = "another session holds the table now, so the change could not be "
                   "analysed: colmig assumes it rewrites";
  step->facts.rule = core::DdlRule::rewriting_type_change;
  step->facts.rewrites = step->facts.scans = true;
  step->advice = "expand and contract: add a new column with colmig.add_column(..., "
                 "backfill_expr => ...), keep it in step from the application, move the "
                 "readers over, then drop the old column";
}

void describe_command(Target &target, AlterTableCmd *cmd) {
  switch (cmd->subtype) {
  case AT_AddColumn:
    add_column(target, cmd);
    return;
  case AT_SetNotNull:
    set_not_null(target, cmd);
    return;
  case AT_AddConstraint:
    add_constraint(target, cmd);
    return;
  case AT_ValidateConstraint:
    validate_constraint(target, cmd);
    return;
  case AT_AlterColumnType:
    alter_column_type(target, cmd);
    return;
  case AT_AttachPartition:
    attach_partition(target, cmd);
    return;
  default:
    break;
  }
  DdlStep *step = add_step(target.script, target.table, "ALTER TABLE");
  set_lock(step, AlterTableGetLockLevel(list_make1(cmd)));
  switch (cmd->subtype) {
  case AT_DropColumn:
    step->action = psprintf("DROP COLUMN %s", quote_identifier(cmd->name));
    step->facts.rule = core::DdlRule::breaks_clients;
    step->remark = "catalog only: the space is given back as rows are rewritten";
    step->advice = "drop the column once no client reads or writes it any more";
    break;
  case AT_SetTableSpace:
  case AT_SetLogged:
  case AT_SetUnLogged:
    step->action = cmd->subtype == AT_SetTableSpace ? "SET TABLESPACE"
                   : cmd->subtype == AT_SetLogged   ? "SET LOGGED"
                                                    : "SET UNLOGGED";
    step->facts.rule = core::DdlRule::table_rewrite;
    step->facts.rewrites = step->facts.scans = true;
    step->advice = "there is no online form: run it when the table may be locked";
    break;
  case AT_ColumnDefault:
    step->action =
        psprintf("ALTER COLUMN %s SET/DROP DEFAULT", quote_identifier(cmd->name));
    step->remark = "catalog only: applies to rows inserted from now on";
    break;
  case AT_DropNotNull:
    step->action = psprintf("DROP NOT NULL %s", quote_identifier(cmd->name));
    step->remark = "catalog only";
    break;
  default:
    step->remark = "catalog only, as far as colmig knows";
    break;
  }
}

} // namespace

const char *table_name(const Target &target) {
  return target.table.name != nullptr ? target.table.name : "?";
}

void describe_alter_table(Script &script, AlterTableStmt *stmt) {
  if (stmt->missing_ok && !table_known(script, stmt->relation))
    return;
  Target target{script, find_table(script, stmt->relation), nullptr};
  if (!OidIsValid(target.table.relid) && !target.table.new_in_script)
    return;
  bool locked = false;
  if (OidIsValid(target.table.relid) &&
      ConditionalLockRelationOid(target.table.relid, AccessShareLock)) {
    locked = true;
    target.rel = try_relation_open(target.table.relid, NoLock);
  }
  ListCell *cell;
  foreach (cell, stmt->cmds)
    describe_command(target, castNode(AlterTableCmd, lfirst(cell)));
  if (target.rel != nullptr)
    relation_close(target.rel, NoLock);
  if (locked)
    UnlockRelationOid(target.table.relid, AccessShareLock);
}

} // namespace colmig::pg::ddl
