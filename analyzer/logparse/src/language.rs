//! The languages pglog has translation tables for, and what a record's
//! words tell of the language it was written in. The readers, the records
//! and the translator all use it; it uses nothing of theirs.

// Generated with the catalogs by analyzer/logparse/translations/generate.py.
#[rustfmt::skip]
#[path = "translate/words.rs"]
pub(crate) mod words;

/// A language pglog has a table for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Language(u8);

impl Language {
    pub fn all() -> impl Iterator<Item = Language> {
        (0..words::LANGUAGES.len() as u8).map(Language)
    }

    /// Its `lc_messages` code, e.g. `de`, `zh_CN`.
    pub fn code(self) -> &'static str {
        words::LANGUAGES[self.index()]
    }

    pub fn from_code(code: &str) -> Option<Language> {
        Language::all().find(|l| l.code() == code)
    }

    pub(crate) fn index(self) -> usize {
        usize::from(self.0)
    }

    pub(crate) fn bit(self) -> u16 {
        1 << self.0
    }

    /// The lowest language of a mask.
    pub(crate) fn first_of(mask: u16) -> Option<Language> {
        (mask & ALL != 0).then(|| Language((mask & ALL).trailing_zeros() as u8))
    }
}

/// The server version whose catalogs the tables come from.
pub const CATALOG_VERSION: &str = words::VERSION;

pub(crate) const ALL: u16 = (1 << words::LANGUAGES.len()) - 1;
/// In [`RecordLanguage::words`]: the reader read an English severity from
/// a format that translates severities (csvlog, stderr; not jsonlog).
pub const ENGLISH_WORDS: u16 = 1 << 15;

/// What is known of the language a record was written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordLanguage {
    /// Set by the reader: the languages that spell the record's severity
    /// or labels as it found them (bit `i`: language `i`), or
    /// [`ENGLISH_WORDS`]; 0 when the words tell nothing.
    pub words: u16,
    /// Set by the translator: the language the record was translated from
    /// (None: English).
    pub written: Option<Language>,
    /// Written in `written`, but its message is not in that table: it is
    /// left as it was.
    pub untranslated: bool,
}
