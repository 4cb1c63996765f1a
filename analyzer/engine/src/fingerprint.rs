//! Query fingerprints: statements grouped by what they do, not by their
//! literal values.
//!
//! The real PostgreSQL parser (libpg_query through `pg_query`) gives the
//! fingerprint and the `$n`-normalized text, but it is too slow to run on
//! every logged statement. A lexer runs first: it blanks literals (strings
//! become `''`, numbers `0`), drops comments, collapses whitespace and
//! `IN (...)` lists. Its output is still valid SQL wherever the original was,
//! and has the same parse tree up to constant values, so pg_query's
//! fingerprint of it equals the fingerprint of the original. The parser runs
//! once per distinct lexed text; a cache keyed by its hash serves the rest.
//!
//! Statements pg_query rejects (syntax errors, texts cut short) keep the
//! lexed text as their normalized form and a hash of it as fingerprint, and
//! are marked `parse_failed`; they are never dropped.
//!
//! The parser's memory grows with the statement (a parse tree node per
//! token, more for its normalization), and libpg_query ends the process when
//! an allocation fails. So statements over [`PARSE_MAX_BYTES`] after lexing,
//! or nested deeper than [`PARSE_MAX_DEPTH`], never reach it: they are
//! grouped like rejected ones and marked `parse_skipped` with the reason.
//! Texts over [`NORMALIZE_MAX_BYTES`] are fingerprinted by the parser but
//! shown in the lexer's form, as pg_query's normalization costs far more
//! memory than its fingerprint. Shown texts are clipped to
//! [`NORMALIZED_MAX_CHARS`].

use crate::text::{head_chars, truncate_chars};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

pub use pglog_logparse::{is_own_query, PGLOG_MARKER};

mod lex;
pub use lex::lex_into;
#[cfg(test)]
use lex::SPILL_AT;
use lex::{is_ident, lex, text_of, Spill};

/// How many distinct lexed texts the cache holds before it starts over.
const CACHE_CAP: usize = 100_000;
/// How many bytes of normalized text the cache holds before it starts over.
const CACHE_TEXT_BYTES: usize = 32 << 20;

/// The longest lexed text given to the parser. Measured with libpg_query 18:
/// fingerprinting costs about 120 bytes of memory per byte of text, so this
/// keeps a parse near 32 MB.
pub const PARSE_MAX_BYTES: usize = 256 * 1024;
/// The deepest bracket nesting given to the parser (PostgreSQL's own grammar
/// stack gives up at 10,000; deep trees also mean deep recursion).
pub const PARSE_MAX_DEPTH: usize = 1000;
/// The longest lexed text whose display form comes from pg_query's
/// normalization: on a long target list it needs about 4 KB per token.
pub const NORMALIZE_MAX_BYTES: usize = 8 * 1024;
/// The longest normalized text kept for a group; the rest is cut with `…`.
pub const NORMALIZED_MAX_CHARS: usize = 16 * 1024;

/// A statement's group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryKey {
    /// pg_query's 64-bit fingerprint, or a hash of the lexed text when
    /// `parse_failed`.
    pub fingerprint: u64,
    /// Text with `$n` placeholders.
    pub normalized: Arc<str>,
    /// pg_query rejected the statement; `normalized` comes from the lexer.
    pub parse_failed: bool,
    /// Why the statement was not given to pg_query (too long, too deep);
    /// then `normalized` comes from the lexer.
    pub parse_skipped: Option<Arc<str>>,
}

/// Fingerprints statements with a per-worker cache.
pub struct Fingerprinter {
    cache: HashMap<u64, QueryKey, foldhash::fast::FixedState>,
    /// Normalized bytes held by `cache`.
    cache_text: usize,
    /// The lexed text (UTF-8 but for a cut in a spilled long text).
    lexed: Vec<u8>,
    hasher: foldhash::fast::FixedState,
    /// pg_query calls made, for the cache-hit figure in benchmarks.
    pub parser_calls: u64,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Fingerprinter::new()
    }
}

impl Fingerprinter {
    pub fn new() -> Fingerprinter {
        Fingerprinter {
            cache: HashMap::with_hasher(foldhash::fast::FixedState::with_seed(0x5eed)),
            cache_text: 0,
            lexed: Vec::with_capacity(1024),
            hasher: foldhash::fast::FixedState::with_seed(0x9e37),
            parser_calls: 0,
        }
    }

