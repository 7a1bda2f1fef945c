-- colmig 0.4 -> 0.5: add_column on Citus distributed and reference tables
-- (docs/citus.md). The coordinator's job adds the column through Citus and
-- starts one fill_shard job per shard placement, on the node holding it,
-- through colmig.shard_fill(); colmig.shard_jobs is what it last heard
-- from each, shown in colmig.progress_shards.
\echo Use "ALTER EXTENSION colmig UPDATE TO '0.5'" to load this file. \quit

ALTER TABLE colmig.jobs DROP CONSTRAINT jobs_operation_check;
ALTER TABLE colmig.jobs ADD CONSTRAINT jobs_operation_check
    CHECK (operation IN ('add_column', 'set_not_null', 'add_check', 'add_foreign_key',
                         'validate_constraint', 'create_index', 'drop_index',
                         'fill_shard'));

-- On the coordinator: one row per shard placement of a distributed job, as
-- its node last answered (state, phase and rows of the fill_shard job
-- there). A node that did not answer keeps its last answer, with the
-- reason in last_error.
CREATE TABLE colmig.shard_jobs (
    job_id        bigint NOT NULL REFERENCES colmig.jobs ON DELETE CASCADE,
    shardid       bigint NOT NULL,
    nodename      text NOT NULL,
    nodeport      integer NOT NULL,
    shard_job_id  bigint,
    state         text,
    phase         text,
    rows_done     bigint NOT NULL DEFAULT 0,
    rows_total    bigint,
    percent       numeric,
    throttled     text,
    last_error    text,
    reached       boolean NOT NULL DEFAULT false,
    heard_at      timestamptz,
    PRIMARY KEY (job_id, shardid, nodename, nodeport)
);
REVOKE ALL ON colmig.shard_jobs FROM PUBLIC;
-- Not dumped: the job refills it from the nodes at its next look.

