#!/usr/bin/env bash
# Makes the Python venv with the moto AWS emulator the tests call, when it
# is missing, and prints its path: $PGLOG_MOTO_VENV or target/moto-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${PGLOG_MOTO_VENV:-$PWD/target/moto-venv}"
if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'moto[server]==5.2.5'
fi
echo "$venv"
