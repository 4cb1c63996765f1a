#!/usr/bin/env bash
# Benchmark of `pglog analyze` on a real day-sized csvlog, side by side with
# `cat` (the disk/page-cache ceiling) and pgBadger (the tool users know).
#
#   sudo analyzer/bench/run.sh            # 1 GiB day, 3 timed runs
#   BENCH_SIZE_MB=3072 BENCH_RUNS=5 ...   # bigger day, more runs
#   BENCH_GROWTH=1 ...                    # also peak memory on 3x the day
#   PGLOG=/path/to/pglog ...              # a given binary (default: build one)
#
# The day is written by a real PostgreSQL 15 server under pgbench with
# log_min_duration_statement = 0 (sample-logs/generate-day.sh), until the
# csvlog reaches BENCH_SIZE_MB. The files are kept in BENCH_DIR for later runs.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN=/usr/lib/postgresql/15/bin
BENCH_DIR=${BENCH_DIR:-/var/tmp/pglog-bench}
SIZE_MB=${BENCH_SIZE_MB:-1024}
RUNS=${BENCH_RUNS:-3}
SLICE_LINES=150000

[ "$(id -u)" = 0 ] || { echo "run as root (it starts a PostgreSQL server and installs packages)" >&2; exit 1; }
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
command -v pgbadger >/dev/null || missing+=(pgbadger)
[ -x "$BIN/initdb" ] || missing+=(postgresql-15)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$BENCH_DIR"
DAY=$BENCH_DIR/day.csv
SLICE=$BENCH_DIR/slice.csv


size_mb() { echo $(( $(stat -c %s "$1") / 1048576 )); }



if [ ! -s "$DAY" ] || [ "$(size_mb "$DAY")" -lt "$SIZE_MB" ]; then
    echo "generating a real ${SIZE_MB} MiB csvlog (pgbench, log_min_duration_statement = 0) ..."
    start=$(date +%s)
    bash "$REPO/sample-logs/generate-day.sh" "$SIZE_MB" "$DAY"
    echo "  done in $(( $(date +%s) - start )) s"
    rm -f "$SLICE"
fi
if [ ! -s "$SLICE" ]; then
    # The first $SLICE_LINES lines, cut where a record starts (csv fields
    # can hold newlines, so cut only before a line that starts a row).
    awk -v n="$SLICE_LINES" 'NR > n && /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]+ [A-Z]+,/ { exit } { print }' "$DAY" > "$SLICE"
fi

PGLOG=${PGLOG:-$REPO/target/release/pglog}
if [ ! -x "$PGLOG" ]; then
    (cd "$REPO" && cargo build --release --locked -p pglog)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hyper() {  # name 'command line' [runs]: mean seconds (paths here have no spaces)
    local name=$1 cmd=$2 runs=${3:-$RUNS} shell=(-N)
    # Only cat needs a shell, for its redirection.
    case $cmd in *'>'*) shell=() ;; esac
    hyperfine "${shell[@]}" --warmup "$([ "$runs" -gt 1 ] && echo 1 || echo 0)" --runs "$runs" \
        --export-json "$tmp/$name.json" "$cmd" >/dev/null 2>&1
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$tmp/$name.json"
}
peak_mb() {  # command...: peak resident memory in MiB
    /usr/bin/time -v "$@" 2> "$tmp/time.txt" >/dev/null
    awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$tmp/time.txt"
}

day_mb=$(python3 -c "import os; print(os.path.getsize('$DAY') / 1048576)")
slice_mb=$(python3 -c "import os; print(os.path.getsize('$SLICE') / 1048576)")
day_lines=$(wc -l < "$DAY")
slice_lines=$(wc -l < "$SLICE")

