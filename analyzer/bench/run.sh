#!/usr/bin/env bash
# Benchmark of `pglog analyze` on a real day of log in csvlog, jsonlog and
# stderr (the same records in each), plain and as gzip and zstd copies, side
# by side with `cat`/`zcat`/`zstdcat` (the ceiling of reading the bytes) and
# pgBadger -j 1 (the tool users know) on a 150k-line slice of each format.
# Prints one table (seconds, MB/s, records/s, peak RSS) and the ratios of
# issue 16: pglog/cat, pgBadger/pglog, compressed/max(decompressor, plain),
# -j N/-j 1.
#
#   sudo analyzer/bench/run.sh                 # 1 GiB csvlog day, 3 timed runs
#   BENCH_SIZE_MB=3072 BENCH_RUNS=5 ...        # bigger day, more runs
#   BENCH_HEAD_MB=20 BENCH_RUNS=1 ...          # quick check: the first 20 MB of records
#   BENCH_JSON=bench.json ...                  # also write the figures as JSON
#   BENCH_FORMATS="csv log" ...                # some formats only (csv json log)
#   BENCH_GROWTH=1 ...                         # also peak RSS on 3x the csvlog day
#   PGLOG=/path/to/pglog ...                   # a given binary (default: build one)
#
# The day is written by a real PostgreSQL 15 server under pgbench with
# log_min_duration_statement = 0 (sample-logs/generate-day.sh), until the
# csvlog reaches BENCH_SIZE_MB; the server writes the same records as
# day.csv, day.json and day.log (log_line_prefix '%m [%p] '). The files and
# their .gz and .zst copies are kept in BENCH_DIR for later runs. With
# BENCH_HEAD_MB the day is cut to the records in the first BENCH_HEAD_MB MB
# of the csvlog (the same records in each format), kept in BENCH_HEAD_DIR.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN=/usr/lib/postgresql/15/bin
BENCH_DIR=${BENCH_DIR:-/var/tmp/pglog-bench}
SIZE_MB=${BENCH_SIZE_MB:-1024}
RUNS=${BENCH_RUNS:-3}
SLICE_LINES=${BENCH_SLICE_LINES:-150000}
HEAD_MB=${BENCH_HEAD_MB:-}
FORMATS=${BENCH_FORMATS:-csv json log}
JOBS=$(nproc)

# --- what is missing --------------------------------------------------------
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
command -v pgbadger >/dev/null || missing+=(pgbadger)
command -v zstd >/dev/null || missing+=(zstd)
[ -x "$BIN/initdb" ] || [ -s "$BENCH_DIR/day.log" ] || missing+=(postgresql-15)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "missing ${missing[*]}: run as root to install them" >&2; exit 1; }
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

size_mb() { echo $(( $(stat -c %s "$1") / 1048576 )); }
# shellcheck source=slices.sh
. "$HERE/slices.sh"

# --- the day ----------------------------------------------------------------
mkdir -p "$BENCH_DIR"
DAY=$BENCH_DIR/day.csv
if [ ! -s "$DAY" ] || [ ! -s "${DAY%.csv}.json" ] || [ ! -s "${DAY%.csv}.log" ] \
    || [ "$(size_mb "$DAY")" -lt "$SIZE_MB" ]; then
    [ "$(id -u)" = 0 ] || { echo "run as root to generate the day (it starts a PostgreSQL server)" >&2; exit 1; }
    echo "generating a real ${SIZE_MB} MiB csvlog, with jsonlog and stderr (pgbench, log_min_duration_statement = 0) ..."
    start=$(date +%s)
    bash "$REPO/sample-logs/generate-day.sh" "$SIZE_MB" "$DAY"
    echo "  done in $(( $(date +%s) - start )) s"
fi

