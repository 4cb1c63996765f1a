#!/usr/bin/env python3
"""Re-times a real server's stderr log to another span, for the chart tests
of long logs: every line's `%m` timestamp (the prefix
`YYYY-MM-DD HH:MM:SS.mmm UTC` at the start of a line) becomes
START + (t - first) * SECONDS / (last - first), so that the log spans
SECONDS from START; nothing else in the line changes (durations,
pids, messages, and times inside messages stay as the server wrote them).

    retime.py SRC.log.zst START SECONDS OUT.log.gz

The input is read with `zstd -dc`; the output is gzip-compressed with a
fixed mtime, so the same input gives the same bytes.
"""
import datetime
import gzip
import re
import subprocess
import sys

STAMP = re.compile(rb"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC")
FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def parse(raw):
    return datetime.datetime.strptime(raw.decode(), FORMAT)


def main():
    src, start, seconds, out = sys.argv[1:5]
    start = datetime.datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
    text = subprocess.run(["zstd", "-dc", src], check=True, capture_output=True).stdout
    lines = text.splitlines(keepends=True)
    stamps = [parse(m.group(1)) for m in map(STAMP.match, lines) if m]
    first = min(stamps)
    factor = float(seconds) / (max(stamps) - first).total_seconds()
    for i, line in enumerate(lines):
        m = STAMP.match(line)
        if m:
            moved = start + (parse(m.group(1)) - first) * factor
            stamp = moved.strftime(FORMAT)[:-3].encode()
            lines[i] = stamp + line[m.end(1):]
    with open(out, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
        g.writelines(lines)


main()
