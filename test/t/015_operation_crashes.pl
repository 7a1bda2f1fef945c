# Crashes (an immediate shutdown) inside the steps of the 0.2 operations,
# and a cancel in the middle of an index build:
#  1. create_index, held in the table scan of CREATE INDEX CONCURRENTLY
#     (an index expression that blocks on an advisory lock the test holds);
#  2. create_index, held in CONCURRENTLY's wait for older snapshots (an
#     open transaction): the index is built but not yet valid;
#  3. add_check, held in VALIDATE CONSTRAINT (the same lock, through the
#     CHECK expression);
#  4. cancel() while a build is held, and 5. while VALIDATE is held;
#  6. a cancel() that rolls back while a build is held.
# After each crash the job resumes by itself and succeeds; no invalid
# index, no index under the job's building name (colmig_<job>_index), no
# second constraint is left. A cancelled build leaves no index at all.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('opcrash');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
max_worker_processes = 16
colmig.launcher_naptime = 1s
colmig.batch_pause = 0
colmig.retry_max_delay = 200ms
colmig.lock_retries = 1000
restart_after_crash = on
});
$node->start;

# held(): returns its argument, but waits while another session holds
# advisory lock 4343 exclusively. Declared IMMUTABLE so that it may stand
# in an index expression; the session holding the lock passes through.
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE EXTENSION amcheck;
CREATE FUNCTION held(v bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(4343); RETURN v; END $$;
});

my $rows = 20000;
my $round = 0;

sub new_table {
	$round++;
	$node->safe_psql('postgres', qq{
		CREATE TABLE t$round (id bigint PRIMARY KEY, v int NOT NULL);
		INSERT INTO t$round SELECT g, g % 100 FROM generate_series(1, $rows) g;});
	return "t$round";
}

sub poll {
	my ($query, $what) = @_;
	$node->poll_query_until('postgres', $query) or die "timed out waiting for $what";
}

sub job_field {
	my ($job, $field) = @_;
	return $node->safe_psql('postgres', "SELECT $field FROM colmig.jobs WHERE job_id = $job");
}

# The job's worker is blocked on advisory lock 4343 (inside held()).
sub worker_held {
	my ($job) = @_;
	poll(q{SELECT EXISTS (
		SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		 WHERE l.locktype = 'advisory' AND l.objid = 4343 AND NOT l.granted
		   AND a.backend_type = 'colmig worker')}, "job ${job}'s worker at the gate");
}

sub wait_state {
	my ($job, $state) = @_;
	$node->poll_query_until('postgres',
		"SELECT state FROM colmig.jobs WHERE job_id = $job", $state)
	  or die "job $job did not end $state: "
	  . job_field($job, q{state || ' ' || phase || ' ' || coalesce(last_error, '')});
}

sub diag_job {
	my ($job) = @_;
	diag($node->safe_psql('postgres', qq{
		SELECT 'progress: ' || row_to_json(p) FROM colmig.progress p WHERE job_id = $job;
		SELECT 'create_index: ' || row_to_json(c) FROM pg_stat_progress_create_index c;
		SELECT 'lock: ' || row_to_json(l) FROM pg_locks l WHERE locktype = 'advisory';
		SELECT 'activity: ' || row_to_json(a) FROM pg_stat_activity a
		 WHERE backend_type = 'colmig worker';}));
}

# Neither an invalid index nor one under a building name on the table.
sub no_index_debris {
	my ($table, $what) = @_;
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_index WHERE indrelid = '$table'::regclass
		   AND NOT (indisvalid AND indisready AND indislive)}),
		'0', "$what: no invalid index on the table");
	is($node->safe_psql('postgres',
		q{SELECT string_agg(relname, ', ') FROM pg_class WHERE relname LIKE 'colmig\_%\_index'}),
		'', "$what: no index under a building name");
}

sub crash {
	$node->stop('immediate');
	$node->start;
}

