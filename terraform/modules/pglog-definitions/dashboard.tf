# The dashboard body, built from the layout `pglog dashboard --layout` prints
# (generated from the collector's catalogue; a test keeps the file current
# and this body equal to `pglog dashboard` output).
locals {
  layout = jsondecode(file("${path.module}/dashboard-layout.json"))

  widgets = flatten([
    for row, inst in var.instances : concat(
      [{
        type   = "text"
        x      = 0
        y      = row * local.layout.row_height
        width  = 24
        height = local.layout.header_height
        properties = {
          markdown = "## ${inst.name} · ${inst.role}"
        }
      }],
      [
        for p in local.layout.panels : {
          type   = "metric"
          x      = p.x
          y      = row * local.layout.row_height + p.y
          width  = p.width
          height = p.height
          properties = merge(
            {
              title   = p.title
              region  = var.region
              view    = "timeSeries"
              stacked = p.stacked
              period  = p.period
              metrics = [
                for j, s in p.series : [{
                  # SEARCH of the metric's exact dimension set on the
                  # instance: the series follow a failover (the Role value
                  # changes) and every State, Standby or SQLSTATE class
                  # appears without being listed.
                  expression = format("SEARCH('{\"%s\",%s} MetricName=\"%s\" DBInstance=\"%s\"', '%s', %d)", var.namespace, join(",", s.dimensions), s.metric, inst.name, s.stat, p.period)
                  id         = "e${j + 1}"
                  label      = s.label
                  period     = p.period
                }]
              ]
              yAxis = { left = { min = 0, label = p.y_label, showUnits = false } }
            },
            length(p.annotations) == 0 ? {} : {
              annotations = { horizontal = [for a in p.annotations : { label = a.label, value = a.value }] }
            },
          )
        }
      ],
    )
  ])

  dashboard_body = jsonencode({ start = local.layout.start, widgets = local.widgets })
}

check "layout_version" {
  assert {
    condition     = local.layout.version == 1
    error_message = "dashboard-layout.json has layout version ${local.layout.version}; this module reads version 1. Regenerate it with the matching pglog: pglog dashboard --layout > dashboard-layout.json"
  }
}
