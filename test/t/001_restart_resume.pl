# Jobs survive the server: an immediate shutdown (a crash, as far as the
# database knows) or a killed worker in the middle of a backfill, and the
# job resumes by itself from its committed cursor and ends with every row
# right.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.batch_pause = 50ms
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 30000) g;
});

# Waits until the job has committed some batches but not all of them.
sub wait_mid_backfill {
	my ($job) = @_;
	$node->poll_query_until('postgres', qq{
		SELECT phase = 'backfill' AND cursor_page > 0 AND cursor_page < end_page
		  FROM colmig.jobs WHERE job_id = $job})
	  or die "job $job never reached the middle of its backfill";
	return $node->safe_psql('postgres',
		"SELECT cursor_page FROM colmig.jobs WHERE job_id = $job");
}

sub wait_succeeded {
	my ($job) = @_;
	$node->poll_query_until('postgres',
		"SELECT state FROM colmig.jobs WHERE job_id = $job", 'succeeded')
	  or die "job $job did not succeed: "
	  . $node->safe_psql('postgres',
		"SELECT state || ' ' || coalesce(last_error, '') FROM colmig.jobs WHERE job_id = $job");
}

# 1. Immediate shutdown in the middle of the backfill.
my $job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'total', 'numeric',
	                         backfill_expr => 'price * qty', not_null => true,
	                         batch_size => 500)});
my $cursor_before = wait_mid_backfill($job);
$node->stop('immediate');
$node->start;
wait_succeeded($job);

is($node->safe_psql('postgres',
	'SELECT count(*) FROM orders WHERE total IS DISTINCT FROM price * qty'),
	'0', 'after a crash mid-backfill every row has the right value');
is($node->safe_psql('postgres',
	"SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'total'"),
	't', 'NOT NULL is set after the resumed job');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass"),
	'0', 'no fill trigger is left behind');
is($node->safe_psql('postgres', "SELECT rows_done FROM colmig.jobs WHERE job_id = $job"),
	'30000', 'each row was filled once: the batch cut by the crash rolled back with its cursor');

# 2. The worker is terminated in the middle of the backfill: the launcher
#    sees it did not finish and starts another one, which resumes.
$job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'code', 'text',
	                         backfill_expr => $$'o-' || id$$, batch_size => 500)});
wait_mid_backfill($job);
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'colmig worker'");
ok($pid =~ /^\d+$/, 'the worker shows in pg_stat_activity as colmig worker');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
wait_succeeded($job);
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM orders WHERE code IS DISTINCT FROM 'o-' || id}),
	'0', 'after a killed worker every row has the right value');

# 3. A job that was paused stays paused across a restart.
$job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'note', 'text',
	                         backfill_expr => $$'n' || id$$, batch_size => 500)});
wait_mid_backfill($job);
$node->safe_psql('postgres', "SELECT colmig.pause($job)");
$node->restart;
# A later job runs to completion: the worker started after the restart has
# looked at every job by then (it takes them in job order).
my $sentinel = $node->safe_psql('postgres',
	q{SELECT colmig.add_column('orders', 'sentinel', 'int')});
wait_succeeded($sentinel);
is($node->safe_psql('postgres', "SELECT state FROM colmig.jobs WHERE job_id = $job"),
	'paused', 'a paused job is not resumed by a restart');
$node->safe_psql('postgres', "SELECT colmig.resume($job)");
is($node->safe_psql('postgres', "SELECT colmig.wait($job, '60s')"),
	'succeeded', 'and resumes when asked');

$node->stop;
done_testing();
