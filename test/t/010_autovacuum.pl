# A full backfill leaves a dead tuple per row, so autovacuum comes to the
# table and holds SHARE UPDATE EXCLUSIVE on it, which blocks the late steps
# of a not_null job (the NOT VALID check, SET NOT NULL, dropping the fill
# trigger). PostgreSQL cancels a (non-wraparound) autovacuum only for a
# waiter that has waited deadlock_timeout, which colmig's short
# lock_timeout never does; so colmig cancels it itself after a lock timeout
# and retries at once (runner/lock_holders.cpp). Here an autovacuum made
# very slow is on the table when the job reaches its late steps: the job
# still succeeds, and the application never waits long. A control with a
# client's VACUUM (which colmig must not cancel) shows that the retry
# settings used here make a job give up within seconds behind a holder it
# does not cancel: the success is the cancellation's doing, not luck.
#
# Not tested: an autovacuum "to prevent wraparound" is never cancelled
# (PostgreSQL does not cancel those either). Forcing one takes pushing the
# table's relfrozenxid age past autovacuum_freeze_max_age (at least 100000
# transaction ids to consume), which makes every table of the cluster due
# for one at once: not cheaply done here.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $rows = 60000;

my $node = PostgreSQL::Test::Cluster->new('autovacuum');
$node->init;
# Retries that give up after about 1-2 s (10 attempts, back-off 20 ms
# doubling up to 100 ms, each attempt waiting colmig.lock_timeout = 50 ms):
# far less than the autovacuum below takes, so without the cancellation the
# job fails. An autovacuum worker per database every second. The backfill
# does not hold back for autovacuum (the default, stated because the test
# relies on it: the backfill must go on while autovacuum works). The first
# batch waits at the gate below for seconds, which must not time it out.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.batch_pause = 0
colmig.lock_timeout = 50ms
colmig.lock_retries = 10
colmig.retry_base_delay = 20ms
colmig.retry_max_delay = 100ms
colmig.wait_for_autovacuum = off
colmig.batch_statement_timeout = 60s
autovacuum = on
autovacuum_naptime = 1s
deadlock_timeout = 1s
});
$node->start;

# The gate: a backfill expression that waits while the test holds advisory
# lock 4242, to hold the job inside its backfill. Unlike 003's it does not
# wait for the lock, it tries it and sleeps: a batch runs under
# colmig.lock_timeout, so a lock wait would end in a lock timeout after
# 50 ms, and with it the retries this test needs for the late steps (and
# each lock timeout would cancel the autovacuum too early, see
# runner/locked_step.cpp).
# The table starts with autovacuum off, so that no autovacuum runs before
# the job is at the gate; once on, it is due at once (threshold 0 for dead
# and inserted tuples) and, at 100 ms of sleep for every page it touches
# (cost limit 1), needs minutes for the table's hundreds of pages.
$node->safe_psql('postgres', qq{
CREATE EXTENSION colmig;
CREATE FUNCTION gate(value anyelement) RETURNS anyelement LANGUAGE plpgsql AS \$\$
BEGIN
	WHILE NOT pg_try_advisory_xact_lock_shared(4242) LOOP
		PERFORM pg_sleep(0.01);
	END LOOP;
	RETURN value;
END \$\$;
CREATE TABLE av_orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL)
  WITH (autovacuum_enabled = off,
        autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_insert_threshold = 0, autovacuum_vacuum_insert_scale_factor = 0,
        autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1);
INSERT INTO av_orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, $rows) g;
-- Dead tuples, as the backfill's first batches would leave.
UPDATE av_orders SET qty = qty WHERE id % 10 = 0;
});
cmp_ok($node->safe_psql('postgres',
	"SELECT pg_relation_size('av_orders') / current_setting('block_size')::int"),
	'>', 300, 'the table takes hundreds of pages');

sub poll {
	my ($query, $what) = @_;
	$node->poll_query_until('postgres', $query) or die "timed out waiting for $what";
}

sub hold_gate {
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('SELECT pg_advisory_lock(4242)');
	return $holder;
}

# Only the gate calls pg_sleep() in a worker.
sub worker_at_gate {
	poll(q{SELECT EXISTS (SELECT 1 FROM pg_stat_activity
	                       WHERE backend_type = 'colmig worker' AND wait_event = 'PgSleep')},
		'the worker at the gate');
}

