# Soak test: rounds of (fresh table, pgbench writing to it, a backfill job
# with NOT NULL, an immediate shutdown at a random point of the job,
# restart). After each restart the job must resume by itself and end with
# every row right, NOT NULL set and no helper left behind.
#
#   COLMIG_SOAK_ROUNDS  number of rounds (default 3)
#   COLMIG_SOAK_SEED    seed of the random choices (default: the time); the
#                       seed is printed with note, to replay a failure
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my $rounds = $ENV{COLMIG_SOAK_ROUNDS} // 3;
die "COLMIG_SOAK_ROUNDS must be a positive integer" unless $rounds =~ /^[1-9]\d*$/;
my $seed = $ENV{COLMIG_SOAK_SEED} // (time() * 1000 % 2**31);
$seed = int($seed);
srand($seed);
note "COLMIG_SOAK_SEED=$seed COLMIG_SOAK_ROUNDS=$rounds";

my $rows = 50000;

my $node = PostgreSQL::Test::Cluster->new('soak');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.retry_max_delay = 200ms
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION colmig');

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $pgbench = $node->installed_command('pgbench');

# The phases a job stores, in the order it goes through them ('queued'
# until the column is added; the stored phase is the next step to run).
my @phases = qw(queued backfill sweep verify add_not_null_check validate_not_null_check
  set_not_null drop_fill_trigger done);
my $phase_array = 'ARRAY[' . join(', ', map { "'$_'" } @phases) . ']::text[]';
sub phase_index {
	my ($phase) = @_;
	my ($i) = grep { $phases[$_] eq $phase } 0 .. $#phases;
	defined $i or die "unknown phase $phase";
	return $i + 1;    # array_position counts from 1
}

# The job has reached the phase (or gone further, or stopped running).
sub reached_sql {
	my ($job, $phase) = @_;
	my $i = phase_index($phase);
	return qq{SELECT array_position($phase_array, phase) >= $i
	                 OR state IN ('succeeded', 'failed', 'cancelled')
	            FROM colmig.jobs WHERE job_id = $job};
}

