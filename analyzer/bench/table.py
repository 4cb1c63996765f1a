#!/usr/bin/env python3
"""The table and ratios of analyzer/bench/run.sh.

    table.py ROWS.tsv JOBS RUNS PGLOG_VERSION PGBADGER_VERSION GROWTH_MIB [JSON_OUT]
        prints the table of run.sh's measurements (and writes them as JSON)
    table.py --markdown BENCH.json
        prints the same figures as Markdown tables, for the README
    table.py --text BENCH.json
        prints them as run.sh does

Sizes are MB (10^6 bytes) of log text: a compressed copy's row counts the
bytes of its plain file, so its MB/s compares with the plain file's.
"""
import json
import sys

FORMATS = {"csv": "csvlog", "json": "jsonlog", "log": "stderr"}
# Issue 16's goals: the ratio, and whether a figure must be at most or at least it.
GOALS = {
    "pglog_per_cat": (10, "max"),
    "pgbadger_per_pglog": (100, "min"),
    "gz_per_slower": (1.25, "max"),
    "zst_per_slower": (1.25, "max"),
    "speedup": (1.8, "min"),
    "peak_rss_mib": (256 * 1e6 / 2**20, "max"),
}


def read_rows(path):
    rows = []
    with open(path) as f:
        for line in f:
            fmt, name, tool, log_bytes, file_bytes, records, mean, sd, rss = line.rstrip("\n").split("\t")
            rows.append({
                "format": FORMATS[fmt],
                "input": name,
                "tool": tool,
                "log_bytes": int(log_bytes),
                "file_bytes": int(file_bytes),
                "records": int(records) if records else None,
                "seconds": float(mean),
                "stddev": float(sd),
                "peak_rss_mib": int(rss) if rss else None,
            })
    for r in rows:
        r["mb_per_s"] = r["log_bytes"] / 1e6 / r["seconds"]
        r["records_per_s"] = r["records"] / r["seconds"] if r["records"] else None
    return rows


def ratios(rows, jobs):
    def t(fmt, kind, tool):
        for r in rows:
            if r["format"] == fmt and kind(r["input"]) and r["tool"] == tool:
                return r["seconds"]
        return None

    day = lambda name: name.startswith("day.") and name.count(".") == 1
    gz = lambda name: name.endswith(".gz")
    zst = lambda name: name.endswith(".zst")
    sliced = lambda name: name.startswith("slice.")
    all_cores = f"pglog -j {jobs}"
    out = {}
    for fmt in dict.fromkeys(r["format"] for r in rows):
        plain = t(fmt, day, all_cores)
        figures = {
            "pglog_per_cat": plain / t(fmt, day, "cat"),
            "pgbadger_per_pglog": t(fmt, sliced, "pgbadger -j 1") / t(fmt, sliced, all_cores),
            "pgbadger_per_pglog_j1": t(fmt, sliced, "pgbadger -j 1") / t(fmt, sliced, "pglog -j 1"),
            "gz_per_slower": t(fmt, gz, all_cores) / max(t(fmt, gz, "zcat"), plain),
            "zst_per_slower": t(fmt, zst, all_cores) / max(t(fmt, zst, "zstdcat"), plain),
            "speedup": t(fmt, day, "pglog -j 1") / plain,
            "peak_rss_mib": max(r["peak_rss_mib"] for r in rows
                                if r["format"] == fmt and r["tool"].startswith("pglog") and r["peak_rss_mib"]),
        }
        out[fmt] = figures
    return out


def met(key, value):
    goal, kind = GOALS[key]
    return value <= goal if kind == "max" else value >= goal


