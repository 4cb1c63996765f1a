#!/usr/bin/env python3
"""The CRI container log format (containerd, CRI-O: /var/log/pods/...),
made from the primary's real stderr log: `TIME stderr F LINE`. A line
longer than the runtime's max_container_log_line_size is written in
pieces tagged `P` and a last piece tagged `F`. The runtime's limit is
configurable (16 KiB by default); it is set to 200 bytes here so that the
sample has split lines.

- cri.log: the primary's stderr lines;
- cri-cnpg.log: the CloudNativePG lines of wrap-cnpg.py, as the node keeps
  the pod's log (/var/log/pods/NS_POD_UID/postgres/0.log), on stdout."""

import importlib
import sys

import envelope as env

MAX_LINE = 200


def split(stream, stamp, line):
    """The runtime's lines for one line the container wrote."""
    data = line.encode("utf-8")
    # Cut in bytes, as the runtime cuts: a piece may end inside a
    # character, which the joined pieces make whole again.
    while len(data) > MAX_LINE:
        piece, data = data[:MAX_LINE], data[MAX_LINE:]
        yield f"{stamp} {stream} P {piece.decode('utf-8', 'surrogateescape')}"
    yield f"{stamp} {stream} F {data.decode('utf-8', 'surrogateescape')}"


def lines():
    for line, time, _ in env.physical_lines(env.sample("primary/postgresql.log")):
        yield from split("stderr", env.iso(time, 9), line)


def cnpg_lines():
    sys.dont_write_bytecode = True
    cnpg = importlib.import_module("wrap-cnpg")
    for line in cnpg.lines():
        # The instance manager's own time: the record's, here.
        stamp = line.split('"ts":"', 1)[1].split('"', 1)[0]
        yield from split("stdout", stamp, line)


env.write("cri.log", lines())
env.write("cri-cnpg.log", cnpg_lines())
