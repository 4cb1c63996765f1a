variable "name" {
  description = "Deployment name: prefixes every resource and the DBInstance names (\"<name>-primary\", \"<name>-standby-N\")."
  type        = string
  default     = "pglog-demo"

  validation {
    # The nightly report bucket is "<name>-reports-<random>": S3 rules, at most 28 characters.
    condition     = can(regex("^[a-z][a-z0-9-]{1,26}[a-z0-9]$", var.name))
    error_message = "name: use 3 to 28 lowercase letters, digits and '-', starting with a letter and not ending with '-' (it becomes part of an S3 bucket name), e.g. \"pglog-demo\"."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region: an AWS region code such as \"eu-west-1\"."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource (through the provider's default_tags, and passed to the modules)."
  type        = map(string)
  default = {
    Project = "pglog"
    Stack   = "ec2-cluster"
  }
}

variable "namespace" {
  description = "CloudWatch namespace the collectors ship metrics to; the dashboard and alarms read the same one."
  type        = string
  default     = "PgLog"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.namespace)) && !startswith(var.namespace, "AWS/")
    error_message = "namespace: letters, digits and . _ / # : - (1 to 255 characters), not starting with \"AWS/\" (reserved), e.g. \"PgLog\"."
  }
}

# --- Network -----------------------------------------------------------------

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC; each AZ gets a /24 private subnet carved from it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20, false)
    error_message = "vpc_cidr: an IPv4 CIDR with a prefix length from /16 to /20 (AWS allows /16 at most; /24 subnets are carved from it), e.g. \"10.40.0.0/16\"."
  }
}

variable "az_count" {
  description = "Number of availability zones with a private subnet (and endpoint interfaces) when availability_zones is empty. The primary goes to the first, the standbys to the others."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6 && floor(var.az_count) == var.az_count
    error_message = "az_count: a whole number from 2 to 6; the standby must run in another AZ than the primary, so at least 2."
  }
}

variable "availability_zones" {
  description = "Availability zones of the private subnets, in order: the primary goes to the first, the standbys to the others. Empty: the first az_count zones of the region (by name) that offer instance_type. Once deployed, pin the zones (see the availability_zones output) so that a later change in AWS's offerings can never move the subnets, and with them the database hosts and their data volumes."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || (length(var.availability_zones) >= 2 && length(distinct(var.availability_zones)) == length(var.availability_zones))
    error_message = "availability_zones: empty (chosen automatically), or at least 2 distinct zone names such as [\"eu-west-1a\", \"eu-west-1b\"]; the standby must run in another AZ than the primary."
  }
}

variable "app_cidr_blocks" {
  description = "CIDR blocks of the applications allowed to connect to PostgreSQL on 5432 (security group and pg_hba.conf, TLS and scram-sha-256). Empty: no application access."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.app_cidr_blocks : can(cidrhost(c, 0)) && !startswith(c, "0.0.0.0/")])
    error_message = "app_cidr_blocks: each entry is an IPv4 CIDR such as \"10.50.0.0/16\"; 0.0.0.0/0 is refused (the database is private)."
  }
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days: one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

# --- Database hosts ------------------------------------------------------------

variable "instance_type" {
  description = "EC2 instance type of the database hosts. Must be a Graviton (arm64) type: the AMI is Amazon Linux 2023 arm64."
  type        = string
  default     = "m7g.large"

  validation {
    condition     = can(regex("^[a-z]+[0-9]+g[a-z-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type: a Graviton (arm64) type such as \"m7g.large\", \"r7g.xlarge\" or \"t4g.medium\"; x86 types cannot boot the arm64 AMI."
  }
}

variable "standby_count" {
  description = "Number of streaming standbys (each with its own physical replication slot standby_N)."
  type        = number
  default     = 1

  validation {
    condition     = var.standby_count >= 0 && var.standby_count <= 5 && floor(var.standby_count) == var.standby_count
    error_message = "standby_count: a whole number from 0 to 5 (max_wal_senders is 10, and pg_basebackup needs two senders while it runs)."
  }
}

variable "root_volume_size_gb" {
  description = "Size in GiB of each host's encrypted gp3 root volume."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 1024 && floor(var.root_volume_size_gb) == var.root_volume_size_gb
    error_message = "root_volume_size_gb: a whole number from 8 (the AMI's size) to 1024."
  }
}

variable "data_volume_size_gb" {
  description = "Size in GiB of each host's encrypted gp3 data volume, mounted at /var/lib/pgsql. A quarter of it is the most WAL a lagging replication slot may hold (max_slot_wal_keep_size)."
  type        = number
  default     = 100

  validation {
    condition     = var.data_volume_size_gb >= 10 && var.data_volume_size_gb <= 16384 && floor(var.data_volume_size_gb) == var.data_volume_size_gb
    error_message = "data_volume_size_gb: a whole number from 10 to 16384 (the gp3 maximum)."
  }
}

# --- PostgreSQL logging ------------------------------------------------------

variable "log_min_duration_statement_ms" {
  description = "PostgreSQL log_min_duration_statement in milliseconds: statements at least this slow are logged with their duration (-1 turns it off, 0 logs every statement)."
  type        = number
  default     = 250

  validation {
    condition     = var.log_min_duration_statement_ms >= -1 && floor(var.log_min_duration_statement_ms) == var.log_min_duration_statement_ms
    error_message = "log_min_duration_statement_ms: a whole number of milliseconds, -1 (off) or more, e.g. 250."
  }
}

variable "auto_explain_min_duration_ms" {
  description = "auto_explain.log_min_duration in milliseconds: statements at least this slow get their plan (EXPLAIN ANALYZE, BUFFERS, JSON) logged (-1 turns it off)."
  type        = number
  default     = 1000

  validation {
    condition     = var.auto_explain_min_duration_ms >= -1 && floor(var.auto_explain_min_duration_ms) == var.auto_explain_min_duration_ms
    error_message = "auto_explain_min_duration_ms: a whole number of milliseconds, -1 (off) or more, e.g. 1000."
  }
}

# --- pglog ---------------------------------------------------------------------

variable "pglog_artifact_s3_uri" {
  description = "s3://BUCKET/KEY of the aarch64 Linux pglog binary, in a bucket of this account and region (the hosts reach S3 only through the VPC gateway endpoint, whose policy allows this one object). Set this or pglog_artifact_url."
  type        = string
  default     = null

  validation {
    condition     = var.pglog_artifact_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^[:space:]]+$", var.pglog_artifact_s3_uri))
    error_message = "pglog_artifact_s3_uri: an S3 URI such as \"s3://my-artifacts/pglog/0.1.0/pglog-aarch64\", or null when pglog_artifact_url is set."
  }
}

