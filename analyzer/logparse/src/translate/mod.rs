//! Translated logs (`lc_messages` other than English) made English before
//! classification: the classifier and the SQLSTATE table know the server's
//! English msgids only.
//!
//! The readers accept the translated severities and stderr labels
//! ([`Severity::translated`], [`crate::prefix::translated::label`]) and
//! note in the record which languages spell them so. A [`Translator`] per
//! file then finds the file's language (from those words, or from the
//! first words of common messages when the language spells its severities
//! as English does, as es and ja do) and writes each message, detail, hint
//! and context line from its msgid. An
//! English log costs one check per record once its first records show it
//! is English.
//!
//! The tables are generated from the server's catalogs by
//! `analyzer/logparse/translations/generate.py`.

mod catalog;

use crate::language::{words, ALL};
pub use crate::language::{Language, RecordLanguage, CATALOG_VERSION, ENGLISH_WORDS};
use crate::message_format::Conversion;
use crate::record::{LogRecord, Severity};
use std::sync::OnceLock;

/// How many records, at most, a file's language is looked for in before
/// it is taken for English.
const DETECT_RECORDS: u32 = 200;
/// English messages that make a file English for good (a few English
/// lines start a translated log when lc_messages changed at a reload).
const ENGLISH_CONFIRMED: u32 = 20;
/// Text arguments longer than this are taken as data (a statement), not as
/// a translated phrase of their own.
const MAX_NESTED_BYTES: usize = 120;

/// Finds a file's language and makes its records English.
#[derive(Debug, Default)]
pub struct Translator {
    /// None: English.
    current: Option<Language>,
    decided: bool,
    /// Languages still possible while undecided.
    candidates: u16,
    looked_at: u32,
    english_seen: u32,
    /// The severities `current` spells otherwise than English (bit per
    /// [`Severity`] as u8).
    translated_severities: u32,
}

impl Translator {
    pub fn new() -> Translator {
        Translator::default()
    }

    /// Notes the record's language and makes it English.
    #[inline]
    pub fn apply(&mut self, r: &mut LogRecord) {
        // An English file's record: one check, inlined into the classifier.
        if self.decided && self.current.is_none() && r.language.words & ALL == 0 {
            return;
        }
        self.translate(r);
    }

    fn translate(&mut self, r: &mut LogRecord) {
        let words = r.language.words;
        self.follow(r, words);
        let Some(lang) = self.current else {
            return;
        };
        if translate_record(lang, r) {
            return;
        }
        // Not in this language's table (and left as it was): the first
        // messages after a reload that changed lc_messages are in the new
        // language.
        self.switch_by_message(r);
    }

    /// A record of an English file that meant nothing to the classifier:
    /// when its words are another language's (the messages of a reload that
    /// changed lc_messages), it is made English and true returned.
    pub fn retry_unknown(&mut self, r: &mut LogRecord) -> bool {
        self.current.is_none() && self.switch_by_message(r)
    }

    /// Follows a record whose message is not in the current table to the
    /// language its first words are in; true when it was translated.
    fn switch_by_message(&mut self, r: &mut LogRecord) -> bool {
        let mask = signature_languages(&r.message);
        if mask != 0 && self.current.is_none_or(|l| mask & l.bit() == 0) {
            self.set(Language::first_of(mask));
            self.candidates = mask;
            return self.current.is_some_and(|l| translate_record(l, r));
        }
        if mask == 0
            && self.current.is_some()
            && !is_contrib(&r.message)
            && words::ENGLISH_SIGNATURES
                .iter()
                .any(|w| r.message.starts_with(w))
        {
            // Back to English (lc_messages reset at a reload).
            self.set(None);
            r.language = RecordLanguage {
                words: r.language.words,
                ..Default::default()
            };
        }
        false
    }

    /// The language of the file so far: None while English.
    pub fn language(&self) -> Option<Language> {
        self.current
    }

