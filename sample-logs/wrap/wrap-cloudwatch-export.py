#!/usr/bin/env python3
"""CloudWatch Logs exported to S3 by an export task, made from the RDS
sample's real stderr log (written with the RDS log_line_prefix). RDS
publishes each server message as one event of the log group
/aws/rds/instance/NAME/postgresql; an export task writes the events of a
stream to `.../000000.gz`, one per line as `TIME MESSAGE`, TIME being the
event's in UTC with milliseconds. A multi-line message keeps its later
lines as they are."""

import envelope as env


def lines():
    for text, time, _ in env.messages(env.sample("rds/postgresql.log")):
        yield f"{env.iso(time, 3)} {text}"


env.write("cloudwatch-export", lines())
