-- Constraints without long strong locks: set_not_null, add_check,
-- add_foreign_key and validate_constraint. Each validates its arguments in
-- the caller's session (a bad one stores no job), returns a job id at once,
-- and a worker runs the job; CALL colmig.wait_job() waits for it.

-- Messages name jobs and the helpers named after them: mask the ids.
CREATE FUNCTION masked(message text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(message, '(colmig job |of job |colmig_)[0-9]+', '\1N', 'g')
$$;
-- try(), with the error's DETAIL.
CREATE FUNCTION try_detail(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN masked(SQLSTATE || ': ' || SQLERRM || coalesce(' DETAIL: ' || nullif(detail, ''), ''));
END
$$;
-- The checks a set_not_null job adds for itself, left anywhere.
CREATE FUNCTION helper_checks() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_constraint WHERE conname ~ '^colmig_[0-9]+_not_null$'
$$;
CREATE FUNCTION constraints_of(tbl regclass)
RETURNS TABLE (conname name, contype "char", convalidated boolean, definition text)
LANGUAGE sql AS $$
    SELECT conname, contype, convalidated, pg_get_constraintdef(oid)
      FROM pg_constraint WHERE conrelid = tbl ORDER BY conname
$$;
CREATE FUNCTION not_null(tbl regclass, col name) RETURNS boolean LANGUAGE sql AS $$
    SELECT attnotnull FROM pg_attribute WHERE attrelid = tbl AND attname = col
$$;

CREATE TABLE customers (id int PRIMARY KEY, email text, region text);
INSERT INTO customers
SELECT g, 'c' || g || '@example.com', CASE WHEN g % 2 = 0 THEN 'north' ELSE 'south' END
  FROM generate_series(1, 100) g;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, code text, amount int,
                     discount int NOT NULL DEFAULT 0, note text, label text);
INSERT INTO orders
SELECT g, g % 100 + 1, 'o' || g, g * 10, 0,
       CASE WHEN g % 50 <> 0 THEN 'note ' || g END, 'l' || g
  FROM generate_series(1, 300) g;

--
-- set_not_null
--

-- Happy path: a NOT VALID check of the job's own, validated, then SET NOT
-- NULL proven from it; the check goes again.
SELECT colmig.set_not_null('orders', 'amount') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT operation, relation, target, column_name, state, phase, step, percent, last_error
  FROM colmig.progress WHERE job_id = :job;
SELECT not_null('orders', 'amount') AS amount_not_null;
SELECT helper_checks();
SELECT try($$INSERT INTO orders (id, customer_id, code) VALUES (1000, 1, 'x')$$);

-- A valid CHECK (col IS NOT NULL) proves it already: one step, no check of
-- the job's own; the user's check stays.
ALTER TABLE orders ADD CONSTRAINT code_present CHECK (code IS NOT NULL);
SELECT colmig.set_not_null('orders', 'code') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT p.state, p.step, j.plan FROM colmig.progress p JOIN colmig.jobs j USING (job_id)
 WHERE job_id = :job;
SELECT not_null('orders', 'code') AS code_not_null;
SELECT conname, convalidated FROM constraints_of('orders') WHERE contype = 'c';
-- A NOT VALID one proves nothing: the job adds and validates its own.
ALTER TABLE orders ADD CONSTRAINT label_present CHECK (label IS NOT NULL) NOT VALID;
SELECT colmig.set_not_null('orders', 'label') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT p.state, p.step, j.plan FROM colmig.progress p JOIN colmig.jobs j USING (job_id)
 WHERE job_id = :job;
SELECT not_null('orders', 'label') AS label_not_null;
SELECT conname, convalidated FROM constraints_of('orders') WHERE contype = 'c';
SELECT helper_checks();
ALTER TABLE orders DROP CONSTRAINT code_present, DROP CONSTRAINT label_present;

-- A column with NULLs: the job fails with how many rows and which ones,
-- the column stays nullable and the job's check goes.
SELECT colmig.set_not_null('orders', 'note') AS job \gset
\set VERBOSITY sqlstate
CALL colmig.wait_job(:job, '60s');
\set VERBOSITY default
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate, masked(:'LAST_ERROR_MESSAGE') AS wait_job_error;
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s', :job));
SELECT state, phase, step FROM colmig.progress WHERE job_id = :job;
SELECT not_null('orders', 'note') AS note_not_null;
SELECT helper_checks();
SELECT try($$INSERT INTO orders (id, customer_id, code, amount, label) VALUES (1000, 1, 'x', 1, 'l')$$);
DELETE FROM orders WHERE id = 1000;
-- Once the rows have a value, it goes through.
UPDATE orders SET note = 'late note' WHERE note IS NULL;
SELECT colmig.set_not_null('orders', 'note') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT not_null('orders', 'note') AS note_not_null;
SELECT helper_checks();

-- Bad input: each is refused with its SQLSTATE, and no job is stored.
CREATE VIEW orders_view AS SELECT * FROM orders;
CREATE TABLE parent_table (id int PRIMARY KEY, v int);
CREATE TABLE child_table () INHERITS (parent_table);
SELECT count(*) AS jobs_before FROM colmig.jobs \gset
SELECT try($$SELECT colmig.set_not_null('no_such_table', 'amount')$$);
SELECT try($$SELECT colmig.set_not_null(0, 'amount')$$);
SELECT try($$SELECT colmig.set_not_null('orders_view', 'amount')$$);
SELECT try($$SELECT colmig.set_not_null('pg_class', 'relname')$$);
SELECT try($$SELECT colmig.set_not_null('parent_table', 'v')$$);
SELECT try($$SELECT colmig.set_not_null('orders', 'no_such_column')$$);
SELECT try($$SELECT colmig.set_not_null('orders', 'ctid')$$);
SELECT try($$SELECT colmig.set_not_null('orders', 'discount')$$);
SELECT try($$SELECT colmig.set_not_null('orders', 'amount')$$);
SELECT try($$SELECT colmig.set_not_null(NULL, 'amount')$$);
SELECT try($$SELECT colmig.set_not_null('orders', NULL)$$);
SELECT try($$SELECT colmig.set_not_null('orders', 'customer_id', throttle => NULL)$$);
SELECT try($$SELECT colmig.set_not_null('orders', 'customer_id', window_start => '01:00')$$);
SELECT try($$SELECT colmig.set_not_null('orders', 'customer_id', start_at => 'infinity')$$);
SELECT count(*) - :jobs_before AS jobs_stored FROM colmig.jobs;
-- A second job for a column one is already at work on.
BEGIN;
SELECT colmig.set_not_null('customers', 'email') > 0 AS created;
SELECT try($$SELECT colmig.set_not_null('customers', 'email')$$);
ROLLBACK;
SELECT not_null('orders', 'customer_id') AS customer_id_not_null;

--
-- add_check
--

-- Happy path: NOT VALID for a moment, then VALIDATE.
SELECT colmig.add_check('orders', 'amount_positive', 'amount > 0') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT operation, relation, target, column_name, state, phase, step, percent, last_error
  FROM colmig.progress WHERE job_id = :job;
SELECT * FROM constraints_of('orders') WHERE conname = 'amount_positive';
SELECT try($$INSERT INTO orders (id, customer_id, code, amount, note, label) VALUES (1000, 1, 'x', -1, 'n', 'l')$$);
SELECT helper_checks();

-- Validation fails: the constraint stays, NOT VALID, and holds for new
-- rows; last_error counts the rows that break it and names some.
SELECT colmig.add_check('orders', 'amount_capped', 'amount <= 2930') AS job \gset
\set VERBOSITY sqlstate
CALL colmig.wait_job(:job, '60s');
\set VERBOSITY default
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT state, phase, step, masked(last_error) AS last_error
  FROM colmig.progress WHERE job_id = :job;
SELECT * FROM constraints_of('orders') WHERE conname = 'amount_capped';
SELECT try($$INSERT INTO orders (id, customer_id, code, amount, note, label) VALUES (1000, 1, 'x', 5000, 'n', 'l')$$);
-- Fixed rows: validate_constraint validates it.
UPDATE orders SET amount = 2930 WHERE amount > 2930;
SELECT colmig.validate_constraint('orders', 'amount_capped') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT operation, relation, target, state, step FROM colmig.progress WHERE job_id = :job;
SELECT * FROM constraints_of('orders') WHERE conname = 'amount_capped';

-- Bad input. Expressions are exactly one expression over the table; the
-- text never reaches the worker's SQL as text.
SELECT count(*) AS jobs_before FROM colmig.jobs \gset
SELECT try($$SELECT colmig.add_check('no_such_table', 'c', 'true')$$);
SELECT try($$SELECT colmig.add_check('orders_view', 'c', 'true')$$);
SELECT try($$SELECT colmig.add_check('parent_table', 'c', 'v > 0')$$);
SELECT try($$SELECT colmig.add_check(NULL, 'c', 'true')$$);
SELECT try($$SELECT colmig.add_check('orders', NULL, 'true')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', NULL)$$);
SELECT try($$SELECT colmig.add_check('orders', '', 'true')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'true', throttle => NULL)$$);
SELECT try($$SELECT colmig.add_check('orders', 'amount_positive', 'amount > 1')$$);
SELECT try($$SELECT colmig.add_check('orders', 'orders_pkey', 'amount > 1')$$);
SELECT try($$SELECT colmig.add_check('orders', 'colmig_12_not_null', 'amount > 1')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'no_such_column > 0')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'amount + 1')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'max(amount) > 0')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'amount > (SELECT 0)')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'EXISTS (SELECT 1 FROM customers)')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', '')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'amount > 0, amount < 5')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'amount > 0 AS x')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'amount > 0 FROM customers')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'true); DROP TABLE orders; --')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'true; DROP TABLE orders')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'amount > 0) NOT VALID; DROP TABLE orders; SELECT (true')$$);
SELECT try($$SELECT colmig.add_check('orders', 'c', 'amount > 0 /*')$$);
SELECT count(*) - :jobs_before AS jobs_stored FROM colmig.jobs;
SELECT conname FROM constraints_of('orders');
-- A name another job is about to add.
BEGIN;
SELECT colmig.add_check('customers', 'email_has_at', $$email LIKE '%@%'$$) > 0 AS created;
SELECT try($$SELECT colmig.add_check('customers', 'email_has_at', 'true')$$);
ROLLBACK;

--
-- add_foreign_key
--

-- Happy path, with a referential action (written in any case and spacing).
SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}',
                              on_delete => ' cascade ') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT operation, relation, target, column_name, state, phase, step, percent, last_error
  FROM colmig.progress WHERE job_id = :job;
