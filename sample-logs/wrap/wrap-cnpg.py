#!/usr/bin/env python3
"""CloudNativePG's JSON log lines, made from the primary's real csvlog.

CloudNativePG runs the server with log_destination = csvlog into a pipe
its instance manager reads; the manager writes each row as one JSON line
on its own stdout: {"level":"info","ts":...,"logger":"postgres",
"msg":"record","logging_pod":POD,"record":{csvlog columns by name}},
every column value a string (empty when the column is empty)."""

import csv
import json

import envelope as env

POD = "cluster-example-1"
# The csvlog columns of PostgreSQL 15, named as CloudNativePG's
# logpipe record names them.
COLUMNS = [
    "log_time", "user_name", "database_name", "process_id", "connection_from",
    "session_id", "session_line_num", "command_tag", "session_start_time",
    "virtual_transaction_id", "transaction_id", "error_severity",
    "sql_state_code", "message", "detail", "hint", "internal_query",
    "internal_query_pos", "context", "query", "query_pos", "location",
    "application_name", "backend_type", "leader_pid", "query_id",
]


def lines():
    with open(env.sample("primary/postgresql.csv"), encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            record = dict(zip(COLUMNS, row))
            ts = env.pg_time(record["log_time"])
            yield json.dumps({
                "level": "info",
                "ts": env.iso(ts, 6),
                "logger": "postgres",
                "msg": "record",
                "logging_pod": POD,
                "record": record,
            }, separators=(",", ":"))


if __name__ == "__main__":
    env.write("cnpg.json", lines())
