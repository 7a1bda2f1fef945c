// The migration planner: turns an add_column request into the ordered steps
// the runner executes. It decides *what* happens and which lock each step
// takes; the SQL for a step is rendered at the PostgreSQL boundary, where
// identifiers can be quoted.
#pragma once
#include "core/cpp_only.hpp"

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
};

enum class LockMode {
  access_share,
  row_exclusive,
  share_update_exclusive,
  access_exclusive
};

struct Step {
  StepKind kind;
  LockMode lock;
  bool rewrites_table; // never true for a step colmig plans; asserted in tests
  bool batched;        // runs as many short transactions with a cursor
};

struct AddColumnRequest {
  bool has_default = false;
  bool default_is_volatile = false;
  bool has_backfill_expr = false;
  bool not_null = false;
};

using Plan = boost::container::static_vector<Step, 9>;

Plan plan_add_column(const AddColumnRequest &request);

// Whether existing rows need a batched backfill at all.
bool needs_backfill(const AddColumnRequest &request);

// The step after `current` in `plan`, or nothing when `current` is the last.
std::optional<StepKind> next_step(const Plan &plan, StepKind current);

const char *to_string(StepKind kind);
std::optional<StepKind> parse_step_kind(std::string_view text);
const char *to_string(LockMode mode);

// The phase name stored once every step has run.
inline constexpr std::string_view kDonePhase = "done";

} // namespace colmig::core
