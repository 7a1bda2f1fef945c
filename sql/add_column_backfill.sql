-- The backfill path: the column is added bare, existing rows are filled in
-- ctid page-range batches, rows written meanwhile get their value from a
-- trigger, and NOT NULL goes through a NOT VALID check that is validated.
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 20000) g;
SELECT pg_relation_filenode('orders') AS filenode_before \gset

-- A derived column, NOT NULL, small batches so the job takes many of them.
SELECT colmig.add_column('orders', 'total', 'numeric', backfill_expr => 'price * qty',
                         not_null => true, batch_size => 1000) AS job_total \gset
SELECT colmig.wait(:job_total);
SELECT count(*) AS rows, count(*) FILTER (WHERE total = price * qty) AS correct FROM orders;
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'total';
-- The helpers are gone: no trigger, no check constraint.
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'orders'::regclass;
SELECT count(*) AS checks FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'c';
SELECT state, phase, rows_done, batch_size, percent FROM colmig.progress WHERE job_id = :job_total;

-- A volatile default: one value per row, without the rewriting ADD COLUMN.
SELECT colmig.add_column('orders', 'token', 'uuid', default_expr => 'gen_random_uuid()',
                         not_null => true) AS job_token \gset
SELECT colmig.wait(:job_token);
SELECT count(*) AS rows, count(DISTINCT token) AS distinct_tokens FROM orders;
SELECT pg_get_expr(adbin, adrelid) AS default_value FROM pg_attrdef
 WHERE adrelid = 'orders'::regclass
   AND adnum = (SELECT attnum FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'token');
SELECT pg_relation_filenode('orders') = :filenode_before AS same_filenode;

-- Both a default for new rows and a different backfill for existing ones.
SELECT colmig.add_column('orders', 'source', 'text', default_expr => $$'app'$$,
                         backfill_expr => $$'legacy-' || (id % 3)$$) AS job_source \gset
SELECT colmig.wait(:job_source);
SELECT source, count(*) FROM orders GROUP BY source ORDER BY source;
-- total is NOT NULL without a default: new rows must now supply it.
SELECT try('INSERT INTO orders (id, price, qty) VALUES (20001, 1, 1)');
INSERT INTO orders (id, price, qty, total) VALUES (20001, 1, 1, 1);
SELECT source, total FROM orders WHERE id = 20001;

-- Rows the application writes while the job runs. gate() blocks the
-- worker's first batch while this session holds advisory lock 4242, so the
-- job is caught in its backfill with the trigger installed.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('orders', 'label', 'text', backfill_expr => $$gate('item ' || id)$$,
                         not_null => true, batch_size => 500) AS job_label \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT phase FROM colmig.progress WHERE job_id = :job_label;
INSERT INTO orders (id, price, qty, total) VALUES (30001, 2, 2, 4);
UPDATE orders SET qty = qty + 1 WHERE id IN (5, 19000);
SELECT id, label FROM orders WHERE id IN (5, 19000, 30001) ORDER BY id;
-- An explicit NULL over an already filled value stays: the update trigger
-- fills only rows the backfill has not reached.
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_label);
SELECT count(*) FILTER (WHERE label = 'item ' || id) AS correct, count(*) AS rows FROM orders;
SELECT count(*) FILTER (WHERE source = 'app') AS new_rows_with_default FROM orders;

-- The fill trigger parses the expression once per session, with the job's
-- search_path: a session whose own path finds another tag_of() still fills
-- with the job's. It parses again after the table changed (ANALYZE is
-- enough), and an expression that writes to its own table, firing the
-- trigger inside itself, fills both rows.
CREATE SCHEMA decoy;
CREATE FUNCTION public.tag_of(i bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF i = 30003 THEN
        INSERT INTO orders (id, price, qty, total, label) VALUES (130003, 1, 1, 1, 'x');
    END IF;
    RETURN 'real-' || i;
END
$$;
CREATE FUNCTION decoy.tag_of(i bigint) RETURNS text LANGUAGE sql AS $$SELECT 'decoy-' || i$$;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('orders', 'tag', 'text', backfill_expr => 'gate(tag_of(id))',
                         batch_size => 500) AS job_tag \gset
SELECT wait_until('SELECT worker_at_gate()');
SET search_path = decoy, public;
INSERT INTO orders (id, price, qty, total, label) VALUES (30002, 1, 1, 1, 'x');
RESET search_path;
ANALYZE orders;
UPDATE orders SET qty = qty WHERE id = 7;
INSERT INTO orders (id, price, qty, total, label) VALUES (30003, 1, 1, 1, 'x');
SELECT id, tag FROM orders WHERE id IN (7, 30002, 30003, 130003) ORDER BY id;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_tag);
SELECT count(*) FILTER (WHERE tag = 'real-' || id) AS correct, count(*) AS rows FROM orders;
DROP SCHEMA decoy CASCADE;

-- A backfill that yields NULL for some rows cannot become NOT NULL: the
-- job fails at validation, names the column, and removes its helpers.
SELECT colmig.add_column('orders', 'maybe', 'int',
                         backfill_expr => 'CASE WHEN id % 100 = 0 THEN NULL ELSE qty END',
                         not_null => true) AS job_maybe \gset
SELECT try(format('SELECT colmig.wait(%s)', :job_maybe));
SELECT state, phase, last_error FROM colmig.progress WHERE job_id = :job_maybe;
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s', :job_maybe));
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'orders'::regclass;
SELECT count(*) AS checks FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'c';
SELECT attnotnull, (SELECT count(*) FROM orders WHERE maybe IS NULL) AS nulls
  FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'maybe';

-- A backfill that raises fails the job with the original SQLSTATE.
SELECT colmig.add_column('orders', 'ratio', 'numeric', backfill_expr => 'price / (qty - qty)')
    AS job_ratio \gset
SELECT try(format('SELECT colmig.wait(%s)', :job_ratio));

DROP TABLE orders;
