# Nothing of colmig's outlives its job, not even through pg_dump: a dump
# taken while jobs are paused, running, holding their NOT VALID check, or
# cancelled with their cleanup still pending restores (custom format
# through pg_restore, plain format through psql) into a database with no
# fill trigger, no colmig check and only the finished jobs' history.
# Internal triggers are not dumped, colmig.jobs is dumped with its finished
# rows only, and colmig_drop_orphaned_checks drops the restored check of a
# job that does not live there. DROP EXTENSION colmig CASCADE takes every
# helper along too.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
max_worker_processes = 16
colmig.max_workers = 8
colmig.launcher_naptime = 1s
colmig.retry_max_delay = 200ms
colmig.lock_retries = 1000
colmig.batch_pause = 0
});
$node->start;

# gate(key, value): a worker evaluating it waits for the advisory lock
# `key` the test holds. The worker's own lock_timeout turns each wait into
# a lock retry of the batch, so the job stays in the same place, retrying,
# until the test opens the gate.
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE FUNCTION gate(key int, value anyelement) RETURNS anyelement LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(key); RETURN value; END $$;
});
for my $t (1 .. 5) {
	$node->safe_psql('postgres', qq{
		CREATE TABLE t$t (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
		INSERT INTO t$t SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 5000) g;
		ANALYZE t$t;});
}

sub poll {
	my ($query, $what) = @_;
	$node->poll_query_until('postgres', $query) or die "timed out waiting for $what";
}

sub job_row {
	my ($db, $job, $columns) = @_;
	return $node->safe_psql($db, "SELECT $columns FROM colmig.jobs WHERE job_id = $job");
}

# Fill triggers and colmig checks in a database, counted by what marks
# them as colmig's (the function, the name), not by table.
sub fill_triggers {
	my ($db, $where) = @_;
	$where //= 'true';
	return $node->safe_psql($db, qq{
		SELECT count(*) FROM pg_trigger
		 WHERE (tgfoid = 'colmig.fill_column'::regproc OR tgname LIKE '~colmig\\_fill\\_%')
		   AND $where});
}

sub colmig_checks {
	my ($db) = @_;
	return $node->safe_psql($db,
		q{SELECT count(*) FROM pg_constraint WHERE conname LIKE 'colmig\_%\_not\_null'});
}

# Runs a client program against the node; returns its success and stderr.
sub run_tool {
	my @cmd = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	note join(' ', @cmd), " stderr:\n$err" if $err ne '';
	return ($ok, $err);
}
my @conn = ('-h', $node->host, '-p', $node->port);

# One session holds every gate's advisory lock.
my $gates = $node->background_psql('postgres');
$gates->query_safe(
	'SELECT pg_advisory_lock(4241), pg_advisory_lock(4242), pg_advisory_lock(4243), pg_advisory_lock(4245)');

# 4. A finished job: its row is history, the one kind pg_dump keeps.
my $done = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('t4', 'total', 'numeric',
	                         backfill_expr => 'price * qty', not_null => true)});
is($node->safe_psql('postgres', "SELECT colmig.wait($done, '60s')"),
	'succeeded', 'the finished job succeeded before the dump');

# 1. A job paused in the middle of its backfill: rows up to id 1000 pass,
#    the first batch beyond waits at the gate, so some batches committed
#    and the fill trigger is in place.
my $paused = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('t1', 'total', 'numeric',
	       backfill_expr => 'CASE WHEN id <= 1000 THEN price * qty ELSE gate(4241, price * qty) END',
	       batch_size => 100, compact => false)});
poll("SELECT lock_retries > 0 FROM colmig.jobs WHERE job_id = $paused",
	"job $paused to wait at its gate");
$node->safe_psql('postgres', "SELECT colmig.pause($paused)");
$gates->query_safe('SELECT pg_advisory_unlock(4241)');
poll("SELECT state = 'paused' AND worker_pid IS NULL FROM colmig.progress WHERE job_id = $paused",
	"job $paused to stop, paused");
