// The SQL text of every step. Identifiers are quoted here; the only user
// text spliced in is a default or backfill expression, which add_column()
// proved to parse as exactly one expression inside parentheses, and which
// always stands inside parentheses here too (the fill triggers get it as a
// quoted literal).
#pragma once
#include "catalog/job.hpp"

#include <string>

namespace colmig::runner {

class Statements {
public:
  explicit Statements(const catalog::Job &job);

  std::string add_column_fast() const;
  std::string add_column_bare() const;
  std::string set_default() const;
  std::string create_fill_triggers() const;
  std::string drop_fill_triggers() const;
  // $1, $2: first and end page of the batch, as text. With `skip_locked`
  // rows an application has locked are left for later instead of waited
  // for (the sweep takes them, waiting at most colmig.lock_timeout).
  std::string backfill_batch(bool skip_locked) const;
  std::string add_not_null_check() const;
  std::string validate_not_null_check() const;
  std::string set_not_null() const;
  std::string drop_not_null_check() const;

  const std::string &table() const { return table_; }

private:
  const catalog::Job &job_;
  std::string table_; // schema-qualified, quoted
  std::string alias_; // the table's own name, so expressions may qualify columns
  std::string column_;
  std::string insert_trigger_;
  std::string update_trigger_;
  std::string check_;
  std::string fill_expr() const;
};

} // namespace colmig::runner
