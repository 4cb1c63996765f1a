//! Infers `log_line_prefix` from the lines themselves.
//!
//! Each sampled line is cut at its message label (`LOG:  `, `DETAIL:  `,
//! ...), and what stands before it is read by shape into pieces: literal
//! bytes and slots (a timestamp, a number, a session id, a vxid, a
//! `key=value`, a name, a host, a backend type). Lines of the same shape
//! form a group; each group's slots get their escape from the key, the
//! neighbours (`%u@%d/%a`) and the values seen (which names the messages
//! call users, databases, applications; which numbers count lines). The
//! prefixes so built, with `%q` tried at each place before the session
//! fields and the well-known settings as extra candidates, are matched
//! against every sampled line; the one that parses the most lines with
//! plausible fields wins.

use super::{parse_label, Prefix, PrefixFields, BACKEND_TYPES, COMMON_PREFIXES};
use crate::time::parse_pg_timestamp;
use std::collections::{HashMap, HashSet};

/// A prefix inferred from a sample, and how many of its lines it parsed.
#[derive(Debug, Clone)]
pub struct Inferred {
    pub prefix: Prefix,
    pub parsed: usize,
    pub sampled: usize,
}

/// The best candidate when none parses enough of the sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closest {
    pub prefix: Option<String>,
    pub parsed: usize,
    pub sampled: usize,
}

/// How many lines are looked at (continuation lines not counted).
const SAMPLE_LINES: usize = 2000;
/// How many lines every candidate is scored on first (spread over the sample).
const PRESCORE_LINES: usize = 200;
/// How many of them are then scored on the whole sample.
const FINALISTS: usize = 6;
/// How many lines are read for their shape.
const SHAPE_LINES: usize = 1000;
/// How many of the most common line shapes become candidates.
const MAX_GROUPS: usize = 6;
/// How many of them are also tried with `%q` at each place.
const STOP_GROUPS: usize = 3;
/// Longer heads are not a prefix (Heroku's, with its values, is ~330 bytes).
const MAX_HEAD: usize = 1024;
/// Shapes with more slots, or more free-text ones, are not tried: each
/// free-text escape multiplies the matcher's tries.
const MAX_SLOTS: usize = 24;
const MAX_FREE_TEXT_SLOTS: usize = 8;
/// Places tried for `%q` per shape.
const MAX_STOPS: usize = 48;
/// Lines the plain prefix does not read that a `%q` place is tried on.
const EVIDENCE_LINES: usize = 8;

/// Infers the prefix of `lines` (lines starting with a tab are
/// continuations and skipped). It is accepted when it parses a quarter of
/// the sampled lines or a hundred of them.
pub fn infer_prefix<'a, I>(lines: I) -> Result<Inferred, Closest>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let lines: Vec<&[u8]> = lines
        .into_iter()
        .filter(|l| !l.starts_with(b"\t") && !l.trim_ascii().is_empty())
        .take(SAMPLE_LINES)
        .collect();
    let sampled = lines.len();
    let names = NameSets::from_messages(&lines);
    let mut candidates: Vec<String> = Vec::new();
    for (g, group) in groups(&lines[..lines.len().min(SHAPE_LINES)])
        .iter()
        .enumerate()
    {
        let slots = resolve(group, &names);
        let mut shaped = with_session_stops(&group.pieces, &slots, g < STOP_GROUPS);
        let plain = shaped.pop().expect("the plain prefix comes last");
        for c in stops_that_help(&plain, shaped, &lines)
            .into_iter()
            .chain([plain])
        {
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
    }
    for hint in COMMON_PREFIXES {
        if !candidates.iter().any(|c| c == hint) {
            candidates.push(hint.to_string());
        }
    }
    // First on a spread of the sample, then the few that do well on all of it.
    let step = (lines.len() / PRESCORE_LINES).max(1);
    let spread: Vec<&[u8]> = lines.iter().copied().step_by(step).collect();
    let mut prescored: Vec<(Score, Prefix)> = candidates
        .iter()
        .filter_map(|c| Prefix::parse(c).ok())
        .enumerate()
        .map(|(order, p)| (score(&p, &spread, order), p))
        .collect();
    // A `%q` the spread did not prove may still be needed by the rest.
    prescored.sort_by_key(|(s, p)| {
        (
            std::cmp::Reverse(s.parsed),
            !p.has_session_only(),
            s.earlier.0,
        )
    });
    prescored.truncate(FINALISTS);
    let best = prescored
        .into_iter()
        .map(|(s, p)| (score(&p, &lines, s.earlier.0), p))
        .max_by(|a, b| a.0.cmp(&b.0));
    match best {
        Some((s, prefix)) if s.parsed > 0 && (s.parsed * 4 >= sampled || s.parsed >= 100) => {
            Ok(Inferred {
                prefix,
                parsed: s.parsed,
                sampled,
            })
        }
        best => Err(Closest {
            prefix: best
                .as_ref()
                .filter(|(s, _)| s.parsed > 0)
                .map(|(_, p)| p.as_str().to_string()),
            parsed: best.map_or(0, |(s, _)| s.parsed),
            sampled,
        }),
    }
}

