//! The progress bar on stderr: bytes read, MB/s and ETA. Only on a
//! terminal, and never with --quiet, so cron mail stays clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pglog_analyzer::{expand_all, AnalyzeOptions, InputSpec};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Progress {
    pub fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// Starts a bar fed by the engine's byte counter, when one should be shown.
pub fn start(opts: &mut AnalyzeOptions, quiet: bool) -> anyhow::Result<Option<Progress>> {
    if quiet || !std::io::stderr().is_terminal() {
        return Ok(None);
    }
    let total: u64 = expand_all(&opts.inputs, &opts.streams)?
        .inputs
        .iter()
        .filter_map(|i| match i {
            InputSpec::File { path, .. } => std::fs::metadata(path).ok().map(|m| m.len()),
            InputSpec::Stream(s) => s.size,
            InputSpec::Stdin => None,
        })
        .sum();
    let counter = Arc::new(AtomicU64::new(0));
    opts.progress = Some(counter.clone());
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .expect("a valid template"),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) {
            bar.set_position(counter.load(Ordering::Relaxed).min(total));
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.finish_and_clear();
    });
    Ok(Some(Progress { stop, thread }))
}
