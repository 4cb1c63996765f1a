"""Helpers shared by the wrap-*.py scripts: read a real server log and
write an envelope file. Nothing here makes up a log line; every line
written comes from the sample log, wrapped."""

import datetime
import gzip
import os
import re
import sys
from zoneinfo import ZoneInfo

SAMPLES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(SAMPLES, "wrapped")

# `%m`/`%t` as the sample servers write them, then `[%p]` somewhere after.
PG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) (\S+?)(?=[ :]|$)")
PID = re.compile(r"\[(\d+)\]")
# The zones the sample servers log in (`log_timezone`).
ZONES = {"UTC": datetime.timezone.utc, "CET": ZoneInfo("Europe/Berlin"),
         "CEST": ZoneInfo("Europe/Berlin")}


def sample(rel):
    return os.path.join(SAMPLES, rel)


def pg_time(line):
    """The time a stderr line starts with, as an aware datetime, or None."""
    m = PG_TIME.match(line)
    if not m:
        return None
    naive = datetime.datetime.fromisoformat(m.group(1))
    return naive.replace(tzinfo=ZONES[m.group(2)]).astimezone(datetime.timezone.utc)


def line_pid(line):
    m = PID.search(line)
    return int(m.group(1)) if m else None


def physical_lines(path):
    """The lines of a stderr log, without their newlines, each with the
    time and pid of the message it belongs to (continuation lines have
    neither of their own)."""
    time, pid = None, None
    with open(path, encoding="utf-8", newline="\n") as f:
        for raw in f:
            line = raw[:-1] if raw.endswith("\n") else raw
            t = pg_time(line)
            if t is not None:
                time, pid = t, line_pid(line)
            yield line, time, pid


def messages(path):
    """A stderr log cut into messages as a multi-line-aware log agent cuts
    it: a line with a timestamp and the continuation lines after it."""
    current = None
    for line, time, pid in physical_lines(path):
        if pg_time(line) is not None or current is None:
            if current is not None:
                yield current
            current = (line, time, pid)
        else:
            current = (current[0] + "\n" + line, current[1], current[2])
    if current is not None:
        yield current


def iso(t, digits=6, z=True):
    """RFC 3339 in UTC with `digits` fractional digits."""
    frac = f"{t.microsecond:06d}".ljust(9, "0")[:digits]
    base = t.strftime("%Y-%m-%dT%H:%M:%S") + ("." + frac if digits else "")
    return base + ("Z" if z else "+00:00")


def write(name, lines):
    """Writes `lines` (strings without newlines) gzip-compressed to
    wrapped/NAME.gz, reproducibly (no time stamp in the gzip header)."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".gz")
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            for line in lines:
                gz.write(line.encode("utf-8", "surrogateescape") + b"\n")
    print(f"wrote {os.path.relpath(path, SAMPLES)}", file=sys.stderr)