/// Of the `%q` variants of `plain`, those that read some line `plain`
/// does not as a line that stops at `%q` (the others cannot score better,
/// and scoring all of them on the whole sample would be slow).
fn stops_that_help(plain: &str, variants: Vec<String>, lines: &[&[u8]]) -> Vec<String> {
    if variants.is_empty() {
        return variants;
    }
    let Ok(p) = Prefix::parse(plain) else {
        return Vec::new();
    };
    let unparsed: Vec<&[u8]> = lines
        .iter()
        .copied()
        .filter(|l| p.match_line(l).is_none())
        .take(EVIDENCE_LINES)
        .collect();
    variants
        .into_iter()
        .filter(|v| {
            Prefix::parse(v).is_ok_and(|vp| {
                unparsed
                    .iter()
                    .any(|l| vp.match_line(l).is_some_and(|m| !m.session_part))
            })
        })
        .collect()
}

/// How well a candidate reads the sample; compared field by field, larger is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    /// Lines matched with plausible fields.
    parsed: usize,
    /// A `%q` that no line stopped at is worth nothing.
    q_used: bool,
    /// Among equals, the more specific prefix.
    escapes: usize,
    /// Then the earlier candidate (the commonest shape, the later `%q`).
    earlier: std::cmp::Reverse<usize>,
}

fn score(p: &Prefix, lines: &[&[u8]], order: usize) -> Score {
    let mut parsed = 0;
    let mut stopped = 0;
    // The lines mostly share their second: parse it once.
    let mut times = crate::time::TimeCache::new();
    for line in lines {
        if let Some(m) = p.match_line_cached(line, &mut times) {
            if plausible(&m.fields) {
                parsed += 1;
                stopped += usize::from(!m.session_part);
            }
        }
    }
    // Proven only when some lines stop at it and others go on.
    let q_used = !p.has_session_only() || (stopped > 0 && stopped < parsed);
    Score {
        parsed,
        q_used,
        escapes: if q_used { p.escape_count() } else { 0 },
        earlier: std::cmp::Reverse(order),
    }
}

/// Fields of their right kind: a user or database name holds no brackets,
/// no `=` and no space (`[unknown]` is read as no value); a backend type
/// no brackets, `=`, `@` or `/`; a host is an address or a name.
fn plausible(f: &PrefixFields<'_>) -> bool {
    let name_ok = |v: Option<&[u8]>| {
        v.is_none_or(|v| !v.iter().any(|c| matches!(c, b'[' | b']' | b'=' | b' ')))
    };
    let type_ok = |v: Option<&[u8]>| {
        v.is_none_or(|v| {
            !v.iter()
                .any(|c| matches!(c, b'[' | b']' | b'=' | b'@' | b'/'))
        })
    };
    name_ok(f.user)
        && name_ok(f.database)
        && f.remote_host.is_none_or(|h| {
            h.iter()
                .all(|c| c.is_ascii_alphanumeric() || b".:-_()[]%".contains(c))
        })
        && type_ok(f.backend_type)
}