    fn follow(&mut self, r: &LogRecord, words: u16) {
        if words & ALL != 0 {
            // Translated words name the language; a reload may change it.
            if self.current.is_none_or(|l| words & l.bit() == 0) {
                let narrowed = words & self.candidates;
                let pick = if narrowed != 0 { narrowed } else { words };
                self.set(Language::first_of(pick));
                self.candidates = pick;
            }
            self.decided |= self.candidates.count_ones() == 1;
            return;
        }
        if words & ENGLISH_WORDS != 0
            && self.current.is_some()
            && self.translated_severities & severity_bit(r.severity) != 0
        {
            // An English severity this language would have translated.
            self.set(None);
            self.decided = true;
            return;
        }
        if !self.decided {
            self.detect_from_message(&r.message);
        }
    }

    fn detect_from_message(&mut self, message: &str) {
        self.looked_at += 1;
        let mask = signature_languages(message);
        if mask != 0 {
            let narrowed = mask & self.candidates;
            self.candidates = if narrowed != 0 { narrowed } else { mask };
            self.set(Language::first_of(self.candidates));
            self.decided = self.candidates.count_ones() == 1;
        } else if self.current.is_none()
            && words::ENGLISH_SIGNATURES
                .iter()
                .any(|w| message.starts_with(w))
        {
            self.english_seen += 1;
            self.decided = self.english_seen >= ENGLISH_CONFIRMED;
        }
        if self.looked_at >= DETECT_RECORDS {
            self.decided = true;
        }
    }

    fn set(&mut self, lang: Option<Language>) {
        if lang == self.current && (lang.is_none() || self.translated_severities != 0) {
            return;
        }
        self.current = lang;
        self.translated_severities = lang.map_or(0, |l| {
            words::SEVERITIES
                .iter()
                .filter(|(_, _, mask)| mask & l.bit() != 0)
                .filter_map(|(_, en, _)| Severity::parse(en.as_bytes()))
                .fold(0, |m, s| m | severity_bit(s))
        });
    }
}

/// A message of a contrib module, which has no catalog: English in every
/// log (auto_explain's `duration: %.3f ms  plan:`).
fn is_contrib(message: &str) -> bool {
    let first = message.split('\n').next().unwrap_or("");
    first.starts_with("duration: ") && first.ends_with("  plan:")
}

/// The languages whose common messages start as `message` does.
fn signature_languages(message: &str) -> u16 {
    words::SIGNATURES
        .iter()
        .filter(|(w, _)| message.starts_with(w))
        .fold(0, |m, (_, mask)| m | mask)
}

fn severity_bit(s: Severity) -> u32 {
    // DEBUG1..5 are all written `DEBUG`.
    let s = match s {
        Severity::Debug2 | Severity::Debug3 | Severity::Debug4 | Severity::Debug5 => {
            Severity::Debug1
        }
        s => s,
    };
    1 << (s as u32)
}

/// Makes the record English; false when its message is not in the table.
fn translate_record(lang: Language, r: &mut LogRecord) -> bool {
    r.language.written = Some(lang);
    strip_cursor(lang, &mut r.message);
    let found = translate_field(lang, &mut r.message) || is_contrib(&r.message);
    r.language.untranslated = !found;
    for field in [&mut r.detail, &mut r.hint, &mut r.context] {
        if let Some(text) = field {
            translate_field(lang, text);
        }
    }
    let unknown = words::UNKNOWN[lang.index()];
    for name in [&mut r.user, &mut r.database, &mut r.application] {
        if name.as_deref() == Some(unknown) {
            *name = None;
        }
    }
    found
}

