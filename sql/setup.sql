-- Helpers shared by the regression tests (they run in this order, in one
-- database). colmig itself is created by pg_regress --load-extension.

-- Runs a statement and returns its SQLSTATE and message instead of failing,
-- so a test can show the exact error class of every bad input. Job ids
-- are masked: they depend on how many jobs the tests before made.
CREATE FUNCTION try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS OR query_canceled THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '(colmig job|of job) [0-9]+', '\1 N', 'g');
END
$$;

-- Polls a boolean query until it is true (jobs run in background workers).
CREATE FUNCTION wait_until(query text, timeout interval DEFAULT '60s')
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
    done boolean;
BEGIN
    LOOP
        EXECUTE query INTO done;
        IF done THEN
            RETURN true;
        END IF;
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'timed out waiting for: %', query;
        END IF;
        PERFORM pg_sleep(0.02);
    END LOOP;
END
$$;

-- A gate for backfill expressions: a worker evaluating gate() blocks while
-- this session holds advisory lock 4242, which lets a test stop a job in
-- the middle of its backfill deterministically. The session holding the
-- lock passes through (locks do not conflict with their own holder).
CREATE FUNCTION gate(value anyelement) RETURNS anyelement LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(4242);
    RETURN value;
END
$$;

-- True once a worker is blocked on the gate.
CREATE FUNCTION worker_at_gate() RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (SELECT 1 FROM pg_locks
                    WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted)
$$;

SELECT extname, extversion FROM pg_extension WHERE extname = 'colmig';
