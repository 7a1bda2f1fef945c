// Constraints in two moves: ADD ... NOT VALID under a strong lock for a
// moment (no scan: from then on the rule holds for every row written),
// then VALIDATE CONSTRAINT in a transaction of its own under SHARE UPDATE
// EXCLUSIVE, which lets reads and writes go on while it scans.
#include "runner/steps.hpp"

#include "catalog/job.hpp"
#include "pg/relation.hpp"
#include "pg/spi.hpp"
#include "runner/as_job_owner.hpp"
#include "runner/job_table.hpp"
#include "runner/locked_step.hpp"
#include "runner/violations.hpp"

#include <string>

extern "C" {
#include "storage/lockdefs.h"
}

namespace colmig::runner {

namespace {

std::string required_arg(const catalog::Job &job, const char *key) {
  auto value = catalog::job_arg(job, key);
  if (!value)
    pg::raise("XX000",
              "colmig job " + std::to_string(job.id) + " lacks its argument " + key);
  return *value;
}

// The constraint of that name on the job's table, just added.
Oid constraint_named(const catalog::Job &job, const std::string &name) {
  pg::execute("SELECT oid::int8 FROM pg_catalog.pg_constraint "
              "WHERE conrelid = $1 AND conname = $2",
              {pg::oid_param(job.relid), pg::text_param(name)});
  if (pg::result_rows() == 0)
    pg::raise("XX000", "colmig: constraint \"" + name + "\" just added is not there");
  return static_cast<Oid>(*pg::get_int64(0, 0));
}

// The quoted names of columns `attnums` of `relid` now (42703 when one
// was dropped).
std::string column_list(const catalog::Job &job, Oid relid,
                        const catalog::JobArgInts &attnums) {
  std::string list;
  for (std::int64_t attnum : attnums) {
    auto name = pg::column_name(relid, static_cast<AttrNumber>(attnum));
    if (!name)
      pg::raise("42703", "a column of the foreign key of colmig job " +
                             std::to_string(job.id) + " was dropped");
    list += (list.empty() ? "" : ", ") + *name;
  }
  return list;
}

// The referential actions a job may store, as SQL keywords.
std::string referential_action(const catalog::Job &job, const char *key) {
  const std::string action = required_arg(job, key);
  for (const char *known :
       {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"})
    if (action == known)
      return action;
  pg::raise("XX000", "colmig job " + std::to_string(job.id) + " has an unknown " + key);
}

struct ConstraintNow {
  std::string name; // quoted
  bool valid;
};

// The constraint as it is now, by OID; 42704 when it was dropped.
ConstraintNow constraint_now(const catalog::Job &job, Oid constraint) {
  pg::execute("SELECT quote_ident(conname), convalidated FROM pg_catalog.pg_constraint "
              "WHERE oid = $1 AND conrelid = $2",
              {pg::oid_param(constraint), pg::oid_param(job.relid)});
  if (pg::result_rows() == 0)
    pg::raise("42704", "a constraint colmig job " + std::to_string(job.id) +
                           " validates was dropped from " + job.relation);
  return {*pg::get_text(0, 0), *pg::get_bool(0, 1)};
}

// Locks a foreign key's referenced table too, under the step's
// lock_timeout, so that VALIDATE never waits for it unbounded.
void lock_referenced_table(const catalog::Job &job, Oid constraint, LOCKMODE mode) {
  pg::execute("SELECT confrelid::int8 FROM pg_catalog.pg_constraint "
              "WHERE oid = $1 AND contype = 'f'",
              {pg::oid_param(constraint)});
  if (pg::result_rows() > 0 &&
      !pg::lock_relation(static_cast<Oid>(*pg::get_int64(0, 0)), mode))
    pg::raise("42P01", "the table the foreign key of colmig job " +
                           std::to_string(job.id) + " references was dropped");
}

} // namespace

StepResult add_check(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: add_check", [&] {
    const std::string table = lock_job_table(job, AccessExclusiveLock);
    const std::string name = required_arg(job, "constraint");
    const std::string node = required_arg(job, "expr_node");
    {
      AsJobOwner owner(job, SearchPath::pinned);
      pg::execute("ALTER TABLE " + table + " ADD CONSTRAINT " + pg::quote_ident(name) +
                  " CHECK (" + pg::deparse_expression_for(node, job.relid) +
                  ") NOT VALID");
    }
    catalog::record_constraint(job, constraint_named(job, name));
    complete(job, next);
  });
}

StepResult add_foreign_key(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: add_foreign_key", [&] {
    // Both tables, each under lock_timeout: a session holding a lock on
    // the referenced table makes this step retry, never queue behind it.
    const std::string table = lock_job_table(job, ShareRowExclusiveLock);
    const Oid referenced = static_cast<Oid>(*catalog::job_arg_int64(job, "ref_relid"));
    auto ref_table = pg::lock_relation(referenced, ShareRowExclusiveLock);
    if (!ref_table)
      pg::raise("42P01", "the table the foreign key of colmig job " +
                             std::to_string(job.id) + " references was dropped");
    const std::string name = required_arg(job, "constraint");
    const std::string sql =
        "ALTER TABLE " + table + " ADD CONSTRAINT " + pg::quote_ident(name) +
        " FOREIGN KEY (" +
        column_list(job, job.relid, catalog::job_arg_int64s(job, "columns")) +
        ") REFERENCES " + *ref_table + " (" +
        column_list(job, referenced, catalog::job_arg_int64s(job, "ref_columns")) +
        ") ON DELETE " + referential_action(job, "on_delete") + " ON UPDATE " +
        referential_action(job, "on_update") + " NOT VALID";
    run_as_owner(job, sql);
    catalog::record_constraint(job, constraint_named(job, name));
    complete(job, next);
  });
}