# A pgbench workload on the table: touches random rows of the initial range
# (the update trigger fills those the backfill has not reached yet) and
# inserts new rows above it (the insert trigger fills them). Its exit status
# is of no interest: it dies at the crash, and its inserts fail once the
# job is done (NOT NULL without a default).
sub start_workload {
	my ($table) = @_;
	my $script = "$tmp/$table.sql";
	open my $fh, '>', $script or die "cannot write $script: $!";
	print $fh <<"EOS";
\\set id random(1, $rows)
UPDATE $table SET touched = now() WHERE id = :id;
\\set p random(1, 100000)
\\set q random(1, 20)
INSERT INTO $table (id, price, qty) VALUES (nextval('${table}_ins'), :p * 0.01, :q);
EOS
	close $fh;
	my ($out, $err) = ('', '');
	# The server log keeps the test's statements, not the workload's.
	local $ENV{PGOPTIONS} = '-c log_statement=none';
	my $h = IPC::Run::start(
		[ $pgbench, '-n', '-c', '2', '-j', '2', '-T', '30', '-R', '500', '-f', $script,
		  '-h', $node->host, '-p', $node->port, 'postgres' ],
		'<', \undef, '>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

sub stop_workload {
	my ($w) = @_;
	return unless $w;
	eval { $w->{h}->signal('KILL') };
	eval { $w->{h}->finish };
}

# Waits inside the server, polling every 2 ms: the steps after the backfill
# last a few milliseconds on this table, too short for poll_query_until.
# Returns the job's phase and cursor at the moment the condition held.
sub wait_in_server {
	my ($job, $condition) = @_;
	return $node->safe_psql('postgres', qq{
		DO \$\$
		DECLARE deadline timestamptz := clock_timestamp() + interval '120s';
		BEGIN
		    WHILE clock_timestamp() < deadline LOOP
		        IF ($condition) THEN
		            RETURN;
		        END IF;
		        PERFORM pg_sleep(0.002);
		    END LOOP;
		    RAISE WARNING 'crash point not reached in 120 s';
		END \$\$;
		SELECT format('%s/%s (cursor %s of %s)', state, phase, cursor_page, end_page)
		  FROM colmig.jobs WHERE job_id = $job;});
}

my %crashed_in;
my $started = time();
for my $round (1 .. $rounds) {
	my $t0 = time();
	my $table = "t$round";
	$node->safe_psql('postgres', qq{
		CREATE TABLE $table (id bigint PRIMARY KEY, price numeric NOT NULL,
		                     qty int NOT NULL, touched timestamptz);
		INSERT INTO $table (id, price, qty)
		  SELECT g, g * 1.5, g % 7 + 1 FROM generate_series(1, $rows) g;
		CREATE SEQUENCE ${table}_ins START @{[ $rows + 1 ]};
		VACUUM ANALYZE $table;});

	# The workload runs before the job starts.
	my $workload = start_workload($table);
	if (!$node->poll_query_until('postgres',
			"SELECT EXISTS (SELECT 1 FROM $table WHERE id > $rows)"))
	{
		stop_workload($workload);
		die "the pgbench workload never wrote to $table: ${$workload->{err}}";
	}

	my $job = $node->safe_psql('postgres', qq{
		SELECT colmig.add_column('$table', 'total', 'numeric',
		                         backfill_expr => 'price * qty', not_null => true,
		                         batch_size => 500)});

	# The crash point: a fraction of the backfill, or the start of a phase.
	my ($point, $at);
	if (rand() < 0.5) {
		my $f = sprintf('%.2f', 0.05 + rand(0.9));
		$point = "backfill fraction $f";
		my $backfill = phase_index('backfill');
		$node->poll_query_until('postgres', qq{
			SELECT (phase = 'backfill' AND end_page IS NOT NULL AND cursor_page >= $f * end_page)
			    OR array_position($phase_array, phase) > $backfill
			    OR state IN ('succeeded', 'failed', 'cancelled')
			  FROM colmig.jobs WHERE job_id = $job})
		  or die "job $job never reached $point";
		$at = $node->safe_psql('postgres', qq{
			SELECT format('%s/%s (cursor %s of %s)', state, phase, cursor_page, end_page)
			  FROM colmig.jobs WHERE job_id = $job});
	} else {
		my @targets = qw(backfill sweep validate_not_null_check set_not_null);
		my $phase = $targets[ int(rand(@targets)) ];
		$point = "phase $phase";
		my $cond = reached_sql($job, $phase);
		$at = wait_in_server($job, $cond);
	}

	$node->stop('immediate');
	stop_workload($workload);
	$node->start;
	note "round $round: job $job, crash point $point; the job was at $at just before the crash";
	my ($phase_at) = $at =~ m{/(\w+)};
	$crashed_in{$phase_at // '?'}++;

	# The workload goes on while the job resumes.
	$workload = start_workload($table);
	my $ended = $node->poll_query_until('postgres', qq{
		SELECT state IN ('succeeded', 'failed', 'cancelled')
		  FROM colmig.jobs WHERE job_id = $job});
	stop_workload($workload);
	my $state = $node->safe_psql('postgres', qq{
		SELECT state || coalesce(': ' || last_error, '') FROM colmig.jobs WHERE job_id = $job});
	if (!$ended || $state ne 'succeeded') {
		fail("round $round: job $job succeeds after a crash at $point");
		diag "seed $seed, round $round: job $job "
		  . ($ended ? 'ended' : 'did not end') . " after the crash at $at: $state";
		diag $node->safe_psql('postgres', "SELECT * FROM colmig.jobs WHERE job_id = $job");
		last;
	}
	pass("round $round: job $job succeeds after a crash at $point");

	is($node->safe_psql('postgres',
		"SELECT count(*) FROM $table WHERE total IS DISTINCT FROM price * qty"),
		'0', "round $round: every row has total = price * qty");
	my ($got, $expected) = split /\|/, $node->safe_psql('postgres', qq{
		SELECT md5(string_agg(id || ':' || total, ',' ORDER BY id)),
		       md5(string_agg(id || ':' || (price * qty), ',' ORDER BY id))
		  FROM $table});
	is($got, $expected, "round $round: checksum of (id, total) as expected");
	is($node->safe_psql('postgres', qq{
		SELECT attnotnull FROM pg_attribute
		 WHERE attrelid = '$table'::regclass AND attname = 'total'}),
		't', "round $round: total is NOT NULL");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_trigger WHERE tgrelid = '$table'::regclass"),
		'0', "round $round: no trigger left");
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_constraint WHERE conrelid = '$table'::regclass AND contype = 'c'}),
		'0', "round $round: no check constraint left");
	is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_proc
		 WHERE pronamespace = 'colmig'::regnamespace AND proname = 'fill_$job'}),
		'0', "round $round: no function colmig.fill_$job left");

	my $stats = $node->safe_psql('postgres', qq{
		SELECT format('%s rows inserted, %s touched by the workload; job ran %s s',
		              count(*) FILTER (WHERE id > $rows), count(touched),
		              (SELECT round(extract(epoch FROM finished_at - created_at), 1)
		                 FROM colmig.jobs WHERE job_id = $job))
		  FROM $table});
	note sprintf('round %d: %s; %.1f s', $round, $stats, time() - $t0);
}
note sprintf('crash phases: %s; %d rounds in %.1f s',
	join(', ', map { "$_ x$crashed_in{$_}" } sort keys %crashed_in),
	$rounds, time() - $started);

$node->stop;
done_testing();
