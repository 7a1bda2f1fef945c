-- colmig 0.1: the job table, the progress view and the SQL API.
\echo Use "CREATE EXTENSION colmig" to load this file. \quit

-- One row per job: the single source of truth. Everything a worker learns is
-- committed here, in the same transaction as the work it describes.
CREATE TABLE colmig.jobs (
    job_id              bigserial PRIMARY KEY,
    operation           text NOT NULL DEFAULT 'add_column'
                        CHECK (operation IN ('add_column')),
    relid               oid NOT NULL,
    relation            text NOT NULL,          -- qualified name at creation
    column_name         name NOT NULL,
    column_type         text NOT NULL,          -- as format_type() prints it
    default_expr        text,
    backfill_expr       text,
    default_volatile    boolean NOT NULL DEFAULT false,
    not_null            boolean NOT NULL DEFAULT false,
    batch_size          integer CHECK (batch_size > 0),   -- NULL: adaptive
    throttle            boolean NOT NULL DEFAULT true,    -- false: no health waits
    window_start        time,                   -- NULL: colmig.run_window
    window_end          time,
    start_at            timestamptz,            -- the job stays queued until then
    launch_requested_at timestamptz,            -- run_pending() asked a worker for it
    search_path         text NOT NULL,          -- the creator's, used for every statement
    owner               oid NOT NULL,           -- the role the job runs as
    state               text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'paused',
                                         'succeeded', 'failed', 'cancelled')),
    phase               text NOT NULL DEFAULT 'queued',
    cleanup_needed      boolean NOT NULL DEFAULT false,  -- our trigger or check may exist
    cursor_page         bigint NOT NULL DEFAULT 0,
    end_page            bigint,
    rows_done           bigint NOT NULL DEFAULT 0,
    rows_total          bigint,
    rows_per_second     double precision,
    current_batch_size  integer,
    throttled           text,                   -- why the worker holds back now
    lock_retries        integer NOT NULL DEFAULT 0,
    last_error          text,
    last_sqlstate       text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    backfill_started_at timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_active ON colmig.jobs (job_id)
    WHERE state IN ('queued', 'running')
       OR (cleanup_needed AND state IN ('failed', 'cancelled'));
REVOKE ALL ON colmig.jobs FROM PUBLIC;
REVOKE ALL ON SEQUENCE colmig.jobs_job_id_seq FROM PUBLIC;
-- pg_dump keeps the history of finished jobs only: a restored unfinished
-- job would name table and role OIDs of another cluster.
SELECT pg_catalog.pg_extension_config_dump('colmig.jobs',
    $$WHERE state IN ('succeeded', 'failed', 'cancelled') AND NOT cleanup_needed$$);
SELECT pg_catalog.pg_extension_config_dump('colmig.jobs_job_id_seq', '');

COMMENT ON TABLE colmig.jobs IS
    'colmig jobs; read colmig.progress, change them through colmig functions';

-- The API is open to every role; what a role may do is checked per table
-- (ownership) and per job (the job's owner).
GRANT USAGE ON SCHEMA colmig TO PUBLIC;

-- Members of colmig_admin see and control every job, like superusers.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'colmig_admin') THEN
        CREATE ROLE colmig_admin NOLOGIN;
    END IF;
END
$$;

-- Whether the current user may see and control jobs owned by `owner`.
CREATE FUNCTION colmig.may_control(owner oid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT pg_catalog.pg_has_role(current_user, owner, 'USAGE')
            OR pg_catalog.pg_has_role(current_user, 'colmig_admin', 'MEMBER')
            OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
    $$;

-- A job runs while its worker holds this session advisory lock; a job in
-- state 'running' whose lock is free has lost its worker and is resumable.
CREATE FUNCTION colmig.job_lock_class() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT 1668246637 $$;

CREATE VIEW colmig.progress AS
SELECT j.job_id,
       coalesce((SELECT c.oid::regclass::text FROM pg_catalog.pg_class c
                  WHERE c.oid = j.relid), j.relation) AS relation,
       j.column_name,
       j.operation,
       j.state,
       j.phase,
       j.rows_done,
       j.rows_total,
       CASE
           WHEN j.state = 'succeeded' THEN 100.0
           WHEN j.end_page IS NULL THEN 0.0
           WHEN j.phase = 'backfill' AND j.end_page > 0
               THEN round(100.0 * least(j.cursor_page, j.end_page) / j.end_page, 1)
           WHEN j.phase = 'backfill' THEN 0.0
           ELSE 100.0
       END AS percent,
       round(j.rows_per_second::numeric, 1) AS rows_per_second,
       CASE
           WHEN j.phase = 'backfill' AND j.state = 'running'
                AND j.cursor_page > 0 AND j.end_page > j.cursor_page
               THEN pg_catalog.date_trunc('second',
                    (pg_catalog.now() - j.backfill_started_at)
                    * ((j.end_page - j.cursor_page)::float8 / j.cursor_page))
       END AS eta,
       j.current_batch_size AS batch_size,
       j.throttled,
       j.lock_retries,
       l.pid AS worker_pid,
       j.last_error,
       j.created_at,
       j.start_at,
       j.started_at,
       j.finished_at
  FROM colmig.jobs j
  LEFT JOIN pg_catalog.pg_locks l
         ON l.locktype = 'advisory' AND l.granted
        AND l.database = (SELECT oid FROM pg_catalog.pg_database
                           WHERE datname = pg_catalog.current_database())
        AND l.classid = colmig.job_lock_class()::oid
        AND l.objid = j.job_id::oid AND l.objsubid = 2
 WHERE colmig.may_control(j.owner);
GRANT SELECT ON colmig.progress TO PUBLIC;

-- The API. add_column deliberately has no SET search_path: it parses the
-- type and expressions in the caller's search_path and stores that path
-- with the job; it pins its own path internally for its catalog work.
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
    start_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'colmig_add_column';

CREATE FUNCTION colmig.pause(job_id bigint) RETURNS void
    LANGUAGE C STRICT VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'colmig_pause';

CREATE FUNCTION colmig.resume(job_id bigint) RETURNS void
    LANGUAGE C STRICT VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'colmig_resume';

CREATE FUNCTION colmig.cancel(job_id bigint) RETURNS void
    LANGUAGE C STRICT VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'colmig_cancel';

CREATE FUNCTION colmig.wait(job_id bigint, timeout interval DEFAULT NULL)
    RETURNS text
    LANGUAGE C CALLED ON NULL INPUT VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'colmig_wait';

-- The trigger a backfill puts on its table while it runs, for the rows
-- the application writes meanwhile. Arguments: the column, the expression
-- and the search_path it is parsed with. No SET clause: it runs in every
-- application write, and a per-call search_path change would cost each one.
CREATE FUNCTION colmig.fill_column() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'colmig_fill_column';

-- Where a throttled backfill batch gives back the CPU: the batch statement
-- calls it once per row, and now and then it rests there a few
-- milliseconds (colmig.batch_slice). Always true; outside a batch it does
-- nothing.
CREATE FUNCTION colmig.pace() RETURNS boolean
    LANGUAGE C VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'colmig_pace';

-- Starts workers for this database's runnable jobs, for servers where
-- colmig is not in shared_preload_libraries (call it from pg_cron).
-- Returns how many workers it started. Safe to call often and at once
-- from several sessions: a job is handed to one worker at a time.
CREATE FUNCTION colmig.run_pending() RETURNS integer
    LANGUAGE C STRICT VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'colmig_run_pending';

