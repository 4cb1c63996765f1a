//! The collector's config file: TOML text to settings, validated as
//! `pglog collect` does at start.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pglog_collector::{Config, Overrides};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut overrides) = Overrides::parse(text, "fuzz.toml") else {
        return;
    };
    // The metric file is another target's input (collector_catalogue);
    // reading whatever path the fuzzer names is not this one's business.
    overrides.metrics = None;
    let _ = Config::resolve(overrides, true, true);
});
