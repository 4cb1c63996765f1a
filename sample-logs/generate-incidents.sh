#!/usr/bin/env bash
# Writes sample-logs/incidents/ and sample-logs/incidents-steady/: two real
# PostgreSQL 15 servers under the same steady, rate-limited pgbench load
# (TPC-B-like at 10 tps from 127.0.0.1, plus a select-only client that
# reconnects once a second), one for 12 minutes with four incidents caused
# at recorded times, the other for 8 minutes with none. Both run at once.
# The incidents, separated by steady minutes:
#   lock    ACCESS EXCLUSIVE held on pgbench_accounts for 30 s
#           (BEGIN; LOCK TABLE ...; SELECT pg_sleep(30); COMMIT;)
#   errors  application `billing` fails 10 times a second for 60 s with a
#           unique violation (23505)
#   storm   host 127.0.0.3: 20 new connections a second for 45 s
#           (application `webapp`), plus wrong passwords for `webuser`
#   spill   application `reporting` sorts pgbench_accounts with
#           work_mem = 64kB, back to back for 60 s (a temp file each)
# incidents/incidents.json records each one's kind, start and end (UTC,
# taken on this machine around the statements that caused it) and its
# expected cause. Logs are stderr (prefix '%m [%p] %q%u@%d/%a from %h '),
# csvlog and jsonlog, zstd-compressed. Run as root; about 13 minutes.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=sample-logs/throwaway-server.sh
. "$HERE/throwaway-server.sh"

LOAD_TPS=10
STORM_HOST=127.0.0.3
LOCKED_TABLE=pgbench_accounts
LOCK_STATEMENT="LOCK TABLE $LOCKED_TABLE IN ACCESS EXCLUSIVE MODE"
ERROR_APP=billing
ERROR_STATEMENT="INSERT INTO invoices (id) VALUES (1)"
SPILL_APP=reporting
SPILL_STATEMENT=$(cat "$HERE/workload/incident-spill.sql")

now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
sleep_until() { while [ "$(date +%s)" -lt "$1" ]; do sleep 0.2; done; }
wait_for_listener() {  # PORT: until a socket listens on it, at most 30 s
    # Read from /proc, not by connecting: a probe through the relay would
    # log a stray connection from the storm's host.
    python3 - "$1" <<'PY'
import sys, time
port = f"{int(sys.argv[1]):04X}"
deadline = time.monotonic() + 30
def listening():
    with open("/proc/net/tcp") as table:
        return any(f[1].endswith(":" + port) and f[3] == "0A"
                   for f in (line.split() for line in list(table)[1:]))
while not listening():
    if time.monotonic() > deadline:
        sys.exit(f"nothing listens on port {sys.argv[1]} after 30 s")
    time.sleep(0.1)
PY
}
json_string() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

server_conf() {
    cat <<CONF
listen_addresses = '127.0.0.1'
log_line_prefix = '%m [%p] %q%u@%d/%a from %h '
log_min_duration_statement = 0
log_connections = on
log_disconnections = on
log_lock_waits = on
deadlock_timeout = '1s'
log_temp_files = 0
log_checkpoints = on
password_encryption = 'scram-sha-256'
shared_preload_libraries = 'pg_stat_statements'
CONF
}

psql_as() {  # APP [psql args...]: one session over the socket
    local app=$1; shift
    pg env PGAPPNAME="$app" "$BIN/psql" -X -q -h "$WORK" -p "$PORT" -U postgres -d postgres "$@" >/dev/null 2>&1 || true
}

setup_database() {
    # pgbench's initialization is not logged: only the load is.
    pg env PGOPTIONS='-c log_min_duration_statement=-1' PGAPPNAME=setup \
        "$BIN/pgbench" -h "$WORK" -p "$PORT" -U postgres -i -s 5 -q postgres >/dev/null 2>&1
    psql_as setup -c "CREATE EXTENSION pg_stat_statements" \
        -c "CREATE TABLE invoices (id int PRIMARY KEY)" \
        -c "INSERT INTO invoices VALUES (1)" \
        -c "CREATE ROLE webuser LOGIN PASSWORD 'right'" \
        -c "CHECKPOINT"
    # Wrong passwords for webuser from the storm's host; trust for the rest.
    sed -i "1i host all webuser $STORM_HOST/32 scram-sha-256" "$D/pg_hba.conf"
    echo "host all all $STORM_HOST/32 trust" >> "$D/pg_hba.conf"
    pg "$BIN/pg_ctl" -D "$D" reload >/dev/null
    sleep 1
}

start_load() {  # SECONDS: the steady load, in the background
    pg env PGAPPNAME=pgbench "$BIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres \
        -n -c 4 -j 2 -R "$LOAD_TPS" -T "$1" postgres >/dev/null 2>&1 &
    pg env PGAPPNAME=pgbench-ro "$BIN/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres \
        -n -S -C -c 1 -R 1 -T "$1" postgres >/dev/null 2>&1 &
}

cause_lock() {
    psql_as maintenance -c "BEGIN" -c "$LOCK_STATEMENT" -c "SELECT pg_sleep(30)" -c "COMMIT"
}

