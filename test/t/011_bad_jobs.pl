# One bad job never holds the others back:
# - a job whose expression ends its own worker is taken up at most
#   colmig.max_attempts times without progress, then fails by itself
#   (55000) and its fill trigger is removed; another role's job created
#   while it is being retried is taken up before the killer has failed,
#   and completes;
# - a job held outside its run window does not keep a job created after it
#   (in the same transaction: one launch only) from finishing, and no worker
#   waits for it: not for as many such jobs as there are workers, nor for a
#   running job whose window (colmig.run_window) closes under it, which
#   goes on when the window opens again;
# - a worker terminated more than max_attempts times, with committed
#   batches in between, does not fail its job: progress resets the count;
# - an infinite start_at is refused, and one already in the job table
#   does not stop the other jobs of the database.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $started = time;
my $node = PostgreSQL::Test::Cluster->new('bad_jobs');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
max_worker_processes = 16
colmig.max_workers = 4
colmig.max_attempts = 3
colmig.launcher_naptime = 1s
colmig.retry_max_delay = 200ms
colmig.batch_pause = 0
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
-- colmig.wait()'s answer, or the error it raised with its SQLSTATE.
CREATE FUNCTION wait_outcome(job bigint) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN colmig.wait(job, '60s');
EXCEPTION WHEN OTHERS THEN
	RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION sqlstate_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE statement;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;
-- Waits until a worker not yet in `killed` holds the job and has committed
-- a backfill batch since it took the job up, then terminates it. Polls
-- inside the server: batches of 100 rows follow each other within
-- milliseconds, too fast for poll_query_until.
CREATE FUNCTION kill_after_progress(job bigint, killed int[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '60s';
	worker int;
	taken_at bigint;
	cursor_now bigint;
	job_phase text;
BEGIN
	LOOP
		SELECT worker_pid INTO worker FROM colmig.progress WHERE job_id = job;
		EXIT WHEN worker IS NOT NULL AND worker <> ALL (killed);
		IF clock_timestamp() > deadline THEN
			RAISE EXCEPTION 'no new worker took up job %', job;
		END IF;
		PERFORM pg_sleep(0.001);
	END LOOP;
	-- The worker before it is gone (it held the claim): this worker has
	-- committed at most this much of the cursor since it took the job up.
	SELECT cursor_page INTO taken_at FROM colmig.jobs WHERE job_id = job;
	LOOP
		SELECT cursor_page, phase INTO cursor_now, job_phase
		  FROM colmig.jobs WHERE job_id = job;
		-- The first worker adds the column before the backfill begins.
		IF job_phase NOT IN ('queued', 'backfill') THEN
			RAISE EXCEPTION 'job % left the backfill (phase %) before its worker % could be ended',
				job, job_phase, worker;
		END IF;
		EXIT WHEN job_phase = 'backfill' AND cursor_now > taken_at;
		IF clock_timestamp() > deadline THEN
			RAISE EXCEPTION 'worker % of job % made no progress', worker, job;
		END IF;
		PERFORM pg_sleep(0.001);
	END LOOP;
	PERFORM pg_terminate_backend(worker);
	RETURN worker || ' ' || taken_at || ' ' || cursor_now;
END $$;

CREATE ROLE app;
CREATE TABLE doomed (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO doomed SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 2000) g;
CREATE TABLE app_orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO app_orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 20000) g;
ALTER TABLE app_orders OWNER TO app;
});

sub poll {
	my ($query, $what) = @_;
	$node->poll_query_until('postgres', $query) or die "timed out waiting for $what";
}

sub job_field {
	my ($job, $expr) = @_;
	return $node->safe_psql('postgres', "SELECT $expr FROM colmig.jobs WHERE job_id = $job");
}

# 1 and 2. The killer, and another role's job beside it.
my $killer = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('doomed', 'total', 'int',
	    backfill_expr => 'pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid())::int')});
# Its first worker added the column and entered the backfill (attempts
# back to 0), then died; attempts >= 1 there means a later worker took it
# up again: it is being retried.
poll(qq{SELECT phase = 'backfill' AND attempts >= 1 OR state <> 'running'
          FROM colmig.jobs WHERE job_id = $killer}, 'the killer to be retried');
is(job_field($killer, 'state'), 'running', 'the killer is being retried');

my $app_job = $node->safe_psql('postgres', q{
	SET ROLE app;
	SELECT colmig.add_column('app_orders', 'total', 'numeric',
	                         backfill_expr => 'price * qty', not_null => true);});