/// User, database and application names the messages themselves name
/// (`connection authorized: user=alice database=app application_name=psql`).
#[derive(Default)]
struct NameSets {
    users: HashSet<Vec<u8>>,
    databases: HashSet<Vec<u8>>,
    applications: HashSet<Vec<u8>>,
}

impl NameSets {
    fn from_messages(lines: &[&[u8]]) -> NameSets {
        let mut n = NameSets::default();
        for line in lines {
            let Some(at) = label_at(line) else { continue };
            let text = &line[at..];
            collect_value(text, b" user=", &mut n.users);
            collect_value(text, b" database=", &mut n.databases);
            collect_value(text, b" application_name=", &mut n.applications);
        }
        n
    }

    fn kind_hits(&self, value: &[u8]) -> [usize; 3] {
        [
            usize::from(self.users.contains(value)),
            usize::from(self.databases.contains(value)),
            usize::from(self.applications.contains(value)),
        ]
    }
}

fn collect_value(text: &[u8], key: &[u8], into: &mut HashSet<Vec<u8>>) {
    if let Some(i) = memchr::memmem::find(text, key) {
        let v = &text[i + key.len()..];
        let end = v.iter().position(|&c| c == b' ').unwrap_or(v.len());
        if end > 0 {
            into.insert(v[..end].to_vec());
        }
    }
}

/// Where the message label starts: the first `WORD:  ` with a known word,
/// at the start or after a byte that is not part of a word.
pub(crate) fn label_at(line: &[u8]) -> Option<usize> {
    let line = &line[..line.len().min(MAX_HEAD + 16)];
    for colon in memchr::memchr_iter(b':', line) {
        if line.get(colon + 1..colon + 3) != Some(b"  ") {
            continue;
        }
        let start = line[..colon]
            .iter()
            .rposition(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
            .map_or(0, |i| i + 1);
        if start == colon || (start > 0 && line[start - 1].is_ascii_alphanumeric()) {
            continue;
        }
        if parse_label(&line[start..]).is_some() {
            return Some(start);
        }
    }
    super::translated::find_label(line)
}

/// What a slot was read as from its shape alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Class {
    Time {
        ms: bool,
    },
    Epoch,
    Session,
    Vxid,
    /// Digits (or a SQLSTATE-shaped code); empty between `[]`.
    Number,
    /// A name: user, database, application, command tag.
    Word,
    /// `[local]`, an address, `host(port)`.
    Host,
    Backend,
    /// The value of `key=`: its escape comes from the key.
    Keyed(u8),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Piece {
    Lit(Vec<u8>),
    Slot(Class),
}

/// One line's head read by shape: the pieces, and each slot's value and
/// padding width (0 when none was seen).
struct Shape<'a> {
    pieces: Vec<Piece>,
    values: Vec<(&'a [u8], u16)>,
}

/// Lines of one shape.
struct Group<'a> {
    pieces: Vec<Piece>,
    /// Per line, each slot's value and padding.
    lines: Vec<Vec<(&'a [u8], u16)>>,
}

fn groups<'a>(lines: &[&'a [u8]]) -> Vec<Group<'a>> {
    let mut by_shape: HashMap<Vec<Piece>, Vec<Vec<(&'a [u8], u16)>>> = HashMap::new();
    let mut first_seen: Vec<Vec<Piece>> = Vec::new();
    for line in lines {
        let Some(at) = label_at(line).filter(|&at| at <= MAX_HEAD) else {
            continue;
        };
        let shape = read_shape(&line[..at]);
        let free_text = shape.pieces.iter().filter(|p| match p {
            Piece::Slot(Class::Word | Class::Host | Class::Backend) => true,
            Piece::Slot(Class::Keyed(e)) => b"udahib".contains(e),
            _ => false,
        });
        if shape.values.len() > MAX_SLOTS || free_text.count() > MAX_FREE_TEXT_SLOTS {
            continue;
        }
        let entry = by_shape.entry(shape.pieces.clone()).or_insert_with(|| {
            first_seen.push(shape.pieces.clone());
            Vec::new()
        });
        entry.push(shape.values);
    }
    let mut groups: Vec<Group<'a>> = first_seen
        .into_iter()
        .map(|pieces| {
            let lines = by_shape.remove(&pieces).unwrap_or_default();
            Group { pieces, lines }
        })
        .collect();
    // Stable: among equal counts the shape seen first comes first.
    groups.sort_by(|a, b| b.lines.len().cmp(&a.lines.len()));
    groups.truncate(MAX_GROUPS);
    groups
}

