//! Statement, duration and plan messages.
//!
//! ```text
//! duration: 1.2 ms  statement: SELECT 1            simple protocol
//! duration: 1.2 ms  parse S_1: SELECT $1           extended protocol steps
//! duration: 1.2 ms  bind S_1/C_1: SELECT $1
//! duration: 1.2 ms  execute S_1/C_1: SELECT $1
//! duration: 1.2 ms  execute fetch from S_1/C_1: ...
//! duration: 1.2 ms  plan:\nQuery Text: ...          auto_explain
//! duration: 1.2 ms                                  log_duration
//! statement: SELECT 1 / execute S_1: ...            log_statement
//! ```

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// Simple query protocol (`statement:`).
    Simple,
    Parse,
    Bind,
    Execute,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub kind: StatementKind,
    pub duration_ms: Option<f64>,
    /// Prepared statement name (`<unnamed>` for the unnamed one).
    pub name: Option<String>,
    pub portal: Option<String>,
    pub text: Option<String>,
    /// Bind parameters `$1..$n`; `None` is SQL NULL.
    pub params: Vec<Option<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanFormat {
    Text,
    Json,
}

/// An auto_explain plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub duration_ms: f64,
    pub format: PlanFormat,
    pub query_text: Option<String>,
    /// The plan as logged, without the `Query Text` part for text plans.
    pub plan: String,
    /// The bind parameters auto_explain wrote (`Query Parameters:`,
    /// PostgreSQL 16+); `None` is SQL NULL.
    pub params: Vec<Option<String>>,
    /// `Query Identifier:` (PostgreSQL 14+ with `compute_query_id` and
    /// `auto_explain.log_verbose`).
    pub query_id: Option<i64>,
}

/// What a `duration:`/`statement:` message is.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Statement(Statement),
    Plan(Plan),
    /// `duration: X ms` alone.
    DurationOnly(f64),
}

/// The buffers of a statement no longer needed, refilled by the next one
/// parsed: a reader that classifies into one event allocates no statement
/// text or name for most records.
#[derive(Default)]
pub(crate) struct Spare {
    text: String,
    name: String,
    /// An emptied parameter list, and cleared buffers for its values.
    params: Vec<Option<String>>,
    values: Vec<String>,
}

impl Spare {
    /// The largest buffer kept from one statement to the next.
    const KEPT_BYTES: usize = 16 * 1024;

    /// Values kept for the next parameter list.
    const KEPT_VALUES: usize = 64;

    /// Keeps the buffers of `s` (text, name, parameters), dropped otherwise.
    pub(crate) fn keep(&mut self, s: Statement) {
        if let Some(t) = s.text.filter(|t| t.capacity() <= Self::KEPT_BYTES) {
            self.text = t;
        }
        if let Some(n) = s.name.filter(|n| n.capacity() <= Self::KEPT_BYTES) {
            self.name = n;
        }
        // Most statements have none: a drain costs about 100 instructions
        // even of nothing.
        if s.params.capacity() != 0 {
            self.keep_params(s.params);
        }
    }

    fn keep_params(&mut self, mut params: Vec<Option<String>>) {
        for mut v in params.drain(..).flatten() {
            if self.values.len() < Self::KEPT_VALUES && v.capacity() <= Self::KEPT_BYTES {
                v.clear();
                self.values.push(v);
            }
        }
        if params.capacity() <= Self::KEPT_VALUES && params.capacity() > self.params.capacity() {
            self.params = params;
        }
    }

    /// The parameters listed in a DETAIL or CONTEXT text (see
    /// [`parse_params`]), in the kept buffers.
    pub(crate) fn params(&mut self, text: &str) -> Option<Vec<Option<String>>> {
        let mut out = std::mem::take(&mut self.params);
        match params_into(text, &mut out, &mut self.values) {
            Some(()) => Some(out),
            None => {
                self.keep_params(out);
                None
            }
        }
    }

    fn refill(buffer: &mut String, s: &str) -> String {
        let mut b = std::mem::take(buffer);
        b.clear();
        b.push_str(s);
        b
    }
}

/// Parses the statement-family messages; `None` for anything else.
pub fn parse(message: &str) -> Option<Parsed> {
    parse_with(message, &mut Spare::default())
}

