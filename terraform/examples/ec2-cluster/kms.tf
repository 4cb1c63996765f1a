data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  flow_log_group_name = "/pglog/${var.name}/vpc-flow-logs"
  flow_log_group_arn  = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:${local.flow_log_group_name}"
  alarm_topic_name    = "${var.name}-alarms"
  alarm_topic_arn     = "arn:${local.partition}:sns:${var.region}:${local.account_id}:${local.alarm_topic_name}"
}

# --- Infrastructure key: EBS volumes, flow logs, the replication password ---

module "infra_key" {
  source = "../../modules/pglog-kms-key"

  description = "${var.name}: EBS volumes, VPC flow logs and the replication password"
  alias       = "${var.name}-infra"
  service_grants = [
    {
      sid     = "FlowLogGroupEncryption"
      service = "logs.${var.region}.amazonaws.com"
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
        { test = "ArnEquals", variable = "kms:EncryptionContext:aws:logs:arn", values = [local.flow_log_group_arn] },
      ]
    },
  ]
  tags = var.tags
}

# --- Alarm topic key: a key of its own, since CloudWatch alarms must use it ---

module "alarms_key" {
  source = "../../modules/pglog-kms-key"

  description = "${var.name}: alarm notifications topic"
  alias       = "${var.name}-alarms"
  service_grants = [
    {
      # CloudWatch alarms publish to the encrypted topic: SNS asks for a data
      # key on their behalf, for this topic only.
      sid     = "CloudWatchAlarmsPublish"
      service = "cloudwatch.amazonaws.com"
      actions = [
        "kms:Decrypt",
        "kms:GenerateDataKey",
      ]
      conditions = [
        { test = "StringEquals", variable = "kms:EncryptionContext:aws:sns:topicArn", values = [local.alarm_topic_arn] },
      ]
    },
  ]
  tags = var.tags
}