cause_errors() {  # one session, 10 failing statements a second for 60 s
    local end=$(( $(date +%s) + 60 ))
    while [ "$(date +%s)" -lt "$end" ]; do
        echo "$ERROR_STATEMENT;"
        sleep 0.1
    done | psql_as "$ERROR_APP"
}

cause_storm() {  # new connections from STORM_HOST for 45 s, through a relay
    local relay_port relay_pid storm_pid end
    relay_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.3",0)); print(s.getsockname()[1])')
    python3 "$HERE/workload/source-proxy.py" "$STORM_HOST" "$relay_port" "$STORM_HOST" 127.0.0.1 "$PORT" &
    relay_pid=$!
    # On a busy machine the relay can take seconds to listen, and pgbench
    # gives up at once if its first connection is refused.
    wait_for_listener "$relay_port"
    pg env PGAPPNAME=webapp "$BIN/pgbench" -h "$STORM_HOST" -p "$relay_port" -U postgres \
        -n -S -C -c 4 -j 2 -R 20 -T 45 postgres >"$WORK/storm.out" 2>&1 &
    storm_pid=$!
    end=$(( $(date +%s) + 45 ))
    while [ "$(date +%s)" -lt "$end" ]; do
        pg env PGAPPNAME=webapp PGPASSWORD=wrong "$BIN/psql" -X -q -w -h "$STORM_HOST" -p "$relay_port" \
            -U webuser -d postgres -c "SELECT 1" >/dev/null 2>&1 || true
        sleep 0.5
    done
    if ! wait "$storm_pid"; then
        echo "the storm's pgbench failed:" >&2
        cat "$WORK/storm.out" >&2
        exit 1
    fi
    kill "$relay_pid"
}

cause_spill() {
    pg env PGAPPNAME="$SPILL_APP" PGOPTIONS='-c work_mem=64kB -c max_parallel_workers_per_gather=0' \
        "$BIN/pgbench" -h "$WORK" -p "$PORT" -U postgres -n -c 1 -T 60 \
        -f "$HERE/workload/incident-spill.sql" postgres >/dev/null 2>&1
}

record() {  # KIND START END CAUSE_JSON
    printf '    {"kind": "%s", "start": "%s", "end": "%s", "cause": %s}' "$1" "$2" "$3" "$4"
}

run_incidents() {
    local t0 start recs=()
    start_server incidents "$(server_conf)"
    setup_database
    t0=$(date +%s)
    local load_start; load_start=$(now)
    start_load 720

    sleep_until $(( t0 + 150 )); start=$(now); cause_lock
    recs+=("$(record lock "$start" "$(now)" "{\"table\": \"$LOCKED_TABLE\", \"mode\": \"AccessExclusiveLock\", \"application\": \"maintenance\", \"blocker_statement\": $(json_string "$LOCK_STATEMENT")}")")

    sleep_until $(( t0 + 270 )); start=$(now); cause_errors
    recs+=("$(record errors "$start" "$(now)" "{\"application\": \"$ERROR_APP\", \"sqlstate\": \"23505\", \"statement\": $(json_string "$ERROR_STATEMENT")}")")

    sleep_until $(( t0 + 420 )); start=$(now); cause_storm
    recs+=("$(record storm "$start" "$(now)" "{\"host\": \"$STORM_HOST\", \"application\": \"webapp\", \"failing_user\": \"webuser\", \"sqlstate\": \"28P01\"}")")

    sleep_until $(( t0 + 540 )); start=$(now); cause_spill
    recs+=("$(record spill "$start" "$(now)" "{\"application\": \"$SPILL_APP\", \"query\": $(json_string "$SPILL_STATEMENT")}")")

    wait
    local load_end; load_end=$(now)
    stop_server
    save_logs incidents
    {
        echo "{"
        echo "  \"load\": {\"start\": \"$load_start\", \"end\": \"$load_end\", \"tps\": $LOAD_TPS},"
        echo "  \"incidents\": ["
        local IFS=$'\n'
        printf '%s\n' "${recs[@]}" | sed '$!s/$/,/'
        echo "  ]"
        echo "}"
    } > "$HERE/incidents/incidents.json"
    python3 -m json.tool "$HERE/incidents/incidents.json" >/dev/null
}

run_steady() {
    start_server incidents-steady "$(server_conf)"
    setup_database
    start_load 480
    wait
    stop_server
    save_logs incidents-steady
}

save_logs() {  # FOLDER
    rm -rf "${HERE:?}/$1"
    mkdir -p "$HERE/$1"
    for f in postgresql.log postgresql.csv postgresql.json; do
        zstd -q -19 -T1 "$D/log/$f" -o "$HERE/$1/$f.zst"
    done
    chmod a+r "$HERE/$1"/*
}

command -v zstd >/dev/null || { apt-get update -qq; apt-get install -y -qq zstd; }
( run_incidents ) &
incidents_pid=$!
( run_steady ) &
steady_pid=$!
wait "$incidents_pid"
wait "$steady_pid"
ls -l "$HERE"/incidents/* "$HERE"/incidents-steady/*