/// Keys of `key=value` parts and the escape their value is (`T` for a
/// timestamp read by its shape, `%m`, `%t` or `%n`).
fn key_escape(key: &[u8]) -> Option<u8> {
    let key = key.to_ascii_lowercase();
    Some(match key.as_slice() {
        b"user" | b"usr" | b"u" | b"role" | b"username" | b"user_name" => b'u',
        b"db" | b"database" | b"dbname" | b"datname" => b'd',
        b"app" | b"application" | b"application_name" | b"appname" => b'a',
        b"client" | b"host" | b"remote" | b"connection_source" | b"client_addr"
        | b"remote_host" | b"rhost" | b"source" => b'h',
        b"pid" | b"process_id" => b'p',
        b"line" | b"log_line" | b"line_num" | b"line_number" | b"ln" => b'l',
        b"session" | b"session_id" | b"sid" => b'c',
        b"vtid" | b"vxid" | b"virtual_transaction_id" => b'v',
        b"tid" | b"xid" | b"txid" | b"transaction_id" => b'x',
        b"sql_error_code" | b"sqlstate" | b"error_code" | b"sql_state" | b"err" | b"state" => b'e',
        b"queryid" | b"query_id" | b"qid" => b'Q',
        b"time" | b"time_ms" | b"timestamp" | b"ts" | b"log_time" => b'T',
        b"proc_start_time" | b"session_start" | b"backend_start" | b"start" => b's',
        b"backend" | b"backend_type" | b"btype" | b"type" => b'b',
        b"leader" | b"leader_pid" | b"ppid" => b'P',
        b"cmd" | b"command" | b"command_tag" | b"tag" => b'i',
        _ => return None,
    })
}

fn read_shape(head: &[u8]) -> Shape<'_> {
    let mut r = ShapeReader {
        head,
        pos: 0,
        shape: Shape {
            pieces: Vec::new(),
            values: Vec::new(),
        },
    };
    while r.pos < head.len() {
        r.step();
    }
    r.shape
}

struct ShapeReader<'a> {
    head: &'a [u8],
    pos: usize,
    shape: Shape<'a>,
}

