// colmig.shard_fill(): the node's side of a distributed add_column
// (docs/citus.md). The coordinator's job calls it on every node that holds
// a placement of the table, through Citus, as often as it likes: it makes
// sure one fill_shard job fills that placement here (creating it the first
// time, with the expression analysed against the placement), passes on a
// pause, cancel or release, and answers with the job's progress (jsonb
// text; {} when there is no job and none was asked for).
// Only a superuser may call it: it creates jobs for the table's owner.
#include "core/evaluation_settings.hpp"
#include "core/operations.hpp"

#include "api/catalog_access.hpp"
#include "api/new_job.hpp"
#include "api/validate.hpp"
#include "catalog/claim.hpp"
#include "catalog/dependencies.hpp"
#include "ipc/shared_state.hpp"
#include "pg/citus.hpp"
#include "pg/guc_scope.hpp"

#include <boost/container/static_vector.hpp>

#include <string>

extern "C" {
#include "miscadmin.h"
#include "utils/builtins.h"
}

namespace {

using namespace colmig;

// The job filling `shardid` for the coordinator's job, if there is one.
std::optional<std::int64_t> find_shard_job(std::int64_t coordinator_job,
                                           std::int64_t shardid,
                                           const std::string &coordinator) {
  pg::execute("SELECT job_id FROM colmig.jobs WHERE operation = 'fill_shard' "
              "AND (args ->> 'coordinator_job')::int8 = $1 "
              "AND (args ->> 'shardid')::int8 = $2 AND args ->> 'coordinator' = $3 "
              "ORDER BY job_id DESC LIMIT 1",
              {pg::int8_param(coordinator_job), pg::int8_param(shardid),
               pg::text_param(coordinator)});
  return pg::result_rows() > 0 ? pg::get_int64(0, 0) : std::nullopt;
}

std::string spec_text(const std::string &spec, const char *key) {
  pg::execute("SELECT $1::jsonb ->> $2",
              {pg::text_param(spec), pg::text_param(std::string(key))});
  auto value = pg::get_text(0, 0);
  if (!value)
    pg::raise("22023", std::string("shard_fill: spec has no \"") + key + "\"");
  return *value;
}

struct ShardColumn {
  api::ColumnType type;
  std::string quoted_name;
};

ShardColumn shard_column(Oid shard, const std::string &column) {
  pg::execute("SELECT a.atttypid::int8, a.atttypmod::int8, "
              "pg_catalog.format_type(a.atttypid, a.atttypmod) "
              "FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1 AND a.attname = $2 "
              "AND a.attnum > 0 AND NOT a.attisdropped",
              {pg::oid_param(shard), pg::text_param(column)});
  if (pg::result_rows() == 0)
    pg::raise("42703", "column \"" + column + "\" is not on this shard placement", {},
              "The coordinator adds it through Citus before the shard jobs start.");
  return {{static_cast<Oid>(*pg::get_int64(0, 0)), static_cast<int>(*pg::get_int64(0, 1)),
           *pg::get_text(0, 2)},
          pg::quote_ident(column)};
}

// Creates the job for the placement: its expression analysed here, against
// the placement, with colmig's pinned search_path (the coordinator sent it
// deparsed, schema-qualified) and the creator's settings.
std::int64_t create_shard_job(std::int64_t coordinator_job, std::int64_t shardid,
                              const std::string &spec, const std::string &coordinator) {
  const auto shard = pg::citus::shard_relation(shardid);
  if (!shard)
    pg::raise("42P01",
              "shard " + std::to_string(shardid) + " has no placement on this node", {},
              "The shard moved: the coordinator's job fails and can be created again.");
  const api::TargetTable table = api::check_table(*shard);
  const std::string column = spec_text(spec, "column");
  const ShardColumn target = shard_column(*shard, column);
  pg::execute("SELECT ARRAY(SELECT pg_catalog.jsonb_array_elements_text($1::jsonb -> "
              "'settings'))",
              {pg::text_param(spec)});
  core::EvaluationSettings settings;
  if (!pg::get_text_array(0, 0, settings.data(), settings.size()))
    pg::raise("22023", "shard_fill: spec has no settings of this colmig");
  const bool fire_triggers = spec_text(spec, "fire_triggers") == "true";
  api::check_triggers(table, fire_triggers);
  api::AnalysedExpression fill{};
  {
    pg::GucScope scope;
    for (std::size_t i = 0; i < settings.size(); ++i)
      scope.set(core::kEvaluationSettings[i], i == core::kSearchPathSetting
                                                  ? pg::kSafeSearchPath
                                                  : settings[i].c_str());
    fill = api::analyse_expression(table, target.type, spec_text(spec, "fill"),
                                   api::ExprKind::backfill);
  }
  boost::container::static_vector<std::string, core::kMaxPlanSteps> plan;
  for (const core::Step &step : core::plan_fill_shard())
    plan.push_back(core::to_string(step.kind));
  std::int64_t job_id = 0;
  {
    api::CatalogAccess catalog;
    catalog::require_current_extension();
    pg::execute(
        R"sql(
INSERT INTO colmig.jobs (operation, relid, relation, target, column_name, column_type,
                         backfill_expr, fill_node, not_null, batch_size, owner, throttle,
                         fire_triggers, settings, plan, args)
SELECT 'fill_shard', $1, $2, $3, $3, $4, $5, $6, (s ->> 'not_null')::bool,
       (s ->> 'batch_size')::int4, $7, (s ->> 'throttle')::bool, $8, $9, $10,
       pg_catalog.jsonb_build_object('coordinator_job', $11::int8, 'shardid', $12::int8,
                                     'coordinator', $13::text,
                                     'parallel', coalesce((s ->> 'parallel')::int4, 1),
                                     'compact', coalesce((s ->> 'compact')::bool, false))
  FROM (SELECT $14::jsonb AS s) spec
RETURNING job_id)sql",
        {pg::oid_param(table.relid), pg::text_param(table.qualified_name),
         pg::text_param(column), pg::text_param(target.type.sql_name),
         pg::text_param(spec_text(spec, "fill")), pg::text_param(fill.node),
         pg::oid_param(api::table_owner(table.relid)), pg::bool_param(fire_triggers),
         pg::text_array_param(settings.data(), settings.size()),
         pg::text_array_param(plan.data(), plan.size()), pg::int8_param(coordinator_job),
         pg::int8_param(shardid), pg::text_param(coordinator), pg::text_param(spec)});
    job_id = *pg::get_int64(0, 0);
    catalog::record_dependencies(job_id, table.relid, fill.tree);
  }
  ipc::wake_launcher_at_commit();
  return job_id;
}

