-- colmig 0.1 -> 0.2: jobs become an operation with arguments and a plan of
-- steps; constraint, NOT NULL and concurrent index jobs; waiting without a
-- snapshot. Jobs of 0.1 (all add_column) keep their rows and go on.
\echo Use "ALTER EXTENSION colmig UPDATE TO '0.2'" to load this file. \quit

ALTER TABLE colmig.jobs DROP CONSTRAINT jobs_operation_check;
ALTER TABLE colmig.jobs ADD CONSTRAINT jobs_operation_check
    CHECK (operation IN ('add_column', 'set_not_null', 'add_check', 'add_foreign_key',
                         'validate_constraint', 'create_index', 'drop_index'));
-- Only the column operations have a column (and only add_column a type).
ALTER TABLE colmig.jobs ALTER COLUMN column_name DROP NOT NULL;
ALTER TABLE colmig.jobs ALTER COLUMN column_type DROP NOT NULL;

-- target: what the job changes, for people (the column, constraint or
-- index name at creation). args: the operation's arguments as validated
-- and analysed when the job was created (docs/workers.md lists them per
-- operation); add_column keeps its own typed columns above, which 0.1
-- wrote and which the checks against a second job on a column read. plan: the names of the
-- steps, in order, as the planner derived them (phase names the next one).
-- constraint_oids: the constraints a validate_constraints step works
-- through, cursor_page counting those done.
ALTER TABLE colmig.jobs ADD COLUMN target text;
ALTER TABLE colmig.jobs ADD COLUMN args jsonb NOT NULL DEFAULT '{}';
ALTER TABLE colmig.jobs ADD COLUMN plan text[];
ALTER TABLE colmig.jobs ADD COLUMN constraint_oids oid[];

-- The plans of 0.1 were fixed by its add_column planner; this is that
-- planner, frozen, for the jobs it made.
UPDATE colmig.jobs
   SET target = column_name,
       plan = CASE
           WHEN backfill_expr IS NULL AND NOT default_volatile THEN ARRAY['add_column']
           ELSE ARRAY['add_column_for_backfill', 'backfill', 'sweep', 'verify']
                || CASE WHEN not_null
                        THEN ARRAY['add_not_null_check', 'validate_not_null_check',
                                   'set_not_null']
                        ELSE ARRAY[]::text[] END
                || ARRAY['drop_fill_trigger']
       END;
ALTER TABLE colmig.jobs ALTER COLUMN target SET NOT NULL;
ALTER TABLE colmig.jobs ALTER COLUMN plan SET NOT NULL;
ALTER TABLE colmig.jobs ADD CONSTRAINT jobs_plan_not_empty CHECK (cardinality(plan) > 0);

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
           WHEN j.phase = 'backfill' AND j.end_page > 0
               THEN round(100.0 * least(j.cursor_page, j.end_page) / j.end_page, 1)
           WHEN j.phase = 'backfill' THEN 0.0
           ELSE 100.0
       END AS percent,
       CASE
           WHEN j.phase = 'backfill' AND j.state = 'running'
                AND j.cursor_page > 0 AND j.end_page > j.cursor_page
               THEN pg_catalog.date_trunc('second',
                    (pg_catalog.now() - j.backfill_started_at)
                    * ((j.end_page - j.cursor_page)::float8 / j.cursor_page))
       END AS eta,
       j.rows_done,
       j.rows_total,
       round(j.rows_per_second::numeric, 1) AS rows_per_second,
       j.current_batch_size AS batch_size,
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

-- The new operations. Each validates its arguments in the caller's
-- session (nothing is stored when one is wrong), stores the job with its
-- plan and returns its id at once. The common options: throttle => false
-- runs without health waits; window_start/window_end bound when the job's
-- steps may start (NULL: colmig.run_window); start_at delays the start.
CREATE FUNCTION colmig.set_not_null(
    tbl regclass,
    col name,
    throttle boolean DEFAULT true,
    window_start time DEFAULT NULL,
    window_end time DEFAULT NULL,
    start_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'colmig_set_not_null';

CREATE FUNCTION colmig.add_check(
    tbl regclass,
    conname name,
    expr text,
    throttle boolean DEFAULT true,
    window_start time DEFAULT NULL,
    window_end time DEFAULT NULL,
    start_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'colmig_add_check';

CREATE FUNCTION colmig.add_foreign_key(
    tbl regclass,
    cols name[],
    reftbl regclass,
    refcols name[],
    conname name DEFAULT NULL,
    on_delete text DEFAULT 'NO ACTION',
    on_update text DEFAULT 'NO ACTION',
    throttle boolean DEFAULT true,
    window_start time DEFAULT NULL,
    window_end time DEFAULT NULL,
    start_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'colmig_add_foreign_key';

-- conname NULL: every NOT VALID constraint of tbl.
CREATE FUNCTION colmig.validate_constraint(
    tbl regclass,
    conname name DEFAULT NULL,
    throttle boolean DEFAULT true,
    window_start time DEFAULT NULL,
    window_end time DEFAULT NULL,
    start_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'colmig_validate_constraint';

CREATE FUNCTION colmig.create_index(
    tbl regclass,
    index_name name,
    columns text,
    is_unique boolean DEFAULT false,
    method text DEFAULT 'btree',
    predicate text DEFAULT NULL,
    include name[] DEFAULT NULL,
    throttle boolean DEFAULT true,
    window_start time DEFAULT NULL,
    window_end time DEFAULT NULL,
    start_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'colmig_create_index';

CREATE FUNCTION colmig.drop_index(
    index regclass,
    throttle boolean DEFAULT true,
    window_start time DEFAULT NULL,
    window_end time DEFAULT NULL,
    start_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'colmig_drop_index';

-- Waits like colmig.wait(), but commits between polls: it holds no
-- snapshot while it waits, so it neither pins the xmin horizon (vacuum
-- can remove the backfill's dead rows) nor makes a CREATE INDEX
-- CONCURRENTLY of the job wait for it. Cannot run inside a transaction
-- block. `state` returns the final state.
CREATE PROCEDURE colmig.wait_job(
    job_id bigint,
    timeout interval DEFAULT NULL,
    INOUT state text DEFAULT NULL)
LANGUAGE C
AS 'MODULE_PATHNAME', 'colmig_wait_job';
