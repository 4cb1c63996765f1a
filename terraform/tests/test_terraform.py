"""Offline checks of terraform/ that need no AWS provider.

Run by terraform/check.sh (from .ci/test.sh) with python-hcl2 installed and
PGLOG_BIN pointing at a built pglog binary:

    PGLOG_BIN=target/debug/pglog python -m unittest discover -s terraform/tests
"""

import json
import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

import hcl2

import offline_root

TERRAFORM = Path(__file__).resolve().parent.parent
DEFINITIONS = TERRAFORM / "modules" / "pglog-definitions"
KMS_KEY = TERRAFORM / "modules" / "pglog-kms-key"
COLLECTOR = TERRAFORM / "modules" / "pglog-collector"
PGLOG = os.environ.get("PGLOG_BIN", str(TERRAFORM.parent / "target" / "debug" / "pglog"))

# Actions AWS only grants on Resource "*" (no resource-level permissions).
STAR_RESOURCE_ACTIONS = {
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
# AWS managed policies a module may attach, and why.
MANAGED_POLICIES = {
    # Session Manager instead of SSH (the choice for the example).
    "AmazonSSMManagedInstanceCore",
}


def tf_files():
    return sorted(p for p in TERRAFORM.rglob("*.tf") if ".terraform" not in p.parts)


def one(v):
    """python-hcl2 wraps attribute values in a list; unwrap one level."""
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def as_list(v):
    v = one(v)
    return v if isinstance(v, list) else [v]


def policy_documents():
    """(file, name, [(statement dict, its dynamic "statement" block or None)])
    for every aws_iam_policy_document."""
    for path in tf_files():
        with path.open() as f:
            doc = hcl2.load(f)
        for block in doc.get("data", []):
            for name, body in block.get("aws_iam_policy_document", {}).items():
                statements = [(st, None) for st in body.get("statement", [])]
                for dyn in body.get("dynamic", []):
                    if "statement" in dyn:
                        statements.extend((st, dyn["statement"]) for st in dyn["statement"].get("content", []))
                yield path, name, statements


def pglog(*args):
    return subprocess.run([PGLOG, *args], check=True, capture_output=True, text=True).stdout


def catalogue():
    return {m["name"]: m for m in json.loads(pglog("metrics", "list", "--format", "json"))}


def catalogue_names():
    return set(catalogue())


def apply_definitions(variables):
    """Applies pglog-definitions (no provider, so offline) and returns its outputs."""
    args = "\n".join(f"  {k} = {json.dumps(v)}" for k, v in variables.items())
    return offline_root.apply(
        f'module "d" {{\n  source = "{DEFINITIONS}"\n{args}\n}}\n'
        'output "body" { value = module.d.dashboard_body }\n'
        'output "alarms" { value = module.d.alarms }\n'
    )


class Parse(unittest.TestCase):
    def test_every_tf_file_parses(self):
        files = tf_files()
        self.assertGreater(len(files), 20)
        for path in files:
            with self.subTest(file=str(path.relative_to(TERRAFORM))), path.open() as f:
                hcl2.load(f)

    def test_policies_are_policy_documents_only(self):
        # Hand-written JSON policies would escape the IAM checks below.
        for path in tf_files():
            text = path.read_text()
            with self.subTest(file=str(path.relative_to(TERRAFORM))):
                self.assertNotRegex(text, r'"?Action"?\s*[=:]', "write IAM policies as aws_iam_policy_document")


class Iam(unittest.TestCase):
    def test_allow_statements_name_actions_and_resources(self):
        seen = 0
        for path, name, statements in policy_documents():
            for st, dynamic in statements:
                seen += 1
                where = f"{path.relative_to(TERRAFORM)}: {name} {one(st.get('sid', ''))}"
                if one(st.get("effect", "Allow")) == "Deny":
                    continue  # a Deny narrows; wildcards there only forbid more
                actions = as_list(st.get("actions", []))
                # The one exception to literal actions: the service grants of
                # the shared KMS key module (modules/pglog-kms-key), a dynamic
                # "statement" over var.service_grants taking its actions from
                # that variable, whose validation admits only kms: actions
                # without "*" (checked here too).
                service_grants = (
                    dynamic is not None
                    and path.parent == KMS_KEY
                    and one(dynamic.get("for_each")) == "${var.service_grants}"
                    and actions == ["${statement.value.actions}"]
                )
                with self.subTest(statement=where):
                    self.assertTrue(actions, "an Allow statement lists its actions")
                    if service_grants:
                        validation = (KMS_KEY / "variables.tf").read_text().split('variable "service_grants"', 1)[1]
                        self.assertRegex(validation, r'startswith\(a, "kms:"\) && !strcontains\(a, "\*"\)',
                                         "service_grants admits only kms: actions without wildcards")
                    else:
                        # Literal lists only, so this test sees what is granted.
                        for a in actions:
                            self.assertNotIn("${", a, "list the actions literally")
                    for a in actions:
                        self.assertNotIn("*", a, f"wildcard action {a}")
                    self.assertNotIn("not_actions", st)
                    self.assertNotIn("not_resources", st)
                    resources = as_list(st.get("resources", []))
                    if "*" not in resources:
                        continue
                    key_policy = "principals" in st and (service_grants or all(a.startswith("kms:") for a in actions))
                    if key_policy:
                        continue  # in a key policy "*" means the key itself
                    self.assertLessEqual(
                        set(actions), STAR_RESOURCE_ACTIONS,
                        'Resource "*" only for actions AWS grants on no narrower resource',
                    )
                    if "cloudwatch:PutMetricData" in actions:
                        variables = [one(c.get("variable")) for c in st.get("condition", [])]
                        self.assertIn("cloudwatch:namespace", variables, "PutMetricData is conditioned on the namespace")
        self.assertGreater(seen, 15)

    def test_every_star_resource_is_documented(self):
        # The comment right above the statement says which AWS rule needs it.
        for path in tf_files():
            lines = path.read_text().splitlines()
            for i, line in enumerate(lines):
                if not re.search(r'resources\s*=\s*\["\*"\]', line):
                    continue
                start = i
                while start > 0 and not re.match(r'\s*(statement\s*\{|dynamic\s+"statement")', lines[start]):
                    start -= 1
                above = []
                j = start - 1
                while j >= 0 and lines[j].strip().startswith("#"):
                    above.append(lines[j])
                    j -= 1
                with self.subTest(file=str(path.relative_to(TERRAFORM)), line=i + 1):
                    text = " ".join(above)
                    self.assertTrue(
                        "AWS rule" in text or 'Key policy: "*" means this key' in text,
                        f'no comment documents Resource "*" above line {start + 1}',
                    )

    def test_only_documented_managed_policies_are_attached(self):
        for path in tf_files():
            for arn in re.findall(r'arn:aws:iam::aws:policy/([A-Za-z0-9/_-]+)', path.read_text()):
                with self.subTest(file=str(path.relative_to(TERRAFORM)), policy=arn):
                    self.assertIn(arn.split("/")[-1], MANAGED_POLICIES)


class Catalogue(unittest.TestCase):
    def test_metrics_named_in_terraform_are_in_the_catalogue(self):
        names = catalogue_names()
        found = set()
        for path in tf_files():
            text = path.read_text()
            found.update(re.findall(r'\bmetric(?:_name)?\s*=\s*"([A-Za-z0-9]+)"', text))
            found.update(re.findall(r'MetricName=\\+"([A-Za-z0-9]+)', text))
            found.update(re.findall(r'SELECT\s+[A-Z]+\(([A-Za-z0-9]+)\)', text))
        layout = json.loads((DEFINITIONS / "dashboard-layout.json").read_text())
        found.update(s["metric"] for p in layout["panels"] for s in p["series"])
        self.assertGreater(len(found), 15)
        self.assertEqual(found - names, set(), "metrics not in `pglog metrics list`")

    def test_applied_alarms_and_dashboard_name_catalogue_metrics(self):
        names = catalogue_names()
        out = apply_definitions({
            "name": "check", "region": "us-east-1",
            "instances": [{"name": "p", "role": "primary"}, {"name": "s", "role": "standby"}],
        })
        for alarm in out["alarms"].values():
            with self.subTest(alarm=alarm["name"]):
                self.assertIn(alarm["metric"], names)
                if alarm["expression"]:
                    self.assertRegex(alarm["expression"], rf'^SELECT [A-Z]+\({alarm["metric"]}\) FROM ')
        body = json.loads(out["body"])
        searched = {
            re.search(r'MetricName="([^"]+)"', m[0]["expression"]).group(1)
            for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]
        }
        self.assertLessEqual(searched, names)
        for wanted in ["TransactionsLast10Minutes", "ReplicationLagBytes", "ReplicationLagSeconds", "Connections",
                       "LocksWaiting", "LongestTransactionSeconds", "LogErrors", "Checkpoints", "XidWraparoundAge"]:
            self.assertIn(wanted, searched, f"the dashboard shows {wanted}")