is(job_field($app_job, 'owner::regrole'), 'app', 'that job runs as the other role');
is($node->safe_psql('postgres', "SELECT wait_outcome($app_job)"), 'succeeded',
	"another role's job created after the killer succeeds");
is($node->safe_psql('postgres',
	'SELECT count(*) FROM app_orders WHERE total IS DISTINCT FROM price * qty'),
	'0', "every row of the other role's table is right");
# started_at is set when a worker first takes a job up, finished_at in the
# transaction that ends it. Not the two finished_at: on a slow machine the
# killer may fail legitimately while the other job still runs.
is($node->safe_psql('postgres', qq{
	SELECT k.finished_at IS NULL OR k.finished_at > a.started_at
	  FROM colmig.jobs k, colmig.jobs a WHERE k.job_id = $killer AND a.job_id = $app_job}),
	't', 'it did not wait for the killer to fail first');

like($node->safe_psql('postgres', "SELECT wait_outcome($killer)"),
	qr/^error 55000: colmig job $killer failed: taken up 3 times in phase backfill, and its worker ended each time before the job made progress/,
	'the killer fails by itself with 55000 after colmig.max_attempts workers');
is(job_field($killer, q{state || ' ' || last_sqlstate || ' ' || (last_error LIKE '%taken up 3 times%')}),
	'failed 55000 true', 'its job row says failed, 55000, and why');
is(job_field($killer, q{finished_at - created_at < interval '30 s'}), 't',
	'it failed within bounded time');
# The failure is recorded before the cleanup, which needs a lock.
poll(qq{SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = $killer}, 'the killer\'s cleanup');
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'doomed'::regclass)
	     + (SELECT count(*) FROM pg_constraint WHERE conrelid = 'doomed'::regclass AND contype = 'c')}),
	'0', 'no fill trigger (or check) is left on the killer\'s table');

# 3. A job outside its run window, and one created after it in the same
#    transaction: that commit wakes the launcher once, so the second job
#    runs only if the worker that took the first asks for another.
$node->safe_psql('postgres', q{
CREATE TABLE later (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO later SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 5000) g;
CREATE TABLE sooner (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO sooner SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 5000) g;
});
my ($windowed, $after_window) = split /\n/, $node->safe_psql('postgres', q{
	BEGIN;
	SELECT colmig.add_column('later', 'total', 'numeric', backfill_expr => 'price * qty',
	    window_start => date_trunc('minute', localtime + interval '2 hours')::time,
	    window_end => date_trunc('minute', localtime + interval '3 hours')::time);
	SELECT colmig.add_column('sooner', 'total', 'numeric', backfill_expr => 'price * qty');
	COMMIT;});
is($node->safe_psql('postgres', "SELECT wait_outcome($after_window)"), 'succeeded',
	'a job created after one outside its run window finishes');
is($node->safe_psql('postgres',
	'SELECT count(*) FROM sooner WHERE total IS DISTINCT FROM price * qty'),
	'0', 'with every row right');
poll(qq{SELECT throttled LIKE 'outside run window %' FROM colmig.progress WHERE job_id = $windowed},
	'the windowed job to say why it holds back');
is($node->safe_psql('postgres',
	"SELECT state || ' ' || phase || ' ' || (worker_pid IS NULL) FROM colmig.progress WHERE job_id = $windowed"),
	'queued queued true', 'the windowed job waits for its window, in no worker');

# As many jobs outside their window as there are workers (another role's
# doing, say) keep no worker: a job created after them runs at once.
my @windowed = split /\n/, $node->safe_psql('postgres', q{
	SELECT colmig.add_column('later', 'c' || i, 'int', backfill_expr => 'qty',
	    window_start => date_trunc('minute', localtime + interval '2 hours')::time,
	    window_end => date_trunc('minute', localtime + interval '3 hours')::time)
	  FROM generate_series(1, 4) i});
my $beside = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('sooner', 'doubled', 'numeric', backfill_expr => 'price * 2')});
is($node->safe_psql('postgres', "SELECT wait_outcome($beside)"), 'succeeded',
	'four jobs outside their windows (colmig.max_workers is 4) hold no job back');
poll(q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'colmig worker'},
	'no worker to stay for the windowed jobs');
$node->safe_psql('postgres', "SELECT colmig.cancel(j) FROM unnest(ARRAY[$windowed, " .
	join(', ', @windowed) . "]) j");
is($node->safe_psql('postgres', "SELECT wait_outcome($windowed)"), 'cancelled',
	'a windowed job can be cancelled');

