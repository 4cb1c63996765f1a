//! The stderr labels (`FEHLER:  `, `TIPP:  `, `ASTUCE :  `) and the
//! `[unknown]` of translated logs, for the readers and prefix inference.

use super::{parse_label, Label};
use crate::language::words;
use crate::record::Severity;
use std::sync::OnceLock;

/// A translated label (`FEHLER:  `, `TIPP:  `, `ASTUCE :  `) at the start
/// of `s`: the label, where its text starts and the languages that write it.
pub fn label(s: &[u8]) -> Option<(Label, usize, u16)> {
    let labels = labels();
    let (from, to) = labels.by_first[usize::from(*s.first()?)];
    labels.all[usize::from(from)..usize::from(to)]
        .iter()
        .find(|l| s.starts_with(l.text.as_bytes()))
        .map(|l| (l.label, l.text.len(), l.mask))
}

/// Where the first translated label of `line` starts (for prefix
/// inference, which looks for the label after an unknown prefix).
pub fn find_label(line: &[u8]) -> Option<usize> {
    memchr::memchr(b':', line)?;
    labels()
        .all
        .iter()
        .filter_map(|l| {
            memchr::memmem::find_iter(line, l.text.as_bytes())
                .find(|&at| at == 0 || !is_word_byte(line[at - 1]))
        })
        .min()
}

/// The length of a translated `[unknown]` (`[unbekannt]`) at the start of `s`.
pub fn unknown_name_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'[') {
        return None;
    }
    words::UNKNOWN
        .iter()
        .find(|w| s.starts_with(w.as_bytes()))
        .map(|w| w.len())
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c >= 0x80
}

struct LabelWord {
    text: String,
    label: Label,
    mask: u16,
}

/// Severities with `:  ` after them and the other labels, by first byte,
/// longest first (`ФАТАЛЬНО:  ` before a shorter word it starts with).
struct Labels {
    all: Vec<LabelWord>,
    /// The range of `all` that starts with each byte.
    by_first: [(u16, u16); 256],
}

fn labels() -> &'static Labels {
    static LABELS: OnceLock<Labels> = OnceLock::new();
    LABELS.get_or_init(|| {
        let mut all: Vec<LabelWord> = words::SEVERITIES
            .iter()
            .filter_map(|&(w, en, mask)| {
                Some(LabelWord {
                    text: format!("{w}:  "),
                    label: Label::Severity(Severity::parse(en.as_bytes())?),
                    mask,
                })
            })
            .collect();
        all.extend(words::LABELS.iter().filter_map(|&(w, en, mask)| {
            let (label, _) = parse_label(en.as_bytes())?;
            Some(LabelWord {
                text: w.to_string(),
                label,
                mask,
            })
        }));
        all.sort_by_key(|l| (l.text.as_bytes()[0], std::cmp::Reverse(l.text.len())));
        let mut by_first = [(0u16, 0u16); 256];
        for (i, l) in all.iter().enumerate() {
            let r = &mut by_first[usize::from(l.text.as_bytes()[0])];
            if r.1 == 0 {
                r.0 = i as u16;
            }
            r.1 = i as u16 + 1;
        }
        Labels { all, by_first }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::Language;

    #[test]
    fn severities_and_labels() {
        assert_eq!(
            Severity::translated(b"FEHLER"),
            Some((Severity::Error, Language::from_code("de").unwrap().bit()))
        );
        let (l, n, mask) = label("ASTUCE :  x".as_bytes()).unwrap();
        assert_eq!((l, n), (Label::Hint, 10));
        assert_eq!(Language::first_of(mask).unwrap().code(), "fr");
        assert_eq!(label(b"ERROR:  x"), None);
        assert_eq!(find_label("2026 [1] FEHLER:  x".as_bytes()), Some(9));
    }
}
