//! The boxes of records the stitcher has handed out, kept to be filled
//! again: a new record is written in place, into an allocation that has
//! room for a message already, instead of being built on the stack and
//! copied into a new box (a record is about 500 bytes).

use crate::record::{LogRecord, Severity};

/// At most this many boxes wait for reuse. Each record handed out makes
/// room for the next one read, but the records open at once (one a
/// session) swing by more than a few when many sessions log together:
/// with 8 kept, 43% of the records of a busy mid-day stderr slice took a
/// new box. A kept box holds at most 16 KiB of message, a kept text as much.
const KEPT: usize = 64;

#[derive(Default)]
pub(super) struct RecordPool {
    /// Each holds the record [`LogRecord::reset`] leaves.
    free: Vec<Box<LogRecord>>,
    /// Emptied buffers of the DETAIL, HINT, CONTEXT, STATEMENT and QUERY
    /// texts of records given back: most statement records carry a DETAIL
    /// (their parameters), which would be allocated and freed each time.
    texts: Vec<String>,
}

/// The largest text buffer kept.
const KEPT_TEXT_BYTES: usize = 16 * 1024;

impl RecordPool {
    /// A record as `LogRecord::new(line, severity, String::new())` makes it.
    pub(super) fn take(&mut self, line: u64, severity: Severity) -> Box<LogRecord> {
        match self.free.pop() {
            Some(mut r) => {
                r.line = line;
                r.severity = severity;
                r
            }
            None => Box::new(LogRecord::new(line, severity, String::new())),
        }
    }

    /// A box whose record is not needed any more. What the record holds is
    /// dropped now (but for the message's buffer, see
    /// [`LogRecord::reset`]), so kept boxes hold little memory.
    pub(super) fn give(&mut self, mut r: Box<LogRecord>) {
        if self.free.len() < KEPT {
            // Field by field: an iterator over them cost 30 instructions more.
            keep_text(&mut self.texts, &mut r.detail);
            keep_text(&mut self.texts, &mut r.hint);
            keep_text(&mut self.texts, &mut r.context);
            keep_text(&mut self.texts, &mut r.statement);
            keep_text(&mut self.texts, &mut r.internal_query);
            r.reset(0, Severity::Log);
            self.free.push(r);
        }
    }

    /// `text` as an owned string, in a kept buffer when there is one.
    pub(super) fn text(&mut self, text: &str) -> String {
        let mut t = self.texts.pop().unwrap_or_default();
        t.push_str(text);
        t
    }
}

/// Moves the text in `slot`, emptied, into `texts` (when there is room).
#[inline]
fn keep_text(texts: &mut Vec<String>, slot: &mut Option<String>) {
    if let Some(mut t) = slot.take() {
        if texts.len() < KEPT && t.capacity() <= KEPT_TEXT_BYTES {
            t.clear();
            texts.push(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_record_is_a_new_one_whatever_it_held() {
        let mut pool = RecordPool::default();
        let mut r = pool.take(3, Severity::Error);
        assert_eq!(*r, LogRecord::new(3, Severity::Error, String::new()));
        r.message.push_str("duration: 1.000 ms");
        r.statement = Some("SELECT 1".into());
        r.user = Some("alice".into());
        r.pid = Some(42);
        r.offset = 100;
        pool.give(r);
        let again = pool.take(7, Severity::Log);
        assert_eq!(*again, LogRecord::new(7, Severity::Log, String::new()));
        assert!(again.message.capacity() >= "duration: 1.000 ms".len());
    }

    #[test]
    fn text_buffers_are_reused_empty() {
        let mut pool = RecordPool::default();
        let mut r = pool.take(1, Severity::Log);
        r.detail = Some("parameters: $1 = '1'".repeat(10));
        r.hint = Some("x".repeat(1 << 20));
        pool.give(r);
        let t = pool.text("parameters: $1 = '2'");
        assert_eq!(t, "parameters: $1 = '2'");
        assert!(
            t.capacity() >= 200,
            "the DETAIL's buffer, not the 1 MiB HINT's"
        );
        assert!(t.capacity() < 1 << 20);
        assert_eq!(pool.text("y"), "y");
    }

    #[test]
    fn a_long_message_buffer_is_not_kept() {
        let mut pool = RecordPool::default();
        let mut r = pool.take(1, Severity::Log);
        r.message = "x".repeat(1 << 20);
        pool.give(r);
        assert!(pool.take(2, Severity::Log).message.capacity() < 1 << 20);
    }
}