# A running job whose window closes (colmig.run_window set and reloaded)
# gives its worker back, says why it waits, and goes on from its cursor
# when the window opens (here: the setting reset and reloaded).
$node->safe_psql('postgres', q{
CREATE FUNCTION gate(value anyelement) RETURNS anyelement LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN value; END $$;
CREATE TABLE closing (id bigint PRIMARY KEY, v int NOT NULL);
INSERT INTO closing SELECT g, g FROM generate_series(1, 20000) g;
});
my $gate = $node->background_psql('postgres');
$gate->query_safe('SELECT pg_advisory_lock(4242)');
my $closing = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('closing', 'w', 'int', backfill_expr => 'gate(v)', batch_size => 500)});
poll(q{SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted)},
	'the worker to reach the gate');
my $far_window = $node->safe_psql('postgres', q{
	SELECT to_char(localtime + interval '2 hours', 'HH24:MI') || '-' ||
	       to_char(localtime + interval '3 hours', 'HH24:MI')});
$node->safe_psql('postgres',
	"ALTER SYSTEM SET colmig.run_window = '$far_window'; SELECT pg_reload_conf();");
$gate->query_safe('SELECT pg_advisory_unlock(4242)');
poll(qq{SELECT state = 'running' AND worker_pid IS NULL AND throttled LIKE 'outside run window %'
          FROM colmig.progress WHERE job_id = $closing},
	'the job to leave its worker when its window closed');
poll(q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'colmig worker'},
	'no worker to stay for it');
cmp_ok(job_field($closing, 'rows_done'), '<', 20000, 'the job stopped part way');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET colmig.run_window; SELECT pg_reload_conf()');
is($node->safe_psql('postgres', "SELECT wait_outcome($closing)"), 'succeeded',
	'it goes on once the window opens');
is($node->safe_psql('postgres', 'SELECT count(*) FROM closing WHERE w IS DISTINCT FROM v'),
	'0', 'with every row right');
$gate->quit;

# 4. Killed from outside more often than max_attempts, but each worker
#    committed batches before it was ended: the job still succeeds. (Not
#    compact: its cursor moves page by page, so five workers can each be
#    ended after some progress before the backfill is through.)
$node->safe_psql('postgres', q{
CREATE TABLE resilient (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO resilient SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 30000) g;
ANALYZE resilient;
});
my $tough = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('resilient', 'total', 'numeric', backfill_expr => 'price * qty',
	                         not_null => true, batch_size => 100, compact => false)});
my @killed;
for my $round (1 .. 5) {
	my $killed = '{' . join(',', @killed) . '}';
	my $what = $node->safe_psql('postgres', "SELECT kill_after_progress($tough, '$killed')");
	my ($pid, $from, $to) = split / /, $what;
	note "round $round: worker $pid ended after moving the cursor from page $from to $to";
	push @killed, $pid;
}
is(scalar(@killed), 5, 'five workers were ended, each after it made progress (max_attempts is 3)');
is($node->safe_psql('postgres', "SELECT wait_outcome($tough)"), 'succeeded',
	'progress between the terminations resets the count: the job succeeds');
is($node->safe_psql('postgres',
	'SELECT count(*) FROM resilient WHERE total IS DISTINCT FROM price * qty'),
	'0', 'every row right after the terminated workers');
is(job_field($tough, 'rows_done'), '30000',
	'each row was filled once: a batch cut short rolled back with its cursor');
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'resilient'::regclass)::text || ' '
	    || (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'resilient'::regclass AND attname = 'total')}),
	'0 true', 'no fill trigger left, NOT NULL set');

# 5. An infinite start_at is refused; one already in the job table (from
#    before the refusal) must not make the claim query fail for every job.
is($node->safe_psql('postgres',
	q{SELECT sqlstate_of($$SELECT colmig.add_column('sooner', 'never', 'int', start_at => 'infinity')$$)}),
	'22008', 'add_column refuses start_at => infinity');
my $forever = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('sooner', 'someday', 'int', start_at => now() + interval '1 day')});
$node->safe_psql('postgres', "UPDATE colmig.jobs SET start_at = 'infinity' WHERE job_id = $forever");
my $plain = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('sooner', 'code', 'text', backfill_expr => $$'s-' || id$$)});
is($node->safe_psql('postgres', "SELECT wait_outcome($plain)"), 'succeeded',
	'a job with an infinite start_at in the table does not stop the others');
$node->safe_psql('postgres', "SELECT colmig.cancel($forever)");

note sprintf('run time %.1f s', time - $started);
$node->stop;
done_testing();
