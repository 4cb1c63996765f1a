# A VPC without any route to the internet: private subnets only, AWS reached
# through VPC endpoints.

# A closed list of zone names: a zone AWS adds later never joins by itself.
data "aws_availability_zones" "pinned" {
  filter {
    name   = "zone-name"
    values = length(var.availability_zones) > 0 ? var.availability_zones : [for s in ["a", "b", "c", "d", "e", "f"] : "${var.region}${s}"]
  }
}

# Not every AZ offers every instance type; pick AZs that offer ours.
data "aws_ec2_instance_type_offerings" "db" {
  location_type = "availability-zone"

  filter {
    name   = "instance-type"
    values = [var.instance_type]
  }
}

locals {
  offered_azs = sort(setintersection(data.aws_availability_zones.pinned.names, data.aws_ec2_instance_type_offerings.db.locations))
  azs = (length(var.availability_zones) > 0
    ? var.availability_zones
    : slice(local.offered_azs, 0, min(var.az_count, length(local.offered_azs)))
  )

  interface_endpoint_services = toset([
    "ssm",         # Session Manager, Parameter Store
    "ssmmessages", # Session Manager channels
    "ec2messages", # SSM agent
    "monitoring",  # CloudWatch metrics (collector)
    "logs",        # CloudWatch Logs (collector log shipping)
    "xray",        # X-Ray segments (collector)
    "kms",
  ])
}

resource "aws_vpc" "this" {
  cidr_block = var.vpc_cidr
  # Both are required for the interface endpoints' private DNS names.
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

# Take every rule off the default security group so nothing lands in it by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-default-unused" })
}

resource "aws_subnet" "private" {
  count = length(local.azs)

  vpc_id                  = aws_vpc.this.id
  availability_zone       = local.azs[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 24 - tonumber(split("/", var.vpc_cidr)[1]), count.index)
  map_public_ip_on_launch = false

  tags = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}", Tier = "private" })

  lifecycle {
    precondition {
      condition     = length(var.availability_zones) > 0 || length(local.offered_azs) >= var.az_count
      error_message = "Only ${length(local.offered_azs)} availability zone(s) of ${var.region} offer ${var.instance_type} (${join(", ", local.offered_azs)}); lower az_count or pick another instance_type."
    }
    precondition {
      condition     = alltrue([for z in var.availability_zones : contains(local.offered_azs, z)])
      error_message = "availability_zones: each zone must exist in ${var.region} and offer ${var.instance_type}; these do: ${join(", ", local.offered_azs)}."
    }
  }
}

# One route table per subnet, with the local route and the S3 gateway only.
resource "aws_route_table" "private" {
  count = length(local.azs)

  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}" })
}

resource "aws_route_table_association" "private" {
  count = length(local.azs)

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# --- VPC endpoints ---------------------------------------------------------------

resource "aws_security_group" "endpoints" {
  name        = "${var.name}-vpc-endpoints"
  description = "Interface VPC endpoints: HTTPS from inside the VPC only"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "HTTPS to the AWS APIs from the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  # No egress rule: endpoints only answer; Terraform removes AWS's default allow-all.

  tags = merge(var.tags, { Name = "${var.name}-vpc-endpoints" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoint_services

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })

  # The endpoints' interfaces must not take the primary's fixed address.
  depends_on = [aws_ec2_subnet_cidr_reservation.primary]
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id
  policy            = data.aws_iam_policy_document.s3_endpoint.json

  tags = merge(var.tags, { Name = "${var.name}-s3" })
}

locals {
  artifact_s3_match  = var.pglog_artifact_s3_uri == null ? null : regex("^s3://([^/]+)/(.+)$", var.pglog_artifact_s3_uri)
  artifact_s3_object = local.artifact_s3_match == null ? [] : ["arn:${local.partition}:s3:::${local.artifact_s3_match[0]}/${local.artifact_s3_match[1]}"]

  # AWS-owned buckets the hosts read: Amazon Linux 2023 packages, and the SSM
  # agent's documents, plugins and updates.
  aws_owned_s3_objects = [
    "arn:${local.partition}:s3:::al2023-repos-${var.region}-de612dc2/*",
    "arn:${local.partition}:s3:::amazon-ssm-${var.region}/*",
    "arn:${local.partition}:s3:::amazon-ssm-packages-${var.region}/*",
    "arn:${local.partition}:s3:::aws-ssm-${var.region}/*",
    "arn:${local.partition}:s3:::aws-ssm-distributor-file-${var.region}/*",
    "arn:${local.partition}:s3:::aws-ssm-document-attachments-${var.region}/*",
    "arn:${local.partition}:s3:::${var.region}-birdwatcher-prod/*",
    "arn:${local.partition}:s3:::patch-baseline-snapshot-${var.region}/*",
  ]
}

# The S3 gateway is the only way out of the VPC to S3: it admits the package
# repositories, the pglog binary and the report uploads, nothing else.
data "aws_iam_policy_document" "s3_endpoint" {
  # Endpoint policies name the caller with the "*" principal; the statements
  # below narrow by resource (and by account for our own buckets).
  statement {
    sid = "ReadAwsOwnedRepositories"
    # dnf fetches the repositories anonymously, so no principal condition here.
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:GetObject"]
    resources = local.aws_owned_s3_objects
  }

  dynamic "statement" {
    for_each = length(local.artifact_s3_object) > 0 ? [1] : []
    content {
      sid = "ReadPglogArtifact"
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      actions   = ["s3:GetObject"]
      resources = local.artifact_s3_object
      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalAccount"
        values   = [local.account_id]
      }
    }
  }

  statement {
    sid = "WriteNightlyReports"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions = [
      "s3:AbortMultipartUpload",
      "s3:PutObject",
    ]
    resources = ["${module.nightly_report.bucket_arn}/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalAccount"
      values   = [local.account_id]
    }
  }
}

# --- VPC flow logs ---------------------------------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = local.flow_log_group_name
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = module.infra_key.arn

  tags = var.tags
}

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    sid     = "VpcFlowLogsService"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:vpc-flow-log/*"]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name_prefix        = "${var.name}-flow-logs-"
  description        = "VPC flow logs of ${var.name} to CloudWatch Logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "flow_logs" {
  # The group exists (Terraform makes it); the service only adds streams and events.
  statement {
    sid = "WriteFlowLogStreams"
    actions = [
      "logs:CreateLogStream",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_logs.arn,
      "${aws_cloudwatch_log_group.flow_logs.arn}:log-stream:*",
    ]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 60

  tags = merge(var.tags, { Name = "${var.name}-vpc" })
}
