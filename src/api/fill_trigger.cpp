// colmig.fill_column(): the function of a job's fill trigger (see
// pg/fill_trigger_catalog.hpp), BEFORE INSERT OR UPDATE FOR EACH ROW. It
// gives the rows the application writes while the job lives the value a
// batch would give them:
//
//  - INSERT of a row whose column is NULL, and UPDATE of a row whose column
//    was NULL and still is (a row the backfill has not reached): filled.
//    An explicit NULL written over a filled value stays.
//  - The value is the job's analysed expression (its trigger arguments
//    carry it as add_column stored it), evaluated over the new row as the
//    job's owner, as the batches evaluate it: same functions, same
//    `current_user`, whatever the writing session's search_path or rights.
//  - It never makes an application's write fail that would succeed
//    without it: the evaluation runs in a subtransaction, and when it
//    raises (a division by zero for this row, a dropped column) the row is
//    written with the column NULL, and the server log says why. The
//    backfill's sweep, or the job's NOT NULL validation, then meets the
//    same row and fails the job with that error.
//
// It runs in every application write, so the expression is compiled once
// per session and trigger and evaluated over the row directly, as
// PostgreSQL evaluates a generated column. A relcache invalidation of the
// table (ALTER TABLE, VACUUM, ANALYZE) makes the next row compile it again.
#include "pg/fill_expression.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/builtins.h"
#include "utils/resowner.h"
}

namespace {

// The trigger arguments, in the order pg/fill_trigger_catalog.cpp gives them.
enum TriggerArgument { kJobId, kAttnum, kOwner, kExpression, kArgumentCount };

struct CompiledFill {
  Oid trigger_oid; // hash key
  Oid relid;
  bool valid;
  // Evaluations under way. An ExprState is not reentrant: an expression
  // that writes to its own table fires the trigger again inside itself.
  int active;
  MemoryContext memory;
  AttrNumber attnum;
  Oid owner;
  ExprState *expression;
  ExprContext *econtext;
  TupleTableSlot *slot;
};

HTAB *compiled_fills = nullptr;

void forget_relation(Datum, Oid relid) {
  if (compiled_fills == nullptr)
    return;
  HASH_SEQ_STATUS scan;
  hash_seq_init(&scan, compiled_fills);
  for (auto *entry = static_cast<CompiledFill *>(hash_seq_search(&scan));
       entry != nullptr; entry = static_cast<CompiledFill *>(hash_seq_search(&scan)))
    if (relid == InvalidOid || entry->relid == relid)
      entry->valid = false;
}

HTAB *fill_table() {
  if (compiled_fills == nullptr) {
    HASHCTL control = {};
    control.keysize = sizeof(Oid);
    control.entrysize = sizeof(CompiledFill);
    control.hcxt = CacheMemoryContext;
    compiled_fills = hash_create("colmig fill triggers", 16, &control,
                                 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    CacheRegisterRelcacheCallback(forget_relation, 0);
  }
  return compiled_fills;
}

// Builds `entry` in a new memory context under `parent`.
void compile(CompiledFill *entry, MemoryContext parent, Relation rel, char **args) {
  entry->memory =
      AllocSetContextCreate(parent, "colmig fill trigger", ALLOCSET_SMALL_SIZES);
  entry->relid = RelationGetRelid(rel);
  entry->active = 0;
  MemoryContext old = MemoryContextSwitchTo(entry->memory);
  TupleDesc desc = CreateTupleDescCopy(RelationGetDescr(rel));
  entry->attnum = static_cast<AttrNumber>(pg_strtoint32(args[kAttnum]));
  entry->owner = static_cast<Oid>(strtoul(args[kOwner], nullptr, 10));
  if (entry->attnum <= 0 || entry->attnum > desc->natts ||
      TupleDescAttr(desc, entry->attnum - 1)->attisdropped)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("the column colmig job %s fills was dropped from \"%s\"",
                           args[kJobId], RelationGetRelationName(rel))));
  Expr *expr =
      colmig::pg::load_fill_expression(args[kExpression], rel, "the job's expression");
  entry->expression = colmig::pg::compile_fill_expression(expr);
  entry->econtext = CreateStandaloneExprContext();
  entry->slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
  MemoryContextSwitchTo(old);
  entry->valid = true;
}

// Evaluates the expression over `row` as the job's owner and returns the
// filled row, allocated in the current memory context.
HeapTuple fill(CompiledFill *entry, TupleDesc desc, HeapTuple row) {
  ResetExprContext(entry->econtext);
  ExecStoreHeapTuple(row, entry->slot, false);
  entry->econtext->ecxt_scantuple = entry->slot;
  Oid saved_user;
  int saved_context;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  SetUserIdAndSecContext(entry->owner, saved_context | SECURITY_LOCAL_USERID_CHANGE |
                                           SECURITY_RESTRICTED_OPERATION);
  bool is_null = false;
  ++entry->active;
  // The subtransaction around the caller restores the user and `active`
  // after an error.
  Datum value = ExecEvalExprSwitchContext(entry->expression, entry->econtext, &is_null);
  --entry->active;
  SetUserIdAndSecContext(saved_user, saved_context);
  int column = entry->attnum;
  HeapTuple filled = heap_modify_tuple_by_cols(row, desc, 1, &column, &value, &is_null);
  ExecClearTuple(entry->slot);
  return filled;
}

