#include "core/job_state.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <string_view>

namespace colmig::core {
namespace {

// What each state must answer, row by row. The names are the values of
// colmig.jobs.state (see its CHECK constraint in src/sql/colmig--0.1.sql).
struct Expected {
  JobState state;
  const char *name;
  bool terminal;
  bool runnable;
  bool pause;
  bool resume;
  bool cancel;
};

constexpr std::array<Expected, 6> kExpected{{
    // state               name         term   run    pause  resume cancel
    {JobState::queued, "queued", false, true, true, false, true},
    {JobState::running, "running", false, true, true, false, true},
    {JobState::paused, "paused", false, false, false, true, true},
    {JobState::succeeded, "succeeded", true, false, false, false, false},
    {JobState::failed, "failed", true, false, false, false, false},
    {JobState::cancelled, "cancelled", true, false, false, false, false},
}};

TEST(JobStateNames, AreTheStoredSqlValues) {
  for (const auto &row : kExpected)
    EXPECT_STREQ(to_string(row.state), row.name);
}

TEST(JobStateNames, RoundTripThroughParse) {
  for (const auto &row : kExpected) {
    SCOPED_TRACE(row.name);
    auto parsed = parse_job_state(to_string(row.state));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, row.state);
  }
}

TEST(JobStateNames, AreDistinct) {
  std::set<std::string> names;
  for (const auto &row : kExpected)
    names.insert(to_string(row.state));
  EXPECT_EQ(names.size(), kExpected.size());
}

TEST(JobStateNames, UnknownTextDoesNotParse) {
  for (std::string_view text : {"", "unknown", "Queued", "RUNNING", "queue", "queued ",
                                " paused", "done", "canceled", "backfill"}) {
    SCOPED_TRACE(std::string(text));
    EXPECT_FALSE(parse_job_state(text).has_value());
  }
  // Only the whole text counts, not a prefix of it.
  EXPECT_FALSE(parse_job_state(std::string_view("failed\0x", 8)).has_value());
}

TEST(JobStateNames, OutOfRangeValueIsUnknownAndDoesNotRoundTrip) {
  const auto bogus = static_cast<JobState>(42);
  EXPECT_STREQ(to_string(bogus), "unknown");
  EXPECT_FALSE(parse_job_state(to_string(bogus)).has_value());
}

TEST(JobStateRules, Terminal) {
  for (const auto &row : kExpected)
    EXPECT_EQ(is_terminal(row.state), row.terminal) << row.name;
}

TEST(JobStateRules, Runnable) {
  for (const auto &row : kExpected)
    EXPECT_EQ(is_runnable(row.state), row.runnable) << row.name;
}

TEST(JobStateRules, Pause) {
  for (const auto &row : kExpected)
    EXPECT_EQ(can_pause(row.state), row.pause) << row.name;
}

TEST(JobStateRules, Resume) {
  for (const auto &row : kExpected)
    EXPECT_EQ(can_resume(row.state), row.resume) << row.name;
}

TEST(JobStateRules, Cancel) {
  for (const auto &row : kExpected)
    EXPECT_EQ(can_cancel(row.state), row.cancel) << row.name;
}

TEST(JobStateRules, Consistency) {
  for (const auto &row : kExpected) {
    SCOPED_TRACE(row.name);
    const JobState s = row.state;
    // A worker never picks up a finished job.
    EXPECT_FALSE(is_runnable(s) && is_terminal(s));
    // Every live job can be cancelled; a finished one accepts no transition.
    EXPECT_EQ(can_cancel(s), !is_terminal(s));
    if (is_terminal(s)) {
      EXPECT_FALSE(can_pause(s) || can_resume(s));
    }
    // Pausing and resuming are mutually exclusive.
    EXPECT_FALSE(can_pause(s) && can_resume(s));
    // Only what a worker could be running can be paused.
    if (can_pause(s)) {
      EXPECT_TRUE(is_runnable(s));
    }
    // A resumable job is one a worker currently ignores.
    if (can_resume(s)) {
      EXPECT_FALSE(is_runnable(s));
    }
  }
}

} // namespace
} // namespace colmig::core
