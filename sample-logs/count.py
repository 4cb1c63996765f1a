#!/usr/bin/env python3
"""Independent count of a csvlog, for checking pglog's numbers.

Usage: count.py postgresql.csv   (prints JSON)
       count.py --all sample-logs  (each instance; what expected-counts.json holds)
       count.py postgresql.csv [--begin T] [--end T] [--since-ms N] [--database GLOB] ...
           the same counts over the records pglog analyze keeps with those
           flags (--user, --application, --host and the --exclude-* forms,
           --query REGEX; --without-leader-pid 1 for a stderr copy whose
           prefix has no %P, where parallel workers name no leader and %q leaves
           out their names; --whole-seconds 1 for one whose %t has no
           milliseconds), plus "filtered" (the rest) and "span" (the first
           and last record's wall-clock time and zone offset).

Python's csv module and plain string tests, nothing shared with pglog.
"""
import collections
import csv
import datetime
import fnmatch
import json
import re
import sys

SEVERITY, SQLSTATE, MESSAGE, PID = 11, 12, 13, 3
TIME, USER, DATABASE, HOST, QUERY, APPLICATION, LEADER = 0, 1, 2, 4, 19, 22, 24
ZONES = {"UTC": 0, "GMT": 0, "CET": 60, "CEST": 120}
NAMES = ("database", "user", "application", "host")


# --whole-seconds: for a stderr copy whose %t prints no milliseconds.
whole_seconds = [False]


def wall_and_offset(stamp):
    """`2026-12-01 01:03:23.140 CET` -> ("2026-12-01 01:03:23.140", 60)."""
    wall, zone = stamp.rsplit(" ", 1)
    if whole_seconds[0]:
        wall = wall[:19] + ".000"
    return wall, ZONES[zone]


def utc_ms(stamp):
    return wall_utc_ms(*wall_and_offset(stamp))


