// colmig.validate_constraint(tbl, conname DEFAULT NULL): VALIDATE
// CONSTRAINT of one NOT VALID check or foreign key, or of every one the
// table has, each in a transaction of its own under SHARE UPDATE EXCLUSIVE.
#include "core/operations.hpp"

#include "api/catalog_access.hpp"
#include "api/new_job.hpp"
#include "api/validate.hpp"
#include "catalog/job.hpp"
#include "pg/spi.hpp"

#include <boost/container/static_vector.hpp>

namespace {

using namespace colmig;

using Constraints = boost::container::static_vector<Oid, catalog::kMaxJobConstraints>;

// Whether a constraint row is one of colmig's own NOT NULL checks: by
// what it is (it calls colmig.check_of_job()), not by its name, which a
// user's check can have too.
constexpr const char *kColmigsOwn =
    "EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
    "WHERE d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass "
    "AND d.objid = pg_constraint.oid "
    "AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass "
    "AND d.refobjid = 'colmig.check_of_job(bigint)'::pg_catalog.regprocedure)";

// The constraint named `name`, checked: it exists, is a CHECK or a
// foreign key, is not valid yet and is not one of colmig's own.
Oid named_constraint(const api::TargetTable &table, const std::string &name) {
  pg::execute("SELECT oid::int8, contype::text, convalidated, " +
                  std::string(kColmigsOwn) +
                  " FROM pg_catalog.pg_constraint WHERE conrelid = $1 AND conname = $2",
              {pg::oid_param(table.relid), pg::text_param(name)});
  if (pg::result_rows() == 0)
    pg::raise("42704", "constraint \"" + name + "\" of relation " + table.qualified_name +
                           " does not exist");
  const std::string type = *pg::get_text(0, 1);
  if (type != "c" && type != "f")
    pg::raise("42809", "constraint \"" + name + "\" of relation " + table.qualified_name +
                           " is not a foreign key or check constraint");
  if (*pg::get_bool(0, 2))
    pg::raise("55000", "constraint \"" + name + "\" of relation " + table.qualified_name +
                           " is already valid");
  if (*pg::get_bool(0, 3))
    pg::raise("55000", "constraint \"" + name + "\" belongs to a colmig job", {},
              "colmig validates its own checks.");
  return static_cast<Oid>(*pg::get_int64(0, 0));
}

// Every NOT VALID check and foreign key of the table but colmig's own.
Constraints not_valid_constraints(const api::TargetTable &table, std::string &names) {
  pg::execute("SELECT oid::int8, conname::text, " + std::string(kColmigsOwn) +
                  " FROM pg_catalog.pg_constraint "
                  "WHERE conrelid = $1 AND contype IN ('c', 'f') AND NOT convalidated "
                  "ORDER BY conname",
              {pg::oid_param(table.relid)});
  Constraints constraints;
  for (std::uint64_t row = 0; row < pg::result_rows(); ++row) {
    const std::string name = *pg::get_text(row, 1);
    if (*pg::get_bool(row, 2))
      continue;
    if (constraints.size() == constraints.capacity())
      pg::raise("54000",
                "relation " + table.qualified_name + " has more than " +
                    std::to_string(constraints.capacity()) + " NOT VALID constraints",
                {}, "Validate them by name, a job each.");
    constraints.push_back(static_cast<Oid>(*pg::get_int64(row, 0)));
    names += (names.empty() ? "" : ", ") + name;
  }
  if (constraints.empty())
    pg::raise("55000",
              "relation " + table.qualified_name + " has no NOT VALID constraint");
  return constraints;
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_validate_constraint) {
  api::require_argument(fcinfo, 0, "tbl");
  const Oid relid = PG_GETARG_OID(0);
  std::optional<std::string> name;
  if (!PG_ARGISNULL(1))
    name = api::name_argument(fcinfo, 1, "conname");
  const api::JobOptions options = api::read_job_options(fcinfo, 2);
  const api::TargetTable table = api::check_owned_table(relid, true);
  Constraints constraints;
  std::string target;
  {
    pg::SpiConnection spi;
    if (name) {
      constraints.push_back(named_constraint(table, *name));
      target = *name;
    } else {
      constraints = not_valid_constraints(table, target);
    }
  }
  api::NewJob job{core::Operation::validate_constraint, relid, table.qualified_name,
                  target};
  job.constraint_oids = constraints.data();
  job.constraint_count = constraints.size();
  job.plan = core::plan_validate_constraint();
  job.options = options;
  return Int64GetDatum(api::insert_job(job));
}
