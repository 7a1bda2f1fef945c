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
//    written with the column NULL, and the server log says why. The row
//    is noted for the job's proof (catalog/fill_errors.hpp), so the
//    backfill's sweep begins again, meets the same row and fails the job
//    with that error.
//  - It leaves the row to the sweep, the same way, when a BEFORE trigger
//    of the table fires after it: that trigger could change the row after
//    the fill.
//
// It runs in every application write, so the expression is compiled once
// per session and trigger and evaluated over the row directly, as
// PostgreSQL evaluates a generated column. A relcache invalidation of the
// table (ALTER TABLE, VACUUM, ANALYZE) makes the next row compile it again.
#include "core/evaluation_settings.hpp"

#include "api/catalog_access.hpp"
#include "catalog/fill_errors.hpp"
#include "ipc/shared_state.hpp"
#include "pg/fill_expression.hpp"
#include "pg/fill_trigger_catalog.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/resowner.h"
}

namespace {

// The trigger arguments, in the order pg/fill_trigger_catalog.cpp gives
// them: then the values of core::kEvaluationSettings, in their order.
enum TriggerArgument { kJobId, kAttnum, kOwner, kExpression, kFirstSetting };
constexpr int kArgumentCount =
    kFirstSetting + static_cast<int>(colmig::core::kEvaluationSettings.size());

struct CompiledFill {
  Oid trigger_oid; // hash key
  Oid relid;
  bool valid;
  // Evaluations under way. An ExprState is not reentrant: an expression
  // that writes to its own table fires the trigger again inside itself.
  int active;
  // Calls of the trigger holding this entry (compiling or evaluating): an
  // invalidation meanwhile must not free it under them.
  int pinned;
  MemoryContext memory;
  AttrNumber attnum;
  Oid owner;
  ExprState *expression;
  ExprContext *econtext;
  TupleTableSlot *slot;
};

HTAB *compiled_fills = nullptr;

// Forgets what was compiled for `relid` (InvalidOid: for every table).
// An entry not in use is freed at once: the trigger it was for may be gone
// for good (its job ended), and a pooled session must not keep it.
void forget(Oid relid) {
  if (compiled_fills == nullptr)
    return;
  HASH_SEQ_STATUS scan;
  hash_seq_init(&scan, compiled_fills);
  for (auto *entry = static_cast<CompiledFill *>(hash_seq_search(&scan));
       entry != nullptr; entry = static_cast<CompiledFill *>(hash_seq_search(&scan))) {
    if (relid != InvalidOid && entry->relid != relid)
      continue;
    entry->valid = false;
    if (entry->active == 0 && entry->pinned == 0) {
      if (entry->memory != nullptr)
        MemoryContextDelete(entry->memory);
      (void)hash_search(compiled_fills, &entry->trigger_oid, HASH_REMOVE, nullptr);
    }
  }
}

void forget_relation(Datum, Oid relid) { forget(relid); }

// A function the expression calls was replaced (CREATE OR REPLACE): an SQL
// function inlined into the compiled expression would otherwise keep its
// old body in this session.
void forget_functions(Datum, int, uint32) { forget(InvalidOid); }

HTAB *fill_table() {
  if (compiled_fills == nullptr) {
    HASHCTL control = {};
    control.keysize = sizeof(Oid);
    control.entrysize = sizeof(CompiledFill);
    control.hcxt = CacheMemoryContext;
    compiled_fills = hash_create("colmig fill triggers", 16, &control,
                                 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    CacheRegisterRelcacheCallback(forget_relation, 0);
    CacheRegisterSyscacheCallback(PROCOID, forget_functions, 0);
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
  Expr *expr = colmig::pg::load_fill_expression(args[kExpression], rel, entry->attnum,
                                                args[kJobId]);
  entry->expression = colmig::pg::compile_fill_expression(expr);
  entry->econtext = CreateStandaloneExprContext();
  entry->slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
  MemoryContextSwitchTo(old);
  entry->valid = true;
}

// Gives the session the job's evaluation settings where its own differ
// (usually none does, and nothing is set). Returns the GUC nest level to
// pop afterwards, or -1.
int apply_job_settings(char **values) {
  int nest_level = -1;
  for (std::size_t i = 0; i < colmig::core::kEvaluationSettings.size(); ++i) {
    const char *name = colmig::core::kEvaluationSettings[i];
    const char *value = values[kFirstSetting + i];
    const char *now = GetConfigOption(name, false, false);
    if (now != nullptr && strcmp(now, value) == 0)
      continue;
    if (nest_level < 0)
      nest_level = NewGUCNestLevel();
    (void)set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                            0, false);
  }
  return nest_level;
}

// Evaluates the expression over `row` as the job's owner, with the job's
// settings (search_path among them: the writing session must not decide
// what the owner's functions resolve), and returns the filled row,
// allocated in the current memory context.
HeapTuple fill(CompiledFill *entry, TupleDesc desc, HeapTuple row, char **args) {
  ResetExprContext(entry->econtext);
  ExecStoreHeapTuple(row, entry->slot, false);
  entry->econtext->ecxt_scantuple = entry->slot;
  // The subtransaction around the caller undoes these after an error.
  const int nest_level = apply_job_settings(args);
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
  if (nest_level >= 0)
    AtEOXact_GUC(false, nest_level);
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
    HeapTuple filled = fill(&nested, desc, row, args);
    MemoryContextDelete(nested.memory);
    return filled;
  }
  if (!entry->valid) {
    if (entry->memory != nullptr)
      MemoryContextDelete(entry->memory);
    entry->memory = nullptr;
    compile(entry, CacheMemoryContext, data->tg_relation, args);
  }
  return fill(entry, desc, row, args);
}

// Errors that are no fault of the expression end the application's
// statement as they would have without the trigger.
bool passes_through(int sqlerrcode) {
  return sqlerrcode == ERRCODE_QUERY_CANCELED || sqlerrcode == ERRCODE_OUT_OF_MEMORY ||
         sqlerrcode == ERRCODE_ADMIN_SHUTDOWN;
}

// A row written with the column NULL although the trigger should have
// filled it: it may lie behind the sweep, so the proof must hear of it
// (catalog/fill_errors.hpp), in this transaction.
void leave_unfilled(TriggerData *data, const char *why) {
  ereport(LOG,
          (errmsg("colmig: the fill trigger of job %s left column %s of a row of "
                  "\"%s\" NULL: %s",
                  data->tg_trigger->tgargs[kJobId], data->tg_trigger->tgargs[kAttnum],
                  RelationGetRelationName(data->tg_relation), why),
           errhidestmt(true)));
  const std::int64_t job_id = pg_strtoint64(data->tg_trigger->tgargs[kJobId]);
  colmig::api::CatalogAccess catalog;
  colmig::catalog::note_fill_error(job_id);
}

// compile_and_fill() in a subtransaction, as PL/pgSQL runs a block with an
// EXCEPTION clause: on an error the row comes back unchanged, and
// `*error_message` says why (NULL when filled).
HeapTuple fill_or_leave(CompiledFill *entry, TriggerData *data, HeapTuple row,
                        char **error_message) {
  MemoryContext caller_context = CurrentMemoryContext;
  ResourceOwner caller_owner = CurrentResourceOwner;
  const int active_before = entry->active;
  const int pinned_before = entry->pinned++;
  HeapTuple result = row;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(caller_context);
  PG_TRY();
  {
    result = compile_and_fill(entry, data, row);
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(caller_context);
    CurrentResourceOwner = caller_owner;
    entry->pinned = pinned_before;
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
    entry->pinned = pinned_before;
    // Compiled again for the next row: nothing of a failed evaluation
    // (state a called function cached) is trusted.
    entry->valid = false;
    if (passes_through(error->sqlerrcode))
      ReThrowError(error);
    *error_message = pstrdup(error->message);
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
  // A BEFORE trigger that fires after this one (created with a name that
  // sorts later, or this one renamed) could change the row after the
  // fill: the value would not be the one a batch gives the row as it is
  // stored. The row is left to the sweep, which fills it from that.
  if (colmig::pg::before_trigger_fires_after(
          data->tg_relation->trigdesc, data->tg_trigger->tgoid,
          is_update ? TRIGGER_TYPE_UPDATE : TRIGGER_TYPE_INSERT)) {
    leave_unfilled(data, "a BEFORE trigger of the table fires after the fill trigger");
    return PointerGetDatum(row);
  }
  bool found = false;
  auto *entry = static_cast<CompiledFill *>(
      hash_search(fill_table(), &data->tg_trigger->tgoid, HASH_ENTER, &found));
  if (!found) {
    entry->relid = InvalidOid;
    entry->memory = nullptr;
    entry->valid = false;
    entry->active = 0;
    entry->pinned = 0;
  }
  char *error_message = nullptr;
  HeapTuple filled = fill_or_leave(entry, data, row, &error_message);
  if (error_message != nullptr)
    leave_unfilled(data, error_message);
  else if (!is_update)
    colmig::ipc::note_insert_fill(RelationGetRelid(data->tg_relation), attnum);
  return PointerGetDatum(filled);
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_fill_column) {
  return colmig::pg::call([&] { return fill_column_c(fcinfo); });
}
