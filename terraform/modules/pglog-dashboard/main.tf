data "aws_region" "current" {}

# Names, validation and the body come from the provider-free module, which
# is tested offline.
module "definitions" {
  source = "../pglog-definitions"

  name      = var.name
  namespace = var.namespace
  region    = data.aws_region.current.name
  instances = var.instances
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = module.definitions.names.dashboard
  dashboard_body = coalesce(var.dashboard_body, module.definitions.dashboard_body)
}
