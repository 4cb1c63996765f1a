//! Format and prefix inference: the auto path of `pglog analyze` (magic
//! bytes, format sniffing, `log_line_prefix` detection), then the records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pglog_logparse::{prefix, source, InputFormat};
use std::io::Read;

/// Decompressed bytes read at most: a small compressed input may expand to
/// any size, and reading all of it is not what this target looks at.
const MAX_DECOMPRESSED: u64 = 1024 * 1024;

fuzz_target!(|data: &[u8]| {
    if let Some(p) = prefix::detect_prefix(data.split(|&b| b == b'\n')) {
        prefix::Prefix::parse(p.as_str()).expect("a detected prefix parses again");
    }
    let Ok(input) = source::wrap(pglog_fuzz::reader(data)) else {
        return;
    };
    let bounded = Box::new(input.reader.take(MAX_DECOMPRESSED));
    pglog_fuzz::analyze(InputFormat::Auto, None, bounded);
});