impl<'a> ShapeReader<'a> {
    fn rest(&self) -> &'a [u8] {
        &self.head[self.pos..]
    }

    fn at_word_start(&self) -> bool {
        self.pos == 0 || !self.head[self.pos - 1].is_ascii_alphanumeric()
    }

    fn lit(&mut self, bytes: &[u8]) {
        match self.shape.pieces.last_mut() {
            Some(Piece::Lit(l)) => l.extend_from_slice(bytes),
            _ => self.shape.pieces.push(Piece::Lit(bytes.to_vec())),
        }
    }

    fn slot(&mut self, class: Class, len: usize, pad: u16) {
        let value = &self.head[self.pos..self.pos + len];
        self.shape.pieces.push(Piece::Slot(class));
        self.shape.values.push((value, pad));
        // The padding spaces belong to the slot, not to the next literal.
        self.pos += len.max(usize::from(pad));
    }

    /// Reads one piece at `pos`.
    fn step(&mut self) {
        let rest = self.rest();
        let word_start = self.at_word_start();
        if word_start {
            if let Some((_, n)) = parse_pg_timestamp(rest) {
                let ms = rest[..n].contains(&b'.');
                return self.slot(Class::Time { ms }, n, 0);
            }
            if let Some(n) = self.key_value() {
                return n;
            }
            if let Some((class, n)) = fixed_shape(rest) {
                let pad = self.padding(n);
                return self.slot(class, n, pad);
            }
            if let Some(b) = BACKEND_TYPES
                .iter()
                .find(|b| rest.starts_with(b.as_bytes()) && !word_byte(rest.get(b.len())))
            {
                return self.slot(Class::Backend, b.len(), 0);
            }
        }
        if rest.starts_with(b"[]") {
            // An empty `[%P]` (or other) between its brackets.
            self.lit(b"[");
            self.pos += 1;
            self.slot(Class::Number, 0, 0);
            return self.lit_advance(1);
        }
        if let Some((class, n)) = name_shape(rest) {
            let pad = self.padding(n);
            return self.slot(class, n, pad);
        }
        self.lit_advance(1);
    }

    fn lit_advance(&mut self, n: usize) {
        let bytes = &self.head[self.pos..self.pos + n];
        self.lit(bytes);
        self.pos += n;
    }

    /// The width of a left-justified padded value of `n` bytes at `pos`:
    /// spaces after it up to the next piece, less the one space the prefix
    /// itself has when a word follows.
    fn padding(&self, n: usize) -> u16 {
        let after = &self.head[self.pos + n..];
        let spaces = after.iter().take_while(|&&c| c == b' ').count();
        let next = after.get(spaces);
        let width = match next {
            None if spaces >= 2 => n + spaces - 1,
            Some(b']' | b')') if spaces >= 1 => n + spaces,
            Some(_) if spaces >= 2 => n + spaces - 1,
            _ => return 0,
        };
        u16::try_from(width).unwrap_or(0)
    }

    /// `key=value`, `key = value`, `key="value"`: the key and `=` become
    /// literal text, the value a slot the key names.
    fn key_value(&mut self) -> Option<()> {
        let rest = self.rest();
        let klen = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        if klen == 0 || !rest[0].is_ascii_alphabetic() {
            return None;
        }
        let sep = if rest[klen..].starts_with(b"=") {
            1
        } else if rest[klen..].starts_with(b" = ") {
            3
        } else {
            return None;
        };
        let esc = key_escape(&rest[..klen]);
        self.lit_advance(klen + sep);
        let value = self.rest();
        let quoted = value.first() == Some(&b'"');
        if quoted {
            self.lit_advance(1);
        }
        let value = self.rest();
        let len = if quoted {
            memchr::memchr(b'"', value).unwrap_or(value.len())
        } else if value.first() == Some(&b'[') {
            memchr::memchr(b']', value).map_or(value.len(), |i| i + 1)
        } else {
            value
                .iter()
                .position(|c| matches!(c, b' ' | b',' | b']' | b'|' | b';' | b'"'))
                .unwrap_or(value.len())
        };
        let class = match esc {
            Some(b'T') | None => match parse_pg_timestamp(&value[..len]) {
                Some(_) => Class::Time {
                    ms: value[..len].contains(&b'.'),
                },
                None => match fixed_shape(&value[..len]) {
                    Some((c, n)) if n == len => c,
                    _ => Class::Word,
                },
            },
            Some(e) => Class::Keyed(e),
        };
        self.slot(class, len, 0);
        Some(())
    }
}

