#include "core/fill_proof.hpp"

namespace colmig::core {

namespace {

ProofJudgement broken(std::string reason) {
  return {ProofVerdict::broken, std::move(reason)};
}

ProofJudgement restart(std::string reason, int restarts_so_far) {
  if (restarts_so_far >= kMaxSweepRestarts)
    return broken(reason + ", and the sweep started again " +
                  std::to_string(restarts_so_far) + " times already");
  return {ProofVerdict::restart_sweep, std::move(reason)};
}

} // namespace

ProofJudgement judge_proof(ProofPoint point, const ProofObservation &seen,
                           int restarts_so_far) {
  if (seen.trigger == TriggerCondition::missing)
    return broken("its fill trigger was dropped: rows written since were not filled");
  if (seen.trigger == TriggerCondition::disabled)
    return broken("its fill trigger was disabled: rows written while it is off are "
                  "not filled");
  if (point == ProofPoint::backfill)
    return {};
  if (seen.has_children)
    return broken("the table got inheritance children, whose rows the job does not "
                  "fill");
  if (seen.triggers_after_fill)
    return broken("a BEFORE trigger of the table fires after its fill trigger, so rows "
                  "it changes were filled from the values before its change");
  if (point == ProofPoint::sweep && seen.rewritten)
    return restart("the table was rewritten while the sweep ran", restarts_so_far);
  if (seen.fill_errors)
    return restart("its fill trigger could not fill rows written since the sweep began "
                   "(the server log says why)",
                   restarts_so_far);
  if (seen.trigger == TriggerCondition::changed)
    return restart("its fill trigger was changed (disabled and enabled again?) since "
                   "the sweep began",
                   restarts_so_far);
  return {};
}

} // namespace colmig::core
