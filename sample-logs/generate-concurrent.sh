#!/usr/bin/env bash
# Writes sample-logs/concurrent/: a real PostgreSQL 15 server's log in which
# concurrent sessions interleave, so that records that belong together lie
# apart: `log_statement = 'all'` with `log_duration = on` (each statement's
# text, then its bare `duration:` line, with other sessions' lines between),
# a long statement whose duration comes hundreds of records after its text,
# and parallel workers that log temporary files (without user and database,
# with leader_pid) long after their leader's last record.
# The split tests read it at many range sizes. Run as root; about 10 s.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=sample-logs/throwaway-server.sh
. "$HERE/throwaway-server.sh"

start_server concurrent "log_statement = 'all'
log_duration = on
log_connections = on
log_disconnections = on
log_temp_files = 0
autovacuum = off
max_parallel_workers_per_gather = 2
parallel_setup_cost = 0
parallel_tuple_cost = 0
min_parallel_table_scan_size = 0"

psql_as() {  # APP SQL...: a session over the socket
    local app=$1; shift
    pg env PGAPPNAME="$app" "$BIN/psql" -X -q -h "$WORK" -p "$PORT" -U postgres -d postgres "$@" >/dev/null 2>&1 || true
}
psql_as setup -c "CREATE TABLE big AS SELECT g, md5(g::text) AS md5 FROM generate_series(1, 60000) g" -c "ANALYZE big"
pg env PGAPPNAME=pgbench "$BIN/pgbench" -h "$WORK" -p "$PORT" -U postgres -i -s 1 -q postgres >/dev/null 2>&1

# A session that logs its statement, then sleeps while the others write.
psql_as sleeper -c "SELECT pg_sleep(2.5)" &
# Parallel sorts that spill: the workers log temp files; their leader has
# logged nothing since its statement text.
psql_as reporting -c "SET work_mem = '64kB'" -c "SELECT pg_sleep(0.8)" \
    -c "SELECT count(*) FROM (SELECT md5 FROM big ORDER BY md5 DESC) s" \
    -c "SELECT pg_sleep(0.8)" \
    -c "SELECT count(*) FROM (SELECT md5, g FROM big ORDER BY md5, g) s" &
# Interleaved statement/duration pairs in the simple and extended protocols.
pg env PGAPPNAME=pgbench "$BIN/pgbench" -h "$WORK" -p "$PORT" -U postgres -n -c 4 -j 2 -t 40 -M simple postgres >/dev/null 2>&1 &
pg env PGAPPNAME=pgbench "$BIN/pgbench" -h "$WORK" -p "$PORT" -U postgres -n -c 2 -j 1 -t 30 -M extended postgres >/dev/null 2>&1 &
wait
stop_server

rm -rf "${HERE:?}/concurrent"
mkdir -p "$HERE/concurrent"
cp "$D/log/postgresql.log" "$D/log/postgresql.csv" "$D/log/postgresql.json" "$HERE/concurrent/"
chmod a+r "$HERE"/concurrent/postgresql.*
ls -l "$HERE"/concurrent/postgresql.*
