data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  container_name = "pglog-collector"
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  dns_suffix     = data.aws_partition.current.dns_suffix
  # `name` works on AWS provider 5 and 6 (6 prefers `region` but 5 lacks it).
  region = data.aws_region.current.name

  log_group_name = "/ecs/${var.name}/${local.container_name}"
  # Known before the group exists, so the created key's policy can name it.
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  logs_kms_key  = var.kms_key_arn != null ? var.kms_key_arn : module.logs_key[0].arn

  # SSM decrypts through KMS in the parameter's own region, which ECS allows to
  # differ from the task's.
  password_region = split(":", var.password_ssm_parameter_arn)[3]

  # No password here: ECS injects PGPASSWORD from the parameter.
  dsn = join(" ", [
    "host=${var.db_host}",
    "port=${var.db_port}",
    "dbname=${var.db_name}",
    "user=${var.db_user}",
    "sslmode=${var.sslmode}",
    "sslrootcert=${var.sslrootcert}",
  ])

  # Sorted by name and without null values, as ECS returns them, so plans
  # show no spurious task definition changes.
  environment = concat(
    [
      { name = "PGLOG_DSN", value = local.dsn },
      { name = "PGLOG_INSTANCE", value = var.instance },
      { name = "PGLOG_INTERVAL", value = var.interval },
      { name = "PGLOG_NAMESPACE", value = var.namespace },
      { name = "PGLOG_REGION", value = local.region },
    ],
    var.xray_daemon == null ? [] : [{ name = "PGLOG_XRAY_DAEMON", value = var.xray_daemon }],
  )

  # No healthCheck: /healthz exists only with PGLOG_LISTEN set, and the
  # distroless image has no shell or curl to probe it. The container is not
  # essential, so a failing collector cannot stop the app either way; its
  # `Up` metric and the CloudWatch alarms are the health signal.
  container_definition = {
    name              = local.container_name
    image             = var.image
    essential         = false
    command           = ["collect"]
    cpu               = var.cpu
    memory            = var.memory
    memoryReservation = var.memory_reservation
    environment       = local.environment
    secrets = [
      { name = "PGPASSWORD", valueFrom = var.password_ssm_parameter_arn },
    ]
    readonlyRootFilesystem = true
    user                   = "65532"
    linuxParameters = {
      initProcessEnabled = true
      capabilities       = { drop = ["ALL"] }
    }
    # The collector flushes its buffers within 4.5 s of SIGTERM.
    stopTimeout  = 10
    portMappings = []
    mountPoints  = []
    volumesFrom  = []
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.this.name
        "awslogs-region"        = local.region
        "awslogs-stream-prefix" = "ecs"
        # A slow CloudWatch Logs must not block the collector's writes.
        "mode"            = "non-blocking"
        "max-buffer-size" = "4m"
      }
    }
  }
}

module "logs_key" {
  source = "../pglog-kms-key"
  count  = var.kms_key_arn == null ? 1 : 0

  description = "Encrypts the ${local.log_group_name} log group"
  alias       = "${var.name}-pglog-sidecar-logs"
  service_grants = [
    {
      sid     = "CloudWatchLogsUsesForThisGroup"
      service = "logs.${local.region}.${local.dns_suffix}"
      actions = [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ]
      conditions = [
        { test = "ArnEquals", variable = "kms:EncryptionContext:aws:logs:arn", values = [local.log_group_arn] },
      ]
    },
  ]
  tags = var.tags
}

# The collector's own stdout/stderr (start-up errors, delivery warnings).
resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338: diagnostic output of a metrics sidecar, not audit data; retention is the log_retention_days input (default 30)
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = local.logs_kms_key
  tags              = var.tags
}

# --- Task role: what the collector itself calls.

data "aws_iam_policy_document" "task" {
  # AWS rule: cloudwatch:PutMetricData supports no resource-level permissions, so Resource must be "*"; the namespace condition narrows it.
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

  # AWS rule: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so Resource must be "*".
  # Kept with xray_daemon set too: a daemon sidecar in the task sends with this role.
  statement {
    sid       = "PutTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "${var.name}-pglog-collector-task"
  role   = var.task_role_name
  policy = data.aws_iam_policy_document.task.json
}

# --- Execution role: what ECS does for the container (secret, log driver).

data "aws_iam_policy_document" "execution_kms" {
  count = var.password_kms_key_arn == null ? 0 : 1

  statement {
    sid       = "DecryptPasswordThroughSsm"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [var.password_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.password_region}.${local.dns_suffix}"]
    }
    # Parameter Store binds each ciphertext to its parameter's ARN.
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = [var.password_ssm_parameter_arn]
    }
  }
}

data "aws_iam_policy_document" "execution" {
  source_policy_documents = data.aws_iam_policy_document.execution_kms[*].json

  statement {
    sid       = "ReadPasswordParameter"
    effect    = "Allow"
    actions   = ["ssm:GetParameters"]
    resources = [var.password_ssm_parameter_arn]
  }

  statement {
    sid       = "WriteContainerLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "${var.name}-pglog-collector-execution"
  role   = var.execution_role_name
  policy = data.aws_iam_policy_document.execution.json
}
