"""The boot scripts the modules hand to EC2, rendered offline with Terraform's
own templatefile() (no provider needed) and checked: bash parses them,
shellcheck finds nothing, the collector config they write is one pglog
accepts, the unit they install is the repository's, and the example's
compressed user data fits EC2's 16 KiB.
"""

import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

TERRAFORM = Path(__file__).resolve().parent.parent
REPO = TERRAFORM.parent
PGLOG = os.environ.get("PGLOG_BIN", str(REPO / "target" / "debug" / "pglog"))
COLLECTOR_TPL = TERRAFORM / "modules" / "pglog-collector" / "collector.sh.tftpl"
REPORT_TPL = TERRAFORM / "modules" / "pglog-nightly-report" / "user-data.sh.tftpl"
EXAMPLE = TERRAFORM / "examples" / "ec2-cluster"
DELIMITER = "__PGLOG_USER_DATA_PART_END__"


def shell_quote(v):
    return "'" + v.replace("'", "'\\''") + "'"


def collector_vars(instance, **over):
    v = {
        "instance": instance, "namespace": "PgLog", "region": "eu-west-1", "interval": "60s",
        "db_user": "pglog_monitor", "db_name": "postgres", "db_port": 5432,
        "log_dir": "/var/lib/pgsql/data/log", "log_group": "/pglog/demo/postgresql",
        "log_retention_days": 30, "slow_query_ms": 1000,
        "password_parameter": "/pglog/demo/monitor-password",
        "artifact_s3_uri": "s3://demo-artifacts/pglog/pglog-aarch64", "artifact_url": "",
        "artifact_sha256": "0" * 64,
        "service_unit": "${file(\"%s\")}" % (REPO / "collector" / "deploy" / "pglog-collector.service"),
    }
    v.update(over)
    return v


def postgresql_vars(role, name, slot):
    return {
        "role": role, "instance_name": name, "region": "eu-west-1", "data_volume_id": "vol-0123456789abcdef0",
        "data_dir": "/var/lib/pgsql/data", "vpc_cidr": "10.40.0.0/16", "app_cidr_blocks": ["10.50.0.0/16"],
        "primary_ip": "10.40.0.10", "standby_slots": ["standby_1"], "slot": slot,
        "replicator_parameter": "/pglog/demo/replicator-password",
        "monitor_parameter": "/pglog/demo/monitor-password", "monitor_user": "pglog_monitor",
        "log_min_duration_statement_ms": 250, "auto_explain_min_duration_ms": 1000, "max_slot_wal_keep_size_gb": 25,
    }