is(job_row('postgres', $paused, q{state || ' ' || phase || ' ' || (cursor_page > 0 AND cursor_page < end_page)}),
	'paused backfill true', 'paused job: stopped with part of its backfill done');

# 2. A running job whose worker waits at the gate at dump time.
my $running = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('t2', 'total', 'numeric',
	       backfill_expr => 'gate(4242, price * qty)', batch_size => 100)});
poll("SELECT lock_retries > 0 FROM colmig.jobs WHERE job_id = $running",
	"job $running to wait at its gate");

# 3. A not_null job holding its NOT VALID check at dump time. VALIDATE
#    needs SHARE UPDATE EXCLUSIVE, but so does any lock strong enough to
#    block the step that adds the check (ACCESS EXCLUSIVE): the test's lock
#    must come between the two without racing the worker. An event trigger
#    holds the worker inside the step that added the check, at ALTER TABLE's
#    end; the test's LOCK TABLE then queues behind the worker's ACCESS
#    EXCLUSIVE and is granted the moment that step commits, before the
#    worker asks for the lock to validate.
$node->safe_psql('postgres', q{
CREATE FUNCTION hold_check_step() RETURNS event_trigger LANGUAGE plpgsql
	SET lock_timeout = 0 SET search_path = pg_catalog, public AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() cmd
	             JOIN pg_constraint c ON c.conrelid = cmd.objid
	            WHERE cmd.classid = 'pg_class'::regclass AND cmd.objid = 'public.t3'::regclass
	              AND c.conname LIKE 'colmig\_%\_not\_null') THEN
		PERFORM pg_advisory_xact_lock_shared(4243);
	END IF;
END $$;
CREATE EVENT TRIGGER hold_check_step ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
	EXECUTE FUNCTION hold_check_step();
});
my $checked = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('t3', 'total', 'numeric',
	                         backfill_expr => 'price * qty', not_null => true)});
poll(q{SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4243 AND NOT granted)},
	"job $checked to add its check");
is(job_row('postgres', $checked, 'phase'), 'add_not_null_check',
	'not_null job: held in the step that adds its check');
my $locker = $node->background_psql('postgres');
my $locker_pid = $locker->query_safe('SELECT pg_backend_pid()');
$locker->query_until(qr/lock requested/,
	"\\echo lock requested\nBEGIN;\nLOCK TABLE t3 IN SHARE UPDATE EXCLUSIVE MODE;\n");
poll(qq{SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $locker_pid
                         AND relation = 't3'::regclass AND NOT granted)},
	'the LOCK TABLE to queue behind the worker');
$gates->query_safe('SELECT pg_advisory_unlock(4243)');
poll(qq{SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $locker_pid
                         AND relation = 't3'::regclass AND mode = 'ShareUpdateExclusiveLock' AND granted)},
	'the LOCK TABLE to be granted');
# The event trigger has done its work; it must not be in the dump.
$node->safe_psql('postgres', 'DROP EVENT TRIGGER hold_check_step; DROP FUNCTION hold_check_step()');
my $retries = job_row('postgres', $checked, 'lock_retries');
poll("SELECT phase = 'validate_not_null_check' AND lock_retries > $retries
        FROM colmig.jobs WHERE job_id = $checked",
	"job $checked to retry VALIDATE");
is($node->safe_psql('postgres', qq{
	SELECT string_agg(conname || ' ' || convalidated, ',') FROM pg_constraint
	 WHERE conrelid = 't3'::regclass AND contype = 'c'}),
	"colmig_${checked}_not_null false",
	'not_null job: its NOT VALID check exists at dump time');

# 5. A cancelled job whose cleanup waits for a lock (cleanup_needed).
my $cancelled = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('t5', 'total', 'numeric',
	       backfill_expr => 'gate(4245, price * qty)', batch_size => 100)});
poll("SELECT lock_retries > 0 FROM colmig.jobs WHERE job_id = $cancelled",
	"job $cancelled to wait at its gate");
