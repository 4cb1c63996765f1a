output "arn" {
  description = "ARN of the key (what log groups, SSM parameters, EBS volumes, S3 and SNS take, and what IAM policies name)."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "ID of the key."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Full name of the key's alias (alias/...)."
  value       = aws_kms_alias.this.name
}