def hcl(value):
    """A Python value as an HCL expression (strings starting ${ are kept as expressions)."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {hcl(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    return json.dumps(value)


def render(outputs):
    """outputs: name -> HCL expression; applies a provider-free root and returns the strings."""
    work = Path(tempfile.mkdtemp(prefix="pglog-userdata-"))
    try:
        (work / "main.tf").write_text("".join(f'output "{k}" {{\n  value = {v}\n}}\n' for k, v in outputs.items()))
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


def tpl(path, variables):
    return f'templatefile("{path}", {hcl(variables)})'


def heredoc(script, marker):
    m = re.search(rf"<<'{marker}'\n(.*?)\n{marker}\n", script, re.S)
    assert m, f"no {marker} here-document"
    return m.group(1)


class UserData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        report_values = {
            "bucket": "demo-reports-20261201", "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/abcd",
            "region": "eu-west-1", "instance": "demo-primary", "log_dir": "/var/lib/pgsql/data/log",
            "glob_format": "postgresql-%Y-%m-%d_*.csv", "schedule": "*-*-* 00:30:00 UTC",
        }
        outputs = {
            "collector_s3": tpl(COLLECTOR_TPL, collector_vars("demo-primary")),
            "collector_url": tpl(COLLECTOR_TPL, collector_vars(
                "demo-standby-1", artifact_s3_uri="", artifact_url="https://example.com/pglog", log_dir="")),
            "report": tpl(REPORT_TPL, {"q": {k: shell_quote(v) for k, v in report_values.items()},
                                       "schedule": report_values["schedule"]}),
            "pg_primary": tpl(EXAMPLE / "postgresql-setup.sh.tftpl", postgresql_vars("primary", "demo-primary", "")),
            "pg_standby": tpl(EXAMPLE / "postgresql-setup.sh.tftpl",
                              postgresql_vars("standby", "demo-standby-1", "standby_1")),
        }
        cls.scripts = render(outputs)
        parts = [
            {"file": "10-postgresql.sh", "content": cls.scripts["pg_primary"]},
            {"file": "20-pglog-collector.sh", "content": cls.scripts["collector_s3"]},
            {"file": "30-pglog-nightly-report.sh", "content": cls.scripts["report"]},
        ]
        cls.scripts["primary_user_data"] = render({
            "u": tpl(EXAMPLE / "user-data.sh.tftpl",
                     {"instance_name": "demo-primary", "delimiter": DELIMITER, "parts": parts}),
        })["u"]

    def test_every_script_parses_in_bash(self):
        for name, script in self.scripts.items():
            with self.subTest(script=name):
                r = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
                self.assertEqual(r.returncode, 0, r.stderr)

    @unittest.skipUnless(shutil.which("shellcheck"), "shellcheck is not installed (.ci/test.sh installs it)")
    def test_shellcheck_finds_nothing(self):
        for name, script in self.scripts.items():
            with self.subTest(script=name):
                r = subprocess.run(["shellcheck", "-s", "bash", "-S", "warning", "-"],
                                   input=script, text=True, capture_output=True)
                self.assertEqual(r.returncode, 0, r.stdout)

    def test_collector_config_is_accepted_by_pglog(self):
        for name in ("collector_s3", "collector_url"):
            config = heredoc(self.scripts[name], "CONFIG")
            with self.subTest(script=name), tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
                f.write(config)
                f.flush()
                # Nothing listens on 127.0.0.1:5432 here, so the one cycle
                # fails (exit 1); a config error would be exit 2.
                r = subprocess.run([PGLOG, "collect", "--config", f.name, "--once", "--dry-run",
                                    "--connect-timeout", "1s"], capture_output=True, text=True, timeout=60)
                self.assertIn(r.returncode, (0, 1), r.stderr)
                line = json.loads(r.stdout.splitlines()[0])
                up = [m for m in line["metrics"] if m["metric"] == "Up"][0]
                expected = "demo-primary" if name == "collector_s3" else "demo-standby-1"
                self.assertIn(["DBInstance", expected], up["dimensions"])

    def test_installed_unit_is_the_repository_unit(self):
        unit = heredoc(self.scripts["collector_s3"], "UNIT")
        repo_unit = (REPO / "collector" / "deploy" / "pglog-collector.service").read_text()
        self.assertEqual(unit, repo_unit.rstrip("\n"))

    def test_binary_is_checked_before_install(self):
        s = self.scripts["collector_s3"]
        self.assertLess(s.index("sha256sum --check"), s.index("install -m 0755"))
        self.assertIn("aws s3 cp", s)
        self.assertIn("curl -fsSL --proto '=https'", self.scripts["collector_url"])
        self.assertNotIn("log_dir", heredoc(self.scripts["collector_url"], "CONFIG"))

    def test_passwords_are_never_in_the_scripts(self):
        # The scripts name the SSM parameters; the values are read on the host.
        for name, script in self.scripts.items():
            with self.subTest(script=name):
                self.assertNotRegex(script, r"(?i)password\s*=\s*'[^$']")

    def test_example_user_data_fits_ec2_after_gzip(self):
        data = self.scripts["primary_user_data"].encode()
        self.assertLess(len(gzip.compress(data)), 16 * 1024)
        for part in ("10-postgresql.sh", "20-pglog-collector.sh", "30-pglog-nightly-report.sh"):
            self.assertIn(part, self.scripts["primary_user_data"])


if __name__ == "__main__":
    unittest.main()
