# Every name the deployment modules use, in one place so they agree.
locals {
  names = {
    collector_role     = "${var.name}-collector"
    log_group          = "/pglog/${var.name}/postgresql"
    password_parameter = "/pglog/${var.name}/monitor-password"
    dashboard          = var.name
  }
}
