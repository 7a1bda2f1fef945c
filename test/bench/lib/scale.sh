# shellcheck shell=bash
# The scale run: does colmig's per-batch time stay flat, and its total
# time grow linearly, as the table grows? For each size of SCALE_SIZES, a
# table scale_orders like orders, filled quietly by colmig.add_column(...,
# throttle => false); the batches' times come from the worker's DEBUG1
# line per batch in the server log:
#   colmig: job <id> batch pages <first>-<end>: <rows> rows in <ms> ms (and <ms> ms of rests), ...
# (src/runner/backfill.cpp). One line per size into $bench_dir/scale.tsv:
#   rows seconds wall_seconds rows_per_s batches rows_per_batch
#   batch_ms_mean batch_ms_p50 batch_ms_p99 batch_ms_max sweep_batches sweep_ms
# where seconds is the job's run time (the worker's started_at to
# finished_at) and the batch figures are the backfill's; the sweep (the
# pass that proves no row is left, from page 0 again) is counted apart.

# batch_stats <job>: "batches rows_per_batch mean p50 p99 max
# sweep_batches sweep_ms" of the job's lines in the server log.
batch_stats() {
  awk -v tag="colmig: job $1 batch pages " '
    index($0, tag) {
      n = split(substr($0, index($0, tag) + length(tag)), f, " ")
      # f[1] "<first>-<end>:", f[2] rows, f[5] milliseconds
      split(f[1], pages, "-")
      if (seen && pages[1] + 0 < last_first) sweep = 1
      seen = 1
      last_first = pages[1] + 0
      print (sweep ? "W" : "B"), f[5], f[2]
    }' "$bench_dir/server.log" | LC_ALL=C sort -k1,1 -k2,2g | awk '
    function rank(q,   r) { r = int(n * q); if (r < n * q) r++; if (r < 1) r = 1; return r }
    $1 == "B" { v[++n] = $2; sum += $2; rows += $3; next }
    { sweeps++; sweep_ms += $2 }
    END {
      if (n == 0) { print "0 - - - - - 0 0"; exit }
      printf "%d %.0f %.1f %.1f %.1f %.1f %d %.1f\n", n, rows / n, sum / n, v[rank(0.5)], v[rank(0.99)],
             v[n], sweeps, sweep_ms
    }'
}

run_scale() {
  local n from to wrong secs
  local -a b
  log "scale: colmig throttle => false, quiet, on $SCALE_SIZES rows (log_min_messages = debug1 meanwhile)"
  set_server_setting log_min_messages debug1
  for n in $SCALE_SIZES; do
    create_orders scale_orders "$n"
    set_target scale_orders id total numeric 'price * qty' exact
    sql -c CHECKPOINT
    from=$(now_us)
    colmig_job ', throttle => false'
    to=$(now_us)
    wrong=$(wrong_rows)
    [ "$wrong" = 0 ] || broken "$wrong rows of scale_orders ($n rows) have a wrong total after job $job"
    read -r -a b <<<"$(batch_stats "$job")"
    [ "${b[0]}" -gt 0 ] ||
      broken "no line 'colmig: job $job batch pages ...' in the server log: does the worker log its batches at DEBUG1?"
    secs=$job_seconds
    printf '   %10s rows: %8s s (wall %s s), %9s rows/s, %s batches of %s rows, per batch mean %s ms, p50 %s, p99 %s, max %s; sweep %s batches, %s ms\n' \
      "$n" "$secs" "$(ratio 2 $((to - from)) 1000000)" "$(ratio 0 "$n" "$secs")" "${b[0]}" "${b[1]}" \
      "${b[2]}" "${b[3]}" "${b[4]}" "${b[5]}" "${b[6]}" "${b[7]}"
    (
      IFS=$'\t'
      echo "$n"$'\t'"$secs"$'\t'"$(ratio 3 $((to - from)) 1000000)"$'\t'"$(ratio 0 "$n" "$secs")"$'\t'"${b[*]}"
    ) >>"$bench_dir/scale.tsv"
    sql -c 'DROP TABLE scale_orders'
  done
  reset_server_setting log_min_messages
}
