// colmig's event triggers (see the install script):
//
//  - colmig.protect_job_dependencies() (sql_drop): a DROP of anything a
//    live job's expressions use is refused (2BP01), as PostgreSQL refuses
//    to drop a function a column default calls. The job's table itself may
//    be dropped; the job then fails with 42P01.
//  - colmig.drop_orphaned_checks() (ddl_command_end, ALTER TABLE): a job's
//    NOT VALID check that arrives without its job, as when a dump taken
//    while the job ran is restored (the job itself is never dumped), is
//    dropped at once: no colmig check stays on a table with no job to
//    remove it. On Citus, the check's copies on shard placements and on
//    other nodes belong to the coordinator's job (docs/citus.md).
#include "core/helper_names.hpp"

#include "api/catalog_access.hpp"
#include "catalog/claim.hpp"
#include "catalog/dependencies.hpp"
#include "catalog/live_jobs.hpp"
#include "pg/citus.hpp"
#include "pg/guc_scope.hpp"

#include <string>

#include <boost/container/vector.hpp>

#include "pg/context_allocator.hpp"

extern "C" {
#include "commands/event_trigger.h"
}

namespace {

using namespace colmig;

void require_event_trigger(FunctionCallInfo fcinfo, const char *name) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    pg::raise("39P01", std::string(name) + "() must be called as an event trigger");
}

struct Orphan {
  std::string table;
  std::string check;
  std::int64_t job_id;
};
using Orphans = boost::container::vector<Orphan, pg::ContextAllocator<Orphan>>;

// colmig checks on the tables of the current ALTER TABLE whose job does not
// live on that table.
void find_orphaned_checks(Orphans &orphans) {
  api::CatalogAccess catalog;
  pg::execute(R"sql(
SELECT c.conname::text, c.conrelid::int8,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.relname)
  FROM pg_catalog.pg_event_trigger_ddl_commands() cmd
  JOIN pg_catalog.pg_constraint c ON c.conrelid = cmd.objid
  JOIN pg_catalog.pg_class t ON t.oid = c.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
 WHERE cmd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
   AND c.contype = 'c' AND c.conname LIKE 'colmig\_%\_not\_null'
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                WHERE d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
                  AND d.objid = c.oid
                  AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                  AND d.refobjid = 'colmig.check_of_job(bigint)'::pg_catalog.regprocedure))sql");
  struct Candidate {
    std::string check;
    Oid relid;
    std::string table;
  };
  boost::container::vector<Candidate, pg::ContextAllocator<Candidate>> candidates{
      pg::ContextAllocator<Candidate>(CurrentMemoryContext)};
  for (std::uint64_t row = 0; row < pg::result_rows(); ++row)
    candidates.push_back({*pg::get_text(row, 0), static_cast<Oid>(*pg::get_int64(row, 1)),
                          *pg::get_text(row, 2)});
  const bool citus = pg::citus::installed();
  const bool coordinator = citus && pg::citus::is_coordinator();
  for (const Candidate &candidate : candidates) {
    const auto job = core::job_of_not_null_check(candidate.check);
    if (!job)
      continue;
    // Citus applies the coordinator's check to every shard placement and
    // to the other nodes' copies of the table: its job lives on the
    // coordinator, with the distributed table.
    if (citus && (pg::citus::is_shard(candidate.relid) ||
                  (!coordinator && pg::citus::table(candidate.relid))))
      continue;
    pg::execute(std::string("SELECT 1 FROM colmig.jobs j WHERE j.job_id = $1 "
                            "AND j.relid = $2 AND ") +
                    catalog::kLiveJob,
                {pg::int8_param(*job), pg::oid_param(candidate.relid)});
    if (pg::result_rows() == 0)
      orphans.push_back({candidate.table, candidate.check, *job});
  }
}

} // namespace

// Whether the dropping command said CASCADE: then what depends on what it
// drops goes too, as PostgreSQL drops a column default, and the jobs using
// it fail; without, the drop is refused, as PostgreSQL refuses it.
bool drops_with_cascade(const Node *command) {
  if (command == nullptr)
    return false;
  if (IsA(command, DropStmt))
    return reinterpret_cast<const DropStmt *>(command)->behavior == DROP_CASCADE;
  if (IsA(command, DropOwnedStmt))
    return reinterpret_cast<const DropOwnedStmt *>(command)->behavior == DROP_CASCADE;
  if (IsA(command, AlterTableStmt)) {
    const ListCell *cell;
    foreach (cell, reinterpret_cast<const AlterTableStmt *>(command)->cmds)
      if (lfirst_node(AlterTableCmd, cell)->behavior == DROP_CASCADE)
        return true;
  }
  return false;
}

COLMIG_SQL_FUNCTION(colmig_protect_job_dependencies) {
  require_event_trigger(fcinfo, "colmig.protect_job_dependencies");
  // DROP EXTENSION colmig itself takes colmig.jobs along.
  if (!catalog::extension_installed())
    PG_RETURN_VOID();
  const auto *event = reinterpret_cast<EventTriggerData *>(fcinfo->context);
  if (drops_with_cascade(event->parsetree)) {
    std::uint64_t failed = 0;
    {
      api::CatalogAccess catalog;
      failed = catalog::fail_jobs_using_dropped_objects();
    }
    if (failed > 0) {
      const std::string message = "colmig: " + std::to_string(failed) +
                                  " job(s) failed: they use what this DROP ... CASCADE "
                                  "dropped";
      pg::call([&] { ereport(NOTICE, (errmsg_internal("%s", message.c_str()))); });
    }
    PG_RETURN_VOID();
  }
  std::optional<catalog::UsedObject> used;
  {
    api::CatalogAccess catalog;
    used = catalog::dropped_object_in_use();
  }
  if (used)
    pg::raise("2BP01",
              "cannot drop " + used->description + " because colmig job " +
                  std::to_string(used->job_id) + " uses it",
              "The job's expressions were analysed when it was created and call it by "
              "its identity, as a column default would.",
              "Wait for the job to finish, cancel it with colmig.cancel(" +
                  std::to_string(used->job_id) +
                  "), or drop with CASCADE, which fails "
                  "the job.");
  PG_RETURN_VOID();
}

COLMIG_SQL_FUNCTION(colmig_drop_orphaned_checks) {
  require_event_trigger(fcinfo, "colmig.drop_orphaned_checks");
  if (!catalog::extension_installed())
    PG_RETURN_VOID();
  Orphans orphans{pg::ContextAllocator<Orphan>(CurrentMemoryContext)};
  find_orphaned_checks(orphans);
  if (orphans.empty())
    PG_RETURN_VOID();
  // As the caller, who just altered the table: its owner.
  pg::SpiConnection spi;
  pg::GucScope settings;
  settings.set("search_path", pg::kSafeSearchPath);
  for (const Orphan &orphan : orphans) {
    pg::execute("ALTER TABLE " + orphan.table + " DROP CONSTRAINT IF EXISTS " +
                pg::quote_ident(orphan.check));
    const std::string message = "colmig: dropped check \"" + orphan.check + "\" of " +
                                orphan.table + ": colmig job " +
                                std::to_string(orphan.job_id) +
                                " that it belongs to does not live here";
    pg::call([&] {
      ereport(NOTICE, (errmsg_internal("%s", message.c_str()),
                       errdetail("A dump taken while the job ran holds the check, "
                                 "not the job.")));
    });
  }
  PG_RETURN_VOID();
}
