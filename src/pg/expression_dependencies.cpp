#include "pg/expression_dependencies.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_depend.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
}

namespace colmig::pg {

// PostgreSQL's walker over an expression (find_expr_references) is only
// reachable through the functions that write pg_depend. So the references
// are recorded for a depender that no catalog object can be (class 0, a
// fresh OID), read back, and deleted again, all in the caller's
// transaction: nobody else ever sees those rows.
ObjectRefs expression_dependencies(Node *expr, Oid relid) {
  ObjectAddress depender;
  depender.classId = InvalidOid;
  depender.objectId = GetNewObjectId();
  depender.objectSubId = 0;
  if (OidIsValid(relid))
    recordDependencyOnSingleRelExpr(&depender, expr, relid, DEPENDENCY_NORMAL,
                                    DEPENDENCY_NORMAL, false);
  else
    recordDependencyOnExpr(&depender, expr, NIL, DEPENDENCY_NORMAL);
  CommandCounterIncrement();

  ObjectRefs result{nullptr, 0};
  int capacity = 8;
  result.refs = static_cast<ObjectRef *>(palloc(sizeof(ObjectRef) * capacity));
  Relation depend = table_open(DependRelationId, RowExclusiveLock);
  ScanKeyData keys[2];
  ScanKeyInit(&keys[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
              ObjectIdGetDatum(depender.classId));
  ScanKeyInit(&keys[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
              ObjectIdGetDatum(depender.objectId));
  SysScanDesc scan =
      systable_beginscan(depend, DependDependerIndexId, true, nullptr, 2, keys);
  HeapTuple tuple;
  while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
    auto *row = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tuple));
    if (result.count == capacity) {
      capacity *= 2;
      result.refs =
          static_cast<ObjectRef *>(repalloc(result.refs, sizeof(ObjectRef) * capacity));
    }
    result.refs[result.count++] = {row->refclassid, row->refobjid, row->refobjsubid};
  }
  systable_endscan(scan);
  table_close(depend, RowExclusiveLock);
  deleteDependencyRecordsFor(depender.classId, depender.objectId, false);
  CommandCounterIncrement();
  return result;
}

} // namespace colmig::pg
