# shellcheck shell=bash
# The table and the six ways to give it a new column filled for every
# row: orders.total numeric = price * qty. Each method runs from psql,
# prints nothing and leaves a note on what it did in $bench_dir/steps; the
# caller times it. Needs JOB_TIMEOUT.

all_methods=(single procedure pgroll strong unthrottled colmig)
declare -A method_label=([baseline]='baseline (no migration)' [single]='single UPDATE'
  [procedure]='procedure, COMMIT per 10k' [pgroll]='pgroll-like 1k batches'
  [strong]='strong_migrations-like 10k + 10 ms' [unthrottled]='colmig throttle => false'
  [colmig]='colmig default')

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

# The procedure method's procedure: what a DBA writes to keep transactions
# short, walking the primary key and committing every 10,000 rows.
create_procedure() {
  sql <<'SQL'
CREATE PROCEDURE backfill_in_procedure() LANGUAGE plpgsql AS $$
DECLARE
  last bigint;
  hi bigint;
BEGIN
  SELECT min(id) - 1, max(id) INTO last, hi FROM orders;
  WHILE last < hi LOOP
    UPDATE orders SET total = price * qty WHERE id > last AND id <= last + 10000;
    last := last + 10000;
    COMMIT;
  END LOOP;
END
$$;
SQL
}

# wrong_rows <table>: rows whose total is not price * qty; 0 or the
# figures mean nothing.
wrong_rows() {
  sql -c "SELECT count(*) FILTER (WHERE total IS DISTINCT FROM price * qty) FROM $1"
}

# reset_orders: outside the windows, drop total and rewrite the table, so
# that every method starts from a table of the same size with no dead rows
# of the last one (and no autovacuum of them due).
reset_orders() {
  sql <<'SQL'
SET client_min_messages = warning;
ALTER TABLE orders DROP COLUMN IF EXISTS total;
VACUUM FULL orders;
ANALYZE orders;
SQL
}

# 1. What most people type: one statement, one transaction, every row.
method_single() {
  sql -c 'ALTER TABLE orders ADD COLUMN total numeric' -c 'UPDATE orders SET total = price * qty'
  echo "one UPDATE" >"$bench_dir/steps"
}

# 2. The batches inside the server: no round trip per batch.
method_procedure() {
  sql -c 'ALTER TABLE orders ADD COLUMN total numeric' -c 'CALL backfill_in_procedure()'
  echo "CALL, COMMIT every 10000 rows" >"$bench_dir/steps"
}

# client_batches <rows per batch> <statement after each batch, or empty>:
# the client loop of pgroll and strong_migrations: psql sends one UPDATE
# per batch, each its own transaction (autocommit), over keyset ranges of
# the primary key. \gexec runs every column of every row as a separate
# statement, one round trip each, as a migration tool's loop would.
client_batches() {
  local size=$1 after=$2
  sql -c 'ALTER TABLE orders ADD COLUMN total numeric'
  # psql prints an empty line per pg_sleep() result: not ours to show.
  sql >/dev/null <<SQL
SELECT format('UPDATE orders SET total = price * qty WHERE id > %s AND id <= %s', lo, lo + $size)
       ${after:+, '$after'}
  FROM (SELECT min(id) - 1 AS first, max(id) AS last FROM orders) r,
       generate_series(r.first, r.last - 1, $size) lo
\gexec
SQL
}

# 3. pgroll: batches of 1000, no pause.
method_pgroll() {
  client_batches 1000 ''
  echo "$(((ROWS + 999) / 1000)) UPDATEs of 1000 rows" >"$bench_dir/steps"
}

# 4. strong_migrations' in_batches: 10,000 rows, then sleep(0.01). The
# sleep is a statement of its own, outside the batch's transaction.
method_strong() {
  client_batches 10000 'SELECT pg_sleep(0.01)'
  echo "$(((ROWS + 9999) / 10000)) UPDATEs of 10000 rows, 10 ms sleep after each" >"$bench_dir/steps"
}

# colmig_job <table> <extra add_column arguments>: the job, then
# wait_job; sets job (its id) and job_seconds (the worker's started_at to
# finished_at).
job=
job_seconds=
colmig_job() {
  local state
  job=$(sql -c "SELECT colmig.add_column('$1', 'total', 'numeric', backfill_expr => 'price * qty'$2)")
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
  colmig_job orders ', throttle => false'
  colmig_note
}
method_colmig() {
  colmig_job orders ''
  colmig_note
}
