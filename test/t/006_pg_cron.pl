# Scheduling with pg_cron (colmig not preloaded): a cron entry that calls
# colmig.run_pending() every minute starts a queued job. Takes up to a
# minute: pg_cron 1.4 schedules by the minute.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_cron;
CREATE EXTENSION colmig;
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 5000) g;
});
my $job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'total', 'numeric',
	                         backfill_expr => 'price * qty', not_null => true)});
$node->safe_psql('postgres',
	q{SELECT cron.schedule('colmig', '* * * * *', 'SELECT colmig.run_pending()')});
is($node->safe_psql('postgres', "SELECT state FROM colmig.progress WHERE job_id = $job"),
	'queued', 'the job waits for the cron entry');
$node->poll_query_until('postgres',
	"SELECT state = 'succeeded' FROM colmig.progress WHERE job_id = $job")
  or die 'the cron entry did not run the job';
pass('pg_cron ran colmig.run_pending() and the job completed');
is($node->safe_psql('postgres', q{
	SELECT count(*) > 0 FROM cron.job_run_details
	 WHERE command = 'SELECT colmig.run_pending()' AND status = 'succeeded'}),
	't', 'cron.job_run_details shows the call');
is($node->safe_psql('postgres', 'SELECT count(*) FROM orders WHERE total IS DISTINCT FROM price * qty'),
	'0', 'every row right');

$node->stop;
done_testing();
