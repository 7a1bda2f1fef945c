// colmig.add_check(tbl, conname, expr): CHECK (expr) NOT VALID for a
// moment of ACCESS EXCLUSIVE, then VALIDATE in a transaction of its own.
// The expression is analysed here, in the caller's session, and stored in
// analysed form; the worker deparses what was analysed.
#include "core/operations.hpp"

#include "api/catalog_access.hpp"
#include "api/new_job.hpp"
#include "api/validate.hpp"
#include "pg/json.hpp"
#include "pg/row_expression.hpp"

extern "C" {
#include "access/table.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
}

namespace {

using namespace colmig;

struct AnalysedCheck {
  char *node;
  Node *tree;
};

AnalysedCheck analyse_check_c(Oid relid, const char *expr) {
  Relation rel = table_open(relid, AccessShareLock);
  Node *check = pg::analyze_condition(rel, expr, EXPR_KIND_CHECK_CONSTRAINT, "expr");
  table_close(rel, NoLock);
  return {nodeToString(check), check};
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_add_check) {
  api::require_argument(fcinfo, 0, "tbl");
  const Oid relid = PG_GETARG_OID(0);
  const std::string name = api::name_argument(fcinfo, 1, "conname");
  api::require_argument(fcinfo, 2, "expr");
  const std::string expr = api::text_argument(fcinfo, 2);
  const api::JobOptions options = api::read_job_options(fcinfo, 3);
  const api::TargetTable table = api::check_owned_table(relid, true);
  api::check_constraint_name_free(table, name);
  const char *text = expr.c_str();
  const AnalysedCheck check = pg::call([&] { return analyse_check_c(relid, text); });

  api::NewJob job{core::Operation::add_check, relid, table.qualified_name, name};
  job.args = pg::JsonObject()
                 .add("constraint", name)
                 .add("expr_node", std::string(check.node))
                 .text();
  job.plan = core::plan_add_check();
  job.options = options;
  job.depends_on = check.tree;
  return Int64GetDatum(api::insert_job(job));
}