SELECT * FROM constraints_of('orders') WHERE contype = 'f';
SELECT count(*) AS orders_of_customer_100 FROM orders WHERE customer_id = 100;
DELETE FROM customers WHERE id = 100;
SELECT count(*) AS orders_of_customer_100 FROM orders WHERE customer_id = 100;
SELECT try($$INSERT INTO orders (id, customer_id, code, amount, note, label) VALUES (1000, 100, 'x', 1, 'n', 'l')$$);
-- Two columns, named, against a unique index whose keys come in another
-- order.
CREATE UNIQUE INDEX orders_code_id ON orders (code, id);
CREATE TABLE shipments (id int PRIMARY KEY, order_id int, order_code text);
INSERT INTO shipments SELECT g, g, 'o' || g FROM generate_series(1, 50) g;
SELECT colmig.add_foreign_key('shipments', '{order_id, order_code}', 'orders', '{id, code}',
                              conname => 'shipment_order', on_update => 'Set  Null')
    AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT target, state, step FROM colmig.progress WHERE job_id = :job;
SELECT * FROM constraints_of('shipments') WHERE contype = 'f';
SELECT helper_checks();

-- Validation fails: the key stays NOT VALID (and holds for new rows);
-- last_error counts the rows without a referenced row.
CREATE TABLE payments (id int PRIMARY KEY, order_id int, amount int);
INSERT INTO payments
SELECT g, CASE WHEN g % 10 = 0 THEN NULL WHEN g > 36 THEN 5000 + g ELSE g END, g
  FROM generate_series(1, 40) g;
