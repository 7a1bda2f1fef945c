// The steps that add the column: under ACCESS EXCLUSIVE for a moment,
// catalog only.
#include "core/evaluation_settings.hpp"

#include "runner/steps.hpp"

#include "catalog/job.hpp"
#include "pg/fill_trigger_catalog.hpp"
#include "pg/relation.hpp"
#include "pg/spi.hpp"
#include "runner/job_table.hpp"
#include "runner/locked_step.hpp"
#include "runner/proof.hpp"
#include "runner/shard_fills.hpp"
#include "runner/as_job_owner.hpp"
#include "runner/statements.hpp"

namespace colmig::runner {

namespace {

std::optional<std::int64_t> estimated_rows(Oid relid) {
  pg::execute("SELECT reltuples::int8 FROM pg_catalog.pg_class WHERE oid = $1",
              {pg::oid_param(relid)});
  auto rows = pg::get_int64(0, 0);
  if (!rows || *rows < 0)
    return std::nullopt;
  return rows;
}

} // namespace

StepResult add_column(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: add_column", [&] {
    const Statements sql(job, lock_job_table(job, AccessExclusiveLock), job_column(job));
    run_as_owner(job, sql.add_column_fast());
    complete(job, next);
  });
}

namespace {

// Under ACCESS EXCLUSIVE on the job's table, with its column there: the
// fill trigger, recorded with the job, and the page every row written
// before this commit lies below (every later one passes the trigger).
void attach_fill_trigger_locked(catalog::Job &job, NextStep next) {
  const auto attnum = pg::column_number(job.relid, job.column);
  if (!attnum)
    pg::raise("XX000", "colmig: column \"" + job.column + "\" to fill is not there");
  const pg::TriggerIdentity trigger = [&] {
    AsJobOwner owner(job, SearchPath::pinned);
    const Oid relid = job.relid;
    const std::int64_t id = job.id;
    const Oid role = job.owner;
    const char *expression = job.fill_node->c_str();
    const AttrNumber column = *attnum;
    std::array<const char *, core::kEvaluationSettings.size()> settings;
    for (std::size_t i = 0; i < settings.size(); ++i)
      settings[i] = job.settings[i].c_str();
    return pg::call([&] {
      return pg::create_fill_trigger(relid, id, column, role, expression, settings.data(),
                                     static_cast<int>(settings.size()));
    });
  }();
  catalog::record_fill_trigger(job.id, *attnum, trigger.oid, trigger.xmin);
  job.column_attnum = attnum;
  job.fill_trigger = trigger.oid;
  job.fill_trigger_xmin = trigger.xmin;
  job.cleanup_needed = true;
  const std::int64_t end_page = relation_pages(job.relid);
  catalog::set_rows_total(job.id, estimated_rows(job.relid));
  complete(job, next, end_page);
}

} // namespace

StepResult add_column_for_backfill(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: add_column_for_backfill", [&] {
    const Statements sql(job, lock_job_table(job, AccessExclusiveLock), job_column(job));
    run_as_owner(job, sql.add_column_bare());
    if (job.default_node)
      run_as_owner(job, sql.set_default());
    // Citus has added the column to every placement; their fill triggers
    // come with the shard jobs (fill_shards).
    if (job.distributed) {
      const auto attnum = pg::column_number(job.relid, job.column);
      catalog::record_column(job.id, attnum);
      job.column_attnum = attnum;
      complete(job, next);
      return;
    }
    attach_fill_trigger_locked(job, next);
  });
}

StepResult attach_fill_trigger(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: attach_fill_trigger", [&] {
    (void)lock_job_table(job, AccessExclusiveLock);
    attach_fill_trigger_locked(job, next);
  });
}

} // namespace colmig::runner
