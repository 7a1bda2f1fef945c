-- colmig 0.3 -> 0.4: colmig.plan() explains what DDL would do to the live
-- tables (docs/guard.md). The guard itself (colmig.guard) lives in the
-- module and needs no catalog object.
\echo Use "ALTER EXTENSION colmig UPDATE TO '0.4'" to load this file. \quit

-- Reads the catalog and pg_locks as the calling role; takes no lock that
-- anybody could wait for. Every role may explain its DDL. No search_path of
-- its own: the names in `ddl` mean what they would mean if the caller ran
-- it (its own queries name pg_catalog explicitly).
CREATE FUNCTION colmig.plan(ddl text)
RETURNS TABLE(step integer, statement text, lock_mode text, blocks text,
              rewrites_table boolean, scans_table boolean,
              estimated_seconds double precision, note text, safe_alternative text)
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'colmig_plan';
