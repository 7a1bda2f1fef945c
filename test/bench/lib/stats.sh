# shellcheck shell=bash
# Figures from pgbench's per-transaction logs. A log line is
#   client_id transaction_no time(us) script_no time_epoch time_us schedule_lag(us)
# time is "failed" for a failed transaction (counted by workload_errors).
# With -R, time counts from the transaction's scheduled start, so it
# includes the schedule lag: a stall queues the transactions behind it.

# window_stats <logdir> <from_us> <to_us> [<logdir> <from_us> <to_us> ...]:
# the workload in one window, or in several taken together, as
#   "transactions ended tps p50_ms p99_ms max_ms stall_seconds"
# Latency counts every transaction that ran during a window, at least
# partly (its end at or after the opening, its scheduled start at or
# before the close); TPS counts those that ended inside, over the
# windows' length. stall_seconds: the whole seconds of a window (counted
# from its opening; a last partial second does not count) in which no
# transaction ended. Percentiles are nearest-rank.
window_stats() {
  local -a w=("$@")
  local i
  for ((i = 0; i < ${#w[@]}; i += 3)); do
    cat "${w[i]}"/log[0-9]*.[0-9]* 2>/dev/null |
      awk -v from="${w[i + 1]}" -v to="${w[i + 2]}" '
        $3 ~ /^[0-9]+$/ {
          end = $5 * 1000000 + $6
          if (end >= from && end - $3 <= to) print "L", $3, (end <= to)
          if (end >= from && end < to) seen[int((end - from) / 1000000)] = 1
        }
        END {
          whole = int((to - from) / 1000000)
          for (k = 0; k < whole; k++) if (!(k in seen)) stall++
          printf "S %d %.6f\n", stall, (to - from) / 1000000
        }'
  done | LC_ALL=C sort -k1,1 -k2,2n | awk '
    function rank(q,   r) { r = int(n * q); if (r < n * q) r++; if (r < 1) r = 1; return r }
    $1 == "L" { v[++n] = $2; ended += $3; next }
    { stall += $2; secs += $3 }
    END {
      if (n == 0) { printf "0 0 0 0 0 0 %d\n", stall; exit }
      printf "%d %d %.1f %.3f %.3f %.3f %d\n", n, ended, ended / secs,
             v[rank(0.5)] / 1000, v[rank(0.99)] / 1000, v[n] / 1000, stall
    }'
}

# workload_errors <logdir>: pgbench's failed transactions over the
# window's runs (warm-up included), plus one per run that exited non-zero.
workload_errors() {
  local failed nonzero
  failed=$(cat "$1"/chunk*.out 2>/dev/null |
    awk '/number of failed transactions/ { s += $5 } END { print s + 0 }')
  nonzero=$(cat "$1"/chunk*.rc 2>/dev/null | awk '$1 != 0 { n++ } END { print n + 0 }')
  echo $((failed + nonzero))
}

# show_workload_errors <logdir>: the first distinct error lines of
# pgbench's output.
show_workload_errors() {
  grep -h -i -E 'error|abort|failed transactions: [1-9]' "$1"/chunk*.out |
    sort | uniq -c | head -n 5 | sed 's/^/     /' || true
}

# latency_series <logdir> <from_us> <to_us> <tx file> <p99 file>: for the
# chart, the transactions that ended from 1 s before the window to 1 s
# after it as "seconds_since_opening latency_ms", and per 100 ms of end
# time "bucket_middle p99_ms max_ms transactions".
latency_series() {
  cat "$1"/log[0-9]*.[0-9]* 2>/dev/null |
    awk -v from="$2" -v to="$3" '
      $3 ~ /^[0-9]+$/ {
        end = $5 * 1000000 + $6
        if (end >= from - 1000000 && end <= to + 1000000)
          printf "%.4f %.3f\n", (end - from) / 1000000, $3 / 1000
      }' >"$4"
  # Buckets of 100 ms numbered from 10 s before the opening: int() is a
  # floor for the positive numbers only.
  awk '{ print int(($1 + 10) * 10), $2 }' "$4" | LC_ALL=C sort -k1,1n -k2,2g | awk '
    function flush(   r) {
      if (n == 0) return
      r = int(n * 0.99); if (r < n * 0.99) r++; if (r < 1) r = 1
      printf "%.2f %.3f %.3f %d\n", (bucket + 0.5) / 10 - 10, v[r], v[n], n
      n = 0
    }
    NR == 1 || $1 != bucket { flush(); bucket = $1 }
    { v[++n] = $2 }
    END { flush() }' >"$5"
}

# spread <decimals> <values...>: "median (min..max)" of the values that
# are numbers; the value alone for one; "-" for none.
spread() {
  local decimals=$1
  shift
  printf '%s\n' "$@" | awk '$1 ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/' | sort -g | awk -v d="$decimals" '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "-"; exit }
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      if (NR == 1) printf "%.*f\n", d, m
      else printf "%.*f (%.*f..%.*f)\n", d, m, d, v[1], d, v[NR]
    }'
}

# ratio <decimals> <a> <b>: a / b, or "-" when either is not a number
# or b is 0.
ratio() {
  awk -v a="$2" -v b="$3" -v d="$1" 'BEGIN {
    num = "^-?[0-9]+([.][0-9]*)?$"
    if (a !~ num || b !~ num || b + 0 == 0) print "-"
    else printf "%.*f\n", d, a / b
  }'
}
