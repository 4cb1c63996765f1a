#!/usr/bin/env bash
# Writes sample-logs/retimed/: the incident log's stderr copy re-timed to one
# hour and to 24 hours (see retime.py), for the chart tests of long spans.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$HERE/../incidents/postgresql.log.zst"
python3 "$HERE/retime.py" "$SRC" '2026-11-30 10:00:00' 3600 "$HERE/incidents-1h.log.gz"
python3 "$HERE/retime.py" "$SRC" '2026-11-30 00:00:00' 86400 "$HERE/incidents-24h.log.gz"
ls -l "$HERE"/*.gz
