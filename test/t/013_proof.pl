# Success is proven: a backfill's sweep that the table is rewritten under,
# or whose fill trigger stops firing for a while, begins again instead of
# reporting success with rows it never saw.
#
# Each scenario holds the sweep in the middle of the table: rows with
# id <= 10000 are filled by the first pass, the others only once the job is
# in its sweep, and there at a gate (an advisory lock the test holds). Then
# the rows the sweep has not reached are moved behind its cursor, which a
# sweep that went on from its cursor would never see again:
#   1. VACUUM FULL after the filled rows were deleted;
#   2. CLUSTER, the same way;
#   3. the fill trigger disabled while rows are inserted into free space
#      low in the table, then enabled again;
#   4. a row inserted there whose fill raises (the application's write goes
#      through with the column NULL): the sweep begins again, meets the row
#      itself and fails the job with the expression's error; also
#      without colmig in shared_preload_libraries.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('proof');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.retry_max_delay = 100ms
colmig.lock_retries = 100000
colmig.batch_pause = 0
autovacuum = off
});
$node->start;
my $functions = q{
CREATE EXTENSION colmig;
CREATE FUNCTION gate(value anyelement) RETURNS anyelement LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN value; END $$;
-- Whether the job on the table is in its sweep (the worker runs as the
-- superuser that owns the tables, and may read colmig.jobs).
CREATE FUNCTION in_sweep(t regclass) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM colmig.jobs
	                WHERE relid = t AND state = 'running' AND phase = 'sweep') $$;
};
$node->safe_psql('postgres', $functions);

my $gate = $node->background_psql('postgres');

sub setup_table {
	my ($table) = @_;
	$node->safe_psql('postgres', qq{
		CREATE TABLE $table (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL);
		INSERT INTO $table SELECT g, g, repeat('x', 60) FROM generate_series(1, 20000) g;});
	$gate->query_safe('SELECT pg_advisory_lock(4242)');
	return $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('$table', 'w', 'int', batch_size => 500,
		    backfill_expr => 'CASE WHEN id <= 10000 THEN v
		                           WHEN in_sweep(''$table''::regclass) THEN gate(v) END')});
}

# The sweep is held at the gate, past the filled rows: it has taken a few
# lock timeouts there (the gate's wait is bounded by colmig.lock_timeout).
sub wait_sweep_at_gate {
	my ($job) = @_;
	$node->poll_query_until('postgres', qq{
		SELECT phase = 'sweep' AND lock_retries >= 3 FROM colmig.jobs WHERE job_id = $job})
	  or die "job $job never reached its sweep's gate";
	return $node->safe_psql('postgres',
		"SELECT cursor_page || ' of ' || end_page FROM colmig.jobs WHERE job_id = $job");
}

sub release_and_check {
	my ($job, $table, $what) = @_;
	$gate->query_safe('SELECT pg_advisory_unlock(4242)');
	is($node->safe_psql('postgres', "SELECT colmig.wait($job, '60s')"),
		'succeeded', "$what: the job succeeds");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM $table WHERE w IS DISTINCT FROM v"),
		'0', "$what: every row is filled, also those moved behind the sweep's cursor");
	is($node->safe_psql('postgres',
		"SELECT sweep_restarts FROM colmig.jobs WHERE job_id = $job"),
		'1', "$what: the sweep began once more");
}

# 1. VACUUM FULL: the unfilled rows move down into the pages of the
#    deleted ones, behind the cursor.
{
	my $job = setup_table('vacuumed');
	note 'sweep held at page ' . wait_sweep_at_gate($job);
	$node->safe_psql('postgres', q{
		DELETE FROM vacuumed WHERE id <= 10000;
		VACUUM FULL vacuumed;});
	release_and_check($job, 'vacuumed', 'VACUUM FULL during the sweep');
	ok($node->log_contains(
			qr/colmig: job $job sweeps public\.vacuumed again: the table was rewritten/),
		'VACUUM FULL during the sweep: the server log says why');
}

# 2. CLUSTER: the same through an index order.
{
	my $job = setup_table('clustered');
	wait_sweep_at_gate($job);
	$node->safe_psql('postgres', q{
		DELETE FROM clustered WHERE id <= 10000;
		CLUSTER clustered USING clustered_pkey;});
	release_and_check($job, 'clustered', 'CLUSTER during the sweep');
}