/// Writes `text` from its msgid: whole, or line by line (autovacuum's and
/// context's lines are messages of their own). False when no line is in
/// the table.
fn translate_field(lang: Language, text: &mut String) -> bool {
    if let Some(english) = translate_text(lang, text, true) {
        *text = english;
        return true;
    }
    if !text.contains('\n') {
        return false;
    }
    let mut out = String::with_capacity(text.len());
    let mut any = false;
    for line in text.split_inclusive('\n') {
        let english = translate_text(lang, line, true).or_else(|| {
            let bare = line.strip_suffix('\n')?;
            translate_text(lang, bare, true).map(|e| e + "\n")
        });
        any |= english.is_some();
        out.push_str(english.as_deref().unwrap_or(line));
    }
    *text = out;
    any
}

/// Messages the server writes in parts, each translated on its own
/// (`connection authorized: user=%s` then ` database=%s`, ...): their last
/// argument holds the translated parts that follow.
const COMPOSITE: &[&str] = &[
    "connection authorized: user=%s",
    "replication connection authorized: user=%s",
];

/// The parts of composite messages (msgstr forms starting with a space),
/// by their first words.
fn fragments(lang: Language) -> &'static [String] {
    static FRAGMENTS: [OnceLock<Vec<String>>; words::LANGUAGES.len()] =
        [const { OnceLock::new() }; words::LANGUAGES.len()];
    FRAGMENTS[lang.index()].get_or_init(|| {
        catalog::catalog(lang)
            .iter()
            .filter(|(f, e)| {
                let first = &f.literals()[0];
                first.starts_with(' ')
                    && first.len() >= 4
                    && e.singular
                        .as_ref()
                        .is_none_or(|s| s.literals()[0].starts_with(' '))
            })
            .map(|(f, _)| f.literals()[0].clone())
            .collect()
    })
}

/// `value part part...`: the value, then each translated part made English.
fn translate_parts(lang: Language, text: &str) -> Option<String> {
    let mut cuts: Vec<usize> = fragments(lang)
        .iter()
        .flat_map(|f| text.match_indices(f.as_str()).map(|(i, _)| i))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let first = *cuts.first()?;
    let mut out = text[..first].to_string();
    cuts.push(text.len());
    for w in cuts.windows(2) {
        let part = &text[w[0]..w[1]];
        out.push_str(&translate_text(lang, part, false).unwrap_or_else(|| part.to_string()));
    }
    Some(out)
}

/// The English text of `text` when a msgstr form wrote all of it; its text
/// arguments that are translated phrases themselves (`Ausführen`,
/// `Transaktion 740`) are made English too when `nested`.
fn translate_text(lang: Language, text: &str, nested: bool) -> Option<String> {
    let (from, english, mut args) = catalog::catalog(lang).find_captures(text)?;
    let Some(to) = english.format(from, &args) else {
        return Some(text.to_string());
    };
    let mut owned: Vec<(usize, String)> = Vec::new();
    if english.loose && !nested {
        return None;
    }
    if nested {
        for slot in from.slots() {
            if slot.conversion != Conversion::Text {
                continue;
            }
            let Some(arg) = args.get(slot.arg).copied().flatten() else {
                continue;
            };
            if arg.is_empty() || arg.len() > MAX_NESTED_BYTES {
                continue;
            }
            if let Some(e) = translate_text(lang, arg, false).filter(|e| e != arg) {
                owned.push((slot.arg, e));
            }
        }
    }
    let leading = from.slots().first().map(|s| s.arg);
    if english.loose && !owned.iter().any(|(i, _)| Some(*i) == leading) {
        return None;
    }
    if nested
        && COMPOSITE
            .iter()
            .any(|c| to.literals()[0] == c.split('%').next().unwrap_or(""))
    {
        if let Some(last) = from
            .slots()
            .last()
            .filter(|s| s.conversion == Conversion::Text)
        {
            if let Some(parts) = args[last.arg].and_then(|a| translate_parts(lang, a)) {
                owned.push((last.arg, parts));
            }
        }
    }
    for (i, s) in &owned {
        args[*i] = Some(s.as_str());
    }
    Some(to.render(&args))
}

