#include "pg/row_fill.hpp"

#include "pg/fill_expression.hpp"
#include "pg/guard.hpp"
#include "pg/page_room.hpp"
#include "pg/pacing.hpp"

#include <chrono>

extern "C" {
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "nodes/makefuncs.h"
#include "storage/itemptr.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace colmig::pg {

namespace {

// Everything below runs inside pg::call and holds no C++ object: an error
// longjmps out, and the transaction's abort releases the relation, the
// scan, the snapshot and the executor state.

struct Batch {
  Relation rel;
  EState *estate;
  ResultRelInfo *target;
  EPQState epq;
  ExprState *expression;
  TupleTableSlot *old_row;
  TupleTableSlot *new_row;
  TupleTableSlot *locked_row;   // with BEFORE triggers only
  TupleTableSlot *refilled_row; // with fire_triggers only
  PageRoom room;                // in_place only
  Snapshot snapshot;
  bool with_triggers;   // any trigger fires (AFTER ones are queued)
  bool before_triggers; // BEFORE row triggers fire: rows are locked first
};

Relation open_target(const FillRequest &request) {
  Relation rel = try_table_open(request.relid, RowExclusiveLock);
  if (rel == nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                    errmsg("the table of colmig job %ld was dropped",
                           static_cast<long>(request.job_id))));
  return rel;
}

// What PostgreSQL's trigger.c keeps per TriggerDesc (SetTriggerFlags is
// private there): whether any trigger of each kind is left.
void set_trigger_flags(TriggerDesc *desc) {
  TriggerDesc flags = {};
  flags.triggers = desc->triggers;
  flags.numtriggers = desc->numtriggers;
  for (int i = 0; i < desc->numtriggers; ++i) {
    const int16 type = desc->triggers[i].tgtype;
    const bool row = TRIGGER_FOR_ROW(type);
    const bool before = TRIGGER_FOR_BEFORE(type);
    const bool after = TRIGGER_FOR_AFTER(type);
    if (TRIGGER_FOR_INSERT(type)) {
      flags.trig_insert_before_row |= row && before;
      flags.trig_insert_after_row |= row && after;
      flags.trig_insert_before_statement |= !row && before;
      flags.trig_insert_after_statement |= !row && after;
    }
    if (TRIGGER_FOR_UPDATE(type)) {
      flags.trig_update_before_row |= row && before;
      flags.trig_update_after_row |= row && after;
      flags.trig_update_before_statement |= !row && before;
      flags.trig_update_after_statement |= !row && after;
    }
    if (TRIGGER_FOR_DELETE(type)) {
      flags.trig_delete_before_row |= row && before;
      flags.trig_delete_after_row |= row && after;
      flags.trig_delete_before_statement |= !row && before;
      flags.trig_delete_after_statement |= !row && after;
    }
  }
  *desc = flags;
}

// The triggers a batch fires without fire_triggers: PostgreSQL's own
// internal ones and nothing of the application's. The foreign-key
// triggers check a key the batch writes (a foreign key on the new column,
// added meanwhile) and skip the others; the deferred unique and exclusion
// checks recheck the index entries a non-HOT update adds; and the fill
// triggers of other colmig jobs on the table fill their column in the rows
// this batch moves, which could otherwise slip behind their sweep. The
// job's own fill trigger would only find the column filled. NULL when none
// is left: the common case, and the fast one.
TriggerDesc *internal_triggers(const TriggerDesc *all, Oid own_trigger) {
  if (all == nullptr)
    return nullptr;
  TriggerDesc *kept = CopyTriggerDesc(const_cast<TriggerDesc *>(all));
  int count = 0;
  for (int i = 0; i < kept->numtriggers; ++i)
    if (kept->triggers[i].tgisinternal && kept->triggers[i].tgoid != own_trigger)
      kept->triggers[count++] = kept->triggers[i];
  if (count == 0)
    return nullptr;
  kept->numtriggers = count;
  set_trigger_flags(kept);
  return kept;
}

void begin_batch(Batch &batch, const FillRequest &request) {
  Relation rel = batch.rel;
  // As PostgreSQL's UPDATE: a table that publishes updates needs a
  // replica identity.
  CheckCmdReplicaIdentity(rel, CMD_UPDATE);
  EState *estate = CreateExecutorState();
  batch.estate = estate;
  MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

  RangeTblEntry *rte = makeNode(RangeTblEntry);
  rte->rtekind = RTE_RELATION;
  rte->relid = RelationGetRelid(rel);
  rte->relkind = rel->rd_rel->relkind;
  rte->rellockmode = RowExclusiveLock;
  rte->requiredPerms = ACL_UPDATE;
  // Triggers FOR UPDATE OF <column> and generated columns look at this.
  rte->updatedCols =
      bms_make_singleton(request.attnum - FirstLowInvalidHeapAttributeNumber);
  ExecInitRangeTable(estate, list_make1(rte));

  ResultRelInfo *target = makeNode(ResultRelInfo);
  InitResultRelInfo(target, rel, 1, nullptr, 0);
  // Where the trigger code looks for its result relation.
  estate->es_opened_result_relations =
      lappend(estate->es_opened_result_relations, target);
  if (!request.fire_triggers)
    target->ri_TrigDesc = internal_triggers(target->ri_TrigDesc, request.own_trigger);
  ExecOpenIndices(target, false);
  batch.target = target;

  // A new snapshot, as for a statement of its own: it sees what committed
  // before the batch, and not the batch's own new row versions (they get
  // this command id, which the snapshot does not see: no row is visited
  // twice in one batch).
  CommandCounterIncrement();
  batch.snapshot = RegisterSnapshot(GetTransactionSnapshot());
  PushActiveSnapshot(batch.snapshot);
  estate->es_snapshot = batch.snapshot;
  estate->es_output_cid = GetCurrentCommandId(true);
  AfterTriggerBeginQuery();
  batch.with_triggers = target->ri_TrigDesc != nullptr;
  batch.before_triggers =
      batch.with_triggers && target->ri_TrigDesc->trig_update_before_row;
  if (batch.with_triggers)
    EvalPlanQualInit(&batch.epq, estate, nullptr, NIL, -1);

  char job[24];
  snprintf(job, sizeof(job), "%ld", static_cast<long>(request.job_id));
  Expr *expr = load_fill_expression(request.expression, rel, request.attnum, job);
  batch.expression = compile_fill_expression(expr);
  batch.old_row = table_slot_create(rel, &estate->es_tupleTable);
  batch.new_row = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsVirtual);
  batch.locked_row =
      batch.before_triggers ? table_slot_create(rel, &estate->es_tupleTable) : nullptr;
  batch.refilled_row =
      request.fire_triggers
          ? ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsVirtual)
          : nullptr;
  MemoryContextSwitchTo(old);
}

