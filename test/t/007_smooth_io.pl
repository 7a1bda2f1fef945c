# colmig.smooth_io: the worker creates the WAL segments its next batches
# need, so that no application commit has to create one (zero-fill and
# fsync under WALWriteLock). Without recycling and with no checkpoint, a
# segment beyond the current one exists only if somebody made it ahead.
# On a quiet database the worker does none of it: there is no commit of
# anyone else's to protect, and the backfill would only be slower.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('smooth');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.batch_pause = 0
colmig.smooth_io = off
wal_recycle = off
checkpoint_timeout = 1h
max_wal_size = 4GB
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 100000) g;
});

# WAL segment files after the one being written now.
sub segments_ahead {
	return $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_ls_waldir()
		 WHERE name ~ '^[0-9A-F]{24}$'
		   AND name > pg_walfile_name(pg_current_wal_insert_lsn())});
}

# run_job <column>: adds a column with a backfill and waits for it; returns
# how much WAL the job wrote.
sub run_job {
	my ($column) = @_;
	my $start = $node->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
	my $job = $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('orders', '$column', 'numeric',
		                         backfill_expr => 'price * qty', batch_size => 5000)});
	my $state = $node->safe_psql('postgres', "SELECT colmig.wait($job)");
	is($state, 'succeeded', "the job adding $column succeeded");
	return $node->safe_psql('postgres',
		"SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$start')::int8");
}

my $written = run_job('total_plain');
cmp_ok($written, '>', 16 * 1024 * 1024, 'the job wrote more than one WAL segment');
is(segments_ahead(), 0, 'with smooth_io off, no segment is made ahead of the WAL');

$node->append_conf('postgresql.conf', 'colmig.smooth_io = on');
$node->restart;
run_job('total_quiet');
is(segments_ahead(), 0,
	'with smooth_io on but a quiet database, no segment is made ahead either');

# An application in the middle of two writing transactions: load.
my @application = map { $node->background_psql('postgres') } 1 .. 2;
$_->query_safe('BEGIN; SELECT pg_catalog.txid_current()') for @application;
run_job('total_smooth');
cmp_ok(segments_ahead(), '>=', 1,
	'with smooth_io on and an application at work, the worker made the next segment');
$_->quit for @application;
ok(!$node->log_contains('could not'), 'no errors in the server log');

$node->stop;
done_testing();
