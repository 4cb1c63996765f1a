#!/usr/bin/env python3
"""Independent count of a csvlog, for checking pglog's numbers.

Usage: count.py postgresql.csv   (prints JSON)
       count.py --all sample-logs  (each instance; what expected-counts.json holds)

Python's csv module and plain string tests, nothing shared with pglog.
"""
import collections
import csv
import json
import re
import sys

SEVERITY, SQLSTATE, MESSAGE, PID = 11, 12, 13, 3


def count(path):
    c = collections.Counter()
    severities = collections.Counter()
    sqlstates = collections.Counter()
    pending = {}  # pid -> statement text logged by log_statement
    temp_bytes = 0
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            c["records"] += 1
            sev, code, msg, pid = row[SEVERITY], row[SQLSTATE], row[MESSAGE], row[PID]
            severities[sev] += 1
            if sev in ("ERROR", "FATAL", "PANIC"):
                sqlstates[code] += 1
            head = msg.split("\n", 1)[0]
            if head.startswith("duration: "):
                if "  plan:" in head:
                    c["plans"] += 1
                elif "  statement: " in head or "  execute " in head:
                    c["queries"] += 1
                elif re.fullmatch(r"duration: [0-9.]+ ms", head) and pending.pop(pid, None):
                    c["queries"] += 1
            elif head.startswith("statement: ") or re.match(r"execute [^ ]+: ", head):
                pending[pid] = head
            starts = {
                "checkpoint": ("checkpoint starting:",),
                "restartpoint": ("restartpoint starting:",),
                "autovacuum": ("automatic vacuum of table", "automatic aggressive vacuum"),
                "autoanalyze": ("automatic analyze of table",),
                "connection": ("connection authorized:", "replication connection authorized:"),
                "disconnection": ("disconnection:",),
            }
            for key, prefixes in starts.items():
                if head.startswith(prefixes):
                    c[key] += 1
            m = re.match(r'temporary file: path ".*", size (\d+)$', head)
            if m:
                c["temp_file"] += 1
                temp_bytes += int(m.group(1))
            if sev == "ERROR" and head == "deadlock detected":
                c["deadlock"] += 1
            if " still waiting for " in head:
                c["lock_wait"] += 1
            if sev == "FATAL" and code.startswith("28"):
                c["auth_failure"] += 1
    events = ["checkpoint", "restartpoint", "autovacuum", "autoanalyze", "temp_file", "deadlock",
              "lock_wait", "connection", "disconnection", "auth_failure"]
    return {
        "records": c["records"],
        "queries": c["queries"],
        "plans": c["plans"],
        "severities": dict(sorted(severities.items())),
        "sqlstates": dict(sorted(sqlstates.items())),
        "temp_file_bytes": temp_bytes,
        "events": {k: c[k] for k in events},
    }


if __name__ == "__main__":
    if sys.argv[1] == "--all":
        # count.py --all DIR: every instance folder's csvlog.
        print(json.dumps({i: count(f"{sys.argv[2]}/{i}/postgresql.csv") for i in ("primary", "replica", "rds")}, indent=1))
    else:
        print(json.dumps(count(sys.argv[1]), indent=1))
