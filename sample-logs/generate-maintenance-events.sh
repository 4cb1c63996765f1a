#!/usr/bin/env bash
# Writes sample-logs/maintenance-events/: one real PostgreSQL 15 server's log
# (stderr, csvlog, jsonlog) with the messages of vacuum, wraparound, locks
# and transaction state, for the tests of their event kinds:
# - lock waits on an advisory lock, a row (transaction and tuple locks), a
#   deadlock and a deadlock avoided by rearranging a lock queue
#   (`log_lock_waits`, `deadlock_timeout = 100ms`); NOWAIT and lock_timeout
#   failures;
# - aborted-transaction errors, COMMIT/BEGIN outside/inside a transaction,
#   unknown prepared statements and cursors, `\'` in a string literal;
# - VACUUM/ANALYZE (SKIP_LOCKED) of a locked table, VACUUM VERBOSE logged at
#   `log_min_messages = info`;
# - an autovacuum worker made slow (cost delay) and then terminated, and
#   another canceled by a lock request (`sending cancel to blocking
#   autovacuum` is DEBUG1, logged by that session at `log_min_messages =
#   debug1`);
# - `oldest xmin is far in the past`: a transaction held open while 100,000
#   XIDs are used (`autovacuum_freeze_max_age = 100000`);
# - an orphan temporary table dropped by autovacuum after an immediate stop;
# - wraparound: the stopped cluster's next XID moved with `pg_resetwal -x`
#   past the warning limit (40M XIDs before wraparound), then past the stop
#   limit (3M before), its pg_xact segment created with dd; a table locked in
#   one database keeps autovacuum from freezing it (`skipping vacuum ... lock
#   not available`), so the warnings and refusals last until it is released;
# - a last restart at `log_min_messages = debug1` for the autovacuum
#   launcher's start and stop lines.
# Run as root; about 30 s.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=sample-logs/throwaway-server.sh
. "$HERE/throwaway-server.sh"

start_server maintenance "log_lock_waits = on
deadlock_timeout = '100ms'
log_autovacuum_min_duration = -1
autovacuum_naptime = 1
autovacuum_freeze_max_age = 100000
max_prepared_transactions = 2
log_line_prefix = '%m [%p] %q%u@%d/%a '"

psql_() {  # DB: SQL on standard input; errors are part of the workload
    pg "$BIN/psql" -X -q -h "$WORK" -p "$PORT" -U postgres -d "$1" -v ON_ERROR_STOP=0 >/dev/null 2>&1 || true
}
q() {  # DB SQL: one value
    pg "$BIN/psql" -X -q -A -t -h "$WORK" -p "$PORT" -U postgres -d "$1" -c "$2"
}
restart() { stop_server; pg "$BIN/pg_ctl" -D "$D" -l "$WORK/startup.out" -w start >/dev/null; }

q postgres "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t SELECT g, 0 FROM generate_series(1, 10) g;
            CREATE TABLE a1 (); CREATE TABLE a2 ();" >/dev/null

