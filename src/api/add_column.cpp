// colmig.add_column(): validates everything in the caller's session,
// stores the job with its analysed expressions and what they depend on,
// and wakes the launcher once the caller commits.
#include "core/evaluation_settings.hpp"
#include "core/operations.hpp"
#include "core/page_ranges.hpp"

#include "api/catalog_access.hpp"
#include "api/citus_target.hpp"
#include "api/new_job.hpp"
#include "api/validate.hpp"
#include "catalog/claim.hpp"
#include "catalog/dependencies.hpp"
#include "guc.hpp"
#include "ipc/shared_state.hpp"
#include "pg/context_allocator.hpp"

#include <boost/container/static_vector.hpp>
#include <boost/container/vector.hpp>

#include <string>

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "optimizer/optimizer.h"
#include "utils/timestamp.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/syscache.h"
}

namespace {

using namespace colmig;

// As colmig.batch_size allows.
constexpr std::int32_t kLargestBatchSize = 10 * 1000 * 1000;

struct Request {
  Oid relid;
  std::string column;
  std::string type_text;
  std::optional<std::string> default_expr;
  std::optional<std::string> backfill_expr;
  bool not_null;
  std::optional<std::int32_t> batch_size;
  bool fire_triggers = false;
  api::JobOptions options;
  // Workers for the backfill and whether it fills rows in place, with the
  // settings' defaults applied.
  int parallel = 1;
  bool compact = false;
};

Request read_arguments(FunctionCallInfo fcinfo) {
  api::require_argument(fcinfo, 0, "tbl");
  api::require_argument(fcinfo, 1, "col");
  api::require_argument(fcinfo, 2, "coltype");
  api::require_argument(fcinfo, 5, "not_null");
  api::require_argument(fcinfo, 11, "fire_triggers");
  Request request;
  request.relid = PG_GETARG_OID(0);
  request.column = NameStr(*PG_GETARG_NAME(1));
  request.type_text = api::text_argument(fcinfo, 2);
  request.default_expr = api::optional_text_argument(fcinfo, 3);
  request.backfill_expr = api::optional_text_argument(fcinfo, 4);
  request.not_null = PG_GETARG_BOOL(5);
  if (!PG_ARGISNULL(6))
    request.batch_size = PG_GETARG_INT32(6);
  request.options = api::read_job_options(fcinfo, 7);
  request.fire_triggers = PG_GETARG_BOOL(11);
  // The SQL function of 0.2 has twelve arguments: until ALTER EXTENSION
  // UPDATE, the caller hears so (55000) rather than about garbage.
  const bool has_new_arguments = PG_NARGS() >= 14;
  request.parallel =
      has_new_arguments && !PG_ARGISNULL(12) ? PG_GETARG_INT32(12) : guc::parallel;
  request.compact =
      has_new_arguments && !PG_ARGISNULL(13) ? PG_GETARG_BOOL(13) : guc::compact;
  return request;
}

void check_arguments(const Request &request) {
  if (request.column.empty())
    pg::raise("42602", "col must not be empty");
  if (request.batch_size &&
      (*request.batch_size <= 0 || *request.batch_size > kLargestBatchSize))
    pg::raise("22023", "batch_size must be between 1 and " +
                           std::to_string(kLargestBatchSize) + ", not " +
                           std::to_string(*request.batch_size));
  if (request.parallel < 1)
    pg::raise("22023",
              "parallel must be at least 1, not " + std::to_string(request.parallel));
  if (request.not_null && !request.default_expr && !request.backfill_expr)
    pg::raise("22023", "not_null needs default_expr or backfill_expr",
              "Existing rows would have no value for column \"" + request.column + "\".",
              "Give backfill_expr to fill existing rows, or default_expr.");
}

void check_no_active_job(const api::TargetTable &table, const std::string &column) {
  pg::execute("SELECT job_id FROM colmig.jobs WHERE relid = $1 AND column_name = $2 "
              "AND state IN ('queued', 'running', 'paused')",
              {pg::oid_param(table.relid), pg::text_param(column)});
  if (pg::result_rows() > 0)
    pg::raise("42701",
              "column \"" + column + "\" of relation " + table.qualified_name +
                  " is already being added by colmig job " +
                  std::to_string(*pg::get_int64(0, 0)),
              {}, "Wait for that job, or cancel it with colmig.cancel().");
}

// The columns `expr` reads, by number.
boost::container::vector<std::int64_t, pg::ContextAllocator<std::int64_t>>
columns_read(Node *expr) {
  boost::container::vector<std::int64_t, pg::ContextAllocator<std::int64_t>> columns{
      pg::ContextAllocator<std::int64_t>(CurrentMemoryContext)};
  Bitmapset *attrs = pg::call([&] {
    Bitmapset *found = nullptr;
    pull_varattnos(expr, 1, &found);
    return found;
  });
  for (int member = -1; (member = bms_next_member(attrs, member)) >= 0;)
    columns.push_back(member + FirstLowInvalidHeapAttributeNumber);
  return columns;
}

// A column another job still fills has NULLs where it will have values:
// an expression over it would be computed from the NULLs, and nothing
// would compute it again once that job has filled them.
void check_reads_no_column_being_filled(const api::TargetTable &table, Node *expr) {
  const auto columns = columns_read(expr);
  pg::execute(
      "SELECT job_id, column_name::text FROM colmig.jobs "
      "WHERE relid = $1 AND column_attnum = ANY ($2) "
      "AND (state IN ('queued', 'running', 'paused') OR cleanup_needed) "
      "ORDER BY job_id LIMIT 1",
      {pg::oid_param(table.relid), pg::int8_array_param(columns.data(), columns.size())});
  if (pg::result_rows() > 0)
    pg::raise("55000",
              "backfill_expr reads column \"" + *pg::get_text(0, 1) + "\" of relation " +
                  table.qualified_name + ", which colmig job " +
                  std::to_string(*pg::get_int64(0, 0)) + " is still filling",
              "Rows that job has not reached yet would be computed from its NULLs.",
              "Wait for that job (colmig.wait()) before creating this one.");
}

struct Analysis {
  api::ColumnType type;
  std::optional<api::AnalysedExpression> default_value;
  std::optional<api::AnalysedExpression> backfill;
  bool needs_backfill = false;
  core::Plan plan;

