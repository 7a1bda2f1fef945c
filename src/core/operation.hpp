// The operations a job can carry out. Each has a planner in
// core/operations.hpp that turns its facts into the steps of its plan; the
// runner executes any plan step by step and knows no operation.
#pragma once
#include "core/cpp_only.hpp"

#include <optional>
#include <string_view>

namespace colmig::core {

enum class Operation {
  add_column,
  set_not_null,
  add_check,
  add_foreign_key,
  validate_constraint,
  create_index,
  drop_index,
  // One shard placement's part of a distributed add_column, on the node
  // that holds it (docs/citus.md): its fill trigger, backfill and proof.
  fill_shard,
};

const char *to_string(Operation operation);

// Whether the operation puts helpers on its table that a failed or
// cancelled job must remove under a lock (a fill trigger, a NOT VALID
// NOT NULL check). The others leave none, or only an index of their own,
// which is dropped concurrently.
bool has_table_helpers(Operation operation);
std::optional<Operation> parse_operation(std::string_view text);

} // namespace colmig::core
