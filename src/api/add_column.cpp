// colmig.add_column(): validates everything in the caller's session,
// stores the job, and wakes the launcher once the caller commits.
#include "api/catalog_access.hpp"
#include "api/validate.hpp"
#include "worker/shared_state.hpp"

#include <string>

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "utils/guc.h"
#include "utils/syscache.h"
}

namespace {

using namespace colmig;

struct Request {
  Oid relid;
  std::string column;
  std::string type_text;
  std::optional<std::string> default_expr;
  std::optional<std::string> backfill_expr;
  bool not_null;
  std::optional<std::int32_t> batch_size;
  bool throttle = true;
  // time values as text ("01:00:00"), both or neither.
  std::optional<std::string> window_start;
  std::optional<std::string> window_end;
  std::optional<std::string> start_at; // timestamptz as text
};

Request read_arguments(FunctionCallInfo fcinfo) {
  api::require_argument(fcinfo, 0, "tbl");
  api::require_argument(fcinfo, 1, "col");
  api::require_argument(fcinfo, 2, "coltype");
  api::require_argument(fcinfo, 5, "not_null");
  Request request;
  request.relid = PG_GETARG_OID(0);
  request.column = NameStr(*PG_GETARG_NAME(1));
  request.type_text = api::text_argument(fcinfo, 2);
  request.default_expr = api::optional_text_argument(fcinfo, 3);
  request.backfill_expr = api::optional_text_argument(fcinfo, 4);
  request.not_null = PG_GETARG_BOOL(5);
  if (!PG_ARGISNULL(6))
    request.batch_size = PG_GETARG_INT32(6);
  api::require_argument(fcinfo, 7, "throttle");
  request.throttle = PG_GETARG_BOOL(7);
  request.window_start = api::optional_datum_text(fcinfo, 8);
  request.window_end = api::optional_datum_text(fcinfo, 9);
  request.start_at = api::optional_datum_text(fcinfo, 10);
  return request;
}

void check_arguments(const Request &request) {
  if (request.column.empty())
    pg::raise("42602", "col must not be empty");
  if (request.batch_size && *request.batch_size <= 0)
    pg::raise("22023", "batch_size must be greater than zero, not " +
                           std::to_string(*request.batch_size));
  if (request.window_start.has_value() != request.window_end.has_value())
    pg::raise("22023", "window_start and window_end go together",
              "Give both, e.g. window_start => '01:00', window_end => '05:00'.");
  if (request.window_start && *request.window_start == *request.window_end)
    pg::raise("22023", "window_start and window_end must differ",
              "Leave both NULL to let the job run at any time.");
  if (request.not_null && !request.default_expr && !request.backfill_expr)
    pg::raise("22023", "not_null needs default_expr or backfill_expr",
              "Existing rows would have no value for column \"" + request.column + "\".",
              "Give backfill_expr to fill existing rows, or default_expr.");
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

std::int64_t insert_job(const Request &request, const api::TargetTable &table,
                        const api::ColumnType &type, bool default_volatile,
                        const std::string &search_path, Oid owner) {
  pg::execute(R"sql(
INSERT INTO colmig.jobs (relid, relation, column_name, column_type, default_expr,
                         backfill_expr, default_volatile, not_null, batch_size,
                         search_path, owner, throttle, window_start, window_end,
                         start_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::time, $14::time,
        $15::timestamptz)
RETURNING job_id)sql",
              {pg::oid_param(table.relid), pg::text_param(table.qualified_name),
               pg::text_param(request.column), pg::text_param(type.sql_name),
               pg::text_param(request.default_expr),
               pg::text_param(request.backfill_expr), pg::bool_param(default_volatile),
               pg::bool_param(request.not_null),
               request.batch_size ? pg::int4_param(*request.batch_size)
                                  : pg::Param{INT4OID, 0, true},
               pg::text_param(search_path), pg::oid_param(owner),
               pg::bool_param(request.throttle), pg::text_param(request.window_start),
               pg::text_param(request.window_end), pg::text_param(request.start_at)});
  return *pg::get_int64(0, 0);
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_add_column) {
  Request request = read_arguments(fcinfo);
  check_arguments(request);
  api::TargetTable table = api::check_table(request.relid);
  api::check_column_absent(table, request.column);
  api::ColumnType type = api::resolve_type(request.column, request.type_text);
  bool default_volatile = false;
  if (request.default_expr)
    default_volatile = api::check_expression(table, type, *request.default_expr,
                                             api::ExprKind::default_value);
  if (request.backfill_expr)
    api::check_expression(table, type, *request.backfill_expr, api::ExprKind::backfill);
  // Stored with the job: the worker resolves names exactly as the caller did.
  std::string search_path =
      pg::call([] { return GetConfigOption("search_path", false, false); });
  // The job runs as the table's owner, as ALTER TABLE by its owner would.
  Oid owner = table_owner(table.relid);

  std::int64_t job_id = 0;
  {
    api::CatalogAccess catalog;
    check_no_active_job(table, request.column);
    job_id = insert_job(request, table, type, default_volatile, search_path, owner);
  }
  worker::wake_launcher_at_commit();
  return Int64GetDatum(job_id);
}
