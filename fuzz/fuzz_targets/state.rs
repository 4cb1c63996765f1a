//! The `--save-state` loader, then what `pglog merge` and `pglog diff` do
//! with a loaded state: merge, report, compare.
//!
//! An input starting with 0 is the state's payload (the postcard encoding)
//! and is framed and compressed here as `save_state` writes it, so that
//! mutations reach the decoding of the analysis instead of ending in zstd's
//! checks; any other input is read as a state file as it is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pglog_analyzer::diff::{diff, DiffOptions};
use pglog_analyzer::STATE_VERSION;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let file = match data.split_first() {
        Some((0, payload)) => {
            let mut file = b"PGLOGST\0".to_vec();
            file.extend_from_slice(&STATE_VERSION.to_le_bytes());
            file.extend(zstd::encode_all(payload, 1).expect("zstd compresses in memory"));
            file
        }
        _ => data.to_vec(),
    };
    let Ok(analysis) = pglog_analyzer::read_state(&file[..], Path::new("fuzz.state")) else {
        return;
    };
    let mut merged = analysis.clone();
    merged.merge(analysis.clone());
    pglog_fuzz::report(&merged);
    let d = diff(&analysis, &merged, DiffOptions::default());
    serde_json::to_vec(&d).expect("a diff serializes");
});
