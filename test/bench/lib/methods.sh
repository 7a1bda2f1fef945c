# shellcheck shell=bash
# The tables and the eight ways to give one of them a new column filled for
# every row. What a scenario fills is its target (set_target): a table,
# its key column, the new column, its type and the expression that fills
# it; every method, the reset between them, the size figures and the
# check use it. quiet and orders fill orders.total numeric = price * qty;
# tpcb fills the TPC-B workload's own hot table, pgbench_accounts.c int =
# abalance + aid. The names are fixed ones of this script, spliced into
# the SQL as they are. Each method runs from psql, prints nothing and
# leaves a note on what it did in $bench_dir/steps; the caller times it.
# Needs JOB_TIMEOUT.

all_methods=(single procedure pgroll strong unthrottled colmig parallel loose)
declare -A method_label=([baseline]='baseline (no migration)' [single]='single UPDATE'
  [procedure]='procedure, COMMIT per 10k' [pgroll]='pgroll-like 1k batches'
  [strong]='strong_migrations-like 10k + 10 ms' [unthrottled]='colmig throttle => false'
  [colmig]='colmig default' [parallel]='colmig throttle => false, parallel => 2'
  [loose]='colmig throttle => false, compact => false')

# The target: table, key column, new column, its type, the fill
# expression, the table's rows (counted when set), and how the check
# after a method goes: exact (every row's column equals the expression)
# or filled (no row's column is NULL).
tgt_table=
tgt_key=
tgt_column=
tgt_type=
tgt_expr=
tgt_rows=
tgt_check=
# set_target <table> <key> <column> <type> <expression> <exact|filled>
set_target() {
  tgt_table=$1 tgt_key=$2 tgt_column=$3 tgt_type=$4 tgt_expr=$5 tgt_check=$6
  tgt_rows=$(sql -c "SELECT count(*) FROM $tgt_table")
}

# target_of <scenario>: the scenario's target. Under tpcb the application
# goes on changing abalance while and after a method runs (the workload
# runs until the end of its current pgbench run), and no method keeps c =
# abalance + aid for a row already filled: the peers have no trigger, and
# colmig's fill trigger fills a row the application writes only while
# its c is NULL (src/api/fill_trigger.cpp), and is gone once the job
# ends. So under tpcb the check is that no row was left NULL; in quiet
# and orders (whose workload updates only placed_at) every value is
# checked.
target_of() {
  case $1 in
    tpcb) set_target pgbench_accounts aid c int 'abalance + aid' filled ;;
    *) set_target orders id total numeric 'price * qty' exact ;;
  esac
}

# target_text: the target in words, e.g. "pgbench_accounts.c int =
# abalance + aid".
target_text() { echo "$tgt_table.$tgt_column $tgt_type = $tgt_expr"; }

# create_orders <table> <rows>: the old test/bench/run table, vacuumed and
# analysed.
create_orders() {
  sql <<SQL
CREATE TABLE $1 (id bigint PRIMARY KEY, price numeric(10,2) NOT NULL,
                 qty int NOT NULL, placed_at timestamptz NOT NULL);
INSERT INTO $1
SELECT g, (g % 1000) / 10.0 + 1, g % 9 + 1, now() - g * interval '1 second'
  FROM generate_series(1, $2) g;
VACUUM ANALYZE $1;
SQL
}

# The procedure method's procedure for the target, one per target
# (procedure_name): what a DBA writes to keep transactions short, walking
# the key and committing every 10,000 keys.
procedure_name() { echo "backfill_${tgt_table}_$tgt_column"; }
create_procedure() {
  sql <<SQL
CREATE OR REPLACE PROCEDURE $(procedure_name)() LANGUAGE plpgsql AS \$\$
DECLARE
  last bigint;
  hi bigint;
BEGIN
  SELECT min($tgt_key) - 1, max($tgt_key) INTO last, hi FROM $tgt_table;
  WHILE last < hi LOOP
    UPDATE $tgt_table SET $tgt_column = $tgt_expr WHERE $tgt_key > last AND $tgt_key <= last + 10000;
    last := last + 10000;
    COMMIT;
  END LOOP;
END
\$\$;
SQL
}

# wrong_rows: the target's rows that fail its check (exact: the column
# is not the expression; filled: the column is NULL); 0 or the figures
# mean nothing.
wrong_rows() {
  if [ "$tgt_check" = exact ]; then
    sql -c "SELECT count(*) FILTER (WHERE $tgt_column IS DISTINCT FROM $tgt_expr) FROM $tgt_table"
  else
    sql -c "SELECT count(*) FILTER (WHERE $tgt_column IS NULL) FROM $tgt_table"
  fi
}

# stale_rows: filled targets only, for the record: the rows whose column
# no longer equals the expression (the application changed them after
# they were filled).
stale_rows() {
  sql -c "SELECT count(*) FILTER (WHERE $tgt_column IS DISTINCT FROM $tgt_expr) FROM $tgt_table"
}

