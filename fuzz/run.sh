#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each and prints one
# line per target and a closing `fuzz: N passed, N failed`. Exits nonzero
# when a target found a crash, a hang or a memory blow-up; the input is in
# fuzz/artifacts/TARGET/, the whole libFuzzer log in fuzz/logs/TARGET.log.
#
#   fuzz/run.sh [-j JOBS] SECONDS [TARGET...]
#   fuzz/run.sh --build-only         # installs cargo-fuzz, builds the targets
#
# Builds once (sanitizer none, see README.md), cuts the seeds with seed.sh
# when fuzz/seeds/ is missing, and keeps what each run adds to
# fuzz/corpus/TARGET/ for the next.
set -euo pipefail
cd "$(dirname "$0")/.."

build_only=false
if [ "${1-}" = --build-only ]; then
    build_only=true
    set -- 0
fi
jobs=1
if [ "${1-}" = -j ]; then
    jobs=$2
    shift 2
fi
seconds=${1:?usage: fuzz/run.sh [-j JOBS] SECONDS [TARGET...]}
shift

# cargo-fuzz drives nightly-only compiler flags; stable rustc accepts them
# with RUSTC_BOOTSTRAP=1.
export RUSTC_BOOTSTRAP=1
if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --locked --version 0.13.2
fi
# cargo-fuzz has no --locked: check that fuzz/Cargo.lock needs no change first.
cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

# No sanitizer: the project has no unsafe code, and the C libraries
# (libpg_query, zstd, lzma, bzip2) are not instrumented by cargo-fuzz
# anyway; without ASan the build is faster and runs twice as many inputs.
# Debug assertions (overflow checks) are on, as cargo-fuzz does by default.
cargo fuzz build --sanitizer none
if $build_only; then
    exit 0
fi
[ -d fuzz/seeds ] || bash fuzz/seed.sh

bin=fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p fuzz/logs

# Largest input tried: 64 KiB reaches the record limit (8 KiB in the
# targets) many times over; states are zstd streams of whole analyses.
max_len() {
    case $1 in
        state) echo 262144 ;;
        *) echo 65536 ;;
    esac
}

run_one() {
    local t=$1 log=fuzz/logs/$1.log status=0
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/seeds/$t"
    # A hard cap beside libFuzzer's RSS limit, which is only checked once a
    # second: without a sanitizer a fast allocation could outrun it.
    (
        ulimit -v $((4 * 1024 * 1024))
        exec "$bin/$t" -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 \
            -max_len="$(max_len "$t")" -print_final_stats=1 \
            -artifact_prefix="fuzz/artifacts/$t/" "fuzz/corpus/$t" "fuzz/seeds/$t"
    ) >"$log" 2>&1 || status=$?
    echo "$status" >"fuzz/logs/$t.status"
}

summary_line() {
    local t=$1 log=fuzz/logs/$1.log status execs rate rss cov
    status=$(cat "fuzz/logs/$t.status")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    cov=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' | tail -n 1 || true)
    if [ "$status" -eq 0 ]; then
        printf 'fuzz %-20s ok: %s execs, %s/s, %s, peak %s MB\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${rss:-?}"
        return 0
    fi
    printf 'fuzz %-20s FAILED (exit %s): %s\n' "$t" "$status" \
        "$(grep -m1 -E '^==[0-9]+== ERROR: libFuzzer|^thread .* panicked|ALARM' "$log" || echo 'see the log')"
    grep -E '^(artifact_prefix|Test unit written to|thread .* panicked|SUMMARY)' "$log" | sed 's/^/    /' || true
    echo "    log: $log"
    return 1
}

running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

passed=0
failed=0
for t in "${targets[@]}"; do
    if summary_line "$t"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