# --- Locks -----------------------------------------------------------------
# Advisory lock wait, then acquired.
psql_ postgres <<<"SELECT pg_advisory_lock(42); SELECT pg_sleep(0.6); SELECT pg_advisory_unlock(42);" &
sleep 0.2
psql_ postgres <<<"SET application_name = 'advisory'; SELECT pg_advisory_lock(42); SELECT pg_advisory_unlock(42);"
wait
# Row lock: a transaction lock wait, a tuple lock wait behind it, NOWAIT
# and lock_timeout failures.
psql_ postgres <<<"BEGIN; SELECT * FROM t WHERE id = 1 FOR UPDATE; SELECT pg_sleep(1); COMMIT;" &
sleep 0.2
psql_ postgres <<<"UPDATE t SET v = v + 1 WHERE id = 1;" &
sleep 0.2
psql_ postgres <<<"UPDATE t SET v = v + 2 WHERE id = 1;" &
sleep 0.1
psql_ postgres <<<"SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT;
BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE NOWAIT; COMMIT;
SET lock_timeout = '200ms'; UPDATE t SET v = 0 WHERE id = 1;"
wait
# A deadlock: each holds one row and asks for the other's.
psql_ postgres <<<"BEGIN; UPDATE t SET v = 1 WHERE id = 2; SELECT pg_sleep(0.3); UPDATE t SET v = 1 WHERE id = 3; SELECT pg_sleep(0.3); COMMIT;" &
sleep 0.1
psql_ postgres <<<"BEGIN; UPDATE t SET v = 2 WHERE id = 3; SELECT pg_sleep(0.3); UPDATE t SET v = 2 WHERE id = 2; COMMIT;"
wait
# A soft deadlock the checker resolves by rearranging a wait queue
# (PostgreSQL's isolation test deadlock-soft): d1 and d2 share-lock a1 and
# a2, e1 and e2 queue for exclusive locks, then d1 and d2 ask for the other
# table and would wait behind e2 and e1.
psql_ postgres <<<"BEGIN; LOCK TABLE a1 IN ACCESS SHARE MODE; SELECT pg_sleep(0.5); LOCK TABLE a2 IN ACCESS SHARE MODE; SELECT pg_sleep(0.5); COMMIT;" &
sleep 0.1
psql_ postgres <<<"BEGIN; LOCK TABLE a2 IN ACCESS SHARE MODE; SELECT pg_sleep(0.5); LOCK TABLE a1 IN ACCESS SHARE MODE; SELECT pg_sleep(0.5); COMMIT;" &
sleep 0.1
psql_ postgres <<<"BEGIN; LOCK TABLE a1 IN ACCESS EXCLUSIVE MODE; COMMIT;" &
sleep 0.1
psql_ postgres <<<"BEGIN; LOCK TABLE a2 IN ACCESS EXCLUSIVE MODE; COMMIT;" &
wait

# --- Transaction state and statements -------------------------------------
psql_ postgres <<'SQL'
BEGIN; SELECT 1/0; SELECT 1; SELECT 2; ROLLBACK;
COMMIT;
ROLLBACK;
BEGIN; BEGIN; COMMIT;
EXECUTE nope;
DEALLOCATE nope;
PREPARE p AS SELECT 1; PREPARE p AS SELECT 2;
FETCH c;
CLOSE c;
BEGIN; DECLARE c CURSOR FOR SELECT 1; DECLARE c CURSOR FOR SELECT 2; ROLLBACK;
SET standard_conforming_strings = off; SET escape_string_warning = on;
SELECT 'it\'s'; SELECT 'a\\b';
SQL

# --- Manual vacuum ----------------------------------------------------------
psql_ postgres <<<"BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0.5); COMMIT;" &
sleep 0.2
psql_ postgres <<<"VACUUM (SKIP_LOCKED) t; ANALYZE (SKIP_LOCKED) t;"
wait
psql_ postgres <<<"SET log_min_messages = info; VACUUM (VERBOSE, ANALYZE) t;"

# --- Autovacuum skips a table it cannot lock --------------------------------
# Only this table logs its autovacuum runs (the others' anti-wraparound runs
# below would fill the log).
q postgres "CREATE TABLE skipme (id int) WITH (log_autovacuum_min_duration = 0)" >/dev/null
psql_ postgres <<<"BEGIN; LOCK TABLE skipme IN SHARE UPDATE EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;" &
sleep 0.2
q postgres "INSERT INTO skipme SELECT generate_series(1, 1000); DELETE FROM skipme" >/dev/null
wait

# --- Slow autovacuum workers: terminated, then canceled by a lock ----------
q postgres "CREATE TABLE big (id int, pad text) WITH (autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1, log_autovacuum_min_duration = 0);
            INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g;
            DELETE FROM big WHERE id % 2 = 0;" >/dev/null
worker() {  # the pid of the autovacuum worker on big, waiting up to 20 s
    local pid=""
    for _ in $(seq 100); do
        pid=$(q postgres "SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND query LIKE '%big%'")
        [ -n "$pid" ] && break
        sleep 0.2
    done
    echo "$pid"
}
pid=$(worker)
[ -n "$pid" ] || { echo "no autovacuum worker on big" >&2; exit 1; }
q postgres "SELECT pg_terminate_backend($pid)" >/dev/null
pid=$(worker)
[ -n "$pid" ] || { echo "no second autovacuum worker on big" >&2; exit 1; }
psql_ postgres <<<"SET log_min_messages = debug1; BEGIN; LOCK TABLE big IN SHARE UPDATE EXCLUSIVE MODE; COMMIT;"
q postgres "ALTER TABLE big SET (autovacuum_enabled = false)" >/dev/null

