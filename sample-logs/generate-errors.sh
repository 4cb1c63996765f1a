#!/usr/bin/env bash
# Writes sample-logs/errors/: one real PostgreSQL 15 server's log of a
# workload of failing statements and connections (workload/error-*.sql and
# the sessions below), in stderr, csvlog and jsonlog, for the SQLSTATE
# inference table (sqlstate-table.py builds it from these logs) and its
# test. It covers the SQLSTATE classes a client can cause: syntax, undefined
# and duplicate objects, constraint violations (unique, foreign key, check,
# not null, exclusion, partition routing, row-level security), SQL/JSON and
# other data exceptions, wrong object types, views, privileges, transaction
# states, serialization failures and deadlocks (two sessions), lock and
# statement timeouts, temp_file_limit, program limits, features not
# supported, dependent objects, and FATALs at connection time (a missing
# database, a wrong password, a missing role, a role that may not log in).
# Run as root; ~30 s. Then run sqlstate-table.py to rebuild the table.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=sample-logs/throwaway-server.sh
. "$HERE/throwaway-server.sh"

start_server errors "listen_addresses = '127.0.0.1'
password_encryption = 'scram-sha-256'
deadlock_timeout = '100ms'
autovacuum = off
max_prepared_transactions = 0"
# Password authentication over TCP, for the wrong-password FATAL.
# A rejecting line and no line for template1, for the pg_hba.conf FATALs.
sed -i '/^host/d' "$D/pg_hba.conf"
cat >> "$D/pg_hba.conf" <<HBA
host postgres nologin_role 127.0.0.1/32 reject
host postgres,other_db all 127.0.0.1/32 scram-sha-256
HBA
pg "$BIN/pg_ctl" -D "$D" reload >/dev/null
sleep 0.5

psql_as() {  # USER DB [psql args...]: one local session
    local user=$1 db=$2; shift 2
    pg "$BIN/psql" -X -q -h "$WORK" -p "$PORT" -U "$user" -d "$db" "$@" >/dev/null 2>&1 || true
}
tcp_as() {  # USER PASSWORD DB
    pg env PGPASSWORD="$2" PGCONNECT_TIMEOUT=5 "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U "$1" -d "$3" -c "SELECT 1" >/dev/null 2>&1 || true
}

pg "$BIN/psql" -X -q -h "$WORK" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -f "$HERE/workload/error-setup.sql" >/dev/null
psql_as postgres postgres -f "$HERE/workload/error-classes.sql"
psql_as app_user postgres -f "$HERE/workload/error-privileges.sql"
# Lexer errors that would swallow the rest of a script.
# shellcheck disable=SC2016 # the dollar quotes are SQL's
psql_as postgres postgres -c "SELECT 'unterminated" -c 'SELECT $$unterminated' -c 'SELECT ""' \
    -c "SELECT U&'\\0000'" -c 'SELECT 1 /* unterminated' -c "SELECT E'\\x'" -c "SELECT B'1" -c "SELECT X'1"

# Connection-time FATALs.
psql_as postgres no_such_db -c "SELECT 1"
psql_as no_such_role postgres -c "SELECT 1"
psql_as nologin_role postgres -c "SELECT 1"
tcp_as app_user wrong-password postgres
tcp_as no_such_role x postgres
tcp_as nologin_role x postgres
tcp_as app_user secret template1

# Two sessions: a deadlock (40P01).
psql_as postgres postgres -c "BEGIN" -c "UPDATE locked SET v = 1 WHERE id = 1" \
    -c "SELECT pg_sleep(0.5)" -c "UPDATE locked SET v = 1 WHERE id = 2" -c "COMMIT" &
sleep 0.2
psql_as postgres postgres -c "BEGIN" -c "UPDATE locked SET v = 2 WHERE id = 2" \
    -c "UPDATE locked SET v = 2 WHERE id = 1" -c "COMMIT"
wait

# A serialization failure (40001): both read, one writes and commits first.
psql_as postgres postgres -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT * FROM locked" \
    -c "SELECT pg_sleep(0.5)" -c "UPDATE locked SET v = 3 WHERE id = 1" -c "COMMIT" &
