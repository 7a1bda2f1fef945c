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
-- A BEFORE trigger that skips the update (returns NULL) keeps rows from
-- being filled: the job cannot show its column filled, and fails.
CREATE FUNCTION skip_odd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.id % 2 = 1 THEN RETURN NULL; END IF; RETURN NEW; END $$;
CREATE TRIGGER skips_odd_rows BEFORE UPDATE ON products FOR EACH ROW
    EXECUTE FUNCTION skip_odd();
SELECT colmig.add_column('products', 'third', 'int', backfill_expr => 'price / 3',
                         fire_triggers => true) AS job_skipped \gset
SELECT try(format('SELECT colmig.wait(%s)', :job_skipped));
DROP TRIGGER skips_odd_rows ON products;
DROP FUNCTION skip_odd();
-- A BEFORE trigger that changes a column the expression reads: the value
-- comes from the row as the triggers left it, as for the application's
-- writes (3. below), not from the row before them.
CREATE FUNCTION bump_price() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.price := NEW.price + 1000000; RETURN NEW; END $$;
CREATE TRIGGER bumps_price BEFORE UPDATE ON products FOR EACH ROW
    EXECUTE FUNCTION bump_price();
SELECT colmig.add_column('products', 'price_then', 'text', backfill_expr => 'price::text',
                         fire_triggers => true) AS job_bumped \gset
SELECT colmig.wait(:job_bumped);
DROP TRIGGER bumps_price ON products;
SELECT count(*) FILTER (WHERE price_then = price::text) AS from_the_row_as_triggers_left_it,
       count(*) FILTER (WHERE price > 1000000) AS bumped, count(*) AS rows FROM products;
UPDATE products SET price = price - 1000000, updated_at = '2000-01-01';
TRUNCATE audit;

-- 3. Rows the application writes while the job runs get exactly the value
--    a batch gives: after the application's own BEFORE triggers (its
--    INSERT's price is rounded first), as the job's owner (current_user is
--    the owner's name, also when colmig_app writes), under
--    session_replication_role = replica too (the trigger fires ALWAYS).
--    A BEFORE trigger whose name sorts after colmig's fill trigger (it
--    would change rows after the fill) is refused when the job is created.
CREATE TRIGGER "~late" BEFORE INSERT ON products FOR EACH ROW EXECUTE FUNCTION touch();
SELECT try($$SELECT colmig.add_column('products', 'worth', 'text', backfill_expr => 'qty')$$);
DROP TRIGGER "~late" ON products;
--    Also one named like colmig's own: it would sort after them.
CREATE TRIGGER "~colmig_fill_zz" BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION touch();
SELECT try($$SELECT colmig.add_column('products', 'worth', 'text', backfill_expr => 'qty')$$);
DROP TRIGGER "~colmig_fill_zz" ON products;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('products', 'worth', 'text',
                         backfill_expr => $$gate(price * qty || ' by ' || current_user)$$,
                         batch_size => 100) AS job_live \gset
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
-- A second job may not read the column this one still fills: it would be
-- computed from the NULLs of rows this job has not reached.
SELECT try($$SELECT colmig.add_column('products', 'worth_length', 'int',
                                      backfill_expr => 'length(worth)')$$);
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_live);
SELECT count(*) FILTER (WHERE worth = price * qty || ' by ' || current_user) AS right_values,
       count(*) AS rows FROM products;
-- Such a trigger created while a job runs: rows it changes may have been
-- filled from the values before its change, so the job fails.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('products', 'later_worth', 'int', backfill_expr => 'gate(qty)',
                         batch_size => 100) AS job_late \gset
SELECT wait_until('SELECT worker_at_gate()');
CREATE TRIGGER "~late" BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION touch();
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_late));
DROP TRIGGER "~late" ON products;
--    The same when the fill trigger is renamed to sort first: what counts
--    is the order the triggers fire in, not colmig's name.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('products', 'renamed_worth', 'int', backfill_expr => 'gate(qty)',
                         batch_size => 100) AS job_first \gset
SELECT wait_until('SELECT worker_at_gate()');
DO $$ BEGIN
    EXECUTE format('ALTER TRIGGER %I ON products RENAME TO a_fill',
                   (SELECT tgname FROM pg_trigger
                     WHERE tgrelid = 'products'::regclass AND tgisinternal));
END $$;
CREATE TRIGGER b_touch BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION touch();
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_first));
DROP TRIGGER b_touch ON products;
--    One that lives only a while, between two looks of the job: the rows
--    written meanwhile are left to the sweep (the fill trigger sees the
--    later trigger and does not fill them), which fills them from the
--    rows as they were stored.
CREATE FUNCTION double_qty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.qty := NEW.qty * 2; RETURN NEW; END $$;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('products', 'qty_then', 'int', backfill_expr => 'gate(qty)',
                         batch_size => 100) AS job_brief \gset
SELECT wait_until('SELECT worker_at_gate()');
CREATE TRIGGER "~zz_brief" BEFORE INSERT OR UPDATE ON products FOR EACH ROW
    EXECUTE FUNCTION double_qty();
INSERT INTO products (id, price, qty) VALUES (5003, 10, 4);
UPDATE products SET price = price WHERE id = 1998;
DROP TRIGGER "~zz_brief" ON products;
SELECT id, qty, qty_then FROM products WHERE id IN (1998, 5003) ORDER BY id;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_brief);
SELECT count(*) FILTER (WHERE qty_then = qty) AS right_values, count(*) AS rows FROM products;
DROP FUNCTION double_qty();

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
-- The row left NULL is noted in the writer's own transaction, for the
-- job's proof (colmig.fill_errors, closed to other roles).
SELECT count(*) FILTER (WHERE job_id = :job_raises) AS rows_left_unfilled,
       count(*) FILTER (WHERE job_id = :job_slow) AS rows_of_the_other_job
  FROM colmig.fill_errors;
