// One planner per operation: facts read from the catalog in, the steps of
// the job's plan out (core/plan.hpp). The SQL functions call them when a
// job is created and store the plan with it; adding an operation is a
// planner here and its steps, never a change to the runner's loop.
#pragma once
#include "core/plan.hpp"

namespace colmig::core {

// add_column (core/operations/add_column.cpp)
struct AddColumnRequest {
  bool has_default = false;
  bool default_is_volatile = false;
  bool has_backfill_expr = false;
  bool not_null = false;
  // A Citus distributed or reference table: the coordinator adds the
  // column and sets NOT NULL; fill_shard jobs fill each placement.
  bool distributed = false;
};
Plan plan_add_column(const AddColumnRequest &request);
// Whether existing rows need a batched backfill at all.
bool needs_backfill(const AddColumnRequest &request);
// A fill_shard job: one placement of a distributed add_column.
Plan plan_fill_shard();

// set_not_null (core/operations/set_not_null.cpp)
struct SetNotNullFacts {
  // A valid CHECK (col IS NOT NULL) exists: SET NOT NULL needs no scan.
  bool has_valid_not_null_check = false;
};
Plan plan_set_not_null(const SetNotNullFacts &facts);

// core/operations/constraints.cpp
Plan plan_add_check();
Plan plan_add_foreign_key();
Plan plan_validate_constraint();

// core/operations/indexes.cpp
Plan plan_create_index();
Plan plan_drop_index();

} // namespace colmig::core
