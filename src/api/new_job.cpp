#include "api/new_job.hpp"

#include "core/helper_names.hpp"

#include "api/catalog_access.hpp"
#include "api/citus_target.hpp"
#include "api/validate.hpp"
#include "catalog/claim.hpp"
#include "catalog/dependencies.hpp"
#include "ipc/shared_state.hpp"
#include "pg/spi.hpp"

#include <boost/container/static_vector.hpp>

#include <string>

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace colmig::api {

namespace {

constexpr std::int64_t kMicrosecondsPerMinute = 60LL * 1000 * 1000;
constexpr int kMinutesPerDay = 24 * 60;

std::optional<TimeADT> optional_time(FunctionCallInfo fcinfo, int index) {
  if (PG_ARGISNULL(index))
    return std::nullopt;
  return PG_GETARG_TIMEADT(index);
}

// A run window is kept in whole minutes of the day (24:00 is midnight).
void check_window(const JobOptions &options) {
  if (options.window_start.has_value() != options.window_end.has_value())
    pg::raise("22023", "window_start and window_end go together",
              "Give both, e.g. window_start => '01:00', window_end => '05:00'.");
  if (!options.window_start)
    return;
  for (TimeADT value : {*options.window_start, *options.window_end})
    if (value % kMicrosecondsPerMinute != 0)
      pg::raise("22023", "window_start and window_end must be whole minutes",
                "A run window opens and closes on the minute, e.g. '01:00'.");
  const auto minute = [](TimeADT value) {
    return static_cast<int>(value / kMicrosecondsPerMinute) % kMinutesPerDay;
  };
  if (minute(*options.window_start) == minute(*options.window_end))
    pg::raise("22023", "window_start and window_end must differ",
              "Leave both NULL to let the job run at any time.");
}

} // namespace

JobOptions read_job_options(FunctionCallInfo fcinfo, int first) {
  require_argument(fcinfo, first, "throttle");
  JobOptions options;
  options.throttle = PG_GETARG_BOOL(first);
  options.window_start = optional_time(fcinfo, first + 1);
  options.window_end = optional_time(fcinfo, first + 2);
  if (!PG_ARGISNULL(first + 3))
    options.start_at = PG_GETARG_TIMESTAMPTZ(first + 3);
  check_window(options);
  if (options.start_at && TIMESTAMP_NOT_FINITE(*options.start_at))
    pg::raise("22008", "start_at must be a finite time",
              "Leave it NULL to start at once, or give the time to start at.");
  return options;
}

std::optional<std::int32_t> window_minute(const std::optional<TimeADT> &value) {
  if (!value)
    return std::nullopt;
  return static_cast<std::int32_t>(*value / kMicrosecondsPerMinute);
}

core::EvaluationSettings current_settings() {
  core::EvaluationSettings settings;
  for (std::size_t i = 0; i < core::kEvaluationSettings.size(); ++i) {
    const char *name = core::kEvaluationSettings[i];
    settings[i] = pg::call([&] { return GetConfigOption(name, false, false); });
  }
  settings[core::kSearchPathSetting] =
      core::with_temp_schema_last(settings[core::kSearchPathSetting]);
  return settings;
}

Oid table_owner(Oid relid) {
  return pg::call([&] {
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple))
      elog(ERROR, "cache lookup failed for relation %u", relid);
    Oid owner = ((Form_pg_class)GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    return owner;
  });
}

ColumnNames column_names_argument(FunctionCallInfo fcinfo, int index,
                                  const char *argument) {
  ColumnNames names;
  if (PG_ARGISNULL(index))
    return names;
  // Detoasting can raise: through the guard, as `names` lives here.
  ArrayType *array = pg::call([&] { return PG_GETARG_ARRAYTYPE_P(index); });
  Datum *elements = nullptr;
  bool *nulls = nullptr;
  int count = 0;
  pg::call([&] {
    deconstruct_array(array, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elements,
                      &nulls, &count);
  });
  if (count > static_cast<int>(names.capacity()))
    pg::raise("54011", std::string(argument) + " has more than " +
                           std::to_string(names.capacity()) + " columns");
  for (int i = 0; i < count; ++i) {
    if (nulls[i])
      pg::raise("22004", std::string(argument) + " must not contain NULL");
    names.push_back(NameStr(*DatumGetName(elements[i])));
  }
  return names;
}

