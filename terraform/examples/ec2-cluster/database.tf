# PostgreSQL 16 primary and streaming standbys on Amazon Linux 2023 arm64.

data "aws_ssm_parameter" "al2023_arm64" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
}

locals {
  pg_data_dir = "/var/lib/pgsql/data"

  # A fixed address: a replaced primary comes back where the standbys look for
  # it. It lies in a reserved block AWS never hands out by itself.
  primary_reserved_cidr = cidrsubnet(aws_subnet.private[0].cidr_block, 5, 1)
  primary_ip            = cidrhost(local.primary_reserved_cidr, 2)

  # Standby N goes to AZ N (wrapping around, skipping the primary's AZ when there are enough).
  standbys = {
    for i, n in local.standby_names : n => {
      slot     = "standby_${i + 1}"
      az_index = length(local.azs) > 1 ? 1 + (i % (length(local.azs) - 1)) : 0
    }
  }

  hosts = merge(
    { (local.primary_name) = { role = "primary", az_index = 0 } },
    { for n, s in local.standbys : n => { role = "standby", az_index = s.az_index } },
  )

  # A quarter of the data volume: the most WAL a lagging slot may pin.
  max_slot_wal_keep_size_gb = max(1, floor(var.data_volume_size_gb / 4))

  # Marks the end of each embedded script in the boot script (see user-data.sh.tftpl).
  part_delimiter = "__PGLOG_USER_DATA_PART_END__"
}

resource "aws_ec2_subnet_cidr_reservation" "primary" {
  subnet_id        = aws_subnet.private[0].id
  cidr_block       = local.primary_reserved_cidr
  reservation_type = "explicit"
  description      = "Fixed address of ${local.primary_name}"
}

# --- Security group ---------------------------------------------------------------

resource "aws_security_group" "db" {
  name        = "${var.name}-postgresql"
  description = "PostgreSQL hosts: 5432 within the group and from the applications, HTTPS to the VPC endpoints"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "PostgreSQL and streaming replication between the hosts"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    self        = true
  }

  dynamic "ingress" {
    for_each = length(var.app_cidr_blocks) > 0 ? [1] : []
    content {
      description = "PostgreSQL from the applications"
      from_port   = 5432
      to_port     = 5432
      protocol    = "tcp"
      cidr_blocks = var.app_cidr_blocks
    }
  }

  egress {
    description = "HTTPS to the interface VPC endpoints"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description     = "HTTPS to S3 through the gateway endpoint (packages, pglog binary, reports)"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    prefix_list_ids = [aws_vpc_endpoint.s3.prefix_list_id]
  }

  egress {
    description = "PostgreSQL and streaming replication between the hosts"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    self        = true
  }

  tags = merge(var.tags, { Name = "${var.name}-postgresql" })
}

# --- Replication password ---------------------------------------------------------

resource "random_password" "replicator" {
  length = 32
  # No quotes, spaces, ':' or '\': safe in .pgpass files and conninfo strings.
  override_special = "!#%*+,.=?@^_~-"
  min_lower        = 4
  min_upper        = 4
  min_numeric      = 4
}

resource "aws_ssm_parameter" "replicator_password" {
  name        = "/pglog/${var.name}/replicator-password"
  description = "Password of the PostgreSQL replicator role (streaming replication) of ${var.name}"
  type        = "SecureString"
  key_id      = module.infra_key.arn
  value       = random_password.replicator.result

  tags = var.tags
}

# A standby reads the replication password at boot (the primary too, to set
# it). The collector module's role is the hosts' role, and already reads the
# monitoring password.
data "aws_iam_policy_document" "hosts_boot" {
  statement {
    sid       = "ReadReplicationPassword"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.replicator_password.arn]
  }

  statement {
    sid       = "DecryptReplicationPassword"
    actions   = ["kms:Decrypt"]
    resources = [module.infra_key.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = [aws_ssm_parameter.replicator_password.arn]
    }
  }
}

resource "aws_iam_role_policy" "hosts_boot" {
  name   = "read-replication-password"
  role   = module.collector.role_name
  policy = data.aws_iam_policy_document.hosts_boot.json
}

# --- Data volumes -------------------------------------------------------------------

# Separate from the instances: a replaced instance gets its data back.
resource "aws_ebs_volume" "data" {
  for_each = local.hosts

  availability_zone = local.azs[each.value.az_index]
  type              = "gp3"
  size              = var.data_volume_size_gb
  iops              = 3000
  throughput        = 125
  encrypted         = true
  kms_key_id        = module.infra_key.arn

  tags = merge(var.tags, { Name = "${each.key}-pgdata", DBInstance = each.key })
}

