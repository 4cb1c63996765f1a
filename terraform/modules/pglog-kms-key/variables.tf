variable "description" {
  description = "Description of the key: what it encrypts."
  type        = string

  validation {
    condition     = length(var.description) > 0 && length(var.description) <= 8192
    error_message = "description must be 1-8192 characters saying what the key encrypts, e.g. \"pglog prod: the shipped PostgreSQL log\"."
  }
}

variable "alias" {
  description = "Alias of the key, the part after alias/ (e.g. NAME-pglog). With alias_is_prefix, a prefix AWS completes with a unique suffix."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_-]{1,250}$", var.alias)) && !startswith(var.alias, "aws/") && !startswith(var.alias, "alias/")
    error_message = "alias must be 1-250 letters, digits, /, _ or -, without the leading \"alias/\" and not starting with \"aws/\" (reserved for AWS managed keys), e.g. \"prod-pglog\"."
  }
}

variable "alias_is_prefix" {
  description = "Treat alias as a prefix (the alias gets a unique suffix), for modules that may be deployed several times under one name."
  type        = bool
  default     = false
  nullable    = false
}

variable "service_grants" {
  description = "Key-policy statements for AWS services, one each: sid, service principal (e.g. logs.eu-west-1.amazonaws.com), kms: actions, and conditions that narrow them (e.g. kms:EncryptionContext:aws:logs:arn)."
  type = list(object({
    sid     = string
    service = string
    actions = list(string)
    conditions = list(object({
      test     = string
      variable = string
      values   = list(string)
    }))
  }))
  default  = []
  nullable = false

  # The tests rely on this: the actions of these statements are not literal
  # in the tree.
  validation {
    condition     = alltrue(flatten([for g in var.service_grants : [for a in g.actions : startswith(a, "kms:") && !strcontains(a, "*")]]))
    error_message = "service_grants: every action must be a single KMS action such as \"kms:Decrypt\" (starting with \"kms:\", no \"*\" wildcards); list them one by one."
  }

  validation {
    condition     = alltrue([for g in var.service_grants : length(g.actions) > 0])
    error_message = "service_grants: every grant needs at least one action, e.g. [\"kms:Decrypt\", \"kms:GenerateDataKey\"]."
  }

  validation {
    condition = alltrue([for g in var.service_grants : can(regex("^[A-Za-z0-9]+$", g.sid)) && g.sid != "AccountAdministers"]) && (
      length(distinct([for g in var.service_grants : g.sid])) == length(var.service_grants)
    )
    error_message = "service_grants: each sid must be unique, letters and digits only, and not \"AccountAdministers\" (the account's statement), e.g. \"LogsEncryptsTheGroup\"."
  }

  validation {
    condition     = alltrue([for g in var.service_grants : can(regex("^[a-z0-9-]+(\\.[a-z0-9-]+)+$", g.service))])
    error_message = "service_grants: service must be a service principal such as \"logs.eu-west-1.amazonaws.com\" or \"cloudwatch.amazonaws.com\"."
  }
}

variable "deletion_window_in_days" {
  description = "Days a key scheduled for deletion can still be recovered (7-30)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number from 7 to 30 (AWS's limits), e.g. 30."
  }
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
