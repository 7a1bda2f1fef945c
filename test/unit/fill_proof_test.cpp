#include "core/fill_proof.hpp"

#include <gtest/gtest.h>

namespace colmig::core {
namespace {

ProofObservation seen(bool rewritten, TriggerCondition trigger, bool children = false) {
  ProofObservation observation;
  observation.rewritten = rewritten;
  observation.trigger = trigger;
  observation.has_children = children;
  return observation;
}

constexpr ProofPoint kAllPoints[] = {ProofPoint::backfill, ProofPoint::sweep,
                                     ProofPoint::verify, ProofPoint::trigger_drop};

TEST(FillProof, HoldsWhenNothingHappened) {
  for (ProofPoint point : kAllPoints)
    EXPECT_EQ(judge_proof(point, seen(false, TriggerCondition::intact), 0).verdict,
              ProofVerdict::holds);
}

TEST(FillProof, ALostTriggerBreaksItEverywhere) {
  for (ProofPoint point : kAllPoints)
    for (TriggerCondition lost :
         {TriggerCondition::missing, TriggerCondition::disabled}) {
      const ProofJudgement judgement = judge_proof(point, seen(false, lost), 0);
      EXPECT_EQ(judgement.verdict, ProofVerdict::broken);
      EXPECT_NE(judgement.reason.find("fill trigger"), std::string::npos);
    }
}

TEST(FillProof, ARewriteRestartsOnlyARunningSweep) {
  // During the first pass the sweep will cover the rows anyway; after the
  // sweep, a rewrite copies filled rows.
  EXPECT_EQ(
      judge_proof(ProofPoint::backfill, seen(true, TriggerCondition::intact), 0).verdict,
      ProofVerdict::holds);
  EXPECT_EQ(
      judge_proof(ProofPoint::sweep, seen(true, TriggerCondition::intact), 0).verdict,
      ProofVerdict::restart_sweep);
  EXPECT_EQ(
      judge_proof(ProofPoint::verify, seen(true, TriggerCondition::intact), 0).verdict,
      ProofVerdict::holds);
  EXPECT_EQ(judge_proof(ProofPoint::trigger_drop, seen(true, TriggerCondition::intact), 0)
                .verdict,
            ProofVerdict::holds);
}

TEST(FillProof, AChangedTriggerRestartsTheSweepAfterTheFirstPass) {
  EXPECT_EQ(judge_proof(ProofPoint::backfill, seen(false, TriggerCondition::changed), 0)
                .verdict,
            ProofVerdict::holds);
  for (ProofPoint point :
       {ProofPoint::sweep, ProofPoint::verify, ProofPoint::trigger_drop})
    EXPECT_EQ(judge_proof(point, seen(false, TriggerCondition::changed), 0).verdict,
              ProofVerdict::restart_sweep);
}

TEST(FillProof, RowsTheFillTriggerCouldNotFillRestartTheSweep) {
  ProofObservation errors = seen(false, TriggerCondition::intact);
  errors.fill_errors = true;
  EXPECT_EQ(judge_proof(ProofPoint::backfill, errors, 0).verdict, ProofVerdict::holds);
  for (ProofPoint point :
       {ProofPoint::sweep, ProofPoint::verify, ProofPoint::trigger_drop})
    EXPECT_EQ(judge_proof(point, errors, 0).verdict, ProofVerdict::restart_sweep);
  EXPECT_EQ(judge_proof(ProofPoint::verify, errors, kMaxSweepRestarts).verdict,
            ProofVerdict::broken);
}

TEST(FillProof, ATriggerFiringAfterTheFillBreaksItAfterTheFirstPass) {
  ProofObservation late = seen(false, TriggerCondition::intact);
  late.triggers_after_fill = true;
  EXPECT_EQ(judge_proof(ProofPoint::backfill, late, 0).verdict, ProofVerdict::holds);
  for (ProofPoint point :
       {ProofPoint::sweep, ProofPoint::verify, ProofPoint::trigger_drop})
    EXPECT_EQ(judge_proof(point, late, 0).verdict, ProofVerdict::broken);
}

TEST(FillProof, RestartsAreBounded) {
  const ProofObservation rewritten = seen(true, TriggerCondition::intact);
  EXPECT_EQ(judge_proof(ProofPoint::sweep, rewritten, kMaxSweepRestarts - 1).verdict,
            ProofVerdict::restart_sweep);
  const ProofJudgement judgement =
      judge_proof(ProofPoint::sweep, rewritten, kMaxSweepRestarts);
  EXPECT_EQ(judgement.verdict, ProofVerdict::broken);
  EXPECT_NE(judgement.reason.find("rewritten"), std::string::npos);
}

TEST(FillProof, InheritanceChildrenBreakItAfterTheFirstPass) {
  EXPECT_EQ(
      judge_proof(ProofPoint::backfill, seen(false, TriggerCondition::intact, true), 0)
          .verdict,
      ProofVerdict::holds);
  for (ProofPoint point :
       {ProofPoint::sweep, ProofPoint::verify, ProofPoint::trigger_drop})
    EXPECT_EQ(judge_proof(point, seen(false, TriggerCondition::intact, true), 0).verdict,
              ProofVerdict::broken);
}

} // namespace
} // namespace colmig::core