/// [`parse`] into the buffers of `spare`.
pub(crate) fn parse_with(message: &str, spare: &mut Spare) -> Option<Parsed> {
    if let Some(rest) = message.strip_prefix("duration: ") {
        let (ms, space) = match plain_decimal(rest.as_bytes()) {
            Some(read) => read,
            None => {
                // A char search: far cheaper than a substring search per record.
                let space = rest.find(' ')?;
                (rest[..space].parse().ok()?, space)
            }
        };
        let after = rest[space..].strip_prefix(" ms")?;
        if after.is_empty() {
            return Some(Parsed::DurationOnly(ms));
        }
        let body = after.strip_prefix("  ")?;
        if let Some(plan) = body.strip_prefix("plan:") {
            return Some(Parsed::Plan(parse_plan(
                ms,
                plan.trim_start_matches(['\n', ' ']),
            )));
        }
        return parse_statement(body, Some(ms), spare).map(Parsed::Statement);
    }
    parse_statement(message, None, spare).map(Parsed::Statement)
}

/// Reads `123.456 ` as the server writes a duration (`%.3f`) and gives
/// the number and where the space is; `None` for any other form, which the
/// caller leaves to `str::parse`. With at most 15 digits the digits are an
/// exact integer and 10^k an exact power, and one IEEE division rounds
/// their quotient correctly: the very value `str::parse` gives.
fn plain_decimal(s: &[u8]) -> Option<(f64, usize)> {
    const POWERS: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let mut digits: u64 = 0;
    let whole = digit_run(s, 0, &mut digits, 15)?;
    if whole == 0 {
        return None;
    }
    let (mut i, mut fraction) = (whole, 0);
    if s.get(i) == Some(&b'.') {
        fraction = digit_run(s, i + 1, &mut digits, 15 - whole)?;
        if fraction == 0 {
            return None;
        }
        i += 1 + fraction;
    }
    if s.get(i) != Some(&b' ') {
        return None;
    }
    Some((digits as f64 / POWERS[fraction], i))
}

/// Appends the digits from `s[from]` on to `digits`: how many there were;
/// `None` for more than `room`.
fn digit_run(s: &[u8], from: usize, digits: &mut u64, room: usize) -> Option<usize> {
    let mut n = 0;
    while let Some(&c @ b'0'..=b'9') = s.get(from + n) {
        if n == room {
            return None;
        }
        *digits = *digits * 10 + u64::from(c - b'0');
        n += 1;
    }
    Some(n)
}

fn parse_statement(body: &str, duration_ms: Option<f64>, spare: &mut Spare) -> Option<Statement> {
    let mut stmt = |kind, name: Option<&str>, portal: Option<&str>, text: &str| Statement {
        kind,
        duration_ms,
        name: name.map(|n| Spare::refill(&mut spare.name, n)),
        portal: portal.map(str::to_string),
        text: Some(Spare::refill(&mut spare.text, text)),
        params: Vec::new(),
    };
    if let Some(text) = body.strip_prefix("statement: ") {
        return Some(stmt(StatementKind::Simple, None, None, text));
    }
    for (word, kind) in [
        ("execute ", StatementKind::Execute),
        ("parse ", StatementKind::Parse),
        ("bind ", StatementKind::Bind),
    ] {
        if let Some(rest) = body.strip_prefix(word) {
            let rest = rest.strip_prefix("fetch from ").unwrap_or(rest);
            let (names, text) = split_at_colon_space(rest)?;
            if names.contains(' ') && !names.starts_with("<unnamed>") {
                return None;
            }
            let (name, portal) = match names.split_once('/') {
                Some((n, p)) => (n, Some(p)),
                None => (names, None),
            };
            return Some(stmt(kind, Some(name), portal, text));
        }
    }
    None
}

/// `s.split_once(": ")` without building a substring searcher per call:
/// the names before it are a few bytes.
fn split_at_colon_space(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut at = 0;
    loop {
        let colon = at + memchr::memchr(b':', &b[at..])?;
        if b.get(colon + 1) == Some(&b' ') {
            return Some((&s[..colon], &s[colon + 2..]));
        }
        at = colon + 1;
    }
}

