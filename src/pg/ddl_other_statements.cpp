// The statements besides ALTER TABLE that lock a live table: CREATE and DROP
// INDEX, REINDEX, VACUUM, CLUSTER, TRUNCATE, RENAME. Their locks are the ones
// PostgreSQL 15 takes (indexcmds.c, vacuum.c, cluster.c, tablecmds.c).
#include "pg/ddl_statement_parts.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace colmig::pg::ddl {

namespace {

bool has_option(List *options, const char *name) {
  ListCell *cell;
  foreach (cell, options) {
    auto *option = castNode(DefElem, lfirst(cell));
    if (strcmp(option->defname, name) == 0)
      return defGetBoolean(option);
  }
  return false;
}

// The colmig.create_index() call of a CREATE INDEX on an existing table.
const char *create_index_call(const Table &table, IndexStmt *stmt) {
  if (!ConditionalLockRelationOid(table.relid, AccessShareLock))
    return nullptr;
  Relation rel = table_open(table.relid, NoLock);
  const char *name = stmt->idxname;
  if (name == nullptr) {
    auto *first = castNode(IndexElem, linitial(stmt->indexParams));
    name = ChooseRelationName(RelationGetRelationName(rel),
                              first->name != nullptr ? first->name : "expr", "idx",
                              RelationGetNamespace(rel), false);
  }
  StringInfoData out;
  initStringInfo(&out);
  appendStringInfo(&out, "SELECT colmig.create_index(%s, %s, %s", literal(table.name),
                   literal(name), literal(deparse_index_columns(rel, stmt->indexParams)));
  if (stmt->unique)
    appendStringInfoString(&out, ", is_unique => true");
  if (stmt->accessMethod != nullptr && strcmp(stmt->accessMethod, "btree") != 0)
    appendStringInfo(&out, ", method => %s", literal(stmt->accessMethod));
  if (stmt->whereClause != nullptr)
    appendStringInfo(&out, ", predicate => %s",
                     literal(deparse_table_expression(rel, stmt->whereClause,
                                                      EXPR_KIND_INDEX_PREDICATE)));
  if (stmt->indexIncludingParams != NIL) {
    List *names = NIL;
    ListCell *cell;
    foreach (cell, stmt->indexIncludingParams)
      names = lappend(names, makeString(castNode(IndexElem, lfirst(cell))->name));
    appendStringInfo(&out, ", include => %s", name_array(names));
  }
  appendStringInfoChar(&out, ')');
  table_close(rel, NoLock);
  UnlockRelationOid(table.relid, AccessShareLock);
  return out.data;
}

// The tables TRUNCATE ... CASCADE of `named` empties besides those it
// names: whose foreign keys refer to one of them, and so on, as
// ExecuteTruncate follows them. Their qualified names, comma-separated, or
// null for none.
const char *cascaded_tables(List *named) {
  List *all = list_copy(named);
  StringInfoData out;
  initStringInfo(&out);
  for (List *level = heap_truncate_find_FKs(all); level != NIL;) {
    List *next = NIL;
    ListCell *cell;
    foreach (cell, level) {
      const Oid relid = lfirst_oid(cell);
      if (list_member_oid(all, relid))
        continue;
      all = lappend_oid(all, relid);
      next = lappend_oid(next, relid);
      const char *name = qualified_name(relid);
      if (name == nullptr)
        continue;
      appendStringInfo(&out, "%s%s", out.len > 0 ? ", " : "", name);
    }
    level = next != NIL ? heap_truncate_find_FKs(next) : NIL;
  }
  return out.len > 0 ? out.data : nullptr;
}

// An index named by a statement: its table, or nothing when missing
// (42704 for plan(), nothing for the guard and for IF EXISTS).
Table index_table(Script &script, List *names, bool missing_ok, Oid *index) {
  RangeVar *relation = makeRangeVarFromNameList(names);
  *index = RangeVarGetRelid(relation, NoLock, true);
  if (!OidIsValid(*index) || get_rel_relkind(*index) != RELKIND_INDEX) {
    if (!script.from_guard && !missing_ok)
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                      errmsg("index \"%s\" does not exist", NameListToString(names))));
    return Table{InvalidOid, nullptr, false, {}};
  }
  return table_by_oid(IndexGetRelation(*index, false));
}

const char *index_name(Oid index) {
  return quote_qualified_identifier(get_namespace_name(get_rel_namespace(index)),
                                    get_rel_name(index));
}

} // namespace

