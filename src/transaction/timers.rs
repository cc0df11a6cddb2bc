//! The RFC 3261 §17 timer values and the names of the transaction timers.

use std::time::Duration;

/// The base timer values of RFC 3261 (§17.1.1.1, Table 4).
///
/// ```
/// use std::time::Duration;
/// use oma_im::transaction::TimerConfig;
///
/// let t = TimerConfig::default();
/// assert_eq!(t.t1, Duration::from_millis(500));
/// assert_eq!(t.timeout(), Duration::from_secs(32)); // 64*T1: timers B, F, H, J
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1, the round-trip time estimate (default 500 ms).
    pub t1: Duration,
    /// T2, the longest interval between retransmissions of non-INVITE
    /// requests and INVITE responses (default 4 s).
    pub t2: Duration,
    /// T4, the longest time a message stays in the network (default 5 s).
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64*T1: the transaction timeout (timers B, F, H and J) and how long a
    /// UAS core retransmits a 2xx to INVITE (§13.3.1.4).
    pub fn timeout(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// Timer D: 32 s or more on an unreliable transport, zero on a reliable one.
    pub fn timer_d(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.timeout().max(Duration::from_secs(32))
        }
    }

    /// Timers I and K: T4 on an unreliable transport, zero on a reliable one.
    pub fn timer_t4(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.t4
        }
    }

    /// Timer J: 64*T1 on an unreliable transport, zero on a reliable one.
    pub fn timer_j(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.timeout()
        }
    }

    /// The next retransmission interval after `interval`, doubled and capped
    /// at T2 (timers E and G, and the UAS core's 2xx retransmission).
    pub fn backoff(&self, interval: Duration) -> Duration {
        interval.saturating_mul(2).min(self.t2)
    }
}

/// The transaction timers of RFC 3261 §17 (Table 4), named by their letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// INVITE client: request retransmission interval (UDP only), doubling.
    A,
    /// INVITE client: transaction timeout, 64*T1.
    B,
    /// INVITE client: wait time for response retransmissions in Completed.
    D,
    /// Non-INVITE client: request retransmission interval (UDP only),
    /// doubling up to T2.
    E,
    /// Non-INVITE client: transaction timeout, 64*T1.
    F,
    /// INVITE server: response retransmission interval (UDP only), doubling
    /// up to T2.
    G,
    /// INVITE server: wait time for ACK receipt, 64*T1.
    H,
    /// INVITE server: wait time for ACK retransmissions in Confirmed.
    I,
    /// Non-INVITE server: wait time for request retransmissions in Completed.
    J,
    /// Non-INVITE client: wait time for response retransmissions in Completed.
    K,
}

/// The scheduled timers of one transaction: at most three run at once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timers {
    slots: arrayvec::ArrayVec<(Timer, std::time::Instant), 3>,
}

impl Timers {
    /// Schedules `timer` at `at`, replacing an earlier schedule of it.
    pub(crate) fn set(&mut self, timer: Timer, at: std::time::Instant) {
        self.cancel(timer);
        // At most three distinct timers run at once in any state; a fourth
        // would be a logic error, and it then replaces the latest slot.
        if self.slots.is_full() {
            self.slots.pop();
        }
        self.slots.push((timer, at));
    }

    /// Stops `timer`.
    pub(crate) fn cancel(&mut self, timer: Timer) {
        self.slots.retain(|(t, _)| *t != timer);
    }

    /// Stops every timer.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
    }

    /// The earliest scheduled timer.
    pub(crate) fn earliest(&self) -> Option<(std::time::Instant, Timer)> {
        self.slots
            .iter()
            .map(|(t, at)| (*at, *t))
            .min_by_key(|(at, _)| *at)
    }

    /// Removes and returns the earliest timer due at `now`.
    pub(crate) fn take_due(&mut self, now: std::time::Instant) -> Option<Timer> {
        let (at, timer) = self.earliest()?;
        if at > now {
            return None;
        }
        self.cancel(timer);
        Some(timer)
    }
}
