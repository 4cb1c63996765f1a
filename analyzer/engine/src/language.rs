//! The language each input was written in (`input.language`), and the
//! warnings for records whose language pglog has no table for.

use crate::summary::{LanguageCount, Summary};
use pglog_logparse::translate::CATALOG_VERSION;
use serde::Serialize;
use std::collections::BTreeMap;

/// A file whose records pglog could not all make English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LanguageWarning {
    pub path: String,
    pub language: String,
    pub records: u64,
    pub untranslated: u64,
    pub message: String,
}

/// Below this share of translated messages a file is taken to come from a
/// server whose messages differ from the tables'.
const WARN_UNTRANSLATED_SHARE: f64 = 0.2;

/// The file's language: the translated one most of its records were
/// written in, `en` when none was; and how many records were not made English.
pub(crate) fn file_language(summary: &Summary) -> (Option<String>, u64) {
    let untranslated = summary.languages.values().map(|c| c.untranslated).sum();
    let main = summary
        .languages
        .iter()
        .max_by_key(|(_, c)| c.records)
        .filter(|(_, c)| 2 * c.records >= summary.records + summary.filtered)
        .map(|(l, _)| l.clone());
    let language = match main {
        Some(l) => Some(l),
        None if summary.records + summary.filtered > 0 => Some("en".to_string()),
        None => None,
    };
    (language, untranslated)
}

/// Warnings for the files (path, records by language) with many records a
/// table lacks.
pub fn warnings<'a>(
    sources: impl IntoIterator<Item = (&'a str, &'a BTreeMap<String, LanguageCount>)>,
) -> Vec<LanguageWarning> {
    let mut out = Vec::new();
    for (path, languages) in sources {
        for (lang, c) in languages {
            if c.records == 0
                || (c.untranslated as f64) < WARN_UNTRANSLATED_SHARE * c.records as f64
            {
                continue;
            }
            out.push(LanguageWarning {
                path: path.to_string(),
                language: lang.clone(),
                records: c.records,
                untranslated: c.untranslated,
                message: format!(
                    "{} of {} records in '{lang}' have messages that are not in pglog's table (PostgreSQL {CATALOG_VERSION}'s catalogs; another server version?): they stay as written and count as other events. lc_messages = 'C' logs in English",
                    c.untranslated, c.records
                ),
            });
        }
    }
    out
}
