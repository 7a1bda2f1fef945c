# shellcheck shell=bash
# The scenarios and their rounds: each method in its window, the baseline
# windows around the rounds, and one line of figures per window, printed
# and appended to $bench_dir/raw.tsv (tab-separated):
#   scenario round position method label rows seconds wal_bytes
#   table_bytes index_bytes job_seconds offered_tps transactions ended tps
#   p50_ms p99_ms max_ms stall_seconds errors notes target
#   table_bytes_before index_bytes_before
# ("-" where a figure does not apply; rows, sizes and target are those of
# the scenario's target, methods.sh), and "ref" lines: the baseline a
# round is compared with. $bench_dir/windows.tsv lists the windows of the
# load scenarios (scenario round method logdir from_us to_us) for the
# chart. Sets scenario_target[<scenario>] (target_text and its rows).
# Needs the other lib files, BASELINE_SECONDS, REPEATS and the array
# methods.

declare -A scenario_target

now_us() { date +%s%6N; }

# raw_line <fields...>: one tab-separated line of raw.tsv.
raw_line() {
  local IFS=$'\t'
  echo "$*" >>"$bench_dir/raw.tsv"
}

# workload_figures <logdir> <from_us> <to_us>: the workload in the window
# into wf (an array: transactions ended tps p50 p99 max stall errors),
# and one line on it; broken when no transaction ran in the window.
workload_figures() {
  read -r -a wf <<<"$(window_stats "$1" "$2" "$3") $(workload_errors "$1")"
  [ "${wf[0]}" -gt 0 ] || broken "no workload transaction ran during the window of $1"
  printf '        workload %s tps, p50 %s ms, p99 %s ms, max %s ms, %s s with no transaction ending, errors %s\n' \
    "${wf[2]}" "${wf[3]}" "${wf[4]}" "${wf[5]}" "${wf[6]}" "${wf[7]}"
  if [ "${wf[7]}" -ne 0 ]; then show_workload_errors "$1"; fi
}

