#!/usr/bin/env python3
"""The CRI container log format (containerd, CRI-O: /var/log/pods/...),
made from the primary's real stderr log: `TIME stderr F LINE`. A line
longer than the runtime's max_container_log_line_size is written in
pieces tagged `P` and a last piece tagged `F`. The runtime's limit is
configurable (16 KiB by default); it is set to 200 bytes here so that the
sample has split lines."""

import envelope as env

MAX_LINE = 200


def lines():
    for line, time, _ in env.physical_lines(env.sample("primary/postgresql.log")):
        data = line.encode("utf-8")
        stamp = env.iso(time, 9)
        # Cut in bytes, as the runtime cuts: a piece may end inside a
        # character, which the joined pieces make whole again.
        while len(data) > MAX_LINE:
            piece, data = data[:MAX_LINE], data[MAX_LINE:]
            yield f"{stamp} stderr P {piece.decode('utf-8', 'surrogateescape')}"
        yield f"{stamp} stderr F {data.decode('utf-8', 'surrogateescape')}"


env.write("cri.log", lines())
