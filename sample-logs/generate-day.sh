#!/usr/bin/env bash
# Writes a day-sized real csvlog for benchmarks: a throwaway PostgreSQL 15
# server under pgbench rounds (simple, extended and prepared protocols, and
# select-only with a connection per transaction) with
# log_min_duration_statement = 0, connections, checkpoints, autovacuum, temp
# files and auto_explain plans, until the csvlog reaches SIZE_MB. About 2
# minutes per GiB on 2 cores. Run as root (the server runs as an
# unprivileged user). The server writes the same records as csvlog, jsonlog
# and stderr (log_line_prefix '%m [%p] '): OUT.csv, and OUT.json and OUT.log
# beside it.
#
#   sample-logs/generate-day.sh SIZE_MB OUT.csv
set -euo pipefail

SIZE_MB=${1:?usage: generate-day.sh SIZE_MB OUT.csv}
DAY=${2:?usage: generate-day.sh SIZE_MB OUT.csv}
BIN=/usr/lib/postgresql/15/bin
OS_USER=pgtest

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
[ -x "$BIN/initdb" ] || { apt-get update -qq; apt-get install -y -qq postgresql-15; }
id "$OS_USER" >/dev/null 2>&1 || useradd -m "$OS_USER"

pg() { runuser -u "$OS_USER" -- "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
size_mb() { echo $(( $(stat -c %s "$1") / 1048576 )); }

generate_day() {
    local work port log
    work=$(mktemp -d /tmp/pglog-day.XXXXXX)
    chmod 755 "$work"; chown "$OS_USER" "$work"
    port=$(free_port)
    log=$work/data/log/postgresql.csv
    trap 'pg "$BIN/pg_ctl" -D "$work/data" stop -m immediate >/dev/null 2>&1 || true; rm -rf "$work"' RETURN
    pg "$BIN/initdb" -D "$work/data" -A trust -U postgres >/dev/null
    cat >> "$work/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
logging_collector = on
log_destination = 'csvlog,jsonlog,stderr'
log_line_prefix = '%m [%p] '
log_directory = 'log'
log_filename = 'postgresql'
log_rotation_size = 0
log_timezone = 'UTC'
lc_messages = 'C'
log_min_duration_statement = 0
log_connections = on
log_disconnections = on
log_checkpoints = on
log_lock_waits = on
log_temp_files = 0
log_autovacuum_min_duration = 0
checkpoint_timeout = '30s'
shared_preload_libraries = 'auto_explain'
auto_explain.log_min_duration = '20ms'
auto_explain.log_analyze = on
EOF
    pg "$BIN/pg_ctl" -D "$work/data" -l "$work/server.out" -w start >/dev/null
    pg "$BIN/pgbench" -h "$work" -p "$port" -U postgres -i -s 10 -q postgres >/dev/null 2>&1
    while [ "$(size_mb "$log")" -lt "$SIZE_MB" ]; do
        for mode in simple extended prepared; do
            pg "$BIN/pgbench" -h "$work" -p "$port" -U postgres -n -c 4 -j 2 -T 10 -M "$mode" postgres >/dev/null 2>&1
        done
        pg "$BIN/pgbench" -h "$work" -p "$port" -U postgres -n -S -C -c 4 -j 2 -T 10 postgres >/dev/null 2>&1
        # A slow sort that spills to disk, with its plan.
        pg "$BIN/psql" -X -q -h "$work" -p "$port" -U postgres -d postgres \
            -c "SET work_mem = '64kB'" \
            -c "SELECT count(*) FROM (SELECT abalance FROM pgbench_accounts ORDER BY abalance, aid DESC) s" >/dev/null
        echo "  $(size_mb "$log") MiB"
    done
    pg "$BIN/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null
    cp "$log" "$DAY"
    cp "$work/data/log/postgresql.json" "${DAY%.csv}.json"
    cp "$work/data/log/postgresql" "${DAY%.csv}.log"
}

generate_day
