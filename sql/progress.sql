-- colmig.progress: one row per job, what it does and how far it got.
CREATE TABLE events (id bigint PRIMARY KEY, kind int NOT NULL);
INSERT INTO events SELECT g, g % 3 FROM generate_series(1, 10000) g;
ANALYZE events;

SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('events', 'kind_name', 'text',
                         backfill_expr => $$gate(CASE kind WHEN 0 THEN 'a' ELSE 'b' END)$$,
                         batch_size => 2000) AS job \gset
SELECT wait_until('SELECT worker_at_gate()');

-- While it runs: the worker is visible in pg_stat_activity with its own
-- backend type and the statement it runs.
SELECT backend_type, query LIKE 'colmig: job % backfill batch on public.events' AS runs_batch
  FROM pg_stat_activity
 WHERE pid = (SELECT worker_pid FROM colmig.progress WHERE job_id = :job);
SELECT relation, column_name, operation, state, phase, rows_total, percent,
       worker_pid IS NOT NULL AS has_worker, started_at IS NOT NULL AS started,
       finished_at IS NULL AS unfinished
  FROM colmig.progress WHERE job_id = :job;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job);

SELECT relation, column_name, operation, state, phase, rows_done, rows_total, percent,
       rows_per_second > 0 AS has_rate, eta, batch_size, lock_retries,
       worker_pid, last_error, finished_at >= started_at AS ordered_times
  FROM colmig.progress WHERE job_id = :job;

-- The view's columns, as documented.
SELECT string_agg(attname, ', ' ORDER BY attnum) FROM pg_attribute
 WHERE attrelid = 'colmig.progress'::regclass AND attnum > 0;

-- Other roles see only their own jobs.
CREATE ROLE colmig_stranger;
SET ROLE colmig_stranger;
SELECT count(*) AS visible FROM colmig.progress;
SELECT try('SELECT * FROM colmig.jobs');
RESET ROLE;
DROP ROLE colmig_stranger;

DROP TABLE events;
