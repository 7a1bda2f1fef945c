#include "core/ddl_rules.hpp"

#include <array>

namespace colmig::core {

namespace {

using S = RuleScope;

constexpr std::array<RuleInfo, kDdlRules> kRules{{
    {DdlRule::volatile_default, "volatile_default", S::large_tables,
     "ADD COLUMN with a volatile DEFAULT (clock_timestamp(), random(), "
     "gen_random_uuid()) computes a value for every row: the table is rewritten "
     "under ACCESS EXCLUSIVE"},
    {DdlRule::rewriting_add_column, "rewriting_add_column", S::large_tables,
     "ADD COLUMN of a domain with constraints checks the default (or NULL) for "
     "every row: the table is rewritten under ACCESS EXCLUSIVE"},
    {DdlRule::generated_column, "generated_column", S::large_tables,
     "ADD COLUMN serial, identity or GENERATED ... STORED computes a value for every "
     "row: the table is rewritten under ACCESS EXCLUSIVE"},
    {DdlRule::set_not_null_scan, "set_not_null_scan", S::large_tables,
     "SET NOT NULL reads every row under ACCESS EXCLUSIVE unless a valid CHECK "
     "constraint already proves the column NOT NULL"},
    {DdlRule::validating_constraint, "validating_constraint", S::large_tables,
     "ADD CONSTRAINT CHECK or FOREIGN KEY without NOT VALID reads every row while "
     "holding its lock (ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE on both "
     "tables for a foreign key); ATTACH PARTITION reads the partition, and a new "
     "partition's default partition, the same way under ACCESS EXCLUSIVE"},
    {DdlRule::index_constraint, "index_constraint", S::large_tables,
     "ADD CONSTRAINT UNIQUE, PRIMARY KEY or EXCLUDE without USING INDEX builds its "
     "index under ACCESS EXCLUSIVE"},
    {DdlRule::validate_in_same_transaction, "validate_in_same_transaction",
     S::large_tables,
     "VALIDATE CONSTRAINT in the transaction that holds a stronger lock on the table "
     "(the one that added the constraint NOT VALID) reads every row under that lock"},
    {DdlRule::blocking_index_build, "blocking_index_build", S::large_tables,
     "CREATE INDEX without CONCURRENTLY holds SHARE on the table, blocking every "
     "write, for the whole build"},
    {DdlRule::blocking_index_drop, "blocking_index_drop", S::large_tables,
     "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table, and queues "
     "every query behind it while it waits"},
    {DdlRule::blocking_reindex, "blocking_reindex", S::large_tables,
     "REINDEX without CONCURRENTLY holds SHARE on the table (blocking writes) and "
     "ACCESS EXCLUSIVE on each index (blocking reads that use it) for the whole build"},
    {DdlRule::rewriting_type_change, "rewriting_type_change", S::large_tables,
     "ALTER COLUMN TYPE rewrites the table and rebuilds its indexes under ACCESS "
     "EXCLUSIVE unless the old values are binary-compatible with the new type "
     "(varchar(n) to a longer varchar or text, numeric to a higher precision at "
     "the same scale); even then an index on the column is rebuilt when its "
     "collation or operator class changes, and so is an expression or partial one"},
    {DdlRule::table_rewrite, "table_rewrite", S::large_tables,
     "VACUUM FULL, CLUSTER, SET TABLESPACE, SET LOGGED/UNLOGGED and REFRESH "
     "MATERIALIZED VIEW without CONCURRENTLY fill a new file under ACCESS EXCLUSIVE"},
    {DdlRule::breaks_clients, "breaks_clients", S::always_warn,
     "RENAME of a table or column, SET SCHEMA and DROP COLUMN are quick, but every "
     "client that still uses the old name fails at once"},
    {DdlRule::truncate_cascade, "truncate_cascade", S::always,
     "TRUNCATE ... CASCADE also empties every table whose foreign keys refer to "
     "the table, under ACCESS EXCLUSIVE on each"},
    {DdlRule::lock_queue, "lock_queue", S::always,
     "a lock request that waits queues every later query that needs a conflicting "
     "lock behind it: without lock_timeout, it waits as long as the holder's "
     "transaction lasts"},
    {DdlRule::fill_trigger_reliance, "fill_trigger_reliance", S::always,
     "inserts that leave the column out were filled by colmig's fill trigger "
     "recently: once the job drops it, those inserts fail on NOT NULL"},
}};

constexpr RuleInfo kNoRule{DdlRule::none, "none", S::large_tables, ""};

} // namespace

const RuleInfo &rule_info(DdlRule rule) {
  for (const auto &info : kRules)
    if (info.rule == rule)
      return info;
  return kNoRule;
}

std::optional<DdlRule> parse_rule(std::string_view name) {
  for (const auto &info : kRules)
    if (name == info.name)
      return info.rule;
  return std::nullopt;
}

const char *to_string(Verdict verdict) {
  switch (verdict) {
  case Verdict::safe:
    return "safe";
  case Verdict::warning:
    return "warning";
  case Verdict::unsafe:
    return "unsafe";
  }
  return "unknown";
}

double estimate_lock_seconds(const StatementFacts &statement, const TableFacts &table) {
  double seconds = 0;
  if (statement.rewrites)
    seconds += table.heap_bytes / kRewriteBytesPerSecond +
               table.indexes * table.rows * kIndexSecondsPerRow;
  else if (statement.scans)
    seconds += table.heap_bytes / kScanBytesPerSecond;
  if (statement.builds_index)
    seconds += table.heap_bytes / kScanBytesPerSecond + table.rows * kIndexSecondsPerRow;
  return seconds;
}

Judgement judge(const StatementFacts &statement, const TableFacts &table,
                double min_rows) {
  Judgement judgement{statement.rule, Verdict::safe, false, false,
                      estimate_lock_seconds(statement, table)};
  if (table.created_in_transaction)
    return judgement;
  if (statement.rule != DdlRule::none) {
    switch (rule_info(statement.rule).scope) {
    case RuleScope::large_tables:
      judgement.small_table = table.rows < min_rows;
      judgement.verdict = judgement.small_table ? Verdict::safe : Verdict::unsafe;
      break;
    case RuleScope::always_warn:
      judgement.verdict = Verdict::warning;
      break;
    case RuleScope::always:
      judgement.verdict = Verdict::unsafe;
      break;
    }
  }
  judgement.queues = statement.lock.has_value() && statement.conflicting_lock_now;
  if (judgement.queues && !statement.lock_timeout_set &&
      judgement.verdict != Verdict::unsafe) {
    judgement.rule = DdlRule::lock_queue;
    judgement.verdict = Verdict::unsafe;
    judgement.small_table = false;
  }
  return judgement;
}

} // namespace colmig::core
