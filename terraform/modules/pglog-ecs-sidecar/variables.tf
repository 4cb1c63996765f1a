variable "name" {
  description = "Prefix for the resources this module creates (log group, IAM policy names, KMS alias)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$", var.name))
    error_message = "name must be 1-48 characters of letters, digits, '-' or '_', starting with a letter or digit (it becomes part of IAM policy and log group names); e.g. \"orders-api\"."
  }
}

variable "namespace" {
  description = "CloudWatch namespace the collector writes to; the task role may write to this namespace only."
  type        = string
  default     = "PgLog"

  validation {
    condition     = can(regex("^[0-9A-Za-z._/#: -]{1,255}$", var.namespace)) && !startswith(var.namespace, "AWS/")
    error_message = "namespace must be 1-255 characters of letters, digits, space and . - _ / # :, and must not start with \"AWS/\" (reserved for AWS services); e.g. \"PgLog\"."
  }
}

variable "instance" {
  description = "The DBInstance dimension of every metric, usually the RDS DB instance identifier."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,255}$", var.instance))
    error_message = "instance must be 1-255 characters of letters, digits, '.', '_' or '-'; use the RDS DB instance identifier, e.g. \"orders-db-1\"."
  }
}

variable "db_host" {
  description = "Host name of the database, the RDS instance endpoint address (without the port)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9.:-]{1,253}$", var.db_host))
    error_message = "db_host must be a host name or IP address without port, spaces or quotes; use the RDS endpoint address, e.g. aws_db_instance.this.address (not .endpoint, which appends :port)."
  }
}

variable "db_port" {
  description = "TCP port of the database."
  type        = number
  default     = 5432

  validation {
    condition     = var.db_port >= 1 && var.db_port <= 65535 && floor(var.db_port) == var.db_port
    error_message = "db_port must be a whole number between 1 and 65535, e.g. 5432."
  }
}

variable "db_name" {
  description = "Database the collector connects to; the server-wide statistics are visible from any database."
  type        = string
  default     = "postgres"

  validation {
    condition     = can(regex("^[^\\s'\"\\\\]{1,63}$", var.db_name))
    error_message = "db_name must be 1-63 characters without spaces, quotes or backslashes (it goes unquoted into the connection string), e.g. \"postgres\"."
  }
}

variable "db_user" {
  description = "Login role of the collector; it needs only pg_monitor (see the README)."
  type        = string
  default     = "pglog_monitor"

  validation {
    condition     = can(regex("^[^\\s'\"\\\\]{1,63}$", var.db_user))
    error_message = "db_user must be 1-63 characters without spaces, quotes or backslashes (it goes unquoted into the connection string), e.g. \"pglog_monitor\"."
  }
}

variable "password_ssm_parameter_arn" {
  description = "ARN of the SSM SecureString parameter holding db_user's password. ECS injects it as PGPASSWORD, so it never appears in the task definition."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", var.password_ssm_parameter_arn))
    error_message = "password_ssm_parameter_arn must be a full SSM parameter ARN such as arn:aws:ssm:eu-west-1:123456789012:parameter/pglog/orders/password (a bare name cannot be scoped in IAM)."
  }
}

variable "password_kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts the password parameter; null when it uses the AWS managed aws/ssm key."
  type        = string
  default     = null

  validation {
    condition     = var.password_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.password_kms_key_arn))
    error_message = "password_kms_key_arn must be null or a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias ARN: IAM matches key ARNs)."
  }
}

variable "sslmode" {
  description = "libpq sslmode of the connection. verify-full checks the RDS certificate against sslrootcert and the host name."
  type        = string
  default     = "verify-full"

  validation {
    condition     = contains(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"], var.sslmode)
    error_message = "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full; keep verify-full for RDS."
  }
}

variable "sslrootcert" {
  description = "Path, inside the image, of the CA bundle that signs the RDS server certificate (collector/deploy/Dockerfile puts the RDS global bundle there)."
  type        = string
  default     = "/etc/pglog/rds-global-bundle.pem"

  validation {
    condition     = can(regex("^/[^\\s'\"\\\\]+$", var.sslrootcert))
    error_message = "sslrootcert must be an absolute path without spaces, quotes or backslashes, e.g. \"/etc/pglog/rds-global-bundle.pem\"."
  }
}

variable "image" {
  description = "Collector image built from collector/deploy/Dockerfile, preferably pinned by digest (REPO@sha256:...)."
  type        = string

  validation {
    condition     = can(regex("^[^\\s]+$", var.image))
    error_message = "image must be a non-empty image reference without spaces, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/pglog@sha256:<digest>."
  }
}

variable "task_role_name" {
  description = "Name of the task's existing IAM task role; the module attaches the CloudWatch and X-Ray write policy to it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.task_role_name))
    error_message = "task_role_name must be an IAM role name (1-64 characters of letters, digits and +=,.@_-), not an ARN."
  }
}

variable "execution_role_name" {
  description = "Name of the task's existing IAM task execution role; the module attaches the password read and container log write policy to it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.execution_role_name))
    error_message = "execution_role_name must be an IAM role name (1-64 characters of letters, digits and +=,.@_-), not an ARN."
  }
}

variable "interval" {
  description = "Time between collection cycles."
  type        = string
  default     = "60s"

  validation {
    condition     = can(regex("^[1-9][0-9]*(ms|s|m|h)$", var.interval))
    error_message = "interval must be a positive whole number followed by ms, s, m or h, e.g. \"60s\" or \"5m\"."
  }
}

variable "cpu" {
  description = "CPU units reserved for the container (1024 = one vCPU)."
  type        = number
  default     = 64

  validation {
    condition     = var.cpu >= 0 && var.cpu <= 10240 && floor(var.cpu) == var.cpu
    error_message = "cpu must be a whole number of CPU units between 0 and 10240, e.g. 64."
  }
}

variable "memory" {
  description = "Hard memory limit of the container in MiB; the container is killed above it. The collector uses about 14 MiB when it ships metrics only."
  type        = number
  default     = 128

  validation {
    condition     = var.memory >= 6 && floor(var.memory) == var.memory
    error_message = "memory must be a whole number of MiB, at least 6 (the ECS minimum), e.g. 128."
  }
}

variable "memory_reservation" {
  description = "Soft memory limit of the container in MiB, what ECS reserves for it when placing the task. Must not exceed memory."
  type        = number
  default     = 32

  validation {
    condition     = var.memory_reservation >= 6 && floor(var.memory_reservation) == var.memory_reservation
    error_message = "memory_reservation must be a whole number of MiB, at least 6 (the ECS minimum), e.g. 32."
  }
}

variable "log_retention_days" {
  description = "Retention of the container log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "kms_key_arn" {
  description = "ARN of a KMS key that encrypts the container log group; its policy must let logs.<region>.amazonaws.com use it. null creates a key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null (a key is created) or a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (CloudWatch Logs takes no alias)."
  }
}

variable "xray_daemon" {
  description = "IP:port of an X-Ray daemon or ADOT collector in the same task (e.g. \"127.0.0.1:2000\" in awsvpc mode); null makes the collector call the X-Ray API itself."
  type        = string
  default     = null

  validation {
    condition     = var.xray_daemon == null || can(regex("^([0-9]{1,3}(\\.[0-9]{1,3}){3}|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}$", var.xray_daemon))
    error_message = "xray_daemon must be null or an IP address and port such as \"127.0.0.1:2000\" or \"[::1]:2000\" (the collector takes no host name here)."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource the module creates."
  type        = map(string)
  default     = {}
}