# 1. A crash while CREATE INDEX CONCURRENTLY scans the table.
{
	my $table = new_table();
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('SELECT pg_advisory_lock(4343)');
	my $job = $node->safe_psql('postgres',
		"SELECT colmig.create_index('$table', '${table}_held', '(held(id))')");
	worker_held($job);
	is($node->safe_psql('postgres', qq{
		SELECT phase || ' / ' || coalesce(index_phase, '?') || ' / ' || step
		  FROM colmig.progress WHERE job_id = $job}),
		'build_index / building index: scanning table / 1 of 2',
		'held build: colmig.progress shows the build in its table scan')
	  or diag_job($job);
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_stat_progress_create_index
		 WHERE relid = '$table'::regclass AND command = 'CREATE INDEX CONCURRENTLY'}),
		'1', 'held build: pg_stat_progress_create_index shows it');
	is($node->safe_psql('postgres', qq{
		SELECT c.relname || ' ' || i.indisvalid FROM pg_index i
		  JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE i.indrelid = '$table'::regclass AND NOT i.indisprimary}),
		"colmig_${job}_index false", 'held build: the index is there, invalid, under the job\'s name');
	# The crash ends the holder's session too, which opens the gate.
	crash();
	eval { $holder->quit };
	wait_state($job, 'succeeded');
	is($node->safe_psql('postgres', qq{
		SELECT indisvalid FROM pg_index WHERE indexrelid = '${table}_held'::regclass}),
		't', 'crash in the build scan: the resumed job built the index, valid');
	no_index_debris($table, 'crash in the build scan');
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_index WHERE indrelid = '$table'::regclass}),
		'2', 'crash in the build scan: the primary key and the one index');
	# Every row is in the index (heapallindexed).
	$node->safe_psql('postgres', "SELECT bt_index_check('${table}_held', true)");
	pass('crash in the build scan: amcheck finds every row in the index');
	ok($node->log_contains("colmig: job $job: build_index done"),
		'the server log shows the resumed build');
}

# 2. A crash while CREATE INDEX CONCURRENTLY waits for an older snapshot:
#    the index has been built and validated against the table but is not
#    valid yet.
{
	my $table = new_table();
	my $reader = $node->background_psql('postgres');
	$reader->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1;');
	my $job = $node->safe_psql('postgres',
		"SELECT colmig.create_index('$table', '${table}_v', 'v, id DESC', is_unique => true)");
	$node->poll_query_until('postgres', qq{
		SELECT index_phase = 'waiting for old snapshots' FROM colmig.progress WHERE job_id = $job})
	  or (diag_job($job), die 'timed out waiting for the build to wait for old snapshots');
	is($node->safe_psql('postgres', qq{
		SELECT i.indisready::text || ' ' || i.indisvalid FROM pg_index i
		  JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'colmig_${job}_index'}),
		'true false', 'waiting build: its index is ready but not valid');
	crash();
	eval { $reader->quit };
	wait_state($job, 'succeeded');
	is($node->safe_psql('postgres', qq{
		SELECT indisunique::text || ' ' || indisvalid FROM pg_index
		 WHERE indexrelid = '${table}_v'::regclass}),
		'true true', 'crash waiting for old snapshots: a valid unique index after the resume');
	no_index_debris($table, 'crash waiting for old snapshots');
	$node->safe_psql('postgres', "SELECT bt_index_check('${table}_v', true)");
	pass('crash waiting for old snapshots: amcheck finds every row in the index');
}

# 3. A crash while VALIDATE CONSTRAINT scans the table.
{
	my $table = new_table();
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('SELECT pg_advisory_lock(4343)');
	my $job = $node->safe_psql('postgres',
		"SELECT colmig.add_check('$table', '${table}_positive', 'held(id) > 0 AND v >= 0')");
	worker_held($job);
	is($node->safe_psql('postgres',
		"SELECT phase || ' / ' || step FROM colmig.progress WHERE job_id = $job"),
		'validate_constraints / 2 of 2', 'held VALIDATE: colmig.progress shows the validation');
	is($node->safe_psql('postgres', qq{
		SELECT conname || ' ' || convalidated FROM pg_constraint
		 WHERE conrelid = '$table'::regclass AND contype = 'c'}),
		"${table}_positive false", 'held VALIDATE: the constraint is there, NOT VALID');
	crash();
	eval { $holder->quit };
	wait_state($job, 'succeeded');
	is($node->safe_psql('postgres', qq{
		SELECT string_agg(conname || ' ' || convalidated, ', ') FROM pg_constraint
		 WHERE conrelid = '$table'::regclass AND contype = 'c'}),
		"${table}_positive true", 'crash in VALIDATE: one constraint, valid, after the resume');
	my ($rc, $out, $err) = $node->psql('postgres', "INSERT INTO $table VALUES (-1, 1)");
	like($err, qr/violates check constraint "${table}_positive"/,
		'crash in VALIDATE: the constraint holds for new rows');
}

