//! The auto_explain text plan parser and its insights, as the report uses them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let plan = String::from_utf8_lossy(data);
    if let Some(parsed) = pglog_analyzer::plan::parse_plan("text", &plan) {
        serde_json::to_vec(&parsed).expect("a plan serializes");
    }
});