# Waits until the job has ended one way or the other (so that a failure is
# reported at once, not after the poll timeout); returns its state.
sub wait_finished {
	my ($job) = @_;
	poll(qq{SELECT state NOT IN ('queued', 'running') FROM colmig.jobs WHERE job_id = $job},
		"job $job to end");
	return $node->safe_psql('postgres', "SELECT state FROM colmig.jobs WHERE job_id = $job");
}

my $started = time;
my $log_offset = -s $node->logfile;

# 1. Hold the job in its backfill, let autovacuum start on the table, then
#    let the job go on to its late steps with the autovacuum still there.
my $holder = hold_gate();
my $job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('av_orders', 'total', 'numeric',
	                         backfill_expr => 'gate(price * qty)', not_null => true)});
worker_at_gate();
is($node->safe_psql('postgres', "SELECT phase FROM colmig.jobs WHERE job_id = $job"),
	'backfill', 'the job waits at the gate inside its backfill');

# SHARE UPDATE EXCLUSIVE, like autovacuum's own lock: it does not wait for
# the batch at the gate (ROW EXCLUSIVE).
$node->safe_psql('postgres', 'ALTER TABLE av_orders SET (autovacuum_enabled = on)');
my $autovacuum_on_table = q{
	SELECT a.pid, a.query FROM pg_stat_progress_vacuum v
	  JOIN pg_stat_activity a ON a.pid = v.pid
	 WHERE v.relid = 'av_orders'::regclass AND a.backend_type = 'autovacuum worker'};
poll("SELECT EXISTS ($autovacuum_on_table)", 'autovacuum to start on av_orders');
my ($av_pid, $av_query) = split /\|/,
  $node->safe_psql('postgres', $autovacuum_on_table), 2;
note "autovacuum worker $av_pid: $av_query";
ok($av_pid =~ /^\d+$/, 'an autovacuum worker works on the table while the job waits');
unlike($av_query, qr/to prevent wraparound/,
	'it is an ordinary autovacuum, one that may be cancelled');

$holder->query_safe('SELECT pg_advisory_unlock(4242)');

# The application: short updates of single rows, each its own transaction,
# until the job ends; it notes its longest statement (waiting for a lock
# included) and the job phases it saw pass.
my $app = $node->background_psql('postgres');
$app->query_until(qr/app started/, qq{
\\echo app started
DO \$\$
DECLARE
	deadline timestamptz := clock_timestamp() + interval '60s';
	longest interval := '0';
	phases text[] := '{}';
	rounds int := 0;
	began timestamptz;
	job_state text;
	job_phase text;
BEGIN
	LOOP
		SELECT state, phase INTO job_state, job_phase FROM colmig.jobs WHERE job_id = $job;
		COMMIT;
		EXIT WHEN job_state NOT IN ('queued', 'running') OR clock_timestamp() > deadline;
		IF NOT job_phase = ANY (phases) THEN
			phases := phases || job_phase;
		END IF;
		began := clock_timestamp();
		UPDATE av_orders SET qty = qty WHERE id = 1 + (rounds * 7919) % $rows;
		COMMIT;
		longest := greatest(longest, clock_timestamp() - began);
		rounds := rounds + 1;
		PERFORM pg_sleep(0.005);
	END LOOP;
	PERFORM set_config('app.longest_ms', round(extract(epoch FROM longest) * 1000)::text, false);
	PERFORM set_config('app.phases', array_to_string(phases, ','), false);
	PERFORM set_config('app.rounds', rounds::text, false);
END \$\$;
});

