//! The server's message format strings (`"duration: %s ms  statement: %s"`,
//! gettext's `"%2$s ... %1$s"`) as matchers: a message written from a format
//! is matched back to it, its arguments taken out, and another format (the
//! English msgid of a translated msgstr) written with them.

use std::fmt;

/// What a conversion matches in the written message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// `%s`, `%m` (an error text), `%.*s`: any text, possibly empty.
    Text,
    /// `%d`, `%lld`, `%02d`, ...: an optional minus and digits.
    Signed,
    /// `%u`, `%zu`, `%llu`, `%o`: digits.
    Unsigned,
    /// `%X`, `%x`, `%08X`: hexadecimal digits.
    Hex,
    /// `%f`, `%.3f`, `%g`: a number with optional sign, point and exponent.
    Float,
    /// `%c`: one character.
    Char,
}

impl Conversion {
    fn from_letter(c: u8) -> Option<Conversion> {
        Some(match c {
            b's' | b'm' => Conversion::Text,
            b'd' | b'i' => Conversion::Signed,
            b'u' | b'o' => Conversion::Unsigned,
            b'x' | b'X' | b'p' => Conversion::Hex,
            b'f' | b'F' | b'g' | b'G' | b'e' | b'E' => Conversion::Float,
            b'c' => Conversion::Char,
            _ => return None,
        })
    }

    /// Whether `s` can be this conversion's output.
    fn accepts(self, s: &str) -> bool {
        let b = s.as_bytes();
        match self {
            Conversion::Text => true,
            Conversion::Signed => {
                let d = b.strip_prefix(b"-").unwrap_or(b);
                !d.is_empty() && d.iter().all(u8::is_ascii_digit)
            }
            Conversion::Unsigned => !b.is_empty() && b.iter().all(u8::is_ascii_digit),
            Conversion::Hex => !b.is_empty() && b.iter().all(u8::is_ascii_hexdigit),
            Conversion::Float => {
                !b.is_empty()
                    && b.iter().any(u8::is_ascii_digit)
                    && b.iter().all(|c| {
                        c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E')
                    })
                    || matches!(s, "inf" | "-inf" | "nan" | "Infinity" | "-Infinity" | "NaN")
            }
            Conversion::Char => s.chars().count() == 1,
        }
    }
}

/// One conversion of a format: what it matches and which argument it prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub conversion: Conversion,
    /// The argument's index (0-based), from `%N$` or the conversion's order.
    pub arg: usize,
}

/// A format string that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// A `%` at `offset` not followed by a conversion this matcher knows.
    UnknownConversion { offset: usize },
    /// The format mixes `%N$` and plain conversions.
    MixedPositions,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::UnknownConversion { offset } => {
                write!(f, "unknown conversion at byte {offset}")
            }
            FormatError::MixedPositions => write!(f, "mixes %N$ and plain conversions"),
        }
    }
}

impl std::error::Error for FormatError {}

/// A compiled format: fixed words with conversions between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFormat {
    /// `literals.len() == slots.len() + 1`; literal `i` comes before slot `i`.
    literals: Vec<String>,
    slots: Vec<Slot>,
    /// Number of arguments the format takes (hidden `*` precisions included).
    arity: usize,
    /// Bytes of fixed words, and the longest of them: a text shorter than
    /// the one or without the other is rejected before any backtracking.
    fixed: usize,
    longest: usize,
}

/// The most backtracking steps one match may take: a pathological format
/// and text fail to match rather than take long.
const STEP_BUDGET: usize = 4096;

