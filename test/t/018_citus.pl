# colmig on Citus (docs/citus.md): a coordinator and two worker nodes.
# add_column on a hash-distributed table under pgbench writes through the
# coordinator and on a reference table; every shard placement checked
# against the expected values, NOT NULL on every placement, no helper left.
# Faults: a worker node and the coordinator restarted mid-job (the job
# resumes), a shard moved mid-job (the job fails cleanly). Pause, resume
# and cancel reach the shard jobs; a lock held on a worker's shard makes
# the coordinator's DDL retry, not wait; what colmig cannot do on Citus is
# refused at once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use CitusCluster;

if (my $why = CitusCluster::unavailable()) {
	plan skip_all => $why;
}

my ($coordinator, $worker1, $worker2) = CitusCluster::start();
my @nodes = ($coordinator, $worker1, $worker2);
my $tmp = PostgreSQL::Test::Utils::tempdir;

sub wait_job {
	my ($job) = @_;
	return $coordinator->safe_psql('postgres', "SELECT colmig.wait($job, '180s')");
}

# For a job that may fail: colmig.wait() raises then; the state it ended in.
sub final_state {
	my ($job) = @_;
	$coordinator->psql('postgres', "SELECT colmig.wait($job, '180s')");
	return $coordinator->safe_psql('postgres', "SELECT state FROM colmig.jobs WHERE job_id = $job");
}

sub distributed_table {
	my ($name, $rows, $shards) = @_;
	$coordinator->safe_psql('postgres', qq{
		CREATE TABLE $name (id bigint PRIMARY KEY, v int NOT NULL, w int);
		SELECT create_distributed_table('$name', 'id', shard_count => $shards);
		INSERT INTO $name SELECT g, g % 1000, 0 FROM generate_series(1, $rows) g;});
}

# No colmig trigger and no colmig check on any placement, nor on any node's
# copy of the table.
sub no_helpers_left {
	my ($table, $name) = @_;
	CitusCluster::all_placements_are($coordinator, $table,
		q{SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass
		   AND left(tgname, 7) = 'colmig_'}, '0', "$name: no fill trigger on any placement");
	CitusCluster::all_placements_are($coordinator, $table,
		q{SELECT count(*) FROM pg_constraint WHERE conrelid = '%s'::regclass
		   AND left(conname, 7) = 'colmig_'}, '0',
		"$name: no colmig check on any placement");
	for my $node (@nodes) {
		is($node->safe_psql('postgres', qq{SELECT count(*) FROM pg_constraint
			WHERE conrelid = '$table'::regclass AND conname LIKE 'colmig%'}),
			'0', "$name: no colmig check on the table on " . $node->name);
	}
}

# ---- What colmig cannot do on Citus is refused at once --------------------
$coordinator->safe_psql('postgres', q{
	CREATE TABLE appended (id int, v int);
	SELECT create_distributed_table('appended', 'id', 'append');
	CREATE TABLE ranged (id int, v int);
	SELECT create_distributed_table('ranged', 'id', 'range');
	CREATE TABLE local_one (id int PRIMARY KEY, v int);
	SELECT citus_add_local_table_to_metadata('local_one');
	CREATE TABLE ref (id int PRIMARY KEY, v int NOT NULL);
	SELECT create_reference_table('ref');
	INSERT INTO ref SELECT g, g FROM generate_series(1, 2000) g;});
distributed_table('orders', 40000, 8);

is(CitusCluster::sqlstate($coordinator,
		q{SELECT colmig.add_column('appended', 'c', 'int', backfill_expr => 'v')}),
	'0A000', 'an append-distributed table is refused (0A000)');
is(CitusCluster::sqlstate($coordinator,
		q{SELECT colmig.add_column('ranged', 'c', 'int', backfill_expr => 'v')}),
	'0A000', 'a range-distributed table is refused (0A000)');
is(CitusCluster::sqlstate($coordinator,
		q{SELECT colmig.add_column('local_one', 'c', 'int', backfill_expr => 'v')}),
	'0A000', 'a Citus local table is refused (0A000)');
is(CitusCluster::sqlstate($coordinator,
		q{SELECT colmig.set_not_null('appended', 'v')}),
	'0A000', 'the other operations refuse those tables too (0A000)');
is(CitusCluster::sqlstate($worker1,
		q{SELECT colmig.add_column('orders', 'c', 'int', backfill_expr => 'v')}),
	'0A000', 'a job on a worker node is refused (0A000)');
