-- parallel => N and compact => true|false on add_column: what is checked
-- in the caller's session, what is stored, and that the jobs fill every
-- row (the crash and slot cases are in test/t/017_parallel.pl).
CREATE TABLE wide (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL,
                   note text);
INSERT INTO wide SELECT g, g * 1.5, g % 7 + 1, repeat('x', g % 50)
  FROM generate_series(1, 20000) g;
VACUUM ANALYZE wide;

-- Bad values: 22023, and no job is stored.
SELECT count(*) AS jobs_before FROM colmig.jobs \gset
SELECT try($$SELECT colmig.add_column('wide', 'c', 'int', backfill_expr => '1', parallel => 0)$$);
SELECT try($$SELECT colmig.add_column('wide', 'c', 'int', backfill_expr => '1', parallel => -2)$$);
SELECT count(*) = :jobs_before AS nothing_stored FROM colmig.jobs;

-- More than colmig.max_parallel: a NOTICE, and the job asks for that many.
SHOW colmig.max_parallel;
SELECT colmig.add_column('wide', 'capped', 'int', backfill_expr => 'qty', parallel => 50)
    AS job_capped \gset
SELECT args -> 'parallel' AS parallel FROM colmig.jobs WHERE job_id = :job_capped;
SELECT colmig.wait(:job_capped);

-- The defaults come from colmig.parallel and colmig.compact, read when the
-- job is made.
SHOW colmig.parallel;
SHOW colmig.compact;
SET colmig.parallel = 3;
SET colmig.compact = off;
SELECT colmig.add_column('wide', 'from_settings', 'numeric', backfill_expr => 'price * qty')
    AS job_settings \gset
RESET colmig.parallel;
RESET colmig.compact;
SELECT args -> 'parallel' AS parallel, args -> 'compact' AS compact
  FROM colmig.jobs WHERE job_id = :job_settings;
SELECT colmig.wait(:job_settings);

-- A job that needs no backfill takes the options and ignores them.
SELECT colmig.add_column('wide', 'plain', 'int', parallel => 2) AS job_plain \gset
SELECT colmig.wait(:job_plain);

-- Two workers, in place: every row right, NOT NULL set, no range left,
-- and rows_done counts each row once.
SELECT colmig.add_column('wide', 'total', 'numeric', backfill_expr => 'price * qty',
                         not_null => true, parallel => 2, compact => true) AS job_two \gset
SELECT colmig.wait(:job_two);
SELECT count(*) FILTER (WHERE total IS DISTINCT FROM price * qty) AS wrong,
       count(*) FILTER (WHERE capped IS DISTINCT FROM qty) AS wrong_capped,
       count(*) FILTER (WHERE from_settings IS DISTINCT FROM price * qty) AS wrong_settings
  FROM wide;
SELECT rows_done FROM colmig.jobs WHERE job_id = :job_two;
SELECT count(*) AS ranges_left FROM colmig.job_ranges;
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'wide'::regclass AND attname = 'total';
-- The progress view has the workers column; a finished job has none.
SELECT state, percent, workers FROM colmig.progress WHERE job_id = :job_two;

-- Compact: a row's new version goes on its own page where it fits, so the
-- table does not grow by a copy of itself (a plain UPDATE doubles it).
CREATE TABLE roomy (id bigint PRIMARY KEY, a int NOT NULL, pad text NOT NULL);
INSERT INTO roomy SELECT g, g, repeat('x', 60) FROM generate_series(1, 50000) g;
VACUUM ANALYZE roomy;
SELECT pg_relation_size('roomy') AS heap_before, pg_relation_size('roomy_pkey') AS pk_before \gset
-- Waited for with wait_job(), which holds no snapshot: colmig.wait() would
-- keep the old row versions from being pruned while it waits, and the rows
-- would move as for an UPDATE (docs/add_column.md).
SELECT colmig.add_column('roomy', 'b', 'int', backfill_expr => 'a + 1', compact => true)
    AS job_compact \gset
CALL colmig.wait_job(:job_compact);
SELECT count(*) FILTER (WHERE b IS DISTINCT FROM a + 1) AS wrong FROM roomy;
SELECT pg_relation_size('roomy') <= 1.25 * :heap_before AS heap_small,
       pg_relation_size('roomy_pkey') <= 1.25 * :pk_before AS pk_small;
-- Without compact, every row's new version lands on another page.
SELECT colmig.add_column('roomy', 'c', 'int', backfill_expr => 'a + 2', compact => false)
    AS job_loose \gset
CALL colmig.wait_job(:job_loose);
SELECT pg_relation_size('roomy') > 1.5 * :heap_before AS heap_grew;

-- The ranges table is colmig's own: closed to PUBLIC.
CREATE ROLE colmig_range_reader;
SET ROLE colmig_range_reader;
SELECT try('SELECT * FROM colmig.job_ranges');
RESET ROLE;
DROP ROLE colmig_range_reader;
