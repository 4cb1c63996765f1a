#!/usr/bin/env python3
"""Instructions per record per stage, from callgrind profiles of `pglog analyze`.

    stages.py [--json OUT] [--explain-other] NAME=CALLGRIND_FILE:RECORDS ...

Every instruction belongs to the innermost stage on its call stack: a
function's stage comes from its (demangled) symbol, and code inlined into a
function from the source file it was written in (with debug line tables).
Library code (std, hashbrown, memchr, csv-core, serde_json, ...) has no stage
of its own: it counts for the stage that called it. Callgrind keeps caller
and callee, not whole stacks, so a library function's cost is split over its
callers' stages in proportion to what each call cost.

The stages are matched by module path and source path below, the first
match winning: when code is renamed or added, add its pattern here.
"""
import json
import re
import sys
from collections import defaultdict

# (stage, symbol pattern, source file pattern); None matches nothing.
STAGES = [
    # Writing the report: serde's Serialize of any type (stats' too).
    ("report", r" as serde(_core)?::ser::Serialize>::serialize", None),
    ("decompress", r"^(<)?(flate2|zlib_rs|miniz_oxide|zstd|zstd_safe|zstd_sys|bzip2|liblzma|lzma_rs)::"
                   r"|^(ZSTD_|HUF_|FSE_|inflate|crc32|adler32|BZ2_|lzma_)", None),
    ("read", r"pglog_logparse::(buffer|source)::|pglog_analyzer::(run::Counted|split|pipeline)\b"
             r"|<std::fs::File as std::io::Read>", r"logparse/src/(buffer|source)\.rs|engine/src/split\.rs"),
    ("timestamp", r"pglog_logparse::time::", r"logparse/src/time\.rs"),
    ("split", r"pglog_logparse::(format|prefix|record)\b", r"logparse/src/(format|prefix)[/.]|logparse/src/record\.rs"),
    ("normalize (pg_query)", r"^(<)?pg_query::|^(pg_query_|raw_parser|base_yyparse|core_yylex|palloc|MemoryContext)",
     None),
    ("fingerprint", r"pglog_analyzer::fingerprint\b", r"engine/src/fingerprint"),
    ("classify", r"pglog_logparse::(classify|translate|message_format|language|redact|tables|is_own_query)\b"
                 r"|pglog_logparse::Classifier", r"logparse/src/(classify|translate)/|logparse/src/"
                 r"(message_format|language|redact|tables)\.rs"),
    ("statistics", r"pglog_analyzer::(stats|filter|state|totals|since|server|event_details|changes)\b"
                   r"|pglog_analyzer::run::fold\b", r"engine/src/(stats/|filter\.rs|state\.rs|totals\.rs)"),
    ("report", r"pglog_analyzer::(report|sections|summary|diff|report_cells|time_text|text|plan)\b"
               r"|pglog_analyzer::run::Analysis::(report|merge)|^(<)?pglog_reports::",
     r"engine/src/(report|sections|summary|diff|report_cells|time_text|text)\.rs|engine/src/plan/|(^|/)reports/src/"),
]
# The stages in the order of the pipeline; "other": start-up, the per-record
# loop in run.rs, exit.
ORDER = ["decompress", "read", "split", "timestamp", "classify", "fingerprint", "normalize (pg_query)",
         "statistics", "report", "other"]
assert {s for s, _, _ in STAGES} <= set(ORDER)
SYMBOLS = [(s, re.compile(p)) for s, p, _ in STAGES if p]
FILES = [(s, re.compile(p)) for s, _, p in STAGES if p]


ESCAPES = {"$LT$": "<", "$GT$": ">", "$RF$": "&", "$BP$": "*", "$C$": ",", "$SP$": "@",
           "$LP$": "(", "$RP$": ")", "..": "::"}


def demangle(symbol):
    """A Rust (legacy) symbol without its hash: callgrind runs with
    --demangle=no, so that instances of a generic function stay apart."""
    base, quote, depth = symbol.partition("'")  # callgrind's recursion depth
    if not base.startswith("_ZN"):
        return symbol
    i, parts = 3, []
    while i < len(base) and base[i].isdigit():
        j = i
        while base[j].isdigit():
            j += 1
        n = int(base[i:j])
        parts.append(base[j:j + n])
        i = j + n
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    text = "::".join(p[1:] if p.startswith("_$") else p for p in parts)
    for k, v in ESCAPES.items():
        text = text.replace(k, v)
    text = re.sub(r"\$u([0-9a-f]{2})\$", lambda m: chr(int(m.group(1), 16)), text)
    return text + quote + depth


def stage_of_symbol(symbol):
    name = demangle(symbol)
    # A closure or a trait impl for a pglog type counts where its path says.
    for stage, pat in SYMBOLS:
        if pat.search(name):
            return stage
    return None


def stage_of_file(path):
    for stage, pat in FILES:
        if pat.search(path):
            return stage
    return None


