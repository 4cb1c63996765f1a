data "aws_partition" "current" {}

locals {
  kms_key_arn = var.kms_key_arn != null ? var.kms_key_arn : module.key[0].arn

  # The bucket's own region: the S3 endpoint that calls KMS for it, and the
  # region the host's AWS CLI must use.
  region = aws_s3_bucket.this.region

  # Where this host may write: one prefix per instance.
  report_prefix = "reports/${var.instance}"

  # Values baked into the host's scripts, single-quoted for bash.
  shell_values = {
    bucket      = aws_s3_bucket.this.id
    kms_key_arn = local.kms_key_arn
    region      = local.region
    instance    = var.instance
    log_dir     = var.log_dir
    glob_format = var.log_file_glob_format
    schedule    = var.schedule
  }
  shell_quoted = { for k, v in local.shell_values : k => "'${replace(v, "'", "'\\''")}'" }

  user_data = templatefile("${path.module}/user-data.sh.tftpl", {
    q        = local.shell_quoted
    schedule = var.schedule
  })
}