# 3. The trigger switched off while rows are written into free space low
#    in the table (plain VACUUM does not rewrite, but makes room there),
#    then switched on again: those rows lie behind the cursor, unfilled.
{
	my $job = setup_table('toggled');
	wait_sweep_at_gate($job);
	# Where the sweep is held: it cannot go on from there while the gate
	# is shut, only begin again from page 0 once it sees the trigger was
	# changed (which may happen before the next query).
	my $cursor = $node->safe_psql('postgres',
		"SELECT cursor_page FROM colmig.jobs WHERE job_id = $job");
	my $trigger = $node->safe_psql('postgres', q{
		SELECT quote_ident(tgname) FROM pg_trigger WHERE tgrelid = 'toggled'::regclass});
	$node->safe_psql('postgres', q{
		DELETE FROM toggled WHERE id <= 5000;
		VACUUM toggled;});
	# In one transaction: a worker that looked between the statements
	# would see the trigger disabled and fail the job (its own, separate
	# case); here it must only see that the trigger was changed.
	$node->safe_psql('postgres', qq{
		BEGIN;
		ALTER TABLE toggled DISABLE TRIGGER ALL;
		INSERT INTO toggled SELECT g, g, 'y' FROM generate_series(30001, 31000) g;
		ALTER TABLE toggled ENABLE ALWAYS TRIGGER $trigger;
		COMMIT;});
	cmp_ok($node->safe_psql('postgres', q{
			SELECT min((ctid::text::point)[0]) FROM toggled WHERE id > 30000}),
		'<', $cursor,
		'some rows written while the trigger was off lie behind the sweep');
	release_and_check($job, 'toggled', 'the fill trigger off for a while during the sweep');
}

# 4. The fill raises for a row written behind the sweep.
sub fill_error_behind_sweep {
	my ($table, $what, $without_launcher) = @_;
	$node->safe_psql('postgres', qq{
		CREATE TABLE $table (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL);
		INSERT INTO $table SELECT g, g, repeat('x', 60) FROM generate_series(1, 20000) g;});
	$gate->query_safe('SELECT pg_advisory_lock(4242)');
	my $job = $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('$table', 'w', 'int', batch_size => 500,
		    backfill_expr => '100 / v + CASE WHEN id <= 10000 THEN 0
		                                     WHEN in_sweep(''$table''::regclass) THEN gate(0) END')});
	$node->safe_psql('postgres', 'SELECT colmig.run_pending()') if $without_launcher;
	wait_sweep_at_gate($job);
	my $cursor = $node->safe_psql('postgres',
		"SELECT cursor_page FROM colmig.jobs WHERE job_id = $job");
	$node->safe_psql('postgres', qq{
		DELETE FROM $table WHERE id <= 5000;
		VACUUM $table;});
	$node->safe_psql('postgres', "INSERT INTO $table VALUES (50000, 0, 'z')");
	pass("$what: the application's write of a row whose fill raises goes through");
	cmp_ok($node->safe_psql('postgres', qq{
			SELECT (ctid::text::point)[0] FROM $table WHERE id = 50000}),
		'<', $cursor,
		"$what: the row lies behind the sweep");
	$gate->query_safe('SELECT pg_advisory_unlock(4242)');
	my ($ret, $stdout, $stderr) =
	  $node->psql('postgres', "SELECT colmig.wait($job, '60s')");
	like($stderr, qr/colmig job $job failed: division by zero/,
		"$what: the sweep began again, met the row, and the job failed with its error");
	is($node->safe_psql('postgres',
		"SELECT sweep_restarts FROM colmig.jobs WHERE job_id = $job"),
		'1', "$what: because the fill trigger had counted a row it could not fill");
}
fill_error_behind_sweep('failing', 'preloaded');

# The same without colmig in shared_preload_libraries (no shared memory of
# colmig's; run_pending() starts the worker): the count is kept elsewhere.
$gate->quit;
$node->stop;
$node = PostgreSQL::Test::Cluster->new('plain');
$node->init;
$node->append_conf('postgresql.conf', q{
colmig.retry_max_delay = 100ms
colmig.lock_retries = 100000
colmig.batch_pause = 0
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', $functions);
$gate = $node->background_psql('postgres');
fill_error_behind_sweep('failing', 'not preloaded', 1);

$gate->quit;
$node->stop;
done_testing();
