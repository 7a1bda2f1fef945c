-- Success is proven, not assumed. A backfill reports succeeded only when no
-- row can have escaped it; otherwise it fails with 55000 and says why.
-- (Rewrites of the table during the sweep, which make it begin again, are
-- tested in test/t/013_proof.pl: they need a second session.)
CREATE ROLE colmig_rls_owner;
CREATE TABLE secrets (id int PRIMARY KEY, owner_only boolean NOT NULL);
INSERT INTO secrets SELECT g, g % 2 = 0 FROM generate_series(1, 1000) g;
ALTER TABLE secrets OWNER TO colmig_rls_owner;

-- 1. Row-level security that hides rows from the table's owner (FORCE)
--    hides none from the batches: they are no query.
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY only_some ON secrets USING (owner_only);
SET ROLE colmig_rls_owner;
SELECT count(*) AS rows_the_owner_sees FROM secrets;
SELECT colmig.add_column('secrets', 'code', 'text', backfill_expr => $$'s' || id$$,
                         not_null => true) AS job_rls \gset
RESET ROLE;
SELECT colmig.wait(:job_rls);
SELECT count(*) FILTER (WHERE code = 's' || id) AS filled, count(*) AS rows FROM secrets;

-- 2. Inheritance children that appear while the job runs: their rows are
--    not the job's, so it cannot claim the table is filled.
CREATE TABLE parents (id int PRIMARY KEY, v int);
INSERT INTO parents SELECT g, g FROM generate_series(1, 2000) g;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('parents', 'w', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_parent \gset
SELECT wait_until('SELECT worker_at_gate()');
CREATE TABLE kids () INHERITS (parents);
INSERT INTO kids (id, v) VALUES (5000, 5000);
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_parent));
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s', :job_parent));
SELECT count(*) AS fill_triggers_left FROM pg_trigger WHERE tgrelid = 'parents'::regclass;

-- 3. The fill trigger dropped, or disabled, under a running job: rows
--    written meanwhile are not filled, so the job fails.
CREATE TABLE watched (id int PRIMARY KEY, v int);
INSERT INTO watched SELECT g, g FROM generate_series(1, 2000) g;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('watched', 'w', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_dropped \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT tgname LIKE '~colmig_fill_' || :job_dropped || '_%' AS named_to_fire_last,
       tgisinternal, tgenabled
  FROM pg_trigger WHERE tgrelid = 'watched'::regclass;
DO $$ BEGIN
    EXECUTE format('DROP TRIGGER %I ON watched',
                   (SELECT tgname FROM pg_trigger WHERE tgrelid = 'watched'::regclass));
END $$;
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_dropped));

SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('watched', 'x', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_disabled \gset
SELECT wait_until('SELECT worker_at_gate()');
-- The application's own triggers only: the fill trigger is internal.
ALTER TABLE watched DISABLE TRIGGER USER;
SELECT tgenabled AS fill_trigger_after_disable_user FROM pg_trigger
 WHERE tgrelid = 'watched'::regclass;
ALTER TABLE watched DISABLE TRIGGER ALL;
INSERT INTO watched (id, v) VALUES (3000, 3000);
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_disabled));
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s', :job_disabled));
SELECT count(*) AS fill_triggers_left FROM pg_trigger WHERE tgrelid = 'watched'::regclass;

-- Disabled for a while and enabled again (as pg_restore --disable-triggers
-- would do around a bulk load): the rows written meanwhile lie anywhere,
-- and the sweep, which begins after, fills them.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('watched', 'y', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_toggled \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT tgname AS fill_trigger FROM pg_trigger
 WHERE tgrelid = 'watched'::regclass AND tgname LIKE '~colmig_fill_' || :job_toggled || '_%' \gset
ALTER TABLE watched DISABLE TRIGGER ALL;
INSERT INTO watched (id, v) VALUES (3001, 3001);
ALTER TABLE watched ENABLE ALWAYS TRIGGER :"fill_trigger";
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_toggled);
SELECT y FROM watched WHERE id = 3001;
SELECT count(*) FILTER (WHERE y = v) AS filled, count(*) AS rows FROM watched;

-- 4. Two jobs on one table at once: each batch of one fires the other's
--    fill trigger (and no other trigger), so a row one job's batch moves
--    never escapes the other's sweep. Both fill every row.
CREATE TABLE shared (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO shared SELECT g, g FROM generate_series(1, 20000) g;
BEGIN;
SELECT colmig.add_column('shared', 'a', 'int', backfill_expr => 'v + 1', batch_size => 500)
    AS job_a \gset
SELECT colmig.add_column('shared', 'b', 'int', backfill_expr => 'v + 2', batch_size => 500)
    AS job_b \gset
COMMIT;
SELECT colmig.wait(:job_a), colmig.wait(:job_b);
SELECT count(*) FILTER (WHERE a = v + 1 AND b = v + 2) AS both_right, count(*) AS rows
  FROM shared;
DROP TABLE shared;

-- 5. The fill trigger renamed by the table's owner: it is still the job's
--    (known by what it runs, not by its name), its row changed, so the
--    sweep begins again, and the job still removes it at the end.
CREATE TABLE renamed (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO renamed SELECT g, g FROM generate_series(1, 2000) g;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('renamed', 'w', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_renamed \gset
SELECT wait_until('SELECT worker_at_gate()');
DO $$ BEGIN
    EXECUTE format('ALTER TRIGGER %I ON renamed RENAME TO innocent',
                   (SELECT tgname FROM pg_trigger WHERE tgrelid = 'renamed'::regclass));
END $$;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_renamed);
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'renamed'::regclass;
SELECT count(*) FILTER (WHERE w = v) AS filled FROM renamed;
DROP TABLE renamed;

-- 6. A colmig check that arrives without a live job of that table (from a
--    dump, or copied by CREATE TABLE ... (LIKE t INCLUDING ALL) while a job
--    ran) is dropped as it arrives, by ALTER TABLE or CREATE TABLE alike:
--    no job would ever remove it. (colmig.check_of_job() itself is always
--    true, whatever it is given: it only marks the check as colmig's.)
SELECT colmig.check_of_job(999) AS for_any_job, colmig.check_of_job(NULL) AS for_null;
CREATE TABLE stray (id int);
ALTER TABLE stray ADD CONSTRAINT colmig_999_not_null
    CHECK (id IS NOT NULL AND colmig.check_of_job(999)) NOT VALID;
CREATE TABLE copied (id int,
    CONSTRAINT colmig_998_not_null CHECK (id IS NOT NULL AND colmig.check_of_job(998)));
-- A check of that name that is not colmig's (it does not call
-- colmig.check_of_job()) is left alone.
CREATE TABLE lookalike (id int, CONSTRAINT colmig_997_not_null CHECK (id IS NOT NULL));
SELECT conrelid::regclass AS table_, conname FROM pg_constraint
 WHERE conname LIKE 'colmig%' ORDER BY 1;
DROP TABLE stray, copied, lookalike;

DROP TABLE secrets, parents CASCADE;
DROP TABLE watched;
DROP ROLE colmig_rls_owner;