void describe_index(Script &script, IndexStmt *stmt) {
  const Table table = find_table(script, stmt->relation);
  if (!OidIsValid(table.relid) && !table.new_in_script)
    return;
  DdlStep *step = add_step(
      script, table, stmt->concurrent ? "CREATE INDEX CONCURRENTLY" : "CREATE INDEX");
  step->facts.builds_index = true;
  if (stmt->concurrent) {
    set_lock(step, ShareUpdateExclusiveLock);
    step->remark = "reads and writes go on; it waits for older transactions first, and a "
                   "failed build leaves an INVALID index to drop";
    return;
  }
  set_lock(step, ShareLock);
  step->facts.rule = core::DdlRule::blocking_index_build;
  if (!OidIsValid(table.relid))
    return;
  struct IndexCall {
    const Table *table;
    IndexStmt *stmt;
  } index_call{&table, stmt};
  // Null also when the keys name a column the script adds.
  step->alternative = text_or_null(
      [](void *context) {
        auto *i = static_cast<IndexCall *>(context);
        return create_index_call(*i->table, i->stmt);
      },
      &index_call);
}

void describe_drop(Script &script, DropStmt *stmt) {
  if (stmt->removeType == OBJECT_TRIGGER) {
    describe_drop_trigger(script, stmt);
    return;
  }
  ListCell *cell;
  foreach (cell, stmt->objects) {
    if (stmt->removeType == OBJECT_INDEX) {
      Oid index = InvalidOid;
      const Table table =
          index_table(script, castNode(List, lfirst(cell)), stmt->missing_ok, &index);
      if (!OidIsValid(table.relid))
        continue;
      DdlStep *step =
          add_step(script, table, psprintf("DROP INDEX %s", index_name(index)));
      if (stmt->concurrent) {
        set_lock(step, ShareUpdateExclusiveLock);
        step->remark = "reads and writes go on";
        continue;
      }
      set_lock(step, AccessExclusiveLock);
      step->facts.rule = core::DdlRule::blocking_index_drop;
      step->alternative =
          psprintf("SELECT colmig.drop_index(%s)", literal(index_name(index)));
    } else if (stmt->removeType == OBJECT_TABLE) {
      RangeVar *relation = makeRangeVarFromNameList(castNode(List, lfirst(cell)));
      if (stmt->missing_ok && !table_known(script, relation))
        continue;
      const Table table = find_table(script, relation);
      if (!OidIsValid(table.relid) && !table.new_in_script)
        continue;
      DdlStep *step = add_step(script, table, "DROP TABLE");
      set_lock(step, AccessExclusiveLock);
      step->remark = "the table and its rows are gone";
    } else if (!script.from_guard) {
      add_step(script, Table{InvalidOid, nullptr, false, {}}, "DROP");
    }
  }
}

void describe_reindex(Script &script, ReindexStmt *stmt) {
  const bool concurrently = has_option(stmt->params, "concurrently");
  Table table{InvalidOid, nullptr, false, {}};
  Oid index = InvalidOid;
  if (stmt->kind == REINDEX_OBJECT_INDEX) {
    List *names = list_make1(makeString(stmt->relation->relname));
    if (stmt->relation->schemaname != nullptr)
      names = lcons(makeString(stmt->relation->schemaname), names);
    table = index_table(script, names, false, &index);
  } else if (stmt->kind == REINDEX_OBJECT_TABLE) {
    table = find_table(script, stmt->relation);
  } else {
    if (!script.from_guard)
      add_step(script, table, "REINDEX of a schema, database or the system catalogs");
    return;
  }
  if (!OidIsValid(table.relid) && !table.new_in_script)
    return;
  DdlStep *step =
      add_step(script, table, concurrently ? "REINDEX CONCURRENTLY" : "REINDEX");
  step->facts.builds_index = true;
  if (concurrently) {
    set_lock(step, ShareUpdateExclusiveLock);
    step->remark = "reads and writes go on";
    return;
  }
  set_lock(step, ShareLock);
  step->facts.rule = core::DdlRule::blocking_reindex;
  step->alternative = OidIsValid(index)
                          ? psprintf("REINDEX INDEX CONCURRENTLY %s", index_name(index))
                          : psprintf("REINDEX TABLE CONCURRENTLY %s", table.name);
}

