#!/usr/bin/env bash
# Writes sample-logs/prefixes/: one real PostgreSQL 15 server's stderr log and
# its csvlog copy for each of many real `log_line_prefix` settings, for the
# tests of prefix inference. For each setting the server takes the prefix
# (ALTER SYSTEM + pg_reload_conf()), starts a new log file
# (pg_rotate_logfile()), runs a small workload (sessions of several users,
# databases and applications, local and TCP; errors; a failed login; a
# multi-line statement; a parallel sort whose workers log temp files; a
# checkpoint, so lines of processes without a session appear) and rotates
# again: every line of a file has that file's prefix.
# `prefixes.tsv` lists each file and its exact setting. Run as root; ~1 min.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=sample-logs/throwaway-server.sh
. "$HERE/throwaway-server.sh"

# NAME, log_timezone, log_line_prefix (tab-separated).
SETTINGS=$(cat <<'EOF'
pgbadger-short	UTC	%t [%p]: [%l-1] user=%u,db=%d 
pgbadger	UTC	%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h 
pganalyze	UTC	%m [%p] %q[user=%u,db=%d,app=%a] 
default	UTC	%m [%p] 
debian	Europe/Berlin	%m [%p] %q%u@%d 
rds	UTC	%t:%r:%u@%d:[%p]:
azure	UTC	%t-%c-
heroku	UTC	 sql_error_code = %e time_ms = "%m" pid="%p" proc_start_time="%s" session_id="%c" vtid="%v" tid="%x" log_line="%l" %qdatabase="%d" connection_source="%r" user="%u" application_name="%a" 
cloudsql	UTC	%m [%p]: [%l-1] db=%d,user=%u 
queryid	UTC	%m [%p] %q[queryid=%Q] %u@%d 
backend-type	UTC	%m [%p] %b %q%u@%d/%a 
leader-pid	UTC	%m [%p] [%P] %q%u@%d 
sqlstate	Etc/GMT-1	%t [%p] %e %q%u@%d 
txid	UTC	%m [%p] xid=%x %q%u@%d 
vxid	UTC	%m [%p] %v %q%u@%d 
epoch	UTC	%n [%p] %q%u@%d 
command-tag	UTC	%m [%p] %q%u@%d %i: 
session-id	UTC	%m %c %l %q%u@%d 
padding	UTC	%m [%-6p] %q%-10u %-10d 
client-host	UTC	%m [%p] %q%h %u %d 
remote-port	America/New_York	< %m %r > %q%a 
heroku-legacy	UTC	 sql_error_code = %e 
brackets	UTC	%m [%p][%b][%v][%x] %q[user=%u,db=%d,app=%a] 
literal-words	UTC	%m [%p] %q%u@%d/%a from %h 
EOF
)

start_server prefixes "listen_addresses = '127.0.0.1'
log_filename = 'pg-%Y%m%d-%H%M%S.log'
log_destination = 'stderr,csvlog'
log_min_duration_statement = 0
log_connections = on
log_disconnections = on
log_checkpoints = on
log_temp_files = 0
autovacuum = off
compute_query_id = on
max_parallel_workers_per_gather = 2
parallel_setup_cost = 0
parallel_tuple_cost = 0
min_parallel_table_scan_size = 0"

sql() {  # USER DB APP [--tcp] SQL...: one session; errors are part of the workload
    local user=$1 db=$2 app=$3; shift 3
    local host=$WORK
    if [ "${1:-}" = --tcp ]; then host=127.0.0.1; shift; fi
    pg env PGAPPNAME="$app" "$BIN/psql" -X -q -h "$host" -p "$PORT" -U "$user" -d "$db" "$@" >/dev/null 2>&1 || true
}
# A session that logs nothing itself, for switching files.
quiet() {
    pg env PGOPTIONS='-c log_min_duration_statement=-1 -c log_connections=off -c log_disconnections=off' \
        "$BIN/psql" -X -q -A -t -h "$WORK" -p "$PORT" -U postgres -d postgres "$@"
}
# Sets PREFIX and ZONE (the reload's own lines go to the file being left),
# then starts a new file: the files hold only the lines between two
# rotations, with nothing in flight when they happen.
start_file() {  # PREFIX ZONE
    local prefix=${1//\'/\'\'}
    quiet -c "ALTER SYSTEM SET log_line_prefix = '$prefix'" \
        -c "ALTER SYSTEM SET log_timezone = '$2'" -c "SELECT pg_reload_conf()" >/dev/null
    # Every process rereads the configuration on its SIGHUP; file names
    # have a resolution of one second.
    sleep 1.1
    quiet -c "SELECT pg_rotate_logfile()" >/dev/null
    sleep 0.3
    quiet -c "SELECT pg_current_logfile('stderr'), pg_current_logfile('csvlog')"
}
end_file() {
    # A backend logs its disconnection after its client has gone.
    sleep 0.5
    quiet -c "SELECT pg_rotate_logfile()" >/dev/null
    sleep 1.1
}

sql postgres postgres setup -c "CREATE ROLE alice LOGIN" -c "CREATE ROLE bob LOGIN" \
    -c "CREATE DATABASE app OWNER alice" -c "CREATE DATABASE reporting OWNER bob"
sql bob reporting setup -c "CREATE TABLE big AS SELECT g, md5(g::text) AS md5 FROM generate_series(1, 30000) g" -c "ANALYZE big"

workload() {
    sql alice app billing -c "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance int)" \
        -c "INSERT INTO accounts VALUES (1, 10) ON CONFLICT DO NOTHING" \
        -c "SELECT balance
  FROM accounts
 WHERE id = 1" -c "SELECT 1/0" -c "INSERT INTO accounts VALUES (1, 0)"
    sql bob reporting reporting-job --tcp -c "SET work_mem = '64kB'" \
        -c "SELECT count(*) FROM (SELECT md5 FROM big ORDER BY md5 DESC) s" -c "SELEC 1"
    sql alice reporting psql --tcp -c "BEGIN" -c "CREATE TEMP TABLE t AS SELECT 1 AS x" -c "COMMIT" -c "SELECT pg_sleep(0.05)"
    sql nobody app psql -c "SELECT 1"
    sql postgres postgres setup -c "CHECKPOINT"
}

rm -rf "${HERE:?}/prefixes"
mkdir -p "$HERE/prefixes"
printf 'file\tlog_line_prefix\n' > "$HERE/prefixes/prefixes.tsv"
n=0
while IFS=$'\t' read -r name zone prefix; do
    n=$((n + 1))
    file=$(printf '%02d-%s' "$n" "$name")
    read -r stderr_file csv_file < <(start_file "$prefix" "$zone" | tr '|' ' ')
    workload
    end_file
    cp "$D/$stderr_file" "$HERE/prefixes/$file.log"
    cp "$D/$csv_file" "$HERE/prefixes/$file.csv"
    printf '%s\t%s\n' "$file.log" "$prefix" >> "$HERE/prefixes/prefixes.tsv"
done <<< "$SETTINGS"
stop_server
chmod a+r "$HERE"/prefixes/*
ls -l "$HERE/prefixes"