echo "timing ($RUNS runs each) ..."
t_cat=$(hyper cat "cat $DAY > /dev/null")
t_pglog=$(hyper pglog "$PGLOG analyze -q --format json -o /dev/null $DAY")
t_pglog1=$(hyper pglog1 "$PGLOG analyze -q -j 1 --format json -o /dev/null $DAY")
t_pglog_slice=$(hyper pglog_slice "$PGLOG analyze -q -j 1 --format json -o /dev/null $SLICE")
t_pglog_slice_all=$(hyper pglog_slice_all "$PGLOG analyze -q --format json -o /dev/null $SLICE")
rss_pglog=$(peak_mb "$PGLOG" analyze -q --format json -o /dev/null "$DAY")
records=$("$PGLOG" analyze -q --format json "$DAY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["input"]["records"])')
t_badger=""
if command -v pgbadger >/dev/null; then
    # pgBadger once (it takes minutes on larger inputs); its own -j 1.
    t_badger=$(hyper badger "pgbadger -q -j 1 -f csv -o $tmp/badger.html $SLICE" 1)
    rss_badger=$(peak_mb pgbadger -q -j 1 -f csv -o "$tmp/badger2.html" "$SLICE")
fi
rss_growth=""
if [ "${BENCH_GROWTH:-0}" = 1 ]; then
    cat "$DAY" "$DAY" "$DAY" > "$BENCH_DIR/day3.csv"
    rss_growth=$(peak_mb "$PGLOG" analyze -q --format json -o /dev/null "$BENCH_DIR/day3.csv")
    rm -f "$BENCH_DIR/day3.csv"
fi

python3 - "$day_mb" "$day_lines" "$records" "$slice_mb" "$slice_lines" "$t_cat" "$t_pglog" "$t_pglog1" \
    "$t_pglog_slice" "$t_pglog_slice_all" "$rss_pglog" "${t_badger:-}" "${rss_badger:-}" "$rss_growth" "$(nproc)" <<'EOF'
import sys
(day_mb, day_lines, records, slice_mb, slice_lines, t_cat, t_pglog, t_pglog1, t_slice, t_slice_all, rss,
 t_badger, rss_badger, rss_growth, cores) = sys.argv[1:]
day_mb, slice_mb = float(day_mb), float(slice_mb)
t_cat, t_pglog, t_pglog1, t_slice, t_slice_all = map(float, (t_cat, t_pglog, t_pglog1, t_slice, t_slice_all))
row = "{:<34} {:>10} {:>12} {:>9} {:>9} {:>10}"
print()
print(row.format("what", "MiB", "lines", "seconds", "MiB/s", "peak RSS"))
print(row.format("cat day.csv > /dev/null", f"{day_mb:.0f}", day_lines, f"{t_cat:.2f}", f"{day_mb/t_cat:.0f}", "-"))
print(row.format(f"pglog analyze (-j {cores})", f"{day_mb:.0f}", day_lines, f"{t_pglog:.2f}", f"{day_mb/t_pglog:.0f}", f"{rss} MiB"))
print(row.format("pglog analyze -j 1", f"{day_mb:.0f}", day_lines, f"{t_pglog1:.2f}", f"{day_mb/t_pglog1:.0f}", "-"))
print(row.format("pglog analyze -j 1 (slice)", f"{slice_mb:.1f}", slice_lines, f"{t_slice:.3f}", f"{slice_mb/t_slice:.0f}", "-"))
print(row.format(f"pglog analyze -j {cores} (slice)", f"{slice_mb:.1f}", slice_lines, f"{t_slice_all:.3f}", f"{slice_mb/t_slice_all:.0f}", "-"))
if t_badger:
    t_badger = float(t_badger)
    print(row.format("pgbadger -j 1 (slice)", f"{slice_mb:.1f}", slice_lines, f"{t_badger:.2f}", f"{slice_mb/t_badger:.1f}", f"{rss_badger} MiB"))
print()
print(f"records in the day: {records}")
print(f"pglog / cat:                  {t_pglog / t_cat:.1f}x the time of cat")
if t_badger:
    print(f"pgBadger -j 1 / pglog (slice): pglog is {t_badger / t_slice_all:.0f}x faster with {cores} cores, {t_badger / t_slice:.0f}x with -j 1")
print(f"pglog peak RSS:               {rss} MiB on {day_mb:.0f} MiB")
if rss_growth:
    print(f"pglog peak RSS on 3x the day: {rss_growth} MiB")
EOF
