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
import socket
import subprocess
import tempfile
import time
import tomllib
import unittest
import urllib.request
from pathlib import Path

import offline_root

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
        # The module's defaults for the database scope and pgbouncer: unset.
        "databases": [], "exclude_databases": [], "max_database_connections": "",
        "pgbouncer": False, "pgbouncer_port": "", "pgbouncer_user": "", "pgbouncer_password_parameter": "",
        "service_unit": "${file(\"%s\")}" % (REPO / "collector" / "deploy" / "pglog-collector.service"),
    }
    v.update(over)
    return v


# collector_vars with the database scope and pgbouncer set, as main.tf passes
# them: pgbouncer's user is its own, its password the monitoring role's
# parameter unless pgbouncer_password_parameter names another.
SCOPED = {
    "databases": ["app_*", "shop", "db?.v$2-x"], "exclude_databases": ["scratch_*"], "max_database_connections": 3,
    "pgbouncer": True, "pgbouncer_port": 6432, "pgbouncer_user": "pglog_stats",
}

# What the config held before the database scope and pgbouncer variables, for
# the s3 rendering: unset, they must leave it as it was, byte for byte.
DEFAULT_CONFIG = """\
# Written by terraform/modules/pglog-collector. The password comes from SSM
# (/pglog/demo/monitor-password) into /run/pglog/pgpass at each start.
# Loopback only, so no TLS: the traffic never leaves the host.
dsn = "host=127.0.0.1 port=5432 user=pglog_monitor dbname=postgres sslmode=disable application_name=pglog"
instance = "demo-primary"
namespace = "PgLog"
region = "eu-west-1"
interval = "60s"
log_dir = "/var/lib/pgsql/data/log"
log_group = "/pglog/demo/postgresql"
log_retention_days = 30
slow_query_ms = 1000"""


