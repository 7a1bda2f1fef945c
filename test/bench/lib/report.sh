# shellcheck shell=bash
# What test/bench/run hands over: from $bench_dir/raw.tsv (rounds.sh) and
# $bench_dir/scale.tsv (scale.sh) the CSV files and the markdown tables,
# and the machine the figures came from.

# enrich: raw.tsv with the ratios, into enriched.tsv (tab-separated, the
# columns of results.csv).
csv_columns=(scenario round position method label rows seconds rows_per_s time_x_single wal_bytes
  table_bytes index_bytes job_seconds offered_tps transactions transactions_ended tps p50_ms p99_ms
  max_ms stall_seconds errors baseline_tps baseline_p99_ms tps_x p99_x notes target heap_x index_x)
enrich() {
  awk -F '\t' -v OFS='\t' '
    function ratio(a, b, d) {
      if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) return "-"
      return sprintf("%.*f", d, a / b)
    }
    NR == FNR {
      if ($4 == "single") single[$1, $2] = $7
      if ($4 == "ref") { ref_tps[$1, $2] = $15; ref_p99[$1, $2] = $17 }
      next
    }
    $4 == "ref" { next }
    {
      key = $1 SUBSEP $2
      method = $4 != "baseline"
      rps = method ? ratio($6, $7, 0) : "-"
      tx = method && (key in single) ? ratio($7, single[key], 2) : "-"
      bt = method && (key in ref_tps) ? ref_tps[key] : "-"
      bp = method && (key in ref_p99) ? ref_p99[key] : "-"
      notes = $21
      print $1, $2, $3, $4, $5, $6, $7, rps, tx, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, $19, $20, bt, bp, ratio($15, bt, 2), ratio($17, bp, 2), notes, $22,
            method ? ratio($9, $23, 2) : "-", method ? ratio($10, $24, 2) : "-"
    }' "$bench_dir/raw.tsv" "$bench_dir/raw.tsv" >"$bench_dir/enriched.tsv"
}

# tsv_to_csv <tsv> <csv> <columns...>: a header, the rows with the text
# columns quoted, "-" as an empty field.
tsv_to_csv() {
  local tsv=$1 csv=$2
  shift 2
  (
    IFS=,
    echo "$*"
  ) >"$csv"
  awk -F '\t' '{
    line = ""
    for (i = 1; i <= NF; i++) {
      v = $i == "-" ? "" : $i
      if (v !~ /^-?[0-9.]*$/) { gsub(/"/, "\"\"", v); v = "\"" v "\"" }
      line = line (i > 1 ? "," : "") v
    }
    print line
  }' "$tsv" >>"$csv"
}

# tables <load scenarios>: the markdown tables of enriched.tsv, each cell
# the median (min..max) over the rounds; rows is the scenario's target's
# (orders, or pgbench_accounts under tpcb).
tables() {
  awk -F '\t' -v load_scenarios="$1" '
    function numeric(v) { return v ~ /^-?[0-9]+([.][0-9]*)?$/ }
    # cell(g, c, d): median (min..max) of column c over group g.
    function cell(g, c, d,   n, i, j, t, v, m) {
      n = 0
      for (i = 1; i <= count[g]; i++) if (numeric(val[g, i, c])) v[++n] = val[g, i, c] + 0
      if (n == 0) return "-"
      for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
      m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
      if (n == 1) return sprintf("%.*f", d, m)
      return sprintf("%.*f (%.*f..%.*f)", d, m, d, v[1], d, v[n])
    }
    # same(g, c): the value of column c over group g when every round has
    # the same (the rows of a scenario), else as cell.
    function same(g, c,   i) {
      for (i = 2; i <= count[g]; i++) if (val[g, i, c] != val[g, 1, c]) return cell(g, c, 0)
      return val[g, 1, c]
    }
    function mb(g, c,   i) {
      for (i = 1; i <= count[g]; i++) if (numeric(val[g, i, c])) val[g, i, c] = val[g, i, c] / 1048576
      return cell(g, c, 1)
    }
    {
      g = $1 SUBSEP $4
      if (!(g in count)) { order[++groups] = g; scen[g] = $1; label[g] = $5 }
      count[g]++
      for (c = 1; c <= NF; c++) val[g, count[g], c] = $c
    }
    END {
      print "| scenario | method | rows | time s | rows/s | time x single | WAL MB | heap MB | heap x | indexes MB | indexes x |"
      print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
      for (k = 1; k <= groups; k++) {
        g = order[k]
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", scen[g], label[g], same(g, 6),
               cell(g, 7, 2), cell(g, 8, 0), cell(g, 9, 2), mb(g, 10), mb(g, 11), cell(g, 29, 2), mb(g, 12),
               cell(g, 30, 2)
      }
      if (load_scenarios == "") exit
      print ""
      print "| scenario | method | TPS | TPS x | p50 ms | p99 ms | p99 x | max ms | stalled s | errors |"
      print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
      for (k = 1; k <= groups; k++) {
        g = order[k]
        if (index(" " load_scenarios " ", " " scen[g] " ") == 0) continue
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", scen[g], label[g], cell(g, 17, 1),
               cell(g, 25, 2), cell(g, 18, 2), cell(g, 19, 2), cell(g, 26, 2), cell(g, 20, 1), cell(g, 21, 0),
               cell(g, 22, 0)
      }
    }' "$bench_dir/enriched.tsv"
}

# scale_table: one row per size of the scale run.
scale_columns=(rows seconds wall_seconds rows_per_s batches rows_per_batch batch_ms_mean batch_ms_p50
  batch_ms_p99 batch_ms_max sweep_batches sweep_ms)
scale_table() {
  echo "| rows | time s | rows/s | batches | rows/batch | batch ms mean | batch ms p50 | batch ms p99 | batch ms max | sweep batches | sweep ms |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                 $1, $2, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' "$bench_dir/scale.tsv"
}

# machine: where the figures came from, one line.
machine() {
  local cpu mem
  cpu=$(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  echo "$(nproc) CPUs (${cpu:-?}), $mem memory, Linux $(uname -r), PostgreSQL $(sql -c 'SHOW server_version'), colmig $(git -C "$COLMIG_ROOT" describe --always --dirty 2>/dev/null || echo '?')"
}