my $state = wait_finished($job);
is($state, 'succeeded', 'the job succeeds with an autovacuum on its table')
  or diag($node->safe_psql('postgres',
	"SELECT phase || ' ' || lock_retries || ' retries: ' || coalesce(last_sqlstate, '') || ' '
	        || coalesce(last_error, '') FROM colmig.jobs WHERE job_id = $job"));
note sprintf('job %d ended %.1f s after it started', $job, time - $started);

is($node->safe_psql('postgres', qq{
	SELECT attnotnull FROM pg_attribute
	 WHERE attrelid = 'av_orders'::regclass AND attname = 'total'}),
	't', 'the column is NOT NULL');
is($node->safe_psql('postgres', qq{
	SELECT count(*) || ' ' || count(*) FILTER (WHERE total IS DISTINCT FROM price * qty)
	  FROM av_orders}),
	"$rows 0", 'every row has total = price * qty');
is($node->safe_psql('postgres', qq{
	SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'av_orders'::regclass)
	     + (SELECT count(*) FROM pg_constraint WHERE conrelid = 'av_orders'::regclass AND contype = 'c')}),
	'0', 'no fill trigger or check is left behind');

my $log = slurp_file($node->logfile, $log_offset);
like($log,
	qr/colmig: job $job cancelled \d+ autovacuum worker\(s\) holding a lock on \S*av_orders/,
	'colmig logged that it cancelled the autovacuum');
like($log, qr/\[$av_pid\] ERROR:  canceling autovacuum task/,
	'the autovacuum seen on the table is the one that was cancelled');
# The first cancellation came after the backfill, sweep and verify: at a
# late step, behind the autovacuum that had been there all along.
my ($before_cancel) = $log =~ /\A(.*?)colmig: job $job cancelled/s;
like($before_cancel // '', qr/colmig: job $job: verify done/,
	'the autovacuum was cancelled at a late step, not before');

my ($longest, $phases, $rounds) = split /\|/, $app->query_safe(q{
	SELECT current_setting('app.longest_ms') || '|' || current_setting('app.phases')
	       || '|' || current_setting('app.rounds')});
$app->quit;
note "application: $rounds updates, longest $longest ms, saw phases $phases";
like($phases, qr/\badd_not_null_check\b/,
	'the application worked on while the job took its late steps');
cmp_ok($longest, '<', 500,
	'no application statement waited anywhere near deadlock_timeout');

# 2. The control: the same late step behind a VACUUM run by a client, which
#    colmig leaves alone (only autovacuum workers are cancelled), gives up
#    after its retries. Its own table, with autovacuum off.
$node->safe_psql('postgres', q{
CREATE TABLE ctl_orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL)
  WITH (autovacuum_enabled = off);
INSERT INTO ctl_orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 20000) g;
});
$log_offset = -s $node->logfile;
$holder->query_safe('SELECT pg_advisory_lock(4242)');
my $control = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('ctl_orders', 'total', 'numeric',
	                         backfill_expr => 'gate(price * qty)', not_null => true)});
worker_at_gate();
my $vacuum = $node->background_psql('postgres');
$vacuum->query_until(qr/vacuuming/, q{
SET vacuum_cost_delay = 100;
SET vacuum_cost_limit = 1;
\echo vacuuming
VACUUM ctl_orders;
});
my $vacuum_on_table = q{
	SELECT a.pid FROM pg_stat_progress_vacuum v JOIN pg_stat_activity a ON a.pid = v.pid
	 WHERE v.relid = 'ctl_orders'::regclass AND a.backend_type = 'client backend'};
poll("SELECT EXISTS ($vacuum_on_table)", 'the VACUUM to start on ctl_orders');
my $vacuum_pid = $node->safe_psql('postgres', $vacuum_on_table);
my $control_started = time;
$holder->query_safe('SELECT pg_advisory_unlock(4242)');
is(wait_finished($control), 'failed', 'control: the job fails behind a VACUUM it must not cancel');
note sprintf('control job ended %.1f s after the gate opened', time - $control_started);
is($node->safe_psql('postgres',
	"SELECT phase || ' ' || last_sqlstate FROM colmig.jobs WHERE job_id = $control"),
	'add_not_null_check 55P03', 'control: it gave up with 55P03 at the NOT VALID check');
# From the log: last_error is overwritten by the retries of the cleanup
# that follows the failure (it needs ACCESS EXCLUSIVE too, and the VACUUM
# is still there).
$log = slurp_file($node->logfile, $log_offset);
like($log,
	qr/colmig: job $control failed: gave up after 10 attempts: could not lock \S*ctl_orders for add_not_null_check: .*held by pid $vacuum_pid \(client backend.*VACUUM ctl_orders/,
	'control: it gave up after its 10 attempts, naming the VACUUM that held the lock');
like($node->safe_psql('postgres', "SELECT last_error FROM colmig.jobs WHERE job_id = $control"),
	qr/held by pid $vacuum_pid \(client backend.*VACUUM ctl_orders/,
	'control: its last_error names the VACUUM');
is($node->safe_psql('postgres', "SELECT EXISTS ($vacuum_on_table)"),
	't', 'control: the VACUUM still runs, not cancelled');
unlike($log, qr/colmig: job $control cancelled/, 'control: colmig cancelled nothing');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($vacuum_pid)");
eval { $vacuum->quit };
$holder->quit;

note sprintf('test took %.1f s', time - $started);
$node->stop;
done_testing();
