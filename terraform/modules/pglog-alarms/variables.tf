variable "name" {
  description = "Deployment name; every alarm name starts with it."
  type        = string
}

variable "namespace" {
  description = "CloudWatch namespace the collectors ship to."
  type        = string
  default     = "PgLog"
}

variable "instances" {
  description = "The database hosts: name is the DBInstance dimension, role is primary or standby."
  type = list(object({
    name = string
    role = string
  }))
}

variable "sns_topic_arn" {
  description = "SNS topic every alarm and OK notification goes to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", var.sns_topic_arn))
    error_message = "sns_topic_arn: the ARN of an SNS topic, e.g. arn:aws:sns:eu-west-1:123456789012:db-alerts."
  }
}

variable "interval_seconds" {
  description = "The collectors' cycle in seconds; alarm periods are never shorter."
  type        = number
  default     = 60
}

variable "replication_lag_seconds" {
  description = "Alarm when replay lags more than this many seconds for 5 minutes."
  type        = number
  default     = 300
}

variable "error_rate_per_minute" {
  description = "Alarm when more than this many ERROR/FATAL/PANIC records are logged a minute in 3 of 5 minutes."
  type        = number
  default     = 20
}

variable "deadlocks_per_minute" {
  description = "Alarm when more deadlocks than this are logged in a minute (0: any)."
  type        = number
  default     = 0
}

variable "wraparound_age" {
  description = "Alarm when the oldest unfrozen XID or MultiXact is older than this."
  type        = number
  default     = 1000000000
}

variable "password_expiry_days" {
  description = "Alarm when a login role's password expires within this many days."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags for every alarm."
  type        = map(string)
  default     = {}
}
