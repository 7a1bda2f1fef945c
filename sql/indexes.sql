-- Indexes without blocking writes: create_index and drop_index. Each
-- validates its arguments in the caller's session (a bad one stores no
-- job), returns a job id at once, and a worker runs CREATE or DROP INDEX
-- CONCURRENTLY. An index is built under the job's own name
-- (colmig_<job>_index) and takes the name asked for once it is valid.

-- Messages and helper names carry job ids: mask them.
CREATE FUNCTION masked(message text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(message, '(colmig job |of job |colmig_)[0-9]+', '\1N', 'g')
$$;
CREATE FUNCTION indexes_of(tbl regclass)
RETURNS TABLE (name text, valid boolean, definition text) LANGUAGE sql AS $$
    SELECT masked(c.relname::text), i.indisvalid, masked(pg_get_indexdef(i.indexrelid))
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = tbl ORDER BY 1
$$;
-- The indexes a build left under a job's name, anywhere.
CREATE FUNCTION helper_indexes() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_class WHERE relkind = 'i' AND relname ~ '^colmig_[0-9]+_index$'
$$;
-- IMMUTABLE only by its word, so that it may be an index expression: a
-- build evaluating it blocks while this session holds advisory lock 4242
-- (see gate() in setup.sql).
CREATE FUNCTION gated(value int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(4242);
    RETURN value;
END
$$;

CREATE TABLE products (id int PRIMARY KEY, sku text NOT NULL, name text, price int,
                       category int, tags text[]);
INSERT INTO products
SELECT g, 'SKU-' || g, 'product ' || g, CASE WHEN g = 11 THEN 30 ELSE g * 3 END, g % 5,
       ARRAY['t' || g % 3]
  FROM generate_series(1, 200) g;

--
-- create_index
--

-- Happy path: a plain index.
SELECT colmig.create_index('products', 'products_name', 'name') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT operation, relation, target, column_name, state, phase, step, percent, last_error
  FROM colmig.progress WHERE job_id = :job;
SELECT * FROM indexes_of('products');
SELECT helper_indexes();

-- Unique, over an expression with an operator class and an order, partial,
-- with INCLUDE columns; and other access methods.
SELECT colmig.create_index('products', 'products_sku_lower',
                           'lower(sku) text_pattern_ops DESC NULLS LAST, name COLLATE "C"',
                           is_unique => true, predicate => 'price > 0 AND category <> 4',
                           include => '{price, category}') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT target, state, step FROM colmig.progress WHERE job_id = :job;
SELECT colmig.create_index('products', 'products_category_hash', 'category',
                           method => 'hash') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT colmig.create_index('products', 'products_tags', 'tags', method => 'gin') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT * FROM indexes_of('products');
SELECT helper_indexes();
SELECT try($$INSERT INTO products VALUES (1000, 'sku-1', 'product 1', 5, 1)$$);

-- While it builds, the index is the job's, invalid, and progress shows the
-- build; a name being built is taken.
SELECT pg_advisory_lock(4242);
SELECT colmig.create_index('products', 'products_gated', 'gated(price)') AS job \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT state, phase, step, index_phase, worker_pid IS NOT NULL AS has_worker
  FROM colmig.progress WHERE job_id = :job;
SELECT name, valid FROM indexes_of('products') WHERE name ~ 'colmig|gated';
SELECT try($$SELECT colmig.create_index('products', 'products_gated', 'price')$$);
SELECT pg_advisory_unlock(4242);
CALL colmig.wait_job(:job, '60s');
SELECT state, phase, step FROM colmig.progress WHERE job_id = :job;
SELECT name, valid, definition FROM indexes_of('products') WHERE name ~ 'colmig|gated';
SELECT helper_indexes();

-- cancel() in the middle of a build stops it; the job's index goes.
SELECT pg_advisory_lock(4242);
SELECT colmig.create_index('products', 'products_cancelled', 'gated(category)') AS job \gset
SELECT wait_until('SELECT worker_at_gate()');
SELECT colmig.cancel(:job);
CALL colmig.wait_job(:job, '30s');
SELECT pg_advisory_unlock(4242);
SELECT name FROM indexes_of('products') WHERE name ~ 'colmig|cancelled';
SELECT helper_indexes();

-- A unique index over duplicates: the job fails and leaves no index,
-- valid or invalid.
SELECT colmig.create_index('products', 'products_price_unique', 'price', is_unique => true)
    AS job \gset
\set VERBOSITY sqlstate
CALL colmig.wait_job(:job, '60s');
\set VERBOSITY default
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate, masked(:'LAST_ERROR_MESSAGE') AS wait_job_error;
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s', :job));
SELECT state, phase, step FROM colmig.progress WHERE job_id = :job;
SELECT name FROM indexes_of('products') WHERE name ~ 'colmig|unique';
SELECT count(*) AS invalid_indexes FROM pg_index WHERE NOT indisvalid;
SELECT helper_indexes();

-- Bad input: each is refused with its SQLSTATE, and no job is stored.
CREATE VIEW products_view AS SELECT * FROM products;
CREATE TEMP TABLE scratch (id int);
CREATE TABLE parted (id int) PARTITION BY RANGE (id);
SELECT count(*) AS jobs_before FROM colmig.jobs \gset
-- missing or unsuitable tables, columns and access methods
SELECT try($$SELECT colmig.create_index('no_such_table', 'i', 'id')$$);
SELECT try($$SELECT colmig.create_index(0, 'i', 'id')$$);
SELECT try($$SELECT colmig.create_index('products_view', 'i', 'id')$$);
SELECT try($$SELECT colmig.create_index('scratch', 'i', 'id')$$);
SELECT try($$SELECT colmig.create_index('parted', 'i', 'id')$$);
SELECT try($$SELECT colmig.create_index('pg_class', 'i', 'relname')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'no_such_column')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'lower(no_such_column)')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'ctid')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', include => '{no_such_column}')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', include => '{NULL}')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', method => 'no_such_method')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', method => 'heap')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', method => 'hash', is_unique => true)$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name, price', method => 'hash')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', method => 'hash', include => '{price}')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name DESC', method => 'hash')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name no_such_ops')$$);
-- names taken (by any relation of the schema)
SELECT try($$SELECT colmig.create_index('products', 'products_name', 'price')$$);
SELECT try($$SELECT colmig.create_index('products', 'products_pkey', 'price')$$);
SELECT try($$SELECT colmig.create_index('products', 'products', 'price')$$);
-- NULL and empty arguments
SELECT try($$SELECT colmig.create_index(NULL, 'i', 'name')$$);
SELECT try($$SELECT colmig.create_index('products', NULL, 'name')$$);
SELECT try($$SELECT colmig.create_index('products', '', 'name')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', NULL)$$);
SELECT try($$SELECT colmig.create_index('products', 'i', '')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', is_unique => NULL)$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', method => NULL)$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', throttle => NULL)$$);
-- columns is the key list of one index, nothing else
SELECT try($$SELECT colmig.create_index('products', 'i', 'name); DROP TABLE products; --')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name) WHERE (true')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name) INCLUDE (price')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name) WITH (fillfactor = 10')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name) TABLESPACE pg_global; --')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name; DROP TABLE products')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name text_ops (siglen = 8)')$$);
-- index expressions: immutable, no set
SELECT try($$SELECT colmig.create_index('products', 'i', '(price + random())')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', '(now())')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', '(name || clock_timestamp())')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', '(generate_series(1, price))')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', '((SELECT 1))')$$);
-- predicates: exactly one immutable boolean expression
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', predicate => 'price > (SELECT 1)')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', predicate => 'EXISTS (SELECT 1 FROM products)')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', predicate => 'price > random()')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', predicate => 'price')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', predicate => 'max(price) > 0')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', predicate => 'true; DROP TABLE products')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', predicate => 'true) --')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', predicate => 'price > 0, price < 5')$$);
SELECT try($$SELECT colmig.create_index('products', 'i', 'name', predicate => '')$$);
SELECT count(*) - :jobs_before AS jobs_stored FROM colmig.jobs;
SELECT name FROM indexes_of('products');