-- Only a cancel is no error of the expression's: the application's own
-- statement_timeout still ends its statement while the fill runs long.
SELECT wait_until(format($$SELECT phase = 'backfill' FROM colmig.jobs WHERE job_id = %s$$,
                         :job_slow));
SET statement_timeout = '200ms';
SELECT try('INSERT INTO products (id, price, qty) VALUES (7003, 10, 1)');
RESET statement_timeout;
SELECT colmig.cancel(:job_slow);
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_raises));
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s',
                         :job_raises));
SELECT count(*) AS notes_left FROM colmig.fill_errors WHERE job_id = :job_raises;
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
-- Which row breaks it first depends on where the jobs before left each
-- row on its pages (a compact job moves some): the values are masked.
SELECT regexp_replace(try(format('SELECT colmig.wait(%s)', :job_checked)), '\(([0-9]+, )*[0-9]+\)', '(N)', 'g');
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('rules', 'y', 'int',
                         backfill_expr => 'gate(CASE WHEN id > 1000 THEN 1 ELSE id END)',
                         batch_size => 100) AS job_unique \gset
SELECT wait_until('SELECT worker_at_gate()');
ALTER TABLE rules ADD CONSTRAINT unique_y UNIQUE (y) DEFERRABLE INITIALLY IMMEDIATE;
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_unique));
CREATE TABLE allowed (z int PRIMARY KEY);
INSERT INTO allowed SELECT generate_series(1, 1500);
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('rules', 'z', 'int', backfill_expr => 'gate(v)',
                         batch_size => 100) AS job_fk \gset
SELECT wait_until('SELECT worker_at_gate()');
ALTER TABLE rules ADD CONSTRAINT z_allowed FOREIGN KEY (z) REFERENCES allowed NOT VALID;
SELECT pg_advisory_unlock(4242);
SELECT regexp_replace(try(format('SELECT colmig.wait(%s)', :job_fk)), '\(([0-9]+, )*[0-9]+\)', '(N)', 'g');
DROP TABLE rules, allowed;

-- 6. No writing session decides what the owner's code resolves or how it
--    reads values: the fill trigger evaluates with the creator's settings
--    (search_path with pg_temp last, TimeZone, DateStyle, ...), as the
--    batches do. A writer whose search_path puts its own schema first, with
--    a function of the name the owner's function calls, runs none of its
--    code as the owner; one in another time zone gets the same day; one
--    with other text search, identifier quoting and array settings gets
--    the creator's words, names and NULLs.
CREATE TABLE stamps (id int PRIMARY KEY, at timestamptz NOT NULL,
                     word text NOT NULL DEFAULT 'ab',
                     phrase text NOT NULL DEFAULT 'dogs running');
INSERT INTO stamps SELECT g, '2026-06-01 00:30+00'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 1000) g;
GRANT INSERT ON stamps TO colmig_app;
CREATE FUNCTION helper(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i * 2';
CREATE FUNCTION calc(i int) RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN helper(i); END';
CREATE SCHEMA writers AUTHORIZATION colmig_app;
CREATE TABLE loot (who text);
GRANT INSERT ON loot TO PUBLIC;
SET ROLE colmig_app;
CREATE FUNCTION writers.helper(i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.loot VALUES (current_user); RETURN -1; END $$;
RESET ROLE;
SET TimeZone = 'Asia/Tokyo';
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('stamps', 'doubled', 'int', backfill_expr => 'gate(calc(id))',
                         batch_size => 100) AS job_doubled \gset
SELECT colmig.add_column('stamps', 'day', 'date', backfill_expr => 'gate(at::date)',
                         batch_size => 100) AS job_day \gset
RESET TimeZone;
SELECT colmig.add_column('stamps', 'label', 'text',
    backfill_expr => $$gate(quote_ident(word) || ' ' || to_tsvector(phrase)::text || ' '
                            || ('{' || word || ',NULL}')::text[]::text)$$,
    batch_size => 100) AS job_label \gset
SELECT wait_until(format($$SELECT count(*) = 3 FROM colmig.jobs
                            WHERE job_id IN (%s, %s, %s) AND phase = 'backfill'$$,
                         :job_doubled, :job_day, :job_label));
SET ROLE colmig_app;
SET search_path = writers, public;
SET TimeZone = 'America/Los_Angeles';
SET default_text_search_config = 'simple';
SET quote_all_identifiers = on;
SET array_nulls = off;
INSERT INTO public.stamps (id, at) VALUES (2001, '2026-06-01 02:00+00');
RESET ALL;
RESET ROLE;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_doubled), colmig.wait(:job_day), colmig.wait(:job_label);
SELECT count(*) FILTER (WHERE doubled = id * 2) AS doubled_right,
       count(*) FILTER (WHERE day = (at AT TIME ZONE 'Asia/Tokyo')::date) AS creators_day,
       count(*) FILTER (WHERE label = 'ab ''dog'':1 ''run'':2 {ab,NULL}') AS creators_text,
       count(*) AS rows
  FROM stamps;
SELECT count(*) AS code_run_for_the_writer FROM loot;
DROP TABLE stamps, loot;
DROP FUNCTION calc(int), helper(int);
DROP SCHEMA writers CASCADE;

DROP TABLE products, audit;
DROP FUNCTION touch(), audit_row(), round_price();
DROP ROLE colmig_app;
