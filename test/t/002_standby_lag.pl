# A backfill holds back while a streaming standby lags: with replay paused
# on the standby, the job stops between batches, colmig.progress says why,
# and the log records it; once replay resumes, the job completes and the
# standby receives every row.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.max_replication_lag = 1MB
colmig.batch_pause = 0
});
$primary->start;
$primary->backup('backup');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 200000) g;
});
$primary->wait_for_catchup($standby);

$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');

my $job = $primary->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'total', 'numeric',
	                         backfill_expr => 'price * qty', not_null => true)});
$primary->poll_query_until('postgres',
	"SELECT throttled LIKE 'replication lag % > 1.0MB' FROM colmig.progress WHERE job_id = $job")
  or die 'the job never held back for the paused standby';
my ($state, $phase) = split /\|/, $primary->safe_psql('postgres',
	"SELECT state, phase FROM colmig.progress WHERE job_id = $job");
is($state, 'running', 'the job is still running while it holds back');
is($phase, 'backfill', 'it holds back between backfill batches');

# It stays put: the cursor does not move while the standby is paused.
my $cursor = $primary->safe_psql('postgres',
	"SELECT cursor_page FROM colmig.jobs WHERE job_id = $job");
$primary->poll_query_until('postgres', qq{
	SELECT count(*) > 0 FROM pg_stat_activity
	 WHERE backend_type = 'colmig worker' AND wait_event = 'Extension'})
  or die 'the worker is not waiting';
is($primary->safe_psql('postgres', "SELECT cursor_page FROM colmig.jobs WHERE job_id = $job"),
	$cursor, 'no batch runs while the standby lags');
ok($primary->wait_for_log(qr/colmig: job $job holds back: replication lag/),
	'the log says why the job holds back');

$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
$primary->poll_query_until('postgres',
	"SELECT state = 'succeeded' FROM colmig.progress WHERE job_id = $job")
  or die 'the job did not finish after replay resumed';
is($primary->safe_psql('postgres', "SELECT throttled IS NULL FROM colmig.progress WHERE job_id = $job"),
	't', 'the throttle reason is cleared');
ok($primary->wait_for_log(qr/colmig: job $job goes on after holding back/),
	'the log records the end of the wait');

$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres',
	'SELECT count(*) FROM orders WHERE total IS DISTINCT FROM price * qty'),
	'0', 'the standby has every row filled');

$standby->stop;
$primary->stop;
done_testing();
