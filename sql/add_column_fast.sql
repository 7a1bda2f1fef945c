-- The fast path: a non-volatile default (or none) and no backfill is one
-- catalog-only ALTER TABLE. The table is not rewritten (its relfilenode
-- stays) and no row is touched.
CREATE TABLE accounts (id bigint PRIMARY KEY, name text);
INSERT INTO accounts SELECT g, 'account ' || g FROM generate_series(1, 5000) g;
SELECT pg_relation_filenode('accounts') AS filenode_before \gset

SELECT colmig.add_column('accounts', 'status', 'text',
                         default_expr => $$'active'$$, not_null => true) AS job_status \gset
SELECT colmig.wait(:job_status);
SELECT colmig.add_column('accounts', 'note', 'varchar(20)') AS job_note \gset
SELECT colmig.wait(:job_note);
SELECT colmig.add_column('accounts', 'created', 'timestamptz',
                         default_expr => $$'2026-01-01 00:00+00'$$) AS job_created \gset
SELECT colmig.wait(:job_created);

SELECT pg_relation_filenode('accounts') = :filenode_before AS same_filenode;
SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull,
       pg_get_expr(d.adbin, d.adrelid) AS default_value, atthasmissing
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE attrelid = 'accounts'::regclass AND attnum > 2 ORDER BY attnum;
SELECT count(*) FILTER (WHERE status = 'active') AS active,
       count(*) FILTER (WHERE note IS NULL) AS no_note,
       count(DISTINCT created) AS created_values
  FROM accounts;

-- Each fast job ran one step and updated no rows.
SELECT job_id = :job_status AS status_job, state, phase, rows_done, percent
  FROM colmig.progress WHERE job_id IN (:job_status, :job_note, :job_created) ORDER BY job_id;

-- New rows get the default from the catalog.
INSERT INTO accounts (id, name) VALUES (5001, 'new');
SELECT status, note, created FROM accounts WHERE id = 5001;

-- Names that need quoting and the creator's search_path.
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."Order Lines" (id int);
INSERT INTO "Sales Dept"."Order Lines" VALUES (1), (2);
CREATE TYPE "Sales Dept".mood AS ENUM ('sad', 'ok', 'happy');
SET search_path = "Sales Dept", public;
SELECT colmig.add_column('"Order Lines"', 'Mood; DROP TABLE accounts', 'mood',
                         default_expr => $$'happy'$$) AS job_mood \gset
RESET search_path;
SELECT colmig.wait(:job_mood);
SELECT * FROM "Sales Dept"."Order Lines" ORDER BY id;
SELECT column_type FROM colmig.jobs WHERE job_id = :job_mood;
SELECT count(*) AS accounts_still_there FROM accounts;

DROP SCHEMA "Sales Dept" CASCADE;
DROP TABLE accounts;
