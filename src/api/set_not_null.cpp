// colmig.set_not_null(tbl, col): NOT NULL without a long ACCESS EXCLUSIVE
// scan. A valid CHECK that already proves the column NOT NULL is reused;
// otherwise the job adds its own NOT VALID check, validates it and drops
// it again once SET NOT NULL is done.
#include "core/operations.hpp"

#include "api/catalog_access.hpp"
#include "api/new_job.hpp"
#include "api/validate.hpp"
#include "pg/not_null_check_catalog.hpp"

extern "C" {
#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_attribute.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace {

using namespace colmig;

// The column's number, checked: it exists, is a user column and is not
// NOT NULL already. Plain C: runs inside pg::call.
AttrNumber checked_column_c(Oid relid, const char *column, const char *table) {
  AttrNumber attnum = get_attnum(relid, column);
  if (attnum == InvalidAttrNumber)
    ereport(ERROR,
            (errcode(ERRCODE_UNDEFINED_COLUMN),
             errmsg("column \"%s\" of relation %s does not exist", column, table)));
  if (attnum < 0)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("cannot alter system column \"%s\"", column)));
  HeapTuple tuple =
      SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
  const bool not_null = ((Form_pg_attribute)GETSTRUCT(tuple))->attnotnull;
  ReleaseSysCache(tuple);
  if (not_null)
    ereport(ERROR,
            (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
             errmsg("column \"%s\" of relation %s is already NOT NULL", column, table)));
  return attnum;
}

void check_no_active_column_job(const api::TargetTable &table, AttrNumber attnum,
                                const std::string &column) {
  pg::execute(
      "SELECT job_id FROM colmig.jobs WHERE relid = $1 "
      "AND (column_attnum = $2 OR column_name = $3) "
      "AND (state IN ('queued', 'running', 'paused') OR cleanup_needed) LIMIT 1",
      {pg::oid_param(table.relid), pg::int4_param(attnum), pg::text_param(column)});
  if (pg::result_rows() > 0)
    pg::raise("55000",
              "column \"" + column + "\" of relation " + table.qualified_name +
                  " has colmig job " + std::to_string(*pg::get_int64(0, 0)) + " at work",
              {}, "Wait for that job (CALL colmig.wait_job(...)), then try again.");
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_set_not_null) {
  api::require_argument(fcinfo, 0, "tbl");
  api::require_argument(fcinfo, 1, "col");
  const Oid relid = PG_GETARG_OID(0);
  const std::string column = NameStr(*PG_GETARG_NAME(1));
  const api::JobOptions options = api::read_job_options(fcinfo, 2);
  const api::TargetTable table = api::check_owned_table(relid, true);
  const char *col = column.c_str();
  const char *name = table.qualified_name.c_str();
  const AttrNumber attnum = pg::call([&] { return checked_column_c(relid, col, name); });
  core::SetNotNullFacts facts;
  facts.has_valid_not_null_check =
      pg::call([&] { return pg::not_null_proven(relid, attnum); });
  {
    api::CatalogAccess catalog;
    check_no_active_column_job(table, attnum, column);
  }
  api::NewJob job{core::Operation::set_not_null, relid, table.qualified_name, column};
  job.column = column;
  job.column_attnum = attnum;
  job.plan = core::plan_set_not_null(facts);
  job.options = options;
  return Int64GetDatum(api::insert_job(job));
}
