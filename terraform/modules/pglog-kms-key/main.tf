# A customer managed key with rotation on: the account administers it (so
# IAM policies can grant its use) and each service gets only its grant.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109: key policy; "*" is this key, and administration stays with the account root (IAM decides who).
  # checkov:skip=CKV_AWS_111: key policy; "*" is this key, and write access stays with the account root (IAM decides who).
  # checkov:skip=CKV_AWS_356: key policy; "*" is this key, the only resource a key policy can name.

  # The account administers the key and delegates its use to IAM policies
  # (e.g. a role's kms:Decrypt through SSM for one parameter).
  # Key policy: "*" means this key.
  statement {
    sid    = "AccountAdministers"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
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
    resources = ["*"]
  }

  # Actions checked by the service_grants validation (kms: only, no wildcards).
  # Key policy: "*" means this key.
  dynamic "statement" {
    for_each = var.service_grants
    content {
      sid    = statement.value.sid
      effect = "Allow"
      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }
      actions   = statement.value.actions
      resources = ["*"]
      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = var.alias_is_prefix ? null : "alias/${var.alias}"
  name_prefix   = var.alias_is_prefix ? "alias/${var.alias}" : null
  target_key_id = aws_kms_key.this.key_id
}