/// Drops the error cursor stderr appends to a message (` bei Zeichen 15`),
/// as the reader does for English.
fn strip_cursor(lang: Language, message: &mut String) {
    let Some((before, after)) = words::CURSOR[lang.index()].split_once("%d") else {
        return;
    };
    let Some(rest) = message.strip_suffix(after) else {
        return;
    };
    let digits = rest.trim_end_matches(|c: char| c.is_ascii_digit());
    if digits.len() < rest.len() && digits.ends_with(before) {
        let at = digits.len() - before.len();
        message.truncate(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> Language {
        Language::from_code("de").unwrap()
    }

    #[test]
    fn every_table_unpacks_and_holds_the_classifier_messages() {
        for lang in Language::all() {
            let set = catalog::catalog(lang);
            assert!(set.len() > 4000, "{}: {} forms", lang.code(), set.len());
        }
    }

    #[test]
    fn messages_are_written_from_their_msgid() {
        let mut m = "Dauer: 6.983 ms  Anweisung: checkpoint".to_string();
        assert!(translate_field(de(), &mut m));
        assert_eq!(m, "duration: 6.983 ms  statement: checkpoint");
        let mut c = "Checkpoint komplett: 36 Puffer geschrieben (0.2%); 0 WAL-Datei(en) hinzugefügt, 0 entfernt, 0 wiederverwendet; Schreiben=0,002 s, Sync=0,004 s, gesamt=0,007 s; sync. Dateien=33, längste=0,001 s, Durchschnitt=0.001 s; Entfernung=125 kB, Schätzung=125 kB".to_string();
        assert!(translate_field(de(), &mut c));
        assert!(c.starts_with("checkpoint complete: wrote 36 buffers (0.2%); 0 WAL file(s) added, 0 removed, 0 recycled; write=0.002 s"), "{c}");
    }

    #[test]
    fn nested_phrases_and_cursor() {
        let mut m = "Relation »nosuch« existiert nicht bei Zeichen 15".to_string();
        strip_cursor(de(), &mut m);
        assert!(translate_field(de(), &mut m));
        assert_eq!(m, "relation \"nosuch\" does not exist");
        let mut c =
            "Verbindung autorisiert: Benutzer=postgres Datenbank=postgres application_name=psql"
                .to_string();
        assert!(translate_field(de(), &mut c));
        assert_eq!(
            c,
            "connection authorized: user=postgres database=postgres application_name=psql"
        );
    }

    #[test]
    fn an_auto_explain_plan_leaves_the_language_as_it_is() {
        let mut t = Translator::new();
        let mut first = LogRecord::new(
            1,
            Severity::Log,
            "Dauer: 1.000 ms  Anweisung: select 1".into(),
        );
        t.apply(&mut first);
        let mut plan = LogRecord::new(
            2,
            Severity::Log,
            "duration: 0.060 ms  plan:\nQuery Text: select 1".into(),
        );
        t.apply(&mut plan);
        assert_eq!(t.language().map(Language::code), Some("de"));
        assert_eq!(plan.language.written, Some(de()));
        assert!(!plan.language.untranslated);
    }

    #[test]
    fn english_logs_are_decided_on_their_first_messages() {
        let mut t = Translator::new();
        let mut r = LogRecord::new(
            1,
            Severity::Log,
            "database system is ready to accept connections".into(),
        );
        for _ in 0..ENGLISH_CONFIRMED {
            t.apply(&mut r);
        }
        assert!(t.decided && t.current.is_none());
        let mut es = LogRecord::new(
            2,
            Severity::Log,
            "duración: 1.000 ms  sentencia: select 1".into(),
        );
        let mut t = Translator::new();
        t.apply(&mut es);
        assert_eq!(t.language().map(Language::code), Some("es"));
        assert_eq!(es.message, "duration: 1.000 ms  statement: select 1");
    }
}