StepResult validate_constraints(catalog::Job &job, NextStep next) {
  while (job.cursor_page < static_cast<std::int64_t>(job.constraint_oids.size())) {
    const std::size_t at = static_cast<std::size_t>(job.cursor_page);
    const Oid constraint = job.constraint_oids[at];
    const bool last = at + 1 == job.constraint_oids.size();
    std::string name;
    StepResult result = StepResult::done;
    try {
      result = run_locked_step(job, "colmig: validate_constraints", [&] {
        const std::string table = lock_job_table(job, ShareUpdateExclusiveLock);
        lock_referenced_table(job, constraint, RowShareLock);
        const ConstraintNow now = constraint_now(job, constraint);
        name = now.name;
        if (!now.valid) {
          // The creator's settings: the rule's functions run as they do
          // in the application's writes.
          AsJobOwner owner(job, SearchPath::creators);
          pg::execute("ALTER TABLE " + table + " VALIDATE CONSTRAINT " + now.name);
        }
        if (last)
          complete(job, next);
        else
          catalog::advance_position(job.id, static_cast<std::int64_t>(at) + 1);
      });
    } catch (const pg::Error &error) {
      if (error.sqlstate() != "23514" && error.sqlstate() != "23503")
        throw;
      const std::string rows =
          describe_violations(job, [&] { return violation_predicate(job, constraint); });
      pg::raise(error.sqlstate().c_str(),
                "constraint " + name + " of " + job.relation + " is violated by " + rows +
                    "; it stays NOT VALID",
                error.what(),
                "It still holds for rows written from now on. Fix those rows, then run "
                "colmig.validate_constraint() again.");
    }
    if (result == StepResult::stopped)
      return result;
    if (last)
      return result;
    job.cursor_page = static_cast<std::int64_t>(at) + 1;
  }
  // Nothing left to validate (a crash after the last one committed).
  return run_locked_step(job, "colmig: validate_constraints",
                         [&] { complete(job, next); });
}

} // namespace colmig::runner