fn word_byte(c: Option<&u8>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Epoch times, session ids, vxids, numbers and SQLSTATE codes.
fn fixed_shape(s: &[u8]) -> Option<(Class, usize)> {
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let hex = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    let ends = |n: usize| {
        !s.get(n)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'('))
    };
    let d = digits(s);
    if d == 10 && s.get(10) == Some(&b'.') && digits(&s[11..]) == 3 && ends(14) {
        return Some((Class::Epoch, 14));
    }
    let h = hex(s);
    if h > 0 && s.get(h) == Some(&b'.') {
        let h2 = hex(&s[h + 1..]);
        if h2 > 0 && ends(h + 1 + h2) {
            return Some((Class::Session, h + 1 + h2));
        }
    }
    if d > 0 && s.get(d) == Some(&b'/') {
        let d2 = digits(&s[d + 1..]);
        if d2 > 0 && ends(d + 1 + d2) {
            return Some((Class::Vxid, d + 1 + d2));
        }
    }
    let code = s
        .iter()
        .take_while(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        .count();
    if code == 5 && d >= 1 && ends(5) {
        return Some((Class::Number, 5));
    }
    let neg = usize::from(s.first() == Some(&b'-'));
    let d = digits(&s[neg..]);
    if d > 0 && ends(neg + d) {
        return Some((Class::Number, neg + d));
    }
    None
}

/// Names, `[unknown]`, `[local]`, addresses and `host(port)`.
fn name_shape(s: &[u8]) -> Option<(Class, usize)> {
    if s.starts_with(b"[unknown]") {
        return Some((Class::Word, 9));
    }
    if let Some(n) = super::translated::unknown_name_len(s) {
        return Some((Class::Word, n));
    }
    if s.starts_with(b"[local]") {
        return Some((Class::Host, 7));
    }
    let n = s
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.') || c >= 0x80)
        .count();
    if n == 0 || s[0] == b'-' || s[0] == b'.' {
        return None;
    }
    if s.get(n) == Some(&b'(') {
        let port = s[n + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if port > 0 && s.get(n + 1 + port) == Some(&b')') {
            return Some((Class::Host, n + 2 + port));
        }
    }
    let address = s[..n].iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && s[..n].iter().filter(|&&c| c == b'.').count() == 3;
    Some((if address { Class::Host } else { Class::Word }, n))
}

/// What each slot of a group becomes: an escape letter and padding, or a
/// literal (the `1` of `[%l-1]`).
#[derive(Debug, Clone, PartialEq)]
enum Resolved {
    Escape(u8, u16),
    Literal(Vec<u8>),
}

fn resolve(group: &Group<'_>, names: &NameSets) -> Vec<Resolved> {
    let slots: Vec<(usize, Class)> = group
        .pieces
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Piece::Slot(c) => Some((i, *c)),
            Piece::Lit(_) => None,
        })
        .collect();
    let values = |k: usize| group.lines.iter().map(move |l| l[k].0);
    let width = |k: usize| most_common(group.lines.iter().map(|l| l[k].1).filter(|w| *w > 0));
    let lit_before = |k: usize| match slots[k].0.checked_sub(1).map(|i| &group.pieces[i]) {
        Some(Piece::Lit(l)) => l.as_slice(),
        _ => b"",
    };
    let lit_after = |k: usize| match group.pieces.get(slots[k].0 + 1) {
        Some(Piece::Lit(l)) => l.as_slice(),
        _ => b"",
    };
    let has_session = slots.iter().any(|(_, c)| *c == Class::Session);
    let mut out: Vec<Resolved> = Vec::with_capacity(slots.len());
    let mut used: HashSet<u8> = HashSet::new();
    let mut times = 0;
    for (k, &(_, class)) in slots.iter().enumerate() {
        let esc = match class {
            Class::Time { ms } => {
                times += 1;
                match (times, ms) {
                    (1, true) => b'm',
                    (1, false) => b't',
                    _ => b's',
                }
            }
            Class::Epoch => b'n',
            Class::Session => b'c',
            Class::Vxid => b'v',
            Class::Backend => b'b',
            // `%r` when some value has its port: `127.0.0.1(45434)`.
            Class::Host | Class::Keyed(b'h') => {
                if values(k).any(|v| v.ends_with(b")")) {
                    b'r'
                } else {
                    b'h'
                }
            }
            Class::Keyed(e) => e,
            Class::Number => {
                let literal_one = k > 0
                    && lit_before(k) == b"-"
                    && matches!(out.last(), Some(Resolved::Escape(b'l', _)))
                    && values(k).all(|v| v == b"1");
                if literal_one {
                    out.push(Resolved::Literal(b"1".to_vec()));
                    continue;
                }
                number_escape(
                    values(k),
                    &used,
                    has_session,
                    lit_after(k).starts_with(b"-") && k + 1 < slots.len(),
                )
            }
            Class::Word => {
                match word_escape(values(k), lit_before(k), lit_after(k), &used, names) {
                    Some(e) => e,
                    None => {
                        let first = values(k).next().unwrap_or_default();
                        out.push(Resolved::Literal(first.to_vec()));
                        continue;
                    }
                }
            }
        };
        used.insert(esc);
        out.push(Resolved::Escape(esc, width(k).unwrap_or(0)));
    }
    out
}

