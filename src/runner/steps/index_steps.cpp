// Indexes without blocking writes: CREATE INDEX CONCURRENTLY and DROP
// INDEX CONCURRENTLY, run outside any transaction block
// (pg/top_level.hpp). The build goes under the job's own name
// (core::building_index_name), so that an index a failed, cancelled or
// crashed build left behind is known to be the job's and is dropped; once
// valid it takes the name asked for in a short rename.
#include "core/helper_names.hpp"

#include "runner/steps.hpp"

#include "catalog/job.hpp"
#include "guc.hpp"
#include "pg/index_keys.hpp"
#include "pg/relation.hpp"
#include "pg/spi.hpp"
#include "pg/top_level.hpp"
#include "pg/transaction.hpp"
#include "runner/as_job_owner.hpp"
#include "runner/job_table.hpp"
#include "runner/locked_step.hpp"

#include <string>

extern "C" {
#include "storage/lockdefs.h"
}

namespace colmig::runner {

namespace {

struct BuildingIndex {
  Oid oid;
  bool valid;
};

// The index under the job's building name on the job's table, if any.
std::optional<BuildingIndex> building_index(const catalog::Job &job) {
  pg::execute(
      "SELECT c.oid::int8, i.indisvalid FROM pg_catalog.pg_index i "
      "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
      "WHERE i.indrelid = $1 AND c.relname = $2",
      {pg::oid_param(job.relid), pg::text_param(core::building_index_name(job.id))});
  if (pg::result_rows() == 0)
    return std::nullopt;
  return BuildingIndex{static_cast<Oid>(*pg::get_int64(0, 0)), *pg::get_bool(0, 1)};
}

// The quoted, qualified name of relation `oid` now.
std::optional<std::string> relation_name(Oid oid) {
  pg::execute("SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) "
              "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
              "ON n.oid = c.relnamespace WHERE c.oid = $1",
              {pg::oid_param(oid)});
  return pg::result_rows() == 0 ? std::nullopt : pg::get_text(0, 0);
}

// A qualified catalog object name by OID (an operator class, a collation).
std::string qualified_name(const char *catalog, const char *name_column,
                           const char *namespace_column, std::int64_t oid) {
  pg::execute(std::string("SELECT quote_ident(n.nspname) || '.' || quote_ident(o.") +
                  name_column + ") FROM pg_catalog." + catalog +
                  " o JOIN pg_catalog.pg_namespace n ON n.oid = o." + namespace_column +
                  " WHERE o.oid = $1",
              {pg::oid_param(static_cast<Oid>(oid))});
  if (pg::result_rows() == 0)
    pg::raise("42704", std::string("an object in ") + catalog +
                           " that the index uses was dropped");
  return *pg::get_text(0, 0);
}

std::string column_now(const catalog::Job &job, std::int64_t attnum) {
  auto name = pg::column_name(job.relid, static_cast<AttrNumber>(attnum));
  if (!name)
    pg::raise("42703", "a column the index of colmig job " + std::to_string(job.id) +
                           " is built on was dropped");
  return *name;
}

// CREATE [UNIQUE] INDEX CONCURRENTLY from the job's stored, analysed
// parts, named as they are now; inside the build's first transaction.
std::string create_index_sql(const catalog::Job &job) {
  auto table = relation_name(job.relid);
  if (!table)
    pg::raise("42P01", "table " + job.relation + " of colmig job " +
                           std::to_string(job.id) + " was dropped");
  const auto attnums = catalog::job_arg_int64s(job, "key_attnums");
  const auto exprs = catalog::job_arg_texts(job, "key_exprs");
  const auto collations = catalog::job_arg_int64s(job, "key_collations");
  const auto opclasses = catalog::job_arg_int64s(job, "key_opclasses");
  const auto options = catalog::job_arg_int64s(job, "key_options");
  std::string keys;
  for (std::size_t i = 0; i < attnums.size(); ++i) {
    keys += keys.empty() ? "" : ", ";
    keys += attnums[i] != 0 ? column_now(job, attnums[i])
                            : "(" + pg::deparse_expression_for(exprs[i], job.relid) + ")";
    if (collations[i] != 0)
      keys += " COLLATE " +
              qualified_name("pg_collation", "collname", "collnamespace", collations[i]);
    if (opclasses[i] != 0)
      keys += " " + qualified_name("pg_opclass", "opcname", "opcnamespace", opclasses[i]);
    keys += (options[i] & pg::kKeyDescending)  ? " DESC"
            : (options[i] & pg::kKeyAscending) ? " ASC"
                                               : "";
    keys += (options[i] & pg::kKeyNullsFirst)  ? " NULLS FIRST"
            : (options[i] & pg::kKeyNullsLast) ? " NULLS LAST"
                                               : "";
  }
  std::string include;
  for (std::int64_t attnum : catalog::job_arg_int64s(job, "include_attnums"))
    include += (include.empty() ? "" : ", ") + column_now(job, attnum);
  pg::execute("SELECT quote_ident(amname) FROM pg_catalog.pg_am WHERE oid = $1",
              {pg::oid_param(static_cast<Oid>(*catalog::job_arg_int64(job, "method")))});
  if (pg::result_rows() == 0)
    pg::raise("42704", "the access method of the index of colmig job " +
                           std::to_string(job.id) + " was dropped");
  const std::string method = *pg::get_text(0, 0);
  std::string sql = std::string("CREATE ") +
                    (catalog::job_arg(job, "unique") == "true" ? "UNIQUE " : "") +
                    "INDEX CONCURRENTLY " +
                    pg::quote_ident(core::building_index_name(job.id)) + " ON " + *table +
                    " USING " + method + " (" + keys + ")";
  if (!include.empty())
    sql += " INCLUDE (" + include + ")";
  if (auto predicate = catalog::job_arg(job, "predicate_node"))
    sql += " WHERE " + pg::deparse_expression_for(*predicate, job.relid);
  return sql;
}

// Runs a concurrent statement; a lock timeout on its first lock is
// retried with the back-off ladder, like a locked step's. `before` runs
// before each attempt.
void run_concurrently(const catalog::Job &job, const pg::TopLevelStatement &statement,
                      const std::function<void()> &before) {
  for (int failures = 0;;) {
    before();
    try {
      pg::run_outside_transaction_block(statement);
      return;
    } catch (const pg::Error &error) {
      // Its first lock, SHARE UPDATE EXCLUSIVE, is one autovacuum holds too.
      wait_before_retry(job, statement.activity, error, failures, true);
    }
  }
}

// Reads the job's state (and its building index) in a short transaction:
// false when the job no longer runs.
bool still_running(const catalog::Job &job, std::optional<BuildingIndex> *index) {
  bool running = false;
  pg::in_transaction("colmig: build_index", [&] {
    running = catalog::state_for_step(job.id) == core::JobState::running;
    if (index != nullptr)
      *index = building_index(job);
  });
  return running;
}

} // namespace

void drop_building_index(const catalog::Job &job) {
  std::optional<BuildingIndex> index;
  pg::in_transaction("colmig: looking for a building index", [&] {
    // Before its build started, an index of that name is not the job's.
    if (catalog::job_arg(job, "build_started") == "true")
      index = building_index(job);
  });
  if (!index)
    return;
  const Oid oid = index->oid;
  pg::TopLevelStatement statement{"colmig: dropping the index a build left",
                                  oid,
                                  ShareUpdateExclusiveLock,
                                  guc::lock_timeout_ms,
                                  InvalidOid, // cleanup needs no role's rights
                                  [&]() -> std::optional<std::string> {
                                    auto name = relation_name(oid);
                                    if (!name)
                                      return std::nullopt; // gone already
                                    return "DROP INDEX CONCURRENTLY IF EXISTS " + *name;
                                  }};
  run_concurrently(job, statement, [] {});
}

void finish_interrupted_drop(const catalog::Job &job) {
  if (job.operation != core::Operation::drop_index)
    return;
  Oid index = InvalidOid;
  pg::in_transaction("colmig: looking for a half-dropped index", [&] {
    const Oid oid = static_cast<Oid>(catalog::job_arg_int64(job, "index").value_or(0));
    pg::execute(
        "SELECT 1 FROM pg_catalog.pg_index WHERE indexrelid = $1 AND indrelid = $2 "
        "AND NOT indisvalid",
        {pg::oid_param(oid), pg::oid_param(job.relid)});
    if (pg::result_rows() > 0)
      index = oid;
  });
  if (!OidIsValid(index))
    return;
  pg::TopLevelStatement statement{"colmig: finishing a drop that was cut off",
                                  job.relid,
                                  ShareUpdateExclusiveLock,
                                  guc::lock_timeout_ms,
                                  InvalidOid, // cleanup needs no role's rights
                                  [&]() -> std::optional<std::string> {
                                    auto name = relation_name(index);
                                    if (!name)
                                      return std::nullopt;
                                    return "DROP INDEX CONCURRENTLY IF EXISTS " + *name;
                                  }};
  run_concurrently(job, statement, [] {});
}

StepResult build_index(catalog::Job &job, NextStep next) {
  std::optional<BuildingIndex> index;
  if (!still_running(job, &index))
    return StepResult::stopped;
  bool started = false;
  pg::in_transaction("colmig: build_index",
                     [&] { started = catalog::job_arg(job, "build_started") == "true"; });
  if (!started) {
    if (index)
      pg::raise(
          "42P07",
          "an index named \"" + core::building_index_name(job.id) + "\" on " +
              job.relation + " exists, and colmig job " + std::to_string(job.id) +
              " did not build it",
          {}, "colmig reserves names of the form colmig_<job>_index; rename that index.");
    try {
      pg::in_transaction("colmig: build_index",
                         [&] { catalog::mark_build_started(job); });
    } catch (const catalog::JobStopped &) {
      return StepResult::stopped;
    }
  }
  // A crash after the build but before its step committed leaves it valid.
  if (!index || !index->valid) {
    pg::TopLevelStatement statement{
        "colmig: build_index",
        job.relid,
        ShareUpdateExclusiveLock,
        guc::lock_timeout_ms,
        job.owner,
        [&]() -> std::optional<std::string> { return create_index_sql(job); }};
    run_concurrently(job, statement, [&] {
      // What an earlier attempt left (a crash, a deadlock in the middle).
      drop_building_index(job);
    });
  }
  return run_locked_step(job, "colmig: build_index", [&] {
    auto built = building_index(job);
    if (!built || !built->valid)
      pg::raise("XX000", "the concurrent build of colmig job " + std::to_string(job.id) +
                             " left no valid index");
    complete(job, next);
  });
}

StepResult attach_index(catalog::Job &job, NextStep next) {
  return run_locked_step(job, "colmig: attach_index", [&] {
    (void)lock_job_table(job, AccessShareLock);
    auto built = building_index(job);
    if (!built)
      pg::raise("42704",
                "the index colmig job " + std::to_string(job.id) + " built was dropped");
    // An index rename takes SHARE UPDATE EXCLUSIVE on the index only.
    auto name = pg::lock_relation(built->oid, ShareUpdateExclusiveLock);
    if (!name)
      pg::raise("42704",
                "the index colmig job " + std::to_string(job.id) + " built was dropped");
    run_as_owner(job, "ALTER INDEX " + *name + " RENAME TO " +
                          pg::quote_ident(*catalog::job_arg(job, "index_name")));
    complete(job, next);
  });
}

StepResult drop_index(catalog::Job &job, NextStep next) {
  const Oid index = static_cast<Oid>([&] {
    std::int64_t oid = 0;
    pg::in_transaction("colmig: drop_index",
                       [&] { oid = catalog::job_arg_int64(job, "index").value_or(0); });
    return oid;
  }());
  if (!still_running(job, nullptr))
    return StepResult::stopped;
  // From here a cancelled job's cleanup finishes a drop that was cut off
  // (finish_interrupted_drop), rather than leave the index invalid.
  pg::in_transaction("colmig: drop_index",
                     [&] { catalog::set_cleanup_needed(job.id, true); });
  pg::TopLevelStatement statement{
      // The table's lock first, under lock_timeout: it is the one DROP
      // INDEX CONCURRENTLY would otherwise wait for without a bound.
      "colmig: drop_index",
      job.relid,
      ShareUpdateExclusiveLock,
      guc::lock_timeout_ms,
      job.owner,
      [&]() -> std::optional<std::string> {
        // Still an index of the job's table: an OID is never followed
        // onto another object.
        pg::execute("SELECT 1 FROM pg_catalog.pg_index WHERE indexrelid = $1 "
                    "AND indrelid = $2",
                    {pg::oid_param(index), pg::oid_param(job.relid)});
        if (pg::result_rows() == 0)
          return std::nullopt; // dropped already: what was asked holds
        return "DROP INDEX CONCURRENTLY " + *relation_name(index);
      }};
  run_concurrently(job, statement, [] {});
  return run_locked_step(job, "colmig: drop_index", [&] { complete(job, next); });
}

} // namespace colmig::runner
