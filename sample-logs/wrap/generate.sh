#!/bin/sh
# Wraps the real sample logs into the envelopes of managed and containerised
# PostgreSQL: writes sample-logs/wrapped/*.gz. Needs python3 only.
set -eu
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")"
for script in wrap-*.py; do
    python3 "$script"
done