fn parse_plan(duration_ms: f64, body: &str) -> Plan {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') {
        return json_plan(duration_ms, trimmed);
    }
    let mut plan = Plan {
        duration_ms,
        format: PlanFormat::Text,
        query_text: None,
        plan: trimmed.to_string(),
        params: Vec::new(),
        query_id: None,
    };
    if let Some(rest) = trimmed.strip_prefix("Query Text: ") {
        // The plan starts at the first node line: `Name  (cost=...`.
        let mut offset = 0;
        let mut split = None;
        for line in rest.split_inclusive('\n') {
            if offset > 0 && is_plan_node_line(line) {
                split = Some(offset);
                break;
            }
            offset += line.len();
        }
        let (head, tree) = match split {
            Some(at) => (rest[..at].trim_end_matches('\n'), &rest[at..]),
            None => (rest, ""),
        };
        // PostgreSQL 16+ writes the parameters between the text and the tree.
        let (text, params) = split_query_parameters(head);
        plan.query_text = Some(text.to_string());
        plan.params = params;
        plan.plan = tree.to_string();
    }
    plan.query_id = text_query_id(&plan.plan);
    plan
}

fn json_plan(duration_ms: f64, text: &str) -> Plan {
    let doc = serde_json::from_str::<serde_json::Value>(text).ok();
    let field = |k: &str| doc.as_ref().and_then(|v| v.get(k));
    Plan {
        duration_ms,
        format: PlanFormat::Json,
        query_text: field("Query Text")
            .and_then(|q| q.as_str())
            .map(str::to_string),
        params: field("Query Parameters")
            .and_then(|p| p.as_str())
            .and_then(parse_param_list)
            .unwrap_or_default(),
        query_id: field("Query Identifier").and_then(|q| q.as_i64()),
        plan: text.to_string(),
    }
}

/// Takes a last `Query Parameters: $1 = ...` line off a text plan's query
/// text. (A value may hold newlines, so it runs to the end.)
fn split_query_parameters(head: &str) -> (&str, Vec<Option<String>>) {
    const KEY: &str = "\nQuery Parameters: ";
    if let Some(at) = head.rfind(KEY) {
        if let Some(params) = parse_param_list(&head[at + KEY.len()..]) {
            return (&head[..at], params);
        }
    }
    (head, Vec::new())
}

/// `Query Identifier: -1234` after a text plan's tree.
fn text_query_id(tree: &str) -> Option<i64> {
    const KEY: &str = "Query Identifier: ";
    let at = tree
        .strip_prefix(KEY)
        .map(|_| 0)
        .or_else(|| tree.find("\nQuery Identifier: ").map(|i| i + 1))?;
    let value = &tree[at + KEY.len()..];
    value.lines().next()?.trim().parse().ok()
}

fn is_plan_node_line(line: &str) -> bool {
    !line.starts_with(' ')
        && (line.contains("  (cost=")
            || line.contains("  (actual time=")
            || line.contains("  (never executed)"))
}

/// Parses bind parameters: `$1 = '42', $2 = NULL, $3 = 'it''s'`.
/// Accepts the DETAIL `parameters: ...` and the CONTEXT `... with parameters: ...` forms.
pub fn parse_params(text: &str) -> Option<Vec<Option<String>>> {
    Spare::default().params(text)
}

fn params_into(text: &str, out: &mut Vec<Option<String>>, values: &mut Vec<String>) -> Option<()> {
    const KEY: &str = "parameters: ";
    // A DETAIL starts with it: no substring search for the common case.
    let list = match text.strip_prefix(KEY) {
        Some(list) => list,
        None => &text[text.find(KEY)? + KEY.len()..],
    };
    param_list_into(list, out, values)
}

/// Parses a parameter list as the server writes it: `$1 = '42', $2 = NULL`.
pub fn parse_param_list(text: &str) -> Option<Vec<Option<String>>> {
    let mut out = Vec::new();
    param_list_into(text, &mut out, &mut Vec::new())?;
    Some(out)
}

/// [`parse_param_list`] into `out`, each value written into a buffer taken
/// from `values` while any is left.
fn param_list_into(
    text: &str,
    out: &mut Vec<Option<String>>,
    values: &mut Vec<String>,
) -> Option<()> {
    let s = text.as_bytes();
    let mut i = 0;
    loop {
        if s.get(i) != Some(&b'$') {
            return None;
        }
        i += 1;
        let digits = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        i += digits;
        if !s[i..].starts_with(b" = ") {
            return None;
        }
        i += 3;
        if s[i..].starts_with(b"NULL") {
            out.push(None);
            i += 4;
        } else if s.get(i) == Some(&b'\'') {
            let (val, end) = quoted_value(text, i + 1, values.pop().unwrap_or_default())?;
            i = end;
            // Values cut by log_parameter_max_length end with "...".
            if s[i..].starts_with(b"...") {
                i += 3;
            }
            out.push(Some(val));
        } else {
            return None;
        }
        if s[i..].starts_with(b", ") {
            i += 2;
        } else {
            return Some(());
        }
    }
}

