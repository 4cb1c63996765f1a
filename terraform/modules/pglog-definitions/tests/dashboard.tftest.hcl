# Offline: the module has no provider, so `terraform test` applies it for real.

variables {
  name   = "orders-db"
  region = "eu-west-1"
  instances = [
    { name = "orders-db-primary", role = "primary" },
    { name = "orders-db-standby-1", role = "standby" },
  ]
}

run "one_row_per_instance_with_its_role_in_the_header" {
  command = apply

  assert {
    condition     = length(jsondecode(output.dashboard_body).widgets) == 2 * (1 + length(jsondecode(file("dashboard-layout.json")).panels))
    error_message = "Expected a header and every layout panel for each of the two instances."
  }
  assert {
    condition = [for w in jsondecode(output.dashboard_body).widgets : w.properties.markdown if w.type == "text"] == [
      "## orders-db-primary · primary",
      "## orders-db-standby-1 · standby",
    ]
    error_message = "Row headers must name each instance and mark it primary or standby."
  }
  assert {
    condition     = [for w in jsondecode(output.dashboard_body).widgets : w.y if w.type == "text"] == [0, jsondecode(file("dashboard-layout.json")).row_height]
    error_message = "The second instance's row must start one row height below the first."
  }
}

run "every_metric_is_searched_on_its_own_instance_and_region" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for w in jsondecode(output.dashboard_body).widgets : [
        for m in w.properties.metrics : strcontains(m[0].expression, "DBInstance=\"orders-db-")
      ] if w.type == "metric"
    ]))
    error_message = "Every series must be a SEARCH on one of the instances."
  }
  assert {
    condition     = alltrue([for w in jsondecode(output.dashboard_body).widgets : w.properties.region == "eu-west-1" if w.type == "metric"])
    error_message = "Every metric widget must name the region."
  }
  assert {
    condition = toset(flatten([
      for w in jsondecode(output.dashboard_body).widgets : [
        for m in w.properties.metrics : m[0].expression
      ] if w.type == "metric" && w.y >= jsondecode(file("dashboard-layout.json")).row_height && try(w.properties.title, "") == "Replication lag (seconds)"
      ])) == toset([
      "SEARCH('{\"PgLog\",DBInstance,Role,Standby} MetricName=\"ReplicationLagSeconds\" DBInstance=\"orders-db-standby-1\"', 'Maximum', 60)",
      "SEARCH('{\"PgLog\",DBInstance,Role} MetricName=\"ReplicationLagSeconds\" DBInstance=\"orders-db-standby-1\"', 'Maximum', 60)",
    ])
    error_message = "The standby's lag panel must search both dimension sets of ReplicationLagSeconds (per standby on a primary, its own on a standby)."
  }
}

run "namespace_reaches_every_expression" {
  command = apply

  variables {
    namespace = "Prod/Postgres"
  }

  assert {
    condition     = !strcontains(output.dashboard_body, "{\\\"PgLog\\\",") && strcontains(output.dashboard_body, "{\\\"Prod/Postgres\\\",")
    error_message = "The namespace variable must be used in every SEARCH."
  }
}

run "names_are_derived_from_the_deployment_name" {
  command = apply

  assert {
    condition     = output.names.log_group == "/pglog/orders-db/postgresql" && output.names.collector_role == "orders-db-collector" && output.names.password_parameter == "/pglog/orders-db/monitor-password"
    error_message = "Names must follow the deployment name."
  }
}
