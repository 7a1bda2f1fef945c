// The steps that fill existing rows and prove it: the batched backfill and
// sweep, the check that the proof still holds, and the end of the fill
// trigger.
#include "runner/steps.hpp"

#include "catalog/dependencies.hpp"
#include "catalog/fill_errors.hpp"
#include "pg/fill_trigger_catalog.hpp"
#include "pg/guard.hpp"
#include "runner/backfill.hpp"
#include "runner/parallel_backfill.hpp"
#include "runner/job_table.hpp"
#include "runner/locked_step.hpp"
#include "runner/proof.hpp"

namespace colmig::runner {

StepResult backfill(catalog::Job &job, NextStep) {
  // Its last batch begins the sweep, with the baseline of the sweep's
  // proof taken in the same transaction.
  if (job.parallel > 1)
    return run_parallel_backfill(job);
  return run_batches(job, false, BatchSpan::of_job(job),
                     [&] { begin_sweep(job, observe(job), false); });
}

StepResult sweep(catalog::Job &job, NextStep next) {
  return run_batches(job, true, BatchSpan::of_job(job), [&] { complete(job, next); });
}

StepResult verify(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: verify", [&] {
    (void)lock_job_table(job, AccessShareLock);
    (void)job_column(job);
    if (!check_proof(job, core::ProofPoint::verify, observe(job)))
      complete(job, next);
  });
}

StepResult drop_fill_trigger(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: drop_fill_trigger", [&] {
    (void)lock_job_table(job, AccessExclusiveLock);
    // A nullable column has no NOT NULL to prove it filled: the proof must
    // still hold when the trigger goes (rows written while it did not fire
    // would keep their NULL).
    if (!job.not_null && check_proof(job, core::ProofPoint::trigger_drop, observe(job)))
      return;
    const Oid trigger = job.fill_trigger;
    const Oid relid = job.relid;
    pg::call([&] { pg::drop_fill_trigger(trigger, relid); });
    catalog::forget_fill_errors(job.id);
    catalog::set_cleanup_needed(job.id, false);
    complete(job, next);
  });
}

} // namespace colmig::runner
