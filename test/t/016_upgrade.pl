# The first upgrade script, colmig--0.1--0.2.sql, on a cluster that has
# run colmig 0.1 (git commit d9ad238 of this repository, built here with
# PGXS into a private copy of the PostgreSQL installation):
#  - jobs of every kind 0.1 leaves behind survive the new library and the
#    update: finished ones (with and without a backfill), one paused in
#    the middle of its backfill, one running in the middle of its backfill
#    when the server stopped, one queued with a start_at;
#  - until ALTER EXTENSION UPDATE the new library touches none of them and
#    its API refuses to make jobs in the old tables;
#  - after it colmig.progress shows them as add_column jobs with their
#    column as target and a plan, the running and the queued one go on by
#    themselves, the paused one when resumed, every row ends filled;
#  - the operations of 0.2 work on the updated extension.
#
# The repository (for `git archive`) is $COLMIG_REPO, else the tree the
# test runs from when it is a git checkout. test/run runs the tests from a
# copy without .git, so it must export COLMIG_REPO.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $old_commit = 'd9ad238';

my $repo = $ENV{COLMIG_REPO};
$repo = abs_path('.') if !defined $repo && -e '.git';
unless (defined $repo && -e "$repo/.git")
{
	fail('the colmig git repository is found: set COLMIG_REPO '
		  . '(test/run runs the tests from a copy without .git)');
	done_testing();
	exit;
}

# A shallow clone may lack 0.1's commit: fetch it if the remote is there,
# and otherwise say plainly that this test could not run.
sub has_old_commit {
	return system('git', '-c', 'safe.directory=*', '-C', $repo, 'cat-file', '-e',
		"$old_commit^{commit}") == 0;
}
unless (has_old_commit())
{
	system('git', '-c', 'safe.directory=*', '-C', $repo, 'fetch', '--quiet', '--unshallow');
	plan skip_all => "commit $old_commit (colmig 0.1) is not in $repo and could not be fetched"
	  unless has_old_commit();
}

# The installation the tests run against, and a private copy of it.
chomp(my $pg_config = `which pg_config`);
die "no pg_config in PATH" unless $pg_config;
my %dir;
for my $what (qw(bindir pkglibdir sharedir)) {
	chomp($dir{$what} = `$pg_config --$what`);
}
my $install_root = dirname($dir{bindir});    # /usr/lib/postgresql/15
my $base = "$PostgreSQL::Test::Utils::tmp_check/upgrade";
my $private = "$base/root";
my $src = "$base/colmig-$old_commit";
remove_tree($base);
make_path($src, "$private" . dirname($install_root), "$private" . dirname($dir{sharedir}));

# 1. Build 0.1 (once) and install it into a private copy of the
#    installation: the binaries find their lib and share directories
#    relative to themselves.
{
	my $t0 = time;
	run_log([ 'git', '-c', 'safe.directory=*', '-C', $repo, 'archive', $old_commit ],
		'|', [ 'tar', '-x', '-C', $src ])
	  or die "git archive $old_commit of $repo failed";
	# Not the outer make's jobserver or command-line variables.
	local %ENV = %ENV;
	delete @ENV{qw(MAKEFLAGS MAKELEVEL MFLAGS MAKEOVERRIDES)};
	my $log = "$base/build-$old_commit.log";
	run_log([ 'make', '-C', $src, '-s', '-j2', "PG_CONFIG=$pg_config", 'with_llvm=no' ],
		'>', $log, '2>&1')
	  or die "building colmig $old_commit failed:\n" . slurp_file($log);
	for my $tree ($install_root, $dir{sharedir}) {
		run_log([ 'cp', '-a', $tree, "$private" . dirname($tree) . '/' ])
		  or die "copying $tree failed";
	}
	unlink "$private$dir{pkglibdir}/colmig.so", glob("$private$dir{sharedir}/extension/colmig*");
	remove_tree("$private$dir{pkglibdir}/bitcode/colmig");
	unlink "$private$dir{pkglibdir}/bitcode/colmig.index.bc";
	run_log([ 'make', '-C', $src, '-s', 'install', "DESTDIR=$private",
			"PG_CONFIG=$pg_config", 'with_llvm=no' ], '>>', $log, '2>&1')
	  or die "installing colmig $old_commit failed:\n" . slurp_file($log);
	note sprintf('colmig %s built and installed in %.0f s', $old_commit, time - $t0);
}

my $node = PostgreSQL::Test::Cluster->new('old', install_path => "$private$install_root");
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
max_worker_processes = 16
colmig.launcher_naptime = 1s
colmig.batch_pause = 0
colmig.retry_max_delay = 200ms
colmig.lock_retries = 1000
});
$node->start;

sub poll {
	my ($query, $what) = @_;
	$node->poll_query_until('postgres', $query) or die "timed out waiting for $what";
}

sub job_row {
	my ($job, $fields) = @_;
	return $node->safe_psql('postgres', "SELECT $fields FROM colmig.jobs WHERE job_id = $job");
}