DATA=$BENCH_DIR
if [ -n "$HEAD_MB" ]; then
    # The records of the first HEAD_MB MB of the csvlog, in every format: the
    # server wrote the records in the same order to each file.
    DATA=${BENCH_HEAD_DIR:-$BENCH_DIR/head-${HEAD_MB}mb}
    mkdir -p "$DATA"
    if stale "$DATA/day.log" "$DAY"; then
        echo "cutting the first $HEAD_MB MB of records ..."
        cut_day "$BENCH_DIR" "$HEAD_MB" "$DATA"
    fi
fi

# Compressed copies and pgBadger's slices, made once.
for f in $FORMATS; do
    plain=$DATA/day.$f
    if stale "$plain.gz" "$plain"; then
        echo "compressing day.$f with gzip ..."
        gzip -c "$plain" > "$plain.gz.tmp" && mv "$plain.gz.tmp" "$plain.gz"
    fi
    if stale "$plain.zst" "$plain"; then
        echo "compressing day.$f with zstd ..."
        zstd -q -T0 -c "$plain" > "$plain.zst.tmp" && mv "$plain.zst.tmp" "$plain.zst"
    fi
    if stale "$DATA/slice.$f" "$plain"; then
        head_lines "$f" "$plain" "$SLICE_LINES" > "$DATA/slice.$f"
    fi
done

PGLOG=${PGLOG:-$REPO/target/release/pglog}
if [ ! -x "$PGLOG" ]; then
    (cd "$REPO" && cargo build --release --locked -p pglog)
fi

# --- measuring --------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ROWS=$tmp/rows.tsv
: > "$ROWS"

# name runs command...: "mean stddev" seconds. hyperfine sends the output to
# /dev/null; no shell in between.
hyper() {
    local name=$1 runs=$2 warmup=0 cmd
    shift 2
    [ "$runs" -gt 1 ] && warmup=1
    printf -v cmd '%q ' "$@"
    hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$tmp/$name.json" "$cmd" >/dev/null 2>&1 \
        || { echo "failed: $*" >&2; exit 1; }
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["mean"], r.get("stddev") or 0)' "$tmp/$name.json"
}
# name command...: peak resident memory in MiB of one run.
peak_mb() {
    local name=$1
    shift
    /usr/bin/time -v -o "$tmp/$name.time" "$@" >/dev/null 2> "$tmp/$name.err" \
        || { cat "$tmp/$name.err" >&2; exit 1; }
    awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$tmp/$name.time"
}
# file: the records pglog counts in it and its peak RSS (MiB), from one run
# with all cores.
count_and_peak() {
    local name rss
    name=$(basename "$1")
    rss=$(peak_mb "count-$name" "$PGLOG" analyze -q -j "$JOBS" --format json -o "$tmp/$name.report.json" "$1")
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["input"]["records"], sys.argv[2])' \
        "$tmp/$name.report.json" "$rss"
}
# format input-file tool log-bytes records "mean stddev" rss: a line of the table.
row() {
    local mean sd
    read -r mean sd <<< "$6"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(basename "$2")" "$3" "$4" "$(stat -c %s "$2")" \
        "$5" "$mean" "$sd" "$7" >> "$ROWS"
}

