-- What runs is what was validated: add_column analyses default_expr and
-- backfill_expr once, in the creator's session and search_path, and the
-- batches, the fill trigger and the DDL steps run that analysis (names
-- bound to objects), never the text parsed again.
CREATE ROLE colmig_planter;
CREATE ROLE colmig_owner;
GRANT CREATE ON SCHEMA public TO colmig_planter;
CREATE SCHEMA app;
CREATE TABLE app.people (id int PRIMARY KEY, name varchar(20) NOT NULL, note text);
INSERT INTO app.people SELECT g, 'Name' || g, 'n' FROM generate_series(1, 2000) g;

-- 1. A function planted on the search_path after the job was created is
--    never picked up: public.lower(varchar) matches a varchar argument
--    better than pg_catalog.lower(text), and would win a new parse of
--    lower(name), in the batches, in the fill trigger, and in the DEFAULT
--    of a fast ADD COLUMN alike. Both jobs are created before it exists:
--    one is held in its backfill, the other paused before it starts.
SET search_path = public, app;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('people', 'lower_name', 'text',
                         backfill_expr => 'gate(lower(name))', batch_size => 100) AS job_lower \gset
BEGIN;
SELECT colmig.add_column('app.people', 'label', 'text',
                         default_expr => $$lower('LABEL'::varchar)$$) AS job_label \gset
SELECT colmig.pause(:job_label);
COMMIT;
RESET search_path;
SELECT wait_until('SELECT worker_at_gate()');
SET ROLE colmig_planter;
CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql AS $$SELECT 'planted'$$;
RESET ROLE;
SET search_path = public, app;
INSERT INTO people (id, name) VALUES (3000, 'New Row');
RESET search_path;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_lower);
SELECT colmig.resume(:job_label);
SELECT colmig.wait(:job_label);
SELECT count(*) FILTER (WHERE lower_name = pg_catalog.lower(name)) AS right_values,
       count(*) FILTER (WHERE lower_name = 'planted') AS planted_values, count(*) AS rows
  FROM app.people;
SELECT DISTINCT label FROM app.people;
DROP FUNCTION public.lower(varchar);

-- 2. "$user" means what it meant for the creator. The superuser creates a
--    job on colmig_owner's table with search_path "$user", public: its
--    tag() is public.tag(), even though the job runs as colmig_owner, whose
--    own schema has a tag() too.
CREATE SCHEMA colmig_owner AUTHORIZATION colmig_owner;
CREATE FUNCTION public.tag(i int) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'public-' || i$$;
CREATE FUNCTION colmig_owner.tag(i int) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'owner-' || i$$;
ALTER FUNCTION colmig_owner.tag(int) OWNER TO colmig_owner;
CREATE TABLE colmig_owner.things (id int PRIMARY KEY);
INSERT INTO colmig_owner.things SELECT generate_series(1, 300);
ALTER TABLE colmig_owner.things OWNER TO colmig_owner;
SET search_path = "$user", public;
SELECT colmig.add_column('colmig_owner.things', 'tagged', 'text',
                         backfill_expr => 'tag(id)') AS job_user \gset
RESET search_path;
SELECT colmig.wait(:job_user);
SELECT count(*) FILTER (WHERE tagged = 'public-' || id) AS creators_tag FROM colmig_owner.things;

-- 3. Renaming a column the expression reads is harmless: the analysis
--    names it by number.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('app.people', 'initial', 'text',
                         backfill_expr => 'gate(left(name, 1))', batch_size => 100,
                         not_null => true) AS job_initial \gset
SELECT wait_until('SELECT worker_at_gate()');
ALTER TABLE app.people RENAME COLUMN name TO full_name;
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_initial);
SELECT count(*) FILTER (WHERE initial = left(full_name, 1)) AS right_values, count(*) AS rows
  FROM app.people;

