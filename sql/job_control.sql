-- pause, resume, cancel and wait.
CREATE TABLE items (id bigint PRIMARY KEY, weight int NOT NULL);
INSERT INTO items SELECT g, g % 50 FROM generate_series(1, 5000) g;

-- A job paused before it started stays queued-then-paused and never runs
-- until resumed; resume continues it.
BEGIN;
SELECT colmig.add_column('items', 'grams', 'int', backfill_expr => 'weight * 1000')
    AS job_grams \gset
SELECT colmig.pause(:job_grams);
COMMIT;
SELECT pg_sleep(0.5);
SELECT state, phase, started_at IS NULL AS never_started FROM colmig.progress WHERE job_id = :job_grams;
SELECT count(*) AS has_column FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'grams';
SELECT try(format('SELECT colmig.wait(%s, %L)', :job_grams, '200ms'));
SELECT colmig.resume(:job_grams);
SELECT colmig.wait(:job_grams, '60s');
SELECT count(*) FILTER (WHERE grams = weight * 1000) AS correct FROM items;

-- Pause in the middle of the backfill: the batch under way rolls back and
-- the worker stops; the trigger keeps new rows right meanwhile; resume goes
-- on from the cursor.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('items', 'tag', 'text',
                         backfill_expr => $$CASE WHEN id > 2000 THEN gate('tag-' || id)
                                                 ELSE 'tag-' || id END$$,
                         not_null => true, batch_size => 100) AS job_tag \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT colmig.pause(:job_tag);
SELECT pg_advisory_unlock(4242);
SELECT wait_until(format('SELECT worker_pid IS NULL FROM colmig.progress WHERE job_id = %s', :job_tag));
SELECT state, phase, rows_done > 0 AS some_rows, rows_done < 5000 AS not_all_rows
  FROM colmig.progress WHERE job_id = :job_tag;
INSERT INTO items VALUES (5001, 7);
SELECT tag FROM items WHERE id = 5001;
SELECT count(*) AS triggers_while_paused FROM pg_trigger WHERE tgrelid = 'items'::regclass;
SELECT colmig.resume(:job_tag);
SELECT colmig.wait(:job_tag);
SELECT count(*) FILTER (WHERE tag = 'tag-' || id) AS correct, count(*) AS rows FROM items;

-- Cancel in the middle of the backfill: the job stops, its trigger goes,
-- the column stays (documented), half-filled.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('items', 'code', 'text', backfill_expr => $$gate('c' || id)$$,
                         batch_size => 100) AS job_code \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT colmig.cancel(:job_code);
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_code);
SELECT state, finished_at IS NOT NULL AS finished FROM colmig.progress WHERE job_id = :job_code;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'items'::regclass;
SELECT count(*) AS has_column FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'code';
SELECT count(code) < count(*) AS partly_filled FROM items;

-- Transitions that make no sense are refused with 55000 and change nothing.
SELECT try(format('SELECT colmig.pause(%s)', :job_grams));
SELECT try(format('SELECT colmig.resume(%s)', :job_grams));
SELECT try(format('SELECT colmig.cancel(%s)', :job_grams));
SELECT try(format('SELECT colmig.cancel(%s)', :job_code));
SELECT state FROM colmig.progress WHERE job_id IN (:job_grams, :job_code) ORDER BY job_id;

-- wait() cannot see a job created in its own transaction (also in a
-- subtransaction of it), nor progress under REPEATABLE READ: it says so
-- instead of hanging.
BEGIN;
SELECT colmig.add_column('items', 'extra', 'int') AS job_extra \gset
SELECT try(format('SELECT colmig.wait(%s)', :job_extra));
ROLLBACK;
BEGIN;
SAVEPOINT inner_job;
SELECT colmig.add_column('items', 'extra', 'int') AS job_extra \gset
RELEASE SAVEPOINT inner_job;
SELECT try(format('SELECT colmig.wait(%s)', :job_extra));
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT try(format('SELECT colmig.wait(%s)', :job_grams));
COMMIT;

-- A job whose table is dropped while it is paused fails when resumed; it
-- never acts on another table of that name.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('items', 'gone', 'text', backfill_expr => $$gate('g' || id)$$,
                         batch_size => 100) AS job_gone \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT colmig.pause(:job_gone);
