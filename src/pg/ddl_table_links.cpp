// Statements that link a table to other live tables and lock those:
// CREATE TABLE ... PARTITION OF, INHERITS or REFERENCES (DefineRelation),
// and ALTER TABLE ... ATTACH PARTITION, which reads every row of the
// partition unless its constraints prove the bound (ATExecAttachPartition,
// QueuePartitionConstraintValidation).
#include "pg/ddl_statement_parts.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_utilcmd.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace colmig::pg::ddl {

namespace {

constexpr const char *kBoundCheckAdvice =
    "first give the partition a CHECK constraint that matches the bound with "
    "colmig.add_check() (validated without blocking writes) and its key columns NOT "
    "NULL (colmig.set_not_null()): ATTACH PARTITION then reads no row";

// The constraint a partition bound of `parent` stands for, in the parent's
// columns (get_qual_from_partbound of the analysed bound).
List *bound_qual(Relation parent, PartitionBoundSpec *raw_bound) {
  return get_qual_from_partbound(
      parent, transformPartitionBound(make_parsestate(nullptr), parent, raw_bound));
}

// Whether the valid constraints of `rel` prove `qual` (of `parent`'s
// columns). A partitioned `rel` whose own do not is proven when each of its
// partitions' do, as QueuePartitionConstraintValidation goes down to them;
// a partition locked by someone else now counts as not proven.
bool qual_proven(Relation parent, Relation rel, List *qual) {
  if (PartConstraintImpliedByRelConstraint(rel,
                                           map_partition_varattnos(qual, 1, rel, parent)))
    return true;
  if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
    return false;
  PartitionDesc children = RelationGetPartitionDesc(rel, true);
  bool proven = true;
  for (int i = 0; proven && i < children->nparts; ++i) {
    const Oid child = children->oids[i];
    if (!ConditionalLockRelationOid(child, AccessShareLock))
      return false;
    Relation child_rel = try_relation_open(child, NoLock);
    proven = child_rel != nullptr && qual_proven(parent, child_rel, qual);
    if (child_rel != nullptr)
      relation_close(child_rel, NoLock);
    UnlockRelationOid(child, AccessShareLock);
  }
  return proven;
}

// Whether the valid constraints of `partition` prove that every row lies
// within `raw_bound` of `parent` (both open), as ATTACH PARTITION decides
// whether to skip its scan.
bool bound_proven(Relation parent, Relation partition, PartitionBoundSpec *raw_bound) {
  List *qual =
      list_concat(bound_qual(parent, raw_bound), RelationGetPartitionQual(parent));
  if (qual == NIL)
    return true;
  qual = reinterpret_cast<List *>(
      eval_const_expressions(nullptr, reinterpret_cast<Node *>(qual)));
  qual =
      reinterpret_cast<List *>(canonicalize_qual(reinterpret_cast<Expr *>(qual), true));
  return qual_proven(parent, partition, list_make1(make_ands_explicit(qual)));
}

// Whether the default partition's constraints already exclude the new
// bound, as check_default_partition_contents asks before its scan. Opens
// the parent and the default partition only when they are free at once.
bool default_excludes_bound(Oid parent, Oid fallback, PartitionBoundSpec *raw_bound) {
  bool excluded = false;
  if (!ConditionalLockRelationOid(parent, AccessShareLock))
    return false;
  Relation parent_rel = try_relation_open(parent, NoLock);
  if (parent_rel != nullptr && ConditionalLockRelationOid(fallback, AccessShareLock)) {
    Relation fallback_rel = try_relation_open(fallback, NoLock);
    if (fallback_rel != nullptr) {
      List *qual = get_proposed_default_constraint(bound_qual(parent_rel, raw_bound));
      excluded = qual_proven(parent_rel, fallback_rel, qual);
      relation_close(fallback_rel, NoLock);
    }
    UnlockRelationOid(fallback, AccessShareLock);
  }
  if (parent_rel != nullptr)
    relation_close(parent_rel, NoLock);
  UnlockRelationOid(parent, AccessShareLock);
  return excluded;
}

// Whether `partition` has an index that ATTACH PARTITION can take for the
// parent's index `parent_index` (the same method, uniqueness and columns by
// name), as AttachPartitionEnsureIndexes looks for one; colmig does not
// compare operator classes or collations, so it may call an index matched
// that PostgreSQL builds again. An
// expression or partial index counts as matched by any of the partition's
// of the same shape: colmig does not compare expressions.
bool has_matching_index(Relation parent, Relation partition, Oid parent_index) {
  HeapTuple wanted = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(parent_index));
  if (!HeapTupleIsValid(wanted))
    return true;
  auto *want = reinterpret_cast<Form_pg_index>(GETSTRUCT(wanted));
  const bool want_plain = heap_attisnull(wanted, Anum_pg_index_indexprs, nullptr) &&
                          heap_attisnull(wanted, Anum_pg_index_indpred, nullptr);
  const Oid want_am = access_method_of(parent_index);
  bool found = false;
  List *indexes = RelationGetIndexList(partition);
  ListCell *cell;
  foreach (cell, indexes) {
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(cell)));
    if (!HeapTupleIsValid(tuple))
      continue;
    auto *have = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple));
    const bool have_plain = heap_attisnull(tuple, Anum_pg_index_indexprs, nullptr) &&
                            heap_attisnull(tuple, Anum_pg_index_indpred, nullptr);
    bool same = have->indisunique == want->indisunique &&
                have->indnatts == want->indnatts &&
                have->indnkeyatts == want->indnkeyatts && have_plain == want_plain &&
                access_method_of(have->indexrelid) == want_am;
    for (int i = 0; same && i < want->indnatts; ++i) {
      const AttrNumber a = want->indkey.values[i], b = have->indkey.values[i];
      same = (a == 0) == (b == 0) &&
             (a == 0 || strcmp(get_attname(RelationGetRelid(parent), a, false),
                               get_attname(RelationGetRelid(partition), b, false)) == 0);
    }
    ReleaseSysCache(tuple);
    found = found || same;
  }
  ReleaseSysCache(wanted);
  return found;
}

