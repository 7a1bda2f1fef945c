// colmig.fill_column(column, expression, search_path): the BEFORE INSERT and
// BEFORE UPDATE row trigger that fills the new column in rows the
// application writes while a backfill runs.
//
// It runs in the application's sessions, on every write, so it is written
// for speed: the expression is parsed and planned once per session and
// table (with the job's search_path, so it means what it meant when the
// job was created) and then evaluated over the row directly, as
// PostgreSQL evaluates a generated column, with no plan, SPI call or
// search_path change per row. A relcache invalidation of the table (ALTER
// TABLE, VACUUM, ANALYZE) makes the next row compile it again.
#include "pg/guard.hpp"
#include "pg/row_expression.hpp"

extern "C" {
#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace {

struct CompiledFill {
  Oid trigger_oid; // hash key
  Oid relid;
  bool valid;
  // Evaluations under way. An ExprState is not reentrant: an expression
  // that writes to its own table fires the trigger again inside itself.
  int active;
  MemoryContext memory;
  AttrNumber attnum;
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
  const char *column = args[0];
  const char *expr = args[1];
  const char *search_path = args[2];
  entry->memory =
      AllocSetContextCreate(parent, "colmig fill trigger", ALLOCSET_SMALL_SIZES);
  entry->relid = RelationGetRelid(rel);
  entry->active = 0;
  MemoryContext old = MemoryContextSwitchTo(entry->memory);
  TupleDesc desc = CreateTupleDescCopy(RelationGetDescr(rel));
  entry->attnum = get_attnum(entry->relid, column);
  if (entry->attnum <= 0)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("column \"%s\" of relation \"%s\" does not exist", column,
                           RelationGetRelationName(rel))));
  Form_pg_attribute attr = TupleDescAttr(desc, entry->attnum - 1);
  // The job's search_path, for this parse only: names are bound to OIDs here.
  int nest_level = NewGUCNestLevel();
  (void)set_config_option("search_path", search_path, PGC_USERSET, PGC_S_SESSION,
                          GUC_ACTION_SAVE, true, 0, false);
  Node *analyzed = colmig::pg::analyze_row_expression(
      rel, expr, attr->atttypid, attr->atttypmod, "backfill expression");
  AtEOXact_GUC(true, nest_level);
  entry->expression = ExecInitExpr(expression_planner((Expr *)analyzed), nullptr);
  entry->econtext = CreateStandaloneExprContext();
  entry->slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
  MemoryContextSwitchTo(old);
  entry->valid = true;
}

HeapTuple fill(CompiledFill *entry, TupleDesc desc, HeapTuple row) {
  ResetExprContext(entry->econtext);
  ExecStoreHeapTuple(row, entry->slot, false);
  entry->econtext->ecxt_scantuple = entry->slot;
  bool is_null = false;
  Datum value;
  ++entry->active;
  PG_TRY();
  { value = ExecEvalExprSwitchContext(entry->expression, entry->econtext, &is_null); }
  PG_FINALLY();
  { --entry->active; }
  PG_END_TRY();
  int column = entry->attnum;
  HeapTuple filled = heap_modify_tuple_by_cols(row, desc, 1, &column, &value, &is_null);
  ExecClearTuple(entry->slot);
  return filled;
}

Datum fill_column_c(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("colmig.fill_column() must be called as a trigger")));
  auto *data = reinterpret_cast<TriggerData *>(fcinfo->context);
  if (!TRIGGER_FIRED_BEFORE(data->tg_event) || !TRIGGER_FIRED_FOR_ROW(data->tg_event) ||
      TRIGGER_FIRED_BY_DELETE(data->tg_event) ||
      TRIGGER_FIRED_BY_TRUNCATE(data->tg_event) || data->tg_trigger->tgnargs != 3)
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("colmig.fill_column() must be a BEFORE INSERT or UPDATE row "
                           "trigger with three arguments")));
  HeapTuple row =
      TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? data->tg_newtuple : data->tg_trigtuple;
  char **args = data->tg_trigger->tgargs;
  bool found = false;
  auto *entry = static_cast<CompiledFill *>(
      hash_search(fill_table(), &data->tg_trigger->tgoid, HASH_ENTER, &found));
  if (!found) {
    entry->relid = InvalidOid;
    entry->memory = nullptr;
    entry->valid = false;
    entry->active = 0;
  }
  TupleDesc desc = RelationGetDescr(data->tg_relation);
  if (entry->active > 0) {
    // Fired from inside its own expression: a private copy, for this row.
    CompiledFill nested = {};
    compile(&nested, CurrentMemoryContext, data->tg_relation, args);
    HeapTuple filled = fill(&nested, desc, row);
    MemoryContextDelete(nested.memory);
    return PointerGetDatum(filled);
  }
  if (!entry->valid) {
    if (entry->memory != nullptr)
      MemoryContextDelete(entry->memory);
    entry->memory = nullptr;
    compile(entry, CacheMemoryContext, data->tg_relation, args);
  }
  return PointerGetDatum(fill(entry, desc, row));
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_fill_column) {
  return colmig::pg::call([&] { return fill_column_c(fcinfo); });
}