my $a_shard = $worker1->safe_psql('postgres', q{
	SELECT 'public.' || shard_name('orders'::regclass, shardid) FROM pg_dist_shard
	 WHERE logicalrelid = 'orders'::regclass AND shardid IN
	       (SELECT shardid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
	         WHERE n.nodeport = } . $worker1->port . q{) ORDER BY shardid LIMIT 1});
is(CitusCluster::sqlstate($worker1,
		"SELECT colmig.add_column('$a_shard', 'c', 'int', backfill_expr => 'v')"),
	'0A000', 'a job on a shard placement itself is refused (0A000)');
is(CitusCluster::sqlstate($coordinator,
		q{SELECT colmig.add_column('ref', 'c', 'int', backfill_expr => 'v * 2')}),
	'0A000', 'a reference table fill that reads its columns is refused (0A000)');
is(CitusCluster::sqlstate($coordinator,
		q{SELECT colmig.add_column('ref', 'c', 'float8', backfill_expr => 'random()')}),
	'0A000', 'a volatile reference table fill is refused (0A000)');
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM colmig.jobs}), '0',
	'no refused call made a job');
is($coordinator->safe_psql('postgres', q{SELECT count(*) FROM pg_attribute
	WHERE attrelid IN ('appended'::regclass, 'ranged'::regclass, 'local_one'::regclass,
	                   'orders'::regclass, 'ref'::regclass)
	  AND attname = 'c'}), '0', 'no refused call added a column');

# ---- A derived backfill with NOT NULL under pgbench writes ----------------
# pgbench, through the coordinator, updates w of existing rows and inserts
# new ones (above 40000); the fill trigger on every placement fills what
# the backfill has not reached; inserts after the job get the default 0.
my $script = "$tmp/orders.sql";
open my $fh, '>', $script or die "cannot write $script: $!";
print $fh <<'EOS';
\set id random(1, 40000)
UPDATE orders SET w = w + 1 WHERE id = :id;
\set n random(40001, 100000000)
INSERT INTO orders (id, v) VALUES (:n, :n % 1000) ON CONFLICT (id) DO NOTHING;
EOS
close $fh;
my ($bench_out, $bench_err) = ('', '');
my $pgbench = IPC::Run::start(
	[ $coordinator->installed_command('pgbench'), '-n', '-c', '2', '-j', '2', '-T', '600',
	  '-R', '200', '-f', $script, '-h', '127.0.0.1', '-p', $coordinator->port, 'postgres' ],
	'<', \undef, '>', \$bench_out, '2>', \$bench_err);
$coordinator->poll_query_until('postgres', 'SELECT count(*) > 40000 FROM orders')
  or die "pgbench never wrote: $bench_err";

my $job = $coordinator->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'c', 'bigint', backfill_expr => 'v * 2',
	                         default_expr => '0', not_null => true, batch_size => 500)});
# Progress on the coordinator while it runs: one row per placement.
$coordinator->poll_query_until('postgres',
	"SELECT count(*) = 8 FROM colmig.progress_shards WHERE job_id = $job")
  or diag $coordinator->safe_psql('postgres', 'SELECT * FROM colmig.jobs');
is(wait_job($job), 'succeeded', 'the distributed job succeeds under pgbench writes');
# pgbench reports a failed statement on stderr as it happens (a summary
# would need it to run to its end).
$pgbench->signal('INT');
$pgbench->finish;
unlike($bench_err, qr/error|abort/i, 'no pgbench statement failed while the job ran')
  or diag $bench_err;

CitusCluster::all_placements_are($coordinator, 'orders',
	q{SELECT count(*) FROM %s WHERE c IS DISTINCT FROM v * 2 AND NOT (id > 40000 AND c = 0)},
	'0', 'every row of every placement has its expected value');
CitusCluster::all_placements_are($coordinator, 'orders',
	q{SELECT count(*) FILTER (WHERE id <= 40000 AND c = v * 2) > 0 FROM %s},
	't', 'every placement had rows to fill');
CitusCluster::all_placements_are($coordinator, 'orders',
	q{SELECT attnotnull FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = 'c'},
	't', 'NOT NULL is set on every placement');
