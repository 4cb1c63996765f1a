# Alarm definitions. Metrics that carry the Role dimension are read with a
# CloudWatch Metrics Insights query on the instance, so an alarm keeps
# working after a failover changes the role; Up and the log-based Deadlocks
# have the DBInstance dimension only and are plain metric alarms.
locals {
  period = max(60, ceil(var.interval_seconds / 60) * 60)

  primaries = [for i in var.instances : i if i.role == "primary"]

  insights = {
    for i in var.instances : i.name => {
      lag    = "SELECT MAX(ReplicationLagSeconds) FROM \"${var.namespace}\" WHERE DBInstance = '${i.name}'"
      errors = "SELECT SUM(LogErrors) FROM \"${var.namespace}\" WHERE DBInstance = '${i.name}'"
      xid    = "SELECT MAX(XidWraparoundAge) FROM \"${var.namespace}\" WHERE DBInstance = '${i.name}'"
      mxid   = "SELECT MAX(MultiXactWraparoundAge) FROM \"${var.namespace}\" WHERE DBInstance = '${i.name}'"
      expiry = "SELECT MIN(PasswordExpiresInDays) FROM \"${var.namespace}\" WHERE DBInstance = '${i.name}'"
    }
  }

  alarm_list = concat(
    [for i in var.instances : {
      name                = "${var.name}-${i.name}-down"
      instance            = i.name
      kind                = "down"
      description         = "${i.name} (${i.role}): the collector reports the database down (Up = 0), or nothing has arrived for 3 periods (collector, host or network down)."
      metric              = "Up"
      statistic           = "Minimum"
      expression          = null
      period              = local.period
      evaluation_periods  = 3
      datapoints_to_alarm = 3
      comparison          = "LessThanThreshold"
      threshold           = 1
      treat_missing_data  = "breaching"
    }],
    [for i in var.instances : {
      name                = "${var.name}-${i.name}-replication-lag"
      instance            = i.name
      kind                = "replication-lag"
      description         = "${i.name} (${i.role}): replay is more than ${var.replication_lag_seconds} s behind for 5 minutes (on a primary: its worst standby)."
      metric              = "ReplicationLagSeconds"
      statistic           = null
      expression          = local.insights[i.name].lag
      period              = local.period
      evaluation_periods  = 5
      datapoints_to_alarm = 5
      comparison          = "GreaterThanThreshold"
      threshold           = var.replication_lag_seconds
      treat_missing_data  = "notBreaching"
    }],
    [for i in var.instances : {
      name                = "${var.name}-${i.name}-error-rate"
      instance            = i.name
      kind                = "error-rate"
      description         = "${i.name} (${i.role}): more than ${var.error_rate_per_minute} ERROR/FATAL/PANIC log records a minute in 3 of 5 minutes."
      metric              = "LogErrors"
      statistic           = null
      expression          = local.insights[i.name].errors
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 3
      comparison          = "GreaterThanThreshold"
      threshold           = var.error_rate_per_minute
      treat_missing_data  = "notBreaching"
    }],
    [for i in var.instances : {
      name                = "${var.name}-${i.name}-deadlocks"
      instance            = i.name
      kind                = "deadlocks"
      description         = "${i.name} (${i.role}): more than ${var.deadlocks_per_minute} deadlocks logged in a minute."
      metric              = "Deadlocks"
      statistic           = "Sum"
      expression          = null
      period              = 60
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      comparison          = "GreaterThanThreshold"
      threshold           = var.deadlocks_per_minute
      treat_missing_data  = "notBreaching"
    }],
    # Wraparound and password expiry are cluster-wide (a standby reports the
    # primary's catalog), so they are watched on the primary only.
    [for i in local.primaries : {
      name                = "${var.name}-${i.name}-xid-wraparound"
      instance            = i.name
      kind                = "xid-wraparound"
      description         = "${i.name}: the oldest unfrozen XID is more than ${var.wraparound_age} transactions old; vacuum (freeze) the oldest tables before writes stop near 2.1 billion."
      metric              = "XidWraparoundAge"
      statistic           = null
      expression          = local.insights[i.name].xid
      period              = local.period
      evaluation_periods  = 3
      datapoints_to_alarm = 3
      comparison          = "GreaterThanThreshold"
      threshold           = var.wraparound_age
      treat_missing_data  = "missing"
    }],
    [for i in local.primaries : {
      name                = "${var.name}-${i.name}-multixact-wraparound"
      instance            = i.name
      kind                = "multixact-wraparound"
      description         = "${i.name}: the oldest unfrozen MultiXact is more than ${var.wraparound_age} old; vacuum (freeze) before writes stop."
      metric              = "MultiXactWraparoundAge"
      statistic           = null
      expression          = local.insights[i.name].mxid
      period              = local.period
      evaluation_periods  = 3
      datapoints_to_alarm = 3
      comparison          = "GreaterThanThreshold"
      threshold           = var.wraparound_age
      treat_missing_data  = "missing"
    }],
    [for i in local.primaries : {
      name                = "${var.name}-${i.name}-password-expiry"
      instance            = i.name
      kind                = "password-expiry"
      description         = "${i.name}: a login role's password expires within ${var.password_expiry_days} days (rolvaliduntil); renew it before logins fail."
      metric              = "PasswordExpiresInDays"
      statistic           = null
      expression          = local.insights[i.name].expiry
      period              = 300
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      comparison          = "LessThanThreshold"
      threshold           = var.password_expiry_days
      treat_missing_data  = "notBreaching"
    }],
  )

  alarms = { for a in local.alarm_list : a.name => a }
}