resource "aws_volume_attachment" "data" {
  for_each = local.hosts

  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data[each.key].id
  instance_id = aws_instance.db[each.key].id
  # Stop the host first so PostgreSQL shuts down cleanly before the disk goes.
  stop_instance_before_detaching = true
}

# --- User data ----------------------------------------------------------------------

locals {
  postgresql_setup = {
    for n, h in local.hosts : n => templatefile("${path.module}/postgresql-setup.sh.tftpl", {
      role                          = h.role
      instance_name                 = n
      region                        = var.region
      data_volume_id                = aws_ebs_volume.data[n].id
      data_dir                      = local.pg_data_dir
      vpc_cidr                      = var.vpc_cidr
      app_cidr_blocks               = var.app_cidr_blocks
      primary_ip                    = local.primary_ip
      standby_slots                 = [for s in values(local.standbys) : s.slot]
      slot                          = h.role == "standby" ? local.standbys[n].slot : ""
      replicator_parameter          = aws_ssm_parameter.replicator_password.name
      monitor_parameter             = module.collector.password_parameter_name
      monitor_user                  = local.monitor_user
      log_min_duration_statement_ms = var.log_min_duration_statement_ms
      auto_explain_min_duration_ms  = var.auto_explain_min_duration_ms
      max_slot_wal_keep_size_gb     = local.max_slot_wal_keep_size_gb
    })
  }

  user_data_parts = {
    for n, h in local.hosts : n => concat(
      [
        { file = "10-postgresql.sh", content = local.postgresql_setup[n] },
        { file = "20-pglog-collector.sh", content = module.collector.user_data[n] },
      ],
      h.role == "primary" ? [{ file = "30-pglog-nightly-report.sh", content = module.nightly_report.user_data }] : [],
    )
  }

  # gzip, then base64: EC2 caps user data at 16 KiB before base64, and the
  # primary's three scripts are about 22 KB of text (8 KB gzipped).
  # cloud-init recognises gzip and unpacks it by itself.
  user_data_base64 = {
    for n, parts in local.user_data_parts : n => base64gzip(templatefile("${path.module}/user-data.sh.tftpl", {
      instance_name = n
      delimiter     = local.part_delimiter
      parts         = parts
    }))
  }
}

# --- Instances ------------------------------------------------------------------------

# The primary and the standbys alike. The standbys need not wait for the
# primary: their boot script waits up to 20 minutes for it to accept
# connections, far longer than the primary's own boot takes.
resource "aws_instance" "db" {
  for_each = local.hosts

  ami           = data.aws_ssm_parameter.al2023_arm64.insecure_value
  instance_type = var.instance_type
  subnet_id     = aws_subnet.private[each.value.az_index].id
  # The primary at its fixed address; the standbys wherever AWS puts them.
  private_ip                  = each.value.role == "primary" ? local.primary_ip : null
  vpc_security_group_ids      = [aws_security_group.db.id]
  associate_public_ip_address = false
  iam_instance_profile        = module.collector.instance_profile_name
  monitoring                  = true
  ebs_optimized               = true

  user_data_base64            = local.user_data_base64[each.key]
  user_data_replace_on_change = false

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    kms_key_id            = module.infra_key.arn
    delete_on_termination = true
    # Not volume_tags: those would also overwrite the attached data volume's tags.
    tags = merge(var.tags, { Name = "${each.key}-root", DBInstance = each.key })
  }

  tags = merge(var.tags, { Name = each.key, DBInstance = each.key, Role = each.value.role })

  lifecycle {
    # A newer AMI or boot script must not replace a database host behind
    # one's back (cloud-init runs the boot script once per instance anyway).
    # Roll them out with `terraform apply -replace='aws_instance.db["NAME"]'`.
    ignore_changes = [ami, user_data_base64]

    precondition {
      condition     = length(local.user_data_base64[each.key]) <= 21848
      error_message = "The compressed user data of ${each.key} is over EC2's 16 KiB limit; shorten the boot scripts."
    }
    precondition {
      condition     = alltrue([for p in local.user_data_parts[each.key] : !strcontains(p.content, local.part_delimiter)])
      error_message = "A boot script contains the line ${local.part_delimiter}, which ends the embedded scripts in user-data.sh.tftpl; change the delimiter."
    }
  }

  # The boot script needs the endpoints, the routes to S3 and its role's
  # policies. The reservation keeps AWS from giving the primary's address to
  # another host first.
  depends_on = [
    aws_ec2_subnet_cidr_reservation.primary,
    aws_vpc_endpoint.interface,
    aws_vpc_endpoint.s3,
    aws_route_table_association.private,
    aws_iam_role_policy.hosts_boot,
    aws_iam_role_policy_attachment.ssm_core,
    module.collector,
    module.nightly_report,
  ]
}
