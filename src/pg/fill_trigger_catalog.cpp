#include "core/helper_names.hpp"

#include "pg/fill_trigger_catalog.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
}

namespace colmig::pg {

namespace {

// The pg_trigger row of `trigger_oid`, copied, or NULL.
HeapTuple trigger_row(Oid trigger_oid) {
  Relation triggers = table_open(TriggerRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ,
              ObjectIdGetDatum(trigger_oid));
  SysScanDesc scan =
      systable_beginscan(triggers, TriggerOidIndexId, true, nullptr, 1, &key);
  HeapTuple found = systable_getnext(scan);
  HeapTuple copy = HeapTupleIsValid(found) ? heap_copytuple(found) : nullptr;
  systable_endscan(scan);
  table_close(triggers, AccessShareLock);
  return copy;
}

} // namespace

TriggerIdentity create_fill_trigger(Oid relid, std::int64_t job_id, AttrNumber attnum,
                                    Oid owner, const char *expression,
                                    const char *const *settings, int setting_count) {
  CreateTrigStmt *stmt = makeNode(CreateTrigStmt);
  // No std::string here: this runs inside pg::call, where an error
  // longjmps over the frame.
  stmt->trigname = psprintf("%.*s%ld", static_cast<int>(core::kFillTriggerPrefix.size()),
                            core::kFillTriggerPrefix.data(), static_cast<long>(job_id));
  stmt->funcname =
      list_make2(makeString(pstrdup("colmig")), makeString(pstrdup("fill_column")));
  stmt->args =
      list_make4(makeString(psprintf("%ld", static_cast<long>(job_id))),
                 makeString(psprintf("%d", static_cast<int>(attnum))),
                 makeString(psprintf("%u", owner)), makeString(pstrdup(expression)));
  for (int i = 0; i < setting_count; ++i)
    stmt->args = lappend(stmt->args, makeString(pstrdup(settings[i])));
  stmt->row = true;
  stmt->timing = TRIGGER_TYPE_BEFORE;
  stmt->events = TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE;
  ObjectAddress created = CreateTriggerFiringOn(
      stmt, "colmig fill trigger", relid, InvalidOid, InvalidOid, InvalidOid, InvalidOid,
      InvalidOid, nullptr, /*isInternal=*/true, /*in_partition=*/false,
      TRIGGER_FIRES_ALWAYS);
  CommandCounterIncrement();
  HeapTuple row = trigger_row(created.objectId);
  if (row == nullptr)
    elog(ERROR, "colmig: the fill trigger %u just created is not there",
         created.objectId);
  TriggerIdentity identity{created.objectId, HeapTupleHeaderGetRawXmin(row->t_data)};
  heap_freetuple(row);
  return identity;
}

TriggerRow read_fill_trigger(Oid trigger_oid) {
  HeapTuple row = trigger_row(trigger_oid);
  if (row == nullptr)
    return {false, false, InvalidTransactionId};
  const auto *form = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(row));
  TriggerRow result{true, form->tgenabled == TRIGGER_FIRES_ALWAYS,
                    HeapTupleHeaderGetRawXmin(row->t_data)};
  heap_freetuple(row);
  return result;
}

void drop_fill_trigger(Oid trigger_oid, Oid relid) {
  HeapTuple row = trigger_row(trigger_oid);
  if (row == nullptr)
    return;
  // Only colmig's own trigger on that table: an OID remembered from a
  // transaction that rolled back must never reach another trigger.
  const auto *form = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(row));
  const bool ours =
      form->tgrelid == relid && is_fill_trigger(form->tgisinternal, form->tgfoid);
  heap_freetuple(row);
  if (!ours)
    return;
  ObjectAddress trigger{TriggerRelationId, trigger_oid, 0};
  performDeletion(&trigger, DROP_RESTRICT, PERFORM_DELETION_INTERNAL);
  CommandCounterIncrement();
}

bool before_trigger_fires_after(const TriggerDesc *triggers, Oid fill_trigger,
                                int events) {
  if (triggers == nullptr)
    return false;
  bool after_fill = false;
  for (int i = 0; i < triggers->numtriggers; ++i) {
    const Trigger &trigger = triggers->triggers[i];
    if (trigger.tgoid == fill_trigger) {
      after_fill = true;
      continue;
    }
    // Whatever session_replication_role says: a trigger that is enabled
    // at all may fire for some session.
    if (after_fill && !trigger.tgisinternal && trigger.tgenabled != TRIGGER_DISABLED &&
        TRIGGER_FOR_ROW(trigger.tgtype) && TRIGGER_FOR_BEFORE(trigger.tgtype) &&
        (trigger.tgtype & events) != 0)
      return true;
  }
  return false;
}

bool has_triggers_after_fill(Oid relid, Oid fill_trigger) {
  Relation rel = try_relation_open(relid, AccessShareLock);
  if (rel == nullptr)
    return false;
  const bool found = before_trigger_fires_after(
      rel->trigdesc, fill_trigger, TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE);
  relation_close(rel, NoLock);
  return found;
}

bool is_fill_trigger(bool internal, Oid function) {
  if (!internal)
    return false;
  List *name =
      list_make2(makeString(pstrdup("colmig")), makeString(pstrdup("fill_column")));
  const Oid fill_column = LookupFuncName(name, 0, nullptr, true);
  list_free_deep(name);
  return OidIsValid(fill_column) && function == fill_column;
}

} // namespace colmig::pg
