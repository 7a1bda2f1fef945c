-- Who may do what. Any role may use colmig on the tables it owns, with no
-- grant after CREATE EXTENSION; the job runs as the table's owner; roles
-- see and steer only their own jobs, superusers and colmig_admin all.
CREATE ROLE colmig_alice;
CREATE ROLE colmig_bob;
CREATE ROLE colmig_watcher IN ROLE colmig_admin;
CREATE SCHEMA alice_space AUTHORIZATION colmig_alice;
GRANT USAGE ON SCHEMA alice_space TO colmig_bob;
CREATE FUNCTION superuser_only(x int) RETURNS int LANGUAGE sql AS 'SELECT x';
REVOKE EXECUTE ON FUNCTION superuser_only(int) FROM PUBLIC;

SET ROLE colmig_alice;
CREATE TABLE alice_space.notes (id int PRIMARY KEY, body text);
INSERT INTO alice_space.notes SELECT g, 'note ' || g FROM generate_series(1, 500) g;
-- No grant needed: alice owns the table.
SELECT colmig.add_column('alice_space.notes', 'author', 'text',
                         backfill_expr => 'current_user') AS job_alice \gset
SELECT colmig.wait(:job_alice);
SELECT author, count(*) FROM alice_space.notes GROUP BY author;
SELECT count(*) AS visible_to_alice FROM colmig.progress;
-- The worker runs as alice: a function she may not execute fails the job.
SELECT colmig.add_column('alice_space.notes', 'forbidden', 'int',
                         backfill_expr => 'public.superuser_only(id)') AS job_forbidden \gset
SELECT try(format('SELECT colmig.wait(%s)', :job_forbidden));
-- She cannot read the job table behind the view, nor write the rows the
-- fill triggers note for the proofs (which would make others' sweeps
-- begin again).
SELECT try('SELECT count(*) FROM colmig.jobs');
SELECT try('INSERT INTO colmig.fill_errors VALUES (1)');
RESET ROLE;

-- bob does not own the table: 42501 for a new job and for alice's jobs;
-- he sees none of them.
CREATE FUNCTION public.peek(t text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN RAISE NOTICE 'bob saw: %', t; RETURN true; END $$;
SET ROLE colmig_bob;
SELECT try($$SELECT colmig.add_column('alice_space.notes', 'bobs', 'int')$$);
SELECT try(format('SELECT colmig.pause(%s)', :job_alice));
SELECT try(format('SELECT colmig.resume(%s)', :job_alice));
SELECT try(format('SELECT colmig.cancel(%s)', :job_alice));
SELECT try(format('SELECT colmig.wait(%s)', :job_alice));
SELECT count(*) AS visible_to_bob FROM colmig.progress;
-- Not even through a cheap function of his own in a WHERE clause, which
-- the planner would otherwise run before the view's own filter (the view
-- is a security barrier; last_error can carry row data).
SELECT count(*) AS peeked FROM colmig.progress WHERE peek(last_error);
SELECT count(*) AS peeked FROM colmig.progress WHERE peek(relation);
RESET ROLE;
DROP FUNCTION public.peek(text);

-- A member of colmig_admin sees every job; a superuser's job on alice's
-- table still runs as alice, never as the superuser.
SET ROLE colmig_watcher;
SELECT count(*) >= 2 AS admin_sees_all FROM colmig.progress;
RESET ROLE;
SELECT colmig.add_column('alice_space.notes', 'run_as', 'text',
                         backfill_expr => 'current_user') AS job_super \gset
SELECT colmig.wait(:job_super);
SELECT DISTINCT run_as FROM alice_space.notes;
SET ROLE colmig_alice;
SELECT count(*) AS alice_sees_the_job_on_her_table FROM colmig.progress WHERE job_id = :job_super;
RESET ROLE;