void describe_vacuum(Script &script, VacuumStmt *stmt) {
  const bool full = stmt->is_vacuumcmd && has_option(stmt->options, "full");
  const char *action = !stmt->is_vacuumcmd ? "ANALYZE" : full ? "VACUUM FULL" : "VACUUM";
  if (stmt->rels == NIL) {
    if (!script.from_guard)
      add_step(script, Table{InvalidOid, nullptr, false, {}},
               psprintf("%s of every table, one after the other", action));
    return;
  }
  ListCell *cell;
  foreach (cell, stmt->rels) {
    auto *rel = castNode(VacuumRelation, lfirst(cell));
    const Table table = find_table(script, rel->relation);
    if (!OidIsValid(table.relid) && !table.new_in_script)
      continue;
    DdlStep *step = add_step(script, table, action);
    if (!full) {
      set_lock(step, ShareUpdateExclusiveLock);
      step->remark = "reads and writes go on";
      continue;
    }
    set_lock(step, AccessExclusiveLock);
    step->facts.rule = core::DdlRule::table_rewrite;
    step->facts.rewrites = step->facts.scans = true;
    step->advice = "plain VACUUM makes the space reusable without the lock; to give it "
                   "back to the file system online, pg_repack or pg_squeeze";
  }
}

void describe_cluster(Script &script, ClusterStmt *stmt) {
  if (stmt->relation == nullptr) {
    if (!script.from_guard)
      add_step(script, Table{InvalidOid, nullptr, false, {}},
               "CLUSTER of every table clustered before");
    return;
  }
  const Table table = find_table(script, stmt->relation);
  if (!OidIsValid(table.relid) && !table.new_in_script)
    return;
  DdlStep *step = add_step(script, table, "CLUSTER");
  set_lock(step, AccessExclusiveLock);
  step->facts.rule = core::DdlRule::table_rewrite;
  step->facts.rewrites = step->facts.scans = true;
  step->advice = "pg_repack reorders a table online";
}

void describe_truncate(Script &script, TruncateStmt *stmt) {
  List *named = NIL;
  ListCell *cell;
  foreach (cell, stmt->relations) {
    const Table table = find_table(script, castNode(RangeVar, lfirst(cell)));
    if (!OidIsValid(table.relid) && !table.new_in_script)
      continue;
    DdlStep *step = add_step(script, table, "TRUNCATE");
    set_lock(step, AccessExclusiveLock);
    step->remark = "empties the table";
    // The TRUNCATE privilege lets a role that does not own the table run it.
    step->non_owner_privilege = ACL_TRUNCATE;
    // Without ONLY, its children are emptied too, and the cascade follows
    // the keys that refer to them.
    if (OidIsValid(table.relid))
      named = list_concat_unique_oid(
          named, castNode(RangeVar, lfirst(cell))->inh
                     ? find_all_inheritors(table.relid, NoLock, nullptr)
                     : list_make1_oid(table.relid));
  }
  if (stmt->behavior != DROP_CASCADE || named == NIL)
    return;
  const char *others = cascaded_tables(named);
  if (others == nullptr)
    return;
  // The cascade belongs to the statement: its last step carries it.
  auto *step = static_cast<DdlStep *>(llast(script.steps));
  step->action = "TRUNCATE ... CASCADE";
  step->facts.rule = core::DdlRule::truncate_cascade;
  step->remark = psprintf("also empties %s, under ACCESS EXCLUSIVE", others);
  step->advice = psprintf("name every table to empty, without CASCADE (TRUNCATE %s, %s), "
                          "so that the statement says what it empties",
                          step->table, others);
}

void describe_rename(Script &script, RenameStmt *stmt) {
  const bool table_or_column =
      stmt->renameType == OBJECT_TABLE ||
      (stmt->renameType == OBJECT_COLUMN && stmt->relationType == OBJECT_TABLE);
  if (stmt->relation == nullptr ||
      (stmt->missing_ok && !table_known(script, stmt->relation)))
    return;
  if (stmt->renameType == OBJECT_INDEX) {
    Oid index = InvalidOid;
    List *names = list_make1(makeString(stmt->relation->relname));
    if (stmt->relation->schemaname != nullptr)
      names = lcons(makeString(stmt->relation->schemaname), names);
    const Table table = index_table(script, names, stmt->missing_ok, &index);
    if (!OidIsValid(table.relid))
      return;
    DdlStep *step = add_step(script, table, "ALTER INDEX ... RENAME");
    set_lock(step, ShareUpdateExclusiveLock);
    step->remark = "catalog only";
    return;
  }
  const Table table = find_table(script, stmt->relation);
  if (!OidIsValid(table.relid) && !table.new_in_script)
    return;
  DdlStep *step = add_step(
      script, table, stmt->renameType == OBJECT_COLUMN ? "RENAME COLUMN" : "RENAME");
  set_lock(step, AccessExclusiveLock);
  step->remark = "catalog only";
  if (table_or_column) {
    step->facts.rule = core::DdlRule::breaks_clients;
    step->advice = "expand and contract: add the new name (a view or a new column), move "
                   "the clients over, then drop the old one";
  }
}

} // namespace colmig::pg::ddl
