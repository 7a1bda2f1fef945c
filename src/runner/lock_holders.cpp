#include "runner/lock_holders.hpp"

#include "pg/spi.hpp"
#include "pg/transaction.hpp"

namespace colmig::runner {

namespace {

// Sessions of this database holding a lock on the job's tables ($1: the
// table, and the one a foreign key references), other than us.
const char *const kHolders = R"sql(
WITH holders AS (
    SELECT DISTINCT l.pid FROM pg_catalog.pg_locks l
     WHERE l.locktype = 'relation' AND l.relation::int8 = ANY ($1) AND l.granted
       AND l.database = (SELECT oid FROM pg_catalog.pg_database
                          WHERE datname = pg_catalog.current_database())
       AND l.pid <> pg_catalog.pg_backend_pid())
)sql";

// The tables a step of the job locks.
pg::Param job_tables(const catalog::Job &job) {
  const std::int64_t tables[] = {job.relid, job.referenced_relid};
  return pg::int8_array_param(tables, OidIsValid(job.referenced_relid) ? 2 : 1);
}

} // namespace

std::string describe_lock_holders(const catalog::Job &job) {
  std::string described;
  pg::in_transaction("colmig: looking for lock holders", [&] {
    pg::execute(std::string(kHolders) + R"sql(
SELECT pg_catalog.string_agg(pg_catalog.format('pid %s (%s%s%s, %s): %s',
           a.pid, a.backend_type,
           ', role ' || a.usename,
           ', transaction open ' || pg_catalog.date_trunc('second', now() - a.xact_start),
           coalesce(a.state, 'no state'),
           CASE WHEN a.backend_type <> 'client backend'
                     OR (a.usesysid IS NOT NULL
                         AND pg_catalog.pg_has_role($2, a.usesysid, 'USAGE'))
                THEN pg_catalog.left(coalesce(a.query, ''), 200)
                ELSE '(statement of another role)' END),
           '; ' ORDER BY a.xact_start NULLS LAST)
  FROM holders h JOIN pg_catalog.pg_stat_activity a ON a.pid = h.pid)sql",
                {job_tables(job), pg::oid_param(job.owner)});
    described = pg::get_text(0, 0).value_or("");
  });
  return described;
}

int cancel_blocking_autovacuum(const catalog::Job &job) {
  int cancelled = 0;
  pg::in_transaction("colmig: cancelling a blocking autovacuum", [&] {
    pg::execute(std::string(kHolders) + R"sql(
SELECT a.pid, pg_catalog.pg_cancel_backend(a.pid)
  FROM holders h JOIN pg_catalog.pg_stat_activity a ON a.pid = h.pid
 WHERE a.backend_type = 'autovacuum worker'
   AND a.query NOT LIKE '%to prevent wraparound%')sql",
                {job_tables(job)});
    cancelled = static_cast<int>(pg::result_rows());
  });
  if (cancelled > 0)
    elog(LOG,
         "colmig: job %ld cancelled %d autovacuum worker(s) holding a lock on %s, as "
         "PostgreSQL does for a lock request that waits deadlock_timeout",
         static_cast<long>(job.id), cancelled, job.relation.c_str());
  return cancelled;
}

} // namespace colmig::runner
