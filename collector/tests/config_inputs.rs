//! The config file and the metric catalogue are read from files someone
//! else wrote: thousands of mutations of the real ones (the built-in
//! catalogue whole and one query at a time, the example config with every
//! key set, the config the terraform module writes) must each give settings
//! or an error, never a panic.
//!
//! These run here rather than as coverage-guided fuzz targets because both
//! are TOML through serde into validation code: a deterministic mutation
//! run reaches the same checks without building the collector's AWS, TLS
//! and PostgreSQL clients instrumented (fuzz/README.md).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use pglog_collector::catalogue::{Catalogue, Role};
use pglog_collector::{Config, Overrides};

const MUTATIONS_PER_SEED: usize = 3_000;

/// Pieces a mutation inserts: TOML syntax, keys and values the readers
/// give meaning to, numbers at the edges.
const TOKENS: &[&str] = &[
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    "=",
    ",",
    "\n",
    "#",
    "\\",
    "\u{0}",
    "é",
    "[[query]]\n",
    "[[query.value]]\n",
    "[pgbouncer]\n",
    "scope = \"database\"\n",
    "databases = []\n",
    "databases = [\"\"]\n",
    "databases = [\"*?*\"]\n",
    "kind = \"window\"\n",
    "kind = \"ratio\"\n",
    "kind = \"mean\"\n",
    "source = \"pgbouncer\"\n",
    "labels = [\"Database\"]\n",
    "roles = []\n",
    "interval = \"0s\"\n",
    "timeout = \"1y\"\n",
    "window = \"-1m\"\n",
    "scale = 0\n",
    "scale = nan\n",
    "scale = 1e309\n",
    "max_database_connections = 0\n",
    "storage_resolution = -1\n",
    "buffer_max_datums = 18446744073709551615\n",
    "min_version = 4294967295\n",
    "99999999999999999999",
    "-0",
    "inf",
    "true",
    "\"\"",
    "dsn = \"host=h user=u sslmode=nope\"\n",
    "dsn = \"postgres://u:p@h:99999/d\"\n",
    "password_env = \"PGLOG_NOT_SET_ANYWHERE\"\n",
    "log_dir = \"/nonexistent\"\n",
    "log_prefix = \"%\"\n",
    "log_format = \"csv\"\n",
    "log_retention_days = 2\n",
];

/// xorshift64*: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to three edits: delete a range, insert a token, duplicate a line,
/// or cut the text short.
fn mutate(seed: &str, rng: &mut Rng) -> String {
    let mut s: Vec<char> = seed.chars().collect();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(s.len() + 1);
        match rng.below(4) {
            0 => {
                let end = (at + 1 + rng.below(40)).min(s.len());
                s.drain(at.min(end)..end);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                s.splice(at..at, token.chars());
            }
            2 => {
                let text: String = s.iter().collect();
                let lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let line = lines[rng.below(lines.len())].to_string() + "\n";
                    s.splice(at..at, line.chars());
                }
            }
            _ => s.truncate(at),
        }
    }
    s.into_iter().collect()
}

fn survives(what: &str, input: &str, read: impl FnOnce(&str)) {
    if catch_unwind(AssertUnwindSafe(|| read(input))).is_err() {
        panic!("{what} panicked on this input:\n{input}");
    }
}

fn read_catalogue(text: &str) {
    if let Ok(cat) = Catalogue::parse(text, "mutated.toml") {
        for q in &cat.queries {
            let _ = q.marked_sql();
            let _ = q.runs_on(Role::Primary, 150000);
            let _ = q.runs_on(Role::Standby, 150000);
        }
        serde_json::to_vec(&cat.metrics()).expect("the metrics list serializes");
    }
}

fn read_config(text: &str) {
    if let Ok(mut o) = Overrides::parse(text, "mutated.toml") {
        // The metric file is the catalogue's part, read above.
        o.metrics = None;
        let _ = Config::resolve(o, true, true);
    }
}

fn repo_file(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn mutated_catalogues_give_queries_or_errors() {
    let whole = repo_file("collector/metrics.toml");
    let mut seeds = vec![whole.clone()];
    // Each query alone, so the mutations reach each one's checks.
    seeds.extend(
        whole
            .split("\n[[query]]\n")
            .skip(1)
            .map(|q| format!("[[query]]\n{q}")),
    );
    assert!(seeds.len() > 20, "{} seeds", seeds.len());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for seed in &seeds {
        assert!(
            Catalogue::parse(seed, "seed").is_ok(),
            "a seed is refused: {seed}"
        );
        for _ in 0..MUTATIONS_PER_SEED / 10 {
            let input = mutate(seed, &mut rng);
            accepted += usize::from(Catalogue::parse(&input, "m").is_ok());
            survives("the catalogue", &input, read_catalogue);
        }
    }
    // Mutations that keep a valid file show the checks past the parser ran.
    assert!(
        accepted > 100,
        "only {accepted} mutated catalogues accepted"
    );
}

#[test]
fn mutated_configs_give_settings_or_errors() {
    let example = repo_file("collector/deploy/collector.toml.example");
    // The example with every commented-out key set.
    let all_keys: String = example
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.split(' ').nth(1) == Some("=") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let seeds = [example, all_keys];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for seed in &seeds {
        for _ in 0..MUTATIONS_PER_SEED {
            let input = mutate(seed, &mut rng);
            survives("the config", &input, read_config);
        }
    }
}
