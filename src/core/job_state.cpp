#include "core/job_state.hpp"

#include "core/name_table.hpp"

namespace colmig::core {

namespace {
constexpr NameTable<JobState, 6> kNames{{
    {JobState::queued, "queued"},
    {JobState::running, "running"},
    {JobState::paused, "paused"},
    {JobState::succeeded, "succeeded"},
    {JobState::failed, "failed"},
    {JobState::cancelled, "cancelled"},
}};
} // namespace

const char *to_string(JobState state) { return name_in(kNames, state); }

std::optional<JobState> parse_job_state(std::string_view text) {
  return value_in(kNames, text);
}

bool is_terminal(JobState state) {
  return state == JobState::succeeded || state == JobState::failed ||
         state == JobState::cancelled;
}

bool is_runnable(JobState state) {
  return state == JobState::queued || state == JobState::running;
}

bool can_pause(JobState state) { return is_runnable(state); }

bool can_resume(JobState state) { return state == JobState::paused; }

bool can_cancel(JobState state) { return !is_terminal(state); }

} // namespace colmig::core
