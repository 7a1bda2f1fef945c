# shellcheck shell=bash
# The throwaway cluster of test/bench/run: its own directory under /tmp,
# its own port, colmig preloaded; removed when the script ends, however
# it ends. Needs PORT; reads COLMIG_BENCH_SETTINGS and COLMIG_BENCH_KEEP.

bench_dir=

broken() {
  echo "benchmark broken: $*" >&2
  exit 1
}

# sql [psql arguments]: unaligned, tuples only, stops at the first error.
sql() { as_postgres psql -h "$bench_dir" -p "$PORT" -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"; }

cleanup() {
  # workloads.sh: a pgbench loop still running when the script failed.
  stop_workload_quietly
  if [ -n "$bench_dir" ]; then
    as_postgres pg_ctl -D "$bench_dir/data" -m fast stop >/dev/null 2>&1 || true
    if [ -n "${COLMIG_BENCH_KEEP:-}" ]; then
      echo "kept $bench_dir (server.log, per-transaction logs under windows/)" >&2
    else
      rm -rf "$bench_dir"
    fi
  fi
}

start_cluster() {
  # A prefix of its own: test/bench/peers or another run may be running
  # beside this one.
  bench_dir=$(mktemp -d /tmp/colmig-bench-run.XXXXXX)
  chown postgres:postgres "$bench_dir"
  trap cleanup EXIT
  log "starting a throwaway cluster in $bench_dir (port $PORT, colmig preloaded)"
  as_postgres initdb -D "$bench_dir/data" -A trust >/dev/null
  cat >>"$bench_dir/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$bench_dir'
shared_preload_libraries = 'colmig'
shared_buffers = 256MB
max_wal_size = 4GB
CONF
  # Extra settings to try, one "name = value" per line, e.g.
  # COLMIG_BENCH_SETTINGS=$'colmig.batch_target_duration = 50ms'
  if [ -n "${COLMIG_BENCH_SETTINGS:-}" ]; then
    printf '%s\n' "$COLMIG_BENCH_SETTINGS" >>"$bench_dir/data/postgresql.conf"
  fi
  if ! as_postgres pg_ctl -D "$bench_dir/data" -l "$bench_dir/server.log" -w start >/dev/null; then
    tail -n 20 "$bench_dir/server.log" >&2 || true
    broken "the cluster did not start"
  fi
  sql -c 'CREATE EXTENSION colmig'
}

# set_server_setting <name> <value>: ALTER SYSTEM and reload, then waits
# until a new session sees it (the postmaster has reloaded, so every
# process it starts from now on, such as a job's worker, has it).
set_server_setting() {
  local deadline=$((SECONDS + 30)) value
  sql -c "ALTER SYSTEM SET $1 = '$2'" -c 'SELECT pg_reload_conf()' >/dev/null
  while value=$(sql -c "SHOW $1") && [ "$value" != "$2" ]; do
    ((SECONDS < deadline)) || broken "$1 still $value 30 s after setting it to $2"
    sleep 0.05
  done
}

reset_server_setting() {
  sql -c "ALTER SYSTEM RESET $1" -c 'SELECT pg_reload_conf()' >/dev/null
}
