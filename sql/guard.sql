-- colmig.plan() and colmig.guard (docs/guard.md): a corpus of real-world
-- migration statements with the verdict each must get on a large and on a
-- small table, the plan's rewrite and scan columns against what PostgreSQL
-- actually does, the guard in warn and block mode, its opt-out, and
-- colmig's own jobs under it.
SET colmig.guard_min_rows = 10000;
CREATE DOMAIN positive_int AS int CHECK (VALUE > 0);
CREATE DOMAIN any_int AS int;
CREATE TABLE guard_ref (id int PRIMARY KEY);
INSERT INTO guard_ref SELECT g FROM generate_series(1, 20000) g;
CREATE TABLE guard_child (ref int REFERENCES guard_ref);
CREATE FUNCTION guard_table(name text, rows int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', name);
    EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, v int, s varchar(50), n numeric(10,2),
                    ts timestamp, c char(5), r int)', name);
    EXECUTE format('INSERT INTO %I SELECT g, g, ''x'' || g, g / 100.0, now(), ''ab'', g
                    FROM generate_series(1, %s) g', name, rows);
    EXECUTE format('CREATE INDEX %I ON %I (v)', name || '_v', name);
    EXECUTE format('ANALYZE %I', name);
END
$$;
SELECT guard_table('big', 20000), guard_table('small', 5);

-- 1. The corpus: the verdict (the note's first word) on each table.
CREATE TABLE corpus (ddl text, on_big text, on_small text);
INSERT INTO corpus VALUES
  ('ALTER TABLE %s ADD COLUMN a int', 'safe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a int DEFAULT 0', 'safe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a int NOT NULL DEFAULT 0', 'safe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a timestamptz DEFAULT now()', 'safe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a timestamptz DEFAULT clock_timestamp()', 'unsafe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a uuid NOT NULL DEFAULT gen_random_uuid()', 'unsafe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a float8 DEFAULT random()', 'unsafe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a positive_int', 'unsafe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a any_int DEFAULT 1', 'safe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a serial', 'unsafe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a bigint GENERATED ALWAYS AS IDENTITY', 'unsafe', 'safe'),
  ('ALTER TABLE %s ADD COLUMN a int GENERATED ALWAYS AS (v * 2) STORED', 'unsafe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN v SET NOT NULL', 'unsafe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN id SET NOT NULL', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN v DROP NOT NULL', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN v SET DEFAULT 5', 'safe', 'safe'),
  ('ALTER TABLE %s ADD CONSTRAINT c CHECK (v > 0)', 'unsafe', 'safe'),
  ('ALTER TABLE %s ADD CONSTRAINT c CHECK (v > 0) NOT VALID', 'safe', 'safe'),
  ('ALTER TABLE %s ADD CONSTRAINT f FOREIGN KEY (v) REFERENCES guard_ref', 'unsafe', 'safe'),
  ('ALTER TABLE %s ADD CONSTRAINT f FOREIGN KEY (v) REFERENCES guard_ref NOT VALID', 'safe', 'safe'),
  ('ALTER TABLE %s ADD CONSTRAINT u UNIQUE (r)', 'unsafe', 'safe'),
  ('ALTER TABLE %s ADD CONSTRAINT x EXCLUDE (r WITH =)', 'unsafe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN s TYPE varchar(100)', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN s TYPE varchar(20)', 'unsafe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN s TYPE text', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN s TYPE varchar', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN n TYPE numeric(12,2)', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN n TYPE numeric(12,3)', 'unsafe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN n TYPE numeric', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN v TYPE bigint', 'unsafe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN v TYPE int', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN c TYPE text', 'unsafe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN v TYPE positive_int', 'unsafe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN v TYPE any_int', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN s TYPE varchar(100) USING s', 'safe', 'safe'),
  ('ALTER TABLE %s ALTER COLUMN v TYPE bigint USING v + 1', 'unsafe', 'safe'),
  ('ALTER TABLE %s SET UNLOGGED', 'unsafe', 'safe'),
  ('ALTER TABLE %s DROP COLUMN r', 'warning', 'warning'),
  ('ALTER TABLE %s RENAME COLUMN r TO r2', 'warning', 'warning'),
  ('ALTER TABLE %s RENAME TO renamed', 'warning', 'warning'),
  ('CREATE INDEX ON %s (s)', 'unsafe', 'safe'),
  ('CREATE INDEX CONCURRENTLY ON %s (s)', 'safe', 'safe'),
  ('CREATE UNIQUE INDEX ON %s (lower(s)) WHERE v > 5', 'unsafe', 'safe'),
  ('REINDEX TABLE %s', 'unsafe', 'safe'),
  ('REINDEX TABLE CONCURRENTLY %s', 'safe', 'safe'),
  ('VACUUM FULL %s', 'unsafe', 'safe'),
  ('VACUUM %s', 'safe', 'safe'),
  ('CLUSTER %s USING %s_pkey', 'unsafe', 'safe'),
  ('TRUNCATE %s', 'safe', 'safe');
SELECT c.ddl, t.name, c.on_big, c.on_small, p.note
  FROM corpus c
 CROSS JOIN (VALUES ('big'), ('small')) t(name)
 CROSS JOIN LATERAL colmig.plan(replace(c.ddl, '%s', t.name)) p
 WHERE substring(p.note FROM '^[a-z]+') <> CASE t.name WHEN 'big' THEN c.on_big ELSE c.on_small END;
SELECT count(*) AS statements_judged FROM corpus;
-- Each rule the corpus meets, once, in full.
SELECT DISTINCT ON (rule) substring(p.note FROM '\[([a-z_]+)\]') AS rule, c.ddl, p.lock_mode,
       p.blocks, p.rewrites_table, p.scans_table, p.safe_alternative
  FROM corpus c CROSS JOIN LATERAL colmig.plan(replace(c.ddl, '%s', 'big')) p
 WHERE p.note LIKE '%[%' ORDER BY rule, c.ddl;

-- 2. The plan agrees with PostgreSQL: each statement that may run in a
--    transaction block runs in one, rolled back, and the table's file
--    (rewrite) and sequential scans are compared with the plan's columns.
CREATE FUNCTION observe(ddl text, OUT rewrote boolean, OUT scanned boolean)
LANGUAGE plpgsql AS $$
DECLARE
    rel oid := 'big'::regclass;
    file_before oid := pg_relation_filenode(rel);
    scans_before bigint := coalesce((SELECT seq_scan FROM pg_stat_xact_user_tables
                                      WHERE relid = rel), 0);
BEGIN
    BEGIN
        EXECUTE ddl;
        rewrote := pg_relation_filenode(rel) IS DISTINCT FROM file_before;
        scanned := (SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = rel)
                   > scans_before;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = rewrote || ',' || scanned;
    EXCEPTION WHEN raise_exception THEN
        rewrote := split_part(SQLERRM, ',', 1)::boolean;
        scanned := split_part(SQLERRM, ',', 2)::boolean;
    END;
END
$$;
SELECT c.ddl, p.rewrites_table, o.rewrote, p.scans_table, o.scanned
  FROM corpus c
 CROSS JOIN LATERAL colmig.plan(replace(c.ddl, '%s', 'big')) p
 CROSS JOIN LATERAL observe(replace(c.ddl, '%s', 'big')) o
 WHERE c.ddl NOT LIKE '%CONCURRENTLY%' AND c.ddl NOT LIKE 'VACUUM%'
   -- TRUNCATE swaps in a new, empty file: no row is copied or read.
   AND c.ddl NOT LIKE 'TRUNCATE%'
   AND (p.rewrites_table <> o.rewrote OR p.scans_table <> o.scanned);

-- 3. One row of each kind in full: the lock, what it blocks, the estimate
--    and the colmig call that does the same online.
SELECT step, lock_mode, blocks, rewrites_table, scans_table,
       estimated_seconds > 0 AS takes_time, note, safe_alternative
  FROM colmig.plan($$
ALTER TABLE big ADD COLUMN "At" timestamptz NOT NULL DEFAULT clock_timestamp();
ALTER TABLE big ALTER COLUMN v SET NOT NULL, ADD CONSTRAINT "v's check" CHECK (v > 0 AND s <> 'it''s');
ALTER TABLE big ADD CONSTRAINT big_v_fkey FOREIGN KEY (v) REFERENCES guard_ref ON DELETE CASCADE;
ALTER TABLE big ADD CONSTRAINT big_r_key UNIQUE (r);
CREATE INDEX big_s_idx ON big (lower(s) DESC NULLS LAST) INCLUDE (n) WHERE v > 5;
DROP INDEX big_v;
REINDEX INDEX big_v;
ALTER TABLE big ALTER COLUMN v TYPE bigint;
VACUUM FULL big;
TRUNCATE guard_ref CASCADE;
$$);

-- The safe alternatives run as they are.
\o /dev/null
SELECT safe_alternative FROM colmig.plan(
    'CREATE INDEX big_s_idx ON big (lower(s) DESC NULLS LAST) INCLUDE (n) WHERE v > 5') \gexec
\o
SELECT max(job_id) AS alternative_job FROM colmig.jobs \gset
CALL colmig.wait_job(:alternative_job, '60s');
SELECT pg_get_indexdef('big_s_idx'::regclass);
\o /dev/null
SELECT safe_alternative FROM colmig.plan(
    $$ALTER TABLE big ADD CONSTRAINT "v's check" CHECK (v > 0 AND s <> 'it''s')$$) \gexec
\o
SELECT max(job_id) AS alternative_job FROM colmig.jobs \gset
CALL colmig.wait_job(:alternative_job, '60s');
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'v''s check';

-- 4. Transactions: NOT VALID then VALIDATE in one block; a table created
--    in the same transaction; a table created earlier in the script.
SELECT step, lock_mode, note, safe_alternative FROM colmig.plan($$
BEGIN;
ALTER TABLE big ADD CONSTRAINT v_positive CHECK (v > 0) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT v_positive;
COMMIT;
ALTER TABLE big ADD CONSTRAINT v_positive2 CHECK (v > 0) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT v_positive2;
CREATE TABLE fresh (id int);
CREATE INDEX ON fresh (id);
$$);
BEGIN;
CREATE TABLE made_now AS SELECT g AS id FROM generate_series(1, 20000) g;
ANALYZE made_now;
SELECT note FROM colmig.plan('ALTER TABLE made_now ADD COLUMN a float8 DEFAULT random()');
ALTER TABLE big ADD CONSTRAINT v_live CHECK (v > 0) NOT VALID;
SELECT lock_mode, note FROM colmig.plan('ALTER TABLE big VALIDATE CONSTRAINT v_live');
ROLLBACK;

-- 5. Bad input: a clear error with its SQLSTATE, nothing else.
SELECT try($$SELECT * FROM colmig.plan(NULL)$$);
SELECT try($$SELECT * FROM colmig.plan('ALTER TABLE')$$);
SELECT try($$SELECT * FROM colmig.plan('ALTER TABLE no_such_table ADD COLUMN a int')$$);
SELECT try($$SELECT * FROM colmig.plan('DROP INDEX no_such_index')$$);
SELECT try($$SELECT * FROM colmig.plan('ALTER TABLE big ADD COLUMN a no_such_type')$$);
SELECT try($$SELECT * FROM colmig.plan('SELECT colmig.add_column(''no_such_table'', ''a'', ''int'')')$$);
SELECT try($$SELECT * FROM colmig.plan('SELECT colmig.drop_index(''no_such_index'')')$$);
SELECT try($$SELECT * FROM colmig.plan('SELECT colmig.add_column(''big'', ''a'', ''int'', default_expr => ''now()'' || '''')')$$);
SELECT try($$SET colmig.guard = 'loud'$$);
SELECT try($$SET colmig.guard_min_rows = -1$$);
SELECT count(*) AS rows_of_empty_text FROM colmig.plan('');
SELECT count(*) AS rows_if_exists FROM colmig.plan('ALTER TABLE IF EXISTS no_such_table ADD COLUMN a int');
SELECT step, note FROM colmig.plan('SELECT colmig.pause(1); SELECT 1');

-- 6. The plan of a colmig call: the job's steps and their locks.
SELECT step, lock_mode, blocks, note
  FROM colmig.plan($$SELECT colmig.add_column('big', 'at', 'timestamptz',
                                               default_expr => 'clock_timestamp()',
                                               not_null => true)$$);
SELECT step, lock_mode, blocks, note FROM colmig.plan($$SELECT colmig.set_not_null('big', 'v')$$);
SELECT step, lock_mode, blocks, note FROM colmig.plan($$SELECT colmig.create_index('big', 'i', 's')$$);

-- 7. The guard. Off by default: nothing is said.
SHOW colmig.guard;
ALTER TABLE big ADD COLUMN g1 int DEFAULT 0;
SET colmig.guard = warn;
-- Warn: the statement runs after a WARNING naming the rule and the call.
CREATE INDEX big_n ON big (n);
DROP INDEX big_n;
-- The same on a small table, or a safe statement: nothing.
CREATE INDEX small_n ON small (n);
ALTER TABLE big ADD COLUMN g2 int DEFAULT 0;
-- Block: refused with 55000, the HINT is the colmig call; nothing changed.
SET colmig.guard = block;
\set VERBOSITY sqlstate
ALTER TABLE big ADD COLUMN g3 timestamptz DEFAULT clock_timestamp();
\set VERBOSITY default
ALTER TABLE big ADD COLUMN g3 timestamptz DEFAULT clock_timestamp();
SELECT count(*) AS g3_columns FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'g3';
ALTER TABLE big ALTER COLUMN v SET NOT NULL;
VACUUM FULL big;
DO $$ BEGIN EXECUTE 'CREATE INDEX big_n ON big (n)'; END $$;
-- A warning rule only warns, also in block mode.
ALTER TABLE big RENAME COLUMN g2 TO g2b;
-- The guard's own analysis never replaces PostgreSQL's error.
ALTER TABLE no_such_table ADD COLUMN a int;
ALTER TABLE big ADD COLUMN a no_such_type;
-- Safe forms pass; a table created in this transaction is always safe.
CREATE INDEX CONCURRENTLY big_n ON big (n);
ALTER TABLE big ADD CONSTRAINT v_positive CHECK (v > 0) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT v_positive;
BEGIN;
CREATE TABLE made_now AS SELECT g AS id FROM generate_series(1, 20000) g;
ANALYZE made_now;
ALTER TABLE made_now ADD COLUMN a float8 DEFAULT random();
ROLLBACK;
-- VALIDATE in the transaction that added the constraint: refused.
BEGIN;
ALTER TABLE big ADD CONSTRAINT v_positive3 CHECK (v > 0) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT v_positive3;
ROLLBACK;
-- guard_min_rows decides what counts as large.
SET colmig.guard_min_rows = 3;
CREATE INDEX small_s ON small (s);
SET colmig.guard_min_rows = 10000;
-- The opt-out for a deliberate change.
SET colmig.guard = off;
CREATE INDEX small_s ON small (s);
ALTER TABLE big ADD COLUMN g4 int GENERATED ALWAYS AS (v + 1) STORED;

-- 8. colmig's own jobs are never checked, with the guard set to block for
--    the whole database.
ALTER DATABASE contrib_regression SET colmig.guard = block;
SELECT colmig.add_column('big', 'filled', 'int', backfill_expr => 'v * 2', not_null => true)
       AS guarded_job \gset
CALL colmig.wait_job(:guarded_job, '60s');
SELECT count(*) FILTER (WHERE filled = v * 2) AS right_values FROM big;
ALTER DATABASE contrib_regression RESET colmig.guard;

-- 9. SET NOT NULL of a column whose inserts a fill trigger filled: the
--    inserts would fail once the job drops its trigger.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('big', 'derived', 'int', backfill_expr => 'gate(v + 1)',
                         batch_size => 100) AS job_live \gset
SELECT wait_until('SELECT worker_at_gate()');
INSERT INTO big (id, v, filled) VALUES (100001, 1, 2);
SELECT derived FROM big WHERE id = 100001;
-- (The job's worker, waiting at the gate, holds ROW EXCLUSIVE on the table.)
SELECT lock_mode, regexp_replace(regexp_replace(note, 'pid [0-9]+ \([^)]*\)', 'pid N (...)'),
                                 '\([0-9]+ rows, [0-9]+ [kMG]B\)', '(its size)') AS note,
       safe_alternative
  FROM colmig.plan('ALTER TABLE big ALTER COLUMN derived SET NOT NULL');
SELECT pg_advisory_unlock(4242);
CALL colmig.wait_job(:job_live, '60s');
-- 10. Statements judged by the tables they lock. Each row's table (from
--     its note) gets the lock PostgreSQL takes, and a scan where it reads
--     the rows: the statement runs in a transaction block, rolled back,
--     and this session's strongest lock on the table and its sequential
--     scans are compared with the plan's row.
CREATE FUNCTION lock_taken(ddl text, tab text, OUT mode text, OUT scanned boolean)
LANGUAGE plpgsql AS $$
DECLARE
    modes text[] := ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock',
                          'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',
                          'ExclusiveLock', 'AccessExclusiveLock'];
    rel oid := tab::regclass;
    scans_before bigint := coalesce((SELECT seq_scan FROM pg_stat_xact_user_tables
                                      WHERE relid = rel), 0);
BEGIN
    BEGIN
        EXECUTE ddl;
        SELECT upper(regexp_replace(regexp_replace(modes[max(array_position(modes, l.mode))],
                                                   'Lock$', ''), '([a-z])([A-Z])', '\1 \2', 'g'))
          INTO mode FROM pg_locks l
         WHERE l.locktype = 'relation' AND l.relation = rel AND l.pid = pg_backend_pid();
        scanned := coalesce((SELECT seq_scan FROM pg_stat_xact_user_tables
                              WHERE relid = rel), 0) > scans_before;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = coalesce(mode, '') || ',' || scanned;
    EXCEPTION WHEN raise_exception THEN
        mode := nullif(split_part(SQLERRM, ',', 1), '');
        scanned := split_part(SQLERRM, ',', 2)::boolean;
    END;
END
$$;
CREATE TABLE parted (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE parted_default PARTITION OF parted DEFAULT;
CREATE TABLE loose (id int, k int);
INSERT INTO loose SELECT g, g % 100 FROM generate_series(1, 20000) g;
CREATE TABLE bounded (id int, k int NOT NULL CHECK (k >= 100 AND k < 200));
INSERT INTO bounded SELECT g, 100 + g % 100 FROM generate_series(1, 20000) g;
ANALYZE loose, bounded;
-- A partitioned table with a unique index and a foreign key: a partition
-- without them gets both built and validated under ACCESS EXCLUSIVE, even
-- when its CHECK proves the bound; one that has them is only attached.
CREATE TABLE keyed_parent (k int NOT NULL, r int REFERENCES guard_ref) PARTITION BY RANGE (k);
CREATE UNIQUE INDEX ON keyed_parent (k);
CREATE TABLE keyless (k int NOT NULL CHECK (k >= 0 AND k < 100000), r int);
INSERT INTO keyless SELECT g, g FROM generate_series(1, 20000) g;
CREATE TABLE keyed (k int NOT NULL CHECK (k >= 100000 AND k < 200000),
                    r int REFERENCES guard_ref);
CREATE UNIQUE INDEX ON keyed (k);
INSERT INTO keyed SELECT 100000 + g, g FROM generate_series(1, 20000) g;
ANALYZE keyless, keyed;
-- Proofs PostgreSQL looks for before it scans: a default partition whose
-- CHECK excludes the new bound; the leaves of a partitioned partition.
CREATE TABLE fenced (k int NOT NULL) PARTITION BY RANGE (k);
CREATE TABLE fenced_default PARTITION OF fenced DEFAULT;
ALTER TABLE fenced_default ADD CONSTRAINT high CHECK (k >= 1000);
INSERT INTO fenced SELECT 1000 + g FROM generate_series(1, 20000) g;
CREATE TABLE nested (id int, k int NOT NULL) PARTITION BY RANGE (k);
CREATE TABLE nested_leaf PARTITION OF nested FOR VALUES FROM (300) TO (400);
ALTER TABLE nested_leaf ADD CONSTRAINT within CHECK (k >= 300 AND k < 400);
INSERT INTO nested SELECT g, 300 + g % 100 FROM generate_series(1, 20000) g;
ANALYZE fenced_default, nested_leaf;
CREATE MATERIALIZED VIEW big_view AS SELECT id, v FROM big;
CREATE UNIQUE INDEX ON big_view (id);
CREATE TRIGGER big_trigger BEFORE UPDATE ON big
  FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
CREATE SCHEMA elsewhere;
CREATE TABLE linked (ddl text);
INSERT INTO linked VALUES
  ('CREATE TRIGGER t BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()'),
  ('DROP TRIGGER big_trigger ON big'),
  ('LOCK TABLE big IN SHARE MODE'),
  ('LOCK TABLE big IN ROW EXCLUSIVE MODE NOWAIT'),
  ('ALTER TABLE big SET SCHEMA elsewhere'),
  ('REFRESH MATERIALIZED VIEW big_view'),
  ('REFRESH MATERIALIZED VIEW CONCURRENTLY big_view'),
  ('CREATE TABLE big_child (id int REFERENCES big)'),
  ('CREATE TABLE big_heir () INHERITS (big)'),
  ('CREATE TABLE IF NOT EXISTS big (id int)'),
  ('CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (100)'),
  ('ALTER TABLE parted ATTACH PARTITION loose FOR VALUES FROM (0) TO (100)'),
  ('ALTER TABLE parted ATTACH PARTITION bounded FOR VALUES FROM (100) TO (200)'),
  ('ALTER TABLE keyed_parent ATTACH PARTITION keyless FOR VALUES FROM (0) TO (100000)'),
  ('ALTER TABLE keyed_parent ATTACH PARTITION keyed FOR VALUES FROM (100000) TO (200000)'),
  ('CREATE TABLE fenced_low PARTITION OF fenced FOR VALUES FROM (0) TO (1000)'),
  ('CREATE TABLE fenced_far PARTITION OF fenced FOR VALUES FROM (100000) TO (200000)'),
  ('ALTER TABLE parted ATTACH PARTITION nested FOR VALUES FROM (300) TO (400)');
SELECT l.ddl, p.step, substring(p.note FROM '^[a-z]+( \[[a-z_]+\])?') AS verdict,
       t.tab, p.lock_mode, o.mode AS lock_taken, p.scans_table, o.scanned
  FROM linked l
 CROSS JOIN LATERAL colmig.plan(l.ddl) p
 CROSS JOIN LATERAL (SELECT substring(p.note FROM ' public\.([a-z_]+) \(') AS tab) t
 LEFT JOIN LATERAL lock_taken(l.ddl, t.tab) o ON t.tab IS NOT NULL
 ORDER BY l.ddl, p.step;
-- (A partitioned table is never scanned itself: its leaf is.)
SELECT (lock_taken('ALTER TABLE parted ATTACH PARTITION nested FOR VALUES FROM (300) TO (400)',
                   'nested_leaf')).scanned AS leaf_scanned;

-- 11. Type changes that keep the values but rebuild an index: the plan's
--     count against the indexes whose files PostgreSQL replaced.
CREATE TABLE retyped (s varchar(50) COLLATE "C", t varchar(50));
INSERT INTO retyped SELECT 'x' || g, 'y' || g FROM generate_series(1, 20000) g;
CREATE INDEX retyped_s ON retyped (s);
CREATE INDEX retyped_lower ON retyped (lower(s));
CREATE INDEX retyped_partial ON retyped (t) WHERE s <> '';
CREATE INDEX retyped_t ON retyped (t);
ALTER TABLE retyped ADD COLUMN at timestamp DEFAULT '2026-01-01',
                    ADD COLUMN w varchar(10) DEFAULT 'w' CHECK (w <> 'zz');
CREATE INDEX retyped_at ON retyped (at);
ANALYZE retyped;
CREATE FUNCTION indexes_rebuilt(ddl text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    before oid[] := ARRAY(SELECT relfilenode FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
                           WHERE i.indrelid = 'retyped'::regclass ORDER BY c.relname);
    rebuilt int;
BEGIN
    BEGIN
        EXECUTE ddl;
        SELECT count(*) INTO rebuilt
          FROM unnest(before, ARRAY(SELECT relfilenode FROM pg_class c
                                      JOIN pg_index i ON i.indexrelid = c.oid
                                     WHERE i.indrelid = 'retyped'::regclass
                                     ORDER BY c.relname)) AS u(old, new)
         WHERE old <> new;
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = rebuilt::text;
    EXCEPTION WHEN raise_exception THEN
        rebuilt := SQLERRM::int;
    END;
    RETURN rebuilt;
END
$$;
SELECT d.ddl, substring(p.note FROM '^[a-z]+( \[[a-z_]+\])?') AS verdict, p.rewrites_table,
       coalesce(substring(p.note FROM 'but ([0-9]+) ind')::int, 0) AS plan_rebuilds,
       indexes_rebuilt(d.ddl) AS rebuilt
  FROM (VALUES ('ALTER TABLE retyped ALTER COLUMN s TYPE varchar(80)'),
               ('ALTER TABLE retyped ALTER COLUMN s TYPE varchar(80) COLLATE "C"'),
               ('ALTER TABLE retyped ALTER COLUMN s TYPE text COLLATE "C"'),
               ('ALTER TABLE retyped ALTER COLUMN t TYPE varchar(80)'),
               ('ALTER TABLE retyped ALTER COLUMN t TYPE text')) d(ddl)
 CROSS JOIN LATERAL colmig.plan(d.ddl) p;
-- timestamp to timestamptz keeps the values under UTC, but not the index
-- (another operator class); a CHECK on the column is checked again.
SET TimeZone = 'UTC';
SELECT d.ddl, substring(p.note FROM '^[a-z]+( \[[a-z_]+\])?') AS verdict, p.rewrites_table,
       p.scans_table, coalesce(substring(p.note FROM 'but ([0-9]+) ind')::int, 0) AS plan_rebuilds,
       indexes_rebuilt(d.ddl) AS rebuilt, (lock_taken(d.ddl, 'retyped')).scanned
  FROM (VALUES ('ALTER TABLE retyped ALTER COLUMN at TYPE timestamptz'),
               ('ALTER TABLE retyped ALTER COLUMN w TYPE varchar(30)')) d(ddl)
 CROSS JOIN LATERAL colmig.plan(d.ddl) p;
RESET TimeZone;

-- 12. Scripts: a column added earlier in the script is not NOT NULL yet
--     (PostgreSQL reads every row), a column that exists nowhere is
--     PostgreSQL's error, and CREATE TABLE IF NOT EXISTS of an existing
--     table leaves the later statements judged on that table.
SELECT step, substring(note FROM '^[a-z]+( \[[a-z_]+\])?') AS verdict, scans_table
  FROM colmig.plan('ALTER TABLE big ADD COLUMN added int DEFAULT 1, ALTER COLUMN added SET NOT NULL;
                    ALTER TABLE big ALTER COLUMN nowhere SET NOT NULL;
                    CREATE TABLE IF NOT EXISTS big (id int);
                    ALTER TABLE big ALTER COLUMN v SET NOT NULL');
SELECT scanned FROM observe('ALTER TABLE big ADD COLUMN added int DEFAULT 1, ALTER COLUMN added SET NOT NULL');
-- A CHECK that reads a column the same statement adds: judged, with advice
-- (its colmig.add_check() text cannot be written before the column exists).
SELECT step, substring(note FROM '^[a-z]+( \[[a-z_]+\])?') AS verdict, scans_table,
       safe_alternative, substring(note FROM 'Instead: (.*)$') AS advice
  FROM colmig.plan('ALTER TABLE big ADD COLUMN fresh int DEFAULT 0,
                                   ADD CONSTRAINT fresh_positive CHECK (fresh >= 0)');
SELECT scanned FROM observe('ALTER TABLE big ADD COLUMN fresh int DEFAULT 0,
                                             ADD CONSTRAINT fresh_positive CHECK (fresh >= 0)');

-- 13. Alternatives only where the colmig call does the same: a UNIQUE
--     constraint's call builds the index (the note says how to attach it),
--     options the calls do not take get advice instead; TRUNCATE CASCADE
--     names every table the cascade reaches.
CREATE TABLE guard_mid (id int PRIMARY KEY, ref int REFERENCES guard_ref);
CREATE TABLE guard_leaf (mid int REFERENCES guard_mid);
SELECT substring(note FROM 'Once the job.*USING INDEX [a-z_]+') AS note, safe_alternative
  FROM colmig.plan('ALTER TABLE big ADD CONSTRAINT big_r UNIQUE (r)');
SELECT d.ddl, p.safe_alternative IS NULL AS no_alternative,
       substring(p.note FROM 'Instead: (.*)$') AS advice
  FROM (VALUES ('ALTER TABLE big ADD CONSTRAINT u UNIQUE (r) INCLUDE (v)'),
               ('ALTER TABLE big ADD CONSTRAINT u UNIQUE NULLS NOT DISTINCT (r)'),
               ('ALTER TABLE big ADD CONSTRAINT f FOREIGN KEY (v) REFERENCES guard_ref MATCH FULL'),
               ('ALTER TABLE big ADD CONSTRAINT f FOREIGN KEY (v) REFERENCES guard_ref DEFERRABLE'),
               ('ALTER TABLE big ADD CONSTRAINT c CHECK (v > 0) NO INHERIT')) d(ddl)
 CROSS JOIN LATERAL colmig.plan(d.ddl) p;
SELECT regexp_replace(note, '\([0-9]+ rows, [0-9]+ [kMG]?B\)', '(its size)', 'g') AS note
  FROM colmig.plan('TRUNCATE guard_ref CASCADE');
-- Without ONLY, TRUNCATE empties the children, and the cascade follows the
-- keys that refer to them.
CREATE TABLE guard_par (id int);
CREATE TABLE guard_heir (id int PRIMARY KEY) INHERITS (guard_par);
CREATE TABLE guard_heir_ref (p int REFERENCES guard_heir);
SELECT d.ddl, substring(p.note FROM '^[a-z]+( \[[a-z_]+\])?') AS verdict,
       substring(p.note FROM 'Also empties ([^,]*),') AS also
  FROM (VALUES ('TRUNCATE guard_par CASCADE'), ('TRUNCATE ONLY guard_par CASCADE')) d(ddl)
 CROSS JOIN LATERAL colmig.plan(d.ddl) p;

-- 14. plan() and the guard hold no lock once they have judged: not on the
--     tables they sized, nor on one whose constraints they read.
BEGIN;
SELECT count(*) AS steps
  FROM colmig.plan('ALTER TABLE big ALTER COLUMN v SET NOT NULL;
                    SELECT colmig.set_not_null(''big'', ''v'');
                    ALTER TABLE parted ATTACH PARTITION bounded FOR VALUES FROM (100) TO (200)');
SET LOCAL colmig.guard = warn;
ALTER TABLE small ALTER COLUMN v SET NOT NULL;
SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND c.relname IN ('big', 'parted', 'bounded', 'small')
 ORDER BY 1, 2;
ROLLBACK;

-- 15. Where PostgreSQL refuses the statement itself, its own error comes
--     first: a role that does not own the table, a read-only transaction.
--     A role with the TRUNCATE privilege is judged. A statement_timeout
--     while the guard judges (here: a USING expression folded by the
--     planner) cancels the statement, which does not run.
CREATE ROLE regress_guard_stranger;
GRANT TRUNCATE ON guard_ref TO regress_guard_stranger;
SET colmig.guard = block;
SET ROLE regress_guard_stranger;
ALTER TABLE big ADD COLUMN stranger float8 DEFAULT random();
TRUNCATE guard_ref CASCADE;
RESET ROLE;
-- A CHECK on a column the same ALTER adds is still judged (its colmig.add_check()
-- text cannot be written yet).
\set VERBOSITY sqlstate
ALTER TABLE big ADD COLUMN fresh int DEFAULT 0, ADD CONSTRAINT fresh_positive CHECK (fresh >= 0);
\set VERBOSITY default
BEGIN READ ONLY;
ALTER TABLE big ADD COLUMN stranger float8 DEFAULT random();
ROLLBACK;
CREATE FUNCTION slow_one() RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.5); RETURN 1; END $$;
SET statement_timeout = '100ms';
ALTER TABLE small ALTER COLUMN v TYPE bigint USING v + slow_one();
RESET statement_timeout;
SELECT format_type(atttypid, atttypmod) AS v_type FROM pg_attribute
 WHERE attrelid = 'small'::regclass AND attname = 'v';
RESET colmig.guard;

DROP TABLE big, small, guard_child, guard_ref, corpus CASCADE;
DROP FUNCTION guard_table(text, int), observe(text), lock_taken(text, text),
  indexes_rebuilt(text), slow_one();
DROP TABLE parted, loose, bounded, linked, retyped, guard_leaf, guard_mid, keyed_parent,
  keyless, keyed, guard_par, guard_heir_ref, fenced, nested CASCADE;
DROP SCHEMA elsewhere;
DROP ROLE regress_guard_stranger;
DROP DOMAIN positive_int, any_int;
