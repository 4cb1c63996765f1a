//! Exponential backoff with full jitter, shared by reconnects and sinks.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            attempt: 0,
        }
    }

    /// The next wait: a random share of base * 2^attempt, capped, never
    /// less than half of it so retries do not bunch up at zero.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(16));
        let cap = exp.min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        cap.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// How long one request to AWS may take. It starts at the configured
/// attempt timeout. A request that timed out may still have been stored, so
/// it is retried with a longer deadline rather than again and again with the
/// same one: the deadline grows fourfold per timeout (up to [`MAX_GROWTH`]
/// times the base). While answers keep coming slowly it stays long enough for
/// them, and answers within the base bring it back down.
#[derive(Debug, Clone)]
pub struct AttemptDeadline {
    base: Duration,
    current: Duration,
}

/// The longest deadline, as a multiple of the configured one.
pub const MAX_GROWTH: u32 = 16;

impl AttemptDeadline {
    pub fn new(base: Duration) -> AttemptDeadline {
        AttemptDeadline {
            base,
            current: base,
        }
    }

    pub fn current(&self) -> Duration {
        self.current
    }

    /// An attempt ran out of time.
    pub fn timed_out(&mut self) {
        self.current = (self.current * 4).min(self.base * MAX_GROWTH);
    }

    /// An attempt was answered after `took`: keep three times that, within
    /// the base and the current deadline.
    pub fn answered(&mut self, took: Duration) {
        self.current = (took * 3).min(self.current).max(self.base);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_grows_after_timeouts_and_comes_back_when_answers_are_fast() {
        let base = Duration::from_secs(10);
        let mut d = AttemptDeadline::new(base);
        d.timed_out();
        assert_eq!(d.current(), Duration::from_secs(40));
        // Still slow (20 s): the long deadline stays.
        d.answered(Duration::from_secs(20));
        assert_eq!(d.current(), Duration::from_secs(40));
        for _ in 0..5 {
            d.timed_out();
        }
        assert_eq!(d.current(), base * MAX_GROWTH);
        d.answered(Duration::from_millis(100));
        assert_eq!(d.current(), base);
    }

    #[test]
    fn grows_to_its_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        for _ in 0..10 {
            b.next_delay();
        }
        let late = b.next_delay();
        assert!(
            late >= Duration::from_secs(1) && late <= Duration::from_secs(2),
            "{late:?}"
        );
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
