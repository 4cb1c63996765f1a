output "names" {
  description = "Resource names the deployment modules share: collector_role, log_group, password_parameter, dashboard."
  value       = local.names
}

output "dashboard_body" {
  description = "CloudWatch dashboard JSON, equal to `pglog dashboard --namespace NS --region R --instance NAME=ROLE ...` for the same inputs."
  value       = local.dashboard_body
}

output "alarms" {
  description = "Alarm definitions keyed by alarm name: metric (for a plain alarm with statistic) or expression (a Metrics Insights query), period, evaluation_periods, datapoints_to_alarm, comparison, threshold, treat_missing_data."
  value       = local.alarms
}
