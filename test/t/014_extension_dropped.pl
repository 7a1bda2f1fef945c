# DROP EXTENSION colmig CASCADE under a running job: the fill trigger goes
# with the extension, and the worker, whose job table is gone, records
# nothing (it cannot), logs why and exits cleanly, without a FATAL error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dropped');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'colmig'
colmig.launcher_naptime = 1s
colmig.retry_max_delay = 100ms
colmig.lock_retries = 100000
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION colmig;
CREATE FUNCTION gate(value anyelement) RETURNS anyelement LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN value; END $$;
CREATE TABLE kept (id int PRIMARY KEY, v int);
INSERT INTO kept SELECT g, g FROM generate_series(1, 5000) g;
});

my $gate = $node->background_psql('postgres');
$gate->query_safe('SELECT pg_advisory_lock(4242)');
my $job = $node->safe_psql('postgres', q{
	SELECT colmig.add_column('kept', 'w', 'int', backfill_expr => 'gate(v)', batch_size => 100)});
$node->poll_query_until('postgres', qq{
	SELECT phase = 'backfill' AND lock_retries > 0 FROM colmig.jobs WHERE job_id = $job})
  or die 'the job never reached its gate';
my $log_offset = -s $node->logfile;

# The worker's batch times out at the gate again and again (lock_timeout),
# so the drop gets its locks between two of them.
$node->safe_psql('postgres', 'SET client_min_messages = warning; DROP EXTENSION colmig CASCADE');
$gate->query_safe('SELECT pg_advisory_unlock(4242)');

$node->poll_query_until('postgres', q{
	SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'colmig worker')})
  or die 'the worker never ended';
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_trigger WHERE tgrelid = 'kept'::regclass}),
	'0', 'the fill trigger went with the extension');
is($node->safe_psql('postgres', q{SELECT count(*) FROM kept WHERE id > 0}), '5000',
	'the table and its rows stay');
$node->safe_psql('postgres', 'INSERT INTO kept VALUES (5001, 1)');
pass('the application writes to the table as before');

my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/FATAL:\s+colmig/, 'the worker did not end with a FATAL error');
like($log, qr/colmig: (could not record the failure of job $job|cleanup of job $job postponed)/,
	'the worker logged that it could not record what happened to the job');

$gate->quit;
$node->stop;
done_testing();