/// The value of a quoted parameter whose text starts at `from` (after its
/// opening quote), with `''` read as `'`, written into the empty `val`, and
/// the index past its closing quote. Slices of `text` between quotes
/// (ASCII) are whole characters, so no byte is checked again.
fn quoted_value(text: &str, from: usize, mut val: String) -> Option<(String, usize)> {
    let s = text.as_bytes();
    let mut at = from;
    loop {
        let quote = at + memchr::memchr(b'\'', &s[at..])?;
        val.push_str(&text[at..quote]);
        if s.get(quote + 1) != Some(&b'\'') {
            return Some((val, quote + 1));
        }
        val.push('\'');
        at = quote + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::plain_decimal;

    #[test]
    fn the_quick_splits_and_values_read_as_the_general_ones() {
        use super::{parse_param_list, split_at_colon_space};
        for s in [
            "P_1: SELECT 1",
            "a:b: c",
            "::: x",
            "x",
            "x:",
            "x: ",
            ": y",
            "<unnamed>/C_1: END",
        ] {
            assert_eq!(split_at_colon_space(s), s.split_once(": "), "{s:?}");
        }
        let list = "$1 = 'it''s', $2 = NULL, $3 = '', $4 = '''', $5 = 'ü''ber'..., $6 = 'x'";
        let mut want: Vec<Option<String>> = ["it's", "", "'", "ü'ber", "x"]
            .iter()
            .map(|v| Some(v.to_string()))
            .collect();
        want.insert(1, None);
        assert_eq!(parse_param_list(list), Some(want));
        assert_eq!(parse_param_list("$1 = 'open"), None);
        assert_eq!(parse_param_list("$1 = 'a'' "), None);
    }

    #[test]
    fn kept_parameter_buffers_give_the_same_values() {
        use super::{parse_params, Spare, Statement, StatementKind};
        let mut spare = Spare::default();
        let lists = [
            "parameters: $1 = 'a long first value', $2 = NULL, $3 = 'x'",
            "parameters: $1 = 'b'",
            "parameters: $1 = 'broken",
            "call with parameters: $1 = 'it''s', $2 = '', $3 = 'z', $4 = NULL",
            "no list here",
        ];
        for _ in 0..3 {
            for text in lists {
                let got = spare.params(text);
                assert_eq!(got, parse_params(text), "{text:?}");
                spare.keep(Statement {
                    kind: StatementKind::Simple,
                    duration_ms: None,
                    name: None,
                    portal: None,
                    text: None,
                    params: got.unwrap_or_default(),
                });
            }
        }
    }

    #[test]
    fn plain_decimals_read_as_str_parse_reads_them() {
        let mut texts: Vec<String> = [
            "0.000",
            "0.001",
            "0.281",
            "1.498",
            "12345.678",
            "999999999999.999",
        ]
        .map(String::from)
        .to_vec();
        // Every millisecond count below 20 s, and a spread of larger ones.
        texts.extend(
            (0..20_000_000u64)
                .step_by(37)
                .map(|n| format!("{}.{:03}", n / 1000, n % 1000)),
        );
        texts.extend(
            (0..64).map(|e| format!("{}.{:03}", (1u64 << e) % 1_000_000_000_000, e * 13 % 1000)),
        );
        for t in &texts {
            let with_space = format!("{t} ms");
            let want: f64 = t.parse().unwrap();
            let (got, at) = plain_decimal(with_space.as_bytes()).expect(t);
            assert_eq!((got.to_bits(), at), (want.to_bits(), t.len()), "{t}");
        }
        // Other forms are left to str::parse.
        for t in [
            "1e3 ms",
            "-1.0 ms",
            "1. ms",
            ".5 ms",
            "1234567890123456 ms",
            "1.5ms",
            "x ms",
            "",
        ] {
            assert_eq!(plain_decimal(t.as_bytes()), None, "{t}");
        }
    }
}
