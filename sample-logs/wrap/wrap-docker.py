#!/usr/bin/env python3
"""Docker's json-file log driver (what Kubernetes nodes with dockershim and
`docker logs` keep), made from the primary's real stderr log: each line
the server writes to stderr as {"log":"LINE\\n","stream":"stderr",
"time":RFC3339Nano}. The driver splits lines longer than its 16 KiB
buffer into pieces whose `log` has no newline; no sample line is that
long, so the split is done with Docker's size, for any that would be."""

import json

import envelope as env

BUFFER = 16 * 1024


def lines():
    for line, time, _ in env.physical_lines(env.sample("primary/postgresql.log")):
        data = line + "\n"
        while data:
            piece, data = data[:BUFFER], data[BUFFER:]
            yield json.dumps({"log": piece, "stream": "stderr", "time": env.iso(time, 9)},
                             separators=(",", ":"))


env.write("docker.json", lines())
