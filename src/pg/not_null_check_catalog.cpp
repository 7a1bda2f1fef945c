#include "pg/not_null_check_catalog.hpp"

extern "C" {
#include "access/table.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_proc.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/fmgroids.h"
}

namespace colmig::pg {

namespace {

// Whether constraint `oid` depends on colmig.check_of_job().
bool calls_check_of_job(Oid oid) {
  List *name =
      list_make2(makeString(pstrdup("colmig")), makeString(pstrdup("check_of_job")));
  Oid argument = INT8OID;
  const Oid check_of_job = LookupFuncName(name, 1, &argument, true);
  list_free_deep(name);
  if (!OidIsValid(check_of_job))
    return false;
  bool found = false;
  Relation depend = table_open(DependRelationId, AccessShareLock);
  ScanKeyData keys[2];
  ScanKeyInit(&keys[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
              ObjectIdGetDatum(ConstraintRelationId));
  ScanKeyInit(&keys[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
              ObjectIdGetDatum(oid));
  SysScanDesc scan =
      systable_beginscan(depend, DependDependerIndexId, true, nullptr, 2, keys);
  HeapTuple tuple;
  while (!found && HeapTupleIsValid(tuple = systable_getnext(scan))) {
    auto *row = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tuple));
    found = row->refclassid == ProcedureRelationId && row->refobjid == check_of_job;
  }
  systable_endscan(scan);
  table_close(depend, AccessShareLock);
  return found;
}

} // namespace

void drop_not_null_check(Oid relid, const char *name) {
  const Oid oid = get_relation_constraint_oid(relid, name, true);
  if (!OidIsValid(oid) || !calls_check_of_job(oid))
    return;
  ObjectAddress check{ConstraintRelationId, oid, 0};
  performDeletion(&check, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
  CommandCounterIncrement();
}

bool not_null_proven(Oid relid, AttrNumber attnum) {
  Relation rel = table_open(relid, AccessShareLock);
  const bool proven = not_null_proven(rel, attnum);
  table_close(rel, NoLock);
  return proven;
}

bool not_null_proven(Relation rel, AttrNumber attnum) {
  List *checks = NIL;
  TupleConstr *constr = rel->rd_att->constr;
  for (int i = 0; constr != nullptr && i < constr->num_check; ++i) {
    if (!constr->check[i].ccvalid)
      continue;
    // Canonical, as ALTER TABLE's own proof sees the checks.
    Node *check =
        eval_const_expressions(nullptr, (Node *)stringToNode(constr->check[i].ccbin));
    check = (Node *)canonicalize_qual((Expr *)check, true);
    checks = list_concat(checks, make_ands_implicit((Expr *)check));
  }
  Form_pg_attribute attribute = TupleDescAttr(rel->rd_att, attnum - 1);
  NullTest *test = makeNode(NullTest);
  test->arg = (Expr *)makeVar(1, attnum, attribute->atttypid, attribute->atttypmod,
                              attribute->attcollation, 0);
  test->nulltesttype = IS_NOT_NULL;
  test->argisrow = false;
  test->location = -1;
  return checks != NIL && predicate_implied_by(list_make1(test), checks, true);
}

} // namespace colmig::pg