variable "pglog_artifact_url" {
  description = "HTTPS URL of the aarch64 Linux pglog binary, used when pglog_artifact_s3_uri is null. The hosts have no internet access: the URL must be reachable from the private subnets (e.g. an internal mirror)."
  type        = string
  default     = null

  validation {
    condition     = var.pglog_artifact_url == null || can(regex("^https://[^[:space:]]+$", var.pglog_artifact_url))
    error_message = "pglog_artifact_url: an https:// URL, or null when pglog_artifact_s3_uri is set."
  }
}

variable "pglog_artifact_sha256" {
  description = "SHA-256 of the pglog binary (64 hex digits, as `sha256sum` prints); the hosts refuse a download that does not match."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.pglog_artifact_sha256))
    error_message = "pglog_artifact_sha256: 64 lowercase hex digits, the first field of `sha256sum pglog`."
  }
}

variable "monitor_password" {
  description = "Password of the pglog_monitor database role the collectors log in as. null (recommended) generates one; it is stored in SSM Parameter Store either way."
  type        = string
  default     = null
  sensitive   = true

  validation {
    # Kept to characters that need no escaping in .pgpass files and conninfo strings.
    condition     = var.monitor_password == null || can(regex("^[A-Za-z0-9!#%*+,.=?@^_~-]{16,128}$", var.monitor_password))
    error_message = "monitor_password: 16 to 128 letters, digits or !#%*+,.=?@^_~- (no quotes, spaces, ':' or '\\'), or null to generate one."
  }
}

variable "collector_log_retention_days" {
  description = "Days the PostgreSQL server logs shipped by the collectors are kept in CloudWatch Logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.collector_log_retention_days)
    error_message = "collector_log_retention_days: one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "collector_databases" {
  description = "Databases the collectors' database-scope queries run in, as names or patterns (* and ?), e.g. [\"app_*\"]. Empty: every database that takes connections and is not a template. Passed to the collector module's databases, which validates it."
  type        = list(string)
  default     = []
}

variable "collector_exclude_databases" {
  description = "Databases left out of the database-scope queries, as names or patterns (* and ?), e.g. [\"scratch_*\"]. Empty: none. Passed to the collector module's exclude_databases."
  type        = list(string)
  default     = []
}

variable "collector_max_database_connections" {
  description = "Connections to databases other than postgres each collector keeps open at once. null: the collector's default (5). Passed to the collector module's max_database_connections."
  type        = number
  default     = null
}

variable "collector_pgbouncer" {
  description = "pgbouncer as a metric source, for hosts where you run it next to PostgreSQL (this stack does not install it): { port = 6432, user = null (pglog_monitor), password_parameter = null (the monitoring password's parameter), password_kms_key_arn = null }. null: no pgbouncer. Passed to the collector module's pgbouncer."
  type = object({
    port                 = optional(number, 6432)
    user                 = optional(string)
    password_parameter   = optional(string)
    password_kms_key_arn = optional(string)
  })
  default = null
}

variable "report_bucket_force_destroy" {
  description = "Let `terraform destroy` delete the nightly report bucket with its reports. Keep false unless the reports are disposable."
  type        = bool
  default     = false
}

# --- Alerting ----------------------------------------------------------------

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (AWS sends a confirmation mail first). null: no subscription."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$", var.alarm_email))
    error_message = "alarm_email: an e-mail address such as \"dba@example.com\", or null for no subscription."
  }
}
