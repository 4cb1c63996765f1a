#!/usr/bin/env bash
# The whole test suite. Installs what it needs, so it runs on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v python3 >/dev/null || need_apt+=(python3)  # runs sample-logs/count.py
# pg_query builds libpg_query (PostgreSQL's parser) with bindgen.
command -v clang >/dev/null || need_apt+=(clang)
dpkg-query -W -f='${Status}' libclang-dev 2>/dev/null | grep -q 'install ok installed' || need_apt+=(libclang-dev)
# The collector tests: a moto server in a Python venv, certificates made with openssl.
python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v openssl >/dev/null || need_apt+=(openssl)
# A real Prometheus scrapes the collector's /metrics in a collector test.
command -v prometheus >/dev/null || need_apt+=(prometheus)
# terraform/check.sh lints the rendered boot scripts.
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
# The SQLSTATE table's test reads the server's message catalogs with msgunfmt.
command -v msgunfmt >/dev/null || need_apt+=(gettext)
# A real pgbouncer writes the pgbouncer logs the analyzer tests read, and the
# collector tests read its admin console (collector/tests/pgbouncer.rs).
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need_apt+=(pgbouncer)
# A real browser opens the HTML report in the tests.
command -v chromium >/dev/null || need_apt+=(chromium)
# fuzz/seed.sh unpacks saved states into seeds for the state target.
command -v zstd >/dev/null || need_apt+=(zstd)
# The translated-logs test runs the server with lc_messages in these locales.
test_locales=(de_DE fr_FR ja_JP ru_RU es_ES)
command -v locale-gen >/dev/null || need_apt+=(locales)
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ${#need_apt[@]} -gt 0 ]; then
    as_root apt-get update -qq && as_root apt-get install -y -qq "${need_apt[@]}"
fi
missing_locales=()
for l in "${test_locales[@]}"; do
    locale -a 2>/dev/null | grep -qix "$l.utf-\?8" || missing_locales+=("$l")
done
if [ ${#missing_locales[@]} -gt 0 ]; then
    for l in "${missing_locales[@]}"; do
        grep -qx "$l.UTF-8 UTF-8" /etc/locale.gen 2>/dev/null \
            || echo "$l.UTF-8 UTF-8" | as_root tee -a /etc/locale.gen >/dev/null
    done
    as_root locale-gen >/dev/null
fi

# The AWS emulator the collector tests ship to (the harness would create it
# on first use too; doing it here keeps the pip output out of the tests).
PGLOG_MOTO_VENV=$(bash .ci/moto-venv.sh)
export PGLOG_MOTO_VENV

log=$(mktemp)
fuzz_build_log=$(mktemp)
trap 'rm -f "$log" "$fuzz_build_log"' EXIT
# The fuzz targets build at the lowest priority beside the tests: they take
# only the CPU the tests leave idle (the collector tests mostly wait on
# their daemons' intervals), and are ready when the fuzzing starts.
nice -n 19 bash fuzz/run.sh --build-only >"$fuzz_build_log" 2>&1 &
fuzz_build=$!
set +e
# House rule: no crate's files import each other in a circle.
python3 .ci/import_circles.py analyzer/*/src collector/src reports/src testkit/src 2>&1 | tee "$log"
circles_status=${PIPESTATUS[0]}
# --no-fail-fast: one failing test binary must not hide the others' results.
cargo test --workspace --locked --no-fail-fast 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
# terraform/: fmt, checkov, `terraform test` and the .tf parsing tests (all
# offline); checkov and python-hcl2 go into target/tf-venv.
bash terraform/check.sh 2>&1 | tee -a "$log"
tf_status=${PIPESTATUS[0]}
# fuzz/: every fuzz target for a bounded time (see fuzz/README.md); a crash,
# hang or memory blow-up fails the run. Its closing line counts one test
# per target.
wait "$fuzz_build"
fuzz_build_status=$?
tail -n 40 "$fuzz_build_log"
if [ "$fuzz_build_status" -eq 0 ]; then
    bash fuzz/run.sh -j "$(nproc)" "${PGLOG_FUZZ_SECONDS:-20}" 2>&1 | tee -a "$log"
    fuzz_status=${PIPESTATUS[0]}
else
    echo "fuzz: the targets did not build (exit $fuzz_build_status)" | tee -a "$log"
    fuzz_status=$fuzz_build_status
fi
set -e
# One closing line for everything (cargo prints one per test binary,
# `terraform test` one per module, unittest one for terraform/tests,
# fuzz/run.sh one for all targets).
awk '
  /^test result:/ { p += $4; f += $6; s += $8 }
  /^Success! [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
  /^fuzz: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
  /^Failure! [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
  /^Ran [0-9]+ tests? in/ { ran = $2 }
  /^OK/ && ran { k = 0; if (match($0, /skipped=[0-9]+/)) k = substr($0, RSTART + 8, RLENGTH - 8); p += ran - k; s += k; ran = 0 }
  /^FAILED \(/ && ran { n = 0; if (match($0, /failures=[0-9]+/)) n += substr($0, RSTART + 9, RLENGTH - 9); if (match($0, /errors=[0-9]+/)) n += substr($0, RSTART + 7, RLENGTH - 7); f += n; p += ran - n; ran = 0 }
  END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
[ "$status" -eq 0 ] && [ "$circles_status" -eq 0 ] && [ "$tf_status" -eq 0 ] && [ "$fuzz_status" -eq 0 ]
