// colmig.create_index(tbl, index_name, columns, ...): CREATE [UNIQUE]
// INDEX CONCURRENTLY, run by the worker outside a transaction block.
// Everything is analysed here, in the caller's session; the job stores
// the analysed keys and predicate and the worker renders them by OID.
#include "core/operations.hpp"

#include "api/catalog_access.hpp"
#include "api/new_job.hpp"
#include "api/validate.hpp"
#include "catalog/job.hpp"
#include "pg/index_keys.hpp"
#include "pg/json.hpp"
#include "pg/row_expression.hpp"
#include "pg/spi.hpp"

#include <boost/container/static_vector.hpp>

#include <cctype>

extern "C" {
#include "access/amapi.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "optimizer/optimizer.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace {

using namespace colmig;

template <typename T>
using Keys = boost::container::static_vector<T, catalog::kMaxKeyColumns>;

struct Analysis {
  Keys<std::int64_t> attnums, collations, opclasses, options;
  Keys<std::optional<std::string>> exprs;
  Keys<std::int64_t> include;
  std::optional<std::string> predicate;
  List *expressions = NIL; // for the job's dependencies
};

// Plain C: inside pg::call.
Oid index_method_c(const char *method, bool unique, bool has_include) {
  Oid am = get_index_am_oid(method, false);
  IndexAmRoutine *routine = GetIndexAmRoutineByAmId(am, false);
  if (unique && !routine->amcanunique)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("access method \"%s\" does not support unique indexes", method)));
  if (has_include && !routine->amcaninclude)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("access method \"%s\" does not support included columns", method)));
  return am;
}

void check_name_free_c(Oid relid, const char *name, Oid owner) {
  Oid schema = get_rel_namespace(relid);
  // CREATE INDEX runs as the table's owner, who needs CREATE there.
  if (pg_namespace_aclcheck(schema, owner, ACL_CREATE) != ACLCHECK_OK)
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
             errmsg("permission denied for schema %s", get_namespace_name(schema)),
             errdetail("The table's owner needs CREATE on it to create an index.")));
  if (OidIsValid(get_relname_relid(name, schema)))
    ereport(ERROR, (errcode(ERRCODE_DUPLICATE_TABLE),
                    errmsg("relation \"%s\" already exists", name)));
}

Node *analyse_predicate_c(Oid relid, const char *predicate) {
  Relation rel = table_open(relid, AccessShareLock);
  Node *cooked =
      pg::analyze_condition(rel, predicate, EXPR_KIND_INDEX_PREDICATE, "predicate");
  table_close(rel, NoLock);
  if (contain_mutable_functions(cooked))
    ereport(ERROR, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                    errmsg("functions in index predicate must be marked IMMUTABLE")));
  return cooked;
}

pg::IndexKeys analyse_keys_c(Oid relid, Oid am, const char *columns) {
  Relation rel = table_open(relid, AccessShareLock);
  pg::IndexKeys keys = pg::analyse_index_keys(rel, am, columns);
  table_close(rel, NoLock);
  return keys;
}

