variable "name" {
  description = "Deployment name; prefixes the IAM role, log group, parameter and key alias."
  type        = string
}

variable "namespace" {
  description = "CloudWatch namespace the collectors ship to; the role may write to this one only."
  type        = string
  default     = "PgLog"
}

variable "instances" {
  description = "The database hosts that run the collector with this role: name is its DBInstance dimension, role primary or standby. user_data has one script per name."
  type = list(object({
    name = string
    role = string
  }))
}

variable "artifact_s3_uri" {
  description = "The pglog binary (Linux, the hosts' architecture) as s3://BUCKET/KEY; the role may read that one object. Give this or artifact_url."
  type        = string
  default     = null

  validation {
    condition     = var.artifact_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", var.artifact_s3_uri))
    error_message = "artifact_s3_uri: s3://BUCKET/KEY of the pglog binary, e.g. s3://my-artifacts/pglog/0.1.0/pglog-aarch64."
  }
}

variable "artifact_url" {
  description = "The pglog binary as an https:// URL (a release download). Give this or artifact_s3_uri."
  type        = string
  default     = null

  validation {
    condition     = var.artifact_url == null || can(regex("^https://", var.artifact_url))
    error_message = "artifact_url: an https:// URL; plain http would let the network swap the binary."
  }
}

variable "artifact_sha256" {
  description = "SHA-256 of the pglog binary (sha256sum pglog); the host refuses any other file."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.artifact_sha256))
    error_message = "artifact_sha256: 64 lowercase hex digits, as `sha256sum pglog` prints them."
  }
}

variable "db_password" {
  description = "Password of the monitoring role (db_user); stored as an SSM SecureString the hosts read at collector start."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.db_password) >= 16
    error_message = "db_password: at least 16 characters (generate one, e.g. with the random_password resource)."
  }
}

variable "db_user" {
  description = "The monitoring role the collector logs in as (GRANT pg_monitor TO it)."
  type        = string
  default     = "pglog_monitor"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.db_user))
    error_message = "db_user: a plain lowercase PostgreSQL role name (letters, digits, underscore; at most 63)."
  }
}

variable "db_name" {
  description = "Database the collector connects to."
  type        = string
  default     = "postgres"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name: a plain database name (letters, digits, underscore)."
  }
}

variable "db_port" {
  description = "PostgreSQL port on the host."
  type        = number
  default     = 5432

  validation {
    condition     = var.db_port >= 1 && var.db_port <= 65535
    error_message = "db_port: a TCP port, 1 to 65535."
  }
}

variable "log_dir" {
  description = "The server's log directory, tailed and shipped to CloudWatch Logs (null: metrics only)."
  type        = string
  default     = "/var/lib/pgsql/data/log"

  validation {
    condition     = var.log_dir == null || can(regex("^/[^\"'\\\\]*$", var.log_dir))
    error_message = "log_dir: an absolute path without quotes or backslashes."
  }
}

variable "log_retention_days" {
  description = "Retention of the shipped log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: one of CloudWatch Logs' values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "interval" {
  description = "Time between collector cycles, e.g. 60s."
  type        = string
  default     = "60s"

  validation {
    condition     = can(regex("^[0-9]+(ms|s|m)$", var.interval))
    error_message = "interval: a duration such as \"60s\", \"30s\" or \"1m\"."
  }
}

variable "slow_query_ms" {
  description = "Statements logged with a longer duration count as SlowQueries."
  type        = number
  default     = 1000
}

variable "databases" {
  description = "Databases the database-scope queries run in, as names or patterns (* any run of characters, ? one character), e.g. [\"app_*\", \"shop\"]. Empty: every database that takes connections and is not a template."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.databases : can(regex("^[A-Za-z0-9_*?.$-]{1,63}$", p))])
    error_message = "databases: each entry is a database name or pattern of 1 to 63 letters, digits and _ . $ - with * and ? as wildcards (no quotes, spaces or backslashes), e.g. \"app_*\"."
  }
}

variable "exclude_databases" {
  description = "Databases left out of the database-scope queries even when databases matches them, as names or patterns (* and ?), e.g. [\"scratch_*\"]. Empty: none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.exclude_databases : can(regex("^[A-Za-z0-9_*?.$-]{1,63}$", p))])
    error_message = "exclude_databases: each entry is a database name or pattern of 1 to 63 letters, digits and _ . $ - with * and ? as wildcards (no quotes, spaces or backslashes), e.g. \"scratch_*\"."
  }
}

variable "max_database_connections" {
  description = "Connections to databases other than db_name the collector keeps open at once; more databases take turns. null: the collector's default (5)."
  type        = number
  default     = null

  validation {
    condition     = var.max_database_connections == null ? true : var.max_database_connections >= 1 && floor(var.max_database_connections) == var.max_database_connections
    error_message = "max_database_connections: a whole number, 1 or more, or null for the collector's default (5)."
  }
}

variable "pgbouncer" {
  description = "pgbouncer on the same host as a metric source (its admin console, SHOW POOLS, STATS and LISTS). port: where it listens (6432); user: the role it lets in as a stats_users member (null: db_user); password_parameter: name of an SSM SecureString with that user's password (null: the db_password parameter); password_kms_key_arn: the KMS key of that parameter when it is not the module's key (null: the module's key). null: no pgbouncer."
  type = object({
    port                 = optional(number, 6432)
    user                 = optional(string)
    password_parameter   = optional(string)
    password_kms_key_arn = optional(string)
  })
  default = null

  validation {
    condition     = var.pgbouncer == null ? true : var.pgbouncer.port >= 1 && var.pgbouncer.port <= 65535 && floor(var.pgbouncer.port) == var.pgbouncer.port
    error_message = "pgbouncer.port: a TCP port, 1 to 65535 (pgbouncer's default is 6432)."
  }

  validation {
    condition     = var.pgbouncer == null ? true : var.pgbouncer.user == null ? true : can(regex("^[a-z_][a-z0-9_]{0,62}$", var.pgbouncer.user))
    error_message = "pgbouncer.user: a plain lowercase role name (letters, digits, underscore; at most 63), or null for db_user."
  }

  validation {
    condition     = var.pgbouncer == null ? true : var.pgbouncer.password_parameter == null ? true : can(regex("^(/[A-Za-z0-9_.-]+)+$|^[A-Za-z0-9_.-]+$", var.pgbouncer.password_parameter)) && length(var.pgbouncer.password_parameter) <= 1011
    error_message = "pgbouncer.password_parameter: the name (not the ARN) of an SSM parameter in this account and region, e.g. \"/pgbouncer/stats-password\" (letters, digits and _ . - between slashes), or null for the db_password parameter."
  }

  validation {
    condition     = var.pgbouncer == null ? true : var.pgbouncer.password_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:", var.pgbouncer.password_kms_key_arn))
    error_message = "pgbouncer.password_kms_key_arn: a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or null when the parameter is encrypted with the module's key."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the log group and the password parameter; null creates one (rotation on)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn: a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
