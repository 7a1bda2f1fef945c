#include "core/helper_names.hpp"

#include "runner/statements.hpp"

#include "pg/relation.hpp"
#include "pg/spi.hpp"

namespace colmig::runner {

Statements::Statements(const catalog::Job &job, std::string table, std::string column)
    : job_(job), table_(std::move(table)), column_(std::move(column)),
      check_(pg::quote_ident(core::not_null_check_name(job.id))) {}

std::string Statements::default_sql() const {
  return "(" + pg::deparse_expression(*job_.default_node) + ")";
}

std::string Statements::add_column_fast() const {
  std::string sql =
      "ALTER TABLE " + table_ + " ADD COLUMN " + column_ + " " + job_.column_type;
  if (job_.default_node)
    sql += " DEFAULT " + default_sql();
  if (job_.not_null)
    sql += " NOT NULL";
  return sql;
}

std::string Statements::add_column_bare() const {
  return "ALTER TABLE " + table_ + " ADD COLUMN " + column_ + " " + job_.column_type;
}

std::string Statements::set_default() const {
  return "ALTER TABLE " + table_ + " ALTER COLUMN " + column_ + " SET DEFAULT " +
         default_sql();
}

std::string Statements::add_not_null_check() const {
  // colmig.check_of_job() is always true: PostgreSQL still proves NOT NULL
  // from the check, and the check depends on colmig and names its job.
  return "ALTER TABLE " + table_ + " ADD CONSTRAINT " + check_ + " CHECK (" + column_ +
         " IS NOT NULL AND colmig.check_of_job(" + std::to_string(job_.id) +
         ")) NOT VALID";
}

std::string Statements::validate_not_null_check() const {
  return "ALTER TABLE " + table_ + " VALIDATE CONSTRAINT " + check_;
}

std::string Statements::set_not_null() const {
  return "ALTER TABLE " + table_ + " ALTER COLUMN " + column_ + " SET NOT NULL";
}

} // namespace colmig::runner