my $reader = $node->background_psql('postgres');
$reader->query_safe('BEGIN; SELECT count(*) FROM t5;');
$node->safe_psql('postgres', "SELECT colmig.cancel($cancelled)");
$gates->query_safe('SELECT pg_advisory_unlock(4245)');
poll(qq{SELECT state = 'cancelled' AND cleanup_needed AND last_error LIKE '%removing helper objects%'
          FROM colmig.jobs WHERE job_id = $cancelled},
	"job $cancelled to retry its cleanup");

# What is in place at dump time.
is(job_row('postgres', $running, 'state'), 'running', 'running job: still running at dump time');
is(fill_triggers('postgres', q{tgisinternal AND tgenabled = 'A'}), '4',
	'four internal fill triggers (paused, running, not_null, cancelled jobs) at dump time');
is(colmig_checks('postgres'), '1', 'one colmig check at dump time');

my %sums;
for my $t (1 .. 5) {
	$sums{"t$t"} = $node->safe_psql('postgres',
		"SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) FROM t$t t");
}

my $dir = PostgreSQL::Test::Utils::tempdir;
my ($ok, $err) = run_tool('pg_dump', @conn, '-Fc', '-f', "$dir/dump.custom", 'postgres');
ok($ok, 'pg_dump -Fc while the jobs live');
($ok, $err) = run_tool('pg_dump', @conn, '-Fp', '-f', "$dir/dump.sql", 'postgres');
ok($ok, 'pg_dump -Fp while the jobs live');
# What the restores below must deal with: the check is in the dump (so its
# absence afterwards is the event trigger's work), the internal triggers
# are not.
my $plain = slurp_file("$dir/dump.sql");
like($plain, qr/ADD CONSTRAINT colmig_${checked}_not_null CHECK .*colmig\.check_of_job.* NOT VALID;/,
	'the dump holds the not_null job\'s NOT VALID check');
unlike($plain, qr/colmig_fill|fill_column\(\)\s*;/, 'the dump holds no fill trigger');

# The restored database, however it was restored.
sub check_restored {
	my ($db, $how) = @_;
	is(fill_triggers($db), '0', "$how: no trigger calls colmig.fill_column");
	is(colmig_checks($db), '0', "$how: no colmig_<job>_not_null check");
	is($node->safe_psql($db,
			q{SELECT string_agg(job_id || ' ' || state, ',' ORDER BY job_id) FROM colmig.jobs}),
		"$done succeeded", "$how: colmig.jobs holds only the finished job");
	for my $t (1 .. 5) {
		is($node->safe_psql($db,
				"SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) FROM t$t t"),
			$sums{"t$t"}, "$how: t$t has every row as dumped");
	}
	is($node->safe_psql($db,
			"SELECT attnotnull FROM pg_attribute WHERE attrelid = 't4'::regclass AND attname = 'total'"),
		't', "$how: the finished job's NOT NULL came along");
	# Nothing fills the new columns and nothing rejects a NULL in them.
	my ($rc, $stdout, $stderr) = $node->psql($db, q{
		INSERT INTO t1 (id, price, qty) VALUES (100001, 1, 1);
		INSERT INTO t2 (id, price, qty) VALUES (100001, 1, 1);
		INSERT INTO t3 (id, price, qty) VALUES (100001, 1, 1);
		INSERT INTO t5 (id, price, qty) VALUES (100001, 1, 1);
		SELECT count(*) FROM (SELECT total FROM t1 WHERE id = 100001 UNION ALL
		                      SELECT total FROM t2 WHERE id = 100001 UNION ALL
		                      SELECT total FROM t3 WHERE id = 100001 UNION ALL
		                      SELECT total FROM t5 WHERE id = 100001) s WHERE total IS NULL;});
	is("$rc $stdout", '0 4',
		"$how: INSERTs omitting the new columns succeed and leave them NULL")
	  or diag $stderr;
}

# The dump sets client_min_messages = warning, so the restoring client
# never sees the NOTICE: the restore sessions log it instead.
my $dropped = qr/NOTICE:  colmig: dropped check "colmig_${checked}_not_null" of public\.t3: colmig job $checked/;
sub restore {
	local $ENV{PGOPTIONS} = '-c log_min_messages=notice';
	return run_tool(@_);
}

