#!/usr/bin/env bash
# Writes sample-logs/pgbouncer/: the log of a real pgbouncer (the Debian
# package, /usr/sbin/pgbouncer, with its own config: never the system's)
# in front of a throwaway PostgreSQL 15 server, and that server's log of
# the same run (stderr and csvlog). Through pgbouncer: two sessions, a
# wrong password, an unknown database, a client killed mid-session,
# pgbench, and the admin console's SHOW STATS, saved as show-stats.tsv.
# stats_period is 1 s, so the log has a stats line per second. pgbouncer
# also logs to syslog when no syslog daemon runs here: a throwaway rsyslogd
# on /dev/log writes pgbouncer.syslog (rsyslog's RFC 3339 file format, as
# its times have microseconds). Run as root; about 10 s.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PGBOUNCER=/usr/sbin/pgbouncer
[ -x "$PGBOUNCER" ] || { apt-get update -qq; apt-get install -y -qq pgbouncer; }
command -v rsyslogd >/dev/null || { apt-get update -qq; apt-get install -y -qq rsyslog; }
# shellcheck source=sample-logs/throwaway-server.sh
. "$HERE/throwaway-server.sh"

start_server pgbouncer "log_connections = on
log_disconnections = on
log_min_duration_statement = 0
autovacuum = off"

B=$WORK/pgbouncer
stop_pgbouncer() {
    if [ -f "$B/pgbouncer.pid" ]; then
        kill "$(cat "$B/pgbouncer.pid")" 2>/dev/null || true
    fi
}
RSYSLOG_PID=""
stop_rsyslog() {
    if [ -n "$RSYSLOG_PID" ]; then
        kill "$RSYSLOG_PID" 2>/dev/null || true
        wait "$RSYSLOG_PID" 2>/dev/null || true
        RSYSLOG_PID=""
    fi
}
trap 'stop_pgbouncer; stop_rsyslog; cleanup_server' EXIT
SYSLOG_FILE=$WORK/pgbouncer.syslog
SYSLOG=0
if [ ! -e /dev/log ]; then
    cat > "$WORK/rsyslog.conf" <<CONF
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
\$WorkDirectory $WORK
daemon.* $SYSLOG_FILE;RSYSLOG_FileFormat
CONF
    rsyslogd -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslog.pid" &
    RSYSLOG_PID=$!
    for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
    SYSLOG=1
fi

pg "$BIN/psql" -X -q -h "$WORK" -p "$PORT" -U postgres -d postgres \
    -c "CREATE ROLE alice LOGIN" -c "CREATE DATABASE app OWNER alice" >/dev/null
pg "$BIN/pgbench" -h "$WORK" -p "$PORT" -U alice -i -s 1 -q app >/dev/null 2>&1

BPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pg mkdir "$B"
pg tee "$B/userlist.txt" >/dev/null <<USERS
"alice" "alice-secret"
"admin" "admin-secret"
USERS
pg tee "$B/pgbouncer.ini" >/dev/null <<INI
[databases]
app = host=$WORK port=$PORT dbname=app
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = md5
auth_file = $B/userlist.txt
admin_users = admin
logfile = $B/pgbouncer.log
pidfile = $B/pgbouncer.pid
pool_mode = transaction
server_login_retry = 1
stats_period = 1
syslog = $SYSLOG
syslog_ident = pgbouncer
syslog_facility = daemon
INI
pg "$PGBOUNCER" -d "$B/pgbouncer.ini"

stats_lines() { grep -c ' stats: ' "$B/pgbouncer.log" 2>/dev/null || true; }
wait_stats() {  # N: waits until N more stats lines are written
    local want=$(( $(stats_lines) + $1 ))
    for _ in $(seq 100); do
        [ "$(stats_lines)" -ge "$want" ] && return 0
        sleep 0.1
    done
    echo "pgbouncer wrote no stats line" >&2
    exit 1
}
# The traffic starts after a first stats line, so that the timer runs.
wait_stats 1

through() {  # USER PASSWORD DATABASE ARGS...: a client through pgbouncer
    local user=$1 password=$2 db=$3; shift 3
    PGPASSWORD=$password PGAPPNAME=psql "$BIN/psql" -X -q -h 127.0.0.1 -p "$BPORT" -U "$user" -d "$db" "$@"
}
through alice alice-secret app -c "SELECT 1" >/dev/null
through alice alice-secret app -c "SELECT count(*) FROM pgbench_accounts" >/dev/null
through alice wrong app -c "SELECT 1" >/dev/null 2>&1 || true
through alice alice-secret nosuchdb -c "SELECT 1" >/dev/null 2>&1 || true
# A client that goes away without a word: killed once logged in, while it
# waits for input on a fifo.
logins() { grep -c ' login attempt: ' "$B/pgbouncer.log" || true; }
before=$(logins)
mkfifo "$WORK/hold"
exec 3<>"$WORK/hold"
PGPASSWORD=alice-secret "$BIN/psql" -X -q -h 127.0.0.1 -p "$BPORT" -U alice -d app <&3 >/dev/null 2>&1 &
gone=$!
for _ in $(seq 100); do [ "$(logins)" -gt "$before" ] && break; sleep 0.1; done
sleep 0.2
kill -KILL "$gone"
wait "$gone" 2>/dev/null || true
exec 3>&-
PGPASSWORD=alice-secret "$BIN/pgbench" -h 127.0.0.1 -p "$BPORT" -U alice -n -c 2 -j 1 -t 25 app >/dev/null
through admin admin-secret pgbouncer -A -F "$(printf '\t')" -c "SHOW STATS" > "$WORK/show-stats.tsv"
wait_stats 2
through admin admin-secret pgbouncer -c "SHUTDOWN" >/dev/null 2>&1 || true
for _ in $(seq 100); do [ -f "$B/pgbouncer.pid" ] || break; sleep 0.1; done
stop_server
sleep 0.5
stop_rsyslog

rm -rf "${HERE:?}/pgbouncer"
mkdir -p "$HERE/pgbouncer"
cp "$B/pgbouncer.log" "$WORK/show-stats.tsv" "$D/log/postgresql.log" "$D/log/postgresql.csv" "$HERE/pgbouncer/"
if [ -s "$SYSLOG_FILE" ]; then
    cp "$SYSLOG_FILE" "$HERE/pgbouncer/pgbouncer.syslog"
fi
chmod a+r "$HERE"/pgbouncer/*
ls -l "$HERE"/pgbouncer/
