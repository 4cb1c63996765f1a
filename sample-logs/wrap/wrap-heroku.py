#!/usr/bin/env python3
"""Heroku Postgres logs, made from the primary's real stderr log.

Heroku's server logs to syslog, which numbers each message's lines as
chunks [N-1], [N-2], ... (N counts the messages of each process), and
logplex delivers them as the database's dyno `postgres.PID`:

- heroku.log: as `heroku logs -p postgres` prints them,
  `TIME app[postgres.PID]: [DATABASE] [N-M] LINE`;
- heroku-drain.log: as a log drain receives them, RFC 5424 syslog framed
  with its octet count, `LEN <134>1 TIME host app postgres.PID - [DATABASE] [N-M] LINE`.

Heroku's own log_line_prefix (`sql_error_code = %e ...`) differs; the
primary's is kept, which prefix detection reads the same way."""

import collections

import envelope as env

ATTACHMENT = "DATABASE"


def chunks():
    """(time, pid, "[N-M] line") for every line, numbered per process."""
    seq = collections.Counter()
    for text, time, pid in env.messages(env.sample("primary/postgresql.log")):
        seq[pid] += 1
        for m, line in enumerate(text.split("\n"), start=1):
            yield time, pid, f"[{ATTACHMENT}] [{seq[pid]}-{m}] {line}"


def cli():
    for time, pid, body in chunks():
        yield f"{env.iso(time, 6, z=False)} app[postgres.{pid}]: {body}"


def drain():
    for time, pid, body in chunks():
        msg = f"<134>1 {env.iso(time, 6, z=False)} host app postgres.{pid} - {body}"
        yield f"{len(msg.encode())} {msg}"


env.write("heroku.log", cli())
env.write("heroku-drain.log", drain())