void end_batch(Batch &batch) {
  if (batch.with_triggers)
    EvalPlanQualEnd(&batch.epq);
  // Runs the AFTER row triggers queued by the batch (with fire_triggers).
  AfterTriggerEndQuery(batch.estate);
  ExecCloseIndices(batch.target);
  ExecResetTupleTable(batch.estate->es_tupleTable, false);
  PopActiveSnapshot();
  UnregisterSnapshot(batch.snapshot);
  FreeExecutorState(batch.estate);
  CommandCounterIncrement();
}

// The row as it is, with the column set to `value`.
void build_new_row(Batch &batch, AttrNumber attnum, Datum value) {
  TupleTableSlot *old_row = batch.old_row;
  TupleTableSlot *new_row = batch.new_row;
  const int natts = new_row->tts_tupleDescriptor->natts;
  slot_getallattrs(old_row);
  ExecClearTuple(new_row);
  memcpy(new_row->tts_values, old_row->tts_values, sizeof(Datum) * natts);
  memcpy(new_row->tts_isnull, old_row->tts_isnull, sizeof(bool) * natts);
  new_row->tts_values[attnum - 1] = value;
  new_row->tts_isnull[attnum - 1] = false;
  ExecStoreVirtualTuple(new_row);
}

// deferred: in_place, no room on its page yet (pg/page_room.hpp).
enum class RowOutcome { filled, skipped_locked, skipped_by_trigger, passed, deferred };

