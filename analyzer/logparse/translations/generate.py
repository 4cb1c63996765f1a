#!/usr/bin/env python3
"""Writes pglog's translation tables from the installed server's catalogs.

Reads /usr/share/locale/<lang>/LC_MESSAGES/postgres-15.mo with gettext's
`msgunfmt --no-wrap` and writes, next to the translator's code
(analyzer/logparse/src/translate/):

  catalogs/<lang>.tsv.xz  every message of the catalog: one line per msgstr
                          form (each msgstr[i] of a plural message too),
                          `msgstr<TAB>msgid[<TAB>msgid_plural]`, with \\, \\t
                          and \\n escaped; a message the catalog leaves
                          untranslated maps to itself (any msgid of the 11
                          catalogs that this one lacks, too). xz-compressed.
  words.rs                the translated severities and stderr labels
                          (`FEHLER`, `TIPP:  `) and the first fixed words of
                          common messages, by language, for the readers and
                          for detecting a log's language without unpacking
                          a catalog.

All messages are kept, not only the ones the classifier names today: the
classifier's rules and the SQLSTATE table work on English msgids, and any
message they add later is then already translated (about 130 KB per
language compressed). Run again after changing the list below or for
another server version:

  python3 analyzer/logparse/translations/generate.py [--version 15]
"""

import argparse
import lzma
import os
import re
import subprocess
import sys

LANGUAGES = ["de", "es", "fr", "it", "ja", "ka", "ko", "ru", "sv", "uk", "zh_CN"]

# What elog.c prints through gettext as a record's severity (`%s:  ` after
# it) and as the stderr labels of a record's other lines.
SEVERITIES = ["DEBUG", "LOG", "INFO", "NOTICE", "WARNING", "ERROR", "FATAL", "PANIC"]
LABELS = ["DETAIL:  ", "HINT:  ", "CONTEXT:  ", "STATEMENT:  ", "QUERY:  ", "LOCATION:  "]

# Words a record holds in every language, by language: the placeholder of
# an unknown user, database or application in stderr prefixes, and the
# error cursor stderr appends to a message.
PER_LANGUAGE = {"UNKNOWN": "[unknown]", "CURSOR": " at character %d"}

# Messages found at the start of most logs or on most queries: their
# translated first words tell a log's language when its severities are
# spelled as in English (es, ja, ...).
SIGNATURES = [
    "duration: %s ms  statement: %s",
    "duration: %s ms  execute %s%s%s: %s",
    "duration: %s ms",
    "statement: %s",
    "execute %s%s%s: %s",
    "connection received: host=%s port=%s",
    "connection received: host=%s",
    "connection authorized: user=%s",
    "replication connection authorized: user=%s",
    "disconnection: session time: %d:%02d:%02d.%03d user=%s database=%s host=%s%s%s",
    "database system is ready to accept connections",
    "database system is ready to accept read-only connections",
    "starting %s",
    "listening on IPv4 address \"%s\", port %d",
    "listening on IPv6 address \"%s\", port %d",
    "listening on Unix socket \"%s\"",
    "database system was shut down at %s",
    "database system was interrupted; last known up at %s",
    "database system is shut down",
    "checkpoint starting:%s%s%s%s%s%s%s%s",
    "received SIGHUP, reloading configuration files",
    "received fast shutdown request",
    "received smart shutdown request",
    "shutting down",
    "parameter \"%s\" changed to \"%s\"",
    "relation \"%s\" does not exist",
    "syntax error at or near \"%s\"",
    "division by zero",
    "temporary file: path \"%s\", size %lu",
    "automatic vacuum of table \"%s.%s.%s\": index scans: %d\n",
    "automatic analyze of table \"%s.%s.%s\"\n",
]

# First words shorter than this say too little about a language.
MIN_SIGNATURE_BYTES = 6

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "translate")


