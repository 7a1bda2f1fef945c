// Statements colmig judges by the lock alone: CREATE and DROP TRIGGER,
// LOCK TABLE, ALTER TABLE ... SET SCHEMA and REFRESH MATERIALIZED VIEW.
// They read no rows of a live table under the lock (REFRESH fills a new
// file from its query), but a lock request that queues blocks everybody
// behind it. Locks as PostgreSQL 15 takes them (trigger.c, lockcmds.c,
// tablecmds.c, matview.c).
#include "pg/ddl_statement_parts.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
}

namespace colmig::pg::ddl {

void describe_create_trigger(Script &script, CreateTrigStmt *stmt) {
  const Table table = find_table(script, stmt->relation);
  if (!OidIsValid(table.relid))
    return;
  DdlStep *step = add_step(script, table, "CREATE TRIGGER");
  set_lock(step, ShareRowExclusiveLock);
  step->remark = "catalog only";
  step->non_owner_privilege = ACL_TRIGGER;
}

void describe_drop_trigger(Script &script, DropStmt *stmt) {
  ListCell *cell;
  foreach (cell, stmt->objects) {
    // The name list is the table's, then the trigger's.
    List *names = list_copy(castNode(List, lfirst(cell)));
    if (list_length(names) < 2)
      continue;
    names = list_truncate(names, list_length(names) - 1);
    RangeVar *relation = makeRangeVarFromNameList(names);
    if (!table_known(script, relation))
      continue;
    const Table table = find_table(script, relation);
    if (!OidIsValid(table.relid))
      continue;
    DdlStep *step = add_step(script, table, "DROP TRIGGER");
    set_lock(step, AccessExclusiveLock);
    step->remark = "catalog only";
  }
}

void describe_lock(Script &script, LockStmt *stmt) {
  ListCell *cell;
  foreach (cell, stmt->relations) {
    const Table table = find_table(script, castNode(RangeVar, lfirst(cell)));
    if (!OidIsValid(table.relid))
      continue;
    DdlStep *step = add_step(script, table, "LOCK TABLE");
    set_lock(step, stmt->mode);
    // The privileges LockTableAclCheck accepts for the mode.
    step->non_owner_privilege =
        stmt->mode == AccessShareLock ? ACL_SELECT
        : stmt->mode == RowExclusiveLock
            ? (ACL_INSERT | ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE)
            : (ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE);
    step->remark = stmt->nowait ? "NOWAIT: fails at once instead of queueing; held until "
                                  "the transaction ends"
                                : "held until the transaction ends";
    if (stmt->nowait)
      step->facts.lock_timeout_set = true;
  }
}

void describe_set_schema(Script &script, AlterObjectSchemaStmt *stmt) {
  if (stmt->relation == nullptr ||
      (stmt->objectType != OBJECT_TABLE && stmt->objectType != OBJECT_MATVIEW) ||
      (stmt->missing_ok && !table_known(script, stmt->relation)))
    return;
  const Table table = find_table(script, stmt->relation);
  if (!OidIsValid(table.relid))
    return;
  DdlStep *step = add_step(script, table, "SET SCHEMA");
  set_lock(step, AccessExclusiveLock);
  step->facts.rule = core::DdlRule::breaks_clients;
  step->remark =
      "catalog only: queries that name the table's old schema fail from then on";
  step->advice = "move the table once no client names its old schema, or leave a view "
                 "of the old name behind";
}

void describe_refresh(Script &script, RefreshMatViewStmt *stmt) {
  const Table table = find_table(script, stmt->relation);
  if (!OidIsValid(table.relid))
    return;
  DdlStep *step = add_step(script, table,
                           stmt->concurrent ? "REFRESH MATERIALIZED VIEW CONCURRENTLY"
                                            : "REFRESH MATERIALIZED VIEW");
  if (stmt->concurrent) {
    // EXCLUSIVE: reads go on while the new contents are merged in.
    set_lock(step, ExclusiveLock);
    step->facts.scans = true;
    step->remark = "reads go on while the view's query runs again and its rows are "
                   "compared with the new ones";
    return;
  }
  set_lock(step, AccessExclusiveLock);
  step->facts.rule = core::DdlRule::table_rewrite;
  step->facts.rewrites = step->facts.scans = true;
  step->remark = "the view's query runs again and fills a new file while reads wait";
  step->advice = "REFRESH MATERIALIZED VIEW CONCURRENTLY (it needs a unique index on the "
                 "view), which lets reads go on";
}

} // namespace colmig::pg::ddl