-- How far a placement is: done once filled and proven (its job holds or
-- has dropped its trigger), else as its node's colmig.progress says.
CREATE FUNCTION colmig.shard_percent(state text, phase text, node_percent numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN state = 'succeeded' OR phase IN ('await_release', 'drop_fill_trigger')
            THEN 100.0
            ELSE least(coalesce(node_percent, 0.0), 99.9) END;

-- One row per shard placement of each distributed job the caller may see.
CREATE VIEW colmig.progress_shards WITH (security_barrier) AS
SELECT s.job_id,
       coalesce((SELECT c.oid::regclass::text FROM pg_catalog.pg_class c
                  WHERE c.oid = j.relid), j.relation) AS relation,
       s.shardid,
       s.nodename || ':' || s.nodeport AS node,
       s.shard_job_id,
       s.state,
       s.phase,
       colmig.shard_percent(s.state, s.phase, s.percent) AS percent,
       s.rows_done,
       s.rows_total,
       s.throttled,
       s.last_error,
       s.heard_at
  FROM colmig.shard_jobs s
  JOIN colmig.jobs j ON j.job_id = s.job_id
 WHERE colmig.may_control(j.owner);
GRANT SELECT ON colmig.progress_shards TO PUBLIC;

-- Called by the coordinator's colmig worker on each node that holds a
-- placement: makes sure a fill_shard job fills it ('run'), or passes on
-- 'pause', 'cancel', 'release'; 'status' only reads. Returns the shard
-- job's progress as jsonb text. For superusers only.
CREATE FUNCTION colmig.shard_fill(coordinator_job bigint, shardid bigint, action text,
                                  spec text)
RETURNS text
LANGUAGE C CALLED ON NULL INPUT VOLATILE SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'colmig_shard_fill';
REVOKE ALL ON FUNCTION colmig.shard_fill(bigint, bigint, text, text) FROM PUBLIC;

DROP VIEW colmig.progress;
CREATE VIEW colmig.progress WITH (security_barrier) AS
SELECT j.job_id,
       j.operation,
       coalesce((SELECT c.oid::regclass::text FROM pg_catalog.pg_class c
                  WHERE c.oid = j.relid), j.relation) AS relation,
       j.target,
       j.column_name,
       j.state,
       e.phase,
       (CASE WHEN e.phase = 'done' THEN pg_catalog.cardinality(j.plan)
             ELSE coalesce(pg_catalog.array_position(j.plan, e.phase), 0) END)
       || ' of ' || pg_catalog.cardinality(j.plan) AS step,
       CASE
           WHEN j.state = 'succeeded' THEN 100.0
           WHEN e.phase = 'build_index' AND p.blocks_total > 0
               THEN round(100.0 * p.blocks_done / p.blocks_total, 1)
           WHEN e.phase = 'build_index' AND p.tuples_total > 0
               THEN round(100.0 * p.tuples_done / p.tuples_total, 1)
           WHEN e.phase = 'validate_constraints'
               THEN round(100.0 * j.cursor_page
                          / greatest(1, pg_catalog.cardinality(j.constraint_oids)), 1)
           -- A distributed job: its placements', on average.
           WHEN e.phase = 'fill_shards'
               THEN coalesce((SELECT least(round(avg(colmig.shard_percent(s.state, s.phase,
                                                                          s.percent)), 1),
                                           99.9)
                                FROM colmig.shard_jobs s WHERE s.job_id = j.job_id), 0.0)
           -- ... and every placement filled once it is past that step.
           WHEN j.args ->> 'citus' IS NOT NULL AND j.operation = 'add_column'
                AND e.phase IN ('add_not_null_check', 'validate_not_null_check',
                                'set_not_null', 'release_shards')
               THEN 100.0
           WHEN j.end_page IS NULL THEN 0.0
           WHEN j.phase = 'backfill' THEN round((100.0 * d.done)::numeric, 1)
           ELSE 100.0
       END AS percent,
       CASE
           WHEN j.phase = 'backfill' AND j.state = 'running' AND d.done > 0 AND d.done < 1
               THEN pg_catalog.date_trunc('second',
                    (pg_catalog.now() - j.backfill_started_at) * ((1 - d.done) / d.done))
       END AS eta,
       j.rows_done + b.range_rows AS rows_done,
       j.rows_total,
       round(CASE WHEN b.ranges > 0
                  THEN b.range_rows / greatest(0.001, extract(epoch FROM
                       pg_catalog.clock_timestamp() - j.backfill_started_at)::float8)
                  ELSE j.rows_per_second END::numeric, 1) AS rows_per_second,
       j.current_batch_size AS batch_size,
       -- The workers on the job now: one per range being filled in a
       -- parallel backfill, else the job's own worker.
       CASE WHEN b.ranges > 0 THEN b.range_workers
            ELSE (l.pid IS NOT NULL)::int END AS workers,
       p.phase AS index_phase,
       p.blocks_done AS index_blocks_done,
       p.blocks_total AS index_blocks_total,
       p.tuples_done AS index_tuples_done,
       p.tuples_total AS index_tuples_total,
       j.throttled,
       j.lock_retries,
       l.pid AS worker_pid,
       j.last_error,
       j.created_at,
       j.start_at,
       j.started_at,
       j.finished_at
  FROM colmig.jobs j
  -- The phase stored names the next step to run; 'queued' until the first
  -- step commits. A job taken up is in its first step meanwhile.
 CROSS JOIN LATERAL (SELECT CASE WHEN j.phase = 'queued' AND j.started_at IS NOT NULL
                                 THEN j.plan[1] ELSE j.phase END AS phase) e
  -- A parallel backfill's ranges: the pages and rows they have done, and
  -- the workers holding one (advisory lock kind 4: job, range).
 CROSS JOIN LATERAL (
       SELECT count(*)::int AS ranges,
              coalesce(sum(r.rows_done), 0)::int8 AS range_rows,
              coalesce(sum(r.cursor_page - r.first_page), j.cursor_page)::int8 AS pages_done,
              (SELECT count(*) FROM pg_catalog.pg_locks rl
                WHERE rl.locktype = 'advisory' AND rl.granted
                  AND rl.database = (SELECT oid FROM pg_catalog.pg_database
                                      WHERE datname = pg_catalog.current_database())
                  AND rl.classid = (j.job_id % 4294967296)::oid
                  AND rl.objsubid = 4)::int AS range_workers
         FROM colmig.job_ranges r WHERE r.job_id = j.job_id) b
  -- How far the backfill is: the share of its pages passed; for a
  -- compact backfill (whose cursor passes a page only once every row there
  -- is filled) the share of the rows estimated where that is more, below 1
  -- until it ends.
 CROSS JOIN LATERAL (
       SELECT coalesce(greatest(
                  least(b.pages_done, j.end_page)::float8 / nullif(j.end_page, 0),
                  -- (least() passes over a NULL: without an estimate of the
                  -- rows, e.g. a Citus shard never analysed, pages only.)
                  CASE WHEN (j.args ->> 'compact')::boolean AND j.rows_total > 0
                       THEN least((j.rows_done + b.range_rows)::float8
                                  / j.rows_total, 0.999) END),
              0) AS done) d
  LEFT JOIN pg_catalog.pg_locks l
         ON l.locktype = 'advisory' AND l.granted
        AND l.database = (SELECT oid FROM pg_catalog.pg_database
                           WHERE datname = pg_catalog.current_database())
        AND l.classid = colmig.job_lock_class()::oid
        AND l.objid = (j.job_id % 4294967296)::oid AND l.objsubid = 3
  LEFT JOIN pg_catalog.pg_stat_progress_create_index p
         ON p.pid = l.pid AND e.phase = 'build_index'
 WHERE colmig.may_control(j.owner);
GRANT SELECT ON colmig.progress TO PUBLIC;
