// Checks that add_column runs in the caller's session before it stores a
// job: each raises a clear error with a proper SQLSTATE and changes nothing.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>

namespace colmig::api {

struct TargetTable {
  Oid relid;
  std::string qualified_name; // quoted, schema-qualified
};

struct ColumnType {
  Oid type_oid;
  int type_mod;
  std::string sql_name; // format_type() output, schema-qualified where needed
};

enum class ExprKind { default_value, backfill };

// A plain, permanent table the current user owns.
TargetTable check_table(Oid relid);
void check_column_absent(const TargetTable &table, const std::string &column);
ColumnType resolve_type(const std::string &column, const std::string &type_text);
// Parses `expr` as exactly one SQL expression over the table's columns
// (no columns for a default), assignable to the column's type. Returns
// whether it is volatile.
bool check_expression(const TargetTable &table, const ColumnType &type,
                      const std::string &expr, ExprKind kind);

} // namespace colmig::api