# 2. Jobs under 0.1.
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig VERSION '0.1';
-- Lets rows up to id 15000 through, then waits while another session
-- holds advisory lock 4242: a backfill stops in its middle.
CREATE FUNCTION gate_after(id bigint, v anyelement) RETURNS anyelement LANGUAGE plpgsql AS $$
BEGIN
    IF id > 15000 THEN PERFORM pg_advisory_xact_lock_shared(4242); END IF;
    RETURN v;
END $$;
CREATE TABLE orders (id bigint PRIMARY KEY, price numeric NOT NULL, qty int NOT NULL);
INSERT INTO orders SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, 30000) g;
CREATE TABLE paused_t (LIKE orders INCLUDING ALL);
INSERT INTO paused_t SELECT * FROM orders;
CREATE TABLE running_t (LIKE orders INCLUDING ALL);
INSERT INTO running_t SELECT * FROM orders;
});
is($node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'colmig'}),
	'0.1', 'colmig 0.1 is installed');

my %job;
$job{done} = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'total', 'numeric',
	                         backfill_expr => 'price * qty', not_null => true)});
$job{fast} = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'flag', 'boolean', default_expr => 'false')});
for my $j (@job{qw(done fast)}) {
	is($node->safe_psql('postgres', "SELECT colmig.wait($j, '60s')"), 'succeeded',
		"0.1: job $j succeeds");
}

my $holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(4242)');

sub mid_backfill {
	my ($table) = @_;
	my $j = $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('$table', 'p', 'int',
		                         backfill_expr => 'gate_after(id, qty * 2)', batch_size => 500)});
	poll(qq{SELECT phase = 'backfill' AND cursor_page > 0 AND rows_done >= 10000
	          FROM colmig.jobs WHERE job_id = $j}, "job $j in the middle of its backfill");
	poll(qq{SELECT EXISTS (SELECT 1 FROM pg_locks
	          WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted)},
		"job $j at the gate");
	return $j;
}
$job{running} = mid_backfill('running_t');
$job{paused} = mid_backfill('paused_t');
$node->safe_psql('postgres', "SELECT colmig.pause($job{paused})");
# Queued: it may start 20 seconds from now, a while after the update.
$job{queued} = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('orders', 'q', 'text', backfill_expr => $$'q' || id$$,
	                         start_at => now() + interval '20 seconds')});

my $snapshot_sql = q{
	SELECT string_agg(concat_ws(' ', job_id, operation, column_name, state, phase,
	                            cursor_page, end_page, rows_done, cleanup_needed), E'\n'
	                  ORDER BY job_id) FROM colmig.jobs};
my $before = $node->safe_psql('postgres', $snapshot_sql);
note "jobs under 0.1:\n$before";
is(job_row($job{paused}, 'state'), 'paused', 'the paused job is paused');
is(job_row($job{queued}, q{state || ' ' || (start_at > now())}), 'queued true',
	'the queued job waits for its start_at');

# 3. Stop, install the new version over the old one, start.
$node->stop;
eval { $holder->quit };
copy("$dir{pkglibdir}/colmig.so", "$private$dir{pkglibdir}/colmig.so")
  or die "copying colmig.so: $!";
for my $file (("$dir{sharedir}/extension/colmig.control", glob("$dir{sharedir}/extension/colmig--*.sql"))) {
	copy($file, "$private$dir{sharedir}/extension/") or die "copying $file: $!";
}
my $log_offset = -s $node->logfile;
$node->start;

# The new library's first worker looks at the database and leaves the
# jobs of the old tables alone.
ok($node->wait_for_log(qr/extension in this database is version 0\.1, this library needs 0\.5/,
		$log_offset),
	'the new library sees the old extension and waits');
my ($rc, $out, $err) = $node->psql('postgres', q{SELECT colmig.add_column('orders', 'early', 'int')});
like($err, qr/colmig's SQL objects are version 0\.1, but its library is 0\.5/,
	'before the update the API refuses to make a job');
is($node->safe_psql('postgres', $snapshot_sql), $before,
	'before the update no job has changed');

# 4. The update. The gate is closed again, so that the running job, once
#    it goes on, stops where it stood while its progress is checked.
$holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(4242)');
$node->safe_psql('postgres', 'ALTER EXTENSION colmig UPDATE');
is($node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'colmig'}),
	'0.5', 'extversion is 0.5 (0.1 -> 0.2 -> 0.3 -> 0.4 -> 0.5)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM colmig.jobs WHERE job_id IN (}
		. join(', ', values %job) . ')'),
	'5', 'every job is still there');

