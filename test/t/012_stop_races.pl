# cancel() and pause() racing the step under way. A step reads the job's
# state at its start and then waits for its ACCESS EXCLUSIVE lock; a cancel
# or pause that commits during that wait must win: nothing of the step
# (column, fill trigger, phase change) may land once the stop has
# committed, and wait() must not report 'cancelled' for a job whose column
# and trigger appear afterwards. A paused job, resumed, still ends right.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('stop_races');
$node->init;
# A long lock_timeout keeps the worker's first step inside one lock wait,
# after it has read the job as 'running', for as long as the test needs.
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.retry_max_delay = 200ms
colmig.batch_pause = 0
colmig.lock_timeout = 10s
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE TABLE sentinel (id int);
});

sub poll {
	my ($query, $what) = @_;
	$node->poll_query_until('postgres', $query) or die "timed out waiting for $what";
}

sub new_table {
	my ($name) = @_;
	$node->safe_psql('postgres', qq{
		CREATE TABLE $name (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
		INSERT INTO $name SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 20000) g;});
}

# Columns beyond the table's own three, dropped ones included: a column
# that was added and removed again also shows here.
sub new_columns {
	my ($table) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce(string_agg(attname, ',' ORDER BY attnum), '')
		  FROM pg_attribute WHERE attrelid = '$table'::regclass AND attnum > 3});
}

sub helpers {
	my ($table) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = '$table'::regclass)
		     + (SELECT count(*) FROM pg_constraint WHERE conrelid = '$table'::regclass AND contype = 'c')});
}

# The job's row as the stopped step must have left it: still in its first
# phase, with no column or trigger recorded.
sub job_row {
	my ($job) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT state, phase, cleanup_needed, column_attnum IS NULL AND fill_trigger IS NULL
		  FROM colmig.jobs WHERE job_id = $job});
}

# Starts the job while a reader holds the table, and returns once its
# worker is inside the first step, waiting for ACCESS EXCLUSIVE: it has
# read the job's state as 'running' by then.
sub start_blocked_job {
	my ($table, $args, $what) = @_;
	my $reader = $node->background_psql('postgres');
	$reader->query_safe("BEGIN; SELECT count(*) FROM $table;");
	my $job = $node->safe_psql('postgres', "SELECT colmig.add_column('$table', $args)");
	poll(qq{
		SELECT EXISTS (
		    SELECT 1 FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
		     WHERE a.backend_type = 'colmig worker' AND a.wait_event_type = 'Lock'
		       AND l.relation = '$table'::regclass AND l.mode = 'AccessExclusiveLock'
		       AND NOT l.granted
		       AND a.pid = (SELECT worker_pid FROM colmig.progress WHERE job_id = $job))},
		"the worker of job $job to wait for its lock on $table");
	is(job_row($job), 'running|queued|f|t', "$what: the step waits, the job is running in its first phase");
	return ($job, $reader);
}

# The worker has let go of the job: the step ended one way or the other,
# and any cleanup it does for a cancelled job is done.
sub wait_worker_gone {
	my ($job) = @_;
	poll("SELECT worker_pid IS NULL FROM colmig.progress WHERE job_id = $job",
		"the worker to let go of job $job");
}

# The stop was committed while the step waited in its first lock wait, and
# that very wait ended with the reader's commit: no lock timeout let the
# step start over and read the new state. Otherwise the race was not run.
sub race_was_run {
	my ($job, $step, $what) = @_;
	is($node->safe_psql('postgres', "SELECT lock_retries FROM colmig.jobs WHERE job_id = $job"),
		'0', "$what: the step that read 'running' is the one that got the lock");
	unlike(slurp_file($node->logfile), qr/colmig: job $job: $step done/,
		"$what: the worker did not report the step as done");
}