class Profile:
    """A callgrind out file: per function the cost by source file of its own
    instructions and its calls (callee, source file at the call, cost)."""

    def __init__(self, path):
        self.own = defaultdict(lambda: defaultdict(int))
        self.calls = defaultdict(list)
        self.total = 0
        names = {"fl": {}, "fn": {}}
        fn = file = fl = callee = None
        pending_call = False

        def name(kind, value):
            m = re.match(r"\((\d+)\)(?: (.*))?$", value)
            if not m:
                return value
            if m.group(2) is not None:
                names[kind][m.group(1)] = m.group(2)
            return names[kind].get(m.group(1), value)

        with open(path, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                c = line[0]
                if c.isdigit() or c in "+-*":
                    parts = line.split()
                    cost = int(parts[1]) if len(parts) > 1 else 0
                    if pending_call:
                        self.calls[fn].append((callee, file, cost))
                        pending_call = False
                    else:
                        self.own[fn][file] += cost
                        self.total += cost
                    continue
                key, _, value = line.partition("=")
                if key == "fl":
                    fl = file = name("fl", value)
                elif key in ("fi", "fe"):
                    file = name("fl", value)
                elif key in ("cfi", "cfl"):
                    name("fl", value)
                elif key == "fn":
                    fn = name("fn", value)
                    file = fl
                elif key == "cfn":
                    callee = name("fn", value)
                elif key == "calls":
                    pending_call = True

    def by_stage(self, unstaged=lambda fn: None):
        """The cost of every stage (None: no stage on the stack). `unstaged`
        names a stage for a function that has none (to see what "other" is)."""
        shares = {}
        on_stack = set()
        sys.setrecursionlimit(100000)

        def here(fn, file):
            return stage_of_file(file or "") or stage_of_symbol(fn) or unstaged(fn)

        def share(fn):
            # fn's inclusive cost split by stage, as fractions.
            if fn in shares:
                return shares[fn]
            on_stack.add(fn)
            cost = defaultdict(float)
            for file, c in self.own[fn].items():
                cost[here(fn, file)] += c
            for callee, file, c in self.calls[fn]:
                at = here(fn, file)
                if callee in on_stack:
                    # Recursion: the cost is already on the stack's books.
                    continue
                for stage, part in share(callee).items():
                    cost[stage if stage is not None else at] += c * part
            on_stack.discard(fn)
            total = sum(cost.values())
            shares[fn] = {s: v / total for s, v in cost.items()} if total else {}
            return shares[fn]

        # A function's cost that no recorded call covers: the program's and
        # each thread's entry (a thread starts inside clone, whose call was
        # recorded on the parent's stack with the parent's cost).
        entered = defaultdict(int)
        for fn, calls in self.calls.items():
            for callee, _, c in calls:
                entered[callee] += c
        out = defaultdict(float)
        for fn in set(self.own) | set(self.calls):
            size = sum(self.own[fn].values()) + sum(c for _, _, c in self.calls[fn]) - entered[fn]
            if size <= 0:
                continue
            for stage, part in share(fn).items():
                out[stage] += size * part
        return out


def main(argv):
    json_out = None
    explain = "--explain-other" in argv
    argv = [a for a in argv if a != "--explain-other"]
    if argv[:1] == ["--json"]:
        json_out, argv = argv[1], argv[2:]
    columns = []
    for arg in argv:
        label, _, rest = arg.partition("=")
        path, _, records = rest.rpartition(":")
        p = Profile(path)
        stages = p.by_stage()
        per = {s or "other": v / int(records) for s, v in stages.items()}
        columns.append({"input": label, "records": int(records), "instructions": p.total,
                        "attributed": sum(stages.values()),
                        "per_record": {s: per.get(s, 0.0) for s in ORDER}})
    width = max(12, *(len(c["input"]) for c in columns))
    line = "{:<22}" + "".join(" {:>%d}" % width for _ in columns)
    print("instructions per record, by stage (callgrind, -j 1)")
    print(line.format("stage", *(c["input"] for c in columns)))
    for s in ORDER:
        print(line.format(s, *(f"{c['per_record'][s]:,.0f}" for c in columns)))
    print(line.format("total", *(f"{c['instructions'] / c['records']:,.0f}" for c in columns)))
    print(line.format("(attributed)", *(f"{c['attributed'] / c['records']:,.0f}" for c in columns)))
    print(line.format("records", *(f"{c['records']:,}" for c in columns)))
    if explain:
        # "other" by the innermost pglog function on the stack: candidates
        # for the patterns above.
        pglog = re.compile(r"^<?pglog")
        pglog_fn = lambda fn: demangle(fn) if pglog.match(demangle(fn)) else None
        for arg in argv:
            label, _, rest = arg.partition("=")
            path, _, records = rest.rpartition(":")
            costs = Profile(path).by_stage(pglog_fn)
            known = set(ORDER)
            rest = sorted(((v, s) for s, v in costs.items() if s not in known), key=lambda x: -x[0])
            print(f"\n{label}: other, by the innermost pglog function")
            for v, s in rest[:15]:
                print(f"  {v / int(records):>10,.0f}  {s or '(no pglog function)'}")
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"schema": "pglog.profile/1", "stages": ORDER, "inputs": columns}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
