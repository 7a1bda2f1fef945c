// colmig.plan(ddl): what each statement of `ddl` would do to the live
// tables (docs/guard.md): the lock, what it blocks, rewrite and scan, how
// long the lock would be held, the guard's verdict and the colmig call that
// does the same online. Of a `SELECT colmig.f(...)` call it shows that
// job's steps with their locks.
#include "core/operations.hpp"

#include "guard/judged_step.hpp"
#include "guc.hpp"

#include <optional>
#include <string>

extern "C" {
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}

namespace {

using namespace colmig;

struct Row {
  std::string statement;
  std::optional<core::LockMode> lock;
  bool rewrites = false;
  bool scans = false;
  std::optional<double> seconds;
  std::string note;
  std::optional<std::string> alternative;
};

constexpr int kColumns = 9;

void put_row(ReturnSetInfo *result, int step, const Row &row) {
  pg::call([&] {
    Datum values[kColumns];
    bool nulls[kColumns] = {};
    values[0] = Int32GetDatum(step);
    values[1] = CStringGetTextDatum(row.statement.c_str());
    if (row.lock)
      values[2] = CStringGetTextDatum(core::to_string(*row.lock));
    else
      nulls[2] = true;
    values[3] = CStringGetTextDatum(
        core::to_string(row.lock ? core::blocks(*row.lock) : core::Blocks::nothing));
    values[4] = BoolGetDatum(row.rewrites);
    values[5] = BoolGetDatum(row.scans);
    if (row.seconds)
      values[6] = Float8GetDatum(*row.seconds);
    else
      nulls[6] = true;
    values[7] = CStringGetTextDatum(row.note.c_str());
    if (row.alternative)
      values[8] = CStringGetTextDatum(row.alternative->c_str());
    else
      nulls[8] = true;
    tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
  });
}

Row statement_row(const pg::DdlStep &step) {
  const guard::JudgedStep judged = guard::judge_step(step);
  Row row;
  row.statement = step.statement;
  row.lock = judged.facts.lock;
  row.rewrites = judged.facts.rewrites;
  row.scans = judged.facts.scans || judged.facts.rewrites || judged.facts.builds_index;
  if (row.lock)
    row.seconds = judged.judgement.estimated_seconds;
  row.note = core::plan_note(judged.judgement, judged.facts, step.table_facts,
                             judged.text, judged.blocker, guc::guard_min_rows);
  if (judged.alternative != nullptr)
    row.alternative = judged.alternative;
  else if (judged.advice != nullptr && judged.judgement.verdict != core::Verdict::safe)
    row.note += std::string(" Instead: ") + judged.advice + ".";
  return row;
}

// --- the plan of a colmig call -------------------------------------------

// A constant argument of the call, or null when absent or NULL; 22023
// for an expression, which plan() cannot evaluate as the call would.
const char *argument(const pg::DdlStep &call, const char *name, int position) {
  bool is_set = false;
  const char *value =
      pg::call([&] { return pg::call_argument(call, name, position, &is_set); });
  if (value == pg::kNotALiteral)
    pg::raise("22023",
              std::string("colmig.plan() reads the arguments of colmig.") +
                  call.colmig_function + "() as written, and argument \"" + name +
                  "\" is an expression",
              {}, "Write it as a constant: plan() does not evaluate expressions.");
  return value;
}

bool flag(const pg::DdlStep &call, const char *name, int position) {
  const char *value = argument(call, name, position);
  return value != nullptr && (strcmp(value, "true") == 0 || strcmp(value, "t") == 0 ||
                              strcmp(value, "on") == 0);
}

// The job's plan as the function would store it; nothing for a colmig
// function that makes no job.
std::optional<core::Plan> job_plan(const pg::DdlStep &call, Oid relid) {
  const std::string function = call.colmig_function;
  if (function == "add_column") {
    core::AddColumnRequest request;
    const char *default_expr = argument(call, "default_expr", 3);
    request.has_default = default_expr != nullptr;
    request.default_is_volatile =
        pg::call([&] { return pg::expression_text_is_volatile(default_expr); });
    request.has_backfill_expr = argument(call, "backfill_expr", 4) != nullptr;
    request.not_null = flag(call, "not_null", 5);
    return core::plan_add_column(request);
  }
  if (function == "set_not_null") {
    const char *column = argument(call, "col", 1);
    core::SetNotNullFacts facts;
    facts.has_valid_not_null_check =
        pg::call([&] { return pg::column_not_null_proven(relid, column); });
    return core::plan_set_not_null(facts);
  }
  if (function == "add_check")
    return core::plan_add_check();
  if (function == "add_foreign_key")
    return core::plan_add_foreign_key();
  if (function == "validate_constraint")
    return core::plan_validate_constraint();
  if (function == "create_index")
    return core::plan_create_index();
  if (function == "drop_index")
    return core::plan_drop_index();
  return std::nullopt;
}

const char *step_description(core::StepKind kind) {
  using K = core::StepKind;
  switch (kind) {
  case K::add_column:
    return "ADD COLUMN, catalog only";
  case K::add_column_for_backfill:
    return "ADD COLUMN without a default, SET DEFAULT, and the fill trigger for rows the "
           "application writes meanwhile";
  case K::backfill:
    return "fills existing rows in short batches, each its own transaction with the "
           "job's "
           "cursor";
  case K::sweep:
    return "a second pass over every row, proving that none is left unfilled";
  case K::verify:
    return "checks the proof: no rewrite of the table, the fill trigger intact";
  case K::add_not_null_check:
    return "ADD CONSTRAINT CHECK (col IS NOT NULL) NOT VALID";
  case K::validate_not_null_check:
    return "VALIDATE CONSTRAINT of that check, reading every row";
  case K::set_not_null:
    return "SET NOT NULL (no scan: the valid check proves it), then drops the check";
  case K::drop_fill_trigger:
    return "drops the fill trigger";
  case K::add_check:
    return "ADD CONSTRAINT CHECK ... NOT VALID";
  case K::add_foreign_key:
    return "ADD CONSTRAINT FOREIGN KEY ... NOT VALID, locking both tables";
  case K::validate_constraints:
    return "VALIDATE CONSTRAINT, each constraint in a transaction of its own";
  case K::build_index:
    return "CREATE INDEX CONCURRENTLY under a helper name";
  case K::attach_index:
    return "ALTER INDEX ... RENAME to the name asked for";
  case K::drop_index:
    return "DROP INDEX CONCURRENTLY";
  case K::fill_shards:
    return "a fill_shard job on the node of each shard placement fills and proves it";
  case K::release_shards:
    return "the shard jobs drop their fill triggers; every placement proven filled";
  case K::attach_fill_trigger:
    return "the fill trigger on the shard placement";
  case K::await_release:
    return "holds the fill trigger until the coordinator has set NOT NULL";
  }
  return "a step";
}

Row job_step_row(const pg::DdlStep &call, const core::Step &step,
                 const core::TableFacts &table) {
  Row row;
  row.statement = call.statement;
  row.lock = step.lock;
  const bool validates = step.kind == core::StepKind::validate_not_null_check ||
                         step.kind == core::StepKind::validate_constraints;
  const bool builds = step.kind == core::StepKind::build_index;
  row.scans = step.batched || validates || builds;
  core::StatementFacts facts;
  facts.scans = validates;
  facts.builds_index = builds;
  std::string how;
  if (step.batched && !validates) {
    row.seconds = guc::batch_target_ms / 1000.0;
    how = "each batch holds it for about " + std::to_string(guc::batch_target_ms) +
          " ms (colmig.batch_target), with rests between batches";
  } else if (validates || builds) {
    row.seconds = core::estimate_lock_seconds(facts, table);
    how = "held while it reads the table, blocking no reads or writes";
  } else {
    row.seconds = 0;
    how = "taken for a moment, each try under lock_timeout " +
          std::to_string(guc::lock_timeout_ms) +
          " ms (colmig.lock_timeout) with retries, so no query queues behind it";
  }
  row.note = std::string("safe [") + core::to_string(step.kind) +
             "]: " + step_description(step.kind) + ". " + core::to_string(step.lock) +
             ", " + how + ".";
  return row;
}

int put_call_rows(ReturnSetInfo *result, int step_number, const pg::DdlStep &call) {
  const char *table_text = argument(
      call, std::string(call.colmig_function) == "drop_index" ? "index" : "tbl", 0);
  const Oid relid = pg::call([&] { return pg::table_of_literal(table_text); });
  const std::optional<core::Plan> plan = job_plan(call, relid);
  // The call itself would fail on a table or index that does not exist.
  if (plan && table_text != nullptr && !OidIsValid(relid)) {
    const bool index = std::string(call.colmig_function) == "drop_index";
    pg::raise(index ? "42704" : "42P01", std::string(index ? "index \"" : "relation \"") +
                                             table_text + "\" does not exist");
  }
  if (!plan) {
    Row row;
    row.statement = call.statement;
    row.note = "safe: not a schema change.";
    put_row(result, step_number, row);
    return step_number + 1;
  }
  const core::TableFacts table = pg::call([&] {
    return OidIsValid(relid) ? pg::read_table_facts(relid) : core::TableFacts{};
  });
  for (const core::Step &step : *plan)
    put_row(result, step_number++, job_step_row(call, step, table));
  return step_number;
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_plan) {
  if (PG_ARGISNULL(0))
    pg::raise("22004", "colmig.plan() needs the DDL to explain");
  text *ddl = PG_GETARG_TEXT_PP(0);
  pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
  auto *result = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
  const pg::DdlSteps steps =
      pg::call([&] { return pg::describe_script(text_to_cstring(ddl)); });
  int step_number = 1;
  for (int i = 0; i < steps.count; ++i) {
    const pg::DdlStep &step = steps.steps[i];
    if (step.colmig_function != nullptr)
      step_number = put_call_rows(result, step_number, step);
    else
      put_row(result, step_number++, statement_row(step));
  }
  return static_cast<Datum>(0);
}
