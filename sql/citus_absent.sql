-- colmig.shard_fill() and colmig.progress_shards serve distributed jobs on
-- Citus (docs/citus.md; test/t/018_citus.pl runs them on a real cluster).
-- Without Citus the function is refused, and no role but a superuser may
-- call it at all; the view is there and empty.
\set VERBOSITY sqlstate
SELECT colmig.shard_fill(1, 102008, 'status', '{"coordinator": "x"}');
SELECT colmig.shard_fill(NULL, 102008, 'run', '{}');
SELECT colmig.shard_fill(1, 102008, 'drop', '{}');
CREATE ROLE colmig_shard_caller;
SET ROLE colmig_shard_caller;
SELECT colmig.shard_fill(1, 102008, 'run', '{}');
SELECT count(*) FROM colmig.progress_shards;
SELECT count(*) FROM colmig.shard_jobs;
RESET ROLE;
DROP ROLE colmig_shard_caller;
\set VERBOSITY default
SELECT count(*) AS jobs FROM colmig.jobs WHERE operation = 'fill_shard';