for my $node (@nodes) {
	is($node->safe_psql('postgres', q{SELECT attnotnull FROM pg_attribute
		WHERE attrelid = 'orders'::regclass AND attname = 'c'}),
		't', 'NOT NULL is set on the table on ' . $node->name);
}
no_helpers_left('orders', 'after success');
is($coordinator->safe_psql('postgres', qq{SELECT count(*), count(*) FILTER
	(WHERE state = 'succeeded' AND percent = 100) FROM colmig.progress_shards
	WHERE job_id = $job}), '8|8', 'colmig.progress_shards: every placement succeeded');
is($coordinator->safe_psql('postgres', qq{SELECT percent FROM colmig.progress
	WHERE job_id = $job}), '100.0', 'colmig.progress: one row for the job, done');
is($coordinator->safe_psql('postgres', qq{SELECT p.rows_done = (SELECT sum(s.rows_done)
	FROM colmig.progress_shards s WHERE s.job_id = p.job_id) AND p.rows_done > 0
	FROM colmig.progress p WHERE p.job_id = $job}), 't',
	"colmig.progress: the job's rows are the sum of its placements'");
is(join(',', map { $_->safe_psql('postgres', q{SELECT count(*) FROM colmig.jobs
	WHERE operation = 'fill_shard' AND state = 'succeeded'}) } $worker1, $worker2),
	'4,4', 'each worker node filled its own four placements');

# ---- The other operations go through the coordinator to every placement ---
$coordinator->safe_psql('postgres', q{
	CREATE TABLE customers (id int PRIMARY KEY);
	SELECT create_reference_table('customers');
	INSERT INTO customers SELECT g FROM generate_series(0, 999) g;
	ALTER TABLE orders ADD COLUMN customer int;
	UPDATE orders SET customer = v;});
for my $call (
	[ 'set_not_null', q{colmig.set_not_null('orders', 'customer')} ],
	[ 'add_check', q{colmig.add_check('orders', 'c_even', 'c % 2 = 0')} ],
	[ 'add_foreign_key', q{colmig.add_foreign_key('orders', ARRAY['customer'], 'customers',
	                                              ARRAY['id'], conname => 'orders_customer_fk')} ],
	[ 'create_index', q{colmig.create_index('orders', 'orders_customer_idx', 'customer')} ])
{
	my ($name, $sql) = @$call;
	my $id = $coordinator->safe_psql('postgres', "SELECT $sql");
	# CALL wait_job holds no snapshot, which CREATE INDEX CONCURRENTLY
	# would wait for.
	is($coordinator->safe_psql('postgres', "CALL colmig.wait_job($id, '180s')"),
		'succeeded', "$name on a distributed table succeeds");
}
CitusCluster::all_placements_are($coordinator, 'orders',
	q{SELECT string_agg(regexp_replace(conname, '_[0-9]+$', '') || '=' || convalidated, ','
	                    ORDER BY conname) FROM pg_constraint WHERE conrelid = '%s'::regclass
	   AND contype IN ('c', 'f')},
	'c_even=true,orders_customer_fk=true',
	'every placement has the check and the foreign key, validated, and no colmig check');
CitusCluster::all_placements_are($coordinator, 'orders',
	q{SELECT attnotnull FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = 'customer'},
	't', 'set_not_null: NOT NULL on every placement');
CitusCluster::all_placements_are($coordinator, 'orders',
	q{SELECT bool_and(i.indisvalid) AND count(*) = 1 FROM pg_index i JOIN pg_class c
	    ON c.oid = i.indexrelid WHERE i.indrelid = '%s'::regclass
	   AND c.relname LIKE 'orders_customer_idx%%'},
	't', 'create_index: a valid index on every placement');

# ---- A table another role owns, with odd names, in its own schema ---------
# The job's statements run as the owner; Citus gives each role its own
# connection to a node, so a statement of another role in the same step
# would wait there for the owner's lock.
$coordinator->safe_psql('postgres', q{
	CREATE ROLE shop_owner LOGIN;
	CREATE SCHEMA "Shop Data" AUTHORIZATION shop_owner;
	SET ROLE shop_owner;
	CREATE TABLE "Shop Data"."odd ""Orders""" (id bigint PRIMARY KEY, "Price" int NOT NULL);
	RESET ROLE;
	SELECT create_distributed_table('"Shop Data"."odd ""Orders"""', 'id', shard_count => 4);
	INSERT INTO "Shop Data"."odd ""Orders""" SELECT g, g % 100 FROM generate_series(1, 8000) g;});