def print_text(bench):
    jobs = bench["cores"]
    line = "{:<8} {:<23} {:<14} {:>8} {:>10} {:>9} {:>7} {:>8} {:>10} {:>9}"
    print()
    print(line.format("format", "input", "tool", "MB", "records", "seconds", "±", "MB/s", "records/s", "peak RSS"))
    for r in bench["rows"]:
        name = r["input"]
        if r["file_bytes"] != r["log_bytes"]:
            mb = r["file_bytes"] / 1e6
            name += f" ({mb:.0f} MB)" if mb >= 10 else f" ({mb:.2f} MB)"
        print(line.format(
            r["format"], name, r["tool"], f"{r['log_bytes'] / 1e6:.1f}",
            r["records"] if r["records"] else "-",
            f"{r['seconds']:.3f}", f"{r['stddev']:.3f}", f"{r['mb_per_s']:.1f}",
            f"{r['records_per_s']:.0f}" if r["records_per_s"] else "-",
            f"{r['peak_rss_mib']} MiB" if r["peak_rss_mib"] else "-"))
    print()
    print(f"{bench['runs']} runs each (pgBadger 1), {jobs} cores; {bench['pglog']}; {bench['pgbadger']}")
    line = "{:<8} {:>10} {:>15} {:>8} {:>12} {:>12} {:>9} {:>10}"
    print()
    print(line.format("format", "pglog/cat", "pgBadger/pglog", "(-j 1)", "gzip/slower", "zstd/slower", "speedup", "peak RSS"))
    print(line.format("goal", "<= 10", ">= 100", "", "<= 1.25", "<= 1.25", ">= 1.8", "<= 244 MiB"))
    for fmt, g in bench["ratios"].items():
        mark = lambda key: "" if met(key, g[key]) else " !"
        print(line.format(
            fmt, f"{g['pglog_per_cat']:.1f}x{mark('pglog_per_cat')}",
            f"{g['pgbadger_per_pglog']:.0f}x{mark('pgbadger_per_pglog')}", f"{g['pgbadger_per_pglog_j1']:.0f}x",
            f"{g['gz_per_slower']:.2f}{mark('gz_per_slower')}", f"{g['zst_per_slower']:.2f}{mark('zst_per_slower')}",
            f"{g['speedup']:.2f}x{mark('speedup')}", f"{g['peak_rss_mib']} MiB{mark('peak_rss_mib')}"))
    print(f"(pglog with -j {jobs} unless -j 1; slower = max(decompressor alone, pglog on the plain file); "
          f"speedup = -j 1 / -j {jobs} on the plain file; ! = goal missed)")
    missed = [(fmt, key) for fmt, g in bench["ratios"].items() for key in GOALS if not met(key, g[key])]
    print()
    print("goals of issue 16: " + ("all met" if not missed else
          "missed (!): " + ", ".join(f"{fmt} {key}" for fmt, key in missed)))
    if bench.get("growth_peak_rss_mib"):
        print(f"pglog peak RSS on 3x the csvlog day: {bench['growth_peak_rss_mib']} MiB")


def print_markdown(bench):
    jobs = bench["cores"]
    print("| format | input | tool | MB | records | seconds | MB/s | records/s | peak RSS |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in bench["rows"]:
        records = f"{r['records']:,}" if r["records"] else ""
        per_s = f"{r['records_per_s']:,.0f}" if r["records_per_s"] else ""
        rss = f"{r['peak_rss_mib']} MiB" if r["peak_rss_mib"] else ""
        print(f"| {r['format']} | `{r['input']}` | {r['tool']} | {r['log_bytes'] / 1e6:,.0f} | {records} | "
              f"{r['seconds']:.2f} | {r['mb_per_s']:,.0f} | {per_s} | {rss} |")
    print()
    print(f"| format | pglog / cat | pgBadger -j 1 / pglog -j {jobs} (-j 1) | gzip / max(zcat, plain) | "
          f"zstd / max(zstdcat, plain) | -j {jobs} speedup | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for fmt, g in bench["ratios"].items():
        print(f"| {fmt} | {g['pglog_per_cat']:.1f}× | {g['pgbadger_per_pglog']:.0f}× ({g['pgbadger_per_pglog_j1']:.0f}×) | "
              f"{g['gz_per_slower']:.2f} | {g['zst_per_slower']:.2f} | {g['speedup']:.2f}× | {g['peak_rss_mib']} MiB |")


def main(argv):
    if argv[1:2] == ["--markdown"]:
        print_markdown(json.load(open(argv[2])))
        return
    if argv[1:2] == ["--text"]:
        print_text(json.load(open(argv[2])))
        return
    rows_path, jobs, runs, pglog, pgbadger, growth = argv[1:7]
    json_out = argv[7] if len(argv) > 7 else ""
    rows = read_rows(rows_path)
    bench = {
        "schema": "pglog.bench/1",
        "cores": int(jobs),
        "runs": int(runs),
        "pglog": pglog,
        "pgbadger": pgbadger,
        "rows": rows,
        "ratios": ratios(rows, int(jobs)),
        "growth_peak_rss_mib": int(growth) if growth else None,
    }
    print_text(bench)
    if json_out:
        with open(json_out, "w") as f:
            json.dump(bench, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv)
