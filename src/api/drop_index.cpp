// colmig.drop_index(index): DROP INDEX CONCURRENTLY, run by the worker
// outside a transaction block; reads and writes of the table go on.
#include "core/operations.hpp"

#include "api/catalog_access.hpp"
#include "api/new_job.hpp"
#include "api/validate.hpp"
#include "pg/json.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace {

using namespace colmig;

struct IndexFacts {
  Oid table;
  char *name;
};

// Plain C: inside pg::call.
IndexFacts check_index_c(Oid index) {
  const char relkind = get_rel_relkind(index);
  char *name = get_rel_name(index);
  if (name == nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("index with OID %u does not exist", index)));
  if (relkind == RELKIND_PARTITIONED_INDEX)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("cannot drop partitioned index \"%s\" concurrently", name)));
  if (relkind != RELKIND_INDEX)
    ereport(ERROR,
            (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not an index", name)));
  if (IsCatalogRelationOid(index))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied: \"%s\" is a system catalog", name)));
  if (!pg_class_ownercheck(index, GetUserId()))
    aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_INDEX, name);
  return {IndexGetRelation(index, false), name};
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_drop_index) {
  api::require_argument(fcinfo, 0, "index");
  const Oid index = PG_GETARG_OID(0);
  const api::JobOptions options = api::read_job_options(fcinfo, 1);
  const IndexFacts facts = pg::call([&] { return check_index_c(index); });
  const api::TargetTable table = api::check_owned_table(facts.table, false);
  {
    pg::SpiConnection spi;
    // DROP INDEX without CASCADE refuses what a constraint needs.
    pg::execute(
        "SELECT conname::text, conrelid::regclass::text FROM pg_catalog.pg_constraint "
        "WHERE conindid = $1 ORDER BY oid LIMIT 1",
        {pg::oid_param(index)});
    if (pg::result_rows() > 0)
      pg::raise("2BP01",
                "cannot drop index " + std::string(facts.name) + " because constraint " +
                    *pg::get_text(0, 0) + " on table " + *pg::get_text(0, 1) +
                    " requires it",
                {}, "Drop the constraint instead.");
  }
  api::NewJob job{core::Operation::drop_index, table.relid, table.qualified_name,
                  facts.name};
  job.args = pg::JsonObject().add("index", static_cast<std::int64_t>(index)).text();
  job.plan = core::plan_drop_index();
  job.options = options;
  return Int64GetDatum(api::insert_job(job));
}