// The parent's indexes the partition lacks: ATTACH builds each of them on
// the partition under its ACCESS EXCLUSIVE lock.
int indexes_to_build(Relation parent, Relation partition) {
  int missing = 0;
  List *indexes = RelationGetIndexList(parent);
  ListCell *cell;
  foreach (cell, indexes)
    missing += has_matching_index(parent, partition, lfirst_oid(cell)) ? 0 : 1;
  return missing;
}

// The parent's foreign keys the partition has no key of its own for (to
// the same table, on the same columns by name): ATTACH adds each and
// validates it, reading every row of the partition, under SHARE ROW
// EXCLUSIVE on the referenced table. Their referenced tables.
List *foreign_keys_to_validate(Relation parent, Relation partition) {
  List *referenced = NIL;
  List *have = RelationGetFKeyList(partition);
  ListCell *cell;
  foreach (cell, RelationGetFKeyList(parent)) {
    auto *want = static_cast<ForeignKeyCacheInfo *>(lfirst(cell));
    bool found = false;
    ListCell *other;
    foreach (other, have) {
      auto *key = static_cast<ForeignKeyCacheInfo *>(lfirst(other));
      bool same = key->confrelid == want->confrelid && key->nkeys == want->nkeys;
      for (int i = 0; same && i < want->nkeys; ++i)
        same =
            strcmp(get_attname(RelationGetRelid(parent), want->conkey[i], false),
                   get_attname(RelationGetRelid(partition), key->conkey[i], false)) == 0;
      found = found || same;
    }
    if (!found)
      referenced = list_append_unique_oid(referenced, want->confrelid);
  }
  return referenced;
}

// The default partition of `parent`, whose rows PostgreSQL checks against
// a new partition's bound under ACCESS EXCLUSIVE (none may fall within it).
void add_default_partition_step(Script &script, Oid parent, PartitionBoundSpec *bound) {
  const Oid fallback = get_default_partition_oid(parent);
  if (!OidIsValid(fallback))
    return;
  const Table table = table_by_oid(fallback);
  if (!OidIsValid(table.relid))
    return;
  DdlStep *step = add_step(script, table, "check of the default partition");
  set_lock(step, AccessExclusiveLock);
  if (bound != nullptr && !bound->is_default &&
      default_excludes_bound(parent, fallback, bound)) {
    step->remark = "its CHECK constraints exclude the new bound: no scan";
    return;
  }
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
    step->non_owner_privilege = ACL_REFERENCES;
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
      add_default_partition_step(script, parent.relid, stmt->partbound);
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
  int indexes = 0;
  List *keys = NIL;
  if (target.rel != nullptr && target.rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE &&
      ConditionalLockRelationOid(partition.relid, AccessShareLock)) {
    Relation rel = try_relation_open(partition.relid, NoLock);
    if (rel != nullptr) {
      known = true;
      proven = bound_proven(target.rel, rel, part->bound);
      indexes = indexes_to_build(target.rel, rel);
      keys = foreign_keys_to_validate(target.rel, rel);
      relation_close(rel, NoLock);
    }
    UnlockRelationOid(partition.relid, AccessShareLock);
  }
  if (indexes > 0 || keys != NIL) {
    step->facts.rule = core::DdlRule::validating_constraint;
    step->facts.scans = true;
    step->facts.builds_index = indexes > 0;
    step->remark = psprintf(
        "%s%s%s%s", proven ? "its CHECK constraints prove the bound, but " : "",
        indexes > 0 ? psprintf("%d of the partitioned table's indexes %s built on it",
                               indexes, indexes == 1 ? "is" : "are")
                    : "",
        indexes > 0 && keys != NIL ? ", and " : "",
        keys != NIL ? "the partitioned table's foreign keys are validated on every row"
                    : "");
    step->advice = "first build the partitioned table's indexes on the partition with "
                   "colmig.create_index() and add its foreign keys with "
                   "colmig.add_foreign_key(), then a CHECK that matches the bound";
    ListCell *cell;
    foreach (cell, keys) {
      DdlStep *referenced =
          add_step(target.script, table_by_oid(lfirst_oid(cell)),
                   "ATTACH PARTITION (a foreign key's referenced table)");
      set_lock(referenced, ShareRowExclusiveLock);
      referenced->facts.scans = true;
      referenced->remark = "read while the partition's rows are checked against it";
    }
  } else if (proven) {
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
  add_default_partition_step(target.script, target.table.relid, part->bound);
}

} // namespace colmig::pg::ddl
