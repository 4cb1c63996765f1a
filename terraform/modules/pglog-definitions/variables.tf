variable "name" {
  description = "Deployment name; prefixes every resource name (IAM role, log group, dashboard, alarms, bucket)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,26}[a-z0-9]$", var.name))
    error_message = "name: use 3 to 28 lowercase letters, digits and '-', starting with a letter (it becomes part of S3 bucket and IAM role names), e.g. \"orders-db\"."
  }
}

variable "namespace" {
  description = "CloudWatch namespace the collectors ship to (pglog collect --namespace)."
  type        = string
  default     = "PgLog"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.namespace)) && !startswith(var.namespace, "AWS/")
    error_message = "namespace: use letters, digits and . _ / # : - (1 to 255 characters); AWS/ is reserved for AWS services. The collector's default is \"PgLog\"."
  }
}

variable "region" {
  description = "AWS region of the metrics; every dashboard widget names it."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region: an AWS region code such as \"eu-west-1\"."
  }
}

variable "instances" {
  description = "The database hosts, in dashboard row order: name is the collector's DBInstance dimension (pglog collect --instance), role is primary or standby as deployed."
  type = list(object({
    name = string
    role = string
  }))

  validation {
    condition     = length(var.instances) > 0
    error_message = "instances: list at least one host, e.g. [{ name = \"db-1\", role = \"primary\" }]."
  }
  validation {
    condition     = alltrue([for i in var.instances : can(regex("^[A-Za-z0-9._-]{1,255}$", i.name))])
    error_message = "instances: each name is a DBInstance value of letters, digits, '.', '_' and '-' (quotes and spaces would break the dashboard's SEARCH expressions)."
  }
  validation {
    condition     = alltrue([for i in var.instances : contains(["primary", "standby"], i.role)])
    error_message = "instances: role is \"primary\" or \"standby\"."
  }
  validation {
    condition     = length(distinct([for i in var.instances : i.name])) == length(var.instances)
    error_message = "instances: names must be unique; each host ships under its own DBInstance."
  }
  validation {
    condition     = length([for i in var.instances : i if i.role == "primary"]) <= 1
    error_message = "instances: at most one primary; a streaming cluster has one. Use one module per cluster."
  }
}

variable "interval_seconds" {
  description = "The collectors' cycle (pglog collect --interval); alarm periods are never shorter."
  type        = number
  default     = 60

  validation {
    condition     = var.interval_seconds >= 1 && var.interval_seconds <= 3600 && floor(var.interval_seconds) == var.interval_seconds
    error_message = "interval_seconds: a whole number of seconds from 1 to 3600."
  }
}

variable "replication_lag_seconds" {
  description = "Alarm when replay lags more than this many seconds for 5 minutes."
  type        = number
  default     = 300

  validation {
    condition     = var.replication_lag_seconds > 0
    error_message = "replication_lag_seconds: a positive number of seconds."
  }
}

variable "error_rate_per_minute" {
  description = "Alarm when the log holds more than this many ERROR/FATAL/PANIC records a minute in 3 of 5 minutes."
  type        = number
  default     = 20

  validation {
    condition     = var.error_rate_per_minute > 0
    error_message = "error_rate_per_minute: a positive number."
  }
}

variable "deadlocks_per_minute" {
  description = "Alarm when more deadlocks than this are logged in a minute (0: any deadlock)."
  type        = number
  default     = 0

  validation {
    condition     = var.deadlocks_per_minute >= 0
    error_message = "deadlocks_per_minute: zero or more."
  }
}

variable "wraparound_age" {
  description = "Alarm when the oldest unfrozen XID or MultiXact is older than this (wraparound stops writes near 2^31; autovacuum_freeze_max_age defaults to 200 million)."
  type        = number
  default     = 1000000000

  validation {
    condition     = var.wraparound_age >= 100000000 && var.wraparound_age < 2000000000
    error_message = "wraparound_age: between 100000000 and 2000000000 (the hard limit is about 2.1 billion)."
  }
}

variable "password_expiry_days" {
  description = "Alarm when a login role's password (VALID UNTIL) expires within this many days."
  type        = number
  default     = 7

  validation {
    condition     = var.password_expiry_days >= 1
    error_message = "password_expiry_days: at least 1."
  }
}
