variables {
  name   = "orders-db"
  region = "eu-west-1"
  instances = [
    { name = "pg-a", role = "primary" },
    { name = "pg-b", role = "standby" },
    { name = "pg-c", role = "standby" },
  ]
}

run "per_instance_alarms_and_cluster_alarms_on_the_primary" {
  command = apply

  assert {
    condition     = length(output.alarms) == 3 * 4 + 3
    error_message = "Expected down, replication-lag, error-rate and deadlocks per instance, plus XID, MultiXact and password alarms on the primary."
  }
  assert {
    condition     = toset([for a in output.alarms : a.kind if a.instance == "pg-b"]) == toset(["down", "replication-lag", "error-rate", "deadlocks"])
    error_message = "A standby gets the per-instance alarms only."
  }
  assert {
    condition     = alltrue([for a in output.alarms : startswith(a.name, "orders-db-")])
    error_message = "Alarm names start with the deployment name."
  }
}

run "down_alarm_treats_missing_data_as_breaching" {
  command = apply

  assert {
    condition = (
      output.alarms["orders-db-pg-a-down"].metric == "Up" &&
      output.alarms["orders-db-pg-a-down"].treat_missing_data == "breaching" &&
      output.alarms["orders-db-pg-a-down"].evaluation_periods == 3 &&
      output.alarms["orders-db-pg-a-down"].comparison == "LessThanThreshold" &&
      output.alarms["orders-db-pg-a-down"].threshold == 1
    )
    error_message = "Up < 1, or no data, for 3 periods must alarm."
  }
}

run "thresholds_follow_the_variables" {
  command = apply

  variables {
    replication_lag_seconds = 30
    password_expiry_days    = 14
    interval_seconds        = 120
  }

  assert {
    condition     = output.alarms["orders-db-pg-b-replication-lag"].threshold == 30 && output.alarms["orders-db-pg-a-password-expiry"].threshold == 14
    error_message = "Thresholds must come from the variables."
  }
  assert {
    condition     = output.alarms["orders-db-pg-a-down"].period == 120
    error_message = "An alarm period is never shorter than the collector's interval."
  }
}

run "role_dimensioned_metrics_use_an_insights_query_on_the_instance" {
  command = apply

  assert {
    condition     = output.alarms["orders-db-pg-b-replication-lag"].expression == "SELECT MAX(ReplicationLagSeconds) FROM \"PgLog\" WHERE DBInstance = 'pg-b'"
    error_message = "Replication lag must be read across roles and standbys of the instance."
  }
  assert {
    condition     = alltrue([for a in output.alarms : (a.expression == null) != (a.statistic == null)])
    error_message = "Each alarm is either a plain metric with a statistic or a Metrics Insights expression."
  }
}