SELECT colmig.add_foreign_key('payments', '{order_id}', 'orders', '{id}') AS job \gset
\set VERBOSITY sqlstate
CALL colmig.wait_job(:job, '60s');
\set VERBOSITY default
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate, masked(:'LAST_ERROR_MESSAGE') AS wait_job_error;
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s', :job));
SELECT target, state, phase, step FROM colmig.progress WHERE job_id = :job;
SELECT * FROM constraints_of('payments');
SELECT try($$INSERT INTO payments VALUES (1000, 9999, 1)$$);

-- Bad input.
CREATE TEMP TABLE scratch (id int PRIMARY KEY);
SELECT count(*) AS jobs_before FROM colmig.jobs \gset
-- missing or unsuitable tables and columns
SELECT try($$SELECT colmig.add_foreign_key('no_such_table', '{customer_id}', 'customers', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'no_such_table', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders_view', '{customer_id}', 'customers', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'orders_view', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'scratch', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{no_such_column}', 'customers', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{no_such_column}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{ctid}', 'customers', '{id}')$$);
-- NULL and empty arguments
SELECT try($$SELECT colmig.add_foreign_key(NULL, '{customer_id}', 'customers', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', NULL, 'customers', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', NULL, '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', NULL)$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{}', 'customers', '{}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{NULL}', 'customers', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', on_delete => NULL)$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', on_update => NULL)$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', conname => '')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', throttle => NULL)$$);
-- the key itself
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id, code}', 'customers', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id, email}')$$);
SELECT try_detail($$SELECT colmig.add_foreign_key('orders', '{code}', 'customers', '{id}')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{region}')$$);
SELECT try($$SELECT colmig.add_foreign_key('shipments', '{order_id}', 'orders', '{code}')$$);
-- the name and the actions
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', conname => 'orders_pkey')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', conname => 'amount_positive')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', conname => 'colmig_7_not_null')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', on_delete => 'EXPLODE')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', on_delete => 'CASCADE; DROP TABLE orders')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', on_update => 'SETNULL')$$);
SELECT try($$SELECT colmig.add_foreign_key('orders', '{customer_id}', 'customers', '{id}', on_update => '')$$);
SELECT count(*) - :jobs_before AS jobs_stored FROM colmig.jobs;
SELECT conname FROM constraints_of('orders') WHERE contype = 'f';
-- A name another job is about to add.
BEGIN;
SELECT colmig.add_foreign_key('payments', '{order_id}', 'orders', '{id}', conname => 'payment_order') > 0 AS created;
SELECT try($$SELECT colmig.add_foreign_key('payments', '{order_id}', 'orders', '{id}', conname => 'payment_order')$$);
ROLLBACK;

