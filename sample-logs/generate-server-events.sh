#!/usr/bin/env bash
# Writes sample-logs/server-events/: the logs (stderr, csvlog, jsonlog) of a
# throwaway PostgreSQL 15 primary with data checksums and its streaming
# standby, made to go through what operators dread: backend crashes and the
# crash restart, an out-of-memory error, a failing archive_command that then
# works, WAL restored from that archive on the standby, a corrupted page,
# clients that vanish, too many connections, SSL failures, smart, fast and
# immediate shutdowns, a walsender timeout, a removed WAL segment and a
# promotion. facts.json records what the script did (pids killed, the
# archive command, the corrupted relation and block) for the tests, and
# expected.json the count of each message class in the csvlogs, counted
# by Python's csv module. Run as root; about a minute.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# BIN, OS_USER and pg (two servers here, so not its start_server).
# shellcheck source=sample-logs/throwaway-server.sh
. "$HERE/throwaway-server.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d /tmp/pglog-server-events.XXXXXX)
chmod 755 "$WORK"
chown "$OS_USER" "$WORK"
P=$WORK/primary
S=$WORK/standby
ARCH=$WORK/archive
PPORT=$(free_port)
SPORT=$(free_port)
cleanup() {
    for d in "$S" "$P"; do
        if [ -f "$d/postmaster.pid" ]; then
            pg "$BIN/pg_ctl" -D "$d" stop -m immediate >/dev/null 2>&1 || true
        fi
    done
    jobs -p | xargs -r kill 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

start() { pg "$BIN/pg_ctl" -D "$1" -l "$1.out" -w start >/dev/null; }
stop() { pg "$BIN/pg_ctl" -D "$1" -m "$2" -w stop >/dev/null; }
# sql PORT SQL...: the superuser over the socket; failures are the point of
# some calls, so they never stop the script.
sql() {
    local port=$1; shift
    pg "$BIN/psql" -X -q -At -h "$WORK" -p "$port" -U postgres -d postgres "$@" 2>/dev/null || true
}
tcp() {  # tcp PORT USER ARGS...: over TCP, without SSL
    local port=$1 user=$2; shift 2
    pg env PGSSLMODE=disable "$BIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U "$user" -d postgres "$@" 2>/dev/null || true
}
csv_count() {  # csv_count FILE SUBSTRING: records whose message holds it
    python3 - "$@" <<'PY'
import csv, sys
print(sum(1 for r in csv.reader(open(sys.argv[1], newline="")) if sys.argv[2] in r[13]))
PY
}
caught_up() {  # until the standby streams and has replayed the primary's WAL
    local lsn
    lsn=$(sql "$PPORT" -c "SELECT pg_current_wal_lsn()")
    for _ in $(seq 300); do
        [ "$(sql "$SPORT" -c "SELECT status = 'streaming' AND pg_last_wal_replay_lsn() >= '$lsn' FROM pg_stat_wal_receiver")" = t ] && return 0
        sleep 0.1
    done
    echo "the standby did not catch up" >&2
    exit 1
}
wait_log() {  # wait_log FILE SUBSTRING [N]: until N records (default 1) hold it
    for _ in $(seq 200); do
        [ "$(csv_count "$1" "$2")" -ge "${3:-1}" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2
    exit 1
}

########## primary: data checksums, archiving that fails until $ARCH exists
pg "$BIN/initdb" -D "$P" -A trust -U postgres -k >/dev/null
pg openssl req -x509 -nodes -newkey rsa:2048 -days 2 -subj /CN=localhost \
    -keyout "$P/server.key" -out "$P/server.crt" >/dev/null 2>&1
chmod 600 "$P/server.key"
common_conf() {  # common_conf DIR PORT
    cat >> "$1/postgresql.conf" <<CONF
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_directory = 'log'
log_filename = 'postgresql.log'
log_rotation_age = 0
log_rotation_size = 0
log_line_prefix = '%m [%p] %q[user=%u,db=%d,app=%a,client=%h] '
log_timezone = 'UTC'
lc_messages = 'C'
log_checkpoints = on
log_connections = on
log_disconnections = on
autovacuum = off
CONF
}
common_conf "$P" "$PPORT"
cat >> "$P/postgresql.conf" <<CONF
max_connections = 8
superuser_reserved_connections = 3
wal_level = replica
max_wal_senders = 4
wal_keep_size = 0
archive_mode = on
archive_command = 'test -d $ARCH && cp %p $ARCH/%f'
ssl = on
ssl_min_protocol_version = 'TLSv1.3'
max_parallel_workers_per_gather = 2
CONF
# hostssl for bob: a TCP client without SSL finds no pg_hba.conf entry.
cat > "$P/pg_hba.conf" <<HBA
local all all trust
hostssl all bob 127.0.0.1/32 trust
host all alice,postgres 127.0.0.1/32 trust
host replication postgres 127.0.0.1/32 trust
HBA
start "$P"
PLOG=$P/log/postgresql.csv
sql "$PPORT" -c "CREATE ROLE alice LOGIN" -c "CREATE ROLE bob LOGIN" \
    -c "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g" \
    -c "CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 200000) g" -c "ANALYZE"
# The first segment's archiving fails three times, then is given up on.
sql "$PPORT" -c "SELECT pg_switch_wal()" >/dev/null
wait_log "$PLOG" "failed too many times"

########## standby, before the archive works: it streams
pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PPORT" -U postgres -D "$S" -R -X stream -c fast
rm -rf "$S/log" "$S/server.key" "$S/server.crt"
common_conf "$S" "$SPORT"
cat >> "$S/postgresql.conf" <<CONF
ssl = off
archive_mode = off
hot_standby = on
wal_retrieve_retry_interval = '500ms'
CONF
start "$S"
SLOG=$S/log/postgresql.csv
caught_up

########## archiving works from now on
pg mkdir "$ARCH"
sql "$PPORT" -c "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 100); do
    [ "$(sql "$PPORT" -c "SELECT failed_count > 0 AND archived_count > 0 FROM pg_stat_archiver")" = t ] && break
    sleep 0.1
done

########## a walsender timeout: the standby's walreceiver stops answering
sql "$PPORT" -c "ALTER SYSTEM SET wal_sender_timeout = '1s'" -c "SELECT pg_reload_conf()" >/dev/null
caught_up
WALRCV=$(sql "$SPORT" -c "SELECT pid FROM pg_stat_wal_receiver WHERE status = 'streaming'")
[ -n "$WALRCV" ] || { echo "no walreceiver streaming" >&2; exit 1; }
kill -STOP "$WALRCV"
wait_log "$PLOG" "terminating walsender process due to replication timeout"
kill -CONT "$WALRCV"
sql "$PPORT" -c "ALTER SYSTEM RESET wal_sender_timeout" -c "SELECT pg_reload_conf()" >/dev/null
caught_up

########## a removed WAL segment: the stopped standby comes back too late,
# without a restore_command; then with one, it restores from the archive.
stop "$S" fast
for _ in 1 2 3 4; do
    sql "$PPORT" -c "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g" -c "SELECT pg_switch_wal()" >/dev/null
done
sql "$PPORT" -c "CHECKPOINT" >/dev/null
for _ in $(seq 100); do
    [ "$(sql "$PPORT" -c "SELECT last_archived_wal = pg_walfile_name(pg_current_wal_lsn() - 1) FROM pg_stat_archiver")" = t ] && break
    sleep 0.1
done
sql "$PPORT" -c "CHECKPOINT" >/dev/null
start "$S"
wait_log "$PLOG" "has already been removed"
stop "$S" fast
echo "restore_command = 'cp $ARCH/%f %p'" >> "$S/postgresql.conf"
start "$S"
wait_log "$SLOG" "restored log file"
caught_up

########## crashes: a backend killed with SIGKILL while a statement runs,
# another quit with SIGQUIT (it exits with code 2); a bystander session is
# terminated by the crash restart each time.
crash() {  # crash SIGNAL STATEMENT
    sql "$PPORT" -c "$2" >/dev/null &
    sql "$PPORT" -c "SELECT pg_sleep(30)" >/dev/null &
    local pid=""
    for _ in $(seq 100); do
        pid=$(sql "$PPORT" -c "SELECT pid FROM pg_stat_activity WHERE query = \$\$$2\$\$")
        [ -n "$pid" ] && [ "$(sql "$PPORT" -c "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'")" = 1 ] && break
        sleep 0.1
    done
    local ready
    ready=$(csv_count "$PLOG" "database system is ready to accept connections")
    kill "-$1" "$pid"
    wait_log "$PLOG" "database system is ready to accept connections" $(( ready + 1 ))
    wait
    echo "$pid"
}
KILLED=$(crash KILL "SELECT pg_sleep(60) AS killed")
QUIT=$(crash QUIT "SELECT pg_sleep(61) AS quit")
caught_up

########## a parallel worker that fails: a background worker exits with code 1
sql "$PPORT" -c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" \
    -c "SET min_parallel_table_scan_size = 0" -c "SELECT count(1 / (id - 150000)) FROM big" >/dev/null

########## out of memory: one backend's address space is capped
mkfifo "$WORK/oom"
pg bash -c "'$BIN/psql' -X -q -At -h '$WORK' -p '$PPORT' -U postgres -d postgres < '$WORK/oom' > '$WORK/oom.out' 2>&1" &
OOM_CLIENT=$!
exec 3>"$WORK/oom"
echo "SELECT pg_backend_pid();" >&3
for _ in $(seq 100); do [ -s "$WORK/oom.out" ] && break; sleep 0.1; done
OOM_PID=$(head -1 "$WORK/oom.out")
VM_KB=$(awk '/VmSize/ {print $2}' "/proc/$OOM_PID/status")
pg prlimit --pid "$OOM_PID" --as=$(( (VM_KB + 100 * 1024) * 1024 ))
echo "SELECT length(repeat('x', 300 * 1024 * 1024));" >&3
exec 3>&-
wait "$OOM_CLIENT" || true

########## clients that go away
# Raw protocol clients: one killed (SIGKILL, by its pid) in an open
# transaction, one that connects and says nothing (incomplete startup
# packet), one that resets its connection after logging in, one that resets
# it while the server sends a large result, one that asks for SSL and hangs
# up.
python3 - "$PPORT" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
def startup(s):
    body = struct.pack("!I", 196608) + b"user\0postgres\0database\0postgres\0\0"
    s.sendall(struct.pack("!I", len(body) + 4) + body)
    buf = b""
    while b"Z\0\0\0\x05" not in buf:
        buf += s.recv(65536)
def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
import os, signal
ready_r, ready_w = os.pipe()
child = os.fork()
if child == 0:
    s = socket.create_connection(("127.0.0.1", port)); startup(s)
    q = b"BEGIN; SELECT 1\0"
    s.sendall(b"Q" + struct.pack("!I", 4 + len(q)) + q)
    buf = b""
    while b"Z\0\0\0\x05T" not in buf:
        buf += s.recv(65536)
    os.write(ready_w, b"x")
    time.sleep(60)
    os._exit(0)
os.read(ready_r, 1)
os.kill(child, signal.SIGKILL)
os.waitpid(child, 0)
time.sleep(0.2)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"\0\0")
s.close()
time.sleep(0.2)
s = socket.create_connection(("127.0.0.1", port)); startup(s)
s.sendall(b"Q" + struct.pack("!I", 4 + 9) + b"SELECT 1\0")
time.sleep(0.2)
reset(s)
time.sleep(0.2)
s = socket.create_connection(("127.0.0.1", port)); startup(s)
q = b"SELECT repeat('x', 1000) FROM generate_series(1, 200000)\0"
s.sendall(b"Q" + struct.pack("!I", 4 + len(q)) + q)
time.sleep(0.5)
reset(s)
time.sleep(0.2)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(struct.pack("!II", 8, 80877103))
assert s.recv(1) == b"S"
s.close()
PY
# SSL with a protocol the server refuses (it wants TLS 1.3), and a TCP
# client without SSL that pg_hba.conf only lets in over SSL.
pg env PGSSLMODE=require PGSSLMAXPROTOCOLVERSION=TLSv1.2 "$BIN/psql" -X -h 127.0.0.1 -p "$PPORT" -U bob -d postgres -c "SELECT 1" >/dev/null 2>&1 || true
tcp "$PPORT" bob -c "SELECT 1" >/dev/null
wait_log "$PLOG" "unexpected EOF on client connection with an open transaction"
wait_log "$PLOG" "could not accept SSL connection" 2
wait_log "$PLOG" "connection to client lost"

########## too many connections: alice fills the ordinary slots, then the
# superuser the reserved ones.
# Waits read the log: a polling session would take a slot itself.
AUTH_ALICE="connection authorized: user=alice"
AUTH_PG="connection authorized: user=postgres database=postgres application_name=psql"
n=$(csv_count "$PLOG" "$AUTH_ALICE")
for _ in 1 2 3 4 5; do tcp "$PPORT" alice -c "SELECT pg_sleep(4)" >/dev/null & done
wait_log "$PLOG" "$AUTH_ALICE" $(( n + 5 ))
tcp "$PPORT" alice -c "SELECT 1" >/dev/null
n=$(csv_count "$PLOG" "$AUTH_PG")
for _ in 1 2 3; do sql "$PPORT" -c "SELECT pg_sleep(2)" >/dev/null & done
wait_log "$PLOG" "$AUTH_PG" $(( n + 3 ))
tcp "$PPORT" postgres -c "SELECT 1" >/dev/null
wait

########## a corrupted page: block 1 of t is overwritten on the stopped
# primary, then read (the standby's copy is intact).
REL=$(sql "$PPORT" -c "SELECT pg_relation_filepath('t')")
sql "$PPORT" -c "CHECKPOINT" >/dev/null
stop "$P" fast
printf 'corrupted by generate-server-events.sh' | dd of="$P/$REL" bs=1 seek=$(( 8192 + 4000 )) conv=notrunc status=none
start "$P"
sql "$PPORT" -c "SELECT count(*) FROM t" >/dev/null
sql "$PPORT" -c "DROP TABLE t" >/dev/null

########## a smart shutdown waits for a session; new clients are turned away
sql "$PPORT" -c "SELECT pg_sleep(2)" >/dev/null &
sleep 0.5
pg "$BIN/pg_ctl" -D "$P" -m smart stop -W >/dev/null
sleep 0.3
sql "$PPORT" -c "SELECT 1" >/dev/null
wait
for _ in $(seq 100); do [ -f "$P/postmaster.pid" ] || break; sleep 0.1; done
########## an immediate shutdown, and the recovery at the next start
start "$P"
stop "$P" immediate
start "$P"
caught_up

########## the standby is promoted; then both stop (fast)
pg "$BIN/pg_ctl" -D "$S" -w promote >/dev/null
wait_log "$SLOG" "database system is ready to accept connections"
stop "$S" fast
stop "$P" fast

########## collect
OUT=$HERE/server-events
rm -rf "$OUT"
mkdir -p "$OUT/primary" "$OUT/standby"
for f in postgresql.log postgresql.csv postgresql.json; do
    cp "$P/log/$f" "$OUT/primary/$f"
    cp "$S/log/$f" "$OUT/standby/$f"
done
BLOCK=1
python3 - "$OUT" "$KILLED" "$QUIT" "$OOM_PID" "$REL" "$BLOCK" "$ARCH" <<'PY'
import csv, json, re, sys
out, killed, quit_, oom, rel, block, arch = sys.argv[1:]
json.dump({
    "killed_pid": int(killed), "killed_statement": "SELECT pg_sleep(60) AS killed",
    "quit_pid": int(quit_), "quit_statement": "SELECT pg_sleep(61) AS quit",
    "oom_pid": int(oom),
    "corrupted_relation": rel, "corrupted_block": int(block),
    "archive_command": f"test -d {arch} && cp %p {arch}/%f",
}, open(f"{out}/facts.json", "w"), indent=1)
# Message classes counted in each csvlog: the wording of PostgreSQL 15's
# messages, as regular expressions over the whole message.
CLASSES = {
    "crash": [r".* \(PID \d+\) (was terminated by signal \d+.*|exited with exit code ([2-9]|\d\d+))"],
    "process_exit": [r".* \(PID \d+\) exited with exit code [01]"],
    "crash_terminate_others": ["terminating any other active server processes"],
    "crash_reinitialize": [r"all server processes terminated; reinitializing"],
    "crash_terminated_backend": ["terminating connection because of crash of another server process", "terminating connection because of unexpected SIGQUIT signal"],
    "system_interrupted": ["database system was interrupted.*"],
    "automatic_recovery": [r"database system was not properly shut down; automatic recovery in progress"],
    "out_of_memory": ["out of memory"],
    "shutdown_request": ["received (fast|smart|immediate) shutdown request"],
    "standby_ready": ["database system is ready to accept read-only connections"],
    "startup": ["database system is ready to accept connections"],
    "shutdown": ["database system is shut down"],
    "client_receive_failed": ["could not receive data from client: .*"],
    "client_send_failed": ["could not send data to client: .*"],
    "unexpected_eof_in_transaction": ["unexpected EOF on client connection with an open transaction"],
    "incomplete_startup_packet": ["incomplete startup packet"],
    "ssl_error": ["could not accept SSL connection: .*"],
    "connection_lost": ["connection to client lost"],
    "too_many_connections": ["sorry, too many clients already", "remaining connection slots are reserved for non-replication superuser connections"],
    "server_not_accepting": ["the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)"],
    "hba_record_ignored": ["hostssl record cannot match because SSL is disabled"],
    "auth_failure": ["no pg_hba.conf entry for .*"],
    "archive_failure": ["archive command failed with exit code \\d+"],
    "archive_gave_up": ['archiving write-ahead log file ".*" failed too many times, will try again later'],
    "wal_restored": ['restored log file ".*" from archive'],
    "streaming_started": ["started streaming WAL from primary at .* on timeline \\d+"],
    "replication_terminated": ["replication terminated by primary server"],
    "primary_connect_failed": ["could not connect to the primary server: .*"],
    "wal_stream_error": ["could not receive data from WAL stream: .*", "could not send end-of-streaming message to primary: .*"],
    "wal_segment_removed": ["requested WAL segment .* has already been removed"],
    "walsender_timeout": ["terminating walsender process due to replication timeout"],
    "walreceiver_stopped": ["terminating walreceiver process due to administrator command"],
    "wal_invalid_record": ["invalid record length at .*", "invalid magic number .*", "record with incorrect prev-link .*", "invalid resource manager ID .*"],
    "waiting_for_wal": ["waiting for WAL to become available at .*"],
    "promote": ["received promote request"],
    "timeline_selected": ["selected new timeline ID: \\d+"],
    "checksum_failure": ["page verification failed, calculated checksum \\d+ but expected \\d+"],
    "invalid_page": ["invalid page in block \\d+ of relation .*"],
}
expected = {}
for inst in ("primary", "standby"):
    rows = list(csv.reader(open(f"{out}/{inst}/postgresql.csv", newline="")))
    expected[inst] = {
        "records": len(rows),
        "events": {k: sum(1 for r in rows if any(re.fullmatch(p, r[13], re.S) for p in ps)) for k, ps in CLASSES.items()},
    }
json.dump(expected, open(f"{out}/expected.json", "w"), indent=1, sort_keys=True)
PY
chmod -R a+rX "$OUT"
ls -l "$OUT"/*
