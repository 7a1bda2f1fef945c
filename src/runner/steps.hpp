// One function per step of a plan (core/plan.hpp). Each runs its own
// transaction(s) and commits its work together with the job's next phase,
// so the stored phase is always the next step to run. A step that stops
// (the job was paused or cancelled) commits nothing of its own.
#pragma once
#include "core/plan.hpp"

#include "catalog/job.hpp"
#include "runner/step_result.hpp"

#include <optional>

namespace colmig::runner {

using NextStep = std::optional<core::StepKind>;

// Inside a step's transaction: moves the job to `next` (or to success)
// and keeps the in-memory job in step. Throws catalog::JobStopped when the
// job stopped meanwhile.
void complete(catalog::Job &job, NextStep next,
              std::optional<std::int64_t> end_page = {});

// runner/steps/column_steps.cpp
StepResult add_column(catalog::Job &job, NextStep next);
StepResult add_column_for_backfill(catalog::Job &job, NextStep next);
StepResult attach_fill_trigger(catalog::Job &job, NextStep next);

// runner/steps/fill_steps.cpp
StepResult backfill(catalog::Job &job, NextStep next);
StepResult sweep(catalog::Job &job, NextStep next);
StepResult verify(catalog::Job &job, NextStep next);
StepResult drop_fill_trigger(catalog::Job &job, NextStep next);

// runner/steps/shard_steps.cpp
StepResult fill_shards(catalog::Job &job, NextStep next);
StepResult release_shards(catalog::Job &job, NextStep next);
StepResult await_release(catalog::Job &job, NextStep next);

// runner/steps/not_null_steps.cpp
StepResult add_not_null_check(catalog::Job &job, NextStep next);
StepResult validate_not_null_check(catalog::Job &job, NextStep next);
StepResult set_not_null(catalog::Job &job, NextStep next);

// runner/steps/constraint_steps.cpp
StepResult add_check(catalog::Job &job, NextStep next);
StepResult add_foreign_key(catalog::Job &job, NextStep next);
StepResult validate_constraints(catalog::Job &job, NextStep next);

// runner/steps/index_steps.cpp
StepResult build_index(catalog::Job &job, NextStep next);
StepResult attach_index(catalog::Job &job, NextStep next);
StepResult drop_index(catalog::Job &job, NextStep next);
// Cleanup: DROP INDEX CONCURRENTLY of the index a build left under the
// job's name (core::building_index_name), if there is one.
void drop_building_index(const catalog::Job &job);
// Cleanup of a drop_index job: a DROP INDEX CONCURRENTLY cut off in the
// middle (its worker died, then the job was cancelled) leaves the index
// invalid but still maintained; the drop is finished.
void finish_interrupted_drop(const catalog::Job &job);

} // namespace colmig::runner
