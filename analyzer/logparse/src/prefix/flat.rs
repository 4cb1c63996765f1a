//! The common prefixes (`%m [%p] `, `%t [%p]: [%l-1] user=%u,db=%d `, RDS's
//! `%t:%r:%u@%d:[%p]:`) compiled into a straight line of steps, run in one
//! loop without recursion.
//!
//! Where the general matcher has a choice (the end of a free-text value),
//! the flat one takes the general matcher's first choice (the first
//! occurrence of the literal after it). So a line the flat steps match is
//! matched exactly as the general matcher would; a line they do not is
//! handed to the general matcher, unless the prefix has no choice at all.

use super::{parse_any_label, read_fixed, set_free_text, starts_with_literal};
use super::{Escape, Label, Matching, Token};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Literal(Box<[u8]>),
    /// A fixed-shape escape (time, pid, counter).
    Fixed(Escape),
    /// A free-text escape up to the first occurrence of the literal after
    /// it; the literal is the next step.
    FreeText(Escape, Box<[u8]>),
    /// `%q`: a label here ends the prefix.
    SessionOnly,
}

/// What the flat steps made of a line.
pub(super) enum Outcome {
    Matched(Label, usize),
    /// The prefix cannot match this line.
    NoMatch,
    /// The first choice did not fit; later ones may (the general matcher
    /// tries them).
    Unsure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Flat {
    steps: Box<[Step]>,
    /// A free-text step is there: a failed line may match another way.
    has_choices: bool,
}

impl Flat {
    /// The steps of `tokens`, or `None` for shapes left to the general
    /// matcher (padding, `%b`, a free-text value not followed by a literal).
    pub(super) fn compile(tokens: &[Token]) -> Option<Flat> {
        let mut steps = Vec::with_capacity(tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            steps.push(match token {
                Token::Literal(l) => Step::Literal(l.clone().into_boxed_slice()),
                Token::SessionOnly => Step::SessionOnly,
                Token::Padded(..) | Token::Escape(Escape::BackendType) => return None,
                Token::Escape(e) if e.is_free_text() => match tokens.get(i + 1) {
                    Some(Token::Literal(l)) => Step::FreeText(*e, l.clone().into_boxed_slice()),
                    _ => return None,
                },
                Token::Escape(e) => Step::Fixed(*e),
            });
        }
        let has_choices = steps.iter().any(|s| matches!(s, Step::FreeText(..)));
        Some(Flat {
            steps: steps.into_boxed_slice(),
            has_choices,
        })
    }

    /// Runs the steps over `line`, then reads the label.
    pub(super) fn run<'a>(&self, line: &'a [u8], cx: &mut Matching<'a, '_>) -> Outcome {
        let failed = if self.has_choices {
            Outcome::Unsure
        } else {
            Outcome::NoMatch
        };
        let mut pos = 0;
        for step in self.steps.iter() {
            let rest = &line[pos..];
            match step {
                Step::Literal(l) => {
                    if !starts_with_literal(rest, l) {
                        return failed;
                    }
                    pos += l.len();
                }
                Step::Fixed(e) => match read_fixed(*e, rest, cx) {
                    Some(n) => pos += n,
                    None => return failed,
                },
                Step::FreeText(e, next) => {
                    let Some(end) = find(rest, next) else {
                        // No occurrence at all: no other choice either.
                        return Outcome::NoMatch;
                    };
                    let value = &rest[..end];
                    if value.contains(&b'\t') {
                        return failed;
                    }
                    set_free_text(*e, value, cx.fields);
                    pos += end;
                }
                Step::SessionOnly => {
                    if let Some((label, n, words)) = parse_any_label(rest) {
                        cx.fields.ended_at_q = true;
                        cx.fields.label_words = words;
                        return Outcome::Matched(label, pos + n);
                    }
                }
            }
        }
        match parse_any_label(&line[pos..]) {
            Some((label, n, words)) => {
                cx.fields.label_words = words;
                Outcome::Matched(label, pos + n)
            }
            None => failed,
        }
    }
}

/// The first occurrence of `literal` in `s`; most delimiters are one byte.
fn find(s: &[u8], literal: &[u8]) -> Option<usize> {
    match literal {
        [c] => memchr::memchr(*c, s),
        _ => memchr::memmem::find(s, literal),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Matching, Prefix, PrefixFields, COMMON_PREFIXES};
    use crate::time::TimeCache;
    use std::path::PathBuf;

    fn sample_dir(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../sample-logs")
            .join(rel)
    }

    /// What the general matcher alone makes of `line`.
    fn general<'a>(p: &Prefix, line: &'a [u8]) -> Option<(PrefixFields<'a>, super::Label, usize)> {
        let mut fields = PrefixFields::default();
        let mut times = TimeCache::new();
        let mut cx = Matching {
            fields: &mut fields,
            times: &mut times,
            dead_ends: None,
        };
        let (label, offset) = p.match_from(0, line, 0, &mut cx)?;
        Some((fields, label, offset))
    }

    /// Every line of the prefix sample logs, and of the primary's and RDS
    /// server's, under every setting those servers ran with and every
    /// common prefix: the flat steps (with their fall-back) match exactly
    /// what the general matcher matches, with the same fields.
    #[test]
    fn flat_steps_match_as_the_general_matcher() {
        let manifest = std::fs::read_to_string(sample_dir("prefixes/prefixes.tsv")).unwrap();
        let mut settings: Vec<String> = manifest
            .lines()
            .skip(1)
            .map(|l| l.split_once('\t').unwrap().1.to_string())
            .collect();
        settings.extend(COMMON_PREFIXES.iter().map(|s| s.to_string()));
        let mut files: Vec<PathBuf> = manifest
            .lines()
            .skip(1)
            .map(|l| sample_dir(&format!("prefixes/{}", l.split_once('\t').unwrap().0)))
            .collect();
        files.push(sample_dir("primary/postgresql.log"));
        files.push(sample_dir("rds/postgresql.log"));
        let (mut flat_prefixes, mut matched) = (0, 0);
        for setting in &settings {
            let p = Prefix::parse(setting).unwrap();
            flat_prefixes += usize::from(p.flat.is_some());
            for file in &files {
                let text = std::fs::read(file).unwrap();
                for line in text.split(|&c| c == b'\n') {
                    let got = p
                        .match_line(line)
                        .map(|m| (m.fields, m.label, m.text_offset));
                    assert_eq!(
                        got,
                        general(&p, line),
                        "{setting:?} on {}: {}",
                        file.display(),
                        String::from_utf8_lossy(line)
                    );
                    matched += usize::from(got.is_some());
                }
            }
        }
        assert!(flat_prefixes > settings.len() / 2, "{flat_prefixes} flat");
        assert!(matched > 9000, "{matched} lines matched");
    }
}
