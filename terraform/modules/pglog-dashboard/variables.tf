variable "name" {
  description = "Deployment name; the dashboard is called this."
  type        = string
}

variable "namespace" {
  description = "CloudWatch namespace the collectors ship to."
  type        = string
  default     = "PgLog"
}

variable "instances" {
  description = "The database hosts in row order: name is the DBInstance dimension, role is primary or standby."
  type = list(object({
    name = string
    role = string
  }))
}

variable "dashboard_body" {
  description = "Dashboard JSON to use instead of the generated one, e.g. the output of `pglog dashboard --namespace NS --region R --instance NAME=ROLE ...` from a newer pglog. Null builds it from the committed layout."
  type        = string
  default     = null

  validation {
    condition     = var.dashboard_body == null || can(jsondecode(var.dashboard_body).widgets)
    error_message = "dashboard_body: a CloudWatch dashboard JSON object with a widgets array, as `pglog dashboard` prints it."
  }
}
