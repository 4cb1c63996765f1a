//! Renderers for the analyzer's [`Report`]: JSON for machines and a short
//! terminal summary for people.

mod json;
mod text;

pub use json::write_json;
pub use text::{write_diff_text, write_text};
