//! The pgbouncer log reader over any bytes, folded, merged and reported as `pglog analyze` and `pglog merge` do.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pglog_fuzz::analyze_pgbouncer(pglog_fuzz::reader(data));
});
