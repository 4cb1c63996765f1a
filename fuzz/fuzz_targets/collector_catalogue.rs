//! The collector's metric catalogue: TOML text to queries and the metrics
//! list `pglog metrics list` prints.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pglog_collector::catalogue::{Catalogue, Role};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(catalogue) = Catalogue::parse(text, "fuzz.toml") else {
        return;
    };
    for q in &catalogue.queries {
        let _ = q.marked_sql();
        let _ = q.runs_on(Role::Primary, 150000);
        let _ = q.runs_on(Role::Standby, 150000);
    }
    serde_json::to_vec(&catalogue.metrics()).expect("the metrics list serializes");
});
