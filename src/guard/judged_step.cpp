#include "guard/judged_step.hpp"

#include "guc.hpp"
#include "ipc/shared_state.hpp"
#include "pg/lock_queue.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace colmig::guard {

namespace {

// SET NOT NULL of a column with no default whose fill trigger filled an
// application INSERT recently: once the job drops the trigger, such
// inserts fail.
bool inserts_rely_on_fill(const pg::DdlStep &step) {
  if (step.not_null_attnum <= 0 || step.column_has_default)
    return false;
  const auto at = pg::call([&] {
    return ipc::last_insert_fill(step.relid, step.not_null_attnum).value_or(0);
  });
  if (at == 0)
    return false;
  const TimestampTz now = GetCurrentTimestamp();
  return static_cast<double>(now - at) / USECS_PER_SEC < kRecentFillSeconds;
}

} // namespace

JudgedStep judge_step(const pg::DdlStep &step) {
  JudgedStep judged;
  judged.facts = step.facts;
  judged.text.action = step.action != nullptr ? step.action : "";
  judged.text.table = step.table != nullptr ? step.table : "";
  judged.text.remark = step.remark != nullptr ? step.remark : "";
  judged.alternative = step.alternative;
  judged.advice = step.advice;
  const bool live_table =
      OidIsValid(step.relid) && !step.table_facts.created_in_transaction;
  if (live_table && inserts_rely_on_fill(step)) {
    judged.facts.rule = core::DdlRule::fill_trigger_reliance;
    judged.text.remark =
        "the job's fill trigger filled inserts that left the column out in "
        "the last 10 minutes, and the column has no default";
    judged.alternative = nullptr;
    judged.advice = "give the column a DEFAULT first, or change the application to write "
                    "it, and SET NOT NULL once no insert leaves it out";
  }
  std::optional<core::LockMode> requested = judged.facts.lock;
  if (requested && step.requested_lock != NoLock)
    requested = static_cast<core::LockMode>(step.requested_lock - AccessShareLock);
  if (live_table && requested) {
    judged.blocker = pg::find_lock_blocker(step.relid, *requested);
    judged.facts.conflicting_lock_now = judged.blocker.has_value();
  }
  judged.judgement = core::judge(judged.facts, step.table_facts, guc::guard_min_rows);
  // When only the queue is wrong, the lock that would wait is the one to name.
  if (judged.judgement.rule == core::DdlRule::lock_queue)
    judged.facts.lock = requested;
  return judged;
}

} // namespace colmig::guard