-- Hostile input: each gets a clear error or is handled safely, and the
-- table keeps its columns.
SET ROLE colmig_alice;
CREATE TABLE alice_space.target (id int);
INSERT INTO alice_space.target VALUES (1), (2);
CREATE SEQUENCE alice_space.counter;
SELECT try($$SELECT colmig.add_column('alice_space.target', 'x1', 'int', backfill_expr => '1; DROP TABLE alice_space.target')$$);
SELECT try($$SELECT colmig.add_column('alice_space.target', 'x3', 'text', backfill_expr => $q$'it''s'); DROP TABLE alice_space.target; --$q$)$$);
SELECT try($$SELECT colmig.add_column('alice_space.target', 'x4', 'int', backfill_expr => '(WITH gone AS (DELETE FROM alice_space.target RETURNING 1) SELECT 1)')$$);
SELECT try($$SELECT colmig.add_column('alice_space.target', 'x5', 'int', default_expr => 'nextval(''alice_space.counter'') + (SELECT 1)')$$);
SELECT try($$SELECT colmig.add_column('alice_space.target', 'x6', 'int', backfill_expr => 'no_schema.f(id)')$$);
SELECT try($$SELECT colmig.add_column('alice_space.target', 'x7', repeat('a', 200))$$);
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns
  FROM pg_attribute WHERE attrelid = 'alice_space.target'::regclass AND attnum > 0;
SELECT count(*) AS jobs_stored FROM colmig.progress WHERE relation = 'alice_space.target';
-- Accepted, and harmless: names are quoted, and the job's SQL runs as
-- alice, who can neither run a function closed to her nor end the worker.
SELECT colmig.add_column('alice_space.target', 'x";DROP TABLE alice_space.target;--', 'int') AS job_quoted \gset
SELECT colmig.add_column('alice_space.target', repeat('b', 200), 'int') AS job_long \gset
-- Comments are only comments: the expression is analysed, and what runs is
-- what was analysed; its text is never put into a statement.
SELECT colmig.add_column('alice_space.target', 'x2', 'int',
    backfill_expr => '1 /* comment */ + 1 -- ; DROP TABLE alice_space.target') AS job_comment \gset
SELECT colmig.wait(:job_comment);
SELECT count(*) FILTER (WHERE x2 = 2) AS filled_with_2 FROM alice_space.target;
SELECT colmig.add_column('alice_space.target', 'x8', 'int',
    backfill_expr => 'pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid())::int') AS job_kill \gset
SELECT colmig.wait(:job_quoted), colmig.wait(:job_long);
SELECT try(format('SELECT colmig.wait(%s)', :job_kill));
SELECT string_agg(quote_ident(attname), ', ' ORDER BY attname) AS columns
  FROM pg_attribute WHERE attrelid = 'alice_space.target'::regclass AND attnum > 0;
SELECT count(*) AS rows_still_there FROM alice_space.target;
-- Unicode identifiers and expressions.
SELECT colmig.add_column('alice_space.target', 'größe_名前', 'text',
                         backfill_expr => $$'ü-' || id$$) AS job_unicode \gset
SELECT colmig.wait(:job_unicode);
SELECT "größe_名前" FROM alice_space.target ORDER BY id;
RESET ROLE;

-- A table that changes owner under a job: the job acted as the owner the
-- table had, and that role's rights are not the job's any more. It fails
-- at its next step or batch (42501), and its helpers still go: removing
-- them needs no role's rights.
SET ROLE colmig_alice;
CREATE TABLE alice_space.handed_over (id int PRIMARY KEY, v int);
INSERT INTO alice_space.handed_over SELECT g, g FROM generate_series(1, 2000) g;
RESET ROLE;
SELECT pg_advisory_lock(4242);
SET ROLE colmig_alice;
SELECT colmig.add_column('alice_space.handed_over', 'w', 'int', backfill_expr => 'gate(v)',
                         not_null => true, batch_size => 100) AS job_handed \gset
RESET ROLE;
SELECT wait_until('SELECT worker_at_gate()');
ALTER TABLE alice_space.handed_over OWNER TO colmig_bob;
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_handed));
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s',
                         :job_handed));
SELECT count(*) AS helpers_left FROM pg_trigger WHERE tgrelid = 'alice_space.handed_over'::regclass;

DROP SCHEMA alice_space CASCADE;
DROP FUNCTION superuser_only(int);
DROP ROLE colmig_alice, colmig_bob, colmig_watcher;