# A later job runs to completion: a worker has looked for work since.
my $sentinels = 0;
sub run_sentinel {
	$sentinels++;
	my $job = $node->safe_psql('postgres',
		"SELECT colmig.add_column('sentinel', 's$sentinels', 'int')");
	is($node->safe_psql('postgres', "SELECT colmig.wait($job, '60s')"),
		'succeeded', "sentinel job $sentinels succeeds");
}

sub cancel_scenario {
	my ($table, $args, $step, $what) = @_;
	new_table($table);
	my ($job, $reader) = start_blocked_job($table, $args, $what);
	$node->safe_psql('postgres', "SELECT colmig.cancel($job)");
	$reader->query_safe('COMMIT');
	$reader->quit;
	is($node->safe_psql('postgres', "SELECT colmig.wait($job, '60s')"),
		'cancelled', "$what: wait() reports the job cancelled");
	wait_worker_gone($job);
	is(new_columns($table), '', "$what: no column was added after the cancel");
	is(helpers($table), '0', "$what: no fill trigger or check is on the table");
	is(job_row($job), 'cancelled|queued|f|t', "$what: the job row shows nothing of the step");
	race_was_run($job, $step, $what);
	return $job;
}

sub pause_scenario {
	my ($table, $args, $step, $what, $check_rows) = @_;
	new_table($table);
	my ($job, $reader) = start_blocked_job($table, $args, $what);
	$node->safe_psql('postgres', "SELECT colmig.pause($job)");
	$reader->query_safe('COMMIT');
	$reader->quit;
	wait_worker_gone($job);
	is(new_columns($table), '', "$what: no column appears while the job is paused");
	is(helpers($table), '0', "$what: no fill trigger while the job is paused");
	is(job_row($job), 'paused|queued|f|t', "$what: the job row shows nothing of the step");
	race_was_run($job, $step, $what);
	run_sentinel();
	is(new_columns($table), '', "$what: still no column after a later job ran");
	$node->safe_psql('postgres', "SELECT colmig.resume($job)");
	is($node->safe_psql('postgres', "SELECT colmig.wait($job, '60s')"),
		'succeeded', "$what: the resumed job succeeds");
	is(new_columns($table), $check_rows->{column}, "$what: exactly the job's column is there");
	is($node->safe_psql('postgres', "SELECT count(*) FROM $table WHERE $check_rows->{wrong}"),
		'0', "$what: every row has the right value");
	is(helpers($table), '0', "$what: no fill trigger or check is left behind");
	return $job;
}

my $backfill_args = q{'total', 'numeric', backfill_expr => 'price * qty', not_null => true};
my $fast_args = q{'code', 'text', default_expr => $$'x'$$};

my %cancelled;
$cancelled{t_backfill_cancel} = cancel_scenario('t_backfill_cancel', $backfill_args,
	'add_column_for_backfill', 'backfill job cancelled');

pause_scenario('t_backfill_pause', $backfill_args, 'add_column_for_backfill',
	'backfill job paused',
	{ column => 'total', wrong => 'total IS DISTINCT FROM price * qty' });
is($node->safe_psql('postgres', q{
	SELECT attnotnull FROM pg_attribute
	 WHERE attrelid = 't_backfill_pause'::regclass AND attname = 'total'}),
	't', 'backfill job paused: NOT NULL is set after the resume');

$cancelled{t_fast_cancel} = cancel_scenario('t_fast_cancel', $fast_args, 'add_column',
	'fast job cancelled');

pause_scenario('t_fast_pause', $fast_args, 'add_column', 'fast job paused',
	{ column => 'code', wrong => q{code IS DISTINCT FROM 'x'} });

# The cancelled jobs stay as they were after later workers ran: no worker
# took them up again and added anything.
run_sentinel();
for my $table (sort keys %cancelled) {
	my $job = $cancelled{$table};
	is(new_columns($table), '', "$table: still no column at the end");
	is(helpers($table), '0', "$table: still no trigger at the end");
	is(job_row($job), 'cancelled|queued|f|t', "$table: the job is still cancelled, untouched");
}

$node->stop;
done_testing();
