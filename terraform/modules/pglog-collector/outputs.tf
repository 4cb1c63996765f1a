output "role_name" {
  description = "IAM role of the database hosts (attach AmazonSSMManagedInstanceCore or more to it as needed)."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the hosts' IAM role."
  value       = aws_iam_role.this.arn
}

output "instance_profile_name" {
  description = "Instance profile to give the database hosts."
  value       = aws_iam_instance_profile.this.name
}

output "log_group_name" {
  description = "CloudWatch Logs group the PostgreSQL log is shipped to (pglog analyze --cloudwatch-log-group reads it back)."
  value       = aws_cloudwatch_log_group.this.name
}

output "password_parameter_name" {
  description = "SSM SecureString holding the monitoring role's password."
  value       = aws_ssm_parameter.password.name
}

output "password_parameter_arn" {
  description = "ARN of the password parameter."
  value       = aws_ssm_parameter.password.arn
}

output "kms_key_arn" {
  description = "KMS key of the log group and the password parameter."
  value       = local.kms_key
}

output "user_data" {
  description = "Per instance name, a bash script to run as root at boot once PostgreSQL is installed: installs pglog (checksum verified), writes /etc/pglog/collector.toml and enables pglog-collector.service."
  value       = local.user_data
}
