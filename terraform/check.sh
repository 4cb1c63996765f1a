#!/usr/bin/env bash
# Offline checks of terraform/ (no AWS provider needed): formatting, checkov,
# `terraform test` of the provider-free modules, and the Python tests that
# parse the .tf files and compare the dashboard with `pglog dashboard`.
#   PGLOG_BIN   the pglog binary (default target/debug/pglog)
#   TF_VENV     a venv with checkov, python-hcl2 and the AWS CLI (made when missing)
#   PGLOG_MOTO_VENV  a venv with moto[server] (made when missing), the AWS
#               emulator the boot scripts' tests call
set -euo pipefail
cd "$(dirname "$0")/.."

export PGLOG_BIN="${PGLOG_BIN:-$PWD/target/debug/pglog}"
venv="${TF_VENV:-$PWD/target/tf-venv}"
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

command -v terraform >/dev/null || { echo "terraform/check.sh: terraform is not installed (needs 1.6 or newer)" >&2; exit 1; }
[ -x "$PGLOG_BIN" ] || cargo build -q -p pglog
if [ ! -x "$venv/bin/checkov" ] || [ ! -x "$venv/bin/aws" ] || ! "$venv/bin/python" -c 'import hcl2' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'checkov==3.3.30' 'python-hcl2==8.1.4' 'awscli==1.36.40'
fi
PGLOG_MOTO_VENV=$(bash .ci/moto-venv.sh)
export PGLOG_MOTO_VENV

echo "== terraform fmt"
terraform fmt -check -recursive -diff terraform

echo "== terraform test (provider-free modules)"
for dir in terraform/modules/*/; do
    # A module that needs no provider can be initialised, validated and
    # tested offline.
    grep -q 'required_providers' "$dir"versions.tf && continue
    ( cd "$dir" && terraform init -backend=false -input=false >/dev/null && terraform validate -no-color && terraform test -no-color )
done

echo "== checkov"
"$venv/bin/checkov" -d terraform --framework terraform --compact --quiet --skip-download

echo "== terraform/tests"
"$venv/bin/python" -W error::ResourceWarning -m unittest discover -s terraform/tests -v