my $backfill_plan = '{add_column_for_backfill,backfill,sweep,verify,drop_fill_trigger}';
my %expect = (
	done => [ 'orders', 'total', 'succeeded', 'done', '8 of 8',
		'{add_column_for_backfill,backfill,sweep,verify,add_not_null_check,'
		  . 'validate_not_null_check,set_not_null,drop_fill_trigger}' ],
	fast => [ 'orders', 'flag', 'succeeded', 'done', '1 of 1', '{add_column}' ],
	running => [ 'running_t', 'p', 'running', 'backfill', '2 of 5', $backfill_plan ],
	paused => [ 'paused_t', 'p', 'paused', 'backfill', '2 of 5', $backfill_plan ],
	queued => [ 'orders', 'q', 'queued', 'queued', '0 of 5', $backfill_plan ]);
is(job_row($job{queued}, 'start_at > now()'), 't',
	'the queued job is not due yet (else the checks below came too late)');
for my $kind (sort keys %expect) {
	my $j = $job{$kind};
	is($node->safe_psql('postgres', qq{
		SELECT concat_ws(' | ', p.operation, p.relation, p.target, p.state, p.phase, p.step, j.plan,
		                 (p.column_name = p.target)::text)
		  FROM colmig.progress p JOIN colmig.jobs j USING (job_id) WHERE job_id = $j}),
		join(' | ', 'add_column', @{ $expect{$kind} }, 'true'),
		"the $kind job in colmig.progress after the update");
}
is($node->safe_psql('postgres', qq{
	SELECT string_agg(job_id || ' ' || percent, ', ' ORDER BY job_id) FROM colmig.progress
	 WHERE job_id IN ($job{running}, $job{paused}) AND percent > 0 AND percent < 100}),
	"$job{running} "
	  . job_row($job{running}, 'round(100.0 * cursor_page / end_page, 1)')
	  . ", $job{paused} "
	  . job_row($job{paused}, 'round(100.0 * cursor_page / end_page, 1)'),
	'the interrupted backfills show their percent');

# 5. The job that was running and the queued one go on by themselves (the
#    launcher is not told about them: nothing is created or resumed).
$holder->query_safe('SELECT pg_advisory_unlock(4242)');
sub ends_within {
	my ($j, $seconds) = @_;
	my $deadline = time + $seconds;
	while (time < $deadline) {
		my $state = job_row($j, 'state');
		return $state if $state =~ /^(succeeded|failed|cancelled)$/;
		select(undef, undef, undef, 0.1);
	}
	return job_row($j, q{state || ' in ' || phase});
}
is(ends_within($job{running}, 30), 'succeeded',
	'the job that was running when the server stopped resumes by itself after the update');
is(ends_within($job{queued}, 20 + job_row($job{queued}, 'greatest(0, extract(epoch FROM start_at - now()))')),
	'succeeded',
	'the queued job starts by itself after the update');

# 6. Resume the paused job; every job ends succeeded, every row filled.
is(job_row($job{paused}, 'state'), 'paused', 'the paused job stayed paused');
$node->safe_psql('postgres', "SELECT colmig.resume($job{paused})");
for my $kind (qw(paused running queued)) {
	is($node->safe_psql('postgres', "CALL colmig.wait_job($job{$kind}, '60s')"),
		'succeeded', "the $kind job succeeds");
}
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM running_t WHERE p IS DISTINCT FROM qty * 2)
	     + (SELECT count(*) FROM paused_t WHERE p IS DISTINCT FROM qty * 2)
	     + (SELECT count(*) FROM orders WHERE q IS DISTINCT FROM 'q' || id
	                                    OR total IS DISTINCT FROM price * qty
	                                    OR flag IS DISTINCT FROM false)}),
	'0', 'every row of every job is filled');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	 WHERE c.relname IN ('orders', 'running_t', 'paused_t')}),
	'0', 'no fill trigger is left');
is($node->safe_psql('postgres', qq{
	SELECT string_agg(rows_done::text, ' ' ORDER BY job_id) FROM colmig.jobs
	 WHERE job_id IN ($job{running}, $job{paused})}),
	'30000 30000', 'the resumed backfills count every row once');

# 7. The operations of 0.2.
my $check = $node->safe_psql('postgres',
	q{SELECT colmig.add_check('orders', 'orders_qty_positive', 'qty > 0')});
is($node->safe_psql('postgres', "CALL colmig.wait_job($check, '60s')"), 'succeeded',
	'add_check succeeds after the update');
is($node->safe_psql('postgres', q{
	SELECT convalidated FROM pg_constraint WHERE conname = 'orders_qty_positive'}),
	't', 'its constraint is valid');
my $index = $node->safe_psql('postgres',
	q{SELECT colmig.create_index('orders', 'orders_price', 'price')});
is($node->safe_psql('postgres', "CALL colmig.wait_job($index, '60s')"), 'succeeded',
	'create_index succeeds after the update');
is($node->safe_psql('postgres', q{
	SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_price'::regclass}),
	't', 'its index is valid');
is($node->safe_psql('postgres', qq{
	SELECT operation || ' ' || target || ' ' || step FROM colmig.progress WHERE job_id = $index}),
	'create_index orders_price 2 of 2', 'colmig.progress shows the new operation');

$holder->quit;
$node->stop;
done_testing();
