variables {
  name      = "orders-db"
  region    = "eu-west-1"
  instances = [{ name = "pg-a", role = "primary" }]
}

run "role_must_be_primary_or_standby" {
  command = plan
  variables {
    instances = [{ name = "pg-a", role = "leader" }]
  }
  expect_failures = [var.instances]
}

run "instance_names_that_break_search_expressions_are_refused" {
  command = plan
  variables {
    instances = [{ name = "pg'a", role = "primary" }]
  }
  expect_failures = [var.instances]
}

run "duplicate_instances_are_refused" {
  command = plan
  variables {
    instances = [{ name = "pg-a", role = "primary" }, { name = "pg-a", role = "standby" }]
  }
  expect_failures = [var.instances]
}

run "two_primaries_are_refused" {
  command = plan
  variables {
    instances = [{ name = "pg-a", role = "primary" }, { name = "pg-b", role = "primary" }]
  }
  expect_failures = [var.instances]
}

run "no_instances_is_refused" {
  command = plan
  variables {
    instances = []
  }
  expect_failures = [var.instances]
}

run "aws_namespaces_are_reserved" {
  command = plan
  variables {
    namespace = "AWS/RDS"
  }
  expect_failures = [var.namespace]
}

run "name_must_fit_bucket_and_role_names" {
  command = plan
  variables {
    name = "Orders_DB"
  }
  expect_failures = [var.name]
}

run "region_must_be_a_region_code" {
  command = plan
  variables {
    region = "Ireland"
  }
  expect_failures = [var.region]
}

run "wraparound_threshold_must_be_below_the_hard_limit" {
  command = plan
  variables {
    wraparound_age = 2500000000
  }
  expect_failures = [var.wraparound_age]
}