$job = $coordinator->safe_psql('postgres', q{SET ROLE shop_owner;
	SELECT colmig.add_column('"Shop Data"."odd ""Orders"""', 'Total Due', 'int',
	                         backfill_expr => '"Price" + 1', not_null => true)});
is(wait_job($job), 'succeeded', 'a job on a table of another role, with odd names, succeeds');
is($coordinator->safe_psql('postgres', "SELECT lock_retries FROM colmig.jobs WHERE job_id = $job"),
	'0', 'its steps never waited for a lock');
CitusCluster::all_placements_are($coordinator, '"Shop Data"."odd ""Orders"""',
	q{SELECT count(*) FROM %s WHERE "Total Due" IS DISTINCT FROM "Price" + 1}, '0',
	'every placement of it is filled');
CitusCluster::all_placements_are($coordinator, '"Shop Data"."odd ""Orders"""',
	q{SELECT count(*) FROM pg_constraint WHERE conrelid = '%s'::regclass
	   AND left(conname, 7) = 'colmig_'}, '0', 'no colmig check left on it');
is($coordinator->safe_psql('postgres', q{SELECT attnotnull FROM pg_attribute
	WHERE attrelid = '"Shop Data"."odd ""Orders"""'::regclass AND attname = 'Total Due'}),
	't', 'NOT NULL is set on it');

# ---- A reference table: every placement the same ----------------------------
$job = $coordinator->safe_psql('postgres', q{
	SELECT colmig.add_column('ref', 'status', 'text', backfill_expr => $$'pending'$$,
	                         not_null => true)});
is(wait_job($job), 'succeeded', 'the reference table job succeeds');
my @sums = split /\n/, CitusCluster::on_placements($coordinator, 'ref',
	q{SELECT count(*) || ':' || md5(string_agg(id || '=' || status, ',' ORDER BY id)) FROM %s});
is(scalar(@sums), 3, 'the reference table has a placement on each of the three nodes');
my %distinct = map { (split / /)[2] => 1 } @sums;
is(scalar(keys %distinct), 1, 'every placement has the same rows and values')
  or diag join("\n", @sums);
CitusCluster::all_placements_are($coordinator, 'ref',
	q{SELECT count(*) FROM %s WHERE status IS DISTINCT FROM 'pending'}, '0',
	'every row of every reference placement is filled');
no_helpers_left('ref', 'reference table');

# ---- A shard job that fails fails the job; the others are cancelled --------
distributed_table('breaks', 4000, 4);
$job = $coordinator->safe_psql('postgres', q{
	SELECT colmig.add_column('breaks', 'c', 'int', backfill_expr => '100 / (v - 500)')});
is(final_state($job), 'failed', 'a fill that raises on one placement fails the job');
like($coordinator->safe_psql('postgres', "SELECT last_error FROM colmig.jobs WHERE job_id = $job"),
	qr/did not finish: shard \d+ .*division by zero/, "its error is the shard job's");
for my $worker ($worker1, $worker2) {
	ok($worker->poll_query_until('postgres', q{SELECT bool_and(state IN ('failed', 'cancelled')
		AND NOT cleanup_needed) FROM colmig.jobs WHERE operation = 'fill_shard'
		AND relation LIKE 'public.breaks%'}),
		'the shard jobs on ' . $worker->name . ' have ended and cleaned up');
}
no_helpers_left('breaks', 'after a shard job failed');

# ---- NOT NULL that does not hold: the check goes from every placement ------
distributed_table('holes', 4000, 4);
$job = $coordinator->safe_psql('postgres', q{
	SELECT colmig.add_column('holes', 'c', 'int', backfill_expr => 'nullif(v, 7)',
	                         not_null => true)});
is(final_state($job), 'failed', 'NOT NULL over a fill that leaves NULLs fails the job');
like($coordinator->safe_psql('postgres', "SELECT last_error FROM colmig.jobs WHERE job_id = $job"),
	qr/still has NULL values/, 'it says NULL values remain');
$coordinator->poll_query_until('postgres',
	"SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = $job")
  or diag 'cleanup did not finish';
for my $worker ($worker1, $worker2) {
	ok($worker->poll_query_until('postgres', q{SELECT bool_and(state = 'cancelled'
		AND NOT cleanup_needed) FROM colmig.jobs WHERE operation = 'fill_shard'
		AND relation LIKE 'public.holes%'}),
		'its filled shard jobs on ' . $worker->name . ' are cancelled and cleaned up');
}
no_helpers_left('holes', 'after NOT NULL failed');

