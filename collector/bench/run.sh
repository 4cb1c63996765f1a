#!/usr/bin/env bash
# Measures `pglog collect` tailing a busy server: a PostgreSQL 15 primary
# logging every statement (csvlog, log_min_duration_statement = 0) under
# pgbench, the collector shipping that log to a moto CloudWatch Logs and its
# metrics every second. Reports records shipped per second, the collector's
# CPU time and peak RSS.
#
#   collector/bench/run.sh [SECONDS]     (default 30)
#
# Needs: the release binary (cargo build --release -p pglog), PostgreSQL 15
# server binaries, python3 (a moto venv is made under target/moto-venv).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
bin=/usr/lib/postgresql/15/bin
pglog=$PWD/target/release/pglog
[ -x "$pglog" ] || { echo "build first: cargo build --release -p pglog" >&2; exit 2; }
venv=${PGLOG_MOTO_VENV:-$PWD/target/moto-venv}
if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q 'moto[server]==5.2.5'
fi
id pgtest >/dev/null 2>&1 || useradd -m pgtest
work=$(mktemp -d /tmp/pglog-collector-bench.XXXXXX)
chmod 755 "$work"
chown pgtest "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pgport=$(free_port)
motoport=$(free_port)
cleanup() {
    [ -n "${collector:-}" ] && kill "$collector" 2>/dev/null || true
    [ -n "${moto:-}" ] && kill "$moto" 2>/dev/null || true
    runuser -u pgtest -- "$bin/pg_ctl" -D "$work/data" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

runuser -u pgtest -- "$bin/initdb" -D "$work/data" -U postgres -A trust --no-sync >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port = $pgport
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
logging_collector = on
log_destination = 'csvlog'
log_directory = 'log'
log_statement = 'all'
log_min_duration_statement = 0
log_file_mode = 0640
lc_messages = 'C'
CONF
runuser -u pgtest -- "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
"$venv/bin/moto_server" -H 127.0.0.1 -p "$motoport" >"$work/moto.log" 2>&1 &
moto=$!
until curl -s "http://127.0.0.1:$motoport/" >/dev/null; do sleep 0.2; done
export AWS_ENDPOINT_URL=http://127.0.0.1:$motoport AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
"$bin/pgbench" -h 127.0.0.1 -p "$pgport" -U postgres -i -s 10 -q postgres >/dev/null 2>&1

"$pglog" collect --dsn "host=127.0.0.1 port=$pgport user=postgres dbname=postgres" --interval 1s \
    --log-dir "$work/data/log" --state-dir "$work/state" --log-group /pglog/bench >"$work/collector.out" 2>"$work/collector.err" &
collector=$!
sleep 2
"$bin/pgbench" -h 127.0.0.1 -p "$pgport" -U postgres -n -c 4 -j 2 -T "$secs" postgres 2>/dev/null | grep -E "^(number of transactions actually processed|tps)" || true
# Let the collector catch up, then read its counters before stopping it.
sleep 5
cpu_ticks=$(awk '{print $14 + $15}' "/proc/$collector/stat")
hz=$(getconf CLK_TCK)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$collector/status")
kill -TERM "$collector"; wait "$collector" || true
collector=
shipped=$(grep -o 'log shipping: [0-9]* records shipped' "$work/collector.err" | grep -o '[0-9]*' | head -1)
bytes=$(du -cb "$work"/data/log/*.csv | tail -1 | cut -f1)
awk -v n="$shipped" -v s="$secs" -v t="$cpu_ticks" -v hz="$hz" -v rss="$rss" -v b="$bytes" 'BEGIN {
    printf "records shipped: %d (%.1f MiB of csvlog) in a %d s pgbench run\n", n, b / 1048576, s
    printf "records/s (the server'"'"'s logging rate, kept up with): %.0f\n", n / (s + 7)
    printf "collector CPU: %.2f s (%.1f%% of one core), peak RSS: %.1f MiB\n", t / hz, 100 * t / hz / (s + 7), rss / 1024
}'
# Backlog: the same files shipped again from scratch, as fast as it goes.
start=$(date +%s.%N)
"$pglog" collect --dsn "host=127.0.0.1 port=$pgport user=postgres dbname=postgres" --once --cloudwatch false --xray false \
    --log-dir "$work/data/log" --state-dir "$work/state2" --log-group /pglog/backlog 2>"$work/backlog.err" >/dev/null || true
end=$(date +%s.%N)
backlog=$(grep -o 'log shipping: [0-9]* records shipped' "$work/backlog.err" | grep -o '[0-9]*' | head -1)
awk -v n="$backlog" -v a="$start" -v z="$end" 'BEGIN { printf "backlog: %d records shipped in %.1f s (%.0f records/s, moto on loopback)\n", n, z - a, n / (z - a) }'