    /// The group of `sql`.
    pub fn key(&mut self, sql: &str) -> QueryKey {
        // Texts without literals (extended-protocol statements with `$n`)
        // are their own lexed form but for the trailing `;` and spaces the
        // lexer drops, and lexing is idempotent: look them up so before
        // lexing. (A text with literals or comments is no lexed form, so
        // it finds nothing but a 64-bit collision, as any lookup may.)
        let direct = sql.trim_end_matches([';', ' ']);
        if let Some(k) = self.cache.get(&self.hash(direct)) {
            return k.clone();
        }
        let mut spill = Spill {
            hasher: self.hasher.build_hasher(),
            bytes: 0,
        };
        lex(sql, &mut self.lexed, Some(&mut spill));
        let h = if spill.bytes == 0 {
            self.hash_bytes(&self.lexed)
        } else {
            // The cut may have split a character: hash the text as shown.
            self.lexed = text_of(&self.lexed).into_owned().into_bytes();
            let mut h = self.hasher.build_hasher();
            h.write(&self.lexed);
            h.write_u64(spill.hasher.finish());
            h.write_usize(spill.bytes);
            h.finish()
        };
        if let Some(k) = self.cache.get(&h) {
            return k.clone();
        }
        let lexed = text_of(&self.lexed);
        let key = match skip_reason(&lexed, lexed.len() + spill.bytes) {
            Some(reason) => fallback_key(&lexed, h, Some(reason)),
            None => {
                self.parser_calls += 1;
                parse_key(&lexed, h)
            }
        };
        if self.cache.len() >= CACHE_CAP || self.cache_text >= CACHE_TEXT_BYTES {
            self.cache.clear();
            self.cache_text = 0;
        }
        self.cache_text += key.normalized.len();
        self.cache.insert(h, key.clone());
        // One huge statement must not keep its buffer's memory for the rest of the run.
        if self.lexed.capacity() > 4 * PARSE_MAX_BYTES {
            self.lexed = Vec::with_capacity(1024);
        }
        key
    }

    fn hash(&self, s: &str) -> u64 {
        self.hash_bytes(s.as_bytes())
    }

    fn hash_bytes(&self, b: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(b);
        h.finish()
    }
}

/// Why `lexed` must not be given to the parser, if it must not.
fn skip_reason(lexed: &str, len: usize) -> Option<Arc<str>> {
    if len > PARSE_MAX_BYTES {
        return Some(
            format!(
                "statement of {len} bytes (after removing literals and comments) is over the parser's limit of {PARSE_MAX_BYTES}"
            )
            .into(),
        );
    }
    let depth = max_depth(lexed);
    (depth > PARSE_MAX_DEPTH).then(|| {
        format!("brackets nested {depth} deep, over the parser's limit of {PARSE_MAX_DEPTH}").into()
    })
}

