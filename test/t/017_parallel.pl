# Parallel backfills (parallel => N): the ranges' workers show in
# colmig.progress; a range worker ended with pg_terminate_backend, one
# killed with SIGKILL (the server restarts every backend) and an immediate
# shutdown of the server mid-job all end with the job succeeded, every row
# right and no range left; a job asking for more workers than there are
# background worker slots runs with fewer, after a NOTICE.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('parallel');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.retry_max_delay = 200ms
colmig.max_parallel = 4
# Slow batches, so that the job is still backfilling when the test acts.
colmig.batch_pause = 20ms
max_worker_processes = 16
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION colmig');

my $round = 0;
sub new_table {
	$round++;
	$node->safe_psql('postgres', qq{
		CREATE TABLE t$round (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
		INSERT INTO t$round SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 60000) g;
		ANALYZE t$round;});
	return "t$round";
}

sub poll {
	my ($query, $what) = @_;
	$node->poll_query_until('postgres', $query) or die "timed out waiting for $what";
}

sub start_job {
	my ($table, $parallel) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('$table', 'total', 'numeric', backfill_expr => 'price * qty',
		                         not_null => true, batch_size => 200, parallel => $parallel)});
}

# The job's ranges have begun to fill, and `workers` of them are held.
sub backfilling_with {
	my ($job, $workers) = @_;
	poll(qq{SELECT count(*) > 0 AND bool_and(cursor_page > first_page) FROM colmig.job_ranges
	         WHERE job_id = $job}, "every range of job $job to move");
	poll(qq{SELECT workers = $workers FROM colmig.progress WHERE job_id = $job},
		"job $job to run with $workers workers");
}

# The pid of the worker filling range 1, caught in one of its batches.
sub range_worker_in_batch {
	my ($job) = @_;
	my $pid = '';
	until ($pid ne '') {
		poll(qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'colmig worker'
		         AND query LIKE 'colmig: job $job backfill batch%(range 1)'}, 'range 1 in a batch');
		$pid = $node->safe_psql('postgres', qq{
			SELECT pid FROM pg_stat_activity
			 WHERE backend_type = 'colmig worker'
			   AND query LIKE 'colmig: job $job backfill batch%(range 1)' LIMIT 1});
	}
	return $pid;
}

sub succeeds_right {
	my ($job, $table, $what) = @_;
	poll(qq{SELECT state = 'succeeded' FROM colmig.jobs WHERE job_id = $job},
		"job $job to succeed ($what)");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM $table WHERE total IS DISTINCT FROM price * qty"),
		'0', "$what: every row right");
	is($node->safe_psql('postgres', "SELECT count(*) FROM colmig.job_ranges WHERE job_id = $job"),
		'0', "$what: no range left");
	is($node->safe_psql('postgres', qq{
		SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = '$table'::regclass)
		     + (SELECT count(*) FROM pg_constraint WHERE conrelid = '$table'::regclass AND contype = 'c')}),
		'0', "$what: no trigger or check left");
	is($node->safe_psql('postgres', qq{
		SELECT attnotnull FROM pg_attribute WHERE attrelid = '$table'::regclass AND attname = 'total'}),
		't', "$what: NOT NULL set");
}

# 1. Four ranges, four workers; the ranges cover the table's pages once.
{
	my $table = new_table();
	my $job = start_job($table, 4);
	backfilling_with($job, 4);
	my ($ranges, $first, $covers, $adjacent) = split /\|/, $node->safe_psql('postgres', qq{
		SELECT count(*), min(first_page),
		       sum(end_page - first_page) = (SELECT end_page FROM colmig.jobs WHERE job_id = $job),
		       bool_and(next_first IS NULL OR next_first = end_page)
		  FROM (SELECT *, lead(first_page) OVER (ORDER BY range_no) AS next_first
		          FROM colmig.job_ranges WHERE job_id = $job) r});
	is($ranges, '4', 'four ranges');
	is($first, '0', 'the first range begins at page 0');
	is($covers, 't', 'the ranges add up to the backfill\'s pages');
	is($adjacent, 't', 'each range begins where the one before ends');
	my $percent = $node->safe_psql('postgres',
		"SELECT percent > 0 AND percent < 100 AND rows_done > 0 FROM colmig.progress WHERE job_id = $job");
	is($percent, 't', 'progress sums the ranges while they fill');
	succeeds_right($job, $table, 'four workers');
	is($node->safe_psql('postgres', "SELECT rows_done FROM colmig.jobs WHERE job_id = $job"),
		'60000', 'rows_done counts every row once');
}

# 2. A range worker ended by pg_terminate_backend: the job's own worker
# takes its range over from its cursor.
{
	my $table = new_table();
	my $job = start_job($table, 2);
	backfilling_with($job, 2);
	my $pid = range_worker_in_batch($job);
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	succeeds_right($job, $table, 'range worker terminated');
	is($node->safe_psql('postgres', "SELECT rows_done FROM colmig.jobs WHERE job_id = $job"),
		'60000', 'range worker terminated: rows_done counts every row once');
}