--
-- drop_index
--

-- Happy path: DROP INDEX CONCURRENTLY.
SELECT colmig.drop_index('products_tags') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT operation, relation, target, column_name, state, phase, step, percent, last_error
  FROM colmig.progress WHERE job_id = :job;
SELECT name FROM indexes_of('products');

-- Bad input; an index a constraint needs (also another table's foreign
-- key) is refused as DROP INDEX would refuse it.
CREATE TABLE reviews (id int PRIMARY KEY, product_sku text);
CREATE UNIQUE INDEX products_sku ON products (sku);
ALTER TABLE reviews ADD CONSTRAINT reviews_product FOREIGN KEY (product_sku) REFERENCES products (sku);
ALTER TABLE products ADD CONSTRAINT products_name_key UNIQUE (name);
SELECT count(*) AS jobs_before FROM colmig.jobs \gset
SELECT try($$SELECT colmig.drop_index('products_pkey')$$);
SELECT try($$SELECT colmig.drop_index('products_name_key')$$);
SELECT try($$SELECT colmig.drop_index('products_sku')$$);
SELECT try($$SELECT colmig.drop_index('no_such_index')$$);
SELECT try($$SELECT colmig.drop_index(0)$$);
SELECT try($$SELECT colmig.drop_index('products')$$);
SELECT try($$SELECT colmig.drop_index('pg_class_oid_index')$$);
SELECT try($$SELECT colmig.drop_index(NULL)$$);
SELECT try($$SELECT colmig.drop_index('products_name', throttle => NULL)$$);
SELECT count(*) - :jobs_before AS jobs_stored FROM colmig.jobs;
SELECT name FROM indexes_of('products');

