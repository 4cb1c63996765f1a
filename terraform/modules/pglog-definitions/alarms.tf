# Alarm definitions, one kind per entry. Metrics that carry the Role
# dimension are read with a CloudWatch Metrics Insights query on the
# instance (`aggregate`), so an alarm keeps working after a failover changes
# the role; Up and the log-based Deadlocks have the DBInstance dimension only
# and are plain metric alarms (`statistic`). Wraparound and password expiry
# are cluster-wide (a standby reports the primary's catalog), so they are
# watched on the primary only. Descriptions take the instance and its role.
locals {
  period = max(60, ceil(var.interval_seconds / 60) * 60)

  alarm_kinds = {
    "down" = {
      metric      = "Up", statistic = "Minimum", aggregate = null, primary_only = false
      period      = local.period, evaluation_periods = 3, datapoints_to_alarm = 3
      comparison  = "LessThanThreshold", threshold = 1, treat_missing_data = "breaching"
      description = "%s (%s): the collector reports the database down (Up = 0), or nothing has arrived for 3 periods (collector, host or network down)."
    }
    "replication-lag" = {
      metric      = "ReplicationLagSeconds", statistic = null, aggregate = "MAX", primary_only = false
      period      = local.period, evaluation_periods = 5, datapoints_to_alarm = 5
      comparison  = "GreaterThanThreshold", threshold = var.replication_lag_seconds, treat_missing_data = "notBreaching"
      description = "%s (%s): replay is more than ${var.replication_lag_seconds} s behind for 5 minutes (on a primary: its worst standby)."
    }
    "error-rate" = {
      metric      = "LogErrors", statistic = null, aggregate = "SUM", primary_only = false
      period      = 60, evaluation_periods = 5, datapoints_to_alarm = 3
      comparison  = "GreaterThanThreshold", threshold = var.error_rate_per_minute, treat_missing_data = "notBreaching"
      description = "%s (%s): more than ${var.error_rate_per_minute} ERROR/FATAL/PANIC log records a minute in 3 of 5 minutes."
    }
    "deadlocks" = {
      metric      = "Deadlocks", statistic = "Sum", aggregate = null, primary_only = false
      period      = 60, evaluation_periods = 1, datapoints_to_alarm = 1
      comparison  = "GreaterThanThreshold", threshold = var.deadlocks_per_minute, treat_missing_data = "notBreaching"
      description = "%s (%s): more than ${var.deadlocks_per_minute} deadlocks logged in a minute."
    }
    "xid-wraparound" = {
      metric      = "XidWraparoundAge", statistic = null, aggregate = "MAX", primary_only = true
      period      = local.period, evaluation_periods = 3, datapoints_to_alarm = 3
      comparison  = "GreaterThanThreshold", threshold = var.wraparound_age, treat_missing_data = "missing"
      description = "%s (%s): the oldest unfrozen XID is more than ${var.wraparound_age} transactions old; vacuum (freeze) the oldest tables before writes stop near 2.1 billion."
    }
    "multixact-wraparound" = {
      metric      = "MultiXactWraparoundAge", statistic = null, aggregate = "MAX", primary_only = true
      period      = local.period, evaluation_periods = 3, datapoints_to_alarm = 3
      comparison  = "GreaterThanThreshold", threshold = var.wraparound_age, treat_missing_data = "missing"
      description = "%s (%s): the oldest unfrozen MultiXact is more than ${var.wraparound_age} old; vacuum (freeze) before writes stop."
    }
    "password-expiry" = {
      metric      = "PasswordExpiresInDays", statistic = null, aggregate = "MIN", primary_only = true
      period      = 300, evaluation_periods = 1, datapoints_to_alarm = 1
      comparison  = "LessThanThreshold", threshold = var.password_expiry_days, treat_missing_data = "notBreaching"
      description = "%s (%s): a login role's password expires within ${var.password_expiry_days} days (rolvaliduntil); renew it before logins fail."
    }
  }

  alarms = {
    for a in flatten([
      for kind, k in local.alarm_kinds : [
        for i in var.instances : {
          name                = "${var.name}-${i.name}-${kind}"
          instance            = i.name
          kind                = kind
          description         = format(k.description, i.name, i.role)
          metric              = k.metric
          statistic           = k.statistic
          expression          = k.aggregate == null ? null : format("SELECT %s(%s) FROM \"%s\" WHERE DBInstance = '%s'", k.aggregate, k.metric, var.namespace, i.name)
          period              = k.period
          evaluation_periods  = k.evaluation_periods
          datapoints_to_alarm = k.datapoints_to_alarm
          comparison          = k.comparison
          threshold           = k.threshold
          treat_missing_data  = k.treat_missing_data
        } if i.role == "primary" || !k.primary_only
      ]
    ]) : a.name => a
  }
}
