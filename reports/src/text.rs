use pglog_analyzer::Report;
use std::io::{self, Write};

/// Writes a short summary for the terminal.
pub fn write_text<W: Write>(r: &Report, mut out: W) -> io::Result<()> {
    let i = &r.input;
    let s = &r.summary;
    writeln!(
        out,
        "{} file(s), {}, {} records, {} malformed",
        i.files.len(),
        human_bytes(i.bytes),
        thousands(i.records),
        thousands(i.malformed)
    )?;
    if let (Some(a), Some(b)) = (&s.first_timestamp, &s.last_timestamp) {
        writeln!(out, "from {a} to {b}")?;
    }
    writeln!(
        out,
        "queries {}   plans {}   temp files {} ({})",
        thousands(s.queries),
        thousands(s.plans),
        thousands(s.events.get("temp_file").copied().unwrap_or(0)),
        human_bytes(s.temp_file_bytes)
    )?;
    let sev: Vec<String> = ["LOG", "WARNING", "ERROR", "FATAL", "PANIC"]
        .iter()
        .map(|k| {
            format!(
                "{k} {}",
                thousands(s.severities.get(k).copied().unwrap_or(0))
            )
        })
        .collect();
    writeln!(out, "severities: {}", sev.join("  "))?;
    if !s.sqlstates.is_empty() {
        let mut codes: Vec<(&String, &u64)> = s.sqlstates.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = codes
            .iter()
            .take(8)
            .map(|(c, n)| format!("{c} x{n}"))
            .collect();
        let more = codes.len().saturating_sub(8);
        let tail = if more > 0 {
            format!(" (+{more} more)")
        } else {
            String::new()
        };
        writeln!(out, "errors by SQLSTATE: {}{tail}", top.join(", "))?;
    }
    let events: Vec<String> = [
        "connection",
        "disconnection",
        "auth_failure",
        "checkpoint",
        "restartpoint",
        "autovacuum",
        "autoanalyze",
        "lock_wait",
        "deadlock",
    ]
    .iter()
    .map(|k| {
        format!(
            "{} {}",
            k.replace('_', " "),
            thousands(s.events.get(k).copied().unwrap_or(0))
        )
    })
    .collect();
    writeln!(out, "events: {}", events.join(", "))?;
    for m in &i.malformed_samples {
        writeln!(
            out,
            "malformed: {}:{}: {} ({})",
            m.file, m.line, m.reason, m.kind
        )?;
    }
    if i.malformed > i.malformed_samples.len() as u64 {
        writeln!(
            out,
            "malformed: ... and {} more",
            i.malformed - i.malformed_samples.len() as u64
        )?;
    }
    for k in &i.skipped {
        writeln!(out, "skipped: {} ({})", k.path, k.reason)?;
    }
    out.flush()
}

fn thousands(n: u64) -> String {
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

fn human_bytes(n: u64) -> String {
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

#[cfg(test)]
mod tests {
    #[test]
    fn formats_numbers() {
        assert_eq!(super::thousands(1234567), "1,234,567");
        assert_eq!(super::thousands(12), "12");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
    }
}