std::string name_argument(FunctionCallInfo fcinfo, int index, const char *argument) {
  require_argument(fcinfo, index, argument);
  std::string name = NameStr(*PG_GETARG_NAME(index));
  if (name.empty())
    pg::raise("42602", std::string(argument) + " must not be empty");
  return name;
}

void check_constraint_name_free(const TargetTable &table, const std::string &name) {
  if (core::job_of_not_null_check(name))
    pg::raise("42939",
              "constraint name \"" + name + "\" is reserved for colmig's own checks", {},
              "Choose another name.");
  CatalogAccess catalog;
  pg::execute(
      "SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = $1 AND conname = $2",
      {pg::oid_param(table.relid), pg::text_param(name)});
  if (pg::result_rows() > 0)
    pg::raise("42710", "constraint \"" + name + "\" for relation " +
                           table.qualified_name + " already exists");
  pg::execute("SELECT job_id FROM colmig.jobs WHERE relid = $1 AND target = $2 "
              "AND operation IN ('add_check', 'add_foreign_key') "
              "AND state IN ('queued', 'running', 'paused') LIMIT 1",
              {pg::oid_param(table.relid), pg::text_param(name)});
  if (pg::result_rows() > 0)
    pg::raise("42710", "constraint \"" + name + "\" for relation " +
                           table.qualified_name + " is being added by colmig job " +
                           std::to_string(*pg::get_int64(0, 0)));
}

std::int64_t insert_job(const NewJob &job) {
  // On Citus the job's DDL goes through the coordinator to every placement
  // (docs/citus.md); the kinds of table colmig cannot work on are refused.
  const auto citus = check_citus_table(TargetTable{job.relid, job.relation});
  const core::EvaluationSettings settings = current_settings();
  const Oid owner = table_owner(job.relid);
  boost::container::static_vector<std::string, core::kMaxPlanSteps> plan;
  for (const core::Step &step : job.plan)
    plan.push_back(core::to_string(step.kind));
  boost::container::static_vector<std::int64_t, 64> constraints(
      job.constraint_oids, job.constraint_oids + job.constraint_count);
  const auto optional_int4 = [](const std::optional<std::int32_t> &value) {
    return value ? pg::int4_param(*value) : pg::null_param(INT4OID);
  };
  std::int64_t job_id = 0;
  {
    CatalogAccess catalog;
    catalog::require_current_extension();
    pg::execute(
        R"sql(
INSERT INTO colmig.jobs (operation, relid, relation, target, column_name, column_attnum,
                         args, constraint_oids, plan, owner, throttle,
                         window_start, window_end, start_at, settings)
VALUES ($1, $2, $3, $4, $5, $6,
        $7::jsonb || CASE WHEN $16::text IS NULL THEN '{}'::jsonb
                          ELSE pg_catalog.jsonb_build_object('citus', $16::text) END,
        CASE WHEN $8::int8[] = '{}' THEN NULL ELSE $8::oid[] END, $9, $10, $11,
        make_time(($12 / 60)::int % 24, $12 % 60, 0),
        make_time(($13 / 60)::int % 24, $13 % 60, 0), $14, $15)
RETURNING job_id)sql",
        {pg::text_param(std::string(core::to_string(job.operation))),
         pg::oid_param(job.relid), pg::text_param(job.relation),
         pg::text_param(job.target), pg::text_param(job.column),
         job.column_attnum ? pg::int4_param(*job.column_attnum) : pg::null_param(INT4OID),
         pg::text_param(job.args),
         pg::int8_array_param(constraints.data(), constraints.size()),
         pg::text_array_param(plan.data(), plan.size()), pg::oid_param(owner),
         pg::bool_param(job.options.throttle),
         optional_int4(window_minute(job.options.window_start)),
         optional_int4(window_minute(job.options.window_end)),
         job.options.start_at ? pg::timestamptz_param(*job.options.start_at)
                              : pg::null_param(TIMESTAMPTZOID),
         pg::text_array_param(settings.data(), settings.size()),
         citus ? pg::text_param(std::string(citus_kind_name(citus->kind)))
               : pg::null_param(TEXTOID)});
    job_id = *pg::get_int64(0, 0);
    if (job.depends_on != nullptr)
      catalog::record_dependencies(job_id, job.relid, job.depends_on);
  }
  ipc::wake_launcher_at_commit();
  return job_id;
}

} // namespace colmig::api
