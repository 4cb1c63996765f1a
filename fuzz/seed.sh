#!/usr/bin/env bash
# Cuts the seed corpus of every fuzz target from the repository's own files
# (sample-logs/, a state written by `pglog analyze --save-state`) into
# fuzz/seeds/TARGET/.
# Nothing it writes is committed; run it again after the samples change.
#
#   fuzz/seed.sh [PGLOG_BINARY]   (default: the debug build's, built if missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=fuzz/seeds
samples=sample-logs
rm -rf "$out"
mkdir -p "$out"

# Consecutive slices of LINES lines of FILE, each with HEADER as its first
# line when one is given (the stderr and syslog targets read the
# log_line_prefix from there). Slices stay under the targets' -max_len.
slices() {
    local target=$1 name=$2 file=$3 lines=$4 header=${5-}
    local dir=$out/$target tmp
    mkdir -p "$dir"
    tmp=$(mktemp -d)
    split -l "$lines" -d -a 3 "$file" "$tmp/s"
    for s in "$tmp"/s*; do
        if [ "$#" -ge 5 ]; then
            { printf '%s\n' "$header"; cat "$s"; } | head -c 60000 > "$dir/$name-$(basename "$s")"
        else
            head -c 60000 "$s" > "$dir/$name-$(basename "$s")"
        fi
    done
    rm -rf "$tmp"
}

primary_prefix='%m [%p] %q%u@%d/%a '
replica_prefix='%m [%p] '
rds_prefix='%t:%r:%u@%d:[%p]:'

for host in primary replica rds; do
    slices read_csv "$host" "$samples/$host/postgresql.csv" 60
    slices read_json "$host" "$samples/$host/postgresql.json" 40
    slices json_fast "$host" "$samples/$host/postgresql.json" 5
done

slices read_stderr primary "$samples/primary/postgresql.log" 100 "$primary_prefix"
slices read_stderr replica "$samples/replica/postgresql.log" 100 "$replica_prefix"
slices read_stderr rds "$samples/rds/postgresql.log" 100 "$rds_prefix"
# An empty first line: the reader detects the prefix.
slices read_stderr detected "$samples/replica/postgresql.log" 100 ""
slices read_rds rds "$samples/rds/postgresql.log" 40
slices read_syslog rds "$samples/rds/postgresql.syslog" 40 "$rds_prefix"
slices read_syslog detected "$samples/rds/postgresql.syslog" 40 ""
slices read_pgbouncer pgbouncer "$samples/pgbouncer/pgbouncer.log" 10
slices read_pgbouncer syslog "$samples/pgbouncer/pgbouncer.syslog" 10

# The wrapped samples, each slice led by the digit that picks its envelope
# (its place in ENVELOPES in fuzz_targets/read_envelope.rs).
envelope_slices() {
    local pick=$1 name=$2 file=$3 tmp
    tmp=$(mktemp)
    zcat "$file" > "$tmp"
    slices read_envelope "$name" "$tmp" 40 "$pick"
    rm -f "$tmp"
}
envelope_slices 0 cloudsql "$samples/wrapped/cloudsql.json.gz"
envelope_slices 1 cnpg "$samples/wrapped/cnpg.json.gz"
envelope_slices 2 azure "$samples/wrapped/azure-flexible.json.gz"
envelope_slices 3 heroku "$samples/wrapped/heroku.log.gz"
envelope_slices 4 docker "$samples/wrapped/docker.json.gz"
envelope_slices 5 cri "$samples/wrapped/cri.log.gz"
envelope_slices 6 journald "$samples/wrapped/journald.log.gz"
envelope_slices 7 journald-json "$samples/wrapped/journald.json.gz"
envelope_slices 8 cloudwatch-export "$samples/wrapped/cloudwatch-export.gz"

for host in primary replica rds; do
    for f in "$samples/$host"/postgresql.*; do
        slices detect_prefix "$host-${f##*.}" "$f" 200
    done
done
# Compressed inputs take the same path after their magic bytes.
for tool in gzip bzip2 xz zstd; do
    if command -v "$tool" >/dev/null; then
        head -n 200 "$samples/replica/postgresql.log" | "$tool" -c > "$out/detect_prefix/replica-log.$tool"
    fi
done

# auto_explain plans as the server logged them, text and JSON, from the
# jsonlog files (one record per line, the plan after `plan:`).
mkdir -p "$out/plan_text" "$out/plan_json"
python3 - "$out" "$samples"/*/postgresql.json <<'PY'
import json, sys
out, files = sys.argv[1], sys.argv[2:]
n = 0
for path in files:
    with open(path, encoding="utf-8") as f:
        for line in f:
            msg = json.loads(line).get("message", "")
            at = msg.find("plan:")
            if not msg.startswith("duration:") or at < 0:
                continue
            plan = msg[at + len("plan:"):].lstrip("\n ")
            kind = "plan_json" if plan.startswith("{") else "plan_text"
            n += 1
            with open(f"{out}/{kind}/{n:04}", "w", encoding="utf-8") as p:
                p.write(plan)
PY

# States of the small sample logs, written by the real binary.
pglog=${1:-${CARGO_TARGET_DIR:-target}/debug/pglog}
if [ ! -x "$pglog" ]; then
    cargo build --locked -q -p pglog --bin pglog
fi
mkdir -p "$out/state"
for host in replica rds; do
    for f in "$samples/$host"/postgresql.{log,csv,json}; do
        "$pglog" analyze --format json --save-state "$out/state/$host-${f##*.}" "$f" >/dev/null
    done
done
# The same states as payloads (a 0 byte, then the postcard bytes): the
# target frames and compresses them (see fuzz_targets/state.rs).
if command -v zstd >/dev/null; then
    for f in "$out"/state/*; do
        { printf '\0'; tail -c +13 "$f" | zstd -dc; } > "$f.payload"
    done
else
    echo "seed.sh: no zstd tool, so no payload seeds for the state target" >&2
fi

for d in "$out"/*/; do
    printf '%-20s %4d seeds\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"
done
