# Pacing: a throttled batch rests inside its statement every
# colmig.batch_slice of work (pg/pacing.hpp); an unthrottled job and
# colmig.batch_slice = 0 never rest there. Read from the per-batch DEBUG1
# lines, which give each batch's work and rests.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('pacing');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.batch_pause = 0
log_min_messages = debug1
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 60000) g;
});

# run_job <column> <extra arguments>: runs a backfill to its end and
# returns the rests (ms) of its batches, from the server log.
sub run_job {
	my ($column, $extra) = @_;
	my $offset = -s $node->logfile;
	my $job = $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('orders', '$column', 'numeric',
		                         backfill_expr => 'price * qty'$extra)});
	is($node->safe_psql('postgres', "SELECT colmig.wait($job)"),
		'succeeded', "the job adding $column succeeded");
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM orders WHERE $column IS DISTINCT FROM price * qty"),
		'0', "every row has $column = price * qty");
	my $log = slurp_file($node->logfile, $offset);
	my @rests = $log =~ /colmig: job $job batch pages \S+: \d+ rows in [\d.]+ ms \(and ([\d.]+) ms of rests\)/g;
	cmp_ok(scalar(@rests), '>', 1, "the job adding $column logged its batches");
	return @rests;
}

my @rests = run_job('paced', '');
cmp_ok((grep { $_ > 0 } @rests), '>', 0,
	'a throttled batch rests inside its statement');

@rests = run_job('full_speed', ', throttle => false');
is((grep { $_ > 0 } @rests), 0, 'an unthrottled batch never rests');

$node->safe_psql('postgres',
	'ALTER SYSTEM SET colmig.batch_slice = 0; SELECT pg_reload_conf()');
@rests = run_job('unsliced', '');
is((grep { $_ > 0 } @rests), 0, 'with colmig.batch_slice = 0 a batch rests only after it');

$node->stop;
done_testing();