# 4. cancel() while the build is held. The cancel interrupts the build
#    (the gate is still closed when wait_job returns), the job's cleanup
#    drops what it built; opening the gate afterwards changes nothing.
{
	my $table = new_table();
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('SELECT pg_advisory_lock(4343)');
	my $job = $node->safe_psql('postgres',
		"SELECT colmig.create_index('$table', '${table}_held', '(held(id))')");
	worker_held($job);
	$node->safe_psql('postgres', "SELECT colmig.cancel($job)");
	is(job_field($job, 'state'), 'cancelled', 'cancel: the job says cancelled at once');
	# wait_job holds no snapshot: the cleanup's DROP INDEX CONCURRENTLY
	# does not wait for it.
	is($node->safe_psql('postgres', "CALL colmig.wait_job($job, '60s')"),
		'cancelled', 'cancel: wait_job returns cancelled while the build is still held')
	  or diag_job($job);
	$holder->query_safe('SELECT pg_advisory_unlock(4343)');
	$node->poll_query_until('postgres', q{SELECT NOT EXISTS (
		SELECT 1 FROM pg_stat_activity WHERE backend_type = 'colmig worker' AND state = 'active')})
	  or die 'a colmig worker stays active';
	is(job_field($job, q{state || ' ' || cleanup_needed || ' ' || (finished_at IS NOT NULL)}),
		'cancelled false true', 'cancel: cancelled, nothing left to clean up, finished');
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_index WHERE indrelid = '$table'::regclass AND NOT indisprimary}),
		'0', 'cancel: no index of the job remains, valid or invalid');
	is($node->safe_psql('postgres', "SELECT to_regclass('${table}_held') IS NULL"),
		't', 'cancel: the asked-for name was never taken');
	no_index_debris($table, 'cancel');
	$holder->quit;
}

# 5. cancel() while VALIDATE is held: the job ends cancelled, and the
#    constraint it added stays, NOT VALID (it holds for new rows).
{
	my $table = new_table();
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('SELECT pg_advisory_lock(4343)');
	my $job = $node->safe_psql('postgres',
		"SELECT colmig.add_check('$table', '${table}_positive', 'held(id) > 0')");
	worker_held($job);
	$node->safe_psql('postgres', "SELECT colmig.cancel($job)");
	is($node->safe_psql('postgres', "CALL colmig.wait_job($job, '60s')"),
		'cancelled', 'cancel in VALIDATE: wait_job returns cancelled while VALIDATE is held')
	  or diag_job($job);
	$holder->quit;
	is($node->safe_psql('postgres', qq{
		SELECT string_agg(conname || ' ' || convalidated, ', ') FROM pg_constraint
		 WHERE conrelid = '$table'::regclass AND contype = 'c'}),
		"${table}_positive false", 'cancel in VALIDATE: the constraint stays, NOT VALID');
}

# 6. A cancel() that rolls back stops nothing: the held build goes on
#    once the gate opens, and the job succeeds.
{
	my $table = new_table();
	my $holder = $node->background_psql('postgres');
	$holder->query_safe('SELECT pg_advisory_lock(4343)');
	my $job = $node->safe_psql('postgres',
		"SELECT colmig.create_index('$table', '${table}_held', '(held(id))')");
	worker_held($job);
	$node->safe_psql('postgres', "BEGIN; SELECT colmig.cancel($job); ROLLBACK;");
	$holder->query_safe('SELECT pg_advisory_unlock(4343)');
	$node->poll_query_until('postgres', qq{
		SELECT state IN ('succeeded', 'failed', 'cancelled') FROM colmig.jobs WHERE job_id = $job})
	  or die "job $job did not end";
	is(job_field($job, q{state || coalesce(': ' || last_error, '')}),
		'succeeded', 'rolled-back cancel: the job still succeeds');
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('${table}_held') AND indisvalid}),
		'1', 'rolled-back cancel: the index is there, valid');
	no_index_debris($table, 'rolled-back cancel');
	$holder->quit;
}

# 7. A DROP INDEX CONCURRENTLY cut off in the middle (its worker killed
#    while it waits for an older transaction, the index already invalid),
#    then the job cancelled: the cleanup finishes the drop instead of
#    leaving an invalid index that writes still maintain.
{
	my $table = new_table();
	$node->safe_psql('postgres', "CREATE INDEX ${table}_v ON $table (v)");
	my $reader = $node->background_psql('postgres');
	$reader->query_safe("BEGIN; SELECT count(*) FROM $table;");
	my $job = $node->safe_psql('postgres', "SELECT colmig.drop_index('${table}_v')");
	poll(qq{SELECT NOT indisvalid FROM pg_index WHERE indexrelid = '${table}_v'::regclass},
		"the drop of job $job to mark its index invalid");
	$node->safe_psql('postgres', q{
		SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		 WHERE backend_type = 'colmig worker' AND query LIKE 'DROP INDEX CONCURRENTLY%'});
	$node->safe_psql('postgres', "SELECT colmig.cancel($job)");
	$reader->query_safe('COMMIT;');
	$reader->quit;
	poll(qq{SELECT NOT cleanup_needed FROM colmig.jobs WHERE job_id = $job},
		"the cleanup of job $job");
	is(job_field($job, 'state'), 'cancelled', 'cut-off drop: the job ends cancelled');
	is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = '${table}_v'"),
		'0', 'cut-off drop: the cleanup finished the drop');
	no_index_debris($table, 'cut-off drop');
}

$node->stop;
done_testing();