class Dashboard(unittest.TestCase):
    def test_every_series_searches_a_dimension_set_the_collector_sends(self):
        # A SEARCH schema matches one exact dimension set; a set the
        # collector never sends would draw an empty graph.
        metrics = catalogue()
        layout = json.loads((DEFINITIONS / "dashboard-layout.json").read_text())
        for p in layout["panels"]:
            for s in p["series"]:
                with self.subTest(panel=p["title"], metric=s["metric"]):
                    self.assertIn(s["dimensions"], metrics[s["metric"]]["dimension_sets"])
            covered = {(s["metric"], tuple(s["dimensions"])) for s in p["series"]}
            for name in {s["metric"] for s in p["series"]}:
                with self.subTest(panel=p["title"], metric=name):
                    self.assertEqual(
                        {d for m, d in covered if m == name},
                        {tuple(d) for d in metrics[name]["dimension_sets"]},
                        "every dimension set of a panel's metric is drawn",
                    )

    def test_region_defaults_to_the_aws_profile(self):
        with tempfile.TemporaryDirectory() as home:
            config = Path(home) / "config"
            config.write_text("[default]\nregion = sa-east-1\n")
            env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE")}
            env.update(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(Path(home) / "none"),
                       AWS_EC2_METADATA_DISABLED="true")
            out = subprocess.run([PGLOG, "dashboard", "--instance", "db=primary"], env=env,
                                 check=True, capture_output=True, text=True).stdout
            regions = {w["properties"]["region"] for w in json.loads(out)["widgets"] if w["type"] == "metric"}
            self.assertEqual(regions, {"sa-east-1"})
            config.write_text("")
            r = subprocess.run([PGLOG, "dashboard", "--instance", "db=primary"], env=env, capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("--region", r.stderr)

    def test_committed_layout_is_current(self):
        committed = json.loads((DEFINITIONS / "dashboard-layout.json").read_text())
        self.assertEqual(
            committed, json.loads(pglog("dashboard", "--layout")),
            "regenerate: pglog dashboard --layout > terraform/modules/pglog-definitions/dashboard-layout.json",
        )

    def test_terraform_body_equals_pglog_dashboard(self):
        instances = [
            {"name": "orders-db-primary", "role": "primary"},
            {"name": "orders-db-standby-1", "role": "standby"},
            {"name": "orders-db-standby-2", "role": "standby"},
        ]
        out = apply_definitions({
            "name": "orders-db", "namespace": "Prod/Postgres", "region": "ap-southeast-2", "instances": instances,
        })
        args = ["dashboard", "--namespace", "Prod/Postgres", "--region", "ap-southeast-2"]
        for i in instances:
            args += ["--instance", f'{i["name"]}={i["role"]}']
        self.assertEqual(json.loads(out["body"]), json.loads(pglog(*args)))


def variable_blocks(path, names):
    """The text of these variable blocks of a .tf file, as written."""
    text = path.read_text()
    blocks = []
    for name in names:
        m = re.search(rf'(?ms)^variable "{name}" \{{\n.*?^\}}\n', text)
        assert m, f"no variable {name} in {path}"
        blocks.append(m.group(0))
    return "\n".join(blocks)


class CollectorInputs(unittest.TestCase):
    """The validations of pglog-collector's database scope and pgbouncer
    inputs, run offline: the module needs the AWS provider, so its variable
    blocks are copied as they are into a provider-free module."""

    NAMES = ("databases", "exclude_databases", "max_database_connections", "pgbouncer")

    @classmethod
    def setUpClass(cls):
        cls.module = tempfile.TemporaryDirectory(prefix="pglog-collector-inputs-")
        (Path(cls.module.name) / "variables.tf").write_text(
            variable_blocks(COLLECTOR / "variables.tf", cls.NAMES)
            + "".join(f'output "{n}" {{\n  value = var.{n}\n}}\n' for n in cls.NAMES))

    @classmethod
    def tearDownClass(cls):
        cls.module.cleanup()

    def apply(self, cases):
        """cases: module name -> HCL arguments; the outputs, or AssertionError with terraform's errors."""
        root = "".join(f'module "{k}" {{\n  source = "{self.module.name}"\n{v}\n}}\n' for k, v in cases.items())
        root += "".join(f'output "{k}" {{\n  value = module.{k}\n}}\n' for k in cases)
        return offline_root.apply(root)

    def test_unset_inputs_change_nothing(self):
        out = self.apply({"unset": ""})["unset"]
        self.assertEqual(out, {"databases": [], "exclude_databases": [], "max_database_connections": None,
                               "pgbouncer": None})

    def test_valid_values(self):
        out = self.apply({
            "patterns": 'databases = ["app_*", "shop", "db?.v$2-x"]\n  exclude_databases = ["scratch_*"]\n'
                        '  max_database_connections = 1',
            "pgbouncer_defaults": "pgbouncer = {}",
            "pgbouncer_own": 'pgbouncer = { port = 6543, user = "pglog_stats", password_parameter = '
                             '"/pgbouncer/stats-password", password_kms_key_arn = '
                             '"arn:aws:kms:eu-west-1:123456789012:key/abcd" }',
        })
        self.assertEqual(out["patterns"]["databases"], ["app_*", "shop", "db?.v$2-x"])
        self.assertEqual(out["patterns"]["max_database_connections"], 1)
        self.assertEqual(out["pgbouncer_defaults"]["pgbouncer"], {
            "port": 6432, "user": None, "password_parameter": None, "password_kms_key_arn": None})
        self.assertEqual(out["pgbouncer_own"]["pgbouncer"]["password_parameter"], "/pgbouncer/stats-password")

    def test_invalid_values_are_refused_with_their_input_named(self):
        cases = {
            "quote": ('databases = ["app\\"x"]', "databases: each entry"),
            "space": ('databases = ["my db"]', "databases: each entry"),
            "empty": ('exclude_databases = [""]', "exclude_databases: each entry"),
            "zero": ("max_database_connections = 0", "max_database_connections: a whole number"),
            "fraction": ("max_database_connections = 1.5", "max_database_connections: a whole number"),
            "port": ("pgbouncer = { port = 70000 }", "pgbouncer.port: a TCP port"),
            "user": ('pgbouncer = { user = "Stats-User" }', "pgbouncer.user: a plain lowercase role name"),
            "parameter_arn": ('pgbouncer = { password_parameter = "arn:aws:ssm:eu-west-1:1:parameter/x" }',
                              "pgbouncer.password_parameter: the name (not the ARN)"),
            "key": ('pgbouncer = { password_parameter = "/x", password_kms_key_arn = "alias/aws/ssm" }',
                    "pgbouncer.password_kms_key_arn: a KMS key ARN"),
        }
        for name, (args, message) in cases.items():
            with self.subTest(case=name):
                with self.assertRaises(AssertionError) as e:
                    self.apply({name: args})
                errors = " ".join(str(e.exception).replace("│", " ").split())
                self.assertIn(message, errors)


class Docs(unittest.TestCase):
    def test_every_variable_and_output_is_documented(self):
        readme = (TERRAFORM / "README.md").read_text()
        roots = sorted(TERRAFORM.glob("modules/*")) + sorted(TERRAFORM.glob("examples/*"))
        self.assertGreater(len(roots), 6)
        for root in roots:
            rel = str(root.relative_to(TERRAFORM))
            heading = f"### `{rel}`"
            self.assertTrue(heading in readme, f"terraform/README.md has no section {heading}")
            section = readme.split(heading, 1)[1].split("\n### ", 1)[0]
            for path in sorted(root.glob("*.tf")):
                with path.open() as f:
                    doc = hcl2.load(f)
                for kind in ("variable", "output"):
                    for block in doc.get(kind, []):
                        for name in block:
                            with self.subTest(module=rel, **{kind: name}):
                                self.assertTrue(f"| `{name}` |" in section, f"document {kind} {name} in {heading}")


if __name__ == "__main__":
    unittest.main()
