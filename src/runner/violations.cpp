#include "runner/violations.hpp"

#include "pg/relation.hpp"
#include "pg/spi.hpp"
#include "pg/transaction.hpp"
#include "runner/as_job_owner.hpp"
#include "runner/job_table.hpp"

extern "C" {
#include "storage/lockdefs.h"
}

namespace colmig::runner {

namespace {

// The row's primary key as "id=5" or "(a, b)=(1, x)", else its ctid.
std::string row_label_sql(Oid relid) {
  pg::execute(R"sql(
SELECT count(*)::int8,
       string_agg(quote_ident(a.attname), ', ' ORDER BY k.n),
       string_agg('colmig_row.' || quote_ident(a.attname), ', ' ORDER BY k.n)
  FROM pg_catalog.pg_index i,
       unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = $1 AND a.attnum = k.attnum
 WHERE i.indrelid = $1 AND i.indisprimary)sql",
              {pg::oid_param(relid)});
  const std::int64_t columns = pg::get_int64(0, 0).value_or(0);
  if (columns == 0)
    return "'ctid=' || colmig_row.ctid::text";
  const std::string names = *pg::get_text(0, 1);
  const std::string values = *pg::get_text(0, 2);
  if (columns == 1)
    return pg::quote_literal(names + "=") + " || coalesce((" + values +
           ")::text, 'NULL')";
  return pg::quote_literal("(" + names + ")=") + " || ROW(" + values + ")::text";
}

} // namespace

std::string describe_violations(const catalog::Job &job,
                                const std::function<std::string()> &predicate) {
  std::string description;
  pg::in_transaction("colmig: counting violating rows", [&] {
    const std::string table = lock_job_table(job, AccessShareLock);
    const std::string label = row_label_sql(job.relid);
    AsJobOwner owner(job, SearchPath::pinned);
    // Rendered under the pinned path too: names are qualified for it.
    const std::string from = " FROM " + table + " AS colmig_row WHERE " + predicate();
    pg::execute("SELECT count(*)::int8 FROM (SELECT 1" + from + " LIMIT " +
                    std::to_string(kViolationsCounted + 1) + ") s",
                {}, true);
    const std::int64_t count = pg::get_int64(0, 0).value_or(0);
    pg::execute("SELECT string_agg(l, ', ') FROM (SELECT " + label + " AS l" + from +
                    " LIMIT 5) s",
                {}, true);
    const std::string examples = pg::get_text(0, 0).value_or("");
    description =
        (count > kViolationsCounted
             ? "more than " + std::to_string(kViolationsCounted) + " rows"
             : std::to_string(count) + (count == 1 ? " row" : " rows")) +
        (examples.empty() ? "" : " (" + examples + (count > 5 ? ", ..." : "") + ")");
  });
  return description;
}

std::string violation_predicate(const catalog::Job &job, Oid constraint) {
  pg::execute(R"sql(
SELECT c.contype::text, pg_catalog.pg_get_expr(c.conbin, c.conrelid), c.confmatchtype::text,
       c.confrelid::regclass::text,
       (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY k.n)
          FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
       (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY k.n)
          FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)
  FROM pg_catalog.pg_constraint c WHERE c.oid = $1 AND c.conrelid = $2)sql",
              {pg::oid_param(constraint), pg::oid_param(job.relid)});
  if (pg::result_rows() == 0)
    return "false";
  const std::string type = *pg::get_text(0, 0);
  if (type == "c")
    return "NOT (" + *pg::get_text(0, 1) + ")";
  // A foreign key: every referencing column set (MATCH SIMPLE), or any
  // of them set (MATCH FULL, where a partly NULL key is itself a
  // violation), and no referenced row with those values.
  const bool full = *pg::get_text(0, 2) == "f";
  const std::string referenced = *pg::get_text(0, 3);
  std::string columns = *pg::get_text(0, 4) + ",";
  std::string ref_columns = *pg::get_text(0, 5) + ",";
  std::string all_set, all_null, any_null, matches;
  for (std::size_t at = 0, ref_at = 0; at < columns.size();) {
    const std::size_t end = columns.find(',', at);
    const std::size_t ref_end = ref_columns.find(',', ref_at);
    const std::string column = "colmig_row." + columns.substr(at, end - at);
    const std::string ref = "colmig_ref." + ref_columns.substr(ref_at, ref_end - ref_at);
    const std::string glue = all_set.empty() ? "" : " AND ";
    all_set += glue + column + " IS NOT NULL";
    all_null += glue + column + " IS NULL";
    any_null += (any_null.empty() ? "" : " OR ") + column + " IS NULL";
    matches += glue + ref + " = " + column;
    at = end + 1;
    ref_at = ref_end + 1;
  }
  const std::string missing =
      "NOT EXISTS (SELECT 1 FROM " + referenced + " AS colmig_ref WHERE " + matches + ")";
  if (full)
    return "(" + all_set + " AND " + missing + ") OR ((" + any_null + ") AND NOT (" +
           all_null + "))";
  return all_set + " AND " + missing;
}

} // namespace colmig::runner
