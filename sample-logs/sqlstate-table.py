#!/usr/bin/env python3
"""Builds the SQLSTATE inference table from the error workload's logs.

    sample-logs/sqlstate-table.py           # after generate-errors.sh; python3 and gettext
    sample-logs/sqlstate-table.py --check   # is the committed table current?

It pairs the ERROR/FATAL/PANIC records of sample-logs/errors/postgresql.log
(stderr, the message) with those of postgresql.csv (csvlog, the SQLSTATE) in
order, finds for each message the server's format string it was written
from (the English msgids of the installed PostgreSQL 15 catalogs,
postgres-15.mo and plpgsql-15.mo, read with `msgunfmt --no-wrap`), and
writes analyzer/logparse/src/classify/sqlstate-table.tsv: one line per
format, `SQLSTATE <tab> severity <tab> format`, where severity is `*` or, for
a format the server writes with one code at connection time (FATAL) and
another in a statement (ERROR), the severity that tells them apart.

A message is matched as pglog's MessageFormat matches it (`%s` any text,
`%d` digits, ...; the whole message), the format with the most fixed bytes
winning. A format seen with two codes that severity does not tell apart is
dropped; those and the messages no format matches (user text of RAISE) are
listed in the table's `#` comment lines.
"""

import csv
import glob
import io
import os
import re
import subprocess
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LOGS = os.path.join(HERE, "errors")
OUT = os.path.join(ROOT, "analyzer/logparse/src/classify/sqlstate-table.tsv")
CATALOGS = ["postgres-15.mo", "plpgsql-15.mo"]
ERRORS = ("ERROR", "FATAL", "PANIC")
# A format must have this many letters of fixed words: "%s" or "%s: %s"
# match anything and say nothing about the code.
MIN_LETTERS = 8


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def msgids():
    """Every English msgid (and plural form) of the server's catalogs."""
    found = set()
    for name in CATALOGS:
        for mo in sorted(glob.glob(f"/usr/share/locale/*/LC_MESSAGES/{name}")):
            text = subprocess.run(
                ["msgunfmt", "--no-wrap", mo], check=True, capture_output=True, text=True
            ).stdout
            key, parts = None, []
            for line in text.splitlines() + [""]:
                m = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
                if m or not line.startswith('"'):
                    if key in ("msgid", "msgid_plural") and parts:
                        found.add(unescape("".join(parts)))
                    key, parts = (m.group(1), [m.group(2)]) if m else (None, [])
                else:
                    parts.append(line[1:-1])
    found.discard("")
    return found


# The conversions of message_format.rs and what each matches.
CONVERSION = re.compile(
    r"%(?:(\d+)\$)?[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlzjtLq]*([sdiuoxXpfFgGeEcm%])"
)
MATCHES = {
    "s": "(.*?)", "m": "(.*?)",
    "d": r"(-?[0-9]+)", "i": r"(-?[0-9]+)",
    "u": r"([0-9]+)", "o": r"([0-9]+)",
    "x": r"([0-9a-fA-F]+)", "X": r"([0-9a-fA-F]+)", "p": r"([0-9a-fA-F]+)",
    "c": "(.)",
}
FLOAT = r"([-+.eE0-9]*[0-9][-+.eE0-9]*|inf|-inf|nan|Infinity|-Infinity|NaN)"


def compile_format(fmt):
    """(regex, fixed bytes, letters of fixed words) or None."""
    pattern, fixed, last = [], [], 0
    for m in CONVERSION.finditer(fmt):
        fixed.append(fmt[last : m.start()])
        pattern.append(re.escape(fmt[last : m.start()]))
        last = m.end()
        if m.group(2) == "%":
            fixed.append("%")
            pattern.append("%")
        else:
            pattern.append(MATCHES.get(m.group(2), FLOAT))
    if "%" in fmt[last:]:
        return None
    fixed.append(fmt[last:])
    pattern.append(re.escape(fmt[last:]))
    words = "".join(fixed)
    return (
        re.compile("".join(pattern), re.S),
        len(words.encode()),
        sum(c.isalpha() for c in words),
    )


class Formats:
    def __init__(self, formats):
        self.by_prefix = defaultdict(list)
        self.short = []
        self.regex, self.fixed = {}, {}
        for f in formats:
            c = compile_format(f)
            if c is None or c[2] < MIN_LETTERS:
                continue
            head = CONVERSION.split(f, maxsplit=1)[0]
            entry = (f, c[0], c[1])
            self.regex[f], self.fixed[f] = c[0], c[1]
            if len(head.encode()) >= 3:
                self.by_prefix[head.encode()[:3]].append(entry)
            else:
                self.short.append(entry)

    def find(self, text):
        best = None
        for f, rx, fixed in self.by_prefix.get(text.encode()[:3], []) + self.short:
            if best and (best[1] > fixed or (best[1] == fixed and best[0] < f)):
                continue
            if rx.fullmatch(text):
                best = (f, fixed)
        return best and best[0]


STDERR = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \[(\d+)\] (?:\S*@\S*/.*? )?"
    r"(ERROR|FATAL|PANIC|LOG|WARNING|NOTICE|INFO|DEBUG\d?|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION):  (.*)$"
)
CURSOR = re.compile(r" at character \d+$")


def stderr_errors(path):
    """(severity, message) of each ERROR/FATAL/PANIC record, by process."""
    out, current = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = STDERR.match(line)
            if m:
                current = None
                if m.group(2) in ERRORS:
                    current = [m.group(1), m.group(2), m.group(3)]
                    out.append(current)
            elif line.startswith("\t") and current is not None:
                current[2] += "\n" + line[1:]
    return by_process([(pid, s, CURSOR.sub("", msg)) for pid, s, msg in out])


