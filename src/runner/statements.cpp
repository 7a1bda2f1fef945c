#include "runner/statements.hpp"

#include "pg/spi.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace colmig::runner {

Statements::Statements(const catalog::Job &job)
    : job_(job), table_(job.relation), alias_(job.relation),
      column_(pg::quote_ident(job.column)),
      insert_trigger_(
          pg::quote_ident("colmig_fill_" + std::to_string(job.id) + "_insert")),
      update_trigger_(
          pg::quote_ident("colmig_fill_" + std::to_string(job.id) + "_update")),
      check_(pg::quote_ident("colmig_" + std::to_string(job.id) + "_not_null")) {
  // Follow renames through the oid; the stored name only serves once the
  // table is gone (cleanup then skips the table's statements).
  struct Names {
    const char *qualified;
    const char *alias;
  };
  Names names = pg::call([&]() -> Names {
    char *rel = get_rel_name(job.relid);
    if (rel == nullptr)
      return {nullptr, nullptr};
    return {
        quote_qualified_identifier(get_namespace_name(get_rel_namespace(job.relid)), rel),
        quote_identifier(rel)};
  });
  if (names.qualified != nullptr) {
    table_ = names.qualified;
    alias_ = names.alias;
  }
}

std::string Statements::fill_expr() const {
  return "(" + (job_.backfill_expr ? *job_.backfill_expr : *job_.default_expr) + ")";
}

std::string Statements::add_column_fast() const {
  std::string sql =
      "ALTER TABLE " + table_ + " ADD COLUMN " + column_ + " " + job_.column_type;
  if (job_.default_expr)
    sql += " DEFAULT (" + *job_.default_expr + ")";
  if (job_.not_null)
    sql += " NOT NULL";
  return sql;
}

std::string Statements::add_column_bare() const {
  return "ALTER TABLE " + table_ + " ADD COLUMN " + column_ + " " + job_.column_type;
}

std::string Statements::set_default() const {
  return "ALTER TABLE " + table_ + " ALTER COLUMN " + column_ + " SET DEFAULT (" +
         *job_.default_expr + ")";
}

std::string Statements::create_fill_triggers() const {
  // colmig.fill_column evaluates the expression over the new row, parsed
  // with the job's search_path (src/api/fill_trigger.cpp). An UPDATE fills
  // only rows the backfill has not reached yet: an explicit NULL written
  // over a filled value stays NULL.
  const std::string &expr = job_.backfill_expr ? *job_.backfill_expr : *job_.default_expr;
  const std::string function = "colmig.fill_column(" + pg::quote_literal(job_.column) +
                               ", " + pg::quote_literal(expr) + ", " +
                               pg::quote_literal(job_.search_path) + ")";
  return "CREATE TRIGGER " + insert_trigger_ + " BEFORE INSERT ON " + table_ +
         " FOR EACH ROW WHEN (NEW." + column_ + " IS NULL) EXECUTE FUNCTION " + function +
         ";\nCREATE TRIGGER " + update_trigger_ + " BEFORE UPDATE ON " + table_ +
         " FOR EACH ROW WHEN (NEW." + column_ + " IS NULL AND OLD." + column_ +
         " IS NULL) EXECUTE FUNCTION " + function;
}

std::string Statements::drop_fill_triggers() const {
  return "DROP TRIGGER IF EXISTS " + insert_trigger_ + " ON " + table_ +
         ";\nDROP TRIGGER IF EXISTS " + update_trigger_ + " ON " + table_;
}

std::string Statements::backfill_batch(bool skip_locked) const {
  // The page range bounds both sides of the self-join, so each batch reads
  // only its own pages (TID range scans), whatever join the planner picks.
  const std::string range =
      "ctid >= $1::text::tid AND " + alias_ + ".ctid < $2::text::tid";
  // colmig.pace() in both halves: a throttled batch gives back the CPU
  // every millisecond or so, whichever half is doing the work
  // (pg/pacing.hpp).
  return "WITH src AS (SELECT " + alias_ + ".ctid AS row_id, " + fill_expr() +
         " AS value FROM ONLY " + table_ + " AS " + alias_ + " WHERE " + alias_ + "." +
         range + " AND " + alias_ + "." + column_ + " IS NULL AND colmig.pace()" +
         (skip_locked ? " FOR NO KEY UPDATE OF " + alias_ + " SKIP LOCKED" : "") +
         ") UPDATE ONLY " + table_ + " AS " + alias_ + " SET " + column_ +
         " = src.value FROM src WHERE " + alias_ +
         ".ctid = src.row_id AND src.value IS NOT NULL AND " + alias_ + "." + range +
         " AND colmig.pace()";
}

std::string Statements::add_not_null_check() const {
  return "ALTER TABLE " + table_ + " ADD CONSTRAINT " + check_ + " CHECK (" + column_ +
         " IS NOT NULL) NOT VALID";
}

std::string Statements::validate_not_null_check() const {
  return "ALTER TABLE " + table_ + " VALIDATE CONSTRAINT " + check_;
}

std::string Statements::set_not_null() const {
  return "ALTER TABLE " + table_ + " ALTER COLUMN " + column_ + " SET NOT NULL";
}

std::string Statements::drop_not_null_check() const {
  return "ALTER TABLE " + table_ + " DROP CONSTRAINT IF EXISTS " + check_;
}

} // namespace colmig::runner
