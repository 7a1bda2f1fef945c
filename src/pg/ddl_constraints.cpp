// ALTER TABLE ... ADD CONSTRAINT and VALIDATE CONSTRAINT: which constraints
// read every row under their lock (CHECK and FOREIGN KEY without NOT VALID,
// UNIQUE and PRIMARY KEY without USING INDEX, EXCLUDE), a VALIDATE under a
// lock the transaction already holds, and the colmig calls instead.
#include "pg/ddl_statement_parts.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "commands/tablecmds.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace colmig::pg::ddl {

namespace {

const char *key_list(List *keys) {
  StringInfoData out;
  initStringInfo(&out);
  ListCell *cell;
  foreach (cell, keys) {
    if (cell != list_head(keys))
      appendStringInfoString(&out, ", ");
    appendStringInfoString(&out, quote_identifier(strVal(lfirst(cell))));
  }
  return out.data;
}

// The referenced table's primary key columns, for a FOREIGN KEY that names
// none; null when they cannot be read without waiting.
List *primary_key_columns(Oid relid) {
  List *columns = NIL;
  if (!ConditionalLockRelationOid(relid, AccessShareLock))
    return nullptr;
  Relation rel = table_open(relid, NoLock);
  const Oid index = RelationGetPrimaryKeyIndex(rel);
  if (OidIsValid(index)) {
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
    if (HeapTupleIsValid(tuple)) {
      auto *form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
      for (int i = 0; i < form->indnkeyatts; ++i)
        columns = lappend(columns,
                          makeString(get_attname(relid, form->indkey.values[i], false)));
      ReleaseSysCache(tuple);
    }
  }
  table_close(rel, NoLock);
  UnlockRelationOid(relid, AccessShareLock);
  return columns;
}

const char *referential_action(char action) {
  switch (action) {
  case FKCONSTR_ACTION_RESTRICT:
    return "RESTRICT";
  case FKCONSTR_ACTION_CASCADE:
    return "CASCADE";
  case FKCONSTR_ACTION_SETNULL:
    return "SET NULL";
  case FKCONSTR_ACTION_SETDEFAULT:
    return "SET DEFAULT";
  default:
    return "NO ACTION";
  }
}

const char *constraint_name(const Target &target, Constraint *con, const char *label,
                            const char *column) {
  if (con->conname != nullptr)
    return con->conname;
  if (target.rel == nullptr)
    return psprintf("%s_%s", label, column != nullptr ? column : "");
  return ChooseConstraintName(RelationGetRelationName(target.rel), column, label,
                              RelationGetNamespace(target.rel), NIL);
}

void remember_not_valid(Target &target, const char *name, LOCKMODE mode) {
  Script &script = target.script;
  if (!script.in_block || name == nullptr)
    return;
  script.not_valid_oids = lappend_oid(script.not_valid_oids, target.table.relid);
  script.not_valid_names = lappend(script.not_valid_names, pstrdup(name));
  script.not_valid_modes = lappend_int(script.not_valid_modes, mode);
}

void add_check_or_foreign_key(Target &target, Constraint *con, DdlStep *step) {
  const bool foreign = con->contype == CONSTR_FOREIGN;
  if (con->skip_validation) {
    remember_not_valid(target, con->conname,
                       foreign ? ShareRowExclusiveLock : AccessExclusiveLock);
    step->remark = "NOT VALID: existing rows are not read; VALIDATE CONSTRAINT reads "
                   "them later, in a transaction of its own, blocking nothing";
    return;
  }
  step->facts.rule = core::DdlRule::validating_constraint;
  step->facts.scans = true;
  if (target.rel == nullptr)
    return;
  // Options colmig's calls do not take: the same constraint NOT VALID,
  // then validated, keeps them all.
  if (con->is_no_inherit || con->deferrable || con->initdeferred ||
      (foreign &&
       (con->fk_matchtype != FKCONSTR_MATCH_SIMPLE || con->fk_del_set_cols != NIL))) {
    step->advice = "add the same constraint NOT VALID, then VALIDATE CONSTRAINT it in a "
                   "transaction of its own (it blocks no writes there)";
    return;
  }
  if (!foreign) {
    struct Check {
      Relation rel;
      Node *expr;
    } check{target.rel, con->raw_expr};
    const char *expression = text_or_null(
        [](void *context) {
          auto *c = static_cast<Check *>(context);
          return deparse_table_expression(c->rel, c->expr, EXPR_KIND_CHECK_CONSTRAINT);
        },
        &check);
    if (expression == nullptr) { // a column the script adds: not readable yet
      step->advice = "add the constraint NOT VALID, then VALIDATE CONSTRAINT it in a "
                     "transaction of its own (it blocks no writes there)";
      return;
    }
    step->alternative = psprintf(
        "SELECT colmig.add_check(%s, %s, %s)", literal(table_name(target)),
        literal(constraint_name(target, con, "check", nullptr)), literal(expression));
    return;
  }
  const Oid referenced = RangeVarGetRelid(con->pktable, NoLock, true);
  List *refcols = con->pk_attrs != NIL || !OidIsValid(referenced)
                      ? con->pk_attrs
                      : primary_key_columns(referenced);
  if (!OidIsValid(referenced) || refcols == NIL)
    return;
  const char *first = strVal(linitial(con->fk_attrs));
  step->alternative = psprintf(
      "SELECT colmig.add_foreign_key(%s, %s, %s, %s, conname => %s, on_delete => %s, "
      "on_update => %s)",
      literal(table_name(target)), name_array(con->fk_attrs),
      literal(quote_qualified_identifier(
          get_namespace_name(get_rel_namespace(referenced)), get_rel_name(referenced))),
      name_array(refcols), literal(constraint_name(target, con, "fkey", first)),
      literal(referential_action(con->fk_del_action)),
      literal(referential_action(con->fk_upd_action)));
}

void add_index_constraint(Target &target, Constraint *con, DdlStep *step) {
  const bool primary = con->contype == CONSTR_PRIMARY;
  if (con->indexname != nullptr) {
    step->remark = primary ? "USING INDEX: the index is attached, not built (a nullable "
                             "key column is still read for NOT NULL)"
                           : "USING INDEX: the index is attached, not built";
    return;
  }
  step->facts.rule = core::DdlRule::index_constraint;
  step->facts.builds_index = true;
  if (con->contype == CONSTR_EXCLUSION) {
    step->advice = "PostgreSQL 15 cannot attach an exclusion constraint to an index "
                   "built beforehand: run it when the table may be locked";
    return;
  }
  if (target.rel == nullptr || con->keys == NIL)
    return;
  const char *first = strVal(linitial(con->keys));
  const char *name =
      constraint_name(target, con, primary ? "pkey" : "key", primary ? nullptr : first);
  const char *attach = psprintf(
      "ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s", table_name(target),
      quote_identifier(name), primary ? "PRIMARY KEY" : "UNIQUE", quote_identifier(name));
  // Options colmig.create_index() does not take: the same two steps in SQL.
  if (con->including != NIL || con->options != NIL || con->indexspace != nullptr ||
      con->nulls_not_distinct || con->deferrable) {
    step->advice = psprintf("CREATE UNIQUE INDEX CONCURRENTLY %s with the constraint's "
                            "options, then %s",
                            quote_identifier(name), attach);
    return;
  }
  // The call returns at once; the constraint can be attached only once its
  // job has built the index, so that second step is the remark's.
  step->alternative =
      psprintf("SELECT colmig.create_index(%s, %s, %s, is_unique => true)",
               literal(table_name(target)), literal(name), literal(key_list(con->keys)));
  step->remark =
      psprintf("once the job has built the index, %s attaches it in a moment", attach);
}

} // namespace