// What the coordinator shows in colmig.progress_shards.
std::string status(std::int64_t job_id) {
  api::CatalogAccess catalog;
  pg::execute(
      "SELECT pg_catalog.jsonb_build_object('job_id', j.job_id, 'state', j.state, "
      "'phase', j.phase, 'rows_done', p.rows_done, 'rows_total', j.rows_total, "
      "'percent', p.percent, "
      "'throttled', j.throttled, 'last_error', j.last_error)::text "
      "FROM colmig.jobs j JOIN colmig.progress p ON p.job_id = j.job_id "
      "WHERE j.job_id = $1",
      {pg::int8_param(job_id)});
  return pg::get_text(0, 0).value_or("{}");
}

// Passes an action of the coordinator's job on to the shard job, when its
// state allows it (one in any other state is left as it is). Only a pause
// the coordinator passed on is undone by it: a shard job paused on its own
// node stays paused until it is resumed there.
void act(std::int64_t job_id, const std::string &action) {
  const auto run = [&](const char *sql, bool as_catalog_owner) {
    if (!as_catalog_owner) {
      pg::execute(sql, {pg::int8_param(job_id)});
      return;
    }
    api::CatalogAccess catalog;
    pg::execute(sql, {pg::int8_param(job_id)});
  };
  if (action == "status")
    return;
  if (action == "cancel") {
    run("SELECT colmig.cancel(job_id) FROM colmig.jobs "
        "WHERE job_id = $1 AND state IN ('queued', 'running', 'paused')",
        false);
    return;
  }
  if (action == "pause") {
    run("UPDATE colmig.jobs SET args = args || '{\"paused_by_coordinator\": true}' "
        "WHERE job_id = $1 AND state IN ('queued', 'running')",
        true);
    run("SELECT colmig.pause(job_id) FROM colmig.jobs "
        "WHERE job_id = $1 AND state IN ('queued', 'running')",
        false);
    return;
  }
  // run or release (shard_fill() checked the action).
  run("SELECT colmig.resume(job_id) FROM colmig.jobs WHERE job_id = $1 "
      "AND state = 'paused' AND args ? 'paused_by_coordinator'",
      false);
  run("UPDATE colmig.jobs SET args = args - 'paused_by_coordinator' "
      "WHERE job_id = $1 AND args ? 'paused_by_coordinator' AND state <> 'paused'",
      true);
  if (action == "release")
    run("UPDATE colmig.jobs SET args = args || '{\"released\": true}' "
        "WHERE job_id = $1 AND NOT args ? 'released'",
        true);
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_shard_fill) {
  for (int i = 0; i < 4; ++i)
    api::require_argument(fcinfo, i, "coordinator_job, shardid, action and spec");
  if (!pg::call([] { return superuser(); }))
    pg::raise("42501", "only a superuser may call colmig.shard_fill()", {},
              "The coordinator's colmig worker calls it on each node.");
  const std::int64_t coordinator_job = PG_GETARG_INT64(0);
  const std::int64_t shardid = PG_GETARG_INT64(1);
  const std::string action = api::text_argument(fcinfo, 2);
  const std::string spec = api::text_argument(fcinfo, 3);
  if (action != "run" && action != "pause" && action != "cancel" && action != "release" &&
      action != "status")
    pg::raise("22023", "colmig.shard_fill(): unknown action \"" + action + "\"", {},
              "The action is one of run, pause, cancel, release, status.");
  pg::SpiConnection spi;
  if (!pg::citus::installed())
    pg::raise("0A000", "colmig.shard_fill() works on Citus shard placements",
              "The citus extension is not created in this database.");
  pg::citus::allow_shard_access_here();
  const std::string coordinator = spec_text(spec, "coordinator");
  std::optional<std::int64_t> job_id;
  {
    api::CatalogAccess catalog;
    job_id = find_shard_job(coordinator_job, shardid, coordinator);
  }
  if (!job_id && action == "run")
    job_id = create_shard_job(coordinator_job, shardid, spec, coordinator);
  std::string answer = "{}";
  if (job_id) {
    act(*job_id, action);
    answer = status(*job_id);
  }
  const char *text = answer.c_str();
  return pg::call([&] { return PointerGetDatum(cstring_to_text(text)); });
}