--
-- validate_constraint
--

-- conname NULL: every NOT VALID check and foreign key of the table, in
-- one job (here: the key that failed above, and two checks).
DELETE FROM payments WHERE order_id > 5000;
ALTER TABLE payments ADD CONSTRAINT payment_positive CHECK (amount > 0) NOT VALID;
ALTER TABLE payments ADD CONSTRAINT payment_capped CHECK (amount < 1000) NOT VALID;
ALTER TABLE payments ADD CONSTRAINT payment_sane CHECK (amount < 1000000);
SELECT colmig.validate_constraint('payments') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT operation, relation, target, state, phase, step, percent, last_error
  FROM colmig.progress WHERE job_id = :job;
SELECT * FROM constraints_of('payments');

-- A failing one of several: the job stops at it; those before it are
-- valid, it and those after stay NOT VALID.
ALTER TABLE payments ADD CONSTRAINT a_positive CHECK (amount > 0) NOT VALID;
ALTER TABLE payments ADD CONSTRAINT b_small CHECK (amount < 30) NOT VALID;
ALTER TABLE payments ADD CONSTRAINT c_even CHECK (amount % 2 = 0) NOT VALID;
SELECT colmig.validate_constraint('payments') AS job \gset
\set VERBOSITY sqlstate
CALL colmig.wait_job(:job, '60s');
\set VERBOSITY default
SELECT target, state, step, masked(last_error) AS last_error
  FROM colmig.progress WHERE job_id = :job;
