output "container_definition" {
  description = "The collector's container definition (an object): put it in the task's container list, e.g. container_definitions = jsonencode([local.app, module.pglog.container_definition])."
  value       = local.container_definition

  precondition {
    condition     = var.memory_reservation <= var.memory
    error_message = "memory_reservation (${var.memory_reservation}) must not exceed memory (${var.memory}); raise memory or lower memory_reservation."
  }
}

output "log_group_name" {
  description = "Name of the CloudWatch Logs group that receives the collector container's output."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the container log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the container log group (the given kms_key_arn or the created key)."
  value       = local.logs_kms_key
}

output "task_policy_json" {
  description = "The policy attached to the task role (CloudWatch PutMetricData in the namespace, X-Ray writes), for review or reuse."
  value       = data.aws_iam_policy_document.task.json
}

output "execution_policy_json" {
  description = "The policy attached to the task execution role (the password parameter, its KMS key, the container log group)."
  value       = data.aws_iam_policy_document.execution.json
}
