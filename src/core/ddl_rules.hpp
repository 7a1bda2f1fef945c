// The guard's rules (docs/guard.md): what a DDL statement does to a live
// table as PostgreSQL 15 carries it out, judged with what the database
// knows right now. The boundary (pg/ddl_statement.hpp) reads the statement
// and the table; this decides the verdict and estimates how long the lock
// would be held. colmig.plan() and the guard both ask here, so they never
// disagree.
#pragma once
#include "core/cpp_only.hpp"
#include "core/lock_mode.hpp"

#include <optional>
#include <string_view>

namespace colmig::core {

enum class DdlRule {
  none, // nothing dangerous in the statement's shape
  volatile_default,
  rewriting_add_column, // a domain with constraints
  generated_column,     // serial, identity, GENERATED ... STORED
  set_not_null_scan,
  validating_constraint, // CHECK or FOREIGN KEY without NOT VALID
  index_constraint,      // UNIQUE, PRIMARY KEY without USING INDEX, EXCLUDE
  validate_in_same_transaction,
  blocking_index_build,
  blocking_index_drop,
  blocking_reindex,
  rewriting_type_change,
  table_rewrite,  // VACUUM FULL, CLUSTER, SET TABLESPACE, SET LOGGED/UNLOGGED
  breaks_clients, // RENAME of a table or column, DROP COLUMN
  truncate_cascade,
  lock_queue, // no lock_timeout while another session holds a conflicting lock
  fill_trigger_reliance,
};

inline constexpr int kDdlRules = 16;

// How a rule's verdict depends on the table.
enum class RuleScope {
  large_tables, // unsafe at colmig.guard_min_rows rows or more, else safe
  always_warn,  // a warning whatever the size: it breaks clients, not locks
  always,       // unsafe whatever the size
};

struct RuleInfo {
  DdlRule rule;
  const char *name; // as in messages and docs/guard.md
  RuleScope scope;
  const char *reason; // the PostgreSQL fact behind it, one sentence
};

const RuleInfo &rule_info(DdlRule rule);
std::optional<DdlRule> parse_rule(std::string_view name);

enum class Verdict { safe, warning, unsafe };
const char *to_string(Verdict verdict);

// The table a statement acts on, as the catalog estimates it now.
struct TableFacts {
  double rows = 0;
  double heap_bytes = 0;
  int indexes = 0;
  // Created by the current transaction: no other session can see it, so
  // no lock of ours can block anybody.
  bool created_in_transaction = false;
};

// What the statement does, read from its parse tree and the catalog.
struct StatementFacts {
  DdlRule rule = DdlRule::none;
  std::optional<LockMode> lock; // none: the statement locks no existing table
  bool rewrites = false;        // every row copied into a new file, indexes rebuilt
  bool scans = false;           // every row read while the lock is held
  bool builds_index = false;    // one index built while the lock is held
  // Live facts of the lock request.
  bool lock_timeout_set = false;
  bool conflicting_lock_now = false; // another session holds or waits for one
};

struct Judgement {
  DdlRule rule; // the rule that decided: lock_queue when only the queue is wrong
  Verdict verdict;
  bool small_table;         // the shape's rule did not apply: fewer rows than the minimum
  bool queues;              // the lock request would wait behind another session
  double estimated_seconds; // how long the lock would be held once granted
};

Judgement judge(const StatementFacts &statement, const TableFacts &table,
                double min_rows);

// Rough figures from a 2-core VM with the table in cache (docs/guard.md):
// a guide to the order of magnitude, never a promise.
inline constexpr double kScanBytesPerSecond = 500e6;
inline constexpr double kRewriteBytesPerSecond = 40e6;
inline constexpr double kIndexSecondsPerRow = 1e-6;

double estimate_lock_seconds(const StatementFacts &statement, const TableFacts &table);

} // namespace colmig::core
