-- Every bad input gets a clear error with its SQLSTATE, and nothing changes:
-- no job is stored and the table keeps its columns.
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric, qty int);
INSERT INTO orders SELECT g, g * 1.5, g % 7 FROM generate_series(1, 100) g;
CREATE VIEW orders_view AS SELECT * FROM orders;
CREATE TABLE parted (id int) PARTITION BY RANGE (id);
CREATE TEMP TABLE scratch (id int);
CREATE TABLE leaf PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE TABLE parent_table (id int);
CREATE TABLE child_table () INHERITS (parent_table);
CREATE TYPE pair AS (a int, b int);
CREATE TABLE typed OF pair;
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE DOMAIN stamped AS timestamptz DEFAULT clock_timestamp();
CREATE DOMAIN defaulted AS int DEFAULT 7;
CREATE TABLE no_identity (v int);
SET client_min_messages = error;  -- wal_level is not logical here
CREATE PUBLICATION everything FOR TABLE no_identity;
RESET client_min_messages;
DO $$ BEGIN
    EXECUTE 'CREATE TABLE wide (' ||
            (SELECT string_agg('c' || g || ' int', ', ') FROM generate_series(1, 1600) g) || ')';
END $$;

-- missing or unsuitable table
SELECT try($$SELECT colmig.add_column('no_such_table', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column(0, 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('orders_view', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('parted', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('scratch', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('pg_class', 'c', 'int')$$);
-- what would fail later, in the worker, is refused now
SELECT try($$SELECT colmig.add_column('leaf', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('parent_table', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('typed', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('colmig.jobs', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('wide', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('no_identity', 'c', 'int', backfill_expr => 'v')$$);
-- fire_triggers cannot give a row trigger transition tables: a batch is
-- no statement
CREATE TABLE transitions (id int);
CREATE FUNCTION count_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER with_new_table AFTER UPDATE ON transitions REFERENCING NEW TABLE AS new_rows
    FOR EACH ROW EXECUTE FUNCTION count_rows();
SELECT try($$SELECT colmig.add_column('transitions', 'c', 'int', backfill_expr => 'id', fire_triggers => true)$$);
DROP TABLE transitions;
DROP FUNCTION count_rows();
-- the same without a backfill updates no row: fine
BEGIN;
SELECT colmig.add_column('no_identity', 'c', 'int') > 0 AS catalog_only_is_fine;
ROLLBACK;

-- column already exists (also system columns)
SELECT try($$SELECT colmig.add_column('orders', 'price', 'int')$$);
SELECT try($$SELECT colmig.add_column('orders', 'ctid', 'int')$$);
SELECT try($$SELECT colmig.add_column('orders', '', 'int')$$);

-- unknown or unusable type, and types that try to smuggle SQL
SELECT try($$SELECT colmig.add_column('orders', 'c', 'no_such_type')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int; DROP TABLE orders')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int DEFAULT 1')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'anyelement')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'record')$$);
-- types whose ADD COLUMN rewrites the table, or would fill rows itself
SELECT try($$SELECT colmig.add_column('orders', 'c', 'positive')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'stamped')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'defaulted', backfill_expr => 'qty')$$);

-- expressions that are not exactly one expression over the table
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '1 +')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '1, 2')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '1); DROP TABLE orders; SELECT (1')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '1) FROM orders WHERE (true')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'qty) --')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', default_expr => '1) --', not_null => true)$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'qty AS c')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'qty /* ')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'no_such_column + 1')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'max(qty)')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'generate_series(1, qty)')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'text', backfill_expr => 'ctid::text')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'text', backfill_expr => 'orders::text')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'now()')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '$1')$$);
-- A subquery, as in a generated column: wrap it in a function instead.
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '(SELECT max(qty) FROM orders)')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'qty + (SELECT 1)')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'EXISTS (SELECT 1) ::int')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', default_expr => 'qty')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', default_expr => '(SELECT 1)')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'date', default_expr => '42')$$);

-- NOT NULL without any way to fill existing rows
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', not_null => true)$$);

-- batch size
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'qty', batch_size => 0)$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'qty', batch_size => -5)$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'qty', batch_size => 10000001)$$);

-- a start that never comes would be a job no worker could ever plan for
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', start_at => 'infinity')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', start_at => '-infinity')$$);

-- the fast path: the default is evaluated now, as ADD COLUMN would; a NULL
-- default cannot give NOT NULL without a scan of the whole table
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', default_expr => 'NULL::int', not_null => true)$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', default_expr => '1 / 0')$$);

-- run windows come in pairs, and a window of no time is refused
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_start => '01:00')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_end => '05:00')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_start => '01:00', window_end => '01:00')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_start => '25:00', window_end => '01:00')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_start => '00:00', window_end => '24:00')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_start => '01:00:30', window_end => '02:00')$$);

-- NULL arguments
SELECT try($$SELECT colmig.add_column(NULL, 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('orders', NULL, 'int')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', NULL)$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', not_null => NULL)$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', throttle => NULL)$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', fire_triggers => NULL)$$);

-- job functions on jobs that do not exist
SELECT try($$SELECT colmig.pause(-1)$$);
SELECT try($$SELECT colmig.resume(-1)$$);
SELECT try($$SELECT colmig.cancel(-1)$$);
SELECT try($$SELECT colmig.wait(-1)$$);
SELECT try($$SELECT colmig.wait(NULL)$$);

-- nothing changed
SELECT count(*) AS jobs FROM colmig.jobs;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns
  FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attnum > 0;

-- a second job for a column that is still being added
BEGIN;
SELECT colmig.add_column('orders', 'c', 'int', default_expr => '1') > 0 AS created;
SELECT try($$SELECT colmig.add_column('orders', 'c', 'text')$$);
ROLLBACK;
SELECT count(*) AS jobs FROM colmig.jobs;

-- colmig.fill_column() only runs as the internal trigger colmig creates for
-- a job: as any trigger a user creates with it, or called directly, it
-- refuses to run, and the row is not written.
SELECT try('SELECT colmig.fill_column()');
CREATE TABLE fills (id int, c int);
CREATE TRIGGER after_insert AFTER INSERT ON fills FOR EACH ROW
    EXECUTE FUNCTION colmig.fill_column('1', '2', '10', 'x');
SELECT try('INSERT INTO fills (id) VALUES (1)');
DROP TRIGGER after_insert ON fills;
CREATE TRIGGER looks_like_ours BEFORE INSERT ON fills FOR EACH ROW
    EXECUTE FUNCTION colmig.fill_column('1', '2', '10', '{CONST :consttype 23}');
SELECT try('INSERT INTO fills (id) VALUES (1)');
DROP TRIGGER looks_like_ours ON fills;
SELECT count(*) AS rows FROM fills;
DROP TABLE fills;

DROP VIEW orders_view;
DROP PUBLICATION everything;
DROP TABLE orders, parted, parent_table, child_table, typed, no_identity, wide;
DROP TYPE pair;
DROP DOMAIN positive, stamped, defaulted;
