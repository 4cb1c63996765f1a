//! The jsonlog fast path against serde_json on any bytes: where the fast
//! path reads a line, it must give what the full parser gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pglog_logparse::format::json::{parse_line_fast, parse_line_full};

fuzz_target!(|data: &[u8]| {
    for line in data.split(|&c| c == b'\n') {
        if let Some(fast) = parse_line_fast(1, line) {
            assert_eq!(fast, parse_line_full(1, line));
        }
    }
});