impl MessageFormat {
    pub fn parse(format: &str) -> Result<MessageFormat, FormatError> {
        let b = format.as_bytes();
        let (mut literals, mut slots) = (vec![String::new()], Vec::new());
        let (mut next_arg, mut positional, mut plain) = (0usize, false, false);
        let mut arity = 0usize;
        let mut i = 0;
        let mut lit_start = 0;
        while i < b.len() {
            if b[i] != b'%' {
                i += 1;
                continue;
            }
            literals.last_mut().unwrap().push_str(&format[lit_start..i]);
            let start = i;
            i += 1;
            if b.get(i) == Some(&b'%') {
                literals.last_mut().unwrap().push('%');
                i += 1;
                lit_start = i;
                continue;
            }
            // %N$
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let position = if j > i && b.get(j) == Some(&b'$') {
                let n: usize = format[i..j].parse().unwrap_or(0);
                i = j + 1;
                Some(n.saturating_sub(1))
            } else {
                None
            };
            while i < b.len() && matches!(b[i], b'-' | b'+' | b' ' | b'#' | b'0') {
                i += 1;
            }
            let mut hidden = 0;
            // Width, then precision: digits or `*` (an argument of its own).
            for part in 0..2 {
                if part == 1 {
                    if b.get(i) != Some(&b'.') {
                        break;
                    }
                    i += 1;
                }
                if b.get(i) == Some(&b'*') {
                    hidden += 1;
                    i += 1;
                } else {
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            while i < b.len() && matches!(b[i], b'h' | b'l' | b'z' | b'j' | b't' | b'L' | b'q') {
                i += 1;
            }
            let conversion = b
                .get(i)
                .and_then(|&c| Conversion::from_letter(c))
                .ok_or(FormatError::UnknownConversion { offset: start })?;
            let is_errno = b[i] == b'm';
            i += 1;
            let arg = match position {
                Some(n) => {
                    positional = true;
                    arity = arity.max(n + 1);
                    n
                }
                None if is_errno => usize::MAX,
                None => {
                    plain = true;
                    let n = next_arg + hidden;
                    next_arg = n + 1;
                    arity = arity.max(next_arg);
                    n
                }
            };
            if positional && plain {
                return Err(FormatError::MixedPositions);
            }
            slots.push(Slot { conversion, arg });
            literals.push(String::new());
            lit_start = i;
        }
        literals.last_mut().unwrap().push_str(&format[lit_start..]);
        // `%m` is errno's text: an argument after all the others.
        for s in slots.iter_mut().filter(|s| s.arg == usize::MAX) {
            s.arg = arity;
            arity += 1;
        }
        let fixed = literals.iter().map(String::len).sum();
        let longest = (0..literals.len())
            .max_by_key(|&i| literals[i].len())
            .unwrap_or(0);
        Ok(MessageFormat {
            literals,
            slots,
            arity,
            fixed,
            longest,
        })
    }

    pub fn literals(&self) -> &[String] {
        &self.literals
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn arity(&self) -> usize {
        self.arity
    }

    /// Bytes of fixed words: the more, the more specific the format.
    pub fn fixed_len(&self) -> usize {
        self.fixed
    }

    /// Whether the whole of `text` is this format's output.
    pub fn is_match(&self, text: &str) -> bool {
        self.match_spans(text).is_some()
    }

    /// The arguments of `text`, by argument index (`None` for an argument no
    /// conversion prints, such as a `*` precision), when the whole of it is
    /// this format's output. The leftmost reading wins.
    pub fn captures<'t>(&self, text: &'t str) -> Option<Vec<Option<&'t str>>> {
        let spans = self.match_spans(text)?;
        let mut args = vec![None; self.arity];
        for (slot, (s, e)) in self.slots.iter().zip(spans) {
            args[slot.arg].get_or_insert(&text[s..e]);
        }
        Some(args)
    }

    /// This format written with `args` (by argument index); a missing
    /// argument is written as empty text.
    pub fn render(&self, args: &[Option<&str>]) -> String {
        let mut out = String::with_capacity(self.fixed_len() + 16);
        for (i, lit) in self.literals.iter().enumerate() {
            out.push_str(lit);
            if let Some(slot) = self.slots.get(i) {
                out.push_str(args.get(slot.arg).copied().flatten().unwrap_or(""));
            }
        }
        out
    }

    /// Byte spans of each slot's text in `text`.
    fn match_spans(&self, text: &str) -> Option<Vec<(usize, usize)>> {
        let longest = self.literals[self.longest].as_bytes();
        if text.len() < self.fixed
            || (!longest.is_empty() && memchr::memmem::find(text.as_bytes(), longest).is_none())
        {
            return None;
        }
        let rest = text.strip_prefix(self.literals[0].as_str())?;
        let mut spans = Vec::with_capacity(self.slots.len());
        let mut budget = STEP_BUDGET;
        self.match_from(text, text.len() - rest.len(), 0, &mut spans, &mut budget)
            .then_some(spans)
    }

    /// Matches slot `k` onwards from byte `at`, backtracking over where each
    /// slot's text ends.
    fn match_from(
        &self,
        text: &str,
        at: usize,
        k: usize,
        spans: &mut Vec<(usize, usize)>,
        budget: &mut usize,
    ) -> bool {
        if k == self.slots.len() {
            return at == text.len();
        }
        let slot = self.slots[k];
        let next = self.literals[k + 1].as_str();
        let last = k + 1 == self.slots.len();
        let hay = &text[at..];
        let try_end = |end: usize, spans: &mut Vec<(usize, usize)>, budget: &mut usize| {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            if !slot.conversion.accepts(&text[at..end]) {
                return false;
            }
            spans.push((at, end));
            if self.match_from(text, end + next.len(), k + 1, spans, budget) {
                return true;
            }
            spans.pop();
            false
        };
        if last {
            // The last literal ends the text.
            return hay.len() >= next.len()
                && hay.ends_with(next)
                && text.is_char_boundary(text.len() - next.len())
                && try_end(text.len() - next.len(), spans, budget);
        }
        if next.is_empty() {
            // Two conversions in a row: try every end, shortest first.
            let mut ends: Vec<usize> = hay.char_indices().map(|(i, _)| at + i).collect();
            ends.push(text.len());
            return ends.into_iter().any(|end| try_end(end, spans, budget));
        }
        let mut from = 0;
        while let Some(pos) = hay[from..].find(next) {
            let end = at + from + pos;
            if try_end(end, spans, budget) {
                return true;
            }
            if *budget == 0 {
                return false;
            }
            from += pos + hay[from + pos..].chars().next().map_or(1, char::len_utf8);
        }
        false
    }
}

/// Formats with a value each, found by the text they wrote.
#[derive(Debug, Clone)]
pub struct FormatSet<T> {
    entries: Vec<(MessageFormat, T)>,
    /// Indices of entries by the first bytes of their first literal.
    by_prefix: std::collections::HashMap<[u8; PREFIX], Vec<usize>>,
    /// Entries whose first literal is shorter than [`PREFIX`]: always tried.
    short: Vec<usize>,
}

const PREFIX: usize = 3;

impl<T> Default for FormatSet<T> {
    fn default() -> Self {
        FormatSet {
            entries: Vec::new(),
            by_prefix: Default::default(),
            short: Vec::new(),
        }
    }
}

impl<T> FormatSet<T> {
    pub fn new() -> FormatSet<T> {
        FormatSet::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn insert(&mut self, format: MessageFormat, value: T) {
        let i = self.entries.len();
        match prefix_key(format.literals[0].as_bytes()) {
            Some(key) => self.by_prefix.entry(key).or_default().push(i),
            None => self.short.push(i),
        }
        self.entries.push((format, value));
    }

    /// Parses `format` and inserts it.
    pub fn insert_str(&mut self, format: &str, value: T) -> Result<(), FormatError> {
        self.insert(MessageFormat::parse(format)?, value);
        Ok(())
    }

    /// The most specific format (most fixed bytes; the first inserted on a
    /// tie) whose output the whole of `text` is.
    pub fn find(&self, text: &str) -> Option<(&MessageFormat, &T)> {
        let bucket = prefix_key(text.as_bytes())
            .and_then(|k| self.by_prefix.get(&k))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut best: Option<usize> = None;
        for &i in bucket.iter().chain(&self.short) {
            let f = &self.entries[i].0;
            if best.is_some_and(|b| {
                let bf = self.entries[b].0.fixed_len();
                bf > f.fixed_len() || (bf == f.fixed_len() && b < i)
            }) {
                continue;
            }
            if f.is_match(text) {
                best = Some(i);
            }
        }
        best.map(|i| (&self.entries[i].0, &self.entries[i].1))
    }

    /// [`FormatSet::find`] with the text's arguments.
    pub fn find_captures<'t>(
        &self,
        text: &'t str,
    ) -> Option<(&MessageFormat, &T, Vec<Option<&'t str>>)> {
        let (f, v) = self.find(text)?;
        Some((f, v, f.captures(text)?))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&MessageFormat, &T)> {
        self.entries.iter().map(|(f, v)| (f, v))
    }
}

fn prefix_key(b: &[u8]) -> Option<[u8; PREFIX]> {
    b.get(..PREFIX).map(|p| p.try_into().unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> MessageFormat {
        MessageFormat::parse(s).unwrap()
    }

    #[test]
    fn captures_plain_arguments() {
        let d = f("duration: %s ms  statement: %s");
        let args = d.captures("duration: 0.123 ms  statement: SELECT 'a  statement: b'");
        assert_eq!(
            args,
            Some(vec![Some("0.123"), Some("SELECT 'a  statement: b'")])
        );
        assert!(!d.is_match("duration: 1 ms"));
    }

    #[test]
    fn translated_format_renders_the_msgid() {
        // de, postgres-15.mo: "duration: %s ms  statement: %s"
        let de = f("Dauer: %s ms  Anweisung: %s");
        let en = f("duration: %s ms  statement: %s");
        let args = de.captures("Dauer: 5.000 ms  Anweisung: SELECT 1").unwrap();
        assert_eq!(en.render(&args), "duration: 5.000 ms  statement: SELECT 1");
    }

    #[test]
    fn positional_arguments_are_reordered() {
        let tr = f("in Tabelle »%2$s« Spalte %1$s");
        let en = f("column %s of table \"%s\"");
        let args = tr.captures("in Tabelle »t« Spalte c").unwrap();
        assert_eq!(en.render(&args), "column c of table \"t\"");
    }

    #[test]
    fn numbers_must_look_like_numbers() {
        let g = f("checkpoints are occurring too frequently (%d second apart)");
        assert!(g.is_match("checkpoints are occurring too frequently (12 second apart)"));
        assert!(!g.is_match("checkpoints are occurring too frequently (x second apart)"));
        let lsn = f("redo starts at %X/%X");
        assert_eq!(
            lsn.captures("redo starts at 0/1A2B3C"),
            Some(vec![Some("0"), Some("1A2B3C")])
        );
        let fl = f("took %.3f s");
        assert!(fl.is_match("took 1.500 s") && !fl.is_match("took one s"));
    }

    #[test]
    fn star_precision_and_errno() {
        let s = f("could not open file \"%.*s\": %m");
        assert_eq!(s.arity(), 3);
        let args = s
            .captures("could not open file \"x\": No such file or directory")
            .unwrap();
        assert_eq!(
            args,
            vec![None, Some("x"), Some("No such file or directory")]
        );
        assert_eq!(f("100%% done").render(&[]), "100% done");
    }

    #[test]
    fn bad_formats_are_errors() {
        assert_eq!(
            MessageFormat::parse("a %y"),
            Err(FormatError::UnknownConversion { offset: 2 })
        );
        assert_eq!(
            MessageFormat::parse("%1$s %s"),
            Err(FormatError::MixedPositions)
        );
    }

    #[test]
    fn set_prefers_the_most_specific_format() {
        let mut set = FormatSet::new();
        set.insert_str("relation \"%s\" does not exist", "42P01")
            .unwrap();
        set.insert_str("%s", "any").unwrap();
        set.insert_str("relation \"%s\" already exists", "42P07")
            .unwrap();
        assert_eq!(
            set.find("relation \"t\" does not exist").unwrap().1,
            &"42P01"
        );
        assert_eq!(
            set.find("relation \"t\" already exists").unwrap().1,
            &"42P07"
        );
        assert_eq!(set.find("re").unwrap().1, &"any");
        let (_, _, args) = set
            .find_captures("relation \"a b\" does not exist")
            .unwrap();
        assert_eq!(args, vec![Some("a b")]);
    }

    #[test]
    fn backtracking_is_bounded() {
        let many = f("%s a %s a %s a %s a %s a %s b");
        let text = "a ".repeat(2000);
        assert!(!many.is_match(&text));
    }
}