// With triggers the row is locked first, as logical replication does
// before it fires them: a BEFORE trigger must find the row as it is.
RowOutcome fire_before_triggers(Batch &batch, const FillRequest &request,
                                ItemPointer tid) {
  TM_FailureData failure;
  TM_Result locked = table_tuple_lock(
      batch.rel, tid, batch.snapshot, batch.locked_row, batch.estate->es_output_cid,
      LockTupleNoKeyExclusive,
      request.wait_for_locked_rows ? LockWaitBlock : LockWaitSkip, 0, &failure);
  if (locked == TM_WouldBlock)
    return RowOutcome::skipped_locked;
  if (locked != TM_Ok)
    return RowOutcome::passed; // updated or deleted since: the trigger had it
  if (batch.target->ri_TrigDesc != nullptr &&
      batch.target->ri_TrigDesc->trig_update_before_row &&
      !ExecBRUpdateTriggers(batch.estate, &batch.epq, batch.target, tid, nullptr,
                            batch.new_row, nullptr))
    return RowOutcome::skipped_by_trigger; // a trigger said "do nothing"
  return RowOutcome::filled;
}

// After the application's BEFORE triggers (fire_triggers): the value comes
// from the row as they left it, as the fill trigger computes it for an
// application's write after them, unless a trigger set the column itself.
// Returns the row to write.
TupleTableSlot *fill_after_triggers(Batch &batch, AttrNumber attnum, Datum first_value) {
  TupleTableSlot *row = batch.new_row;
  slot_getallattrs(row);
  const Form_pg_attribute column = TupleDescAttr(row->tts_tupleDescriptor, attnum - 1);
  // By content: the triggers hand the row back in stored form, where a
  // short value has another length header than the one computed.
  if (row->tts_isnull[attnum - 1] ||
      !datum_image_eq(row->tts_values[attnum - 1], first_value, column->attbyval,
                      column->attlen))
    return row;
  ExprContext *econtext = GetPerTupleExprContext(batch.estate);
  econtext->ecxt_scantuple = row;
  bool is_null = false;
  Datum value = ExecEvalExprSwitchContext(batch.expression, econtext, &is_null);
  TupleTableSlot *refilled = batch.refilled_row;
  const int natts = row->tts_tupleDescriptor->natts;
  ExecClearTuple(refilled);
  memcpy(refilled->tts_values, row->tts_values, sizeof(Datum) * natts);
  memcpy(refilled->tts_isnull, row->tts_isnull, sizeof(bool) * natts);
  refilled->tts_values[attnum - 1] = value;
  refilled->tts_isnull[attnum - 1] = is_null;
  ExecStoreVirtualTuple(refilled);
  return refilled;
}

RowOutcome fill_row(Batch &batch, const FillRequest &request) {
  Relation rel = batch.rel;
  EState *estate = batch.estate;
  ResultRelInfo *target = batch.target;
  // The rest of a page found full waits with it, unread: the page is not
  // done (its first waiting row said so), and reading its rows again and
  // again, batch after batch, would be most of a compact backfill's time.
  if (request.in_place && page_is_full(batch.room, batch.old_row))
    return RowOutcome::passed;
  bool is_null = false;
  (void)slot_getattr(batch.old_row, request.attnum, &is_null);
  if (!is_null)
    return RowOutcome::passed;
  ExprContext *econtext = GetPerTupleExprContext(estate);
  econtext->ecxt_scantuple = batch.old_row;
  Datum value = ExecEvalExprSwitchContext(batch.expression, econtext, &is_null);
  if (is_null)
    return RowOutcome::passed; // the expression says NULL: nothing to fill
  build_new_row(batch, request.attnum, value);
  // Before any trigger fires: a row left for later has not been touched.
  const RoomVerdict room = request.in_place
                               ? room_for_row(batch.room, batch.old_row, batch.new_row)
                               : RoomVerdict::fits;
  if (room == RoomVerdict::waits)
    return RowOutcome::deferred;
  ItemPointerData tid = batch.old_row->tts_tid;
  TupleTableSlot *new_row = batch.new_row;
  if (batch.before_triggers) {
    RowOutcome before = fire_before_triggers(batch, request, &tid);
    if (before != RowOutcome::filled)
      return before;
    if (request.fire_triggers)
      new_row = fill_after_triggers(batch, request.attnum, value);
  }
  if (rel->rd_att->constr && rel->rd_att->constr->has_generated_stored)
    ExecComputeStoredGenerated(target, estate, new_row, CMD_UPDATE);
  if (rel->rd_att->constr)
    ExecConstraints(target, new_row, estate);

  TM_FailureData failure;
  LockTupleMode lock_mode;
  bool update_indexes = false;
  // With BEFORE triggers the row is locked already.
  const bool wait = request.wait_for_locked_rows || batch.before_triggers;
  TM_Result result =
      table_tuple_update(rel, &tid, new_row, estate->es_output_cid, batch.snapshot,
                         InvalidSnapshot, wait, &failure, &lock_mode, &update_indexes);
  switch (result) {
  case TM_Ok:
    break;
  case TM_BeingModified:
    return RowOutcome::skipped_locked; // only without waiting
  case TM_Updated:
  case TM_Deleted:
  case TM_SelfModified:
    // Changed since the snapshot: whoever changed it passed the fill
    // trigger, and the sweep looks at every row again anyway.
    return RowOutcome::passed;
  default:
    elog(ERROR, "colmig: unexpected result %d updating a row of \"%s\"",
         static_cast<int>(result), RelationGetRelationName(rel));
  }
  List *recheck = NIL;
  if (target->ri_NumIndices > 0 && update_indexes)
    recheck = ExecInsertIndexTuples(target, new_row, estate, true, false, nullptr, NIL);
  if (batch.with_triggers)
    ExecARUpdateTriggers(estate, target, nullptr, nullptr, &tid, nullptr, new_row,
                         recheck, nullptr, false);
  list_free(recheck);
  if (request.in_place)
    count_written(batch.room, room);
  return RowOutcome::filled;
}