def unquote(s):
    out, i = [], 0
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n in escapes:
                out.append(escapes[n])
                i += 2
                continue
            m = re.match(r"[0-7]{1,3}", s[i + 1 :])
            if m:
                out.append(chr(int(m.group(0), 8)))
                i += 1 + len(m.group(0))
                continue
        out.append(c)
        i += 1
    return "".join(out)


def read_po(text):
    """The catalog's entries as dicts: msgid, msgid_plural, msgstr, msgstr[N]."""
    entries, cur, key = [], {}, None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                entries.append(cur)
            cur, key = {}, None
            continue
        if line.startswith("#"):
            continue
        m = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
        if m:
            key = m.group(1)
            cur[key] = unquote(m.group(2))
            continue
        m = re.match(r'^"(.*)"$', line)
        if m and key:
            cur[key] += unquote(m.group(1))
            continue
        raise SystemExit(f"unexpected catalog line: {line!r}")
    if cur:
        entries.append(cur)
    return [e for e in entries if e.get("msgid")]


def catalog(lang, version):
    path = f"/usr/share/locale/{lang}/LC_MESSAGES/postgres-{version}.mo"
    return read_po(subprocess.run(["msgunfmt", "--no-wrap", path], check=True, capture_output=True, text=True).stdout)


def forms(entry):
    """(msgstr form, msgid, msgid_plural or None) for each form of an entry;
    an untranslated form is the msgid itself, as gettext prints it."""
    msgid, plural = entry["msgid"], entry.get("msgid_plural")
    if plural is None:
        yield entry.get("msgstr") or msgid, msgid, None
        return
    strs = sorted((k for k in entry if k.startswith("msgstr[")), key=lambda k: int(k[7:-1]))
    seen = set()
    for k in strs:
        s = entry[k]
        if s and s not in seen:
            seen.add(s)
            yield s, msgid, plural
    for english in (msgid, plural):
        if english not in seen:
            seen.add(english)
            yield english, msgid, plural


def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def first_words(fmt):
    return fmt.split("%", 1)[0]


