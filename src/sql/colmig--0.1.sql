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
    column_attnum       smallint,               -- once added: followed by number
    column_type         text NOT NULL,          -- as format_type() prints it
    default_expr        text,                   -- the caller's text, for people
    backfill_expr       text,
    -- What runs: the expressions as add_column() analysed them (nodeToString,
    -- like pg_attrdef.adbin), never parsed again. fill_node gives existing
    -- rows their value (backfill_expr, else the default).
    default_node        text,
    fill_node           text,
    default_volatile    boolean NOT NULL DEFAULT false,
    not_null            boolean NOT NULL DEFAULT false,
    batch_size          integer CHECK (batch_size > 0),   -- NULL: adaptive
    throttle            boolean NOT NULL DEFAULT true,    -- false: no health waits
    fire_triggers       boolean NOT NULL DEFAULT false,   -- batches fire row triggers
    window_start        time,                   -- NULL: colmig.run_window
    window_end          time,
    start_at            timestamptz,            -- the job stays queued until then
    launch_requested_at timestamptz,            -- run_pending() asked a worker for it
    owner               oid NOT NULL,           -- the role the job runs as
    -- The creator's settings that what the expression calls may depend on
    -- when it runs (src/core/evaluation_settings.hpp: search_path, with
    -- pg_temp last, TimeZone, DateStyle, IntervalStyle, extra_float_digits,
    -- bytea_output, in that order). Batches and the fill trigger evaluate
    -- with them; the job's DDL parses nothing with them.
    settings            text[] NOT NULL,
    state               text NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'running', 'paused',
                                         'succeeded', 'failed', 'cancelled')),
    phase               text NOT NULL DEFAULT 'queued',
    cleanup_needed      boolean NOT NULL DEFAULT false,  -- our trigger or check may exist
    -- Workers that took the job up since it last made progress; a job whose
    -- worker keeps dying fails after colmig.max_attempts of them.
    attempts            integer NOT NULL DEFAULT 0,
    -- The fill trigger as created (its pg_trigger row's OID and xmin): any
    -- change to it (disabled, dropped, altered) is seen.
    fill_trigger        oid,
    fill_trigger_xmin   bigint,
    -- The table's relfilenode when the sweep began, and how often a rewrite
    -- of the table made it begin again.
    sweep_filenode      oid,
    sweep_restarts      integer NOT NULL DEFAULT 0,
    -- How many rows the fill trigger had left NULL (colmig.fill_errors)
    -- when the sweep began.
    fill_error_count    bigint,
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

-- What each unfinished job's expressions use (functions, operators, types,
-- collations, the table's columns), as PostgreSQL records them for a column
-- default. colmig.protect_job_dependencies() refuses to drop any of them
-- while the job lives. Not dumped: it names OIDs of this cluster.
CREATE TABLE colmig.job_dependencies (
    job_id   bigint NOT NULL REFERENCES colmig.jobs ON DELETE CASCADE,
    classid  oid NOT NULL,
    objid    oid NOT NULL,
    objsubid integer NOT NULL,
    PRIMARY KEY (classid, objid, objsubid, job_id)
);
CREATE INDEX job_dependencies_job ON colmig.job_dependencies (job_id);
REVOKE ALL ON colmig.job_dependencies FROM PUBLIC;

-- One row per row a fill trigger left NULL because its expression raised
-- there (src/catalog/fill_errors.hpp): written by colmig's C code in the
-- application's transaction, read by the job's proof. Closed to PUBLIC,
-- so no role can make another's sweep begin again.
CREATE TABLE colmig.fill_errors (
    job_id bigint NOT NULL
);
CREATE INDEX fill_errors_job ON colmig.fill_errors (job_id);
REVOKE ALL ON colmig.fill_errors FROM PUBLIC;

-- The roles whose members see and control every job, like superusers:
-- colmig_admin when this script created it. A role of that name that
-- existed before is not trusted until a superuser says so with
-- colmig.trust_admin_role(): whoever created it could have made it theirs.
-- Roles are cluster-wide, so a colmig_admin that colmig created for another
-- database of the cluster must be trusted here in the same way.
CREATE TABLE colmig.admin_roles (
    role_oid oid PRIMARY KEY
);
REVOKE ALL ON colmig.admin_roles FROM PUBLIC;
GRANT SELECT ON colmig.admin_roles TO PUBLIC;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'colmig_admin') THEN
        CREATE ROLE colmig_admin NOLOGIN;
        INSERT INTO colmig.admin_roles
            SELECT oid FROM pg_catalog.pg_roles WHERE rolname = 'colmig_admin';
    ELSE
        RAISE WARNING 'role "colmig_admin" already exists; colmig does not trust it'
            USING DETAIL = 'Its members get no rights over colmig jobs in this database.',
                  HINT = 'If it is the role colmig created in another database, or yours, '
                         'a superuser can trust it: SELECT colmig.trust_admin_role();';
    END IF;