FillResult fill_page_range_c(const FillRequest &request, BlockNumber first,
                             BlockNumber end) {
  FillResult result;
  Batch batch;
  batch.rel = open_target(request);
  if (OidIsValid(request.expected_filenode) &&
      batch.rel->rd_node.relNode != request.expected_filenode) {
    result.table_rewritten = true;
    table_close(batch.rel, NoLock);
    return result;
  }
  begin_batch(batch, request);
  batch.room = PageRoom{};
  batch.room.horizon = GlobalVisTestFor(batch.rel);
  batch.room.move_while_held = request.move_while_held;
  ItemPointerData lowest;
  ItemPointerData highest;
  ItemPointerSet(&lowest, first, FirstOffsetNumber);
  ItemPointerSet(&highest, end - 1, MaxOffsetNumber);
  TableScanDesc scan =
      table_beginscan_tidrange(batch.rel, batch.snapshot, &lowest, &highest);
  const auto started = std::chrono::steady_clock::now();
  BlockNumber page = InvalidBlockNumber;
  while (table_scan_getnextslot_tidrange(scan, ForwardScanDirection, batch.old_row)) {
    CHECK_FOR_INTERRUPTS();
    const BlockNumber row_page = ItemPointerGetBlockNumber(&batch.old_row->tts_tid);
    if (row_page != page) {
      // Between pages: a batch whose rows are slow to compute ends here,
      // rather than keep the rows it locked from the application.
      const std::chrono::duration<double> spent =
          std::chrono::steady_clock::now() - started;
      if (page != InvalidBlockNumber && request.budget_seconds > 0 &&
          spent.count() >= request.budget_seconds) {
        result.stopped_early = true;
        result.next_page = row_page;
        break;
      }
      page = row_page;
    }
    rest_if_due_unguarded();
    ResetPerTupleExprContext(batch.estate);
    switch (fill_row(batch, request)) {
    case RowOutcome::filled:
      ++result.filled;
      break;
    case RowOutcome::skipped_locked:
      ++result.skipped_locked;
      break;
    case RowOutcome::skipped_by_trigger:
      ++result.skipped_by_trigger;
      break;
    case RowOutcome::deferred:
      if (result.deferred++ == 0)
        result.first_deferred_page = row_page;
      break;
    case RowOutcome::passed:
      break;
    }
  }
  table_endscan(scan);
  result.held_pages = batch.room.held_pages;
  end_batch(batch);
  table_close(batch.rel, NoLock);
  return result;
}

} // namespace

FillResult fill_page_range(const FillRequest &request, BlockNumber first,
                           BlockNumber end) {
  if (first >= end)
    return {};
  return call([&] { return fill_page_range_c(request, first, end); });
}

} // namespace colmig::pg
