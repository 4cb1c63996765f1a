data "aws_region" "current" {}

module "definitions" {
  source = "../pglog-definitions"

  name                    = var.name
  namespace               = var.namespace
  region                  = data.aws_region.current.name
  instances               = var.instances
  interval_seconds        = var.interval_seconds
  replication_lag_seconds = var.replication_lag_seconds
  error_rate_per_minute   = var.error_rate_per_minute
  deadlocks_per_minute    = var.deadlocks_per_minute
  wraparound_age          = var.wraparound_age
  password_expiry_days    = var.password_expiry_days
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = module.definitions.alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints_to_alarm
  treat_missing_data  = each.value.treat_missing_data

  # A plain metric alarm (Up, Deadlocks: DBInstance is their only dimension).
  namespace   = each.value.expression == null ? var.namespace : null
  metric_name = each.value.expression == null ? each.value.metric : null
  statistic   = each.value.expression == null ? each.value.statistic : null
  period      = each.value.expression == null ? each.value.period : null
  dimensions  = each.value.expression == null ? { DBInstance = each.value.instance } : null

  # A Metrics Insights query for metrics that also carry Role (and Standby,
  # SqlStateClass, ...): one series per instance whatever its role is now.
  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : [each.value]
    content {
      id          = "q1"
      expression  = metric_query.value.expression
      period      = metric_query.value.period
      label       = metric_query.value.metric
      return_data = true
    }
  }

  alarm_actions             = [var.sns_topic_arn]
  ok_actions                = [var.sns_topic_arn]
  insufficient_data_actions = []
  tags                      = merge(var.tags, { DBInstance = each.value.instance, AlarmKind = each.value.kind })
}
