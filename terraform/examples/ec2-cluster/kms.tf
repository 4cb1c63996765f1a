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

data "aws_iam_policy_document" "infra_key" {
  # checkov:skip=CKV_AWS_109: key policy; "*" is this key, and administration stays with the account root (IAM decides who).
  # checkov:skip=CKV_AWS_111: key policy; "*" is this key, and write access stays with the account root (IAM decides who).
  # checkov:skip=CKV_AWS_356: key policy; "*" is this key, the only resource a key policy can name.

  # Key policy: "*" means this key.
  statement {
    sid = "AccountAdministersThroughIam"
    # The account administers the key, and its IAM policies may grant its use.
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListKeyRotations",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    resources = ["*"]
  }

  # Key policy: "*" means this key.
  statement {
    sid = "FlowLogGroupEncryption"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.flow_log_group_arn]
    }
  }
}

resource "aws_kms_key" "infra" {
  description             = "${var.name}: EBS volumes, VPC flow logs and the replication password"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.infra_key.json

  tags = var.tags
}

resource "aws_kms_alias" "infra" {
  name          = "alias/${var.name}-infra"
  target_key_id = aws_kms_key.infra.key_id
}

# --- Alarm topic key: a key of its own, since CloudWatch alarms must use it ---

data "aws_iam_policy_document" "alarms_key" {
  # checkov:skip=CKV_AWS_109: key policy; "*" is this key, and administration stays with the account root (IAM decides who).
  # checkov:skip=CKV_AWS_111: key policy; "*" is this key, and write access stays with the account root (IAM decides who).
  # checkov:skip=CKV_AWS_356: key policy; "*" is this key, the only resource a key policy can name.

  # Key policy: "*" means this key.
  statement {
    sid = "AccountAdministersThroughIam"
    # The account administers the key, and its IAM policies may grant its use.
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListKeyRotations",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    resources = ["*"]
  }

  # CloudWatch alarms publish to the encrypted topic: SNS asks for a data key
  # on their behalf, for this topic only.
  # Key policy: "*" means this key.
  statement {
    sid = "CloudWatchAlarmsPublish"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:sns:topicArn"
      values   = [local.alarm_topic_arn]
    }
  }
}

resource "aws_kms_key" "alarms" {
  description             = "${var.name}: alarm notifications topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.alarms_key.json

  tags = var.tags
}

resource "aws_kms_alias" "alarms" {
  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.alarms.key_id
}