declare -A RECORDS RSS
failed=0
echo "counting records (and peak memory) ..."
for f in $FORMATS; do
    for input in day.$f day.$f.gz day.$f.zst slice.$f; do
        counted=$(count_and_peak "$DATA/$input")
        RECORDS[$input]=${counted% *}
        RSS[$input]=${counted#* }
    done
    for c in gz zst; do
        if [ "${RECORDS[day.$f.$c]}" != "${RECORDS[day.$f]}" ]; then
            echo "day.$f.$c: ${RECORDS[day.$f.$c]} records, but day.$f has ${RECORDS[day.$f]}" >&2
            failed=1
        fi
    done
done
first=""
for f in $FORMATS; do
    first=${first:-$f}
    if [ "${RECORDS[day.$f]}" != "${RECORDS[day.$first]}" ]; then
        echo "day.$f: ${RECORDS[day.$f]} records, but day.$first has ${RECORDS[day.$first]}" >&2
        failed=1
    fi
done
[ "$failed" = 0 ] || { echo "record counts disagree" >&2; exit 1; }

for f in $FORMATS; do
    plain=$DATA/day.$f
    bytes=$(stat -c %s "$plain")
    records=${RECORDS[day.$f]}
    echo "timing day.$f ($RUNS runs each) ..."
    row "$f" "$plain" cat "$bytes" "" "$(hyper "cat-$f" "$RUNS" cat "$plain")" ""
    row "$f" "$plain" "pglog -j $JOBS" "$bytes" "$records" \
        "$(hyper "pglog-$f" "$RUNS" "$PGLOG" analyze -q -j "$JOBS" --format json -o /dev/null "$plain")" "${RSS[day.$f]}"
    row "$f" "$plain" "pglog -j 1" "$bytes" "$records" \
        "$(hyper "pglog1-$f" "$RUNS" "$PGLOG" analyze -q -j 1 --format json -o /dev/null "$plain")" ""
    for c in gz zst; do
        case $c in gz) dec="zcat";; zst) dec="zstdcat";; esac
        row "$f" "$plain.$c" "$dec" "$bytes" "" "$(hyper "$dec-$f" "$RUNS" "$dec" "$plain.$c")" ""
        row "$f" "$plain.$c" "pglog -j $JOBS" "$bytes" "$records" \
            "$(hyper "pglog-$f-$c" "$RUNS" "$PGLOG" analyze -q -j "$JOBS" --format json -o /dev/null "$plain.$c")" "${RSS[day.$f.$c]}"
    done
    slice=$DATA/slice.$f
    bytes=$(stat -c %s "$slice")
    records=${RECORDS[slice.$f]}
    row "$f" "$slice" "pglog -j $JOBS" "$bytes" "$records" \
        "$(hyper "pglog-slice-$f" "$RUNS" "$PGLOG" analyze -q -j "$JOBS" --format json -o /dev/null "$slice")" "${RSS[slice.$f]}"
    row "$f" "$slice" "pglog -j 1" "$bytes" "$records" \
        "$(hyper "pglog1-slice-$f" "$RUNS" "$PGLOG" analyze -q -j 1 --format json -o /dev/null "$slice")" ""
    # pgBadger once (minutes on larger inputs), under time for its peak RSS.
    # Its report's name must not hold "json": that chooses the output format.
    case $f in
        csv) badger_format=(-f csv);;
        json) badger_format=(-f jsonlog);;
        log) badger_format=(-f stderr --prefix '%m [%p] ');;
    esac
    t=$(hyper "badger-$f" 1 /usr/bin/time -v -o "$tmp/badger-$f.time" \
        pgbadger -q -j 1 "${badger_format[@]}" -o "$tmp/badger-$f.html" "$slice")
    rss=$(awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$tmp/badger-$f.time")
    # A pgBadger that read nothing would look fast.
    queries=$(grep -o '<span class="figure">[0-9,]*</span> <span class="figure-label">Number of queries' \
        "$tmp/badger-$f.html" | head -1 | tr -cd '0-9')
    [ "${queries:-0}" -gt 0 ] || { echo "pgBadger found no queries in slice.$f" >&2; exit 1; }
    row "$f" "$slice" "pgbadger -j 1" "$bytes" "" "$t" "$rss"
done

growth=""
if [ "${BENCH_GROWTH:-0}" = 1 ]; then
    cat "$DATA/day.csv" "$DATA/day.csv" "$DATA/day.csv" > "$tmp/day3.csv"
    growth=$(peak_mb growth "$PGLOG" analyze -q -j "$JOBS" --format json -o /dev/null "$tmp/day3.csv")
    rm -f "$tmp/day3.csv"
fi

python3 "$HERE/table.py" "$ROWS" "$JOBS" "$RUNS" "$("$PGLOG" --version)" "$(pgbadger --version)" \
    "$growth" "${BENCH_JSON:-}"
