data "aws_iam_policy_document" "writer" {
  # Upload (single or multipart) under this instance's prefix only; no read,
  # list or delete: the host only adds reports.
  statement {
    sid    = "PutReports"
    effect = "Allow"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:PutObject",
    ]
    resources = ["${aws_s3_bucket.this.arn}/${local.report_prefix}/*"]
  }

  # SSE-KMS uploads need GenerateDataKey, and multipart ones Decrypt too;
  # only when S3 asks on the role's behalf, for this bucket.
  statement {
    sid    = "UseReportKeyThroughS3"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.${data.aws_partition.current.dns_suffix}"]
    }
    # With a bucket key the context is the bucket ARN, else the object ARN.
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/${local.report_prefix}/*"]
    }
  }
}

resource "aws_iam_policy" "writer" {
  # A prefix: one policy per host, several hosts may share var.name.
  name_prefix = "${var.name}-nightly-report-"
  description = "pglog nightly report: upload reports for ${var.instance} to s3://${aws_s3_bucket.this.id}/${local.report_prefix}/"
  policy      = data.aws_iam_policy_document.writer.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "writer" {
  role       = var.role_name
  policy_arn = aws_iam_policy.writer.arn
}
