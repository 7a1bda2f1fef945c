// Statements that link a table to other live tables and lock those:
// CREATE TABLE ... PARTITION OF, INHERITS or REFERENCES (DefineRelation),
// and ALTER TABLE ... ATTACH PARTITION, which reads every row of the
// partition unless its constraints prove the bound (ATExecAttachPartition,
// QueuePartitionConstraintValidation).
#include "pg/ddl_statement_parts.hpp"

extern "C" {
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_utilcmd.h"
#include "partitioning/partbounds.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
}

namespace colmig::pg::ddl {

namespace {

constexpr const char *kBoundCheckAdvice =
    "first give the partition a CHECK constraint that matches the bound with "
    "colmig.add_check() (validated without blocking writes) and its key columns NOT "
    "NULL (colmig.set_not_null()): ATTACH PARTITION then reads no row";

// Whether the valid constraints of `partition` prove that every row lies
// within `raw_bound` of `parent` (both open), as ATTACH PARTITION decides
// whether to skip its scan.
bool bound_proven(Relation parent, Relation partition, PartitionBoundSpec *raw_bound) {
  PartitionBoundSpec *bound =
      transformPartitionBound(make_parsestate(nullptr), parent, raw_bound);
  List *qual = list_concat(get_qual_from_partbound(parent, bound),
                           RelationGetPartitionQual(parent));
  if (qual == NIL)
    return true;
  qual = reinterpret_cast<List *>(
      eval_const_expressions(nullptr, reinterpret_cast<Node *>(qual)));
  qual =
      reinterpret_cast<List *>(canonicalize_qual(reinterpret_cast<Expr *>(qual), true));
  qual = list_make1(make_ands_explicit(qual));
  qual = map_partition_varattnos(qual, 1, partition, parent);
  return PartConstraintImpliedByRelConstraint(partition, qual);
}

// The default partition of `parent`, whose rows PostgreSQL checks against
// a new partition's bound under ACCESS EXCLUSIVE (none may fall within it).
void add_default_partition_step(Script &script, Oid parent) {
  const Oid fallback = get_default_partition_oid(parent);
  if (!OidIsValid(fallback))
    return;
  const Table table = table_by_oid(fallback);
  if (!OidIsValid(table.relid))
    return;
  DdlStep *step = add_step(script, table, "check of the default partition");
  set_lock(step, AccessExclusiveLock);
  step->facts.rule = core::DdlRule::validating_constraint;
  step->facts.scans = true;
  step->remark = "every row of the default partition is read: none may fall within the "
                 "new bound (unless its own CHECK constraints already exclude it)";
  step->advice = "add a CHECK constraint to the default partition that excludes the new "
                 "bound with colmig.add_check() first";
}

// The tables a new table's foreign keys refer to: each gets the key's
// triggers, under SHARE ROW EXCLUSIVE.
void add_referenced_steps(Script &script, List *constraints) {
  ListCell *cell;
  foreach (cell, constraints) {
    auto *con = castNode(Constraint, lfirst(cell));
    if (con->contype != CONSTR_FOREIGN)
      continue;
    const Oid referenced = RangeVarGetRelid(con->pktable, NoLock, true);
    if (!OidIsValid(referenced))
      continue;
    DdlStep *step = add_step(script, table_by_oid(referenced),
                             "foreign key of the new table (the referenced table)");
    set_lock(step, ShareRowExclusiveLock);
    step->remark = "catalog only: the referenced table gets the key's triggers";
  }
}

// Every constraint of a CREATE TABLE: of the table and of its columns.
List *all_constraints(CreateStmt *stmt) {
  List *all = list_copy(stmt->constraints);
  ListCell *cell;
  foreach (cell, stmt->tableElts) {
    Node *element = static_cast<Node *>(lfirst(cell));
    if (IsA(element, Constraint))
      all = lappend(all, element);
    else if (IsA(element, ColumnDef))
      all = list_concat(all, castNode(ColumnDef, element)->constraints);
  }
  return all;
}

} // namespace

void describe_create_table(Script &script, CreateStmt *stmt) {
  if (stmt->if_not_exists && OidIsValid(RangeVarGetRelid(stmt->relation, NoLock, true))) {
    DdlStep *step = add_step(script, Table{InvalidOid, nullptr, false, {}},
                             "CREATE TABLE IF NOT EXISTS");
    step->remark = "the table exists already: nothing to do";
    return;
  }
  script.created = lappend(script.created, stmt->relation);
  add_step(script, Table{InvalidOid, nullptr, false, {}},
           "CREATE TABLE: a new, empty table");
  ListCell *cell;
  foreach (cell, stmt->inhRelations) {
    const Table parent = find_table(script, castNode(RangeVar, lfirst(cell)));
    if (!OidIsValid(parent.relid))
      continue;
    const bool partition = stmt->partbound != nullptr;
    DdlStep *step = add_step(script, parent,
                             partition ? "PARTITION OF (the partitioned table)"
                                       : "INHERITS (the parent table)");
    // DefineRelation: ACCESS EXCLUSIVE on a partitioned parent, SHARE
    // UPDATE EXCLUSIVE on an inheritance parent.
    set_lock(step, partition ? AccessExclusiveLock : ShareUpdateExclusiveLock);
    step->remark = "catalog only";
    if (partition)
      add_default_partition_step(script, parent.relid);
  }
  add_referenced_steps(script, all_constraints(stmt));
}

void attach_partition(Target &target, AlterTableCmd *cmd) {
  auto *part = castNode(PartitionCmd, cmd->def);
  DdlStep *parent_step = add_step(target.script, target.table, "ATTACH PARTITION");
  set_lock(parent_step, AlterTableGetLockLevel(list_make1(cmd)));
  parent_step->remark = "catalog only for the partitioned table";
  if (!OidIsValid(target.table.relid))
    return;
  const Table partition = find_table(target.script, part->name);
  if (!OidIsValid(partition.relid))
    return; // new in the script, hence empty
  DdlStep *step = add_step(target.script, partition, "ATTACH PARTITION (the partition)");
  set_lock(step, AccessExclusiveLock);
  bool known = false, proven = false;
  if (target.rel != nullptr && target.rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE &&
      ConditionalLockRelationOid(partition.relid, AccessShareLock)) {
    Relation rel = try_relation_open(partition.relid, NoLock);
    if (rel != nullptr) {
      known = true;
      proven = bound_proven(target.rel, rel, part->bound);
      relation_close(rel, NoLock);
    }
    UnlockRelationOid(partition.relid, AccessShareLock);
  }
  if (proven) {
    step->remark = "a valid CHECK constraint proves every row within the bound: no scan";
  } else {
    step->facts.rule = core::DdlRule::validating_constraint;
    step->facts.scans = true;
    step->remark = known
                       ? "every row is checked against the partition's bound"
                       : "another session holds the table now, so colmig could not "
                         "look for a constraint that proves the bound: it assumes a scan";
    step->advice = kBoundCheckAdvice;
  }
  add_default_partition_step(target.script, target.table.relid);
}

} // namespace colmig::pg::ddl