AttrNumber include_column_c(Oid relid, const char *column) {
  AttrNumber attnum = get_attnum(relid, column);
  if (attnum == InvalidAttrNumber)
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                    errmsg("column \"%s\" does not exist", column)));
  if (attnum < 0)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("index creation on system columns is not supported")));
  return attnum;
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_create_index) {
  api::require_argument(fcinfo, 0, "tbl");
  const Oid relid = PG_GETARG_OID(0);
  const std::string name = api::name_argument(fcinfo, 1, "index_name");
  api::require_argument(fcinfo, 2, "columns");
  const std::string columns = api::text_argument(fcinfo, 2);
  api::require_argument(fcinfo, 3, "is_unique");
  const bool unique = PG_GETARG_BOOL(3);
  api::require_argument(fcinfo, 4, "method");
  const std::string method = api::text_argument(fcinfo, 4);
  const std::optional<std::string> predicate = api::optional_text_argument(fcinfo, 5);
  const api::ColumnNames include = api::column_names_argument(fcinfo, 6, "include");
  const api::JobOptions options = api::read_job_options(fcinfo, 7);
  const api::TargetTable table = api::check_owned_table(relid, false);

  if (name.rfind("colmig_", 0) == 0 && name.size() > 13 &&
      name.compare(name.size() - 6, 6, "_index") == 0)
    pg::raise("42939", "index name \"" + name + "\" is reserved for colmig's own builds",
              {}, "Choose another name.");
  const char *index_name = name.c_str();
  const Oid owner = api::table_owner(relid);
  pg::call([&] { check_name_free_c(relid, index_name, owner); });
  // An unquoted identifier, as CREATE INDEX ... USING reads it.
  std::string method_name;
  for (char c : method)
    method_name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const char *am_name = method_name.c_str();
  const Oid am =
      pg::call([&] { return index_method_c(am_name, unique, !include.empty()); });
  Analysis analysis;
  const char *keys_text = columns.c_str();
  const pg::IndexKeys keys =
      pg::call([&] { return analyse_keys_c(relid, am, keys_text); });
  for (int i = 0; i < keys.count; ++i) {
    const pg::IndexKey &key = keys.keys[i];
    analysis.attnums.push_back(key.attnum);
    analysis.exprs.push_back(key.expr_node != nullptr
                                 ? std::optional<std::string>(key.expr_node)
                                 : std::nullopt);
    analysis.collations.push_back(key.collation);
    analysis.opclasses.push_back(key.opclass);
    analysis.options.push_back(key.options);
    if (key.expr != nullptr)
      analysis.expressions =
          pg::call([&] { return lappend(analysis.expressions, key.expr); });
  }
  for (const std::string &column : include) {
    const char *col = column.c_str();
    analysis.include.push_back(pg::call([&] { return include_column_c(relid, col); }));
  }
  if (predicate) {
    const char *text = predicate->c_str();
    Node *cooked = pg::call([&] { return analyse_predicate_c(relid, text); });
    analysis.predicate = std::string(pg::call([&] { return nodeToString(cooked); }));
    analysis.expressions =
        pg::call([&] { return lappend(analysis.expressions, cooked); });
  }
  {
    api::CatalogAccess catalog;
    pg::execute(
        "SELECT job_id FROM colmig.jobs j JOIN pg_catalog.pg_class c ON c.oid = j.relid "
        "WHERE j.operation = 'create_index' AND j.target = $1 "
        "AND c.relnamespace = (SELECT relnamespace FROM pg_catalog.pg_class "
        "WHERE oid = $2) AND j.state IN ('queued', 'running', 'paused') LIMIT 1",
        {pg::text_param(name), pg::oid_param(relid)});
    if (pg::result_rows() > 0)
      pg::raise("42P07", "relation \"" + name + "\" is being created by colmig job " +
                             std::to_string(*pg::get_int64(0, 0)));
  }

  pg::JsonObject args;
  args.add("index_name", name)
      .add("unique", unique)
      .add("method", static_cast<std::int64_t>(am))
      .add_json("key_attnums", pg::json_number_array(analysis.attnums))
      .add_json("key_exprs", pg::json_string_array(analysis.exprs))
      .add_json("key_collations", pg::json_number_array(analysis.collations))
      .add_json("key_opclasses", pg::json_number_array(analysis.opclasses))
      .add_json("key_options", pg::json_number_array(analysis.options))
      .add_json("include_attnums", pg::json_number_array(analysis.include));
  if (analysis.predicate)
    args.add("predicate_node", *analysis.predicate);
  api::NewJob job{core::Operation::create_index, relid, table.qualified_name, name};
  job.args = args.text();
  job.plan = core::plan_create_index();
  job.options = options;
  job.depends_on = reinterpret_cast<Node *>(analysis.expressions);
  return Int64GetDatum(api::insert_job(job));
}
