// A job's plan: the ordered steps the runner executes, derived by a
// planner (core/operations.hpp) from the operation and facts read from the
// catalog. It decides *what* happens and which lock each step takes; the
// SQL for a step is rendered at the PostgreSQL boundary, where identifiers
// can be quoted. A plan is stored with its job as the names of its steps.
#pragma once
#include "core/cpp_only.hpp"
#include "core/lock_mode.hpp"

#include <boost/container/static_vector.hpp>
#include <optional>
#include <string_view>

namespace colmig::core {

enum class StepKind {
  add_column,              // ADD COLUMN [DEFAULT d] [NOT NULL], catalog only
  add_column_for_backfill, // ADD COLUMN bare, SET DEFAULT, fill triggers
  backfill,                // batches over ctid page ranges
  sweep,                   // second pass over every row, with the proof's baseline
  verify,                  // the proof holds: no rewrite, the fill trigger intact
  add_not_null_check,      // CHECK (col IS NOT NULL) NOT VALID
  validate_not_null_check, // VALIDATE CONSTRAINT
  set_not_null,            // SET NOT NULL (no scan thanks to the check), drop check
  drop_fill_trigger,       // the job's fill trigger, once the proof still holds
  add_check,               // ADD CONSTRAINT ... CHECK (...) NOT VALID
  add_foreign_key,         // ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, both tables
  validate_constraints,    // VALIDATE CONSTRAINT, one transaction per constraint
  build_index,             // CREATE INDEX CONCURRENTLY under the job's helper name
  attach_index,            // ALTER INDEX helper RENAME TO the name asked for
  drop_index,              // DROP INDEX CONCURRENTLY
  // A distributed table (docs/citus.md). On the coordinator:
  fill_shards,    // a fill_shard job per placement, on its node, until all are filled
  release_shards, // the shard jobs drop their fill triggers; every placement proven
  // In a fill_shard job, on the node holding the placement:
  attach_fill_trigger, // the fill trigger on a column the coordinator added
  await_release,       // filled and proven; the trigger stays until NOT NULL is set
};

inline constexpr std::size_t kStepKinds = 19;

struct Step {
  StepKind kind;
  LockMode lock;
  bool rewrites_table; // never true for a step colmig plans; asserted in tests
  bool batched;        // runs as many short transactions with a cursor
  // Runs outside any transaction block (CREATE/DROP INDEX CONCURRENTLY
  // commit several transactions of their own).
  bool outside_transaction;
  // Also locks the table a foreign key references, in `lock` too.
  bool locks_referenced_table;
};

inline constexpr std::size_t kMaxPlanSteps = 9;
using Plan = boost::container::static_vector<Step, kMaxPlanSteps>;

// The step of that kind with its lock and shape.
Step step(StepKind kind);

// The step after `current` in `plan`, or nothing when `current` is the last.
std::optional<StepKind> next_step(const Plan &plan, StepKind current);

const char *to_string(StepKind kind);
std::optional<StepKind> parse_step_kind(std::string_view text);

// A stored plan back from the names of its steps: nothing when a name is
// unknown, the list is empty or too long.
template <typename Names> std::optional<Plan> parse_plan(const Names &names) {
  Plan plan;
  if (names.empty() || names.size() > kMaxPlanSteps)
    return std::nullopt;
  for (const auto &name : names) {
    auto kind = parse_step_kind(name);
    if (!kind)
      return std::nullopt;
    plan.push_back(step(*kind));
  }
  return plan;
}

// The phase name stored once every step has run.
inline constexpr std::string_view kDonePhase = "done";

} // namespace colmig::core
