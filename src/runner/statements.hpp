// The SQL text of the DDL steps. Identifiers come quoted from the catalog,
// read by OID under the step's lock (pg/relation.hpp); the only expression
// spliced in is a job's default, deparsed from what add_column analysed,
// schema-qualified for colmig's pinned search_path, which every statement
// of a job runs with.
#pragma once
#include "catalog/job.hpp"

#include <string>

namespace colmig::runner {

class Statements {
public:
  // `table`: the table's quoted, qualified name now; `column`: the
  // column's quoted name now.
  Statements(const catalog::Job &job, std::string table, std::string column);

  std::string add_column_fast() const;
  std::string add_column_bare() const;
  std::string set_default() const;
  std::string add_not_null_check() const;
  std::string validate_not_null_check() const;
  std::string set_not_null() const;

private:
  const catalog::Job &job_;
  std::string table_;
  std::string column_;
  std::string check_;
  std::string default_sql() const;
};

} // namespace colmig::runner
