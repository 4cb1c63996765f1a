#!/usr/bin/env bash
# Writes sample-logs/big-plan/postgresql.{log,csv}.gz: a real PostgreSQL 15
# server's log with auto_explain plans of 100 KB to 1 MB. A table of 300
# partitions is read by a parallel query (Gather Merge over a Parallel Append
# of every partition), and auto_explain logs its plan with log_analyze,
# log_verbose, log_buffers and track_io_timing: once in JSON (about 780 KB),
# once in text (about 170 KB). Its filter is one the planner cannot
# estimate, so every partition's scan is a misestimate insight. A small
# query's plan is logged too, for comparison.
# Run as root (the server runs as an unprivileged user); about 15 s.
# Used by the analyzer's tests (analyzer/cli/tests/analyze/big_plans.rs).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/big-plan}
# shellcheck source=sample-logs/throwaway-server.sh
. "$HERE/throwaway-server.sh"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
start_server big-plan "shared_preload_libraries = 'auto_explain'
track_io_timing = on
max_worker_processes = 8
max_parallel_workers = 4
max_parallel_workers_per_gather = 2"

sql() { pg env PGAPPNAME=big-plan "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -U postgres -d postgres "$@" >/dev/null; }

sql <<'SQL'
CREATE TABLE measurements (id int, sensor int, v double precision) PARTITION BY RANGE (id);
SELECT format('CREATE TABLE measurements_%s PARTITION OF measurements FOR VALUES FROM (%s) TO (%s)',
              i, i * 1000, (i + 1) * 1000)
FROM generate_series(0, 299) AS i \gexec
INSERT INTO measurements SELECT g, g % 97, (g % 1013) / 10.0 FROM generate_series(0, 299999) AS g;
ANALYZE measurements;
SQL

explain() {  # FORMAT: the query, explained by auto_explain in that format
    sql <<SQL
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET enable_partitionwise_aggregate = on;
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_verbose = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_format = $1;
SELECT sensor, count(*), avg(v) FROM measurements WHERE (v::int % 2) = 0 GROUP BY sensor ORDER BY 2 DESC;
SET auto_explain.log_min_duration = -1;
SQL
}
explain json
explain text
sql -c "SET auto_explain.log_min_duration = 0" -c "SET auto_explain.log_analyze = on" \
    -c "SELECT count(*) FROM measurements_7 WHERE v > 50"
stop_server

for ext in log csv; do
    gzip -9n < "$D/log/postgresql.$ext" > "$OUT/postgresql.$ext.gz"
done
chmod -R a+rX "$OUT"
python3 - "$D/log/postgresql.log" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
starts = [m.start() for m in re.finditer(r"^\d{4}-\d\d-\d\d ", text, re.M)] + [len(text)]
sizes = [b - a for a, b in zip(starts, starts[1:]) if "plan:" in text[a:b].split("\n", 1)[0]]
print("plan records (bytes):", sizes)
PY
