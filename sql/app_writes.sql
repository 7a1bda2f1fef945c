-- The application never notices: while a job lives, its writes succeed
-- whenever they would without colmig, and get the value a batch would give
-- them, after their own BEFORE triggers; the batches themselves fire none
-- of the application's triggers unless the job asks for it.
CREATE ROLE colmig_app;
CREATE TABLE products (id int PRIMARY KEY, price int NOT NULL, qty int NOT NULL,
                       updated_at timestamptz NOT NULL DEFAULT '2000-01-01');
INSERT INTO products SELECT g, g, g % 5 FROM generate_series(1, 2000) g;
GRANT SELECT, INSERT, UPDATE ON products TO colmig_app;
CREATE TABLE audit (id int, op text);
GRANT INSERT ON audit TO colmig_app;
-- The application's own triggers: one keeps updated_at, one audits, one
-- rounds prices; all BEFORE/AFTER row triggers with ordinary names.
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := '2030-01-01'; RETURN NEW; END $$;
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO audit VALUES (NEW.id, TG_OP); RETURN NULL; END $$;
CREATE FUNCTION round_price() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.price := (NEW.price / 10) * 10; RETURN NEW; END $$;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER audit_products AFTER UPDATE ON products FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE TRIGGER round_prices BEFORE INSERT ON products FOR EACH ROW EXECUTE FUNCTION round_price();

-- 1. By default the batches fire no application trigger: no row's
--    updated_at changes, no audit row is written.
SELECT colmig.add_column('products', 'total', 'int', backfill_expr => 'price * qty')
    AS job_quiet \gset
SELECT colmig.wait(:job_quiet);
SELECT count(*) FILTER (WHERE total = price * qty) AS filled,
       count(*) FILTER (WHERE updated_at = '2000-01-01') AS untouched FROM products;
SELECT count(*) AS audit_rows FROM audit;

-- 2. With fire_triggers => true they fire, as an UPDATE of the column would
--    (with the search_path of the job's creator, which audit_row() needs to
--    find its table).
SELECT colmig.add_column('products', 'half', 'int', backfill_expr => 'price / 2',
                         fire_triggers => true) AS job_loud \gset
SELECT colmig.wait(:job_loud);
SELECT count(*) FILTER (WHERE half = price / 2) AS filled,
       count(*) FILTER (WHERE updated_at > '2029-12-30') AS touched FROM products;
SELECT count(*) AS audit_rows FROM audit;
UPDATE products SET updated_at = '2000-01-01';
TRUNCATE audit;

-- 3. Rows the application writes while the job runs get exactly the value
--    a batch gives: after the application's own BEFORE triggers (its
--    INSERT's price is rounded first), as the job's owner (current_user is
--    the owner's name, also when colmig_app writes), under
--    session_replication_role = replica too (the trigger fires ALWAYS).
--    A trigger whose name sorts after colmig's fill trigger gets a NOTICE.
CREATE TRIGGER "~late" BEFORE INSERT ON products FOR EACH ROW EXECUTE FUNCTION touch();
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('products', 'worth', 'text',
                         backfill_expr => $$gate(price * qty || ' by ' || current_user)$$,
                         batch_size => 100) AS job_live \gset
DROP TRIGGER "~late" ON products;
SELECT wait_until('SELECT worker_at_gate()');
SET ROLE colmig_app;
INSERT INTO products (id, price, qty) VALUES (5001, 57, 2);
UPDATE products SET qty = 3 WHERE id = 1999;
RESET ROLE;
SET session_replication_role = replica;
INSERT INTO products (id, price, qty) VALUES (5002, 7, 7);
RESET session_replication_role;
SELECT id, price, worth = price * qty || ' by ' || current_user AS as_a_batch_would
  FROM products WHERE id IN (1999, 5001, 5002) ORDER BY id;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_live);
SELECT count(*) FILTER (WHERE worth = price * qty || ' by ' || current_user) AS right_values,
       count(*) AS rows FROM products;

-- 4. An expression that raises for some row never makes the application's
--    write fail: the row is written with the column NULL (the server log
--    says why), and the job itself then meets the row and fails with the
--    expression's error.
CREATE FUNCTION slow_for(i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN IF i > 7000 THEN PERFORM pg_sleep(5); END IF; RETURN i; END $$;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('products', 'per_unit', 'int',
                         backfill_expr => 'gate(price / qty)', batch_size => 100) AS job_raises \gset
SELECT colmig.add_column('products', 'slowed', 'int',
                         backfill_expr => 'gate(slow_for(id))', batch_size => 100) AS job_slow \gset
SELECT wait_until('SELECT worker_at_gate()');
SET ROLE colmig_app;
INSERT INTO products (id, price, qty) VALUES (6001, 10, 0);
INSERT INTO products (id, price, qty) VALUES (6002, 10, 5);
RESET ROLE;
SELECT id, per_unit FROM products WHERE id IN (6001, 6002) ORDER BY id;
-- Only a cancel is no error of the expression's: the application's own
-- statement_timeout still ends its statement while the fill runs long.
SELECT wait_until(format($$SELECT phase = 'backfill' FROM colmig.jobs WHERE job_id = %s$$,
                         :job_slow));
SET statement_timeout = '200ms';
SELECT try('INSERT INTO products (id, price, qty) VALUES (7003, 10, 1)');
RESET statement_timeout;
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_raises));
SELECT colmig.cancel(:job_slow);
SELECT colmig.wait(:job_slow);
SELECT count(*) AS row_7003 FROM products WHERE id = 7003;
DROP FUNCTION slow_for(int);

-- 5. The table's own rules hold for what a batch writes, as for an UPDATE:
--    a stored generated column over the new column is computed, and a
--    CHECK added meanwhile (even NOT VALID) is enforced: the job fails
--    with 23514 on the first row that breaks it.
CREATE TABLE rules (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO rules SELECT g, g FROM generate_series(1, 2000) g;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('rules', 'w', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_generated \gset
SELECT wait_until('SELECT worker_at_gate()');
ALTER TABLE rules ADD COLUMN w2 int GENERATED ALWAYS AS (w * 2) STORED;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_generated);
SELECT count(*) FILTER (WHERE w2 = v * 2) AS generated_right, count(*) AS rows FROM rules;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('rules', 'x', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_checked \gset
SELECT wait_until('SELECT worker_at_gate()');
ALTER TABLE rules ADD CONSTRAINT small_x CHECK (x < 1000) NOT VALID;
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_checked));
DROP TABLE rules;

DROP TABLE products, audit;
DROP FUNCTION touch(), audit_row(), round_price();
DROP ROLE colmig_app;
