//! Plain-text helpers every renderer shares: numbers with separators,
//! byte sizes, and logged text made safe and short for one line.

/// A control character shown as `?`: an escape sequence in a logged query
/// could drive the terminal, or hide text on a page.
pub(crate) fn visible(c: char) -> char {
    if c.is_control() {
        '?'
    } else {
        c
    }
}

/// The first `max` characters of `s` on one line, control characters `?`.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .map(visible)
        .collect();
    match flat.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub(crate) fn ms(v: f64) -> String {
    if v >= 60_000.0 {
        format!("{:.1} min", v / 60_000.0)
    } else if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.3} ms")
    }
}
