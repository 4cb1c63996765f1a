//! `analyze-json OUT INPUT...`: what `pglog analyze -q -j 1 --format json -o
//! OUT INPUT...` does (the same engine calls and JSON writer, with the CLI's
//! defaults), for callgrind in analyzer/bench/profile.sh.

use pglog_analyzer::{run_analysis, AnalyzeOptions};
use std::io::BufWriter;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(out), inputs) = (args.next(), args.collect::<Vec<_>>()) else {
        eprintln!("usage: analyze-json OUT INPUT...");
        return ExitCode::from(2);
    };
    let opts = AnalyzeOptions {
        inputs,
        jobs: 1,
        ..AnalyzeOptions::default()
    };
    let analysis = match run_analysis(&opts) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("analyze-json: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = analysis.report(opts.malformed_samples);
    let written = std::fs::File::create(&out)
        .and_then(|f| pglog_reports::write_json(&report, BufWriter::new(f)));
    if let Err(e) = written {
        eprintln!("analyze-json: cannot write {out}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
