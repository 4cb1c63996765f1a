//! One language's catalog: every msgstr form of the server's messages, as
//! a [`FormatSet`] that finds the msgid a translated message was written
//! from. Unpacked on first use, once per process.

use crate::language::{words, Language};
use crate::message_format::{Conversion, FormatSet, MessageFormat};
use crate::tables::unescape;
use std::io::Read;
use std::sync::OnceLock;

/// The English form(s) of one msgstr form.
#[derive(Debug)]
pub(crate) struct English {
    /// None when the msgstr is the msgid itself (untranslated, or alike).
    pub singular: Option<MessageFormat>,
    /// A plural message's `msgid_plural`.
    pub plural: Option<MessageFormat>,
    /// The msgstr starts with a text argument and has few fixed words
    /// (`%s bei »%s«`): it matches only when that argument is a translated
    /// phrase itself (`Syntaxfehler`).
    pub loose: bool,
}

/// Formats with fewer fixed bytes match nearly any text: they would turn
/// messages the table lacks into wrong ones.
const MIN_FIXED_BYTES: usize = 3;

pub(crate) fn catalog(lang: Language) -> &'static FormatSet<English> {
    static CATALOGS: [OnceLock<FormatSet<English>>; words::LANGUAGES.len()] =
        [const { OnceLock::new() }; words::LANGUAGES.len()];
    CATALOGS[lang.index()].get_or_init(|| load(words::CATALOGS[lang.index()]))
}

fn load(packed: &[u8]) -> FormatSet<English> {
    let mut text = String::new();
    // The table is part of the binary: it unpacks, or the build is broken
    // (a test unpacks every one).
    liblzma::read::XzDecoder::new(packed)
        .read_to_string(&mut text)
        .expect("a translation table built into pglog is damaged");
    let mut set = FormatSet::new();
    for line in text.lines() {
        let mut cols = line.split('\t').map(unescape);
        let (Some(msgstr), Some(msgid)) = (cols.next(), cols.next()) else {
            continue;
        };
        let plural = cols.next();
        let (Ok(from), Ok(to)) = (MessageFormat::parse(&msgstr), MessageFormat::parse(&msgid))
        else {
            continue;
        };
        if from.fixed_len() < MIN_FIXED_BYTES {
            continue;
        }
        let plural = plural.and_then(|p| MessageFormat::parse(&p).ok());
        let singular = (msgstr != msgid || plural.is_some()).then_some(to);
        let loose = loose(&from);
        if loose && singular.is_none() {
            // Nothing to translate, and it would take any message for known.
            continue;
        }
        set.insert(
            from,
            English {
                singular,
                plural,
                loose,
            },
        );
    }
    set
}

/// A format that starts with text of any length and has few fixed words
/// (`%s: %s ms`) would take any message ending like it for its own.
fn loose(f: &MessageFormat) -> bool {
    f.literals()[0].is_empty()
        && f.slots()
            .first()
            .is_some_and(|s| s.conversion == Conversion::Text)
        && f.fixed_len() < MIN_LEADING_TEXT_FIXED_BYTES
}

const MIN_LEADING_TEXT_FIXED_BYTES: usize = 12;

impl English {
    /// The English format for these arguments: the plural form unless the
    /// first number printed is 1 (English has one plural, other languages
    /// up to four, so the translated form chosen says little).
    pub fn format<'a>(
        &'a self,
        from: &MessageFormat,
        args: &[Option<&str>],
    ) -> Option<&'a MessageFormat> {
        let Some(plural) = &self.plural else {
            return self.singular.as_ref();
        };
        let n = from
            .slots()
            .iter()
            .find(|s| matches!(s.conversion, Conversion::Signed | Conversion::Unsigned))
            .and_then(|s| args.get(s.arg).copied().flatten());
        match n {
            Some("1") => self.singular.as_ref(),
            _ => Some(plural),
        }
    }
}
