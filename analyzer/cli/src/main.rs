mod cli;

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command, OutputFormat};
use std::io::{self, Write};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pglog: error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Analyze(args) => {
            let (opts, output) = args.to_options()?;
            let report = pglog_analyzer::analyze(&opts)?;
            let sink: Box<dyn Write> = match &output.path {
                Some(p) => Box::new(io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot write {}", p.display()))?,
                )),
                None => Box::new(io::stdout().lock()),
            };
            match output.format {
                OutputFormat::Json => pglog_reports::write_json(&report, sink)?,
                OutputFormat::Text => pglog_reports::write_text(&report, sink)?,
            }
            Ok(())
        }
    }
}