void add_constraint(Target &target, AlterTableCmd *cmd) {
  auto *con = castNode(Constraint, cmd->def);
  DdlStep *step = add_step(
      target.script, target.table,
      psprintf("ADD CONSTRAINT %s",
               con->conname != nullptr ? quote_identifier(con->conname) : "(unnamed)"));
  set_lock(step, AlterTableGetLockLevel(list_make1(cmd)));
  switch (con->contype) {
  case CONSTR_CHECK:
  case CONSTR_FOREIGN:
    add_check_or_foreign_key(target, con, step);
    break;
  case CONSTR_UNIQUE:
  case CONSTR_PRIMARY:
  case CONSTR_EXCLUSION:
    add_index_constraint(target, con, step);
    break;
  default:
    break;
  }
}

namespace {

// The lock the script's transaction block took when it added the
// constraint NOT VALID, or NoLock.
LOCKMODE added_not_valid_in_block(const Target &target, const char *name) {
  const Script &script = target.script;
  ListCell *oid_cell, *name_cell, *mode_cell;
  forthree(oid_cell, script.not_valid_oids, name_cell, script.not_valid_names, mode_cell,
           script.not_valid_modes) if (lfirst_oid(oid_cell) == target.table.relid &&
                                       strcmp(static_cast<char *>(lfirst(name_cell)),
                                              name) == 0) return lfirst_int(mode_cell);
  return NoLock;
}

// The lock that blocks writes which the current transaction already holds
// on the table, or NoLock: VALIDATE would read every row under it. A
// constraint the transaction itself added came with its lock.
LOCKMODE lock_held_for_validate(const Target &target, const char *name) {
  if (!OidIsValid(target.table.relid))
    return NoLock;
  const Oid constraint = get_relation_constraint_oid(target.table.relid, name, true);
  if (OidIsValid(constraint)) {
    HeapTuple tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(constraint));
    if (HeapTupleIsValid(tuple)) {
      const bool ours =
          TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data));
      const bool foreign =
          reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple))->contype ==
          CONSTRAINT_FOREIGN;
      ReleaseSysCache(tuple);
      if (ours)
        return foreign ? ShareRowExclusiveLock : AccessExclusiveLock;
    }
  }
  if (target.rel == nullptr)
    return NoLock;
  for (LOCKMODE mode = AccessExclusiveLock; mode >= ShareLock; --mode)
    if (CheckRelationLockedByMe(target.rel, mode, false))
      return mode;
  return NoLock;
}

} // namespace

void validate_constraint(Target &target, AlterTableCmd *cmd) {
  DdlStep *step =
      add_step(target.script, target.table,
               psprintf("VALIDATE CONSTRAINT %s", quote_identifier(cmd->name)));
  set_lock(step, ShareUpdateExclusiveLock);
  step->facts.scans = true;
  step->remark = "reads every row under SHARE UPDATE EXCLUSIVE: reads and writes go on";
  LOCKMODE held = added_not_valid_in_block(target, cmd->name);
  if (held == NoLock)
    held = lock_held_for_validate(target, cmd->name);
  if (held != NoLock) {
    step->facts.rule = core::DdlRule::validate_in_same_transaction;
    step->requested_lock = ShareUpdateExclusiveLock;
    set_lock(step, held);
    step->remark = "this transaction already holds a strong lock on the table (it added "
                   "the constraint): the rows are read under that lock";
    step->alternative = psprintf("COMMIT; SELECT colmig.validate_constraint(%s, %s)",
                                 literal(table_name(target)), literal(cmd->name));
  }
}

} // namespace colmig::pg::ddl