$node->safe_psql('postgres', 'CREATE DATABASE restored_custom');
my $log_offset = -s $node->logfile;
($ok, $err) = restore('pg_restore', @conn, '-d', 'restored_custom', "$dir/dump.custom");
ok($ok, 'pg_restore into a fresh database succeeds');
ok($node->log_contains($dropped, $log_offset),
	'pg_restore: the restored check was dropped, with a notice');
check_restored('restored_custom', 'custom dump');

# A new job there takes an id past every dumped one: no name of its
# helpers can meet a dumped one.
my $new_job = $node->safe_psql('restored_custom', q{
	SELECT colmig.add_column('t3', 'extra', 'int', default_expr => '1', not_null => true)});
cmp_ok($new_job, '>', $cancelled, 'custom dump: a new job gets an id past the dumped ones');
is($node->safe_psql('restored_custom', "SELECT colmig.wait($new_job, '60s')"),
	'succeeded', 'custom dump: colmig runs jobs in the restored database');

$node->safe_psql('postgres', 'CREATE DATABASE restored_plain');
$log_offset = -s $node->logfile;
($ok, $err) = restore('psql', @conn, '-X', '-q', '-v', 'ON_ERROR_STOP=1',
	'-d', 'restored_plain', '-f', "$dir/dump.sql");
ok($ok, 'the plain dump restores through psql');
ok($node->log_contains($dropped, $log_offset),
	'plain dump: the restored check was dropped, with a notice');
check_restored('restored_plain', 'plain dump');

# The jobs in the original database are as the dump left them.
is($node->safe_psql('postgres', qq{
	SELECT string_agg(job_id || ' ' || state, ',' ORDER BY job_id) FROM colmig.jobs
	 WHERE job_id IN ($paused, $running, $checked, $cancelled)}),
	join(',', map { "$_->[0] $_->[1]" } sort { $a->[0] <=> $b->[0] }
		([$paused, 'paused'], [$running, 'running'], [$checked, 'running'], [$cancelled, 'cancelled'])),
	'original: the dump changed no job');

# DROP EXTENSION colmig CASCADE in the original database, with helpers in
# place: pause the live jobs and open the gate and locks, so that they stop
# where they are (the cancelled job finishes its cleanup).
$node->safe_psql('postgres', "SELECT colmig.pause($running); SELECT colmig.pause($checked)");
$gates->query_safe('SELECT pg_advisory_unlock(4242)');
$locker->query_safe('COMMIT');
$reader->query_safe('COMMIT');
poll(qq{SELECT count(*) = 3 FROM colmig.progress
         WHERE job_id IN ($paused, $running, $checked) AND state = 'paused' AND worker_pid IS NULL},
	'the live jobs to stop, paused');
poll("SELECT state = 'cancelled' AND NOT cleanup_needed FROM colmig.jobs WHERE job_id = $cancelled",
	"job $cancelled to finish its cleanup");
is(fill_triggers('postgres', q{tgrelid = 't5'::regclass}), '0',
	'cancelled job: its cleanup removed its trigger once the lock went');
is(fill_triggers('postgres'), '3', 'before DROP EXTENSION: the paused jobs still have their triggers');
is(colmig_checks('postgres'), '1', 'before DROP EXTENSION: the not_null job still has its check');

$node->safe_psql('postgres', 'DROP EXTENSION colmig CASCADE');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_trigger WHERE tgname LIKE '~colmig%'}),
	'0', 'DROP EXTENSION colmig CASCADE: no fill trigger left');
is(colmig_checks('postgres'), '0', 'DROP EXTENSION colmig CASCADE: no colmig check left');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_constraint WHERE conrelid IN ('t1'::regclass, 't2'::regclass, 't3'::regclass)}),
	'3', 'DROP EXTENSION colmig CASCADE: only the primary keys remain on the tables');

$gates->quit;
$locker->quit;
$reader->quit;
$node->stop;
done_testing();
