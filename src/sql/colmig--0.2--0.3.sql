-- colmig 0.2 -> 0.3: parallel and compact backfills. One new table (the
-- page ranges of parallel backfills), add_column's two new arguments and
-- the progress view that sums the ranges. Jobs of 0.2 keep their rows and
-- go on: they run with one worker, as they were made.

-- The page ranges of a parallel backfill (src/catalog/ranges.hpp): pages
-- [first_page, end_page) of the job's table, done up to cursor_page. Each
-- batch commits its rows and its range's cursor together; the job's worker
-- deletes the ranges in the transaction that begins the sweep. Not dumped,
-- like the unfinished jobs they belong to.
CREATE TABLE colmig.job_ranges (
    job_id      bigint NOT NULL REFERENCES colmig.jobs ON DELETE CASCADE,
    range_no    integer NOT NULL CHECK (range_no >= 0),
    first_page  bigint NOT NULL CHECK (first_page >= 0),
    end_page    bigint NOT NULL CHECK (end_page > first_page),
    cursor_page bigint NOT NULL,
    rows_done   bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, range_no),
    CHECK (cursor_page BETWEEN first_page AND end_page)
);
REVOKE ALL ON colmig.job_ranges FROM PUBLIC;

-- parallel: workers for the backfill (NULL: colmig.parallel); compact:
-- fill rows in place so that the table does not grow by a copy of itself
-- (NULL: colmig.compact). Both are stored in args.
DROP FUNCTION colmig.add_column(regclass, name, text, text, text, boolean, integer,
                                boolean, time, time, timestamptz, boolean);
CREATE FUNCTION colmig.add_column(
    tbl regclass,
    col name,
    coltype text,
    default_expr text DEFAULT NULL,
    backfill_expr text DEFAULT NULL,
    not_null boolean DEFAULT false,
    batch_size integer DEFAULT NULL,
    throttle boolean DEFAULT true,
    window_start time DEFAULT NULL,
    window_end time DEFAULT NULL,
    start_at timestamptz DEFAULT NULL,
    fire_triggers boolean DEFAULT false,
    parallel integer DEFAULT NULL,
    compact boolean DEFAULT NULL)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'colmig_add_column';

-- The progress of a parallel backfill sums its ranges.
DROP VIEW colmig.progress;
-- security_barrier: a caller's own function in a WHERE clause must not see
-- the rows of jobs it may not see (last_error can carry row data).
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
                  CASE WHEN (j.args ->> 'compact')::boolean
                       THEN least((j.rows_done + b.range_rows)::float8
                                  / nullif(j.rows_total, 0), 0.999) END),
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
