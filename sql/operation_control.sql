-- pause(), resume() and run windows for the constraint and index jobs:
-- the same rules as for add_column (job_control.sql). A pause lets the
-- running statement end but commits nothing of its step; resume goes on
-- from the stored phase; a job outside its run window is not started.

CREATE TABLE ctl_items (id int PRIMARY KEY, qty int);
INSERT INTO ctl_items SELECT g, g FROM generate_series(1, 200) g;
-- Blocks while this session holds advisory lock 4242 (see gate() in
-- setup.sql); IMMUTABLE so that an index may call it.
CREATE FUNCTION ctl_gated(value int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(4242);
    RETURN value;
END
$$;
-- Waits until no worker holds the job, committing between polls: a poll
-- that held its snapshot (wait_until()) would make the job's CREATE INDEX
-- CONCURRENTLY wait for this session, as colmig.wait() would.
CREATE PROCEDURE ctl_wait_idle(job bigint) LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + interval '60s';
BEGIN
    LOOP
        EXIT WHEN (SELECT worker_pid IS NULL FROM colmig.progress WHERE job_id = job);
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'timed out waiting for the worker of job % to let go', job;
        END IF;
        COMMIT;
        PERFORM pg_sleep(0.02);
    END LOOP;
END
$$;
CREATE FUNCTION ctl_job(job bigint) RETURNS text LANGUAGE sql AS $$
    SELECT state || ' ' || phase || ' ' || step FROM colmig.progress WHERE job_id = job
$$;

-- Pausing a VALIDATE that runs: the scan ends, its step rolls back with
-- it, and the constraint stays NOT VALID until the job is resumed.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_check('ctl_items', 'ctl_qty_positive', 'ctl_gated(qty) > 0') AS job \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT ctl_job(:job);
SELECT colmig.pause(:job);
SELECT pg_advisory_unlock(4242);
SELECT wait_until(format('SELECT worker_pid IS NULL FROM colmig.progress WHERE job_id = %s', :job));
SELECT ctl_job(:job);
SELECT convalidated FROM pg_constraint WHERE conname = 'ctl_qty_positive';
SELECT colmig.resume(:job);
CALL colmig.wait_job(:job, '60s');
SELECT convalidated FROM pg_constraint WHERE conname = 'ctl_qty_positive';

-- A cancel rolled back, to a savepoint too, leaves the job running: the
-- worker's statement is interrupted only when a cancel commits.
ALTER TABLE ctl_items DROP CONSTRAINT ctl_qty_positive;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_check('ctl_items', 'ctl_qty_positive', 'ctl_gated(qty) > 0') AS job \gset
SELECT wait_until('SELECT worker_at_gate()');
BEGIN;
SAVEPOINT before_cancel;
SELECT colmig.cancel(:job);
ROLLBACK TO SAVEPOINT before_cancel;
COMMIT;
BEGIN;
SELECT colmig.cancel(:job);
ROLLBACK;
SELECT pg_advisory_unlock(4242);
CALL colmig.wait_job(:job, '60s');

-- A user's NOT VALID check is validated whatever its name: colmig's own
-- checks are told apart by what they call, not by their names.
ALTER TABLE ctl_items ADD CONSTRAINT colmig_999_not_null CHECK (qty > 0) NOT VALID;
SELECT colmig.validate_constraint('ctl_items') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT target FROM colmig.progress WHERE job_id = :job;
SELECT convalidated FROM pg_constraint WHERE conname = 'colmig_999_not_null';
ALTER TABLE ctl_items DROP CONSTRAINT colmig_999_not_null;

-- Pausing an index build: the build runs to its end (an interrupted
-- CREATE INDEX CONCURRENTLY would leave an invalid index), the job stops
-- before its rename, and resume uses the index it built.
SELECT pg_advisory_lock(4242);
SELECT colmig.create_index('ctl_items', 'ctl_items_gated', 'ctl_gated(qty)') AS job \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT colmig.pause(:job);
SELECT pg_advisory_unlock(4242);
CALL ctl_wait_idle(:job);
SELECT ctl_job(:job);
SELECT count(*) AS built_under_the_jobs_name FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
 WHERE i.indrelid = 'ctl_items'::regclass AND c.relname ~ '^colmig_[0-9]+_index$' AND i.indisvalid;
SELECT colmig.resume(:job);
CALL colmig.wait_job(:job, '60s');
SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'ctl_items'::regclass ORDER BY 1;

-- A job outside its run window waits, without a worker, while a job
-- created after it runs; cancelled there, it leaves nothing behind.
SELECT colmig.create_index('ctl_items', 'ctl_items_later', 'qty',
           window_start => date_trunc('minute', now() + interval '2 hours')::time,
           window_end => date_trunc('minute', now() + interval '3 hours')::time) AS windowed \gset
SELECT colmig.set_not_null('ctl_items', 'qty') AS later \gset
CALL colmig.wait_job(:later, '60s');
SELECT ctl_job(:windowed), worker_pid IS NULL AS no_worker FROM colmig.progress
 WHERE job_id = :windowed;
SELECT colmig.cancel(:windowed);
CALL colmig.wait_job(:windowed, '60s');
SELECT count(*) AS indexes_named_later FROM pg_class WHERE relname IN ('ctl_items_later');

DROP TABLE ctl_items;
DROP FUNCTION ctl_gated(int), ctl_job(bigint);
DROP PROCEDURE ctl_wait_idle(bigint);
