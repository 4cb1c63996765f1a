mod cli;
mod collect;
mod progress;
mod remote;

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command, DiffInputs, OutputFormat, OutputPlan};
use pglog_analyzer::baseline::Baseline;
use pglog_analyzer::diff::diff;
use pglog_analyzer::{load_state, save_state, Analysis, SkipKind};
use std::io::{self, Write};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e)
            if e.downcast_ref::<collect::CycleFailed>().is_some()
                || e.downcast_ref::<Unreadable>().is_some() =>
        {
            std::process::ExitCode::from(1)
        }
        // The reader of our output went away (`pglog analyze ... | head`):
        // nothing is wrong.
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pglog: error: {}", message(&e));
            std::process::ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once: library errors already say
/// the cause they wrap, which `{:#}` would print again.
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Collect(args) => collect::run(&args),
        Command::Metrics { command } => collect::metrics(&command),
        Command::Dashboard(args) => collect::dashboard(&args),
        Command::PrometheusRules(args) => collect::prometheus_rules(&args),
        Command::Analyze(args) => {
            let (mut opts, output) = args.to_options()?;
            // A bad baseline fails before the logs are read, naming the file.
            let baseline = match args.baseline() {
                Some((path, o)) => Some(Baseline::load(&path, o).context("--baseline")?),
                None => None,
            };
            remote::add_streams(&args, &mut opts)?;
            // Logs read back from CloudWatch Logs land in files first, so they
            // are analyzed exactly as local files are, in bounded memory.
            let _fetched = match args.fetch_options(opts.filter.as_ref())? {
                Some(f) => {
                    let dir = tempfile::tempdir()?;
                    let got = collect::fetch_group(&f, dir.path())?;
                    if got == 0 {
                        anyhow::bail!("no events in {} in that window", f.group);
                    }
                    opts.inputs = vec![dir.path().display().to_string()];
                    Some(dir)
                }
                None => None,
            };
            let bar = progress::start(&mut opts, args.quiet)?;
            let analysis = pglog_analyzer::run_analysis(&opts);
            if let Some(b) = bar {
                b.finish();
            }
            let analysis = analysis?;
            warn_changed(&analysis);
            warn_all_filtered(&analysis);
            note_inferred_prefixes(&analysis);
            note_languages(&analysis);
            if let Some(p) = &args.save_state {
                save_state(&analysis, p)?;
            }
            let mut report = analysis.report(opts.malformed_samples);
            if let Some(b) = &baseline {
                b.apply(&analysis, &mut report);
                warn_baseline(&report);
            }
            write_built_report(&report, &output)?;
            warn_unreadable(&analysis)
        }
        Command::Merge(args) => {
            let mut merged: Option<Analysis> = None;
            remote::for_each_state(&args.states, |a| match &mut merged {
                Some(m) => m.merge(a),
                None => merged = Some(a),
            })?;
            let merged = merged.context("no state given")?;
            if let Some(p) = &args.save_state {
                save_state(&merged, p)?;
            }
            write_report(&merged, &args.out.plan()?, 20)
        }
        Command::Schema => {
            pglog_reports::write_json(&pglog_analyzer::report_json_schema(), io::stdout().lock())?;
            Ok(())
        }
        Command::Diff(args) => {
            let (old, new) = match args.inputs()? {
                DiffInputs::States { old, new } => (load_state(&old)?, load_state(&new)?),
                DiffInputs::Windows(w) => {
                    let [old, new] = *w;
                    (read_window(&old, "OLD")?, read_window(&new, "NEW")?)
                }
            };
            let d = diff(&old, &new, args.options());
            let output = args.out.plan()?;
            let sink = open_sink(&output)?;
            match output.format {
                OutputFormat::Json => pglog_reports::write_json(&d, sink)?,
                OutputFormat::Text | OutputFormat::Md | OutputFormat::Html => {
                    pglog_reports::write_diff_text(&d, sink)?
                }
            }
            Ok(())
        }
    }
}

/// One window of `pglog diff`: the logs read with its options; inputs that
/// could not be read are named, and a window with no record is an error.
fn read_window(opts: &pglog_analyzer::AnalyzeOptions, which: &str) -> anyhow::Result<Analysis> {
    let a = pglog_analyzer::run_analysis(opts).with_context(|| format!("the {which} window"))?;
    for s in a.skipped.iter().filter(|s| s.kind == SkipKind::Unreadable) {
        eprintln!("pglog: warning: left out {}: {}", s.path, s.reason);
    }
    if a.stats.summary.records == 0 {
        anyhow::bail!(
            "the {which} window holds no record of the {} read",
            a.stats.summary.filtered
        );
    }
    Ok(a)
}

