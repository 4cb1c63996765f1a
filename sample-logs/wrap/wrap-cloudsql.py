#!/usr/bin/env python3
"""Google Cloud Logging LogEntry lines (one JSON object per line, as a log
sink to Cloud Storage writes them), made from the primary's real logs:

- cloudsql.json: Cloud SQL's form, each server message in `textPayload`
  (logName .../logs/cloudsql.googleapis.com%2Fpostgres.log, resource
  cloudsql_database). Cloud SQL's own log_line_prefix differs; the
  primary's is kept, which prefix detection reads the same way.
- cloudsql-jsonpayload.json: the jsonlog file read by an agent with a JSON
  parser (the Ops Agent's parse_json): the jsonlog fields in `jsonPayload`.
- cloudsql-message.json: the stderr file read line by line by an agent
  without one: each line in `jsonPayload.message`.
- cloudsql-array.json: the entries of cloudsql.json as
  `gcloud logging read --format=json` prints them: one JSON array,
  indented, keys sorted.
"""

import itertools
import json

import envelope as env

PROJECT = "pglog-samples"
INSTANCE = "primary"


CLOUD_SQL = {
    "type": "cloudsql_database",
    "labels": {"database_id": f"{PROJECT}:{INSTANCE}",
               "project_id": PROJECT, "region": "europe-west1"},
}
# A VM whose agent reads the server's log files.
VM = {
    "type": "gce_instance",
    "labels": {"instance_id": "1234567890123456789", "project_id": PROJECT,
               "zone": "europe-west1-b"},
}


def entry(n, time, payload_key, payload, log_id, resource):
    return json.dumps({
        "insertId": f"s{n:08x}",
        "logName": f"projects/{PROJECT}/logs/{log_id}",
        "receiveTimestamp": env.iso(time, 9),
        "resource": resource,
        "severity": "INFO",
        payload_key: payload,
        "timestamp": env.iso(time, 6),
    }, separators=(",", ":"))


def text_payload():
    counter = itertools.count()
    for text, time, _ in env.messages(env.sample("primary/postgresql.log")):
        yield entry(next(counter), time, "textPayload", text,
                    "cloudsql.googleapis.com%2Fpostgres.log", CLOUD_SQL)


def json_payload():
    counter = itertools.count()
    with open(env.sample("primary/postgresql.json"), encoding="utf-8") as f:
        for raw in f:
            fields = json.loads(raw)
            time = env.pg_time(fields["timestamp"])
            yield entry(next(counter), time, "jsonPayload", fields, "postgresql", VM)


def message_payload():
    counter = itertools.count()
    for line, time, _ in env.physical_lines(env.sample("primary/postgresql.log")):
        yield entry(next(counter), time, "jsonPayload", {"message": line}, "postgresql", VM)


env.write("cloudsql.json", text_payload())
env.write("cloudsql-array.json",
          json.dumps([json.loads(e) for e in text_payload()], indent=2, sort_keys=True).split("\n"))
env.write("cloudsql-jsonpayload.json", json_payload())
env.write("cloudsql-message.json", message_payload())
