//! The csvlog reader over any bytes, folded and reported as `pglog analyze` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pglog_logparse::InputFormat;

fuzz_target!(|data: &[u8]| {
    pglog_fuzz::analyze(InputFormat::Csv, None, pglog_fuzz::reader(data));
});