  // What existing rows get: backfill_expr, else the default.
  const api::AnalysedExpression *fill() const {
    if (!needs_backfill)
      return nullptr;
    return backfill ? &*backfill : &*default_value;
  }
};

Analysis analyse(const Request &request, const api::TargetTable &table,
                 bool distributed) {
  // Whether the default is volatile decides the path, and the type check
  // depends on the path: resolve the type leniently first.
  Analysis analysis;
  analysis.type = api::resolve_type(request.column, request.type_text, false);
  if (request.default_expr)
    analysis.default_value = api::analyse_expression(
        table, analysis.type, *request.default_expr, api::ExprKind::default_value);
  if (request.backfill_expr)
    analysis.backfill = api::analyse_expression(
        table, analysis.type, *request.backfill_expr, api::ExprKind::backfill);
  core::AddColumnRequest plan_request;
  plan_request.has_default = analysis.default_value.has_value();
  plan_request.default_is_volatile =
      analysis.default_value && analysis.default_value->is_volatile;
  plan_request.has_backfill_expr = analysis.backfill.has_value();
  plan_request.not_null = request.not_null;
  plan_request.distributed = distributed;
  analysis.needs_backfill = core::needs_backfill(plan_request);
  analysis.plan = core::plan_add_column(plan_request);
  if (analysis.needs_backfill) {
    (void)api::resolve_type(request.column, request.type_text, true);
    api::check_rows_updatable(table);
    api::check_triggers(table, request.fire_triggers);
    if (request.not_null && !analysis.default_value)
      pg::call([&] {
        ereport(NOTICE,
                (errmsg("the column will be NOT NULL without a default"),
                 errdetail("Once the job is done, an INSERT that does not set the column "
                           "fails; until then the fill trigger sets it."),
                 errhint("Give default_expr too if the application does not set it.")));
      });
  } else if (analysis.default_value) {
    api::check_fast_default(*analysis.default_value, request.column, request.not_null);
  }
  return analysis;
}

// More workers than colmig.max_parallel, or than max_worker_processes has
// free now, is no error: the backfill runs with fewer (each worker takes
// ranges until none is left), and the caller hears it here.
int workers_to_ask_for(int requested) {
  int parallel = requested;
  if (parallel > guc::max_parallel) {
    pg::call([&] {
      ereport(
          NOTICE,
          (errmsg("parallel => %d is more than colmig.max_parallel (%d): the backfill "
                  "uses at most %d workers",
                  requested, guc::max_parallel, guc::max_parallel)));
    });
    parallel = guc::max_parallel;
  }
  if (parallel < 2)
    return parallel;
  // Background workers running now (each holds one of max_worker_processes):
  // every process in pg_stat_activity that is none of PostgreSQL's own kinds.
  pg::execute(R"sql(
SELECT pg_catalog.current_setting('max_worker_processes')::int8 - count(*)
  FROM pg_catalog.pg_stat_activity
 WHERE backend_type NOT IN ('client backend', 'autovacuum launcher', 'autovacuum worker',
                            'background writer', 'checkpointer', 'startup', 'walreceiver',
                            'walsender', 'walwriter', 'archiver', 'logger',
                            'standalone backend'))sql");
  // The job's own worker needs a slot too, unless one runs already.
  const int free_for_helpers = static_cast<int>(pg::get_int64(0, 0).value_or(0)) - 1;
  const int now = core::workers_for_job(parallel, guc::max_parallel, free_for_helpers);
  if (now < parallel)
    pg::call([&] {
      ereport(NOTICE,
              (errmsg("only %d of the %d workers asked for can start now", now, parallel),
               errdetail("max_worker_processes has %d background worker slots free.",
                         std::max(0, free_for_helpers + 1)),
               errhint("The backfill starts with the workers it can get and takes its "
                       "ranges one after the other; raise max_worker_processes for "
                       "more.")));
    });
  return parallel;
}

pg::Param optional_text(const std::optional<api::AnalysedExpression> &expr) {
  return expr ? pg::text_param(expr->node) : pg::null_param(TEXTOID);
}

std::int64_t insert_job(const Request &request, const api::TargetTable &table,
                        const Analysis &analysis, Oid owner,
                        const core::EvaluationSettings &settings,
                        const std::optional<pg::citus::Table> &citus) {
  const api::AnalysedExpression *fill = analysis.fill();
  boost::container::static_vector<std::string, core::kMaxPlanSteps> plan;
  for (const core::Step &step : analysis.plan)
    plan.push_back(core::to_string(step.kind));
  const auto window = [](const std::optional<TimeADT> &value) {
    auto minute = api::window_minute(value);
    return minute ? pg::int4_param(*minute) : pg::null_param(INT4OID);
  };
  pg::execute(
      R"sql(
INSERT INTO colmig.jobs (relid, relation, column_name, column_type, default_expr,
                         backfill_expr, default_node, fill_node, default_volatile,
                         not_null, batch_size, owner, throttle, fire_triggers,
                         window_start, window_end, start_at, settings,
                         operation, target, plan, args)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
        make_time(($15 / 60)::int % 24, $15 % 60, 0),
        make_time(($16 / 60)::int % 24, $16 % 60, 0), $17,
        $18, 'add_column', $3, $19,
        pg_catalog.jsonb_build_object('parallel', $20::int, 'compact', $21::bool,
                                      'citus', $22::text))
RETURNING job_id)sql",
      {pg::oid_param(table.relid),
       pg::text_param(table.qualified_name),
       pg::text_param(request.column),
       pg::text_param(analysis.type.sql_name),
       pg::text_param(request.default_expr),
       pg::text_param(request.backfill_expr),
       optional_text(analysis.default_value),
       fill ? pg::text_param(fill->node) : pg::null_param(TEXTOID),
       pg::bool_param(analysis.default_value && analysis.default_value->is_volatile),
       pg::bool_param(request.not_null),
       request.batch_size ? pg::int4_param(*request.batch_size) : pg::null_param(INT4OID),
       pg::oid_param(owner),
       pg::bool_param(request.options.throttle),
       pg::bool_param(request.fire_triggers),
       window(request.options.window_start),
       window(request.options.window_end),
       request.options.start_at ? pg::timestamptz_param(*request.options.start_at)
                                : pg::null_param(TIMESTAMPTZOID),
       pg::text_array_param(settings.data(), settings.size()),
       pg::text_array_param(plan.data(), plan.size()),
       pg::int4_param(request.parallel),
       pg::bool_param(request.compact),
       citus ? pg::text_param(std::string(
                   citus->kind == pg::citus::TableKind::reference ? "reference" : "hash"))
             : pg::null_param(TEXTOID)});
  return *pg::get_int64(0, 0);
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_add_column) {
  Request request = read_arguments(fcinfo);
  check_arguments(request);
  api::TargetTable table = api::check_table(request.relid);
  api::check_column_absent(table, request.column);
  const std::optional<pg::citus::Table> citus = api::check_citus_table(table);
  // Everything is analysed here, in the caller's session and search_path,
  // and what the worker and the fill trigger run is what was analysed.
  const Analysis analysis = analyse(request, table, citus.has_value());
  if (citus && analysis.fill())
    api::check_fill_replicable(*citus, table, *analysis.fill());
  Oid owner = api::table_owner(table.relid);
  const core::EvaluationSettings settings = api::current_settings();

  std::int64_t job_id = 0;
  {
    api::CatalogAccess catalog;
    catalog::require_current_extension();
    check_no_active_job(table, request.column);
    // A distributed job's workers are the shard jobs' on their nodes.
    if (analysis.needs_backfill && !citus)
      request.parallel = workers_to_ask_for(request.parallel);
    if (const api::AnalysedExpression *fill = analysis.fill())
      check_reads_no_column_being_filled(table, fill->tree);
    job_id = insert_job(request, table, analysis, owner, settings, citus);
    for (const auto *expr : {analysis.default_value ? &*analysis.default_value : nullptr,
                             analysis.backfill ? &*analysis.backfill : nullptr})
      if (expr != nullptr)
        catalog::record_dependencies(job_id, table.relid, expr->tree);
  }
  ipc::wake_launcher_at_commit();
  return Int64GetDatum(job_id);
}
