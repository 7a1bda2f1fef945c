-- A job acts on its table and nothing else: it follows the table by OID.
-- Every step locks the table by OID first and only then reads its name, so
-- a rename is followed and a table that took the old name is never touched.
CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
INSERT INTO accounts SELECT g, g * 10 FROM generate_series(1, 2000) g;
CREATE TABLE accounts_archive (id int PRIMARY KEY, balance int NOT NULL);
INSERT INTO accounts_archive SELECT g, -g FROM generate_series(1, 500) g;
SELECT 'accounts'::regclass::oid AS accounts_oid \gset

-- 1. Renamed in the middle of the backfill: the job goes on on the renamed
--    table, through its NOT NULL steps.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('accounts', 'cents', 'int', backfill_expr => 'gate(balance * 100)',
                         not_null => true, batch_size => 100) AS job_rename \gset
SELECT wait_until('SELECT worker_at_gate()');
ALTER TABLE accounts RENAME TO ledger;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_rename);
SELECT count(*) FILTER (WHERE cents = balance * 100) AS right_values, count(*) AS rows
  FROM ledger;
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'ledger'::regclass AND attname = 'cents';
SELECT relation FROM colmig.progress WHERE job_id = :job_rename;

-- 2. Renamed and swapped with another table in one transaction: the job
--    stays with its table (now called accounts_archive); the table that
--    took its name gets no column, no trigger and no row written.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('ledger', 'doubled', 'int', backfill_expr => 'gate(balance * 2)',
                         not_null => true, batch_size => 100) AS job_swap \gset
SELECT wait_until('SELECT worker_at_gate()');
BEGIN;
ALTER TABLE ledger RENAME TO swapping;
ALTER TABLE accounts_archive RENAME TO ledger;
ALTER TABLE swapping RENAME TO accounts_archive;
COMMIT;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_swap);
SELECT 'accounts_archive'::regclass::oid = :accounts_oid AS job_table_is_now_accounts_archive;
SELECT count(*) FILTER (WHERE doubled = balance * 2) AS right_values, count(*) AS rows
  FROM accounts_archive;
SELECT count(*) AS doubled_columns FROM pg_attribute
 WHERE attrelid = 'ledger'::regclass AND attname = 'doubled';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'ledger'::regclass;
SELECT n_tup_upd AS rows_updated_in_the_other_table FROM pg_stat_user_tables
 WHERE relid = 'ledger'::regclass;

DROP TABLE ledger, accounts_archive;