fn most_common(it: impl Iterator<Item = u16>) -> Option<u16> {
    let mut counts: HashMap<u16, usize> = HashMap::new();
    for w in it {
        *counts.entry(w).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(w, n)| (n, std::cmp::Reverse(w)))
        .map(|(w, _)| w)
}

/// A bare number: a SQLSTATE, a query id, the pid, the session line
/// counter, a transaction id or the parallel leader's pid.
fn number_escape<'a>(
    values: impl Iterator<Item = &'a [u8]> + Clone,
    used: &HashSet<u8>,
    has_session: bool,
    dash_follows: bool,
) -> u8 {
    let is_code = |v: &[u8]| v.len() == 5 && (v[0] == b'0' || v.iter().any(u8::is_ascii_uppercase));
    if values.clone().any(is_code) {
        return b'e';
    }
    let nums: Vec<i128> = values
        .clone()
        .filter_map(|v| std::str::from_utf8(v).ok()?.parse().ok())
        .collect();
    if nums.iter().any(|&n| n < 0 || n > i128::from(u32::MAX)) {
        return b'Q';
    }
    let min = nums.iter().copied().min();
    if !used.contains(&b'p') {
        // `[%l-1]`, or `%c %l`: a counter from 1, where the pid is elsewhere.
        let counter = min == Some(1) && (has_session || dash_follows);
        return if counter { b'l' } else { b'p' };
    }
    if values.clone().all(<[u8]>::is_empty) || min.is_none() {
        return b'P';
    }
    match min {
        Some(0) => b'x',
        Some(1) if !used.contains(&b'l') => b'l',
        _ => b'P',
    }
}

