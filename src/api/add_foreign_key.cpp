// colmig.add_foreign_key(tbl, cols, reftbl, refcols, ...): FOREIGN KEY ...
// NOT VALID under SHARE ROW EXCLUSIVE on both tables for a moment, each
// lock under lock_timeout with retries, then VALIDATE in a transaction of
// its own (SHARE UPDATE EXCLUSIVE here, ROW SHARE on the referenced table).
#include "core/operations.hpp"

#include "api/catalog_access.hpp"
#include "api/new_job.hpp"
#include "api/validate.hpp"
#include "catalog/job.hpp"
#include "pg/json.hpp"
#include "pg/spi.hpp"

#include <boost/container/static_vector.hpp>

#include <algorithm>
#include <cctype>

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "access/stratnum.h"
#include "catalog/pg_opclass.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace {

using namespace colmig;

using Attnums = boost::container::static_vector<std::int64_t, catalog::kMaxKeyColumns>;

api::ColumnNames key_columns(FunctionCallInfo fcinfo, int index, const char *argument) {
  api::require_argument(fcinfo, index, argument);
  api::ColumnNames names = api::column_names_argument(fcinfo, index, argument);
  if (names.empty())
    pg::raise("22023", std::string(argument) + " must name at least one column");
  return names;
}

// "NO ACTION", "restrict", "set  null" ... as the keywords, or 22023.
std::string referential_action(FunctionCallInfo fcinfo, int index, const char *argument) {
  api::require_argument(fcinfo, index, argument);
  std::string given = api::text_argument(fcinfo, index), words;
  for (char c : given) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!words.empty() && words.back() != ' ')
        words += ' ';
    } else {
      words += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  if (!words.empty() && words.back() == ' ')
    words.pop_back();
  for (const char *known :
       {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"})
    if (words == known)
      return words;
  pg::raise("22023", "invalid " + std::string(argument) + " action: \"" + given + "\"",
            {}, "Use NO ACTION, RESTRICT, CASCADE, SET NULL or SET DEFAULT.");
}

// Plain C from here on: runs inside pg::call.

AttrNumber user_column_c(Oid relid, const char *column) {
  AttrNumber attnum = get_attnum(relid, column);
  if (attnum == InvalidAttrNumber)
    ereport(ERROR,
            (errcode(ERRCODE_UNDEFINED_COLUMN),
             errmsg("column \"%s\" referenced in foreign key constraint does not exist",
                    column)));
  if (attnum < 0)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("system columns cannot be used in foreign keys")));
  return attnum;
}

// REFERENCES on the table, or on each referenced column.
bool may_reference_c(Oid refrelid, Oid role, const AttrNumber *columns, int count) {
  if (pg_class_aclcheck(refrelid, role, ACL_REFERENCES) == ACLCHECK_OK)
    return true;
  for (int i = 0; i < count; ++i)
    if (pg_attribute_aclcheck(refrelid, columns[i], role, ACL_REFERENCES) != ACLCHECK_OK)
      return false;
  return true;
}

void check_referenced_table_c(Oid refrelid, Oid owner, Oid caller, char persistence,
                              const AttrNumber *columns, int count) {
  const char relkind = get_rel_relkind(refrelid);
  char *name = get_rel_name(refrelid);
  if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("referenced relation \"%s\" is not a table", name)));
  // As PostgreSQL allows: a permanent table references permanent tables
  // only, an unlogged one permanent or unlogged ones (temporary tables are
  // refused before).
  const char ref_persistence = get_rel_persistence(refrelid);
  if (persistence == RELPERSISTENCE_PERMANENT &&
      ref_persistence != RELPERSISTENCE_PERMANENT)
    ereport(ERROR, (errcode(ERRCODE_INVALID_TABLE_DEFINITION),
                    errmsg("constraints on permanent tables may reference only permanent "
                           "tables")));
  if (persistence == RELPERSISTENCE_UNLOGGED && ref_persistence == RELPERSISTENCE_TEMP)
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_TABLE_DEFINITION),
             errmsg("constraints on unlogged tables may reference only permanent or "
                    "unlogged tables")));
  // The caller asks for it, and the table's owner runs it.
  for (Oid role : {caller, owner})
    if (!may_reference_c(refrelid, role, columns, count))
      ereport(ERROR,
              (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
               errmsg("permission denied for table %s", name),
               errdetail(role == caller ? "You need the REFERENCES privilege on it."
                                        : "The table's owner needs the REFERENCES "
                                          "privilege on it.")));
}

// The opclass input types of a unique index of `refrelid` whose keys are
// exactly `refcols` (in any order, as PostgreSQL accepts), in the order
// of `refcols`; 42830 when there is none.
void matching_unique_index_c(Oid refrelid, const AttrNumber *refcols, int count,
                             Oid *input_types, Oid *families) {
  Relation rel = table_open(refrelid, AccessShareLock);
  List *indexes = RelationGetIndexList(rel);
  bool found = false;
  ListCell *cell;
  foreach (cell, indexes) {
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(cell)));
    Form_pg_index index = (Form_pg_index)GETSTRUCT(tuple);
    bool usable = index->indisunique && index->indimmediate && index->indisvalid &&
                  index->indnkeyatts == count &&
                  heap_attisnull(tuple, Anum_pg_index_indpred, nullptr) &&
                  heap_attisnull(tuple, Anum_pg_index_indexprs, nullptr);
    for (int i = 0; usable && i < count; ++i) {
      int at = -1;
      for (int k = 0; k < count; ++k)
        if (index->indkey.values[k] == refcols[i])
          at = k;
      if (at < 0) {
        usable = false;
        break;
      }
      bool isnull = false;
      Datum classes = SysCacheGetAttr(INDEXRELID, tuple, Anum_pg_index_indclass, &isnull);
      oidvector *opclasses = (oidvector *)DatumGetPointer(classes);
      input_types[i] = get_opclass_input_type(opclasses->values[at]);
      families[i] = get_opclass_family(opclasses->values[at]);
    }
    ReleaseSysCache(tuple);
    if (usable) {
      found = true;
      break;
    }
  }
  table_close(rel, NoLock);
  if (!found)
    ereport(ERROR, (errcode(ERRCODE_INVALID_FOREIGN_KEY),
                    errmsg("there is no unique constraint matching given keys for "
                           "referenced table \"%s\"",
                           get_rel_name(refrelid))));
}