def csv_errors(path):
    """(severity, SQLSTATE, message) of each ERROR/FATAL/PANIC record, by process."""
    with open(path, encoding="utf-8", newline="") as f:
        return by_process([(r[3], r[11], r[12], r[13]) for r in csv.reader(f) if r[11] in ERRORS])


def by_process(records):
    """The records in order of process, then log order: each destination
    gets its own copy of a message, so processes can interleave differently
    in each file, but one process's records keep their order."""
    return [r[1:] for r in sorted(records, key=lambda r: int(r[0]))]


def main():
    text = stderr_errors(os.path.join(LOGS, "postgresql.log"))
    truth = csv_errors(os.path.join(LOGS, "postgresql.csv"))
    if len(text) != len(truth):
        sys.exit(f"stderr has {len(text)} error records, csvlog {len(truth)}")
    for (s1, m1), (s2, _, m2) in zip(text, truth):
        if (s1, m1) != (s2, m2):
            sys.exit(f"records differ: {s1} {m1!r} / {s2} {m2!r}")
    formats = Formats(msgids())
    seen = defaultdict(lambda: defaultdict(set))  # format -> severity -> codes
    records = defaultdict(list)  # format -> (severity, message, code)
    unmatched = []
    for (severity, message), (_, code, _) in zip(text, truth):
        f = formats.find(message)
        if f is None:
            unmatched.append((code, severity, message))
            continue
        seen[f][severity].add(code)
        records[f].append((severity, message, code))
    rows, dropped = [], []
    for f in sorted(seen):
        codes = set().union(*seen[f].values())
        for severity, found in sorted(seen[f].items()):
            # Severity tells codes apart only if the format has two codes.
            key = "*" if len(codes) == 1 or len(seen[f]) == 1 else severity
            if len(found) == 1:
                rows.append((next(iter(found)), key, f))
                continue
            found_here = [(m, c) for s, m, c in records[f] if s == severity]
            special = by_argument(formats, f, found_here)
            if special:
                rows.extend((c, key, sf) for sf, c in special)
            else:
                dropped.append((f, severity, found))
    rows = sorted(set(rows), key=lambda r: (r[0], r[2], r[1]))
    shadows = shadowing(formats, {f for _, _, f in rows})
    out = io.StringIO()
    out.write(
        "# Generated by sample-logs/sqlstate-table.py from sample-logs/errors/ (do not edit).\n"
        "# SQLSTATE\tseverity\tformat (\\n, \\t and \\\\ escaped): the formats of the server's\n"
        f"# messages seen in the error workload, {len(text)} ERROR/FATAL records.\n"
    )
    for f, severity, codes in dropped:
        out.write(f"# dropped, two codes: {severity} {esc(f)} ({'/'.join(sorted(codes))})\n")
    for code, severity, message in unmatched:
        out.write(f"# no format: {code} {severity} {esc(message)}\n")
    for code, severity, f in rows:
        out.write(f"{code}\t{severity}\t{esc(f)}\n")
    # The server's formats more specific than a format above whose
    # messages it also matches: their code is not known, so a message of
    # theirs must not take the less specific format's.
    for f in shadows:
        out.write(f"-\t*\t{esc(f)}\n")
    table = out.getvalue()
    if "--check" in sys.argv[1:]:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != table:
                sys.exit(f"{os.path.relpath(OUT, ROOT)} is not what {os.path.basename(__file__)} makes of sample-logs/errors/: run it")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(table)
    classes = {code[:2] for code, _, _ in rows}
    print(
        f"{len(text)} records, {len(rows)} formats in {len(classes)} SQLSTATE classes, "
        f"{len(shadows)} shadowing formats of unknown code, "
        f"{len(dropped)} dropped, {len(unmatched)} without a format -> {os.path.relpath(OUT, ROOT)}"
    )


def by_argument(formats, f, found):
    """A format seen with several codes, told apart by one argument (the
    type in `invalid input syntax for type %s: "%s"`): the format with that
    argument written in, for each value, with its code; None when no
    argument tells the codes apart."""
    rx = formats.regex[f]
    args = [rx.fullmatch(m).groups() for m, _ in found]
    spans = [m.span() for m in CONVERSION.finditer(f) if m.group(2) != "%"]
    for i in range(len(spans)):
        value_code = {}
        if any(value_code.setdefault(a[i], c) != c for a, (_, c) in zip(args, found)):
            continue
        start, end = spans[i]
        return sorted(
            (f[:start] + v.replace("%", "%%") + f[end:], c) for v, c in value_code.items()
        )
    return None


# What a conversion is written as when a format is rendered to test it.
SAMPLE = {"s": "x", "m": "x", "c": "x", "x": "1", "X": "1", "p": "1"}


def shadowing(formats, table):
    """The catalogs' formats that are not in `table` but more specific than
    a format of it that matches their rendering."""
    compiled = [(f, formats.regex[f], formats.fixed[f]) for f in table if f in formats.regex]
    out = []
    for g, fixed in formats.fixed.items():
        if g in table:
            continue
        text = CONVERSION.sub(lambda m: "%" if m.group(2) == "%" else SAMPLE.get(m.group(2), "1"), g)
        if any(fixed > fx and rx.fullmatch(text) for _, rx, fx in compiled):
            out.append(g)
    return sorted(out)


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


if __name__ == "__main__":
    main()