-- 4. What a live job's expressions use cannot be dropped (2BP01), as for a
--    column default: not the function, not its schema, not a column they
--    read. With CASCADE the drop goes through, as it would drop a column
--    default, and the job fails. The job's table itself may go: the job
--    then fails (sql/drop.sql). Once the job is over, everything can be
--    dropped.
CREATE SCHEMA helpers;
CREATE FUNCTION helpers.shout(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT upper(t)$$;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('app.people', 'loud', 'text',
                         backfill_expr => 'gate(helpers.shout(note))', batch_size => 100) AS job_loud \gset
SELECT wait_until('SELECT worker_at_gate()');
\set VERBOSITY terse
SELECT try('DROP FUNCTION helpers.shout(text)');
SELECT try('DROP SCHEMA helpers');
SELECT try('ALTER TABLE app.people DROP COLUMN note');
SELECT try('DROP FUNCTION gate(anyelement)');
\set VERBOSITY default
SELECT pg_advisory_unlock(4242);
SELECT colmig.wait(:job_loud);
SELECT count(*) FILTER (WHERE loud = 'N') AS right_values FROM app.people;
DROP SCHEMA helpers CASCADE;
SELECT count(*) AS dependencies_left FROM colmig.job_dependencies;

CREATE SCHEMA helpers;
CREATE FUNCTION helpers.whisper(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT lower(t)$$;
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('app.people', 'quiet', 'text',
                         backfill_expr => 'gate(helpers.whisper(note))', batch_size => 100)
    AS job_quiet \gset
SELECT wait_until('SELECT worker_at_gate()');
DROP SCHEMA helpers CASCADE;
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_quiet));
SELECT wait_until(format('SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = %s', :job_quiet));
SELECT count(*) AS fill_triggers_left FROM pg_trigger WHERE tgrelid = 'app.people'::regclass;
-- An application write meanwhile would have gone through (the fill cannot
-- compile any more and leaves the column NULL), as now without a trigger.
INSERT INTO app.people (id, full_name, initial) VALUES (4001, 'Later', 'L');

-- A column the expression reads may change its type (that is no drop), but
-- the analysed expression expects the old one: the job fails at its next
-- batch, naming the column, instead of computing anything from it.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('app.people', 'id_text', 'text',
                         backfill_expr => 'gate(id::text)', batch_size => 100) AS job_retyped \gset
SELECT wait_until('SELECT worker_at_gate()');
ALTER TABLE app.people ALTER COLUMN id TYPE bigint;
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_retyped));

-- The column the job fills may change its type too: the value the
-- expression was coerced to would be stored as something else. The
-- application's writes go on (the fill leaves the column NULL), and the job
-- fails at its next batch.
SELECT pg_advisory_lock(4242);
SELECT colmig.add_column('app.people', 'name_length', 'int',
                         backfill_expr => 'gate(length(full_name))', batch_size => 100)
    AS job_target \gset
SELECT wait_until('SELECT worker_at_gate()');
ALTER TABLE app.people ALTER COLUMN name_length TYPE float8;
INSERT INTO app.people (id, full_name, initial) VALUES (4000, 'After', 'A');
SELECT name_length FROM app.people WHERE id = 4000;
SELECT pg_advisory_unlock(4242);
SELECT try(format('SELECT colmig.wait(%s)', :job_target));

-- 5. What the fast path's DDL runs: the default as analysed, deparsed with
--    every name the pinned search_path would not find schema-qualified.
SET search_path = app, public;
CREATE FUNCTION app.greeting() RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'hello'$$;
SELECT colmig.add_column('people', 'greeting', 'text', default_expr => 'greeting()') AS job_greeting \gset
RESET search_path;
SELECT colmig.wait(:job_greeting);
SET search_path = pg_catalog;
SELECT pg_get_expr(adbin, adrelid) AS stored_default FROM pg_attrdef
 WHERE adrelid = 'app.people'::regclass
   AND adnum = (SELECT attnum FROM pg_attribute
                 WHERE attrelid = 'app.people'::regclass AND attname = 'greeting');
RESET search_path;

DROP SCHEMA app CASCADE;
DROP SCHEMA colmig_owner CASCADE;
DROP FUNCTION public.tag(int);
REVOKE CREATE ON SCHEMA public FROM colmig_planter;
DROP ROLE colmig_planter, colmig_owner;
