"""Applies a Terraform root that uses no provider (module calls, templatefile,
outputs only), which works offline, and returns its outputs."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def apply(main_tf):
    work = Path(tempfile.mkdtemp(prefix="pglog-tf-"))
    try:
        (work / "main.tf").write_text(main_tf)
        env = {**os.environ, "TF_IN_AUTOMATION": "1"}
        for cmd in (["init", "-backend=false", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
            r = subprocess.run(["terraform", *cmd], cwd=work, env=env, capture_output=True, text=True)
            if r.returncode != 0:
                raise AssertionError(f"terraform {cmd[0]} failed:\n{r.stderr}")
        out = subprocess.run(["terraform", "output", "-json"], cwd=work, env=env,
                             check=True, capture_output=True, text=True).stdout
        return {k: v["value"] for k, v in json.loads(out).items()}
    finally:
        shutil.rmtree(work)
