#include "runner/proof.hpp"

#include "catalog/fill_errors.hpp"
#include "pg/fill_trigger_catalog.hpp"
#include "pg/relation.hpp"
#include "pg/spi.hpp"

namespace colmig::runner {

std::int64_t relation_pages(Oid relid) {
  pg::execute("SELECT (pg_catalog.pg_relation_size($1) / "
              "pg_catalog.current_setting('block_size')::int8)::int8",
              {pg::oid_param(relid)});
  return pg::get_int64(0, 0).value_or(0);
}

Observation observe(const catalog::Job &job) {
  Observation seen{};
  seen.now.filenode = pg::relation_filenode(job.relid);
  const Oid trigger_oid = job.fill_trigger;
  const pg::TriggerRow trigger =
      pg::call([&] { return pg::read_fill_trigger(trigger_oid); });
  seen.now.trigger_xmin = trigger.xmin;
  if (!trigger.exists)
    seen.seen.trigger = core::TriggerCondition::missing;
  else if (!trigger.fires_always)
    seen.seen.trigger = core::TriggerCondition::disabled;
  else if (trigger.xmin != job.fill_trigger_xmin)
    seen.seen.trigger = core::TriggerCondition::changed;
  seen.now.fill_error_count = catalog::fill_error_count(job.id);
  seen.seen.fill_errors = seen.now.fill_error_count != job.fill_error_count;
  seen.seen.rewritten = seen.now.filenode != job.sweep_filenode;
  seen.seen.has_children = pg::has_inheritance_children(job.relid);
  const Oid relid = job.relid;
  seen.seen.triggers_after_fill =
      pg::call([&] { return pg::has_triggers_after_fill(relid, trigger_oid); });
  return seen;
}

void begin_sweep(catalog::Job &job, const Observation &seen, bool restart) {
  const std::int64_t end = relation_pages(job.relid);
  catalog::begin_sweep(job.id, seen.now, end, restart);
  job.phase = core::to_string(core::StepKind::sweep);
  job.cursor_page = 0;
  job.end_page = end;
  job.sweep_filenode = seen.now.filenode;
  job.fill_trigger_xmin = seen.now.trigger_xmin;
  job.fill_error_count = seen.now.fill_error_count;
  job.sweep_restarts += restart ? 1 : 0;
}

bool check_proof(catalog::Job &job, core::ProofPoint point, const Observation &seen) {
  const core::ProofJudgement judgement =
      core::judge_proof(point, seen.seen, job.sweep_restarts);
  switch (judgement.verdict) {
  case core::ProofVerdict::holds:
    return false;
  case core::ProofVerdict::restart_sweep:
    elog(LOG, "colmig: job %ld sweeps %s again: %s", static_cast<long>(job.id),
         job.relation.c_str(), judgement.reason.c_str());
    begin_sweep(job, seen, true);
    return true;
  case core::ProofVerdict::broken:
    break;
  }
  pg::raise("55000",
            "cannot show that every row of " + job.relation +
                " is filled: " + judgement.reason,
            {}, "Create a new job for the column; it fills only the rows still NULL.");
}

} // namespace colmig::runner