SELECT conname, convalidated FROM constraints_of('payments') WHERE conname ~ '^[abc]_';
ALTER TABLE payments DROP CONSTRAINT a_positive, DROP CONSTRAINT b_small, DROP CONSTRAINT c_even;

-- Bad input.
-- A check of colmig's own (it calls colmig.check_of_job()) that no live
-- job owns does not survive its creation; a user's check under such a
-- name is validated like any other (operation_control.sql).
ALTER TABLE orders ADD CONSTRAINT colmig_999_not_null
    CHECK (note IS NOT NULL AND colmig.check_of_job(999)) NOT VALID;
SELECT count(*) AS jobs_before FROM colmig.jobs \gset
SELECT try($$SELECT colmig.validate_constraint('no_such_table', 'c')$$);
SELECT try($$SELECT colmig.validate_constraint('orders_view')$$);
SELECT try($$SELECT colmig.validate_constraint('parent_table')$$);
SELECT try($$SELECT colmig.validate_constraint(NULL, 'c')$$);
SELECT try($$SELECT colmig.validate_constraint('orders', '')$$);
SELECT try($$SELECT colmig.validate_constraint('orders', 'c', throttle => NULL)$$);
SELECT try($$SELECT colmig.validate_constraint('orders', 'no_such_constraint')$$);
SELECT try($$SELECT colmig.validate_constraint('orders', 'orders_pkey')$$);
SELECT try($$SELECT colmig.validate_constraint('orders', 'amount_positive')$$);
SELECT try($$SELECT colmig.validate_constraint('orders', 'orders_customer_id_fkey')$$);
-- colmig's own checks are its jobs' business, also when all are asked for
SELECT try($$SELECT colmig.validate_constraint('orders', 'colmig_999_not_null')$$);
SELECT try($$SELECT colmig.validate_constraint('orders')$$);
SELECT try($$SELECT colmig.validate_constraint('customers')$$);
SELECT count(*) - :jobs_before AS jobs_stored FROM colmig.jobs;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS colmig_999_not_null;

--
-- Who may: only the table's owner, and for a foreign key the REFERENCES
-- privilege on the referenced table, for the caller and for the owner
-- (the job runs as the owner).
--
CREATE ROLE colmig_con_owner;
CREATE ROLE colmig_con_stranger;
CREATE TABLE owned (id int PRIMARY KEY, customer_id int, amount int);
ALTER TABLE owned ADD CONSTRAINT owned_amount CHECK (amount > 0) NOT VALID;
ALTER TABLE owned OWNER TO colmig_con_owner;
SELECT count(*) AS jobs_before FROM colmig.jobs \gset
SET ROLE colmig_con_stranger;
SELECT try($$SELECT colmig.set_not_null('owned', 'amount')$$);
SELECT try($$SELECT colmig.add_check('owned', 'c', 'amount < 10')$$);
SELECT try($$SELECT colmig.add_foreign_key('owned', '{customer_id}', 'customers', '{id}')$$);
SELECT try($$SELECT colmig.validate_constraint('owned', 'owned_amount')$$);
SELECT try($$SELECT colmig.validate_constraint('owned')$$);
RESET ROLE;
SET ROLE colmig_con_owner;
SELECT try($$SELECT colmig.add_foreign_key('owned', '{customer_id}', 'customers', '{id}')$$);
RESET ROLE;
-- A superuser may reference anything, the owner the job runs as may not.
SELECT try_detail($$SELECT colmig.add_foreign_key('owned', '{customer_id}', 'customers', '{id}')$$);
SELECT count(*) - :jobs_before AS jobs_stored FROM colmig.jobs;
-- With the privilege the owner may, and the job runs as the owner.
GRANT REFERENCES ON customers TO colmig_con_owner;
SET ROLE colmig_con_owner;
SELECT colmig.add_foreign_key('owned', '{customer_id}', 'customers', '{id}') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT colmig.validate_constraint('owned') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT relation, target, state, step FROM colmig.progress WHERE job_id = :job;
RESET ROLE;
SELECT * FROM constraints_of('owned');

