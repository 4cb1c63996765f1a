#!/usr/bin/env bash
# Instructions per record per stage of `pglog analyze -j 1` (read,
# decompress, split into fields, timestamp, classify, fingerprint and
# pg_query, statistics, report), counted by callgrind on the same records in
# csvlog, jsonlog and stderr: those in the first PROFILE_MB MB of the
# benchmark day's csvlog. Instruction counts do not depend on what else the
# machine runs, so this measures on a busy machine too.
#
#   analyzer/bench/profile.sh                       # csv json log, 20 MB
#   PROFILE_INPUTS="csv log.gz json.zst" ...        # formats, and compressed copies
#   PROFILE_MB=50 PROFILE_JSON=profile.json ...     # more records; the figures as JSON
#   PROFILE_FROM_MB=500 ...                         # the records after the first 500 MB
#   PGLOG=/path/to/pglog ...                        # a given binary
#
# By default it profiles analyzer/bench/driver, which makes the same engine
# calls and writes the same JSON as `pglog analyze -q -j 1 --format json`
# without linking the CLI's AWS and collector crates (it builds in a minute),
# with line tables for pglog's crates (so that code inlined across modules
# counts for the module it was written in), in target/profile-build
# (PROFILE_TARGET_DIR). PGLOG=target/release/pglog profiles a pglog binary
# instead (build it with CARGO_PROFILE_RELEASE_DEBUG=line-tables-only). The stages are matched by module and source path in
# stages.py; the day is analyzer/bench/run.sh's (BENCH_DIR).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BENCH_DIR=${BENCH_DIR:-/var/tmp/pglog-bench}
MB=${PROFILE_MB:-20}
FROM_MB=${PROFILE_FROM_MB:-0}
INPUTS=${PROFILE_INPUTS:-csv json log}
SLICE=${MB}mb
[ "$FROM_MB" -eq 0 ] || SLICE=${MB}mb-from-$FROM_MB
WORK=${PROFILE_DIR:-$REPO/target/profile-data/$SLICE}
# shellcheck source=slices.sh
. "$HERE/slices.sh"

for tool in valgrind callgrind_annotate zstd; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install valgrind zstd)" >&2; exit 1; }
done
for f in csv json log; do
    [ -s "$BENCH_DIR/day.$f" ] || { echo "no $BENCH_DIR/day.$f: run analyzer/bench/run.sh first" >&2; exit 1; }
done

# One analysis is "${ANALYZE[@]}" REPORT.json INPUT.
if [ -n "${PGLOG:-}" ]; then
    ANALYZE=("$PGLOG" analyze -q -j 1 --format json -o)
else
    export CARGO_TARGET_DIR=${PROFILE_TARGET_DIR:-$REPO/target/profile-build}
    cargo build -q --release --locked --manifest-path "$HERE/driver/Cargo.toml"
    ANALYZE=("$CARGO_TARGET_DIR/release/analyze-json")
fi

if stale "$WORK/day.log" "$BENCH_DIR/day.csv"; then
    echo "cutting the records of $MB MB after the first $FROM_MB MB ..." >&2
    cut_day "$BENCH_DIR" "$MB" "$WORK" "$FROM_MB"
fi

columns=()
for input in $INPUTS; do
    file=$WORK/day.$input
    plain=$WORK/day.${input%%.*}
    if [ "$file" != "$plain" ] && stale "$file" "$plain"; then
        case $input in
            *.gz) gzip -c "$plain" > "$file";;
            *.zst) zstd -q -c "$plain" > "$file";;
        esac
    fi
    out=$WORK/callgrind.$input.out
    echo "callgrind on day.$input ($(( $(stat -c %s "$file") / 1000000 )) MB) ..." >&2
    valgrind -q --tool=callgrind --demangle=no --callgrind-out-file="$out" \
        "${ANALYZE[@]}" "$WORK/report.$input.json" "$file"
    records=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["input"]["records"])' \
        "$WORK/report.$input.json")
    columns+=("$input=$out:$records")
done
python3 "$HERE/stages.py" ${PROFILE_JSON:+--json "$PROFILE_JSON"} "${columns[@]}"
echo "callgrind files: $WORK/callgrind.*.out (callgrind_annotate --inclusive=yes FILE | head -60)" >&2
