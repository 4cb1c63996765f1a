//! The stderr reader: the first line of the input is the `log_line_prefix`
//! (empty: detected from the log), the rest is the log.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pglog_logparse::InputFormat;

fuzz_target!(|data: &[u8]| {
    if let Some((prefix, log)) = pglog_fuzz::prefix_and_log(data) {
        pglog_fuzz::analyze(InputFormat::Stderr, prefix, pglog_fuzz::reader(log));
    }
});
