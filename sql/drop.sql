-- Dropping what a running job works on. Runs last: it drops colmig.

-- DROP TABLE under a running job: the job fails with 42P01 at its next
-- batch, and its cleanup ends.
CREATE TABLE doomed (id int PRIMARY KEY, v int);
INSERT INTO doomed SELECT g, g FROM generate_series(1, 3000) g;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('doomed', 'w', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_doomed \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT pg_advisory_unlock(4242);
DROP TABLE doomed;
SELECT try(format('SELECT colmig.wait(%s)', :job_doomed));
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s', :job_doomed));

-- DROP EXTENSION while a job has its fill trigger on a table: refused,
-- because the trigger depends on colmig.fill_column(); CASCADE drops the
-- trigger with colmig, leaves the column, and no worker keeps running.
CREATE TABLE kept (id int PRIMARY KEY, v int);
INSERT INTO kept SELECT g, g FROM generate_series(1, 3000) g;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('kept', 'w', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_kept \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT colmig.pause(:job_kept);
SELECT pg_advisory_unlock(4242);
SELECT wait_until(format('SELECT worker_pid IS NULL FROM colmig.progress WHERE job_id = %s', :job_kept));
\set VERBOSITY terse
SELECT try('DROP EXTENSION colmig');
\set VERBOSITY default
SET client_min_messages = warning;
DROP EXTENSION colmig CASCADE;
RESET client_min_messages;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'kept'::regclass;
SELECT count(*) AS w_columns FROM pg_attribute WHERE attrelid = 'kept'::regclass AND attname = 'w';
INSERT INTO kept VALUES (3001, 1);
SELECT wait_until($$SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
                                        WHERE backend_type = 'colmig worker')$$);
DROP TABLE kept;
CREATE EXTENSION colmig;
SELECT count(*) AS jobs_after_recreate FROM colmig.jobs;
