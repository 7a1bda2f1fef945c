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
-- colmig_admin outlives the extension (roles belong to the cluster). The
-- new colmig does not trust a role it did not create just now: whoever
-- created a role of that name could have made it theirs. A superuser says
-- so once, with colmig.trust_admin_role().
CREATE EXTENSION colmig;
SELECT count(*) AS jobs_after_recreate FROM colmig.jobs;
CREATE ROLE colmig_table_owner;
CREATE ROLE colmig_would_be_admin IN ROLE colmig_admin;
CREATE TABLE owned (id int);
ALTER TABLE owned OWNER TO colmig_table_owner;
SET ROLE colmig_table_owner;
SELECT colmig.add_column('owned', 'flag', 'boolean') AS job_owned \gset
RESET ROLE;
SELECT colmig.wait(:job_owned);
SET ROLE colmig_would_be_admin;
SELECT count(*) AS jobs_seen_untrusted FROM colmig.progress;
SELECT try(format('SELECT colmig.pause(%s)', :job_owned));
SELECT try('SELECT colmig.trust_admin_role()');
RESET ROLE;
SELECT colmig.trust_admin_role();
SET ROLE colmig_would_be_admin;
SELECT count(*) AS jobs_seen_trusted FROM colmig.progress;
RESET ROLE;
DROP TABLE owned;
DROP ROLE colmig_table_owner, colmig_would_be_admin;
