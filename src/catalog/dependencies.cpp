#include "catalog/dependencies.hpp"

#include "catalog/live_jobs.hpp"
#include "pg/expression_dependencies.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "catalog/pg_class.h"
}

namespace colmig::catalog {

void record_dependencies(std::int64_t job_id, Oid relid, Node *expr) {
  pg::ObjectRefs refs =
      pg::call([&] { return pg::expression_dependencies(expr, relid); });
  for (int i = 0; i < refs.count; ++i) {
    const pg::ObjectRef &ref = refs.refs[i];
    if (ref.classid == RelationRelationId && ref.objid == relid && ref.objsubid == 0)
      continue;
    pg::execute("INSERT INTO colmig.job_dependencies (job_id, classid, objid, objsubid) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                {pg::int8_param(job_id), pg::oid_param(ref.classid),
                 pg::oid_param(ref.objid), pg::int4_param(ref.objsubid)});
  }
}

namespace {

// What the current DDL command dropped that a live job uses: object
// description and job id. A whole table dropped with its columns is not
// "in use": a job whose table is dropped fails (42P01) instead of
// blocking the drop.
std::string dropped_and_used() {
  return std::string(R"sql(
SELECT coalesce(d.object_type || ' ' || d.object_identity, d.object_type) AS object,
       j.job_id
  FROM pg_catalog.pg_event_trigger_dropped_objects() d
  JOIN colmig.job_dependencies u
    ON u.classid = d.classid AND u.objid = d.objid AND u.objsubid = d.objsubid
  JOIN colmig.jobs j ON j.job_id = u.job_id
 WHERE )sql") +
         kLiveJob + R"sql(
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger_dropped_objects() t
                    WHERE t.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND t.objid = j.relid AND t.objsubid = 0))sql";
}

} // namespace

std::optional<UsedObject> dropped_object_in_use() {
  if (pg::execute(dropped_and_used() + " ORDER BY j.job_id LIMIT 1") == 0)
    return std::nullopt;
  return UsedObject{*pg::get_text(0, 0), *pg::get_int64(0, 1)};
}

std::uint64_t fail_jobs_using_dropped_objects() {
  return pg::execute("WITH used AS (" + dropped_and_used() + R"sql()
UPDATE colmig.jobs j
   SET state = 'failed', finished_at = now(), last_sqlstate = '2BP01', updated_at = now(),
       last_error = 'DROP ... CASCADE dropped ' ||
                    (SELECT string_agg(DISTINCT object, ', ') FROM used WHERE used.job_id = j.job_id) ||
                    ', which the job''s expressions use'
 WHERE j.job_id IN (SELECT job_id FROM used)
   AND j.state IN ('queued', 'running', 'paused'))sql");
}

void forget_dependencies(std::int64_t job_id) {
  pg::execute("DELETE FROM colmig.job_dependencies WHERE job_id = $1",
              {pg::int8_param(job_id)});
}

} // namespace colmig::catalog