/// The baseline's doubts, on stderr too (they are in `baseline.warnings`).
fn warn_baseline(report: &pglog_analyzer::Report) {
    for w in report.baseline.iter().flat_map(|b| &b.warnings) {
        eprintln!("pglog: warning: --baseline {w}");
    }
}

fn open_sink(output: &OutputPlan) -> anyhow::Result<Box<dyn Write>> {
    Ok(match &output.path {
        Some(p) => Box::new(io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(io::stdout().lock()),
    })
}

fn write_report(a: &Analysis, output: &OutputPlan, max_samples: usize) -> anyhow::Result<()> {
    write_built_report(&a.report(max_samples), output)
}

fn write_built_report(report: &pglog_analyzer::Report, output: &OutputPlan) -> anyhow::Result<()> {
    let clock = pglog_reports::Clock::new(report, output.tz);
    let sink = open_sink(output)?;
    match output.format {
        OutputFormat::Json => pglog_reports::write_json(report, sink)?,
        OutputFormat::Md => pglog_reports::write_markdown(report, sink, clock)?,
        OutputFormat::Html => pglog_reports::write_html(report, sink, clock)?,
        OutputFormat::Text => {
            let paint = match output.path {
                None => pglog_reports::Paint::for_stdout(),
                Some(_) => pglog_reports::Paint { on: false },
            };
            pglog_reports::write_text(report, sink, paint, clock)?
        }
    }
    Ok(())
}

/// A report of no record because the window or filters left every one out
/// is a report, but rarely what was meant: say so.
fn warn_all_filtered(analysis: &Analysis) {
    let s = &analysis.stats.summary;
    if s.records == 0 && s.filtered > 0 {
        eprintln!(
            "pglog: warning: the window and filters left out all {} records read",
            s.filtered
        );
    }
}

/// A guessed prefix may be wrong: say which was used, once per prefix.
fn note_inferred_prefixes(analysis: &Analysis) {
    let mut by_prefix: Vec<(&str, Vec<&str>)> = Vec::new();
    for s in analysis.sources.iter().filter(|s| s.prefix_inferred) {
        let Some(p) = s.prefix.as_deref() else {
            continue;
        };
        match by_prefix.iter_mut().find(|(q, _)| *q == p) {
            Some((_, files)) => files.push(&s.path),
            None => by_prefix.push((p, vec![&s.path])),
        }
    }
    for (prefix, files) in by_prefix {
        let more = match files.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        eprintln!(
            "pglog: note: log_line_prefix inferred as '{prefix}' for {}{more}; give --prefix to override",
            files[0]
        );
    }
}

/// Some inputs could not be read, the report of the others was written (exit status 1).
#[derive(Debug, thiserror::Error)]
#[error("{0} input(s) could not be read")]
struct Unreadable(usize);

/// Names each input that could not be opened or read; the report is written without them.
fn warn_unreadable(analysis: &Analysis) -> anyhow::Result<()> {
    let unreadable: Vec<_> = analysis
        .skipped
        .iter()
        .filter(|s| s.kind == SkipKind::Unreadable)
        .collect();
    for s in &unreadable {
        eprintln!("pglog: warning: left out {}: {}", s.path, s.reason);
    }
    if unreadable.is_empty() {
        return Ok(());
    }
    Err(Unreadable(unreadable.len()).into())
}

/// Translated logs: which language each was read in, and the records the
/// tables lacked.
fn note_languages(analysis: &Analysis) {
    for s in &analysis.sources {
        if let Some(lang) = s.language.as_deref().filter(|l| *l != "en") {
            eprintln!(
                "pglog: note: {} is written in '{lang}'; its messages were read in English ({} not in the table)",
                s.path, s.untranslated
            );
        }
    }
    for w in pglog_analyzer::language_warnings(
        analysis
            .sources
            .iter()
            .map(|s| (s.path.as_str(), &s.languages)),
    ) {
        eprintln!("pglog: warning: {}: {}", w.path, w.message);
    }
}

/// A file that changed while it was read gives a partial report of it: say so.
fn warn_changed(analysis: &Analysis) {
    for s in &analysis.sources {
        if let Some(c) = &s.changed {
            let end = c
                .bytes_at_end
                .map_or("gone".to_string(), |b| format!("{b} bytes"));
            eprintln!(
                "pglog: warning: {} changed while it was read ({}: {} bytes at the start, {end} at the end); its last records may be cut or missing",
                s.path, c.change, c.bytes_at_start
            );
        }
    }
}
