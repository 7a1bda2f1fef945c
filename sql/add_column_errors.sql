-- Every bad input gets a clear error with its SQLSTATE, and nothing changes:
-- no job is stored and the table keeps its columns.
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric, qty int);
INSERT INTO orders SELECT g, g * 1.5, g % 7 FROM generate_series(1, 100) g;
CREATE VIEW orders_view AS SELECT * FROM orders;
CREATE TABLE parted (id int) PARTITION BY RANGE (id);
CREATE TEMP TABLE scratch (id int);

-- missing or unsuitable table
SELECT try($$SELECT colmig.add_column('no_such_table', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column(0, 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('orders_view', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('parted', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('scratch', 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('pg_class', 'c', 'int')$$);

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

-- expressions that are not exactly one expression over the table
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '1 +')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '1, 2')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '1); DROP TABLE orders; SELECT (1')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '1) FROM orders WHERE (true')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'qty -- )')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'qty /* ')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => '')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'no_such_column + 1')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'max(qty)')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'generate_series(1, qty)')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'text', backfill_expr => 'ctid::text')$$);
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

-- run windows come in pairs, and a window of no time is refused
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_start => '01:00')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_end => '05:00')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_start => '01:00', window_end => '01:00')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', window_start => '25:00', window_end => '01:00')$$);

-- NULL arguments
SELECT try($$SELECT colmig.add_column(NULL, 'c', 'int')$$);
SELECT try($$SELECT colmig.add_column('orders', NULL, 'int')$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', NULL)$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', not_null => NULL)$$);
SELECT try($$SELECT colmig.add_column('orders', 'c', 'int', throttle => NULL)$$);

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

-- colmig.fill_column() is only a BEFORE INSERT/UPDATE row trigger with a
-- column, an expression and a search_path; anything else is refused when
-- it fires, and the row is not written.
SELECT try('SELECT colmig.fill_column()');
CREATE TABLE fills (id int, c int);
CREATE TRIGGER after_insert AFTER INSERT ON fills FOR EACH ROW
    EXECUTE FUNCTION colmig.fill_column('c', 'id + 1', 'public');
SELECT try('INSERT INTO fills (id) VALUES (1)');
DROP TRIGGER after_insert ON fills;
CREATE TRIGGER two_args BEFORE INSERT ON fills FOR EACH ROW
    EXECUTE FUNCTION colmig.fill_column('c', 'id + 1');
SELECT try('INSERT INTO fills (id) VALUES (1)');
DROP TRIGGER two_args ON fills;
CREATE TRIGGER no_column BEFORE INSERT ON fills FOR EACH ROW
    EXECUTE FUNCTION colmig.fill_column('nope', 'id + 1', 'public');
SELECT try('INSERT INTO fills (id) VALUES (1)');
DROP TRIGGER no_column ON fills;
CREATE TRIGGER bad_expr BEFORE INSERT ON fills FOR EACH ROW
    EXECUTE FUNCTION colmig.fill_column('c', 'id +', 'public');
SELECT try('INSERT INTO fills (id) VALUES (1)');
DROP TRIGGER bad_expr ON fills;
-- and the happy path, outside a job: rows without a value get one
CREATE TRIGGER fill_c BEFORE INSERT ON fills FOR EACH ROW WHEN (NEW.c IS NULL)
    EXECUTE FUNCTION colmig.fill_column('c', 'id + 1', 'public');
INSERT INTO fills (id) VALUES (1), (2);
INSERT INTO fills (id, c) VALUES (3, 30);
SELECT * FROM fills ORDER BY id;
DROP TABLE fills;

-- colmig.pace() is where a throttled batch rests; outside a batch it only
-- says true, and it takes no arguments.
SELECT colmig.pace() AS paced, count(*) AS rows FROM generate_series(1, 3) WHERE colmig.pace();
SELECT try('SELECT colmig.pace(1)');

DROP VIEW orders_view;
DROP TABLE orders, parted;
