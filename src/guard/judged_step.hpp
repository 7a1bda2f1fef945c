// A DDL step (pg/ddl_statement.hpp) judged with the live facts only a
// running database has: who holds a lock it needs now, whether inserts
// still rely on a colmig fill trigger, and colmig.guard_min_rows. Both
// colmig.plan() and the guard judge here.
#pragma once

#include "core/ddl_messages.hpp"

#include "pg/ddl_statement.hpp"
#include "pg/guard.hpp"

#include <optional>

namespace colmig::guard {

struct JudgedStep {
  core::StatementFacts facts;
  core::Judgement judgement;
  std::optional<core::LockBlocker> blocker;
  core::StepText text;
  // The step's alternative and advice, unless the live facts change them.
  const char *alternative;
  const char *advice;
};

// How long ago an insert that relied on a fill trigger still counts.
inline constexpr double kRecentFillSeconds = 600;

JudgedStep judge_step(const pg::DdlStep &step);

} // namespace colmig::guard
