# The account administers the key and delegates its use to IAM policies,
# which grant the report role GenerateDataKey/Decrypt through S3 only. No
# service principal needs the key: S3 calls KMS as the uploading role.
module "key" {
  source = "../pglog-kms-key"
  count  = var.kms_key_arn == null ? 1 : 0

  description = "pglog nightly reports (${var.name}): S3 bucket encryption"
  # A prefix: several hosts may each deploy this module under the same name.
  alias           = "${var.name}-reports-"
  alias_is_prefix = true
  tags            = var.tags
}

