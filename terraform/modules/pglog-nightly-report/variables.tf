variable "name" {
  description = "Prefix for the resources' names. The generated bucket name is \"<name>-reports-<random>\", so it follows S3 rules: lowercase letters, digits and hyphens, at most 28 characters."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,27}$", var.name)) && !startswith(var.name, "xn--") && !startswith(var.name, "sthree-")
    error_message = "name must be 1-28 lowercase letters, digits or hyphens, starting with a letter or digit and not with \"xn--\" or \"sthree-\" (it prefixes an S3 bucket name), e.g. \"pglog-prod\"."
  }
}

variable "role_name" {
  description = "Name (not ARN) of the IAM role of the host that runs the report; the module attaches its S3/KMS write policy to it (e.g. the pglog-collector module's role_name output)."
  type        = string

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.role_name))
    error_message = "role_name must be an IAM role name (1-64 of letters, digits and +=,.@_-), not an ARN: pass the part after \"role/\"."
  }
}

variable "instance" {
  description = "DBInstance name of the host that runs the report (as in the collector's metrics); reports go to s3://BUCKET/reports/<instance>/YYYY/MM/DD/."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,255}$", var.instance)) && !contains([".", ".."], var.instance)
    error_message = "instance must match ^[A-Za-z0-9._-]{1,255}$ and not be \".\" or \"..\" (it is one S3 key segment), e.g. \"db-primary-1\"."
  }
}

variable "log_dir" {
  description = "Directory of the PostgreSQL server's log files on the host (log_directory). The pglog user reads them through the postgres group, so set log_file_mode = 0640."
  type        = string
  default     = "/var/lib/pgsql/data/log"

  validation {
    condition     = can(regex("^/[^[:cntrl:]]*$", var.log_dir))
    error_message = "log_dir must be an absolute path without control characters, e.g. \"/var/lib/pgsql/data/log\"."
  }
}

variable "log_file_glob_format" {
  description = "File name pattern of one day's log files in log_dir: a strftime format (formatted with the day being reported, in UTC) that may hold shell glob characters. Mirror log_filename, e.g. \"postgresql-%Y-%m-%d_*.csv\"; add a trailing * to include compressed rotated files."
  type        = string
  default     = "postgresql-%Y-%m-%d_*.csv"

  validation {
    condition     = can(regex("^[^/[:space:][:cntrl:]]+$", var.log_file_glob_format)) && strcontains(var.log_file_glob_format, "%")
    error_message = "log_file_glob_format must be a file name (no \"/\", no spaces) holding a strftime date conversion such as %Y-%m-%d or %a, so that each day matches its own files, e.g. \"postgresql-%Y-%m-%d_*.csv\"."
  }
}

variable "schedule" {
  description = "When the report runs, as a systemd OnCalendar expression. Run after the day's last log file has rotated."
  type        = string
  default     = "*-*-* 00:30:00 UTC"

  validation {
    condition     = trimspace(var.schedule) != "" && !can(regex("[[:cntrl:]]", var.schedule))
    error_message = "schedule must be a non-empty, single-line systemd OnCalendar expression, e.g. \"*-*-* 00:30:00 UTC\" (check it with `systemd-analyze calendar`)."
  }
}

variable "bucket_name" {
  description = "Name of the reports bucket to create. null generates a unique one from \"<name>-reports-\"."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits, dots or hyphens, beginning and ending with a letter or digit; or null to generate one."
  }

  validation {
    condition = var.bucket_name == null || try(
      !strcontains(var.bucket_name, "..") &&
      !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", var.bucket_name)) &&
      !startswith(var.bucket_name, "xn--") &&
      !startswith(var.bucket_name, "sthree-") &&
      !endswith(var.bucket_name, "-s3alias") &&
      !endswith(var.bucket_name, "--ol-s3"),
    false)
    error_message = "bucket_name breaks an S3 naming rule: no \"..\", not an IP address, no \"xn--\" or \"sthree-\" prefix, no \"-s3alias\" or \"--ol-s3\" suffix. Pick another name or pass null."
  }
}

variable "report_retention_days" {
  description = "Days a report is kept before it expires. Above 60 days, reports move to STANDARD_IA after 30 days."
  type        = number
  default     = 400

  validation {
    condition     = var.report_retention_days >= 1 && floor(var.report_retention_days) == var.report_retention_days
    error_message = "report_retention_days must be a whole number of days, at least 1, e.g. 400."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted report version is kept (the bucket is versioned) before it is removed for good."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "noncurrent_version_days must be a whole number of days, at least 1, e.g. 30."
  }
}

variable "kms_key_arn" {
  description = "ARN of an existing KMS key for the bucket. null creates one (rotation on). An existing key's policy must let the account's IAM policies grant its use."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID), not an alias or key ID, or null to create a key."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with its reports in it. Keep false outside tests."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
