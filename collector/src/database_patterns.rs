//! Which databases database-scope queries run in: shell-style patterns
//! (`*` any run of characters, `?` one character) matched against the whole
//! name, as the `databases` and `exclude_databases` settings and a query's
//! own `databases` give them.

use crate::error::ConfigError;

/// The databases a database-scope query may run in, and how many
/// connections to them may be open at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub include: Patterns,
    pub exclude: Patterns,
    /// Connections to databases other than the DSN's own, at most.
    pub max_connections: usize,
}

pub const DEFAULT_MAX_CONNECTIONS: usize = 5;

impl Default for Selection {
    fn default() -> Selection {
        Selection {
            include: Patterns::all(),
            exclude: Patterns::none(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl Selection {
    pub fn selects(&self, name: &str) -> bool {
        self.include.matches(name) && !self.exclude.matches(name)
    }
}

/// A list of patterns; a name is in it when any pattern matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns(Vec<String>);

impl Patterns {
    /// Every name.
    pub fn all() -> Patterns {
        Patterns(vec!["*".into()])
    }

    /// No name.
    pub fn none() -> Patterns {
        Patterns(Vec::new())
    }

    /// `key` names the setting in the error for an empty pattern or list.
    pub fn parse(key: &str, patterns: &[String]) -> Result<Patterns, ConfigError> {
        if patterns.is_empty() {
            return Err(ConfigError::Invalid {
                key: key.into(),
                value: "[]".into(),
                expected: "at least one database name or pattern such as \"app_*\"".into(),
            });
        }
        if let Some(p) = patterns.iter().find(|p| p.trim().is_empty()) {
            return Err(ConfigError::Invalid {
                key: key.into(),
                value: format!("{p:?}"),
                expected: "a database name or pattern such as \"app_*\", not an empty string"
                    .into(),
            });
        }
        Ok(Patterns(patterns.to_vec()))
    }

    pub fn matches(&self, name: &str) -> bool {
        self.0.iter().any(|p| glob(p.as_bytes(), name.as_bytes()))
    }
}

/// `*` and `?` over bytes, with one backtrack point: linear in practice,
/// never exponential.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_patterns_match_the_whole_name() {
        let p = |v: &[&str]| {
            Patterns::parse(
                "databases",
                &v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
            .unwrap()
        };
        assert!(p(&["*"]).matches("postgres"));
        assert!(p(&["app_*"]).matches("app_eu"));
        assert!(!p(&["app_*"]).matches("myapp_eu"));
        assert!(p(&["app_??"]).matches("app_eu"));
        assert!(!p(&["app_??"]).matches("app_eu1"));
        assert!(p(&["*_test", "shop"]).matches("shop"));
        assert!(p(&["a*b*c"]).matches("aXXbYYbZc"));
        assert!(!p(&["a*b*c"]).matches("aXXbYYbZ"));
        assert!(!Patterns::none().matches("postgres"));
        let e = Patterns::parse("databases", &[]).unwrap_err().to_string();
        assert!(e.contains("databases") && e.contains("app_*"), "{e}");
    }
}
