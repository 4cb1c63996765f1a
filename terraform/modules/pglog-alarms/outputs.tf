output "alarm_names" {
  description = "Names of the alarms created."
  value       = [for a in aws_cloudwatch_metric_alarm.this : a.alarm_name]
}

output "alarm_arns" {
  description = "Alarm ARNs keyed by alarm name (e.g. for a composite alarm or an alarm widget)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn }
}
