# pglog on the database hosts: collector, dashboard, alarms, nightly report.

locals {
  primary_name  = "${var.name}-primary"
  standby_names = [for i in range(1, var.standby_count + 1) : "${var.name}-standby-${i}"]

  instances = concat(
    [{ name = local.primary_name, role = "primary" }],
    [for n in local.standby_names : { name = n, role = "standby" }],
  )

  monitor_user = "pglog_monitor"
  pg_log_dir   = "/var/lib/pgsql/data/log"
}

resource "random_password" "monitor" {
  length = 32
  # No quotes, spaces, ':' or '\': safe in .pgpass files and conninfo strings.
  override_special = "!#%*+,.=?@^_~-"
  min_lower        = 4
  min_upper        = 4
  min_numeric      = 4
}

module "collector" {
  source = "../../modules/pglog-collector"

  name               = var.name
  namespace          = var.namespace
  instances          = local.instances
  artifact_s3_uri    = var.pglog_artifact_s3_uri
  artifact_url       = var.pglog_artifact_url
  artifact_sha256    = var.pglog_artifact_sha256
  db_user            = local.monitor_user
  db_password        = coalesce(var.monitor_password, random_password.monitor.result)
  log_dir            = local.pg_log_dir
  log_retention_days = var.collector_log_retention_days

  databases                = var.collector_databases
  exclude_databases        = var.collector_exclude_databases
  max_database_connections = var.collector_max_database_connections
  pgbouncer                = var.collector_pgbouncer

  tags = var.tags
}

# Session Manager instead of SSH: the hosts have no key pair and no port 22.
resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = module.collector.role_name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

module "dashboard" {
  source = "../../modules/pglog-dashboard"

  name      = var.name
  namespace = var.namespace
  instances = local.instances
}

module "nightly_report" {
  source = "../../modules/pglog-nightly-report"

  name          = var.name
  role_name     = module.collector.role_name
  instance      = local.primary_name
  log_dir       = local.pg_log_dir
  force_destroy = var.report_bucket_force_destroy

  tags = var.tags
}

# --- Alarm notifications -------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  name              = local.alarm_topic_name
  display_name      = "pglog ${var.name}"
  kms_master_key_id = module.alarms_key.arn

  tags = var.tags
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid     = "CloudWatchAlarmsOfThisAccount"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    resources = [aws_sns_topic.alarms.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${var.region}:${local.account_id}:alarm:*"]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["sns:Publish"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [aws_sns_topic.alarms.arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

module "alarms" {
  source = "../../modules/pglog-alarms"

  name          = var.name
  namespace     = var.namespace
  instances     = local.instances
  sns_topic_arn = aws_sns_topic.alarms.arn

  tags = var.tags
}
