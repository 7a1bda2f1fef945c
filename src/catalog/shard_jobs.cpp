#include "catalog/shard_jobs.hpp"

#include "pg/spi.hpp"

namespace colmig::catalog {

pg::citus::Placements recorded_placements(std::int64_t job_id) {
  pg::execute("SELECT shardid, nodename, nodeport::int8 FROM colmig.shard_jobs "
              "WHERE job_id = $1 ORDER BY nodename, nodeport, shardid",
              {pg::int8_param(job_id)});
  pg::citus::Placements found{
      pg::ContextAllocator<pg::citus::Placement>(CurrentMemoryContext)};
  for (std::uint64_t row = 0; row < pg::result_rows(); ++row)
    found.push_back(
        pg::citus::Placement{*pg::get_int64(row, 0), *pg::get_text(row, 1),
                             static_cast<std::int32_t>(*pg::get_int64(row, 2))});
  return found;
}

void record_shard_answer(std::int64_t job_id, const pg::citus::Placement &placement,
                         bool reached, const std::string &answer) {
  if (!reached) {
    pg::execute(R"sql(
INSERT INTO colmig.shard_jobs AS s (job_id, shardid, nodename, nodeport, last_error, reached)
VALUES ($1, $2, $3, $4, $5, false)
ON CONFLICT (job_id, shardid, nodename, nodeport)
DO UPDATE SET last_error = excluded.last_error, reached = false)sql",
                {pg::int8_param(job_id), pg::int8_param(placement.shardid),
                 pg::text_param(placement.node), pg::int4_param(placement.port),
                 pg::text_param(answer)});
    return;
  }
  pg::execute(R"sql(
INSERT INTO colmig.shard_jobs AS s (job_id, shardid, nodename, nodeport, shard_job_id,
                                    state, phase, rows_done, rows_total, percent,
                                    throttled, last_error, reached, heard_at)
SELECT $1, $2, $3, $4, (a ->> 'job_id')::int8, a ->> 'state', a ->> 'phase',
       coalesce((a ->> 'rows_done')::int8, 0), (a ->> 'rows_total')::int8,
       (a ->> 'percent')::numeric, a ->> 'throttled', a ->> 'last_error', true,
       pg_catalog.now()
  FROM (SELECT $5::jsonb AS a) answer
ON CONFLICT (job_id, shardid, nodename, nodeport)
DO UPDATE SET shard_job_id = excluded.shard_job_id, state = excluded.state,
              phase = excluded.phase, rows_done = excluded.rows_done,
              rows_total = excluded.rows_total, percent = excluded.percent,
              throttled = excluded.throttled,
              last_error = excluded.last_error, reached = true,
              heard_at = excluded.heard_at)sql",
              {pg::int8_param(job_id), pg::int8_param(placement.shardid),
               pg::text_param(placement.node), pg::int4_param(placement.port),
               pg::text_param(answer)});
}

void record_shard_error(std::int64_t job_id, const pg::citus::Placement &placement,
                        const std::string &error) {
  pg::execute(R"sql(
INSERT INTO colmig.shard_jobs AS s (job_id, shardid, nodename, nodeport, state,
                                    last_error, reached, heard_at)
VALUES ($1, $2, $3, $4, 'failed', $5, true, pg_catalog.now())
ON CONFLICT (job_id, shardid, nodename, nodeport)
DO UPDATE SET state = 'failed', last_error = excluded.last_error, reached = true,
              heard_at = excluded.heard_at)sql",
              {pg::int8_param(job_id), pg::int8_param(placement.shardid),
               pg::text_param(placement.node), pg::int4_param(placement.port),
               pg::text_param(error)});
}

ShardSummary summarise_shards(std::int64_t job_id,
                              const std::optional<std::string> &arrived_phase) {
  // The plan of a fill_shard job is fixed (core::plan_fill_shard): a phase
  // is passed when a later one, or success, is reached.
  pg::execute(R"sql(
SELECT count(*)::int8,
       count(*) FILTER (WHERE NOT reached)::int8,
       count(*) FILTER (WHERE state = 'succeeded' OR ($2::text IS NOT NULL AND
             pg_catalog.array_position(ARRAY['attach_fill_trigger', 'backfill', 'sweep',
                 'verify', 'await_release', 'drop_fill_trigger', 'done'], phase)
             >= pg_catalog.array_position(ARRAY['attach_fill_trigger', 'backfill', 'sweep',
                 'verify', 'await_release', 'drop_fill_trigger', 'done'], $2::text)
             AND state IN ('running', 'queued', 'paused')))::int8,
       (SELECT 'shard ' || shardid || ' on ' || nodename || ':' || nodeport || ' ' ||
               state || ': ' || coalesce(last_error, 'no error recorded')
          FROM colmig.shard_jobs WHERE job_id = $1 AND state IN ('failed', 'cancelled')
         ORDER BY shardid LIMIT 1)
  FROM colmig.shard_jobs WHERE job_id = $1)sql",
              {pg::int8_param(job_id), pg::text_param(arrived_phase)});
  ShardSummary summary;
  summary.placements = pg::get_int64(0, 0).value_or(0);
  summary.unreachable = pg::get_int64(0, 1).value_or(0);
  summary.arrived = pg::get_int64(0, 2).value_or(0);
  summary.failure = pg::get_text(0, 3);
  return summary;
}

void sum_shard_rows(std::int64_t job_id) {
  pg::execute("UPDATE colmig.jobs j SET rows_done = s.done, rows_total = s.total "
              "FROM (SELECT coalesce(sum(rows_done), 0)::int8 AS done, "
              "sum(rows_total)::int8 AS total FROM colmig.shard_jobs "
              "WHERE job_id = $1) s WHERE j.job_id = $1",
              {pg::int8_param(job_id)});
}

bool shard_released(std::int64_t job_id) {
  pg::execute("SELECT coalesce((args ->> 'released')::bool, false) FROM colmig.jobs "
              "WHERE job_id = $1",
              {pg::int8_param(job_id)});
  return pg::get_bool(0, 0).value_or(false);
}

} // namespace colmig::catalog