def dry_run(config):
    """pglog collect --once --dry-run on a config text: (exit code, stdout, stderr)."""
    with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
        f.write(config)
        f.flush()
        # Nothing listens on 127.0.0.1:5432 here, so the one cycle fails
        # (exit 1); a config error would be exit 2.
        r = subprocess.run([PGLOG, "collect", "--config", f.name, "--once", "--dry-run",
                            "--connect-timeout", "1s"], capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout, r.stderr


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
    """outputs: name -> HCL expression; the rendered strings."""
    return offline_root.apply("".join(f'output "{k}" {{\n  value = {v}\n}}\n' for k, v in outputs.items()))


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
            "collector_scoped": tpl(COLLECTOR_TPL, collector_vars("demo-primary", **SCOPED)),
            "collector_scoped_own_parameter": tpl(COLLECTOR_TPL, collector_vars(
                "demo-standby-1", log_dir="", pgbouncer_password_parameter="/pglog/demo/pgbouncer-password",
                **SCOPED)),
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
        for name in ("collector_s3", "collector_url", "collector_scoped", "collector_scoped_own_parameter"):
            with self.subTest(script=name):
                code, out, err = dry_run(heredoc(self.scripts[name], "CONFIG"))
                self.assertIn(code, (0, 1), err)
                line = json.loads(out.splitlines()[0])
                up = [m for m in line["metrics"] if m["metric"] == "Up"][0]
                expected = "demo-standby-1" if name in ("collector_url", "collector_scoped_own_parameter") \
                    else "demo-primary"
                self.assertIn(["DBInstance", expected], up["dimensions"])

    def test_scope_and_pgbouncer_are_written_when_set(self):
        config = tomllib.loads(heredoc(self.scripts["collector_scoped"], "CONFIG"))
        self.assertEqual(config["databases"], ["app_*", "shop", "db?.v$2-x"])
        self.assertEqual(config["exclude_databases"], ["scratch_*"])
        self.assertEqual(config["max_database_connections"], 3)
        self.assertEqual(config["pgbouncer"], {
            "dsn": "host=127.0.0.1 port=6432 dbname=pgbouncer user=pglog_stats sslmode=disable application_name=pglog",
        })
        # The rest is as without them.
        default = tomllib.loads(heredoc(self.scripts["collector_s3"], "CONFIG"))
        self.assertEqual({k: v for k, v in config.items() if k in default}, default)

    def test_pglog_reads_the_pgbouncer_console(self):
        # Nothing listens on 6432 either: the console is down, said as
        # PgbouncerUp 0 for this instance, and the cycle is not a config error.
        code, out, err = dry_run(heredoc(self.scripts["collector_scoped"], "CONFIG"))
        self.assertIn(code, (0, 1), err)
        metrics = [m for line in out.splitlines() for m in json.loads(line).get("metrics", [])]
        up = [m for m in metrics if m["metric"] == "PgbouncerUp"]
        self.assertTrue(up, "no PgbouncerUp datum in the dry run")
        self.assertEqual(up[0]["value"], 0)
        self.assertIn(["DBInstance", "demo-primary"], up[0]["dimensions"])

    def test_unset_scope_and_pgbouncer_leave_the_config_as_it_was(self):
        self.assertEqual(heredoc(self.scripts["collector_s3"], "CONFIG"), DEFAULT_CONFIG)
        for name in ("collector_s3", "collector_url"):
            with self.subTest(script=name):
                config = heredoc(self.scripts[name], "CONFIG")
                for key in ("databases", "exclude_databases", "max_database_connections", "pgbouncer"):
                    self.assertNotRegex(config, rf"(?m)^\[?{key}\b")
                self.assertNotIn("pgbouncer", heredoc(self.scripts[name], "FETCH"))

    def test_installed_unit_is_the_repository_unit(self):
        unit = heredoc(self.scripts["collector_s3"], "UNIT")
        repo_unit = (REPO / "collector" / "deploy" / "pglog-collector.service").read_text()
        self.assertEqual(unit, repo_unit.rstrip("\n"))

    def test_the_collector_can_write_its_state_dir(self):
        # ProtectSystem=strict leaves /var read-only but for the unit's
        # StateDirectory, which systemd makes for the pglog user: the
        # counters and windows and the log checkpoint are kept there.
        unit = heredoc(self.scripts["collector_s3"], "UNIT").splitlines()
        self.assertIn("ProtectSystem=strict", unit)
        self.assertIn("User=pglog", unit)
        self.assertIn("StateDirectory=pglog", unit)
        for name in ("collector_s3", "collector_url"):
            config = heredoc(self.scripts[name], "CONFIG")
            given = re.search(r'^state_dir\s*=\s*"([^"]*)"', config, re.M)
            with self.subTest(script=name):
                self.assertEqual(given.group(1) if given else "/var/lib/pglog", "/var/lib/pglog")

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


def moto_venv():
    return Path(os.environ.get("PGLOG_MOTO_VENV", REPO / "target" / "moto-venv"))


MOTO = {}


def setUpModule():
    """One moto server on loopback for the scripts that call AWS."""
    work = Path(tempfile.mkdtemp(prefix="pglog-moto-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (work / "moto.log").open("w")
    proc = subprocess.Popen([str(moto_venv() / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    aws_bin = shutil.which("aws", path=os.path.dirname(os.sys.executable))
    assert aws_bin, "the AWS CLI is installed into the checks' venv by terraform/check.sh"
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_CONFIG_FILE": "/dev/null",
        "PATH": f"{Path(PGLOG).parent}:{Path(aws_bin).parent}:/usr/bin:/bin",
    }
    MOTO.update(work=work, proc=proc, log=log, env=env)


def tearDownModule():
    if MOTO:
        MOTO["proc"].terminate()
        MOTO["proc"].wait()
        MOTO["log"].close()
        shutil.rmtree(MOTO["work"])


def aws(*args):
    return subprocess.run(["aws", *args], env=MOTO["env"], check=True, capture_output=True, text=True).stdout


class PasswordFetch(unittest.TestCase):
    """fetch-password, run for real against SSM on moto."""

    def test_the_parameter_becomes_a_pgpass_line_only_the_owner_reads(self):
        key = json.loads(aws("kms", "create-key"))["KeyMetadata"]["Arn"]
        password = "pa:ss\\w0rd!"
        aws("ssm", "put-parameter", "--name", "/pglog/demo/monitor-password", "--type", "SecureString",
            "--key-id", key, "--value", password)
        script = heredoc(render({"c": tpl(COLLECTOR_TPL, collector_vars("demo-primary"))})["c"], "FETCH")
        with tempfile.TemporaryDirectory() as run:
            r = subprocess.run(["bash", "-c", script], env={**MOTO["env"], "RUNTIME_DIRECTORY": run},
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            pgpass = Path(run) / "pgpass"
            # libpq's escaping: backslash and colon get a backslash.
            self.assertEqual(pgpass.read_text(), "127.0.0.1:5432:*:pglog_monitor:pa\\:ss\\\\w0rd!\n")
            self.assertEqual(pgpass.stat().st_mode & 0o777, 0o600)
            self.assertEqual(pgpass.stat().st_uid, Path(run).stat().st_uid)
            self.assertNotIn("w0rd", r.stdout + r.stderr)

    def fetch(self, **over):
        """fetch-password rendered with these collector_vars; the pgpass it writes."""
        script = heredoc(render({"c": tpl(COLLECTOR_TPL, collector_vars("demo-primary", **over))})["c"], "FETCH")
        with tempfile.TemporaryDirectory() as run:
            r = subprocess.run(["bash", "-c", script], env={**MOTO["env"], "RUNTIME_DIRECTORY": run},
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("w0rd", r.stdout + r.stderr)
            pgpass = Path(run) / "pgpass"
            self.assertEqual(pgpass.stat().st_mode & 0o777, 0o600)
            self.assertEqual(list(Path(run).iterdir()), [pgpass])
            return pgpass.read_text()

    def test_pgbouncer_gets_the_monitoring_password_by_default(self):
        key = json.loads(aws("kms", "create-key"))["KeyMetadata"]["Arn"]
        aws("ssm", "put-parameter", "--name", "/pglog/shared/monitor-password", "--type", "SecureString",
            "--key-id", key, "--value", "sh:a\\red w0rd")
        got = self.fetch(password_parameter="/pglog/shared/monitor-password", **SCOPED)
        # libpq takes the first line that matches: PostgreSQL's port first,
        # then the console's database on pgbouncer's.
        self.assertEqual(got, "127.0.0.1:5432:*:pglog_monitor:sh\\:a\\\\red w0rd\n"
                              "127.0.0.1:6432:pgbouncer:pglog_stats:sh\\:a\\\\red w0rd\n")

    def test_pgbouncer_password_from_a_parameter_of_its_own(self):
        key = json.loads(aws("kms", "create-key"))["KeyMetadata"]["Arn"]
        aws("ssm", "put-parameter", "--name", "/pglog/own/monitor-password", "--type", "SecureString",
            "--key-id", key, "--value", "monitor-w0rd")
        aws("ssm", "put-parameter", "--name", "/pglog/own/pgbouncer-password", "--type", "SecureString",
            "--key-id", key, "--value", "bo:un\\cer-w0rd")
        got = self.fetch(password_parameter="/pglog/own/monitor-password",
                         **{**SCOPED, "pgbouncer_port": 6543,
                            "pgbouncer_password_parameter": "/pglog/own/pgbouncer-password"})
        self.assertEqual(got, "127.0.0.1:5432:*:pglog_monitor:monitor-w0rd\n"
                              "127.0.0.1:6543:pgbouncer:pglog_stats:bo\\:un\\\\cer-w0rd\n")

    def test_a_missing_pgbouncer_parameter_fails_the_start(self):
        # No pgpass at all rather than one without the console's line: the
        # unit fails (ExecStartPre) and says why.
        key = json.loads(aws("kms", "create-key"))["KeyMetadata"]["Arn"]
        aws("ssm", "put-parameter", "--name", "/pglog/missing/monitor-password", "--type", "SecureString",
            "--key-id", key, "--value", "monitor-w0rd")
        script = heredoc(render({"c": tpl(COLLECTOR_TPL, collector_vars(
            "demo-primary", password_parameter="/pglog/missing/monitor-password",
            **{**SCOPED, "pgbouncer_password_parameter": "/pglog/missing/pgbouncer-password"}))})["c"], "FETCH")
        with tempfile.TemporaryDirectory() as run:
            r = subprocess.run(["bash", "-c", script], env={**MOTO["env"], "RUNTIME_DIRECTORY": run},
                               capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("ParameterNotFound", r.stderr)
            self.assertFalse((Path(run) / "pgpass").exists())


class NightlyReport(unittest.TestCase):
    """The nightly report script, run for real: pglog on the sample logs,
    uploads through the AWS CLI to a moto server on loopback."""

    DAY = "2026-11-30"

    @classmethod
    def setUpClass(cls):
        cls.work = Path(tempfile.mkdtemp(prefix="pglog-nightly-"))
        cls.env = MOTO["env"]
        cls.key = json.loads(aws("kms", "create-key"))["KeyMetadata"]["Arn"]
        aws("s3api", "create-bucket", "--bucket", "demo-reports",
            "--create-bucket-configuration", "LocationConstraint=eu-west-1")
        # The day's csvlog files as the example's log_filename names them.
        cls.log_dir = cls.work / "log dir's"
        cls.log_dir.mkdir()
        for i, host in enumerate(["primary", "replica"]):
            shutil.copy(REPO / "sample-logs" / host / "postgresql.csv",
                        cls.log_dir / f"postgresql-{cls.DAY}_00000{i}.csv")
        (cls.log_dir / "postgresql-2026-11-29_000000.csv").write_text("")
        values = {
            "bucket": "demo-reports", "kms_key_arn": cls.key, "region": "eu-west-1", "instance": "demo-primary",
            "log_dir": str(cls.log_dir), "glob_format": "postgresql-%Y-%m-%d_*.csv", "schedule": "*-*-* 00:30:00 UTC",
        }
        rendered = render({"r": tpl(REPORT_TPL, {"q": {k: shell_quote(v) for k, v in values.items()},
                                                  "schedule": values["schedule"]})})["r"]
        cls.script = cls.work / "nightly-report"
        cls.script.write_text(heredoc(rendered, "PGLOG_NIGHTLY_REPORT"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work)

    def run_script(self, *args):
        return subprocess.run(["bash", str(self.script), *args], env=self.env, capture_output=True, text=True)

    def test_a_day_is_analyzed_and_uploaded_with_its_state(self):
        r = self.run_script(self.DAY)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        prefix = "s3://demo-reports/reports/demo-primary/2026/11/30/"
        listing = aws("s3", "ls", prefix)
        self.assertEqual(sorted(line.split()[-1] for line in listing.splitlines()),
                         ["report.html", "report.json", "state.pglog"])
        got = self.work / "got"
        aws("s3", "cp", "--recursive", prefix, str(got))
        head = json.loads(aws("s3api", "head-object", "--bucket", "demo-reports",
                              "--key", "reports/demo-primary/2026/11/30/state.pglog"))
        self.assertEqual((head["ServerSideEncryption"], head["SSEKMSKeyId"]), ("aws:kms", self.key))
        uploaded = json.loads((got / "report.json").read_text())
        files = sorted(str(p) for p in self.log_dir.glob(f"postgresql-{self.DAY}_*.csv"))
        direct = json.loads(subprocess.run([PGLOG, "analyze", "--quiet", "--format", "json", *files],
                                           check=True, capture_output=True, text=True).stdout)
        self.assertEqual(uploaded["summary"], direct["summary"])
        self.assertGreater(uploaded["summary"]["queries"], 1000)
        self.assertIn("<html", (got / "report.html").read_text()[:2000].lower())
        merged = subprocess.run([PGLOG, "merge", str(got / "state.pglog"), "--format", "json"],
                                check=True, capture_output=True, text=True).stdout
        self.assertEqual(json.loads(merged)["summary"]["queries"], direct["summary"]["queries"])

    def test_a_day_without_log_files_fails_the_unit(self):
        r = self.run_script("2026-11-28")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no log file matches", r.stderr)

    def test_a_day_of_empty_files_is_nothing_to_report(self):
        r = self.run_script("2026-11-29")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nothing to report", r.stdout)


if __name__ == "__main__":
    unittest.main()