--
-- wait_job
--

-- Refused inside a transaction block, and inside a function (atomic).
BEGIN;
CALL colmig.wait_job(:job);
ROLLBACK;
SELECT try(format('CALL colmig.wait_job(%s)', :job));
-- With a timeout: 57014 while the job waits for its start_at.
SELECT colmig.set_not_null('orders', 'customer_id', start_at => now() + interval '1 hour')
    AS job \gset
\set VERBOSITY sqlstate
CALL colmig.wait_job(:job, '100ms');
\set VERBOSITY default
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate, masked(:'LAST_ERROR_MESSAGE') AS wait_job_error;
SELECT colmig.cancel(:job);
CALL colmig.wait_job(:job, '60s');
SELECT not_null('orders', 'customer_id') AS customer_id_not_null;
SELECT try('CALL colmig.wait_job(NULL)');
SELECT helper_checks();

-- As ALTER TABLE accepts them: a bigint key referencing an int key (a
-- cross-type equality in the key's operator family), and REFERENCES
-- granted on the referenced column only. Duplicate key columns are
-- refused at once (42830), not in the worker.
CREATE TABLE wide_ref (id int PRIMARY KEY);
CREATE TABLE wide_child (ref bigint, ref2 bigint);
INSERT INTO wide_ref VALUES (1), (2);
INSERT INTO wide_child VALUES (1, 1), (2, NULL);
SELECT colmig.add_foreign_key('wide_child', '{ref}', 'wide_ref', '{id}') AS job \gset
CALL colmig.wait_job(:job, '60s');
SELECT try('SELECT colmig.add_foreign_key(''wide_child'', ''{ref,ref2}'', ''wide_ref'', ''{id,id}'')');
SELECT try('SELECT colmig.add_foreign_key(''wide_child'', ''{ref,ref}'', ''wide_ref'', ''{id,id}'')');
CREATE ROLE colmig_col_refs;
CREATE TABLE col_child (ref int);
ALTER TABLE col_child OWNER TO colmig_col_refs;
GRANT REFERENCES (id) ON wide_ref TO colmig_col_refs;
SET ROLE colmig_col_refs;
SELECT colmig.add_foreign_key('col_child', '{ref}', 'wide_ref', '{id}') > 0 AS column_grant_is_enough;
RESET ROLE;
SELECT job_id AS job FROM colmig.jobs WHERE relid = 'col_child'::regclass \gset
CALL colmig.wait_job(:job, '60s');
DROP TABLE col_child, wide_child, wide_ref;
DROP ROLE colmig_col_refs;

DROP TABLE owned;
REVOKE REFERENCES ON customers FROM colmig_con_owner;
DROP ROLE colmig_con_owner, colmig_con_stranger;
DROP VIEW orders_view;
DROP TABLE payments, shipments, orders, customers, parent_table, child_table;
DROP FUNCTION masked(text), try_detail(text), helper_checks(), constraints_of(regclass),
              not_null(regclass, name);