# 3. A range worker killed with SIGKILL: the postmaster ends every backend
# and restarts; the job resumes every range from its cursor.
{
	my $table = new_table();
	my $job = start_job($table, 2);
	backfilling_with($job, 2);
	my $pid = range_worker_in_batch($job);
	kill 'KILL', $pid;
	succeeds_right($job, $table, 'range worker killed');
}

# 4. An immediate shutdown mid-job.
{
	my $table = new_table();
	my $job = start_job($table, 3);
	backfilling_with($job, 3);
	$node->stop('immediate');
	$node->start;
	succeeds_right($job, $table, 'server crash');
}

# 5. Pause and resume: every worker stops, the ranges keep their cursors,
# and the resumed job goes on from them.
{
	my $table = new_table();
	my $job = start_job($table, 2);
	backfilling_with($job, 2);
	$node->safe_psql('postgres', "SELECT colmig.pause($job)");
	poll(qq{SELECT workers = 0 FROM colmig.progress WHERE job_id = $job}, 'every worker to stop');
	my $done = $node->safe_psql('postgres',
		"SELECT sum(cursor_page - first_page) FROM colmig.job_ranges WHERE job_id = $job");
	ok($done > 0, 'paused: the ranges keep what they did');
	$node->safe_psql('postgres', "SELECT colmig.resume($job)");
	succeeds_right($job, $table, 'paused and resumed');
}

# 6. The run window closes mid-backfill: every worker stops and the job
# keeps none (it stays running); when the window opens again it goes on
# with its workers and ends right.
{
	my $table = new_table();
	my $job = start_job($table, 2);
	backfilling_with($job, 2);
	my ($h, $m) = split /:/, $node->safe_psql('postgres',
		"SELECT to_char(localtime + interval '3 hours', 'HH24:MI')");
	my $end = sprintf('%02d:%s', ($h + 1) % 24, $m);
	$node->safe_psql('postgres', "ALTER SYSTEM SET colmig.run_window = '$h:$m-$end'");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	poll(qq{SELECT workers = 0 AND worker_pid IS NULL AND state = 'running'
	          AND throttled LIKE 'outside run window%' FROM colmig.progress WHERE job_id = $job},
		'every worker of the job to stop outside its window');
	my $commits = $node->safe_psql('postgres',
		"SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'colmig.jobs'::regclass");
	sleep 2;
	$node->safe_psql('postgres', 'SELECT pg_stat_clear_snapshot()');
	my $later = $node->safe_psql('postgres',
		"SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'colmig.jobs'::regclass");
	ok($later - $commits < 20, "outside its window the job writes (almost) nothing ($commits -> $later)");
	$node->safe_psql('postgres', 'ALTER SYSTEM RESET colmig.run_window');
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	backfilling_with($job, 2);
	succeeds_right($job, $table, 'run window closed and opened');
}

# 7. Compact while a snapshot older than the batches lasts: nothing can be
# pruned, so after a second of waiting the rows move as for an UPDATE; the
# job ends right, and the table grew as an UPDATE makes it grow.
{
	my $table = new_table();
	my $before = $node->safe_psql('postgres', "SELECT pg_relation_size('$table')");
	my $old = $node->background_psql('postgres');
	$old->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$old->query_safe('SELECT count(*) FROM pg_class');
	my $job = $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('$table', 'total', 'numeric', backfill_expr => 'price * qty',
		                         compact => true)});
	poll(qq{SELECT state = 'succeeded' FROM colmig.jobs WHERE job_id = $job},
		"job $job to succeed under an old snapshot");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM $table WHERE total IS DISTINCT FROM price * qty"),
		'0', 'compact under an old snapshot: every row right');
	ok($node->safe_psql('postgres', "SELECT pg_relation_size('$table')") > 1.5 * $before,
		'compact under an old snapshot: the rows moved as for an UPDATE');
	$old->query_safe('COMMIT');
	$old->quit;
}

# 8. More workers than slots: max_worker_processes = 4 holds the colmig
# launcher and the logical replication launcher, the job's worker, and one
# range worker.
{
	$node->append_conf('postgresql.conf', 'max_worker_processes = 4');
	$node->restart;
	my $table = new_table();
	my ($ret, $stdout, $stderr) = $node->psql('postgres', qq{
		SELECT colmig.add_column('$table', 'total', 'numeric', backfill_expr => 'price * qty',
		                         batch_size => 200, parallel => 4)});
	like($stderr, qr/NOTICE:  only 2 of the 4 workers asked for can start now/,
		'a NOTICE says how many workers can start');
	my $job = $stdout;
	my $log_offset = -s $node->logfile;
	poll(qq{SELECT state = 'succeeded' FROM colmig.jobs WHERE job_id = $job},
		"job $job to succeed with fewer workers");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM $table WHERE total IS DISTINCT FROM price * qty"),
		'0', 'fewer workers: every row right');
	like(slurp_file($node->logfile), qr/job $job backfills 4 ranges with 2 of the 4 workers/,
		'the log says how many workers the job got');
	($ret, $stdout, $stderr) = $node->psql('postgres', qq{
		SELECT colmig.add_column('$table', 'more', 'int', backfill_expr => '1', parallel => 9)});
	like($stderr, qr/NOTICE:  parallel => 9 is more than colmig.max_parallel \(4\)/,
		'a NOTICE says parallel is capped at colmig.max_parallel');
}

$node->stop;
done_testing();
