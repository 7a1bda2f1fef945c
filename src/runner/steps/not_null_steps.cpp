// NOT NULL without a long ACCESS EXCLUSIVE lock: a NOT VALID check, its
// validation under SHARE UPDATE EXCLUSIVE (reads and writes go on), then
// SET NOT NULL, which PostgreSQL proves from the valid check without a scan.
#include "core/helper_names.hpp"

#include "runner/steps.hpp"

#include "pg/not_null_check_catalog.hpp"
#include "pg/spi.hpp"
#include "runner/job_table.hpp"
#include "runner/locked_step.hpp"
#include "runner/shard_fills.hpp"
#include "runner/statements.hpp"
#include "runner/violations.hpp"

namespace colmig::runner {

StepResult validate_added_check(catalog::Job &job, NextStep next);

namespace {

// The job's check if it is there, and only if it is colmig's (it calls
// colmig.check_of_job()): a user's check of the same name is never
// dropped; ADD CONSTRAINT then fails on it (42710).
void drop_own_check(const catalog::Job &job) {
  // Through Citus, which drops it on every placement too.
  if (job.distributed) {
    drop_distributed_check(job, DropAs::owner);
    return;
  }
  const Oid relid = job.relid;
  const std::string name = core::not_null_check_name(job.id);
  const char *check = name.c_str();
  pg::call([&] { pg::drop_not_null_check(relid, check); });
}

} // namespace

StepResult add_not_null_check(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: add_not_null_check", [&] {
    const Statements sql(job, lock_job_table(job, AccessExclusiveLock), job_column(job));
    drop_own_check(job);
    run_as_owner(job, sql.add_not_null_check());
    // A set_not_null job's only helper: a failed job drops it again.
    catalog::set_cleanup_needed(job.id, true);
    complete(job, next);
  });
}

namespace {

// set_not_null on a column that has NULLs: how many, and which rows.
[[noreturn]] void raise_nulls_found(const catalog::Job &job, const pg::Error &error) {
  const std::string rows = describe_violations(
      job, [&] { return "colmig_row." + job_column(job) + " IS NULL"; });
  pg::raise("23502",
            "column \"" + job.column + "\" of " + job.relation + " has NULL in " + rows +
                ", so NOT NULL was not set",
            error.what(),
            "Give those rows a value, then run colmig.set_not_null() again.");
}

} // namespace

StepResult validate_not_null_check(catalog::Job &job, NextStep next) {
  try {
    return validate_added_check(job, next);
  } catch (const pg::Error &error) {
    if (error.sqlstate() != "23502" || job.operation != core::Operation::set_not_null)
      throw;
    raise_nulls_found(job, error);
  }
}

StepResult validate_added_check(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: validate_not_null_check", [&] {
    const Statements sql(job, lock_job_table(job, ShareUpdateExclusiveLock),
                         job_column(job));
    try {
      run_as_owner(job, sql.validate_not_null_check());
    } catch (const pg::Error &error) {
      if (error.sqlstate() != "23514")
        throw;
      pg::raise("23502",
                "column \"" + job.column + "\" of " + job.relation +
                    " still has NULL values, so NOT NULL was not set",
                error.what(),
                "The backfill or default expression yields NULL for some rows.");
    }
    complete(job, next);
  });
}

StepResult set_not_null(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: set_not_null", [&] {
    const Statements sql(job, lock_job_table(job, AccessExclusiveLock), job_column(job));
    // Proven again under the lock: without a valid check (dropped since it
    // was validated or found), SET NOT NULL would scan the whole table
    // under ACCESS EXCLUSIVE.
    const Oid relid = job.relid;
    const AttrNumber attnum = *job.column_attnum;
    if (!pg::call([&] { return pg::not_null_proven(relid, attnum); }))
      pg::raise(
          "55000",
          "no valid check proves column \"" + job.column + "\" of " + job.relation +
              " NOT NULL any more, so SET NOT NULL would scan the table under "
              "ACCESS EXCLUSIVE",
          {}, "A check the job relied on was dropped; run colmig.set_not_null() again.");
    run_as_owner(job, sql.set_not_null());
    drop_own_check(job);
    complete(job, next);
  });
}

} // namespace colmig::runner
