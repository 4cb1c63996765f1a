data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# Names and input validation are shared with the dashboard and alarms and
# tested offline.
module "definitions" {
  source = "../pglog-definitions"

  name      = var.name
  namespace = var.namespace
  region    = data.aws_region.current.name
  instances = var.instances
}

locals {
  names      = module.definitions.names
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  kms_key    = var.kms_key_arn != null ? var.kms_key_arn : module.key[0].arn

  # Known before the group exists, so the key policy can name it.
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.names.log_group}"

  artifact_object_arn = var.artifact_s3_uri == null ? null : "arn:${local.partition}:s3:::${trimprefix(var.artifact_s3_uri, "s3://")}"

  # pgbouncer's console user and the parameter with its password: by default
  # the monitoring role and its parameter.
  pgbouncer = var.pgbouncer == null ? null : {
    port = var.pgbouncer.port
    user = coalesce(var.pgbouncer.user, var.db_user)
    # null when it is the monitoring password's parameter
    password_parameter = var.pgbouncer.password_parameter == null ? null : (
      var.pgbouncer.password_parameter == local.names.password_parameter ? null : var.pgbouncer.password_parameter
    )
  }
  pgbouncer_parameter = local.pgbouncer == null ? null : local.pgbouncer.password_parameter
  # A parameter's ARN is parameter/NAME, without NAME's leading slash.
  pgbouncer_parameter_arn = local.pgbouncer_parameter == null ? null : "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/${trimprefix(local.pgbouncer_parameter, "/")}"
}

module "key" {
  source = "../pglog-kms-key"
  count  = var.kms_key_arn == null ? 1 : 0

  description = "pglog ${var.name}: the shipped PostgreSQL log and the monitoring password"
  alias       = "${var.name}-pglog"
  service_grants = [
    {
      # CloudWatch Logs may use it for this one group only. IAM policies (the
      # collector role's kms:Decrypt) grant the rest.
      sid     = "LogsEncryptsTheGroup"
      service = "logs.${local.region}.amazonaws.com"
      actions = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
      conditions = [
        { test = "ArnEquals", variable = "kms:EncryptionContext:aws:logs:arn", values = [local.log_group_arn] },
      ]
    },
  ]
  tags = var.tags
}

# The collector ships here; it is not allowed to create groups, so the
# retention and key set here stay.
resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338: retention is the log_retention_days input (default 30 days); the nightly report keeps the day's analysis in S3 for longer
  name              = local.names.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key
  tags              = var.tags
}

resource "aws_ssm_parameter" "password" {
  name        = local.names.password_parameter
  description = "Password of the ${var.db_user} role pglog collect logs in as"
  type        = "SecureString"
  key_id      = local.kms_key
  value       = var.db_password
  tags        = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.names.collector_role
  description        = "pglog collector on the ${var.name} database hosts"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags

  lifecycle {
    precondition {
      condition     = (var.artifact_s3_uri == null) != (var.artifact_url == null)
      error_message = "Give exactly one of artifact_s3_uri (s3://BUCKET/KEY) or artifact_url (https://...) for the pglog binary."
    }
    precondition {
      condition     = var.pgbouncer == null ? true : var.pgbouncer.port != var.db_port
      error_message = "pgbouncer.port: pgbouncer and PostgreSQL cannot listen on the same port of the host; pgbouncer's default is 6432."
    }
  }
}

resource "aws_iam_instance_profile" "this" {
  name = local.names.collector_role
  role = aws_iam_role.this.name
  tags = var.tags
}

data "aws_iam_policy_document" "collector" {
  # AWS rule: cloudwatch:PutMetricData has no resource-level permissions, so
  # Resource must be "*"; the namespace condition is what narrows it.
  statement {
    sid       = "PutMetricsInNamespace"
    effect    = "Allow"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.namespace]
    }
  }

  # AWS rule: xray:PutTraceSegments and xray:PutTelemetryRecords have no
  # resource-level permissions, so Resource must be "*".
  statement {
    sid       = "PutTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "ManageTheLogGroup"
    effect    = "Allow"
    actions   = ["logs:PutRetentionPolicy"]
    resources = [local.log_group_arn]
  }

  # One stream per host and file. GetLogEvents reads a stream back after a
  # crash between a send and its checkpoint, so nothing is sent twice.
  statement {
    sid       = "ShipToTheLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:GetLogEvents"]
    resources = ["${local.log_group_arn}:log-stream:*"]
  }

  statement {
    sid       = "ReadTheMonitoringPassword"
    effect    = "Allow"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.password.arn]
  }

  # pgbouncer's password, when it is a parameter of its own.
  dynamic "statement" {
    for_each = local.pgbouncer_parameter_arn == null ? [] : [local.pgbouncer_parameter_arn]
    content {
      sid       = "ReadThePgbouncerPassword"
      effect    = "Allow"
      actions   = ["ssm:GetParameter"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "DecryptThePasswordThroughSsm"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_key]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = [aws_ssm_parameter.password.arn]
    }
  }

  # Its key: the module's unless pgbouncer.password_kms_key_arn names
  # another (a parameter under the AWS managed aws/ssm key needs no grant).
  dynamic "statement" {
    for_each = local.pgbouncer_parameter_arn == null ? [] : [local.pgbouncer_parameter_arn]
    content {
      sid       = "DecryptThePgbouncerPasswordThroughSsm"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [coalesce(var.pgbouncer.password_kms_key_arn, local.kms_key)]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:PARAMETER_ARN"
        values   = [statement.value]
      }
    }
  }

  dynamic "statement" {
    for_each = local.artifact_object_arn == null ? [] : [local.artifact_object_arn]
    content {
      sid       = "DownloadTheBinary"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "collector" {
  name   = "pglog-collector"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.collector.json
}

locals {
  user_data = {
    for i in var.instances : i.name => templatefile("${path.module}/collector.sh.tftpl", {
      instance           = i.name
      namespace          = var.namespace
      region             = local.region
      interval           = var.interval
      db_user            = var.db_user
      db_name            = var.db_name
      db_port            = var.db_port
      log_dir            = var.log_dir == null ? "" : var.log_dir
      log_group          = local.names.log_group
      log_retention_days = var.log_retention_days
      slow_query_ms      = var.slow_query_ms
      password_parameter = aws_ssm_parameter.password.name
      # Database scope and pgbouncer: written only when set, so the
      # collector's defaults apply otherwise.
      databases                    = var.databases
      exclude_databases            = var.exclude_databases
      max_database_connections     = var.max_database_connections == null ? "" : var.max_database_connections
      pgbouncer                    = local.pgbouncer != null
      pgbouncer_port               = local.pgbouncer == null ? "" : local.pgbouncer.port
      pgbouncer_user               = local.pgbouncer == null ? "" : local.pgbouncer.user
      pgbouncer_password_parameter = local.pgbouncer_parameter == null ? "" : local.pgbouncer_parameter
      artifact_s3_uri              = var.artifact_s3_uri == null ? "" : var.artifact_s3_uri
      artifact_url                 = var.artifact_url == null ? "" : var.artifact_url
      artifact_sha256              = var.artifact_sha256
      # The unit the repository ships, unchanged; the host-specific part is
      # a drop-in next to it.
      service_unit = file("${path.module}/../../../collector/deploy/pglog-collector.service")
    })
  }
}