# ---- Jobs that wait for shard jobs do not hold the workers those need -----
# The coordinator holds a placement of every reference table; with one
# colmig worker there, three jobs in fill_shards would hold it from their
# own shard jobs if waiting held a worker.
$coordinator->safe_psql('postgres', q{ALTER SYSTEM SET colmig.max_workers = 1});
$coordinator->reload;
my @waiting;
for my $n (1 .. 3) {
	$coordinator->safe_psql('postgres', qq{
		CREATE TABLE lookup$n (id int PRIMARY KEY, v int NOT NULL);
		SELECT create_reference_table('lookup$n');
		INSERT INTO lookup$n SELECT g, g FROM generate_series(1, 3000) g;});
}
push @waiting, $coordinator->safe_psql('postgres', qq{
	SELECT colmig.add_column('lookup$_', 'flag', 'int', backfill_expr => '1',
	                         not_null => true)}) for 1 .. 3;
is(join(',', map { wait_job($_) } @waiting), 'succeeded,succeeded,succeeded',
	'three reference table jobs succeed with one colmig worker on the coordinator');
CitusCluster::all_placements_are($coordinator, "lookup$_",
	q{SELECT count(*) FROM %s WHERE flag IS DISTINCT FROM 1}, '0',
	"lookup$_: every placement filled") for 1 .. 3;
$coordinator->safe_psql('postgres', q{ALTER SYSTEM RESET colmig.max_workers});
$coordinator->reload;

# ---- A shard job paused on its own node stays paused ----------------------
distributed_table('paused_here', 4000, 2);
for my $node (@nodes) {
	$node->safe_psql('postgres', q{ALTER SYSTEM SET colmig.batch_pause = '50ms'});
	$node->reload;
}
$job = $coordinator->safe_psql('postgres', q{
	SELECT colmig.add_column('paused_here', 'c', 'bigint', backfill_expr => 'v * 2',
	                         batch_size => 50)});
$worker1->poll_query_until('postgres', q{SELECT count(*) = 1 FROM colmig.jobs
	WHERE operation = 'fill_shard' AND relation LIKE 'public.paused_here%'
	  AND state = 'running'}) or die 'no shard job on worker1';
my $local = $worker1->safe_psql('postgres', q{SELECT job_id FROM colmig.jobs
	WHERE operation = 'fill_shard' AND relation LIKE 'public.paused_here%'});
$worker1->safe_psql('postgres', "SELECT colmig.pause($local)");
my $paused_at = $coordinator->safe_psql('postgres', 'SELECT clock_timestamp()');
# The coordinator looks about once a second; give it a few looks.
ok($coordinator->poll_query_until('postgres', qq{SELECT count(*) = 2 FROM colmig.progress_shards
	WHERE job_id = $job AND heard_at > '$paused_at'::timestamptz + interval '3 seconds'}),
	'the coordinator went on asking the nodes');
is($worker1->safe_psql('postgres', "SELECT state FROM colmig.jobs WHERE job_id = $local"),
	'paused', 'a shard job paused on its node is not resumed by the coordinator');
$worker1->safe_psql('postgres', "SELECT colmig.resume($local)");
is(wait_job($job), 'succeeded', 'resumed there, the job goes on and succeeds');
for my $node (@nodes) {
	$node->safe_psql('postgres', q{ALTER SYSTEM RESET colmig.batch_pause});
	$node->reload;
}

# ---- Slow jobs for the faults: 50 ms between batches of 100 rows ----------
for my $node (@nodes) {
	$node->safe_psql('postgres', q{ALTER SYSTEM SET colmig.batch_pause = '50ms'});
	$node->reload;
}

# The job's shard jobs are all filling, some way in.
sub filling {
	my ($table, $job) = @_;
	$coordinator->poll_query_until('postgres', qq{
		SELECT count(*) FILTER (WHERE phase IN ('backfill', 'sweep') AND rows_done > 0) >= 2
		  FROM colmig.progress_shards WHERE job_id = $job})
	  or die 'the shard jobs never started filling: '
	  . $coordinator->safe_psql('postgres', "SELECT * FROM colmig.progress_shards WHERE job_id = $job");
}

sub expected_values {
	my ($table, $name) = @_;
	CitusCluster::all_placements_are($coordinator, $table,
		q{SELECT count(*) FROM %s WHERE c IS DISTINCT FROM v * 2}, '0',
		"$name: every row of every placement has its expected value");
}

