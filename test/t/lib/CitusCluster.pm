# A Citus cluster for the TAP tests: a coordinator and two worker nodes,
# each its own PostgreSQL::Test::Cluster on its own port, with
# shared_preload_libraries = 'citus,colmig', Citus's metadata on every
# node, and colmig created on the coordinator (Citus creates it on the
# workers too). Citus is a test dependency: test/run builds it from
# ../shared/citus when it is not installed; without it, `available` says why.
package CitusCluster;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Why the Citus tests cannot run here, or undef.
sub unavailable {
	my $probe = PostgreSQL::Test::Cluster->new('citus_probe');
	my $libdir = $probe->config_data('--pkglibdir');
	return "Citus is not installed ($libdir/citus.so is missing; test/run builds "
	  . "it from ../shared/citus when that folder is there)"
	  unless -e "$libdir/citus.so";
	return undef;
}

sub node {
	my ($name, $extra) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'citus,colmig'
listen_addresses = '127.0.0.1'
max_worker_processes = 24
max_connections = 100
colmig.launcher_naptime = 1s
colmig.retry_max_delay = 200ms
colmig.batch_pause = 0
restart_after_crash = on
citus.log_remote_commands = off
@{[ $extra // '' ]}
});
	$node->append_conf('pg_hba.conf', "host all all 127.0.0.1/32 trust\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus');
	return $node;
}

# Returns (coordinator, worker1, worker2).
sub start {
	my ($extra) = @_;
	my $coordinator = node('coordinator', $extra);
	my @workers = map { node("worker$_", $extra) } 1 .. 2;
	$coordinator->safe_psql('postgres',
		"SELECT citus_set_coordinator_host('127.0.0.1', " . $coordinator->port . ')');
	$coordinator->safe_psql('postgres',
		"SELECT citus_add_node('127.0.0.1', " . $_->port . ')')
	  for @workers;
	$coordinator->safe_psql('postgres', 'CREATE EXTENSION colmig');
	return ($coordinator, @workers);
}

# The SQLSTATE of the error `sql` raises on `node`, or '' when it succeeds.
sub sqlstate {
	my ($node, $sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : '';
}

# `query` (with %s for the placement) on every placement of `table`, as
# "shardid node:port result" lines, sorted.
sub on_placements {
	my ($coordinator, $table, $query) = @_;
	return $coordinator->safe_psql('postgres', qq{
		SELECT shardid || ' ' || nodeport || ' ' || coalesce(result, '<null>')
		  FROM run_command_on_placements('$table', \$cmd\$$query\$cmd\$)
		 ORDER BY shardid, nodeport});
}

# Every placement of `table` answers `expected` to `query`.
sub all_placements_are {
	my ($coordinator, $table, $query, $expected, $name) = @_;
	my @lines = split /\n/, on_placements($coordinator, $table, $query);
	my @wrong = grep { !/ \Q$expected\E$/ } @lines;
	ok(@lines > 0 && !@wrong, $name) or diag(join("\n", @lines));
}

1;