def rust_bytes(s):
    """A Rust string literal, ASCII only."""
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif " " <= c <= "~":
            out.append(c)
        else:
            out.append(f"\\u{{{ord(c):x}}}")
    return '"' + "".join(out) + '"'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", default="15", help="server major version of the catalogs (postgres-N.mo)")
    args = ap.parse_args()
    os.makedirs(os.path.join(OUT, "catalogs"), exist_ok=True)
    severities, labels, signatures = {}, {}, {}
    english_signatures = set()
    for msgid in SIGNATURES:
        w = first_words(msgid)
        if len(w.encode()) >= MIN_SIGNATURE_BYTES:
            english_signatures.add(w)
    sizes = []
    per_language = {name: [] for name in PER_LANGUAGE}
    catalogs = {lang: catalog(lang, args.version) for lang in LANGUAGES}
    # A catalog holds only what it translates; the server prints the rest in
    # English. Every msgid of any catalog is a message the server can print.
    everything = {}
    for entries in catalogs.values():
        for e in entries:
            everything.setdefault(e["msgid"], {k: v for k, v in e.items() if k.startswith("msgid")})
    for bit, lang in enumerate(LANGUAGES):
        entries = catalogs[lang]
        known = {e["msgid"] for e in entries}
        entries = entries + [e for msgid, e in sorted(everything.items()) if msgid not in known]
        lines = []
        for e in entries:
            for s, msgid, plural in forms(e):
                lines.append("\t".join(esc(x) for x in (s, msgid, plural) if x is not None))
        lines.sort()
        blob = lzma.compress(("\n".join(lines) + "\n").encode(), preset=9 | lzma.PRESET_EXTREME)
        with open(os.path.join(OUT, "catalogs", f"{lang}.tsv.xz"), "wb") as f:
            f.write(blob)
        sizes.append((lang, len(lines), len(blob)))
        by_id = {e["msgid"]: e.get("msgstr") or e["msgid"] for e in entries if "msgid_plural" not in e}
        for name, msgid in PER_LANGUAGE.items():
            per_language[name].append(by_id.get(msgid, msgid))
        for sev in SEVERITIES:
            word = by_id.get(sev, sev)
            if word != sev:
                # Georgian writes NOTICE and WARNING alike: both are kept,
                # the higher first, which a reader takes.
                severities[(word, sev)] = severities.get((word, sev), 0) | 1 << bit
        for label in LABELS:
            word = by_id.get(label, label)
            if word != label:
                prev = labels.setdefault(word, (label, 0))
                if prev[0] != label:
                    raise SystemExit(f"{word!r} is {prev[0]!r} in one language and {label!r} in {lang}")
                labels[word] = (label, prev[1] | 1 << bit)
        for msgid in SIGNATURES:
            w = first_words(by_id.get(msgid, msgid))
            if len(w.encode()) >= MIN_SIGNATURE_BYTES and w not in english_signatures:
                signatures[w] = signatures.get(w, 0) | 1 << bit
    with open(os.path.join(OUT, "words.rs"), "w") as f:
        f.write(f"// Generated by analyzer/logparse/translations/generate.py from PostgreSQL {args.version}'s\n")
        f.write("// catalogs: do not edit.\n\n")
        f.write(f"pub(crate) const VERSION: &str = \"{args.version}\";\n\n")
        f.write("/// The languages, in the order of their bit in the masks below.\n")
        f.write(f"pub(crate) const LANGUAGES: [&str; {len(LANGUAGES)}] = [{', '.join(rust_bytes(l) for l in LANGUAGES)}];\n\n")
        f.write("/// Each catalog, by language.\n")
        f.write(f"pub(crate) const CATALOGS: [&[u8]; {len(LANGUAGES)}] = [\n")
        for lang in LANGUAGES:
            f.write(f"    include_bytes!(\"catalogs/{lang}.tsv.xz\"),\n")
        f.write("];\n\n")
        for name, msgid in PER_LANGUAGE.items():
            f.write(f"/// {msgid!r}, by language.\n")
            f.write(f"pub(crate) const {name}: [&str; {len(LANGUAGES)}] = [{', '.join(rust_bytes(w) for w in per_language[name])}];\n\n")
        f.write("/// Translated severities: (word, English word, languages).\n")
        f.write("pub(crate) const SEVERITIES: &[(&str, &str, u16)] = &[\n")
        for (w, sev), mask in sorted(severities.items(), key=lambda i: (i[0][0], -SEVERITIES.index(i[0][1]))):
            f.write(f"    ({rust_bytes(w)}, {rust_bytes(sev)}, {mask:#06x}),\n")
        f.write("];\n\n")
        f.write("/// Translated stderr labels: (label, English label, languages).\n")
        f.write("pub(crate) const LABELS: &[(&str, &str, u16)] = &[\n")
        for w, (label, mask) in sorted(labels.items()):
            f.write(f"    ({rust_bytes(w)}, {rust_bytes(label)}, {mask:#06x}),\n")
        f.write("];\n\n")
        f.write("/// First words of common messages in English.\n")
        f.write("pub(crate) const ENGLISH_SIGNATURES: &[&str] = &[\n")
        for w in sorted(english_signatures):
            f.write(f"    {rust_bytes(w)},\n")
        f.write("];\n\n")
        f.write("/// First words of the same messages translated: (words, languages).\n")
        f.write("pub(crate) const SIGNATURES: &[(&str, u16)] = &[\n")
        for w, mask in sorted(signatures.items()):
            f.write(f"    ({rust_bytes(w)}, {mask:#06x}),\n")
        f.write("];\n")
    for lang, n, size in sizes:
        print(f"{lang}: {n} forms, {size} bytes", file=sys.stderr)
    print(f"total: {sum(s for _, _, s in sizes)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