// As ALTER TABLE decides: an equality operator of the key's operator
// family between the two types (int8 = int4), or an implicit coercion of
// the referencing type to the key's.
void check_types_c(Oid relid, AttrNumber attnum, Oid refrelid, AttrNumber refattnum,
                   Oid input_type, Oid family) {
  Oid type = get_atttype(relid, attnum);
  const bool cross_type_equality =
      OidIsValid(get_opfamily_member(family, input_type, type, BTEqualStrategyNumber));
  if (!cross_type_equality && !can_coerce_type(1, &type, &input_type, COERCION_IMPLICIT))
    ereport(
        ERROR,
        (errcode(ERRCODE_DATATYPE_MISMATCH),
         errmsg("foreign key constraint cannot be implemented"),
         errdetail("Key columns \"%s\" and \"%s\" are of incompatible types: %s and %s.",
                   get_attname(relid, attnum, false),
                   get_attname(refrelid, refattnum, false), format_type_be(type),
                   format_type_be(get_atttype(refrelid, refattnum)))));
}

char *default_name_c(Oid relid, const char *columns) {
  return ChooseConstraintName(get_rel_name(relid), columns, "fkey",
                              get_rel_namespace(relid), NIL);
}

} // namespace

COLMIG_SQL_FUNCTION(colmig_add_foreign_key) {
  api::require_argument(fcinfo, 0, "tbl");
  api::require_argument(fcinfo, 2, "reftbl");
  const Oid relid = PG_GETARG_OID(0);
  const Oid refrelid = PG_GETARG_OID(2);
  const api::ColumnNames cols = key_columns(fcinfo, 1, "cols");
  const api::ColumnNames refcols = key_columns(fcinfo, 3, "refcols");
  std::optional<std::string> name;
  if (!PG_ARGISNULL(4))
    name = api::name_argument(fcinfo, 4, "conname");
  const std::string on_delete = referential_action(fcinfo, 5, "ON DELETE");
  const std::string on_update = referential_action(fcinfo, 6, "ON UPDATE");
  const api::JobOptions options = api::read_job_options(fcinfo, 7);
  const api::TargetTable table = api::check_owned_table(relid, false);
  if (cols.size() != refcols.size())
    pg::raise("42830",
              "number of referencing and referenced columns for foreign key disagree");
  const Oid owner = api::table_owner(relid);
  const Oid caller = pg::call([] { return GetUserId(); });
  const char persistence = pg::call([&] { return get_rel_persistence(relid); });

  Attnums attnums, ref_attnums;
  boost::container::static_vector<AttrNumber, catalog::kMaxKeyColumns> ref_keys;
  std::string joined;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const char *col = cols[i].c_str();
    const char *refcol = refcols[i].c_str();
    attnums.push_back(pg::call([&] { return user_column_c(relid, col); }));
    ref_keys.push_back(pg::call([&] { return user_column_c(refrelid, refcol); }));
    ref_attnums.push_back(ref_keys.back());
    joined += (joined.empty() ? "" : "_") + cols[i];
  }
  pg::call([&] {
    check_referenced_table_c(refrelid, owner, caller, persistence, ref_keys.data(),
                             static_cast<int>(ref_keys.size()));
  });
  for (std::size_t i = 0; i < cols.size(); ++i)
    for (std::size_t k = 0; k < i; ++k) {
      if (attnums[k] == attnums[i])
        pg::raise("42830",
                  "foreign key referencing-columns list must not contain duplicates");
      if (ref_keys[k] == ref_keys[i])
        pg::raise("42830",
                  "foreign key referenced-columns list must not contain duplicates");
    }
  boost::container::static_vector<Oid, catalog::kMaxKeyColumns> input_types(cols.size());
  boost::container::static_vector<Oid, catalog::kMaxKeyColumns> families(cols.size());
  pg::call([&] {
    matching_unique_index_c(refrelid, ref_keys.data(), static_cast<int>(ref_keys.size()),
                            input_types.data(), families.data());
  });
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const auto attnum = static_cast<AttrNumber>(attnums[i]);
    pg::call([&] {
      check_types_c(relid, attnum, refrelid, ref_keys[i], input_types[i], families[i]);
    });
  }
  if (!name) {
    const char *columns = joined.c_str();
    name = std::string(pg::call([&] { return default_name_c(relid, columns); }));
  }
  api::check_constraint_name_free(table, *name);

  api::NewJob job{core::Operation::add_foreign_key, relid, table.qualified_name, *name};
  job.args = pg::JsonObject()
                 .add("constraint", *name)
                 .add_json("columns", pg::json_number_array(attnums))
                 .add("ref_relid", static_cast<std::int64_t>(refrelid))
                 .add_json("ref_columns", pg::json_number_array(ref_attnums))
                 .add("on_delete", on_delete)
                 .add("on_update", on_update)
                 .text();
  job.plan = core::plan_add_foreign_key();
  job.options = options;
  return Int64GetDatum(api::insert_job(job));
}
