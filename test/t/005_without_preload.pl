# Without colmig in shared_preload_libraries there is no launcher: jobs
# wait until colmig.run_pending() starts workers for them. It is safe to
# call concurrently (each job is handed to one worker), and after a
# restart it resumes a job that was running.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('plain');
$node->init;
$node->append_conf('postgresql.conf', "colmig.retry_max_delay = 200ms\n");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE FUNCTION gate(value anyelement) RETURNS anyelement LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN value; END $$;
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 20000) g;
});
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'colmig%'"),
	'0', 'no launcher without shared_preload_libraries');

# 1. A job waits for run_pending().
my $job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'total', 'numeric',
	                         backfill_expr => 'price * qty', not_null => true)});
is($node->safe_psql('postgres', 'SELECT colmig.run_pending()'), '1',
	'run_pending starts a worker for the queued job');
is($node->safe_psql('postgres', "SELECT colmig.wait($job, '60s')"), 'succeeded',
	'the job completes');
is($node->safe_psql('postgres', 'SELECT colmig.run_pending()'), '0',
	'nothing left to start');

# 2. Two run_pending() at once hand the job to one worker only.
$job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'code', 'text', backfill_expr => $$'c' || id$$)});
my $first = $node->background_psql('postgres');
my $second = $node->background_psql('postgres');
my $started_first = $first->query_safe('BEGIN; SELECT colmig.run_pending();');
$second->query_until(qr/sent/, q{\echo sent
SELECT colmig.run_pending();
});
$node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_stat_activity
	 WHERE wait_event_type = 'Lock' AND query LIKE '%run_pending%'})
  or die 'the second run_pending did not wait for the first';
$first->query_safe('COMMIT');
my $started_second = $second->query_safe('SELECT 1');
$first->quit;
$second->quit;
is($started_first, '1', 'the first run_pending starts a worker');
like($started_second, qr/^0\b/m, 'the second, run at the same time, starts none');
is($node->safe_psql('postgres', "SELECT colmig.wait($job, '60s')"), 'succeeded',
	'the job completes once');

# 3. After a restart a job that was running waits for run_pending().
my $holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(4242)');
$job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'gated', 'numeric', backfill_expr => 'gate(price)')});
$node->safe_psql('postgres', 'SELECT colmig.run_pending()');
$node->poll_query_until('postgres', q{
	SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted)})
  or die 'the worker did not reach the gate';
eval { $holder->quit };
$node->restart;
is($node->safe_psql('postgres', "SELECT state || ' ' || (worker_pid IS NULL)::text FROM colmig.progress WHERE job_id = $job"),
	'running true', 'after the restart the job is running without a worker');
is($node->safe_psql('postgres', 'SELECT colmig.run_pending()'), '1',
	'run_pending resumes it');
is($node->safe_psql('postgres', "SELECT colmig.wait($job, '60s')"), 'succeeded',
	'and it completes');
is($node->safe_psql('postgres', 'SELECT count(*) FROM orders WHERE gated IS DISTINCT FROM price'),
	'0', 'every row right');

$node->stop;
done_testing();