for my $fault (
	[ 'a worker node restarted', sub { $worker1->stop('immediate'); $worker1->start } ],
	[ 'the coordinator restarted', sub { $coordinator->stop('immediate'); $coordinator->start } ])
{
	my ($name, $inflict) = @$fault;
	my $table = $name =~ /worker/ ? 'restart_worker' : 'restart_coordinator';
	distributed_table($table, 40000, 4);
	$job = $coordinator->safe_psql('postgres', qq{
		SELECT colmig.add_column('$table', 'c', 'bigint', backfill_expr => 'v * 2',
		                         not_null => true, batch_size => 100)});
	filling($table, $job);
	$inflict->();
	is(wait_job($job), 'succeeded', "$name mid-job: the job resumes and succeeds");
	expected_values($table, $name);
	CitusCluster::all_placements_are($coordinator, $table,
		q{SELECT attnotnull FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = 'c'},
		't', "$name: NOT NULL on every placement");
	no_helpers_left($table, $name);
}

# ---- A shard moved mid-job: the job fails cleanly --------------------------
distributed_table('moved', 40000, 4);
$job = $coordinator->safe_psql('postgres', q{
	SELECT colmig.add_column('moved', 'c', 'bigint', backfill_expr => 'v * 2',
	                         not_null => true, batch_size => 100)});
filling('moved', $job);
$coordinator->safe_psql('postgres', q{
	SELECT citus_move_shard_placement(s.shardid, '127.0.0.1', } . $worker1->port
	  . q{, '127.0.0.1', } . $worker2->port . q{, shard_transfer_mode => 'block_writes')
	  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
	  JOIN pg_dist_node n USING (groupid)
	 WHERE s.logicalrelid = 'moved'::regclass AND n.nodeport = } . $worker1->port
	  . q{ ORDER BY s.shardid LIMIT 1});
is(final_state($job), 'failed', 'a shard moved mid-job: the job fails, it does not succeed');
like($coordinator->safe_psql('postgres', "SELECT last_error FROM colmig.jobs WHERE job_id = $job"),
	qr/shard placements of .* changed/, 'its error says the placements changed');
$coordinator->poll_query_until('postgres',
	"SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = $job")
  or diag 'cleanup did not finish';
for my $worker ($worker1, $worker2) {
	$worker->poll_query_until('postgres', q{SELECT count(*) = 0 FROM colmig.jobs
		WHERE operation = 'fill_shard' AND relation LIKE 'public.moved%'
		  AND (state IN ('queued', 'running', 'paused') OR cleanup_needed)})
	  or diag $worker->safe_psql('postgres', 'SELECT * FROM colmig.jobs');
}
no_helpers_left('moved', 'after the move');

# ---- Pause, resume and cancel reach the shard jobs --------------------------
distributed_table('controlled', 40000, 4);
$job = $coordinator->safe_psql('postgres', q{
	SELECT colmig.add_column('controlled', 'c', 'bigint', backfill_expr => 'v * 2',
	                         batch_size => 100)});
filling('controlled', $job);
ok($coordinator->poll_query_until('postgres', qq{SELECT throttled LIKE 'waits for % of 4 shard placements%'
	FROM colmig.progress WHERE job_id = $job}),
	'colmig.progress: a job between two looks says what it waits for');
$coordinator->safe_psql('postgres', "SELECT colmig.pause($job)");
for my $worker ($worker1, $worker2) {
	ok($worker->poll_query_until('postgres', q{SELECT bool_and(state = 'paused')
		FROM colmig.jobs WHERE operation = 'fill_shard' AND relation LIKE 'public.controlled%'}),
		'pausing the job pauses its shard jobs on ' . $worker->name);
}
# The coordinator's last look before the pause stays in progress_shards.
# (Parked between looks, a running job said what it waited for.)
is($coordinator->safe_psql('postgres', qq{SELECT percent > 0 AND percent < 100
	FROM colmig.progress WHERE job_id = $job}), 't',
	'colmig.progress: a paused distributed job shows how far its placements are');
is($coordinator->safe_psql('postgres', qq{SELECT count(*) FROM colmig.progress_shards
	WHERE job_id = $job AND percent BETWEEN 0 AND 100}), '4',
	'colmig.progress_shards: each placement shows how far it is');