# run_method <scenario> <method> <round> <position>: the method, in load
# scenarios with the workload running; the window is its wall time, from
# just before its first psql starts to just after its last one returns
# (ADD COLUMN included; for colmig the worker's start and wait_job's
# polling too).
run_method() {
  local scenario=$1 method=$2 round=$3 position=$4 window=$1-r$3-$2 lsn from to secs wrong sizes stale
  local -a size before wf=(- - - - - - - -)
  read -r -a before <<<"$(sql -F ' ' -c "SELECT pg_table_size('$tgt_table'), pg_indexes_size('$tgt_table')")"
  sql -c CHECKPOINT
  if [ "$scenario" != quiet ]; then start_workload "$scenario" "$window"; fi
  lsn=$(sql -c 'SELECT pg_current_wal_lsn()')
  job_seconds=-
  from=$(now_us)
  "method_$method"
  to=$(now_us)
  sizes=$(sql -F ' ' -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn')::bigint,
                                pg_table_size('$tgt_table'), pg_indexes_size('$tgt_table')")
  read -r -a size <<<"$sizes"
  if [ "$scenario" != quiet ]; then stop_workload; fi
  wrong=$(wrong_rows)
  if [ "$tgt_check" = exact ]; then
    [ "$wrong" = 0 ] || broken "$wrong rows of $tgt_table have $tgt_column not $tgt_expr after ${method_label[$method]}"
  else
    [ "$wrong" = 0 ] || broken "$wrong rows of $tgt_table have $tgt_column NULL after ${method_label[$method]}"
    # Not an error: the workload changed abalance after these rows were
    # filled. No method keeps c = abalance + aid: colmig's fill trigger
    # fills only rows whose c is still NULL, never recomputes a filled one.
    stale=$(stale_rows)
    echo "; $stale rows no longer $tgt_expr (the workload changed them after they were filled)" >>"$bench_dir/steps"
  fi
  secs=$(ratio 3 $((to - from)) 1000000)
  printf '   %-36s %8s s %9s rows/s, WAL %s MB, heap %s MB (%sx), indexes %s MB (%sx)\n' \
    "${method_label[$method]}" "$secs" "$(ratio 0 "$tgt_rows" "$secs")" "$(ratio 1 "${size[0]}" 1048576)" \
    "$(ratio 1 "${size[1]}" 1048576)" "$(ratio 2 "${size[1]}" "${before[0]}")" \
    "$(ratio 1 "${size[2]}" 1048576)" "$(ratio 2 "${size[2]}" "${before[1]}")"
  if [ "$scenario" != quiet ]; then
    workload_figures "$bench_dir/windows/$window" "$from" "$to"
    printf '%s\t' "$scenario" "$round" "$method" "$bench_dir/windows/$window" "$from" >>"$bench_dir/windows.tsv"
    echo "$to" >>"$bench_dir/windows.tsv"
  fi
  echo "        $(tr -d '\n' <"$bench_dir/steps")"
  raw_line "$scenario" "$round" "$position" "$method" "${method_label[$method]}" "$tgt_rows" "$secs" \
    "${size[@]}" "$job_seconds" "${workload_rate[$scenario]:--}" "${wf[@]}" "$(tr -d '\n' <"$bench_dir/steps")" \
    "$(target_text)" "${before[@]}"
  reset_target
}

# run_baseline <scenario> <index>: the workload alone for BASELINE_SECONDS.
declare -A baseline_from baseline_to
run_baseline() {
  local scenario=$1 index=$2 window=$1-b$2 from to lsn wal
  local -a wf
  sql -c CHECKPOINT
  start_workload "$scenario" "$window"
  lsn=$(sql -c 'SELECT pg_current_wal_lsn()')
  from=$(now_us)
  sleep "$BASELINE_SECONDS"
  to=$(now_us)
  # The workload's own WAL, for the methods' WAL under load.
  wal=$(sql -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn')::bigint")
  stop_workload
  baseline_from[$scenario,$index]=$from
  baseline_to[$scenario,$index]=$to
  printf '   %-36s %8s s %16s WAL %s MB\n' "${method_label[baseline]}" "$(ratio 3 $((to - from)) 1000000)" '' \
    "$(ratio 1 "$wal" 1048576)"
  workload_figures "$bench_dir/windows/$window" "$from" "$to"
  printf '%s\t' "$scenario" "$index" baseline "$bench_dir/windows/$window" "$from" >>"$bench_dir/windows.tsv"
  echo "$to" >>"$bench_dir/windows.tsv"
  raw_line "$scenario" "$index" 0 baseline "${method_label[baseline]}" - "$(ratio 3 $((to - from)) 1000000)" \
    "$wal" - - - "${workload_rate[$scenario]}" "${wf[@]}" 'the workload alone' -
  # Both workloads update their scenario's target (orders.placed_at,
  # pgbench_accounts.abalance): the next method starts from a clean one.
  reset_target
}

# run_scenario <scenario>: REPEATS rounds, each the methods in an order
# rotated each round (the machine drifts over minutes: a method always
# run first, or always right after another, would carry that drift); in
# load scenarios a baseline window before each round and one after the
# last, each round compared with the two windows around it taken
# together.
run_scenario() {
  local scenario=$1 r i n=${#methods[@]} b
  local -a ref
  # tpcb's target exists once pgbench -i has run.
  if [ "$scenario" != quiet ]; then prepare_workload "$scenario"; fi
  target_of "$scenario"
  scenario_target[$scenario]="$(target_text) ($tgt_rows rows)"
  log "$scenario: the methods fill ${scenario_target[$scenario]}"
  create_procedure
  # The maximum's run updated the target.
  if [ "$scenario" != quiet ]; then reset_target; fi
  for ((r = 1; r <= REPEATS; r++)); do
    log "$scenario, round $r of $REPEATS"
    if [ "$scenario" != quiet ]; then run_baseline "$scenario" "$r"; fi
    for ((i = 0; i < n; i++)); do
      run_method "$scenario" "${methods[(r - 1 + i) % n]}" "$r" $((i + 1))
    done
  done
  [ "$scenario" != quiet ] || return 0
  log "$scenario, closing baseline"
  run_baseline "$scenario" $((REPEATS + 1))
  for ((r = 1; r <= REPEATS; r++)); do
    b=$((r + 1))
    read -r -a ref <<<"$(window_stats \
      "$bench_dir/windows/$scenario-b$r" "${baseline_from[$scenario,$r]}" "${baseline_to[$scenario,$r]}" \
      "$bench_dir/windows/$scenario-b$b" "${baseline_from[$scenario,$b]}" "${baseline_to[$scenario,$b]}")"
    raw_line "$scenario" "$r" - ref - - - - - - - "${workload_rate[$scenario]}" "${ref[@]}" - "baselines $r and $b" -
  done
}