# reset_target: outside the windows, with no workload running, make
# orders again, or drop the new column of pgbench_accounts and rewrite it,
# so that every method starts from a table of the same size with no dead
# rows of the last one (and no autovacuum of them due). For pgbench_accounts also what pgbench does
# before a run without -n: vacuum its two small hot tables and empty
# pgbench_history, which the workload's windows keep growing.
reset_target() {
  # orders is made again: a dropped column stays in the table's rows (a
  # NULL in each), and after a few rounds the tables the methods started
  # from were no longer alike (65 MB instead of 57 MB; under compact the
  # primary key then grew 1.3-2x instead of not at all).
  if [ "$tgt_table" = orders ]; then
    sql -c 'DROP TABLE orders'
    create_orders orders "$tgt_rows"
    return
  fi
  sql <<SQL
SET client_min_messages = warning;
ALTER TABLE $tgt_table DROP COLUMN IF EXISTS $tgt_column;
VACUUM FULL $tgt_table;
ANALYZE $tgt_table;
SQL
  if [ "$tgt_table" = pgbench_accounts ]; then
    sql -c 'VACUUM pgbench_branches' -c 'VACUUM pgbench_tellers' -c 'TRUNCATE pgbench_history'
  fi
}

add_column_sql() { echo "ALTER TABLE $tgt_table ADD COLUMN $tgt_column $tgt_type"; }

# 1. What most people type: one statement, one transaction, every row.
method_single() {
  sql -c "$(add_column_sql)" -c "UPDATE $tgt_table SET $tgt_column = $tgt_expr"
  echo "one UPDATE" >"$bench_dir/steps"
}

# 2. The batches inside the server: no round trip per batch.
method_procedure() {
  sql -c "$(add_column_sql)" -c "CALL $(procedure_name)()"
  echo "CALL, COMMIT every 10000 keys" >"$bench_dir/steps"
}

# client_batches <keys per batch> <statement after each batch, or empty>:
# the client loop of pgroll and strong_migrations: psql sends one UPDATE
# per batch, each its own transaction (autocommit), over keyset ranges of
# the key. \gexec runs every column of every row as a separate
# statement, one round trip each, as a migration tool's loop would.
client_batches() {
  local size=$1 after=$2
  sql -c "$(add_column_sql)"
  # psql prints an empty line per pg_sleep() result: not ours to show.
  sql >/dev/null <<SQL
SELECT format('UPDATE $tgt_table SET $tgt_column = $tgt_expr WHERE $tgt_key > %s AND $tgt_key <= %s', lo, lo + $size)
       ${after:+, '$after'}
  FROM (SELECT min($tgt_key) - 1 AS first, max($tgt_key) AS last FROM $tgt_table) r,
       generate_series(r.first, r.last - 1, $size) lo
\gexec
SQL
}

# 3. pgroll: batches of 1000, no pause. (The keys of both targets run
# from 1 to their rows: ceil(rows / size) batches.)
method_pgroll() {
  client_batches 1000 ''
  echo "$(((tgt_rows + 999) / 1000)) UPDATEs of 1000 rows" >"$bench_dir/steps"
}

# 4. strong_migrations' in_batches: 10,000 rows, then sleep(0.01). The
# sleep is a statement of its own, outside the batch's transaction.
method_strong() {
  client_batches 10000 'SELECT pg_sleep(0.01)'
  echo "$(((tgt_rows + 9999) / 10000)) UPDATEs of 10000 rows, 10 ms sleep after each" >"$bench_dir/steps"
}

# colmig_job <extra add_column arguments>: the job on the target, then
# wait_job; sets job (its id) and job_seconds (the worker's started_at to
# finished_at).
job=
job_seconds=
colmig_job() {
  local state
  job=$(sql -c "SELECT colmig.add_column('$tgt_table', '$tgt_column', '$tgt_type', backfill_expr => '$tgt_expr'$1)")
  if ! state=$(sql -c "CALL colmig.wait_job($job, '$JOB_TIMEOUT s')" 2>"$bench_dir/colmig.err"); then
    cat "$bench_dir/colmig.err" >&2
    sql -c "SELECT colmig.cancel($job)" >/dev/null 2>&1 || true
    sql -c "SELECT 'job $job: ' || state || ', last_error: ' || coalesce(last_error, '-')
              FROM colmig.progress WHERE job_id = $job" >&2 || true
    broken "colmig job $job did not succeed"
  fi
  [ "$state" = succeeded ] || broken "colmig job $job ended $state"
  job_seconds=$(sql -c "SELECT round(extract(epoch FROM finished_at - started_at)::numeric, 3)
                          FROM colmig.jobs WHERE job_id = $job")
}

# colmig_note: the job's own run time, queueing and rows_done, next to
# the wall time the caller measures.
colmig_note() {
  sql -c "SELECT 'job $job: ran ' || round(extract(epoch FROM finished_at - started_at)::numeric, 2)
                 || ' s, queued ' || round(extract(epoch FROM started_at - created_at)::numeric * 1000, 1)
                 || ' ms, rows_done ' || rows_done || ', lock_retries ' || lock_retries
            FROM colmig.progress WHERE job_id = $job" >"$bench_dir/steps"
}

# 5. and 6.
method_unthrottled() {
  colmig_job ', throttle => false'
  colmig_note
}
method_colmig() {
  colmig_job ''
  colmig_note
}
# 7. and 8.: two workers on page ranges; and without compact (each row's
# new version wherever an UPDATE would put it), to show what compact saves.
method_parallel() {
  colmig_job ', throttle => false, parallel => 2'
  colmig_note
}
method_loose() {
  colmig_job ', throttle => false, compact => false'
  colmig_note
}
