output "vpc_id" {
  description = "ID of the VPC (private subnets only, no internet gateway)."
  value       = aws_vpc.this.id
}

output "availability_zones" {
  description = "Availability zones of the private subnets, primary's first. Copy into the availability_zones variable to pin them."
  value       = local.azs
}

output "primary_instance_id" {
  description = "EC2 instance ID of the PostgreSQL primary."
  value       = aws_instance.db[local.primary_name].id
}

output "primary_private_ip" {
  description = "Private IP of the PostgreSQL primary (fixed: a replaced primary keeps it)."
  value       = aws_instance.db[local.primary_name].private_ip
}

output "standby_instance_ids" {
  description = "EC2 instance IDs of the streaming standbys, by DBInstance name."
  value       = { for n, i in aws_instance.db : n => i.id if local.hosts[n].role == "standby" }
}

output "standby_private_ips" {
  description = "Private IPs of the streaming standbys, by DBInstance name."
  value       = { for n, i in aws_instance.db : n => i.private_ip if local.hosts[n].role == "standby" }
}

output "ssm_session_commands" {
  description = "Session Manager commands that open a shell on each host (no SSH: the hosts have no key pair and no port 22)."
  value       = { for n, i in aws_instance.db : n => "aws ssm start-session --region ${var.region} --target ${i.id}" }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = module.dashboard.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the CloudWatch dashboard."
  value       = "https://${var.region}.console.aws.amazon.com/cloudwatch/home?region=${var.region}#dashboards/dashboard/${module.dashboard.dashboard_name}"
}

output "report_bucket" {
  description = "S3 bucket of the nightly reports (reports/<DBInstance>/YYYY/MM/DD/report.html, report.json, state.pglog)."
  value       = module.nightly_report.bucket_name
}

output "report_prefix" {
  description = "S3 URI under which the primary's nightly reports appear."
  value       = "s3://${module.nightly_report.bucket_name}/reports/${local.primary_name}/"
}

output "sns_topic_arn" {
  description = "ARN of the SNS topic the alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms."
  value       = module.alarms.alarm_names
}

output "log_group" {
  description = "CloudWatch Logs group the collectors ship the PostgreSQL server logs to."
  value       = module.collector.log_group_name
}

output "flow_log_group" {
  description = "CloudWatch Logs group of the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

output "monitor_password_parameter" {
  description = "SSM parameter (SecureString) holding the pglog_monitor password."
  value       = module.collector.password_parameter_name
}

output "replicator_password_parameter" {
  description = "SSM parameter (SecureString) holding the replicator password."
  value       = aws_ssm_parameter.replicator_password.name
}