def wall_utc_ms(wall, offset):
    t = datetime.datetime.strptime(wall, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return round(t.timestamp() * 1000) - offset * 60_000


def in_window(stamp, bound):
    """The record's key for `bound`: UTC ms for `...Z`, its wall clock for a
    date without zone, its wall-clock time of day for a time alone."""
    if bound.endswith("Z"):
        return utc_ms(stamp), wall_utc_ms(bound[:-1].replace("T", " "), 0)
    wall, _ = wall_and_offset(stamp)
    if len(bound) <= 12:
        return wall[11:], bound
    return wall, bound


def statement_text(row, pending_text):
    """The statement a record is about (see pglog's README, --query)."""
    msg, pid = row[MESSAGE], row[PID]
    body = msg
    m = re.match(r"duration: [0-9.]+ ms(  )?", msg)
    if m:
        body = msg[m.end():]
        if not m.group(1):
            return pending_text.pop(pid, None) or row[QUERY] or None
    if body.startswith("statement: "):
        text = body[len("statement: "):]
    elif re.match(r"(execute|parse|bind) ", body):
        text = body.split(": ", 1)[1]
    elif body.startswith("plan:"):
        text = plan_query_text(body[len("plan:"):].lstrip())
    else:
        return row[QUERY] or None
    if not m and pid:
        pending_text[pid] = text
    return text or row[QUERY] or None


def plan_query_text(plan):
    if plan.startswith("{"):
        return json.loads(plan).get("Query Text")
    if not plan.startswith("Query Text: "):
        return None
    lines = plan[len("Query Text: "):].split("\n")
    for i, line in enumerate(lines):
        if i > 0 and not line.startswith(" ") and ("  (cost=" in line or "  (actual time=" in line):
            return "\n".join(lines[:i])
    return "\n".join(lines)


# --without-leader-pid: for a stderr copy whose prefix has no %P.
flags_without_leader = [False]


def names_of(row, sessions):
    """database, user, application, host; parallel workers take their
    leader's, autovacuum its table's database."""
    user, db, app, host, pid = row[USER], row[DATABASE], row[APPLICATION], row[HOST], row[PID]
    host = host.rsplit(":", 1)[0] if host and not host.startswith("[") else host
    if user or db:
        old = sessions.get(pid, {})
        sessions[pid] = {"user": user, "database": db, "host": host,
                         "application": app or old.get("application", "")}
    elif row[LEADER] and flags_without_leader[0]:
        # %q ends the prefix of processes without a client: no names at all.
        user = db = app = host = ""
    elif row[LEADER] and row[LEADER] in sessions:
        leader = sessions[row[LEADER]]
        user, db = leader["user"], leader["database"]
        app = app or leader["application"]
        host = host or leader["host"]
    m = re.match(r'automatic (aggressive )?(vacuum|analyze) .*of table "([^".]*)[."]', row[MESSAGE])
    if not db and m:
        db = m.group(3)
    return {"database": db, "user": user, "application": app, "host": host}


def keeps(flags, row, names, text):
    stamp = row[TIME]
    if "begin" in flags:
        key, bound = in_window(stamp, flags["begin"])
        if key < bound:
            return False
    if "end" in flags:
        key, bound = in_window(stamp, flags["end"])
        if key >= bound:
            return False
    if "since_from" in flags and utc_ms(stamp) < flags["since_from"]:
        return False
    for name in NAMES:
        value = names[name]
        inc, exc = flags.get(name, []), flags.get("exclude_" + name, [])
        if inc and not (value and any(fnmatch.fnmatchcase(value, g) for g in inc)):
            return False
        if value and any(fnmatch.fnmatchcase(value, g) for g in exc):
            return False
    if "query" in flags and not (text and re.search(flags["query"], text)):
        return False
    return True


def count(path, flags=None):
    c = collections.Counter()
    severities = collections.Counter()
    sqlstates = collections.Counter()
    pending = {}  # pid -> statement text logged by log_statement
    temp_bytes = 0
    sessions, pending_text, span = {}, {}, []
    rows = []
    if flags and "since_ms" in flags:
        with open(path, newline="", encoding="utf-8") as f:
            last = max(utc_ms(row[TIME]) for row in csv.reader(f))
        flags["since_from"] = last - flags["since_ms"]
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            sev, code, msg, pid = row[SEVERITY], row[SQLSTATE], row[MESSAGE], row[PID]
            head = msg.split("\n", 1)[0]
            # Statement text waits for its duration line whether or not
            # either record is kept.
            query = False
            if head.startswith("duration: "):
                if "  plan:" in head:
                    pass
                elif "  statement: " in head or "  execute " in head:
                    query = True
                elif re.fullmatch(r"duration: [0-9.]+ ms", head) and pending.pop(pid, None):
                    query = True
            elif head.startswith("statement: ") or re.match(r"execute [^ ]+: ", head):
                pending[pid] = head
            if flags is not None:
                span.append(wall_and_offset(row[TIME]))
                names = names_of(row, sessions)
                text = statement_text(row, pending_text) if "query" in flags else None
                if head.startswith("disconnection:"):
                    sessions.pop(pid, None)
                    pending_text.pop(pid, None)
                if not keeps(flags, row, names, text):
                    c["filtered"] += 1
                    continue
            c["records"] += 1
            severities[sev] += 1
            if sev in ("ERROR", "FATAL", "PANIC"):
                sqlstates[code] += 1
            if head.startswith("duration: "):
                if "  plan:" in head:
                    c["plans"] += 1
                elif query:
                    c["queries"] += 1
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
    extra = {}
    if flags is not None:
        extra = {"filtered": c["filtered"], "span": [min(span), max(span)]}
    return {
        "records": c["records"],
        "queries": c["queries"],
        "plans": c["plans"],
        "severities": dict(sorted(severities.items())),
        "sqlstates": dict(sorted(sqlstates.items())),
        "temp_file_bytes": temp_bytes,
        "events": {k: c[k] for k in events},
        **extra,
    }


if __name__ == "__main__":
    if sys.argv[1] == "--all":
        # count.py --all DIR: every instance folder's csvlog.
        print(json.dumps({i: count(f"{sys.argv[2]}/{i}/postgresql.csv") for i in ("primary", "replica", "rds")}, indent=1))
    elif len(sys.argv) == 2:
        print(json.dumps(count(sys.argv[1]), indent=1))
    else:
        flags, args = {}, sys.argv[2:]
        for flag, value in zip(args[::2], args[1::2]):
            key = flag[2:].replace("-", "_")
            if key in NAMES or key.startswith("exclude_"):
                flags.setdefault(key, []).append(value)
            elif key == "without_leader_pid":
                flags_without_leader[0] = True
            elif key == "whole_seconds":
                whole_seconds[0] = True
            elif key == "since_ms":
                flags[key] = int(value)
            else:
                flags[key] = value
        print(json.dumps(count(sys.argv[1], flags), indent=1))
