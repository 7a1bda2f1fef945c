// The job life cycle, as stored in colmig.jobs.state.
#pragma once
#include "core/cpp_only.hpp"

#include <optional>
#include <string_view>

namespace colmig::core {

enum class JobState { queued, running, paused, succeeded, failed, cancelled };

const char *to_string(JobState state);
std::optional<JobState> parse_job_state(std::string_view text);

// A terminal job is never picked up again, except to remove the helper
// objects (trigger, check constraint) it may have left behind.
bool is_terminal(JobState state);

// Whether a worker may work on a job in this state.
bool is_runnable(JobState state);

// The user-facing transitions; everything else is the worker's business.
bool can_pause(JobState state);
bool can_resume(JobState state);
bool can_cancel(JobState state);

} // namespace colmig::core