/// The deepest `(`/`[` nesting of a lexed text (literals are blanked, so
/// brackets in strings do not count; quoted identifiers are rare enough).
fn max_depth(lexed: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for &c in lexed.as_bytes() {
        match c {
            b'(' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn parse_key(lexed: &str, lexed_hash: u64) -> QueryKey {
    let Ok(fp) = pg_query::fingerprint(lexed, 0, 0) else {
        return fallback_key(lexed, lexed_hash, None);
    };
    let normalized = if lexed.len() > NORMALIZE_MAX_BYTES {
        Ok(placeholders(lexed))
    } else {
        pg_query::normalize(lexed)
    };
    let Ok(normalized) = normalized else {
        return fallback_key(lexed, lexed_hash, None);
    };
    // The parser leaves constants of utility statements (DDL, SET)
    // alone; show those with placeholders too, not as blanks.
    let normalized = if normalized == lexed {
        placeholders(lexed)
    } else {
        normalized
    };
    QueryKey {
        fingerprint: fp.value,
        normalized: truncate_chars(
            normalized.trim().trim_end_matches(';').trim_end(),
            NORMALIZED_MAX_CHARS,
        )
        .into(),
        parse_failed: false,
        parse_skipped: None,
    }
}

/// The group of a text the parser rejected (`skipped` is `None`) or was
/// not given.
fn fallback_key(lexed: &str, lexed_hash: u64, skipped: Option<Arc<str>>) -> QueryKey {
    // Numbering placeholders never shortens a text: clip first.
    let head = head_chars(lexed, NORMALIZED_MAX_CHARS);
    let mut normalized = truncate_chars(&placeholders(head), NORMALIZED_MAX_CHARS);
    if head.len() < lexed.len() && !normalized.ends_with('…') {
        normalized.push('…');
    }
    QueryKey {
        fingerprint: lexed_hash,
        normalized: normalized.into(),
        parse_failed: skipped.is_none(),
        parse_skipped: skipped,
    }
}

/// The lexed text with its blanked literals numbered `$1`, `$2`, ... as the
/// parser's normalization would show them.
fn placeholders(lexed: &str) -> String {
    let b = lexed.as_bytes();
    let mut out = String::with_capacity(lexed.len() + 8);
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let prev_ident = i > 0 && is_ident(b[i - 1]);
        if c == b'\'' && b.get(i + 1) == Some(&b'\'') {
            n += 1;
            out.push_str(&format!("${n}"));
            i += 2;
        } else if c == b'0' && !prev_ident && !b.get(i + 1).is_some_and(|&d| is_ident(d)) {
            n += 1;
            out.push_str(&format!("${n}"));
            i += 1;
        } else if c == b'"' {
            let end = memchr::memchr(b'"', &b[i + 1..]).map_or(b.len(), |j| i + 2 + j);
            out.push_str(&lexed[i..end]);
            i = end;
        } else {
            let start = i;
            i += 1;
            while i < b.len() && !matches!(b[i], b'\'' | b'0' | b'"') {
                i += 1;
            }
            out.push_str(&lexed[start..i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(s: &str) -> String {
        let mut out = String::new();
        lex_into(s, &mut out);
        out
    }

    #[test]
    fn literals_comments_and_space() {
        assert_eq!(
            lex("SELECT  * FROM t1 -- why\n WHERE a = 'x''y' AND b=12.5e3 /* c /* d */ */ AND c = E'\\'q'"),
            "SELECT * FROM t1 WHERE a = '' AND b=0 AND c = ''"
        );
        assert_eq!(
            lex("select $1, $$body$$, $f$x$f$, x2.col3;"),
            "select $1, '', '', x2.col3"
        );
        assert_eq!(
            lex("SELECT B'0101', X'ff', U&'d\\0061t'"),
            "SELECT '', '', ''"
        );
    }

    /// A text looked up before lexing, its trailing `;` and spaces left
    /// out, gets the key lexing would give it.
    #[test]
    fn texts_without_literals_are_found_before_lexing() {
        let mut f = Fingerprinter::new();
        let plain = f.key("UPDATE t SET v = v + $1 WHERE id = $2");
        for q in [
            "UPDATE t SET v = v + $1 WHERE id = $2;",
            "UPDATE t SET v = v + $1 WHERE id = $2 ; ",
        ] {
            let mut fresh = Fingerprinter::new();
            assert_eq!(f.key(q), fresh.key(q), "{q}");
            assert_eq!(f.key(q), plain, "{q}");
        }
        assert_eq!(f.parser_calls, 1);
        // Literals are no lexed form: lexed, then parsed.
        let q = "UPDATE t SET v = v + 5 WHERE id = 7;";
        assert_eq!(f.key(q), Fingerprinter::new().key(q));
        assert_eq!(f.parser_calls, 2);
    }

    #[test]
    fn lexing_is_idempotent() {
        for q in [
            "SELECT  a, 'x', 12 FROM t -- c\n WHERE b IN (1, 2) AND c = E'\\''",
            "select $1, $$body$$, x2.col3;",
            "UPDATE t SET v = v + -5 WHERE id = $1",
        ] {
            let once = lex(q);
            assert_eq!(lex(&once), once, "{q}");
        }
    }

    #[test]
    fn column_positions_are_kept_constants_are_not() {
        assert_eq!(
            lex("SELECT a, count(*) FROM t WHERE x = 5 GROUP BY 1, 2 ORDER BY 2 DESC, 1 LIMIT 5"),
            "SELECT a, count(*) FROM t WHERE x = 0 GROUP BY 1, 2 ORDER BY 2 DESC, 1 LIMIT 0"
        );
        // In a subquery too; not in expressions, windows or aggregates.
        assert_eq!(
            lex("SELECT * FROM (SELECT a FROM t ORDER BY 1) s ORDER BY a + 1, 2::int"),
            "SELECT * FROM (SELECT a FROM t ORDER BY 1) s ORDER BY a + 0, 0::int"
        );
        assert_eq!(
            lex("SELECT sum(x) OVER (ORDER BY 1), array_agg(x ORDER BY 2) FROM t GROUP BY 3"),
            "SELECT sum(x) OVER (ORDER BY 0), array_agg(x ORDER BY 0) FROM t GROUP BY 3"
        );
        let mut f = Fingerprinter::new();
        let k =
            f.key("select o.n, count(*) from t where c = 'x' group by 1, 2 order by 1 asc limit 1");
        assert_eq!(
            &*k.normalized,
            "select o.n, count(*) from t where c = $1 group by 1, 2 order by 1 asc limit $2"
        );
    }

    #[test]
    fn in_lists_collapse_other_lists_do_not() {
        assert_eq!(lex("WHERE id IN (1,2,3)"), "WHERE id IN (0)");
        assert_eq!(lex("WHERE id in ( 'a' , 'b' )"), "WHERE id in ( '' )");
        assert_eq!(lex("VALUES (1, 2)"), "VALUES (0, 0)");
        assert_eq!(lex("SELECT f(1, 2)"), "SELECT f(0, 0)");
    }

    #[test]
    fn pg_query_groups_in_lists_and_literals() {
        let mut f = Fingerprinter::new();
        let a = f.key("SELECT * FROM t WHERE id IN (1,2,3)");
        let b = f.key("select *  from t where id in (1,2,3,4,5) ;");
        let c = f.key("SELECT * FROM t WHERE id IN ($1, $2)");
        assert_eq!(a.fingerprint, b.fingerprint);
        assert!(!a.parse_failed);
        assert_eq!(&*a.normalized, "SELECT * FROM t WHERE id IN ($1)");
        // The extended protocol's `$n` parameters group with literals too.
        assert_eq!(c.fingerprint, a.fingerprint);
        let d = f.key("SELECT * FROM t WHERE id > 7");
        assert_ne!(a.fingerprint, d.fingerprint);
    }

    #[test]
    fn rejected_statements_keep_a_marked_group() {
        let mut f = Fingerprinter::new();
        let a = f.key("SELEC 1 FROM t WHERE x = 'a'");
        let b = f.key("SELEC 1 FROM t WHERE x = 'b'");
        assert!(a.parse_failed);
        assert_eq!(a, b);
        assert_eq!(&*a.normalized, "SELEC $1 FROM t WHERE x = $2");
    }

    #[test]
    fn interval_and_typmod_literals_still_parse() {
        let mut f = Fingerprinter::new();
        assert!(!f.key("SELECT now() - interval '5 minutes'").parse_failed);
        assert!(
            !f.key("CREATE TABLE x (a varchar(20), b numeric(10,2))")
                .parse_failed
        );
        assert!(!f.key("SET statement_timeout = 5000").parse_failed);
    }

    #[test]
    fn long_and_deep_statements_never_reach_the_parser() {
        let mut f = Fingerprinter::new();
        let cols = vec!["a"; PARSE_MAX_BYTES].join(",");
        let long = f.key(&format!("SELECT {cols} FROM t"));
        assert!(long
            .parse_skipped
            .as_deref()
            .unwrap()
            .contains("over the parser's limit"));
        assert!(!long.parse_failed);
        assert!(long.normalized.chars().count() <= NORMALIZED_MAX_CHARS + 1);
        assert!(long.normalized.ends_with('…'));
        let deep = f.key(&format!(
            "SELECT {}1{}",
            "(".repeat(PARSE_MAX_DEPTH + 1),
            ")".repeat(PARSE_MAX_DEPTH + 1)
        ));
        assert!(deep
            .parse_skipped
            .as_deref()
            .unwrap()
            .contains("nested 1001 deep"));
        assert_eq!(f.parser_calls, 0);
        // Same text, same group; another text, another group.
        assert_eq!(f.key(&format!("SELECT {cols} FROM t")), long);
        assert_ne!(
            f.key(&format!("SELECT {cols} FROM u")).fingerprint,
            long.fingerprint
        );
    }

    #[test]
    fn long_statements_keep_the_parsers_fingerprint() {
        // Over the normalization limit, under the parse limit: grouped by
        // the parser as always, with literals and IN lists folded.
        let mut f = Fingerprinter::new();
        let cols = vec!["a"; NORMALIZE_MAX_BYTES / 2 + 10].join(",");
        let a = f.key(&format!("SELECT {cols} FROM t WHERE x = 1"));
        let b = f.key(&format!("SELECT {cols} FROM t WHERE x = 'y'"));
        assert!(a.parse_skipped.is_none() && !a.parse_failed);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(f.parser_calls, 2);
        assert!(a.normalized.ends_with("FROM t WHERE x = $1"));
    }

    #[test]
    fn texts_of_many_mb_are_hashed_whole_but_not_kept() {
        let mut f = Fingerprinter::new();
        let text = |middle: &str| {
            format!(
                "SELECT {} {middle} {} FROM t",
                vec!["a"; 1 << 20].join(","),
                vec!["b"; 1 << 20].join(",")
            )
        };
        let a = f.key(&text("x"));
        assert!(a
            .parse_skipped
            .as_deref()
            .unwrap()
            .contains(&format!("statement of {} bytes", text("x").len())));
        assert!(
            f.lexed.capacity() < 4 * SPILL_AT,
            "the lexed copy stays small"
        );
        assert_eq!(f.key(&text("x")), a);
        // A difference in the dropped middle is still a different group.
        assert_ne!(f.key(&text("y")).fingerprint, a.fingerprint);
        // Literals are still folded there.
        assert_eq!(
            f.key(&text("'p'")).fingerprint,
            f.key(&text("'q'")).fingerprint
        );
    }
}
