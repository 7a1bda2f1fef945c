# shellcheck shell=bash
# The chart: per load scenario and round, one PNG with one panel per
# window (the round's opening baseline, then each method), the workload's
# latency over time: every transaction as a dot, the p99 of each 100 ms as
# a line, the round's baseline p99 (both its windows) dotted. The panels
# share both axes, so a method's length and height compare at a glance.
# Written with gnuplot into $OUT/latency-<scenario>-r<round>.png, its
# script and p99 series into $OUT/series/ (the dots too with
# COLMIG_BENCH_KEEP). Needs enriched.tsv, windows.tsv and scenario_target
# (rounds.sh).

# figure <scenario> <round> <method> <column>: one field of enriched.tsv.
figure() {
  awk -F '\t' -v s="$1" -v r="$2" -v m="$3" -v c="$4" '$1 == s && $2 == r && $4 == m { print $c; exit }' \
    "$bench_dir/enriched.tsv"
}

# chart <scenario> <round>
chart() {
  local scenario=$1 round=$2 png=$OUT/latency-$1-r$2.png gp=$OUT/series/$1-r$2.gp
  local m dir from to len xmax=1 range ref i=0 n title last
  local -a panels=(baseline "${methods[@]}")
  mkdir -p "$OUT/series"
  for m in "${panels[@]}"; do
    read -r dir from to <<<"$(awk -F '\t' -v s="$scenario" -v r="$round" -v m="$m" \
      '$1 == s && $2 == r && $3 == m { print $4, $5, $6 }' "$bench_dir/windows.tsv")"
    latency_series "$dir" "$from" "$to" "$OUT/series/$scenario-r$round-$m.tx" "$OUT/series/$scenario-r$round-$m.p99"
    len=$(ratio 3 $((to - from)) 1000000)
    xmax=$(awk -v a="$xmax" -v b="$len" 'BEGIN { print (b > a ? b : a) }')
  done
  # A shared logarithmic latency axis, from a power of ten below the
  # fastest transaction to one above the slowest.
  range=$(cat "$OUT/series/$scenario-r$round"-*.tx | awk '
    NR == 1 { lo = hi = $2 } $2 < lo { lo = $2 } $2 > hi { hi = $2 }
    END {
      if (lo <= 0) lo = 0.001
      printf "%g:%g", 10 ^ int(log(lo) / log(10) - (lo < 1)), 10 ^ (int(log(hi) / log(10)) + 1)
    }')
  ref=$(figure "$scenario" "$round" "${methods[0]}" 24)
  n=${#panels[@]}
  {
    echo "set terminal pngcairo size 1400,$((170 * n + 60)) font 'sans,9'"
    echo "set output '$png'"
    # Labels are plain text: strong_migrations' underscore is no subscript.
    echo "set termoption noenhanced"
    echo "set multiplot layout $n,1 title \"$scenario round $round: the workload's latency (offered $(figure "$scenario" "$round" baseline 14) tps) while each method fills ${scenario_target[$scenario]}\\nx = seconds since the method started, dashed = its start and end\" font ',11'"
    echo "set logscale y"
    echo "set yrange [$range]"
    echo "set xrange [-1:$(awk -v x="$xmax" 'BEGIN { print x + 1 }')]"
    echo "set ylabel 'latency ms'"
    echo "set grid xtics ytics lc rgb '#dddddd'"
    echo "set lmargin 10"
    echo "set rmargin 3"
    echo "set key top right horizontal font ',8'"
    for m in "${panels[@]}"; do
      i=$((i + 1))
      len=$(figure "$scenario" "$round" "$m" 7)
      title="${method_label[$m]}: $len s, $(figure "$scenario" "$round" "$m" 17) tps, p99 $(figure "$scenario" "$round" "$m" 19) ms"
      if [ "$m" != baseline ]; then title+=" ($(figure "$scenario" "$round" "$m" 26)x baseline)"; fi
      title+=", max $(figure "$scenario" "$round" "$m" 20) ms, $(figure "$scenario" "$round" "$m" 21) s with no transaction ending"
      echo "set title \"$title\""
      echo "set arrow 1 from 0, graph 0 to 0, graph 1 nohead dt 2 lc rgb '#555555'"
      echo "set arrow 2 from $len, graph 0 to $len, graph 1 nohead dt 2 lc rgb '#555555'"
      last=
      if [ "$i" -eq "$n" ]; then echo "set xlabel 'seconds since the method started'"; fi
      if [ "$ref" != - ]; then last=", $ref with lines dt 3 lw 1.2 lc rgb '#0050c0' title 'baseline p99 $ref ms (before and after the round)'"; fi
      echo "plot '$OUT/series/$scenario-r$round-$m.tx' using 1:2 with points pt 7 ps 0.2 lc rgb '#a0606060' title 'transaction', \\"
      echo "     '$OUT/series/$scenario-r$round-$m.p99' using 1:2 with lines lw 1.5 lc rgb '#c00000' title 'p99 per 100 ms'$last"
      echo "unset key"
    done
    echo "unset multiplot"
  } >"$gp"
  gnuplot "$gp" 2>"$OUT/series/$scenario-r$round.gnuplot.err" ||
    { cat "$OUT/series/$scenario-r$round.gnuplot.err" >&2; return 1; }
  # The dots are MBs per round: kept only with COLMIG_BENCH_KEEP.
  if [ -z "${COLMIG_BENCH_KEEP:-}" ]; then rm -f "$OUT/series/$scenario-r$round"-*.tx; fi
  echo "   $png"
}

# growth_chart: one PNG, $OUT/growth.png: for each scenario and method the
# median over the rounds of the filled table's heap and indexes after the
# method, as multiples of their size before (enriched.tsv, heap_x and
# index_x), as clustered bars; 1 = no growth.
growth_chart() {
  local png=$OUT/growth.png gp=$OUT/series/growth.gp data=$OUT/series/growth.dat
  mkdir -p "$OUT/series"
  awk -F '\t' -v OFS='\t' '
    function median(list,   n, v, i, j, t) {
      n = split(list, v, " ")
      for (i = 2; i <= n; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    $4 == "baseline" || $29 == "-" { next }
    {
      g = $1 ": " $5
      if (!(g in heap)) order[++n] = g
      heap[g] = heap[g] " " $29
      index_[g] = index_[g] " " $30
    }
    END { for (k = 1; k <= n; k++) print "\"" order[k] "\"", median(heap[order[k]]), median(index_[order[k]]) }
  ' "$bench_dir/enriched.tsv" >"$data"
  [ -s "$data" ] || return 0
  {
    echo "set terminal pngcairo size 1400,$((30 * $(wc -l <"$data") + 360)) font 'sans,9'"
    echo "set output '$png'"
    echo "set termoption noenhanced"
    echo "set title \"The filled table after each method: heap and indexes as multiples of their size before (median over the rounds; 1 = no growth)\" font ',11'"
    echo "set style data histogram"
    echo "set style histogram clustered gap 1"
    echo "set style fill solid 0.8 border -1"
    echo "set boxwidth 0.9"
    echo "set yrange [0:*]"
    echo "set grid ytics lc rgb '#dddddd'"
    echo "set xtics rotate by -30 left"
    echo "set bmargin 12"
    echo "set rmargin 14"
    echo "set ylabel 'size after / size before'"
    echo "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb '#555555'"
    echo "plot '$data' using 2:xtic(1) title 'heap' lc rgb '#c05050', '' using 3 title 'indexes' lc rgb '#5070c0'"
  } >"$gp"
  gnuplot "$gp" 2>"$OUT/series/growth.gnuplot.err" ||
    { cat "$OUT/series/growth.gnuplot.err" >&2; return 1; }
  echo "   $png"
}
