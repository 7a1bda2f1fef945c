# An immediate shutdown (a crash, for the database) inside each kind of
# step, and a worker killed with SIGKILL: after the restart every job
# resumes by itself and completes, every row is right, and no fill
# trigger or colmig check constraint is left behind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.retry_max_delay = 200ms
colmig.lock_retries = 1000
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE FUNCTION gate(value anyelement) RETURNS anyelement LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN value; END $$;
});

my $round = 0;
sub new_table {
	$round++;
	$node->safe_psql('postgres', qq{
		CREATE TABLE t$round (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
		INSERT INTO t$round SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 20000) g;});
	return "t$round";
}

sub start_job {
	my ($table, $expr) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('$table', 'total', 'numeric',
		                         backfill_expr => '$expr', not_null => true)});
}

sub poll {
	my ($query, $what) = @_;
	$node->poll_query_until('postgres', $query) or die "timed out waiting for $what";
}

# The worker is inside a step's transaction, waiting for a lock it cannot
# get (and retrying): the place where a crash hurts most.
sub worker_waits_in {
	my ($job, $phase) = @_;
	poll(qq{SELECT phase = '$phase' FROM colmig.jobs WHERE job_id = $job}, "phase $phase");
	my $retries = $node->safe_psql('postgres',
		"SELECT lock_retries FROM colmig.jobs WHERE job_id = $job");
	poll(qq{SELECT lock_retries > $retries FROM colmig.jobs WHERE job_id = $job},
		"job $job to retry a lock in $phase");
}

sub crash_and_check {
	my ($job, $table, $what) = @_;
	$node->stop('immediate');
	$node->start;
	poll(qq{SELECT state = 'succeeded' FROM colmig.jobs WHERE job_id = $job},
		"job $job to succeed after a crash $what");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM $table WHERE total IS DISTINCT FROM price * qty"),
		'0', "crash $what: every row right");
	is($node->safe_psql('postgres', qq{
		SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = '$table'::regclass)
		     + (SELECT count(*) FROM pg_constraint WHERE conrelid = '$table'::regclass AND contype = 'c')
		     + (SELECT count(*) FROM pg_proc WHERE proname = 'fill_$job')}),
		'0', "crash $what: no trigger, check or fill function left");
	is($node->safe_psql('postgres', qq{
		SELECT attnotnull FROM pg_attribute WHERE attrelid = '$table'::regclass AND attname = 'total'}),
		't', "crash $what: NOT NULL set");
}

# 1. In the first step (ADD COLUMN, SET DEFAULT, trigger), blocked by a reader.
{
	my $table = new_table();
	my $reader = $node->background_psql('postgres');
	$reader->query_safe("BEGIN; SELECT count(*) FROM $table;");
	my $job = start_job($table, 'price * qty');
	worker_waits_in($job, 'queued');
	crash_and_check($job, $table, 'while adding the column');
	eval { $reader->quit };
}

# 2. In the validation phase: a tight poll inside the server catches the
#    moment the NOT VALID check is committed and VALIDATE runs (the phase
#    stays validate_not_null_check until VALIDATE commits), then crash.
{
	$round++;
	my $table = "t$round";
	$node->safe_psql('postgres', qq{
		CREATE TABLE $table (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
		INSERT INTO $table SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 300000) g;});
	my $job = start_job($table, 'price * qty');
	my $caught = $node->safe_psql('postgres', qq{
		DO \$\$
		DECLARE deadline timestamptz := clock_timestamp() + interval '120s';
		BEGIN
		    WHILE clock_timestamp() < deadline LOOP
		        IF (SELECT phase IN ('validate_not_null_check', 'set_not_null', 'drop_fill_trigger', 'done')
		              FROM colmig.jobs WHERE job_id = $job) THEN
		            RETURN;
		        END IF;
		        PERFORM pg_sleep(0.002);
		    END LOOP;
		END \$\$;
		SELECT phase FROM colmig.jobs WHERE job_id = $job;});
	note "crash point reached in phase $caught";
	crash_and_check($job, $table, 'in the validation phase');
}

# 3. Inside the next step that needs ACCESS EXCLUSIVE after the backfill
#    (adding the NOT VALID check, or SET NOT NULL).
{
	my $table = new_table();
	my $job = start_job($table, 'price * qty');
	my $reader = $node->background_psql('postgres');
	poll(qq{SELECT phase IN ('sweep', 'add_not_null_check', 'validate_not_null_check', 'set_not_null')
	          OR state = 'succeeded' FROM colmig.jobs WHERE job_id = $job}, 'the sweep');
	$reader->query_safe("BEGIN; SELECT count(*) FROM $table;");
	my $phase = $node->safe_psql('postgres', "SELECT phase FROM colmig.jobs WHERE job_id = $job");
	if ($phase eq 'done') {
		pass('job finished before the crash point could be reached (fast machine)');
		$reader->query_safe('COMMIT');
	} else {
		# Blocked at the next step that needs ACCESS EXCLUSIVE.
		poll(qq{SELECT lock_retries > 0 FROM colmig.jobs WHERE job_id = $job}, 'a lock retry');
		crash_and_check($job, $table, 'at a NOT NULL step');
	}
	eval { $reader->quit };
}

# 4. The worker is killed with SIGKILL in the middle of the backfill: the
#    postmaster restarts every process, the launcher resumes the job.
{
	my $table = new_table();
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('SELECT pg_advisory_lock(4242)');
	my $job = start_job($table, 'gate(price * qty)');
	poll(q{SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted)},
		'the worker at the gate');
	my $pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'colmig worker'");
	kill 'KILL', $pid;
	# The crash restart ends the holder's session too, which opens the gate.
	eval { $holder->quit };
	poll(qq{SELECT state = 'succeeded' FROM colmig.jobs WHERE job_id = $job},
		"job $job to succeed after its worker was killed");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM $table WHERE total IS DISTINCT FROM price * qty"),
		'0', 'SIGKILL of the worker: every row right');
	ok($node->log_contains('terminated by signal 9'), 'the worker really died by SIGKILL');
}

$node->stop;
done_testing();