SELECT pg_advisory_unlock(4242);
SELECT wait_until(format('SELECT worker_pid IS NULL FROM colmig.progress WHERE job_id = %s', :job_gone));
DROP TABLE items;
CREATE TABLE items (id bigint PRIMARY KEY, weight int NOT NULL);
SELECT colmig.resume(:job_gone);
SELECT try(format('SELECT colmig.wait(%s)', :job_gone));
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s', :job_gone));
SELECT count(*) AS fill_triggers FROM pg_trigger WHERE tgrelid = 'items'::regclass;
SELECT count(*) AS gone_columns FROM pg_attribute
 WHERE attrelid = 'items'::regclass AND attname = 'gone';

-- The job's SQL cannot steer the worker: a search_path it sets with
-- set_config() ends with its batch, so the worker's own statements never
-- resolve through a schema the job chose.
CREATE SCHEMA hijack;
CREATE FUNCTION hijack.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the worker resolved a name through the job''s search_path'; END $$;
INSERT INTO items SELECT g, g FROM generate_series(1, 300) g;
SELECT colmig.add_column('items', 'steered', 'int', batch_size => 100, backfill_expr =>
    $$CASE WHEN pg_catalog.set_config('search_path', 'hijack, pg_catalog', false) IS NULL
          THEN 0 ELSE weight END$$) AS job_steer \gset
SELECT colmig.wait(:job_steer);
SELECT count(*) FILTER (WHERE steered = weight) AS correct FROM items;

-- A job whose SQL releases the worker's claim on it stops with an error
-- instead of running on beside another worker.
CREATE FUNCTION release_claims(w int) RETURNS int LANGUAGE sql
    AS 'SELECT w FROM (SELECT pg_advisory_unlock_all()) AS release';
SELECT colmig.add_column('items', 'unclaimed', 'int', batch_size => 100,
    backfill_expr => 'release_claims(weight)') AS job_unclaimed \gset
SELECT try(format('SELECT colmig.wait(%s)', :job_unclaimed));

-- No role can freeze a job by taking its advisory lock first: the claim
-- is a kind of advisory lock no SQL function takes.
BEGIN;
SELECT colmig.add_column('items', 'unfrozen', 'int', backfill_expr => 'weight')
    AS job_unfrozen \gset
SELECT pg_advisory_lock(colmig.job_lock_class(), :job_unfrozen::int);
SELECT pg_advisory_lock(:job_unfrozen::bigint);
COMMIT;
SELECT colmig.wait(:job_unfrozen, '60s');
SELECT pg_advisory_unlock_all();

-- Outside its run window a job waits before its first step, and says why.
SELECT colmig.add_column('items', 'later', 'int', backfill_expr => 'weight',
                         window_start => date_trunc('minute', localtime + interval '2 hours')::time,
                         window_end => date_trunc('minute', localtime + interval '3 hours')::time) AS job_later \gset
SELECT wait_until(format($$SELECT throttled LIKE 'outside run window __:__-__:__'
                             FROM colmig.progress WHERE job_id = %s$$, :job_later));
SELECT state, phase FROM colmig.progress WHERE job_id = :job_later;
SELECT count(*) AS later_columns FROM pg_attribute
 WHERE attrelid = 'items'::regclass AND attname = 'later';
SELECT colmig.cancel(:job_later);
SELECT colmig.wait(:job_later);

-- throttle => false ignores the window (and every health signal).
SELECT colmig.add_column('items', 'now_please', 'int', backfill_expr => 'weight',
                         throttle => false,
                         window_start => date_trunc('minute', localtime + interval '2 hours')::time,
                         window_end => date_trunc('minute', localtime + interval '3 hours')::time) AS job_now \gset
SELECT colmig.wait(:job_now);

-- The global run window (colmig.run_window): a running job holds back
-- outside it and goes on by itself when the window opens (here: when the
-- setting changes, which a worker picks up on reload).
SELECT format('%s-%s', to_char(localtime + interval '2 hours', 'HH24:MI'),
                       to_char(localtime + interval '3 hours', 'HH24:MI')) AS closed_window \gset
