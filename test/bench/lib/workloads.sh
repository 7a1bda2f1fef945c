# shellcheck shell=bash
# The application of the load scenarios, run by pgbench:
#   tpcb    pgbench's built-in TPC-B (-b tpcb-like) on its own tables
#           (pgbench -i -s PGBENCH_SCALE), whose pgbench_accounts is the
#           table the methods fill in this scenario: its UPDATEs of
#           abalance meet their row locks and colmig's fill trigger, as
#           well as the competition for CPUs, I/O, WAL and checkpoints
#   orders  a point read and a point update of a random row of orders,
#           the table the methods fill: it meets their row locks and
#           colmig's fill trigger as well (it updates placed_at only, so
#           total stays price * qty)
# Each offers a fixed rate (-R): half of its maximum measured flat out at
# the start of its scenario, or COLMIG_BENCH_RATE. It runs in pgbench runs
# of CHUNK_SECONDS with per-transaction logs into windows/<window>/, from
# WARMUP_SECONDS before a window opens until the run that sees the window
# closed ends.
# Needs CLIENTS, RATE, PGBENCH_SCALE, MAXTPS_SECONDS, CHUNK_SECONDS,
# WARMUP_SECONDS, ROWS.

declare -A workload_rate workload_max
workload_pid=
workload_dir=
tpcb_initialised=

threads() { echo $((CLIENTS < 2 ? CLIENTS : 2)); }

# workload_args <scenario>: pgbench's script arguments, into the array wargs.
workload_args() {
  case $1 in
    tpcb) wargs=(-b tpcb-like) ;;
    orders) wargs=(-f "$bench_dir/orders.sql") ;;
    *) broken "no workload for scenario $1" ;;
  esac
}

# prepare_workload <scenario>: its tables or script, then its maximum TPS
# flat out, of which it will offer half: a loaded server with room to
# spare, where a method's cost shows as latency rather than as a queue
# that never drains.
prepare_workload() {
  local scenario=$1 max
  local -a wargs
  case $scenario in
    tpcb)
      if [ -z "$tpcb_initialised" ]; then
        log "tpcb: pgbench -i -s $PGBENCH_SCALE"
        as_postgres pgbench -h "$bench_dir" -p "$PORT" -i -q -s "$PGBENCH_SCALE" postgres \
          >"$bench_dir/pgbench-init.out" 2>&1 ||
          { cat "$bench_dir/pgbench-init.out" >&2; broken "pgbench -i failed"; }
        tpcb_initialised=1
      fi
      ;;
    orders)
      cat >"$bench_dir/orders.sql" <<SQL
\set id random(1, $ROWS)
SELECT price, qty FROM orders WHERE id = :id;
UPDATE orders SET placed_at = now() WHERE id = :id;
SQL
      chown postgres:postgres "$bench_dir/orders.sql"
      ;;
  esac
  workload_args "$scenario"
  log "$scenario: the workload's maximum TPS flat out for $MAXTPS_SECONDS s ($CLIENTS clients)"
  sql -c CHECKPOINT
  as_postgres pgbench -h "$bench_dir" -p "$PORT" -n "${wargs[@]}" -c "$CLIENTS" -j "$(threads)" \
    -T "$MAXTPS_SECONDS" postgres >"$bench_dir/maxtps-$scenario.out" 2>&1 ||
    { cat "$bench_dir/maxtps-$scenario.out" >&2; broken "pgbench flat out failed ($scenario)"; }
  max=$(awk '/^tps = / { print int($3) }' "$bench_dir/maxtps-$scenario.out")
  if [ -z "$max" ] || [ "$max" -le 0 ]; then broken "no TPS in pgbench's output ($scenario)"; fi
  workload_max[$scenario]=$max
  if [ "$RATE" -gt 0 ]; then workload_rate[$scenario]=$RATE; else workload_rate[$scenario]=$(((max + 1) / 2)); fi
  echo "   maximum $max tps; the workload offers ${workload_rate[$scenario]} tps (-R)"
}

# start_workload <scenario> <window>: the workload, in the background,
# into windows/<window>/; returns once its clients are connected and
# WARMUP_SECONDS have passed.
start_workload() {
  local scenario=$1 rate=${workload_rate[$1]}
  local -a wargs
  workload_args "$scenario"
  workload_dir=$bench_dir/windows/$2
  mkdir -p "$workload_dir"
  chown postgres:postgres "$bench_dir/windows" "$workload_dir"
  (
    i=0
    while [ ! -e "$workload_dir/stop" ]; do
      i=$((i + 1))
      started=$SECONDS
      rc=0
      as_postgres pgbench -h "$bench_dir" -p "$PORT" -n "${wargs[@]}" \
        -c "$CLIENTS" -j "$(threads)" -T "$CHUNK_SECONDS" -R "$rate" \
        -l --log-prefix="$workload_dir/log$i" postgres >"$workload_dir/chunk$i.out" 2>&1 || rc=$?
      echo "$rc" >"$workload_dir/chunk$i.rc"
      # Do not spin when pgbench cannot even start.
      if [ "$rc" -ne 0 ] && [ $((SECONDS - started)) -lt 1 ]; then sleep 0.5; fi
    done
  ) &
  workload_pid=$!
  wait_for_clients
  sleep "$WARMUP_SECONDS"
}

# Polls until the first pgbench run has its clients connected.
wait_for_clients() {
  local deadline=$((SECONDS + 60)) n
  while n=$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'") &&
    [ "$n" -lt "$CLIENTS" ]; do
    if [ -e "$workload_dir/chunk1.rc" ]; then
      cat "$workload_dir/chunk1.out" >&2
      broken "the workload's first pgbench run ended before all its clients connected"
    fi
    ((SECONDS < deadline)) || broken "the workload has $n of $CLIENTS clients connected after 60 s"
    sleep 0.05
  done
}

# stop_workload: ends the workload after its current pgbench run.
stop_workload() {
  touch "$workload_dir/stop"
  wait "$workload_pid" || true
  workload_pid=
}

stop_workload_quietly() {
  if [ -n "$workload_pid" ]; then
    touch "$workload_dir/stop" 2>/dev/null || true
    kill "$workload_pid" 2>/dev/null || true
    wait "$workload_pid" 2>/dev/null || true
    workload_pid=
  fi
}
