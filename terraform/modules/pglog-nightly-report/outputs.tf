output "bucket_name" {
  description = "Name of the reports bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the reports bucket."
  value       = aws_s3_bucket.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the reports (the one passed in, or the one created). Readers need kms:Decrypt on it."
  value       = local.kms_key_arn
}

output "user_data" {
  description = "Bash script to run as root at boot on the host (after the collector's user-data, which installs /usr/local/bin/pglog): installs the pglog-nightly-report service and timer that upload the previous UTC day's report.html, report.json and state.pglog to s3://BUCKET/reports/INSTANCE/YYYY/MM/DD/."
  value       = local.user_data
}