/// A bare name: by its neighbours (`%u@%d/%a`), as a command tag by its
/// shape, else by the names the messages call users, databases and
/// applications.
fn word_escape<'a>(
    values: impl Iterator<Item = &'a [u8]> + Clone,
    before: &[u8],
    after: &[u8],
    used: &HashSet<u8>,
    names: &NameSets,
) -> Option<u8> {
    if after.starts_with(b"@") {
        return Some(b'u');
    }
    if before.ends_with(b"@") {
        return Some(b'd');
    }
    if before.ends_with(b"/") && used.contains(&b'd') {
        return Some(b'a');
    }
    let total = values.clone().filter(|v| !v.is_empty()).count();
    let tags = values.clone().filter(|v| is_command_tag(v)).count();
    if total > 0 && tags * 2 > total {
        return Some(b'i');
    }
    // The user, database and application are placed already: a word that
    // is the same on every line is literal text (`%u@%d from %h`).
    let kinds = [b'u', b'd', b'a'];
    if kinds.iter().all(|k| used.contains(k)) {
        let mut distinct = values.clone();
        let first = distinct.next();
        if distinct.all(|v| Some(v) == first) {
            return None;
        }
    }
    let mut hits = [0usize; 3];
    for v in values {
        for (h, n) in hits.iter_mut().zip(names.kind_hits(v)) {
            *h += n;
        }
    }
    let free = |i: &usize| !used.contains(&kinds[*i]);
    let best = (0..3)
        .filter(free)
        .max_by_key(|&i| (hits[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    Some(kinds[best])
}

fn is_command_tag(v: &[u8]) -> bool {
    const LOWER: &[&[u8]] = &[
        b"idle",
        b"authentication",
        b"startup",
        b"idle in transaction",
    ];
    LOWER.contains(&v) || (v.len() >= 3 && v.iter().all(|c| c.is_ascii_uppercase() || *c == b' '))
}

/// The group's prefix, and (when `stops`) the same with `%q` at each place
/// before its first session field (`%u %d %a %r %h %i`): after a space or
/// punctuation in a literal, or before an escape.
fn with_session_stops(pieces: &[Piece], slots: &[Resolved], stops: bool) -> Vec<String> {
    let mut parts: Vec<(String, bool)> = Vec::with_capacity(pieces.len());
    let mut k = 0;
    for p in pieces {
        match p {
            Piece::Lit(l) => parts.push((escape_literal(l), false)),
            Piece::Slot(_) => {
                let (text, session) = match &slots[k] {
                    Resolved::Literal(l) => (escape_literal(l), false),
                    Resolved::Escape(e, w) => {
                        let pad = if *w > 0 {
                            format!("-{w}")
                        } else {
                            String::new()
                        };
                        (format!("%{pad}{}", *e as char), b"uadrhi".contains(e))
                    }
                };
                parts.push((text, session));
                k += 1;
            }
        }
    }
    let plain: String = parts.iter().map(|(t, _)| t.as_str()).collect();
    let mut out = Vec::new();
    let first_session = parts.iter().position(|(_, s)| *s);
    if let (true, Some(first)) = (stops, first_session) {
        let mut places: Vec<usize> = Vec::new();
        let mut at = 0;
        let mut session_at = 0;
        for (i, (t, _)) in parts.iter().enumerate() {
            if i > 0 {
                places.push(at);
            }
            if i == first {
                session_at = at;
            }
            if !t.starts_with('%') {
                for (j, c) in t.char_indices() {
                    if j + c.len_utf8() < t.len()
                        && (c == ' ' || c.is_ascii_punctuation())
                        && c != '%'
                    {
                        places.push(at + j + c.len_utf8());
                    }
                }
            }
            at += t.len();
        }
        places.sort_unstable();
        places.dedup();
        // Usually just before the session fields: the places before them
        // come first, the latest first; then those after (session escapes
        // are empty in processes without a session, so `%r > %q%a` stops
        // after one).
        let (before, after) = places.split_at(places.partition_point(|&p| p <= session_at));
        for &p in before.iter().rev().chain(after).take(MAX_STOPS) {
            out.push(format!("{}%q{}", &plain[..p], &plain[p..]));
        }
    }
    out.push(plain);
    out
}

fn escape_literal(l: &[u8]) -> String {
    String::from_utf8_lossy(l).replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_is_found_after_the_prefix() {
        let l = b"2026-12-01 14:25:27 UTC [1]: [1-1] user=a,db=b LOG:  x: y";
        assert_eq!(label_at(l), Some(47));
        assert_eq!(label_at(b"no label here: at all"), None);
        assert_eq!(label_at(b"xLOG:  glued to a word"), None);
    }

    #[test]
    fn pathological_heads_are_bounded() {
        // A huge head of many words, brackets and colons before a label.
        let mut long = b"[x] a@b:".repeat(20_000);
        long.extend_from_slice(b" LOG:  end");
        let mut many = b"w ".repeat(400);
        many.extend_from_slice(b"LOG:  end");
        let lines: Vec<&[u8]> = vec![&long, &many, b"LOG:  bare", b"%%% LOG:  percent"];
        let started = std::time::Instant::now();
        let got = infer_prefix(lines.iter().copied().cycle().take(2000));
        assert!(started.elapsed().as_secs() < 10);
        if let Ok(i) = got {
            Prefix::parse(i.prefix.as_str()).unwrap();
        }
    }
}
