# Pacing by load (runner/load_pace.hpp): on a quiet database a job's
# batches run at full speed, large and without rests; while the
# application keeps sessions in transactions the batches are small, rest
# inside their statement every colmig.batch_slice of work
# (pg/pacing.hpp), and colmig.progress.throttled says why; once the load is
# gone the job goes back to full speed. throttle => false and
# colmig.batch_slice = 0 never rest inside a batch. Read from the
# per-batch DEBUG1 lines, which give each batch's rows, work and rests.
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
autovacuum = off
log_min_messages = debug1
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 100000) g;
});

# Not compact: the batches' rows are compared, and a compact batch fills
# only the rows that fit on their pages (docs/add_column.md).
sub start_job {
	my ($column, $extra) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('orders', '$column', 'numeric',
		                         backfill_expr => 'price * qty', compact => false$extra)});
}

# finish_job <job> <column> <log offset>: waits for the job, checks its
# rows, and returns its batches from the server log as [rows, rests ms].
sub finish_job {
	my ($job, $column, $offset) = @_;
	is($node->safe_psql('postgres', "SELECT colmig.wait($job)"),
		'succeeded', "the job adding $column succeeded");
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM orders WHERE $column IS DISTINCT FROM price * qty"),
		'0', "every row has $column = price * qty");
	my $log = slurp_file($node->logfile, $offset);
	my @batches;
	while ($log =~ /colmig: job $job batch pages \S+: (\d+) rows in [\d.]+ ms \(and ([\d.]+) ms of rests\)/g)
	{
		push @batches, [ $1, $2 ];
	}
	cmp_ok(scalar(@batches), '>', 1, "the job adding $column logged its batches");
	return @batches;
}

sub run_job {
	my ($column, $extra) = @_;
	my $offset = -s $node->logfile;
	return finish_job(start_job($column, $extra), $column, $offset);
}

sub median_rows {
	my @rows = sort { $a <=> $b } map { $_->[0] } @_;
	return $rows[ int(@rows / 2) ];
}

sub rested { return scalar(grep { $_->[1] > 0 } @_); }

# Two application sessions in the middle of a writing transaction.
sub open_load {
	my @sessions = map { $node->background_psql('postgres') } 1 .. 2;
	$_->query_safe('BEGIN; SELECT pg_catalog.txid_current()') for @sessions;
	return @sessions;
}

sub close_load { $_->quit for @_; }

# A session asleep (pg_sleep) is not load, nor are idle ones.
my $sleeper = $node->background_psql('postgres', wait => 0, on_error_stop => 0);
$sleeper->query_until(qr/sleeping/, q{\echo sleeping
SELECT pg_sleep(600);
});
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep'});
my $offset = -s $node->logfile;
my @quiet = run_job('quiet', '');
is(rested(@quiet), 0, 'on a quiet database a batch never rests');
unlike(slurp_file($node->logfile, $offset), qr/paces itself/,
	'on a quiet database (one session asleep) the job does not pace itself');