$coordinator->safe_psql('postgres', "SELECT colmig.resume($job)");
for my $worker ($worker1, $worker2) {
	ok($worker->poll_query_until('postgres', q{SELECT bool_and(state = 'running')
		FROM colmig.jobs WHERE operation = 'fill_shard' AND relation LIKE 'public.controlled%'}),
		'resuming it resumes them on ' . $worker->name);
}
$coordinator->safe_psql('postgres', "SELECT colmig.cancel($job)");
is(final_state($job), 'cancelled', 'the job is cancelled');
for my $worker ($worker1, $worker2) {
	ok($worker->poll_query_until('postgres', q{SELECT bool_and(state = 'cancelled'
		AND NOT cleanup_needed) FROM colmig.jobs WHERE operation = 'fill_shard'
		AND relation LIKE 'public.controlled%'}),
		'cancelling it cancels and cleans up its shard jobs on ' . $worker->name);
}
no_helpers_left('controlled', 'after cancel');

# ---- Cancelled while the nodes answer its first look ----------------------
# The nodes commit the shard jobs they are asked to run at once; the
# coordinator records them even when the job is cancelled meanwhile, and
# its cleanup cancels them. The look is held up here at its record.
distributed_table('cancel_early', 4000, 2);
my $blocker = $coordinator->background_psql('postgres');
$blocker->query_safe('BEGIN');
$blocker->query_safe('LOCK colmig.shard_jobs IN EXCLUSIVE MODE');
$job = $coordinator->safe_psql('postgres', q{
	SELECT colmig.add_column('cancel_early', 'c', 'bigint', backfill_expr => 'v * 2')});
$coordinator->poll_query_until('postgres', q{SELECT EXISTS (SELECT 1 FROM pg_locks l
	JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted
	  AND l.relation = 'colmig.shard_jobs'::regclass AND a.backend_type = 'colmig worker')})
  or die 'the first look never reached its record';
$coordinator->safe_psql('postgres', "SELECT colmig.cancel($job)");
$blocker->query_safe('COMMIT');
$blocker->quit;
is(final_state($job), 'cancelled', 'the job cancelled during its first look is cancelled');
for my $worker ($worker1, $worker2) {
	ok($worker->poll_query_until('postgres', q{SELECT count(*) > 0 AND bool_and(state = 'cancelled'
		AND NOT cleanup_needed) FROM colmig.jobs WHERE operation = 'fill_shard'
		AND relation LIKE 'public.cancel_early%'}),
		'the shard jobs that look started on ' . $worker->name . ' are cancelled and cleaned up');
}
no_helpers_left('cancel_early', 'cancelled during its first look');

# ---- A lock on a worker's shard: the coordinator's DDL retries ---------------
for my $node (@nodes) {
	$node->safe_psql('postgres', q{ALTER SYSTEM RESET colmig.batch_pause});
	$node->reload;
}
distributed_table('locked', 1000, 2);
my $locked_shard = $worker1->safe_psql('postgres', q{
	SELECT 'public.' || shard_name('locked'::regclass, shardid) FROM pg_dist_shard
	 WHERE logicalrelid = 'locked'::regclass AND shardid IN
	       (SELECT shardid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
	         WHERE n.nodeport = } . $worker1->port . q{) LIMIT 1});
my $holder = $worker1->background_psql('postgres');
$holder->query_safe('SET citus.enable_manual_changes_to_shards = on');
$holder->query_safe('BEGIN');
$holder->query_safe("LOCK $locked_shard IN ACCESS SHARE MODE");
$job = $coordinator->safe_psql('postgres',
	q{SELECT colmig.add_column('locked', 'x', 'int', default_expr => '7')});
ok($coordinator->poll_query_until('postgres',
		"SELECT lock_retries >= 2 AND state = 'running' FROM colmig.jobs WHERE job_id = $job"),
	'a lock held on a worker node makes the job retry: its lock_timeout reached that node');
is($coordinator->safe_psql('postgres', q{SET statement_timeout = '20s';
	SELECT count(*) FROM locked}), '1000',
	'reads through the coordinator go on meanwhile');
$holder->query_safe('COMMIT');
$holder->quit;
is(wait_job($job), 'succeeded', 'once the lock is gone the job succeeds');
CitusCluster::all_placements_are($coordinator, 'locked',
	q{SELECT count(*) FROM %s WHERE x IS DISTINCT FROM 7}, '0',
	'the fast default is on every placement');

$_->stop for @nodes;
done_testing();
