// Checks that add_column runs in the caller's session before it stores a
// job: each raises a clear error with a proper SQLSTATE and changes nothing.
// Whatever a job could only fail at later (in the worker) is refused here.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>

extern "C" {
#include "nodes/nodes.h"
}

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

// An expression as analysed in the caller's session: names bound to
// objects, coerced to the column's type. `node` is what the job stores and
// runs; `tree` is the same, in memory, for this call only.
struct AnalysedExpression {
  std::string node;
  Node *tree;
  bool is_volatile;
};

// A plain, permanent heap table the current user owns, that is not a
// partition, has no inheritance children, belongs to no extension and has
// room for one more column.
TargetTable check_table(Oid relid);
// The same checks of kind, ownership and belonging, without those of a
// backfill (TID range scans, room for a column); inheritance children
// only with `refuse_inheritance`. For the constraint and index jobs.
TargetTable check_owned_table(Oid relid, bool refuse_inheritance);
void check_column_absent(const TargetTable &table, const std::string &column);
// A type a column can have and that ADD COLUMN can add without rewriting
// the table (no domain with constraints, no volatile type default); with
// `for_backfill`, no type default at all (it would fill existing rows
// before the backfill could tell them from filled ones).
ColumnType resolve_type(const std::string &column, const std::string &type_text,
                        bool for_backfill);
// Parses `expr` as exactly one SQL expression over the table's columns
// (no columns for a default), assignable to the column's type.
AnalysedExpression analyse_expression(const TargetTable &table, const ColumnType &type,
                                      const std::string &expr, ExprKind kind);
// The fast path's default, evaluated now as ADD COLUMN will evaluate it
// once: an error it raises is raised here, and with `not_null` a NULL is
// refused (23502), since ADD COLUMN ... DEFAULT NULL NOT NULL scans the
// whole table under ACCESS EXCLUSIVE.
void check_fast_default(const AnalysedExpression &default_value,
                        const std::string &column, bool not_null);
// Batches UPDATE rows: a table that publishes updates needs a replica
// identity (55000, as PostgreSQL's own UPDATE would raise).
void check_rows_updatable(const TargetTable &table);
// The table's triggers let a backfill work: no BEFORE row trigger fires
// after colmig's fill trigger (PostgreSQL fires them in name order, and
// its changes to a row would come after the fill), and with
// `fire_triggers` none needs transition tables. 0A000 otherwise.
void check_triggers(const TargetTable &table, bool fire_triggers);

} // namespace colmig::api
