//! Renderers for the analyzer's [`Report`]: JSON for machines, a short
//! terminal summary for people, and the same as Markdown for tickets.

mod baseline;
mod clock;
mod events;
mod html;
mod incidents;
mod json;
mod markdown;
mod pgbouncer;
mod plain;
mod scope;
mod server;
mod text;

pub use clock::{Clock, Tz};
pub use html::write_html;
pub use json::write_json;
pub use markdown::write_markdown;
pub use text::{write_diff_text, write_text, Paint};