ALTER SYSTEM SET colmig.run_window = :'closed_window';
SELECT pg_reload_conf();
-- The postmaster reloads at once on the signal, before it forks the
-- worker the job below asks for; workers already running reload too.
SELECT colmig.add_column('items', 'windowed', 'int', backfill_expr => 'weight')
    AS job_windowed \gset
SELECT wait_until(format($$SELECT throttled LIKE 'outside run window %%'
                             FROM colmig.progress WHERE job_id = %s$$, :job_windowed));
SELECT state FROM colmig.progress WHERE job_id = :job_windowed;
ALTER SYSTEM RESET colmig.run_window;
SELECT pg_reload_conf();
SELECT colmig.wait(:job_windowed, '60s');
SELECT throttled IS NULL AS no_longer_held_back FROM colmig.progress WHERE job_id = :job_windowed;
SELECT count(*) FILTER (WHERE windowed = weight) = count(*) AS all_filled FROM items;

-- A batch that always exceeds colmig.batch_statement_timeout (here a fixed
-- batch_size that cannot shrink) fails the job after colmig.lock_retries
-- attempts instead of retrying forever.
ALTER SYSTEM SET colmig.batch_statement_timeout = '20ms';
SELECT pg_reload_conf();
CREATE FUNCTION slowly(w int) RETURNS int LANGUAGE sql
    AS 'SELECT w FROM (SELECT pg_sleep(0.01)) AS s';
SELECT colmig.add_column('items', 'slow', 'int', batch_size => 100,
    backfill_expr => 'slowly(weight)') AS job_slow \gset
SELECT try(format('SELECT colmig.wait(%s)', :job_slow));
ALTER SYSTEM RESET colmig.batch_statement_timeout;
SELECT pg_reload_conf();

-- start_at: a job scheduled for later stays queued while later jobs run;
-- one whose start_at has passed runs at once.
SELECT colmig.add_column('items', 'tonight', 'int', backfill_expr => 'weight',
                         start_at => now() + interval '1 hour') AS job_tonight \gset
SELECT colmig.add_column('items', 'at_once', 'int', backfill_expr => 'weight',
                         start_at => now() - interval '1 minute') AS job_at_once \gset
SELECT colmig.wait(:job_at_once);
SELECT state, phase, start_at > now() AS in_the_future, started_at IS NULL AS not_started
  FROM colmig.progress WHERE job_id = :job_tonight;
SELECT count(*) AS tonight_columns FROM pg_attribute
 WHERE attrelid = 'items'::regclass AND attname = 'tonight';
-- No worker waits idle for it meanwhile (a worker slot is for jobs that
-- run): the launcher starts one when its time comes.
SELECT wait_until($$SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
                                        WHERE backend_type = 'colmig worker')$$);
-- run_pending() is harmless on a server that preloads colmig.
SELECT colmig.run_pending() >= 0 AS run_pending_ok;
SELECT colmig.cancel(:job_tonight);
SELECT colmig.wait(:job_tonight);

-- A batch whose rows are slow to compute ends at the next page once it has
-- held its row locks three times colmig.batch_target_duration, and commits
-- what it did, even with a large fixed batch_size: the application never
-- waits behind a batch of slow rows for long.
CREATE TABLE wide (id int PRIMARY KEY, pad text NOT NULL);
INSERT INTO wide SELECT g, repeat('w', 1500) FROM generate_series(1, 300) g;
CREATE FUNCTION slow_id(i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.01); RETURN i; END $$;
SELECT colmig.add_column('wide', 'same_id', 'int', backfill_expr => 'slow_id(id)',
                         batch_size => 1000) AS job_wide \gset
SELECT wait_until(format('SELECT rows_done > 0 FROM colmig.jobs WHERE job_id = %s', :job_wide));
SELECT rows_done < 300 AS first_batches_committed_early FROM colmig.jobs
 WHERE job_id = :job_wide;
SELECT colmig.wait(:job_wide);
SELECT count(*) FILTER (WHERE same_id = id) AS filled FROM wide;
DROP TABLE wide;
DROP FUNCTION slow_id(int);

DROP SCHEMA hijack CASCADE;
DROP TABLE items;