sleep 0.2
psql_as postgres postgres -c "UPDATE locked SET v = 4 WHERE id = 1"
wait
# Serializable read/write dependencies (40001, the other wording).
psql_as postgres postgres -c "BEGIN ISOLATION LEVEL SERIALIZABLE" -c "SELECT sum(v) FROM locked WHERE id = 1" \
    -c "SELECT pg_sleep(0.5)" -c "UPDATE locked SET v = v + 1 WHERE id = 2" -c "COMMIT" &
sleep 0.2
psql_as postgres postgres -c "BEGIN ISOLATION LEVEL SERIALIZABLE" -c "SELECT sum(v) FROM locked WHERE id = 2" \
    -c "UPDATE locked SET v = v + 1 WHERE id = 1" -c "SELECT pg_sleep(0.6)" -c "COMMIT"
wait

# Locks held by another session: NOWAIT and lock_timeout (55P03).
psql_as postgres postgres -c "BEGIN" -c "LOCK TABLE locked IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(1.5)" -c "COMMIT" &
sleep 0.3
psql_as postgres postgres -c "BEGIN" -c "LOCK TABLE locked IN SHARE MODE NOWAIT" -c "ROLLBACK"
psql_as postgres postgres -c "SET lock_timeout = '100ms'" -c "SELECT * FROM locked"
psql_as postgres postgres -c "SELECT * FROM parent FOR UPDATE NOWAIT" -c "SELECT * FROM locked FOR UPDATE NOWAIT"
wait
psql_as postgres postgres -c "BEGIN" -c "SELECT * FROM locked WHERE id = 1 FOR UPDATE" -c "SELECT pg_sleep(1)" -c "COMMIT" &
sleep 0.3
psql_as postgres postgres -c "SELECT * FROM locked WHERE id = 1 FOR UPDATE NOWAIT"
wait

# Another session cancelled (57014 user request), terminated (57P01), and
# the idle timeouts (25P03, 57P05).
psql_as postgres postgres -c "SET application_name = 'victim'" -c "SELECT pg_sleep(3)" &
sleep 0.5
psql_as postgres postgres -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim'"
wait
psql_as postgres postgres -c "SET application_name = 'victim2'" -c "SELECT pg_sleep(3)" &
sleep 0.5
psql_as postgres postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim2'"
wait
psql_as postgres postgres -c "SET idle_in_transaction_session_timeout = '100ms'" -c "BEGIN" -c "SELECT 1" -c "\\! sleep 0.5" -c "SELECT 2"
psql_as postgres postgres -c "SET idle_session_timeout = '100ms'" -c "\\! sleep 0.5" -c "SELECT 2"
# A database in use cannot be dropped (55006).
psql_as postgres other_db -c "SELECT pg_sleep(1)" &
sleep 0.3
psql_as postgres postgres -c "DROP DATABASE other_db"
wait

# Connection slots (53300): restart with three, two taken by app_user.
stop_server
cat >> "$D/postgresql.conf" <<CONF
max_connections = 3
superuser_reserved_connections = 1
CONF
pg "$BIN/pg_ctl" -D "$D" -l "$WORK/startup.out" -w start >/dev/null
psql_as app_user postgres -c "SELECT pg_sleep(1.5)" &
psql_as app_user postgres -c "SELECT pg_sleep(1.5)" &
sleep 0.5
psql_as app_user postgres -c "SELECT 1"
psql_as postgres postgres -c "SELECT pg_sleep(1.5)" &
sleep 0.3
psql_as postgres postgres -c "SELECT 1"
wait
# A smart shutdown waits for a session; meanwhile new ones are refused (57P03).
psql_as postgres postgres -c "SELECT pg_sleep(1)" &
sleep 0.3
pg "$BIN/pg_ctl" -D "$D" -m smart -W stop >/dev/null
sleep 0.2
psql_as postgres postgres -c "SELECT 1"
wait
pg "$BIN/pg_ctl" -D "$D" -m fast -w stop >/dev/null 2>&1 || true
rm -rf "${HERE:?}/errors"
mkdir -p "$HERE/errors"
cp "$D/log/postgresql.log" "$D/log/postgresql.csv" "$HERE/errors/"
gzip -9 -n < "$D/log/postgresql.json" > "$HERE/errors/postgresql.json.gz"
chmod a+r "$HERE"/errors/*
ls -l "$HERE/errors"