END
$$;

CREATE FUNCTION colmig.trust_admin_role() RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
            RAISE EXCEPTION 'only a superuser can trust colmig_admin'
                USING ERRCODE = '42501';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'colmig_admin') THEN
            RAISE EXCEPTION 'role "colmig_admin" does not exist' USING ERRCODE = '42704';
        END IF;
        INSERT INTO colmig.admin_roles
            SELECT oid FROM pg_catalog.pg_roles WHERE rolname = 'colmig_admin'
            ON CONFLICT DO NOTHING;
    END
    $$;
REVOKE ALL ON FUNCTION colmig.trust_admin_role() FROM PUBLIC;

-- Whether the current user may see and control jobs owned by `owner`.
CREATE FUNCTION colmig.may_control(owner oid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        -- CASE, not AND: a job can outlive its owner role (the table was
        -- dropped, then the role), and pg_has_role() raises for a role
        -- that no longer exists.
        SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE oid = owner)
                    THEN pg_catalog.pg_has_role(current_user, owner, 'USAGE')
                    ELSE false END
            OR EXISTS (SELECT 1 FROM colmig.admin_roles a
                         JOIN pg_catalog.pg_roles r ON r.oid = a.role_oid
                        WHERE pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))
            OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
    $$;

-- A job runs while its worker holds a session advisory lock of this class
-- (of a kind SQL cannot take: field 4 is 3); a job in state 'running'
-- whose lock is free has lost its worker and is resumable.
CREATE FUNCTION colmig.job_lock_class() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT 1668246637 $$;

-- security_barrier: a caller's own function in a WHERE clause must not see
-- the rows of jobs it may not see (last_error can carry row data).
CREATE VIEW colmig.progress WITH (security_barrier) AS
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
        AND l.objid = (j.job_id % 4294967296)::oid AND l.objsubid = 3
 WHERE colmig.may_control(j.owner);
GRANT SELECT ON colmig.progress TO PUBLIC;

-- The API. add_column analyses the type and the expressions in the
-- caller's session, with the caller's search_path, and stores what it
-- analysed (names bound to objects); it pins its own path internally for
-- its catalog work.
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
    fire_triggers boolean DEFAULT false)
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

-- The function of the fill trigger a backfill puts on its table while the
-- job lives (an internal trigger, ENABLE ALWAYS, named to fire after the
-- table's own BEFORE triggers). It fills the new column of the rows the
-- application writes meanwhile with the job's analysed expression. It only
-- runs as colmig's own trigger. No SET clause: it runs in every
-- application write.
CREATE FUNCTION colmig.fill_column() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'colmig_fill_column';

-- Part of the NOT VALID check a job adds before SET NOT NULL:
-- CHECK (col IS NOT NULL AND colmig.check_of_job(<job>)). Always true, so
-- PostgreSQL still proves NOT NULL from the check; it ties the check to
-- colmig (DROP EXTENSION ... CASCADE removes it) and to the job (one
-- restored from a dump without its job is dropped, see below).
CREATE FUNCTION colmig.check_of_job(job_id bigint) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN true;

-- Starts workers for this database's runnable jobs, for servers where
-- colmig is not in shared_preload_libraries (call it from pg_cron).
-- Returns how many workers it started. Safe to call often and at once
-- from several sessions: a job is handed to one worker at a time.
CREATE FUNCTION colmig.run_pending() RETURNS integer
    LANGUAGE C STRICT VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'colmig_run_pending';

-- Nothing a live job's expressions use can be dropped: DROP FUNCTION (or
-- TYPE, OPERATOR, COLUMN, ...) of such an object is refused with 2BP01
-- while the job is unfinished or has helpers left. With CASCADE the drop
-- goes through, as it would drop a column default, and the job fails.
CREATE FUNCTION colmig.protect_job_dependencies() RETURNS event_trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'colmig_protect_job_dependencies';
CREATE EVENT TRIGGER colmig_protect_job_dependencies ON sql_drop
    EXECUTE FUNCTION colmig.protect_job_dependencies();
ALTER EVENT TRIGGER colmig_protect_job_dependencies ENABLE ALWAYS;

-- A job's NOT VALID check without its job (pg_dump took it while the job
-- ran, and the job itself is not dumped; or CREATE TABLE ... (LIKE t
-- INCLUDING CONSTRAINTS) copied it) is dropped when it is created, so no
-- table has a colmig check that no job will ever remove.
CREATE FUNCTION colmig.drop_orphaned_checks() RETURNS event_trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'colmig_drop_orphaned_checks';
CREATE EVENT TRIGGER colmig_drop_orphaned_checks ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE')
    EXECUTE FUNCTION colmig.drop_orphaned_checks();
ALTER EVENT TRIGGER colmig_drop_orphaned_checks ENABLE ALWAYS;
