#!/usr/bin/env bash
# Writes logs that try to break the analyzer, from a real PostgreSQL 15
# server, into OUT_DIR (made if missing):
#   real/postgresql.{log,csv,json}  what the server wrote while it ran
#       huge statements: a 2 MiB target list and a 2 MiB `1+1+...` (both
#       fail, so the server logs their text as STATEMENT), a 4 MiB ARRAY[...]
#       that runs and is logged with its duration, and a statement of 100,000
#       lines;
#   big/postgresql.{log,csv,json}   the same records with the `1+1+...`
#       statement grown to 50 MiB inside each format's own record (a server
#       refuses to parse that much, so the script makes it from the real
#       record rather than asking the server).
# Run as root (the server runs as an unprivileged user); about 20 s.
# Used by the analyzer's tests (analyzer/cli/tests/analyze/bounded.rs).
set -euo pipefail

OUT=${1:?usage: generate-adversarial.sh OUT_DIR}
# shellcheck source=sample-logs/throwaway-server.sh
. "$(cd "$(dirname "$0")" && pwd)/throwaway-server.sh"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
start_server adversarial "log_min_duration_statement = 0"

# The statements, written by Python so that no shell holds them.
python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1]
mib = 1 << 20
def write(name, sql):
    with open(f"{w}/{name}.sql", "w") as f:
        f.write(sql + ";\n")
write("targets", "SELECT " + ",".join(["a"] * (mib)) + " FROM t")
write("plus", "SELECT " + "+".join(["1"] * (mib)))
write("array", "SELECT cardinality(ARRAY[" + ",".join(["1"] * (2 * mib)) + "])")
write("lines", "SELECT length('" + "\n" * 100000 + "')")
PY
chmod 644 "$WORK"/*.sql
sql() { pg env PGAPPNAME=adversarial "$BIN/psql" -X -q -h "$WORK" -p "$PORT" -U postgres -d postgres "$@" >/dev/null 2>&1 || true; }
sql -c "CREATE TABLE t (a int)"
for f in targets plus array lines; do sql -f "$WORK/$f.sql"; done
sql -c "SELECT 1"
stop_server

mkdir -p "$OUT/real" "$OUT/big"
for ext in log csv json; do cp "$D/log/postgresql.$ext" "$OUT/real/postgresql.$ext"; done

# The 2 MiB `1+1+...` run grown to 50 MiB where each format wrote it.
python3 - "$OUT" <<'PY'
import re, sys
out = sys.argv[1]
run = re.compile(rb"1(?:\+1){100000,}")
grown = b"+".join([b"1"] * (25 << 20))
for ext in ("log", "csv", "json"):
    data = open(f"{out}/real/postgresql.{ext}", "rb").read()
    new, n = run.subn(lambda m: grown, data)
    if n == 0:
        sys.exit(f"postgresql.{ext}: the server did not log the 1+1+... statement")
    open(f"{out}/big/postgresql.{ext}", "wb").write(new)
PY
chmod -R a+rX "$OUT"