# --- Oldest xmin far in the past ---------------------------------------------
psql_ postgres <<<"SET application_name = 'xmin-holder'; BEGIN; SELECT txid_current(); SELECT pg_sleep(60); COMMIT;" &
sleep 0.3
q postgres "CREATE PROCEDURE burn(n int) LANGUAGE plpgsql AS \$\$
            BEGIN FOR i IN 1..n LOOP PERFORM txid_current(); COMMIT; END LOOP; END \$\$" >/dev/null
q postgres "CALL burn(101000)" >/dev/null
psql_ postgres <<<"VACUUM t;"
q postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'xmin-holder'" >/dev/null
wait

# --- An orphan temporary table ---------------------------------------------
psql_ postgres <<<"CREATE TEMP TABLE orphan (id int); INSERT INTO orphan VALUES (1); SELECT pg_sleep(3);" &
sleep 1
pg "$BIN/pg_ctl" -D "$D" -m immediate -w stop >/dev/null
wait
pg "$BIN/pg_ctl" -D "$D" -l "$WORK/startup.out" -w start >/dev/null
for _ in $(seq 50); do
    [ "$(q postgres "SELECT count(*) FROM pg_class WHERE relname = 'orphan'")" = 0 ] && break
    sleep 0.2
done

# --- Wraparound --------------------------------------------------------------
q postgres "CREATE DATABASE wrapdb" >/dev/null
q wrapdb "CREATE TABLE hold (id int) WITH (log_autovacuum_min_duration = 0); INSERT INTO hold VALUES (1);" >/dev/null
# Moves the stopped cluster's next XID to the start of pg_xact segment SEG
# (1,048,576 XIDs each) and creates that segment.
jump() {  # SEG
    stop_server
    pg "$BIN/pg_resetwal" -x $(( $1 * 1048576 )) "$D" >/dev/null
    pg dd if=/dev/zero of="$D/pg_xact/$(printf '%04X' "$1")" bs=256k count=1 status=none
    pg "$BIN/pg_ctl" -D "$D" -l "$WORK/startup.out" -w start >/dev/null
}
# A session keeps `hold` locked, so autovacuum cannot freeze wrapdb.
hold() {  # SECONDS
    psql_ wrapdb <<<"BEGIN; LOCK TABLE hold IN SHARE UPDATE EXCLUSIVE MODE; SELECT pg_sleep($1); COMMIT;" &
}
# Past the warning limit: about 39.8M XIDs left.
jump 2010
hold 4
sleep 0.5
for _ in 1 2 3; do psql_ wrapdb <<<"SELECT txid_current();"; done
psql_ postgres <<<"SELECT txid_current();"
wait
# Past the stop limit: 1.5 to 2.5M XIDs left; new XIDs are refused. The
# limits now follow from the databases' datfrozenxid, which autovacuum moved.
oldest=$(q postgres "SELECT min(datfrozenxid::text::bigint) FROM pg_database")
jump $(( (oldest + 2147483647 - 1500000) / 1048576 ))
hold 4
sleep 0.5
for _ in 1 2; do psql_ wrapdb <<<"SELECT txid_current();"; done
psql_ postgres <<<"CREATE TABLE refused (id int);"
wait
# Released: autovacuum freezes every database and the limits move on.
for _ in $(seq 100); do
    [ "$(q postgres "SELECT max(age(datfrozenxid)) < 1000000 FROM pg_database")" = t ] && break
    sleep 0.2
done
psql_ wrapdb <<<"SELECT txid_current();"

# --- The autovacuum launcher's DEBUG1 lines at a restart --------------------
q postgres "ALTER SYSTEM SET log_min_messages = 'debug1'" >/dev/null
restart
sleep 0.5
stop_server

mkdir -p "$HERE/maintenance-events"
# Near wraparound every vacuum of every table warns (the failsafe): ~0.5 MB.
for f in postgresql.log postgresql.csv postgresql.json; do
    gzip -9 -n -c "$D/log/$f" > "$HERE/maintenance-events/$f.gz"
done
chown -R --reference="$HERE" "$HERE/maintenance-events"
chmod 644 "$HERE"/maintenance-events/*
ls -l "$HERE/maintenance-events"
