#!/usr/bin/env python3
"""The systemd journal of a server run as a systemd service without the
logging collector (stderr goes to journald, which stores it line by line),
made from the primary's real stderr log, as journalctl prints it:

- journald.log: `journalctl -o short-iso`: `TIME HOST postgres[PID]: LINE`;
- journald.json: `journalctl -o json`: one entry per line; MESSAGE is a
  string, or an array of byte values when it is not UTF-8 or holds control
  characters other than tab and newline (as journalctl writes it).

Every line of the service's stderr stream carries the postmaster's pid
(_PID); the backend's pid is in the line's own prefix."""

import json

import envelope as env

HOST = "pghost"
UNIT = "postgresql@15-main.service"
BOOT = "0123456789abcdef0123456789abcdef"


def postmaster_lines():
    """The lines with the pid of the postmaster that wrote them."""
    postmaster = None
    for line, time, pid in env.physical_lines(env.sample("primary/postgresql.log")):
        if "LOG:  starting PostgreSQL" in line or postmaster is None:
            postmaster = pid
        yield line, time, postmaster


def short_iso():
    for line, time, pid in postmaster_lines():
        yield f"{time.strftime('%Y-%m-%dT%H:%M:%S+0000')} {HOST} postgres[{pid}]: {line}"


def printable(text):
    return all(c in "\t\n" or (ord(c) >= 32 and not 0x7f <= ord(c) <= 0x9f) for c in text)


def entries():
    for n, (line, time, pid) in enumerate(postmaster_lines()):
        us = int(time.timestamp()) * 1_000_000 + time.microsecond
        message = line if printable(line) else list(line.encode("utf-8", "surrogateescape"))
        yield json.dumps({
            "__CURSOR": f"s={BOOT};i={n + 1:x}",
            "__REALTIME_TIMESTAMP": str(us),
            "__MONOTONIC_TIMESTAMP": str(n + 1),
            "_BOOT_ID": BOOT,
            "PRIORITY": "6",
            "_TRANSPORT": "stdout",
            "SYSLOG_FACILITY": "3",
            "SYSLOG_IDENTIFIER": "postgres",
            "_PID": str(pid),
            "_COMM": "postgres",
            "_SYSTEMD_UNIT": UNIT,
            "_HOSTNAME": HOST,
            "MESSAGE": message,
        }, separators=(",", ":"))


env.write("journald.log", short_iso())
env.write("journald.json", entries())
