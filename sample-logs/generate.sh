#!/usr/bin/env bash
# Regenerates the sample logs from real PostgreSQL 15 servers: a primary, its
# streaming replica, and a standalone server with the Amazon RDS prefix.
# Run as root (the servers run as an unprivileged user). Takes about 2 minutes.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
BIN=/usr/lib/postgresql/15/bin
OS_USER=pgtest
PASS=secret

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
[ -x "$BIN/initdb" ] || { apt-get update -qq; apt-get install -y -qq postgresql-15; }
[ -f /usr/lib/postgresql/15/lib/pgaudit.so ] || { apt-get update -qq; apt-get install -y -qq postgresql-15-pgaudit; }
command -v rsyslogd >/dev/null || { apt-get update -qq; apt-get install -y -qq rsyslog; }
id "$OS_USER" >/dev/null 2>&1 || useradd -m "$OS_USER"

WORK=$(mktemp -d /tmp/pglog-samples.XXXXXX)
chmod 755 "$WORK"
chown "$OS_USER" "$WORK"
CLUSTERS=()
RSYSLOG_PID=""
cleanup() {
    for d in "${CLUSTERS[@]}"; do
        [ -f "$d/postmaster.pid" ] && runuser -u "$OS_USER" -- "$BIN/pg_ctl" -D "$d" stop -m immediate >/dev/null 2>&1 || true
    done
    [ -n "$RSYSLOG_PID" ] && kill "$RSYSLOG_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Python with psycopg 3, whose parameterized queries use the extended protocol.
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q 'psycopg[binary]==3.2.*'

PRIMARY_PORT=$(free_port)
REPLICA_PORT=$(free_port)
RDS_PORT=$(free_port)

common_conf() {  # $1 data dir, $2 port, $3 log_line_prefix
    cat >> "$1/postgresql.conf" <<EOF
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_directory = 'log'
log_filename = 'postgresql.log'
log_rotation_age = 0
log_rotation_size = 0
log_line_prefix = '$3'
log_timezone = 'UTC'
lc_messages = 'C'
log_min_duration_statement = 0
log_checkpoints = on
log_connections = on
log_disconnections = on
log_lock_waits = on
deadlock_timeout = '200ms'
log_temp_files = 0
log_autovacuum_min_duration = 0
autovacuum_naptime = '1s'
log_replication_commands = on
auto_explain.log_min_duration = '50ms'
auto_explain.log_analyze = on
auto_explain.log_buffers = on
auto_explain.log_format = 'text'
auto_explain.log_nested_statements = on
wal_level = replica
max_wal_senders = 5
hot_standby = on
EOF
}

pg() {  # run a server binary as the OS user
    runuser -u "$OS_USER" -- "$@"
}

init_cluster() {  # $1 dir, $2 port, $3 prefix, $4 preload
    pg "$BIN/initdb" -D "$1" -A trust -U postgres --auth-host=scram-sha-256 >/dev/null
    common_conf "$1" "$2" "$3"
    echo "shared_preload_libraries = '$4'" >> "$1/postgresql.conf"
    cat > "$1/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host replication repl 127.0.0.1/32 scram-sha-256
EOF
}

start() { CLUSTERS+=("$1"); pg "$BIN/pg_ctl" -D "$1" -l "$1/startup.out" -w start >/dev/null; }
stop() { pg "$BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null; }

# su PORT DB SQL...: superuser over the socket.
su_sql() {
    local port=$1 db=$2; shift 2
    PGAPPNAME=${APP:-psql} pg env PGAPPNAME="${APP:-psql}" "$BIN/psql" -X -q -h "$WORK" -p "$port" -U postgres -d "$db" "$@" >/dev/null 2>&1 || true
}
# as USER PORT DB SQL...: a role over TCP with its password.
as() {
    local user=$1 port=$2 db=$3; shift 3
    pg env PGPASSWORD="$PASS" PGAPPNAME="${APP:-psql}" "$BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U "$user" -d "$db" "$@" >/dev/null 2>&1 || true
}

########## primary
P=$WORK/primary
init_cluster "$P" "$PRIMARY_PORT" '%m [%p] %q%u@%d/%a ' 'auto_explain,pgaudit,pg_stat_statements'
echo "pgaudit.log = 'ddl'" >> "$P/postgresql.conf"
start "$P"
# pg_stat_statements counts every statement from here on; the analyzer's
# calls per query are tested against it. The marker keeps these two
# statements, like pglog's own queries, out of the analysis.
su_sql "$PRIMARY_PORT" postgres -c "/* pglog */ CREATE EXTENSION pg_stat_statements" \
    -c "/* pglog */ SELECT pg_stat_statements_reset()"

su_sql "$PRIMARY_PORT" postgres -f "$HERE/workload/roles.sql"
as alice "$PRIMARY_PORT" app -f "$HERE/workload/schema.sql"

########## replica
R=$WORK/replica
pg env PGPASSWORD="$PASS" "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U repl -D "$R" -R -X stream -c fast
# The copy holds the primary's log directory; the replica starts its own.
rm -rf "$R/log"
cat >> "$R/postgresql.conf" <<EOF
port = $REPLICA_PORT
log_line_prefix = '%m [%p] '
max_standby_streaming_delay = '500ms'
EOF
start "$R"
sleep 1

########## primary workload
APP=psql as alice "$PRIMARY_PORT" app -f "$HERE/workload/literals.sql"
APP='<img src=x onerror=alert(3)>' as alice "$PRIMARY_PORT" app -f "$HERE/workload/hostile.sql"
APP=billing as alice "$PRIMARY_PORT" app -f "$HERE/workload/errors.sql"
APP=reporting-job as bob "$PRIMARY_PORT" app -c "SELECT * FROM accounts LIMIT 1" -c "SELECT * FROM secrets" -c "INSERT INTO orders (account_id, note) VALUES (1, 'from bob')"
APP=reporting-job as bob "$PRIMARY_PORT" reporting -c "SELECT count(*) FROM pg_class"

# Deadlock: opposite update order.
APP=billing as alice "$PRIMARY_PORT" app -c "BEGIN" -c "UPDATE accounts SET balance = balance + 1 WHERE id = 1" -c "SELECT pg_sleep(0.5)" -c "UPDATE accounts SET balance = balance + 1 WHERE id = 2" -c "COMMIT" &
APP=billing as alice "$PRIMARY_PORT" app -c "BEGIN" -c "UPDATE accounts SET balance = balance - 1 WHERE id = 2" -c "SELECT pg_sleep(0.5)" -c "UPDATE accounts SET balance = balance - 1 WHERE id = 1" -c "COMMIT" &
wait

# Lock wait that ends with the lock acquired.
APP=billing as alice "$PRIMARY_PORT" app -c "BEGIN" -c "LOCK TABLE orders IN EXCLUSIVE MODE" -c "SELECT pg_sleep(1)" -c "COMMIT" &
sleep 0.3
APP=billing as alice "$PRIMARY_PORT" app -c "UPDATE orders SET note = note WHERE id = 1"
wait

# Lock timeout.
APP=billing as alice "$PRIMARY_PORT" app -c "BEGIN" -c "LOCK TABLE orders IN EXCLUSIVE MODE" -c "SELECT pg_sleep(0.8)" -c "COMMIT" &
sleep 0.3
APP=billing as alice "$PRIMARY_PORT" app -c "SET lock_timeout = '100ms'" -c "UPDATE orders SET note = note WHERE id = 1"
wait

# Serialization failure.
APP=billing as alice "$PRIMARY_PORT" app -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT balance FROM accounts WHERE id = 3" -c "SELECT pg_sleep(0.6)" -c "UPDATE accounts SET balance = 0 WHERE id = 3" -c "COMMIT" &
sleep 0.3
APP=billing as alice "$PRIMARY_PORT" app -c "UPDATE accounts SET balance = 5 WHERE id = 3"
wait

# Cancel and terminate sleeping sessions; idle-in-transaction timeout.
APP=victim-cancel as alice "$PRIMARY_PORT" app -c "SELECT pg_sleep(5)" &
APP=victim-terminate as alice "$PRIMARY_PORT" app -c "SELECT pg_sleep(5)" &
sleep 0.5
su_sql "$PRIMARY_PORT" postgres -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim-cancel'" \
    -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim-terminate'"
wait
printf "SET idle_in_transaction_session_timeout = '200ms';\nBEGIN;\nSELECT 1;\n\\\\! sleep 0.6\nSELECT 2;\n" | APP=billing as alice "$PRIMARY_PORT" app

# Authentication failures and missing objects at connection time.
pg env PGPASSWORD=wrong "$BIN/psql" -X -h 127.0.0.1 -p "$PRIMARY_PORT" -U alice -d app -c "SELECT 1" >/dev/null 2>&1 || true
pg "$BIN/psql" -X -h "$WORK" -p "$PRIMARY_PORT" -U nosuchrole -d app -c "SELECT 1" >/dev/null 2>&1 || true
as alice "$PRIMARY_PORT" nosuchdb -c "SELECT 1"

# Extended protocol with multi-line parameters (psycopg 3).
PGPASSWORD="$PASS" "$WORK/venv/bin/python" "$HERE/workload/extended.py" "host=127.0.0.1 port=$PRIMARY_PORT user=alice dbname=app application_name=billing"

# Temporary files, parallel workers, plans in text and JSON.
APP=reporting-job su_sql "$PRIMARY_PORT" app -f "$HERE/workload/heavy.sql"

# pgbench in each protocol.
pg env PGPASSWORD="$PASS" PGAPPNAME=pgbench "$BIN/pgbench" -h 127.0.0.1 -p "$PRIMARY_PORT" -U alice -i -s 1 -q app >/dev/null 2>&1
for mode in simple extended prepared; do
    pg env PGPASSWORD="$PASS" PGAPPNAME=pgbench "$BIN/pgbench" -h 127.0.0.1 -p "$PRIMARY_PORT" -U alice -n -c 3 -j 3 -t 20 -M "$mode" app >/dev/null 2>&1
done

# carol: log_statement=all with log_duration, so durations follow the text.
su_sql "$PRIMARY_PORT" app -c "GRANT SELECT ON pgbench_accounts TO carol"
APP=psql as carol "$PRIMARY_PORT" app -c "SELECT count(*) FROM pgbench_accounts WHERE aid < 100" -c "SELECT 1/0" -c "SELECT now()"
pg env PGPASSWORD="$PASS" PGAPPNAME=pgbench "$BIN/pgbench" -h 127.0.0.1 -p "$PRIMARY_PORT" -U carol -n -c 1 -t 5 -M extended -f "$HERE/workload/carol.pgbench" app >/dev/null 2>&1

# Writes that autovacuum and autoanalyze pick up; pgaudit write entries from bob.
APP=billing as alice "$PRIMARY_PORT" app -c "UPDATE accounts SET balance = balance + 1" -c "DELETE FROM orders WHERE id > 150"
APP=reporting-job as bob "$PRIMARY_PORT" app -c "INSERT INTO orders (account_id, note) VALUES (2, 'audited')"
sleep 4

# Configuration reload with a changed parameter.
su_sql "$PRIMARY_PORT" postgres -c "ALTER SYSTEM SET work_mem = '8MB'" -c "SELECT pg_reload_conf()"
sleep 1

########## replica workload
APP=reporting-job as alice "$REPLICA_PORT" app -c "SELECT count(*) FROM big" -c "SELECT pg_sleep(0.06)" \
    -c "INSERT INTO accounts (id, balance) VALUES (999, 0)" -c "SELECT * FROM nosuchtable"
APP=psql su_sql "$REPLICA_PORT" app -c "SET auto_explain.log_format = 'json'" -c "SELECT count(*), max(md5) FROM big WHERE g % 3 = 0" -c "SELECT pg_sleep(0.06)"
# Recovery conflict: a replica query holds a lock the primary's replay needs.
APP=reporting-job as alice "$REPLICA_PORT" app -c "BEGIN" -c "SELECT count(*) FROM accounts" -c "SELECT pg_sleep(4)" -c "COMMIT" &
sleep 0.5
APP=billing as alice "$PRIMARY_PORT" app -c "BEGIN" -c "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE" -c "COMMIT"
wait
# A restartpoint needs a checkpoint from the primary first.
su_sql "$PRIMARY_PORT" postgres -c "CHECKPOINT"
sleep 1
su_sql "$REPLICA_PORT" postgres -c "CHECKPOINT"
su_sql "$PRIMARY_PORT" postgres -c "CHECKPOINT"

# Top-level calls per role, database and query, saved next to the logs.
pg "$BIN/psql" -X -q -A -t -h "$WORK" -p "$PRIMARY_PORT" -U postgres -d postgres -c "/* pglog */ SELECT json_agg(json_build_object('user', r.rolname, 'database', d.datname, 'calls', s.calls, 'query', s.query) ORDER BY r.rolname, d.datname, s.query) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid WHERE s.toplevel AND s.query NOT LIKE '%/* pglog */%'" > "$WORK/pg_stat_statements.json"

stop "$R"
stop "$P"

########## rds-style server, also logging to syslog
S=$WORK/rds
init_cluster "$S" "$RDS_PORT" '%t:%r:%u@%d:[%p]:' 'auto_explain'
SYSLOG_FILE=$WORK/postgresql.syslog
if [ ! -e /dev/log ]; then
    cat > "$WORK/rsyslog.conf" <<EOF
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
\$WorkDirectory $WORK
local0.* $SYSLOG_FILE;RSYSLOG_TraditionalFileFormat
EOF
    rsyslogd -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslog.pid" &
    RSYSLOG_PID=$!
    sleep 1
    cat >> "$S/postgresql.conf" <<EOF
log_destination = 'stderr,csvlog,jsonlog,syslog'
syslog_facility = 'LOCAL0'
syslog_ident = 'postgres'
syslog_sequence_numbers = on
syslog_split_messages = on
EOF
fi
# This server logs in Central European time, so reports are tested on a log
# whose zone is not UTC.
echo "log_timezone = 'Europe/Berlin'" >> "$S/postgresql.conf"
start "$S"
su_sql "$RDS_PORT" postgres -f "$HERE/workload/roles.sql"
as alice "$RDS_PORT" app -f "$HERE/workload/schema.sql"
APP=billing as alice "$RDS_PORT" app -f "$HERE/workload/literals.sql"
APP=billing as alice "$RDS_PORT" app -c "SELECT 1/0" -c "INSERT INTO accounts (id, balance) VALUES (1, 0)" -c "SELEC 1" \
    -c "SET work_mem = '64kB'" -c "SELECT count(*) FROM (SELECT g FROM generate_series(1, 100000) g ORDER BY g DESC) s" \
    -c "SELECT pg_sleep(0.06)"
pg env PGPASSWORD=wrong "$BIN/psql" -X -h 127.0.0.1 -p "$RDS_PORT" -U bob -d app -c "SELECT 1" >/dev/null 2>&1 || true
su_sql "$RDS_PORT" postgres -c "CHECKPOINT"
stop "$S"
if [ -n "$RSYSLOG_PID" ]; then
    sleep 1
    kill "$RSYSLOG_PID"
    wait "$RSYSLOG_PID" 2>/dev/null || true
    RSYSLOG_PID=""
fi

########## collect
for inst in primary replica rds; do
    rm -rf "${HERE:?}/$inst"
    mkdir -p "$HERE/$inst"
    cp "$WORK/$inst/log/postgresql.log" "$WORK/$inst/log/postgresql.csv" "$WORK/$inst/log/postgresql.json" "$HERE/$inst/"
done
[ -s "$SYSLOG_FILE" ] && cp "$SYSLOG_FILE" "$HERE/rds/postgresql.syslog"
python3 -m json.tool "$WORK/pg_stat_statements.json" > "$HERE/expected-pg-stat-statements.json"
chmod a+r "$HERE"/*/postgresql.*
python3 "$HERE/count.py" --all "$HERE" > "$HERE/expected-counts.json"
ls -l "$HERE"/*/postgresql.*
# The same logs in managed and containerised servers' envelopes.
"$HERE/wrap/generate.sh"