--
-- Who may: only the table's owner.
--
CREATE ROLE colmig_idx_owner;
CREATE ROLE colmig_idx_stranger;
-- (CREATE INDEX needs CREATE on the table's schema too.)
CREATE SCHEMA idx_space AUTHORIZATION colmig_idx_owner;
GRANT USAGE ON SCHEMA idx_space TO colmig_idx_stranger;
CREATE TABLE idx_space.owned (id int, v int);
CREATE INDEX owned_v ON idx_space.owned (v);
ALTER TABLE idx_space.owned OWNER TO colmig_idx_owner;
SELECT count(*) AS jobs_before FROM colmig.jobs \gset
SET ROLE colmig_idx_stranger;
SELECT try($$SELECT colmig.create_index('idx_space.owned', 'owned_id', 'id')$$);
SELECT try($$SELECT colmig.drop_index('idx_space.owned_v')$$);
RESET ROLE;
SELECT count(*) - :jobs_before AS jobs_stored FROM colmig.jobs;
-- The owner may, with no grant; the job runs as the owner.
SET ROLE colmig_idx_owner;
SELECT colmig.create_index('idx_space.owned', 'owned_id', 'id', is_unique => true) AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT colmig.drop_index('idx_space.owned_v') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT operation, relation, target, state, step FROM colmig.progress ORDER BY job_id DESC LIMIT 2;
RESET ROLE;
SELECT name, valid, definition FROM indexes_of('idx_space.owned');
SELECT relowner::regrole AS index_owner FROM pg_class WHERE oid = 'idx_space.owned_id'::regclass;
SELECT helper_indexes();

DROP SCHEMA idx_space CASCADE;
DROP ROLE colmig_idx_owner, colmig_idx_stranger;
DROP VIEW products_view;
DROP TABLE reviews, products, parted;
DROP FUNCTION masked(text), indexes_of(regclass), helper_indexes(), gated(int);
