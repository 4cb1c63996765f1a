//! Credential redaction for text that leaves the host in a report or a
//! shipped log: `PASSWORD '...'` in `CREATE/ALTER ROLE/USER`, `password=...`
//! in connection strings, and the password in `postgresql://user:pw@host`.

use std::borrow::Cow;

/// What a redacted secret is replaced with.
pub const MASK: &str = "***";

/// `text` with credentials masked; borrowed when there are none.
pub fn redact(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("password") && !lower.contains("://") {
        return Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    let lb = lower.as_bytes();
    while i < b.len() {
        let rest = &lb[i..];
        let (keep_to, secret_end) = if rest.starts_with(b"password") {
            let after = i + "password".len();
            match secret_after(b, after) {
                Some(span) => span,
                None => {
                    i += 1;
                    continue;
                }
            }
        } else if rest.starts_with(b"://") {
            match uri_password(b, i + 3) {
                Some(span) => span,
                None => {
                    i += 1;
                    continue;
                }
            }
        } else {
            i += 1;
            continue;
        };
        out.push_str(&text[copied..keep_to]);
        out.push_str(MASK);
        copied = secret_end;
        i = secret_end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// After the word `password`: a quoted SQL literal (`PASSWORD 'x'`,
/// `PASSWORD E'x'`) or a conninfo value (`password=x`, `password = 'x'`).
/// Returns where the secret starts (inside its quotes) and ends.
fn secret_after(b: &[u8], mut i: usize) -> Option<(usize, usize)> {
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return None; // `password_encryption`, `passwords`
    }
    let ws = |i: &mut usize| {
        while b.get(*i).is_some_and(u8::is_ascii_whitespace) {
            *i += 1;
        }
    };
    ws(&mut i);
    let conninfo = b.get(i) == Some(&b'=');
    if conninfo {
        i += 1;
        ws(&mut i);
    }
    if !conninfo && matches!(b.get(i), Some(b'E' | b'e')) && b.get(i + 1) == Some(&b'\'') {
        i += 1;
    }
    match b.get(i) {
        Some(b'\'') => {
            let start = i + 1;
            let mut j = start;
            while j < b.len() {
                if b[j] == b'\\' {
                    j += 2;
                    continue;
                }
                if b[j] == b'\'' {
                    if b.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    return Some((start, j));
                }
                j += 1;
            }
            Some((start, b.len()))
        }
        Some(_) if conninfo => {
            let start = i;
            let mut j = start;
            while j < b.len()
                && !b[j].is_ascii_whitespace()
                && !matches!(b[j], b'\'' | b'"' | b')' | b',' | b';' | b'&')
            {
                j += 1;
            }
            (j > start).then_some((start, j))
        }
        _ => None,
    }
}

/// In `scheme://user:secret@host`, the `secret` span.
fn uri_password(b: &[u8], start: usize) -> Option<(usize, usize)> {
    let end = b[start..]
        .iter()
        .position(|c| c.is_ascii_whitespace() || matches!(c, b'/' | b'\'' | b'"'))
        .map_or(b.len(), |k| start + k);
    let at = b[start..end].iter().rposition(|&c| c == b'@')? + start;
    let colon = b[start..at].iter().position(|&c| c == b':')? + start;
    (colon + 1 < at).then_some((colon + 1, at))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn masks_role_passwords_conninfo_and_uris() {
        assert_eq!(
            redact("CREATE ROLE alice LOGIN PASSWORD 'se''cret';"),
            "CREATE ROLE alice LOGIN PASSWORD '***';"
        );
        assert_eq!(
            redact("alter user bob with encrypted password E'x\\'y' valid until 'infinity'"),
            "alter user bob with encrypted password E'***' valid until 'infinity'"
        );
        assert_eq!(
            redact("SELECT dblink_connect('host=db port=5432 password=hunter2 user=x')"),
            "SELECT dblink_connect('host=db port=5432 password=*** user=x')"
        );
        assert_eq!(
            redact("conn: postgresql://app:hunter2@db.internal:5432/app"),
            "conn: postgresql://app:***@db.internal:5432/app"
        );
        assert_eq!(
            redact("SET password_encryption = 'scram-sha-256'"),
            "SET password_encryption = 'scram-sha-256'"
        );
        assert_eq!(
            redact("password authentication failed for user \"alice\""),
            "password authentication failed for user \"alice\""
        );
        assert!(matches!(redact("SELECT 1"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            redact("SELECT 'é' password 'ü'"),
            "SELECT 'é' password '***'"
        );
    }
}
