//! The envelope readers (Cloud Logging, CloudNativePG, Azure, Heroku,
//! Docker, CRI, journald, CloudWatch exports): the first byte picks the
//! envelope (`0` to `8` in the seeds), the rest is the input, its inner
//! prefix detected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pglog_logparse::InputFormat;

const ENVELOPES: [InputFormat; 9] = [
    InputFormat::Cloudsql,
    InputFormat::Cnpg,
    InputFormat::Azure,
    InputFormat::Heroku,
    InputFormat::Docker,
    InputFormat::Cri,
    InputFormat::Journald,
    InputFormat::JournaldJson,
    InputFormat::CloudwatchExport,
];

fuzz_target!(|data: &[u8]| {
    if let Some((&pick, log)) = data.split_first() {
        let format = ENVELOPES[pick.wrapping_sub(b'0') as usize % ENVELOPES.len()];
        pglog_fuzz::analyze(format, None, pglog_fuzz::reader(log));
    }
});
