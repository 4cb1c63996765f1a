//! The page's one inline script (sorting, filtering, the view in the
//! fragment) and the Content-Security-Policy that allows exactly it: its
//! SHA-256 is computed here from the text the page carries, so the two
//! cannot drift apart.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The script, inserted verbatim between `<script>` and `</script>`.
pub(super) const SCRIPT: &str = include_str!("interactive.js");

/// Nothing but inline styles, `data:` images and this one script.
pub(super) fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{hash}'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_cannot_end_its_element_early() {
        let lower = SCRIPT.to_ascii_lowercase();
        assert!(!lower.contains("</script") && !lower.contains("<!--"));
    }

    #[test]
    fn the_policy_names_the_scripts_hash() {
        let csp = content_security_policy();
        // SHA-256 in base64: 44 characters with one `=` of padding.
        let hash = csp.split("'sha256-").nth(1).unwrap().trim_end_matches('\'');
        assert_eq!(hash.len(), 44, "{csp}");
        assert!(csp.starts_with("default-src 'none';"));
    }
}
