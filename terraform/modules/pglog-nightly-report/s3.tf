resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18: access logging needs a separate log bucket that the account owner provides (logging into itself would loop); CloudTrail S3 data events cover this where the account enables them.
  # checkov:skip=CKV_AWS_144: cross-region replication is a per-organisation DR choice that needs a bucket and key in another region; these reports are derived data, not a system of record.
  # checkov:skip=CKV2_AWS_62: nothing consumes object events; reports are read on demand. Add a notification where a consumer exists.
  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? "${var.name}-reports-" : null
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    # One data key per bucket instead of one KMS call per object.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "reports"
    status = "Enabled"

    # prefix = "" is the whole bucket (an empty filter {} warns on some provider versions).
    filter {
      prefix = ""
    }

    expiration {
      days = var.report_retention_days
    }

    # STANDARD_IA bills at least 30 days and at least 128 KiB per object
    # (smaller ones are not moved): it only pays when reports stay a while.
    dynamic "transition" {
      for_each = var.report_retention_days > 60 ? [30] : []
      content {
        days          = transition.value
        storage_class = "STANDARD_IA"
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Expiring a current version leaves a delete marker; drop it once the
  # versions behind it are gone.
  rule {
    id     = "expired-delete-markers"
    status = "Enabled"

    filter {
      prefix = ""
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  # Lifecycle rules on noncurrent versions need versioning on first.
  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  # AWS Config rule s3-bucket-ssl-requests-only (Security Hub S3.5) only accepts "s3:*" here; being a Deny, the wildcard narrows.
  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # UploadPart is authorized as s3:PutObject but carries no encryption
  # headers, so the checks below apply when a header is present; a request
  # without them gets the bucket default, SSE-KMS with this key.
  statement {
    sid    = "DenyEncryptionOtherThanKms"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]
    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  statement {
    sid    = "DenyOtherKmsKey"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]
    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [local.kms_key_arn]
    }
  }

  # "aws:kms" without a key ID would use the AWS managed aws/s3 key.
  statement {
    sid    = "DenyKmsWithoutKeyId"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]
    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = ["true"]
    }
  }

  statement {
    sid    = "DenyCustomerProvidedKeys"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.this.arn}/*"]
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-customer-algorithm"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  # Writing both at once fails with OperationAborted (conflicting operation).
  depends_on = [aws_s3_bucket_public_access_block.this]
}