$node->safe_psql('postgres', q{
	SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'});

# Asleep in a transaction that has written, it counts: it may hold rows.
$sleeper->query_until(qr/sleeping/, q{\echo sleeping
BEGIN; SELECT pg_catalog.txid_current(); SELECT pg_sleep(600);
});
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep'});
$offset = -s $node->logfile;
run_job('asleep_writing', '');
like(slurp_file($node->logfile, $offset),
	qr/paces itself: load: [\d.]+ sessions? in a transaction/,
	'a session asleep in a transaction that has written is load');
$node->safe_psql('postgres', q{
	SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'});
$sleeper->quit;

# Busy: batches rest inside, are smaller, and the job says why. A pause
# after each batch keeps the job running long enough to watch.
$node->safe_psql('postgres',
	"ALTER SYSTEM SET colmig.batch_pause = '20ms'; SELECT pg_reload_conf()");
my @load = open_load();
$offset = -s $node->logfile;
my $job = start_job('busy', '');
ok( $node->poll_query_until('postgres', qq{
		SELECT throttled LIKE 'load: 2 sessions in a transaction, %'
		  FROM colmig.progress WHERE job_id = $job}),
	'a job under load says so in colmig.progress.throttled');
close_load(@load);
ok( $node->poll_query_until('postgres', qq{
		SELECT state = 'succeeded' OR throttled IS DISTINCT FROM
		       'load: 2 sessions in a transaction, 0 writes/s'
		  FROM colmig.progress WHERE job_id = $job}),
	'once the load is gone, throttled says so');
my @busy = finish_job($job, 'busy', $offset);
cmp_ok(rested(@busy), '>', 0, 'under load a batch rests inside its statement');
# The batches that ran under load (they rested): the job goes on at full
# size once the load is gone, and how many batches that leaves is timing.
cmp_ok(median_rows(grep { $_->[1] > 0 } @busy) * 2, '<', median_rows(@quiet),
	'under load batches are smaller than on a quiet database');
like(slurp_file($node->logfile, $offset),
	qr/colmig: job $job paces itself: load: [\d.]+ sessions? in a transaction/,
	'the log says when the job starts pacing itself');

# After the load: full speed again, in a job of small batches that
# outlives the decay.
$offset = -s $node->logfile;
@load = open_load();
$job = start_job('recovers', ', batch_size => 50');
$node->poll_query_until('postgres', qq{
	SELECT throttled LIKE 'load: %' FROM colmig.progress WHERE job_id = $job});
close_load(@load);
my @recovers = finish_job($job, 'recovers', $offset);
like(slurp_file($node->logfile, $offset),
	qr/colmig: job $job goes on at full speed/,
	'when the load is gone the job goes back to full speed');
is(rested(@recovers[ -3 .. -1 ]), 0, 'its last batches no longer rest');
$node->safe_psql('postgres',
	"ALTER SYSTEM RESET colmig.batch_pause; SELECT pg_reload_conf()");

@load = open_load();
my @full_speed = run_job('full_speed', ', throttle => false');
is(rested(@full_speed), 0, 'under load, a batch of throttle => false never rests');

$node->safe_psql('postgres',
	'ALTER SYSTEM SET colmig.batch_slice = 0; SELECT pg_reload_conf()');
my @unsliced = run_job('unsliced', '');
is(rested(@unsliced), 0,
	'under load, with colmig.batch_slice = 0 a batch rests only after it');
close_load(@load);

# Two colmig jobs at once on a quiet database: neither is the other's load.
$offset = -s $node->logfile;
$node->safe_psql('postgres', q{
CREATE TABLE other_orders AS SELECT * FROM orders;
});
my $first = start_job('together', '');
my $second = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('other_orders', 'together', 'numeric',
	                         backfill_expr => 'price * qty')});
is($node->safe_psql('postgres', "SELECT colmig.wait($first) || colmig.wait($second)"),
	'succeededsucceeded', 'two jobs at once succeeded');
unlike(slurp_file($node->logfile, $offset), qr/paces itself/,
	'two colmig jobs at once on a quiet database do not pace each other');

# Under load, a later step that is not batches does not show the
# backfill's load: throttled is NULL while add_not_null_check waits for a
# lock held by another session.
@load = open_load();
$job = start_job('checked', ', not_null => true, batch_size => 200');
$node->poll_query_until('postgres', qq{
	SELECT phase = 'backfill' FROM colmig.progress WHERE job_id = $job});
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; SELECT count(*) FROM orders');
ok( $node->poll_query_until('postgres', qq{
		SELECT lock_retries >= 2 AND phase NOT IN ('backfill', 'sweep')
		  FROM colmig.progress WHERE job_id = $job}),
	'the job waits for its lock in a step after the sweep');
is($node->safe_psql('postgres', "SELECT throttled IS NULL FROM colmig.progress WHERE job_id = $job"),
	't', 'throttled does not carry the backfill\'s load into a later step');
$holder->quit;
close_load(@load);
is($node->safe_psql('postgres', "SELECT colmig.wait($job)"), 'succeeded',
	'the job adding checked succeeded');

# A session that waits on a batch's rows makes the job busy at once. The
# first batch sleeps at row 300 after it has updated row 10; meanwhile an
# application session updates row 10 and waits for the batch.
$node->safe_psql('postgres', q{
CREATE TABLE waits AS SELECT g::bigint AS id, g * 1.5 AS price, 2 AS qty
  FROM generate_series(1, 5000) g;
ALTER TABLE waits ADD PRIMARY KEY (id);
CREATE FUNCTION slow_at(id bigint, at bigint) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF id = at THEN PERFORM pg_sleep(2); END IF;
  RETURN 1;
END $$;
});
$offset = -s $node->logfile;
$job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('waits', 'total', 'numeric',
	                         backfill_expr => 'price * qty * slow_at(id, 300)',
	                         batch_size => 1000, compact => false)});
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'colmig worker' AND wait_event = 'PgSleep'});
my $application = $node->background_psql('postgres');
$application->query_safe('UPDATE waits SET qty = qty WHERE id = 10');
$application->quit;
is($node->safe_psql('postgres', "SELECT colmig.wait($job)"), 'succeeded',
	'the job whose batch made a session wait succeeded');
is($node->safe_psql('postgres',
		'SELECT count(*) FROM waits WHERE total IS DISTINCT FROM price * qty'),
	'0', 'every row of waits is filled');
like(slurp_file($node->logfile, $offset),
	qr/colmig: job $job paces itself: load: 1 session waited on a batch/,
	'a session waiting on a batch makes the job pace itself at once');

$node->stop;
done_testing();