HeapTuple compile_and_fill(CompiledFill *entry, TriggerData *data, HeapTuple row) {
  char **args = data->tg_trigger->tgargs;
  TupleDesc desc = RelationGetDescr(data->tg_relation);
  if (entry->active > 0) {
    // Fired from inside its own expression: a private copy, for this row.
    CompiledFill nested = {};
    compile(&nested, CurrentMemoryContext, data->tg_relation, args);
    HeapTuple filled = fill(&nested, desc, row);
    MemoryContextDelete(nested.memory);
    return filled;
  }
  if (!entry->valid) {
    if (entry->memory != nullptr)
      MemoryContextDelete(entry->memory);
    entry->memory = nullptr;
    compile(entry, CacheMemoryContext, data->tg_relation, args);
  }
  return fill(entry, desc, row);
}

// Errors that are no fault of the expression end the application's
// statement as they would have without the trigger.
bool passes_through(int sqlerrcode) {
  return sqlerrcode == ERRCODE_QUERY_CANCELED || sqlerrcode == ERRCODE_OUT_OF_MEMORY ||
         sqlerrcode == ERRCODE_ADMIN_SHUTDOWN;
}

// compile_and_fill() in a subtransaction, as PL/pgSQL runs a block with an
// EXCEPTION clause: on an error the row comes back unchanged.
HeapTuple fill_or_leave(CompiledFill *entry, TriggerData *data, HeapTuple row) {
  MemoryContext caller_context = CurrentMemoryContext;
  ResourceOwner caller_owner = CurrentResourceOwner;
  const int active_before = entry->active;
  HeapTuple result = row;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(caller_context);
  PG_TRY();
  {
    result = compile_and_fill(entry, data, row);
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(caller_context);
    CurrentResourceOwner = caller_owner;
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    ErrorData *error = CopyErrorData();
    FlushErrorState();
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(caller_context);
    CurrentResourceOwner = caller_owner;
    entry->active = active_before;
    // Compiled again for the next row: nothing of a failed evaluation
    // (state a called function cached) is trusted.
    entry->valid = false;
    if (passes_through(error->sqlerrcode))
      ReThrowError(error);
    ereport(LOG,
            (errmsg("colmig: the fill trigger of job %s left column %s of a row of "
                    "\"%s\" NULL: %s",
                    data->tg_trigger->tgargs[kJobId], data->tg_trigger->tgargs[kAttnum],
                    RelationGetRelationName(data->tg_relation), error->message),
             errhidestmt(true)));
    FreeErrorData(error);
    result = row;
  }
  PG_END_TRY();
  return result;
}

bool column_is_null(HeapTuple row, TupleDesc desc, AttrNumber attnum) {
  bool is_null = true;
  (void)heap_getattr(row, attnum, desc, &is_null);
  return is_null;
}

Datum fill_column_c(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("colmig.fill_column() must be called as a trigger")));
  auto *data = reinterpret_cast<TriggerData *>(fcinfo->context);
  // Only the trigger colmig creates: a user cannot create internal triggers.
  if (!TRIGGER_FIRED_BEFORE(data->tg_event) || !TRIGGER_FIRED_FOR_ROW(data->tg_event) ||
      TRIGGER_FIRED_BY_DELETE(data->tg_event) ||
      TRIGGER_FIRED_BY_TRUNCATE(data->tg_event) || !data->tg_trigger->tgisinternal ||
      data->tg_trigger->tgnargs != kArgumentCount)
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("colmig.fill_column() runs only as the fill trigger colmig "
                           "creates for a job")));
  const bool is_update = TRIGGER_FIRED_BY_UPDATE(data->tg_event);
  HeapTuple row = is_update ? data->tg_newtuple : data->tg_trigtuple;
  TupleDesc desc = RelationGetDescr(data->tg_relation);
  const AttrNumber attnum =
      static_cast<AttrNumber>(pg_strtoint32(data->tg_trigger->tgargs[kAttnum]));
  // Cheap checks first: most writes need nothing.
  if (attnum <= 0 || attnum > desc->natts || !column_is_null(row, desc, attnum) ||
      (is_update && !column_is_null(data->tg_trigtuple, desc, attnum)))
    return PointerGetDatum(row);
  bool found = false;
  auto *entry = static_cast<CompiledFill *>(
      hash_search(fill_table(), &data->tg_trigger->tgoid, HASH_ENTER, &found));
  if (!found) {
    entry->relid = InvalidOid;
    entry->memory = nullptr;
    entry->valid = false;
    entry->active = 0;
  }
  return PointerGetDatum(fill_or_leave(entry, data, row));
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_fill_column) {
  return colmig::pg::call([&] { return fill_column_c(fcinfo); });
}
