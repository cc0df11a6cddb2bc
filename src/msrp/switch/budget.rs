//! The switch's buffer budget: what it holds for its legs (chunk buffers,
//! queued transmits, pending transactions), bounded by
//! [`SwitchLimits::max_buffered_bytes`](super::SwitchLimits::max_buffered_bytes)
//! and by the allowance its owner sets, and what happens to a leg whose
//! chunk does not fit: 413 and teardown.

use std::mem::size_of;
use std::sync::Arc;

use super::{
    FailureReport, Leg, LegId, MsrpSwitch, Pending, Receiving, Shared, SwitchEvent, TransactId,
};
use crate::msrp::session::wire::write_response;

/// What one relayed transaction awaiting its response is charged against
/// the buffer budget: its entry, its deadline and its share of the
/// delivery bookkeeping.
pub const PENDING_COST: usize = 128;

/// Bytes a chunk or a relayed SEND must leave free, so that the switch's
/// own responses (a 413 above all) still fit.
pub(super) const CONTROL_ROOM: usize = 4 * 1024;

/// Chunk buffers larger than this are released after their chunk, not kept
/// for the next one.
const RETAIN_CHUNK: usize = 16 * 1024;

/// The first capacity of a chunk buffer.
const MIN_CHUNK: usize = 256;

impl Shared {
    /// The bound in force: the limit, or the owner's allowance if lower.
    fn cap(&self) -> usize {
        self.limits.max_buffered_bytes.min(self.allowance)
    }

    /// Whether `n` more bytes fit with `room` to spare.
    pub(super) fn fits(&self, n: usize, room: usize) -> bool {
        self.buffered
            .checked_add(n)
            .and_then(|t| t.checked_add(room))
            .is_some_and(|t| t <= self.cap())
    }

    /// Bytes given back.
    pub(super) fn release(&mut self, n: usize) {
        self.buffered = self.buffered.saturating_sub(n);
    }

    /// Makes room in `chunk` for `more` bytes, within the budget (doubling
    /// when it can, exactly what is needed when doubling does not fit);
    /// `false` when even that does not fit.
    pub(super) fn reserve_chunk(&mut self, chunk: &mut Arc<Vec<u8>>, more: usize) -> bool {
        let chunk = self.unique_chunk(chunk);
        let Some(need) = chunk.len().checked_add(more) else {
            return false;
        };
        let capacity = chunk.capacity();
        if need <= capacity {
            return true;
        }
        let doubled = need.max(capacity.saturating_mul(2)).max(MIN_CHUNK);
        for target in [doubled, need] {
            if self.fits(target - capacity, CONTROL_ROOM) {
                chunk.reserve_exact(target - chunk.len());
                let grown = chunk.capacity().saturating_sub(capacity);
                self.buffered = self.buffered.saturating_add(grown);
                return true;
            }
        }
        false
    }

    /// `chunk` for writing: itself unless the transmits that relay it
    /// still share it (their bytes not written yet); else a fresh buffer,
    /// the shared one left to them (its capacity no longer counted here:
    /// the queued transmits count their bytes).
    pub(super) fn unique_chunk<'c>(&mut self, chunk: &'c mut Arc<Vec<u8>>) -> &'c mut Vec<u8> {
        if Arc::get_mut(chunk).is_none() {
            self.release(chunk.capacity());
            *chunk = Arc::default();
        }
        Arc::make_mut(chunk)
    }

    /// Releases a large chunk buffer once its chunk is handled.
    pub(super) fn trim_chunk(&mut self, chunk: &mut Arc<Vec<u8>>) {
        if chunk.capacity() > RETAIN_CHUNK {
            self.release(chunk.capacity());
            *chunk = Arc::default();
        }
    }
}

impl MsrpSwitch {
    /// The bytes the switch holds for its legs: chunk buffers, queued
    /// transmits and [`PENDING_COST`] per relayed transaction awaiting its
    /// response — what
    /// [`SwitchLimits::max_buffered_bytes`](super::SwitchLimits::max_buffered_bytes)
    /// bounds.
    pub fn buffered_bytes(&self) -> usize {
        self.shared.buffered
    }

    /// Bounds what the switch may hold from now on below its own limit:
    /// the share of a budget that several switches draw on (all the IM
    /// Sessions of a server) left for this one. A leg whose chunk then
    /// does not fit gets 413 and is torn down, as over the limit.
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::msrp::switch::{LegConfig, LegId, LegInput, MsrpSwitch, SwitchConfig, SwitchEvent, SwitchOutput};
    ///
    /// let mut switch = MsrpSwitch::new(SwitchConfig::default());
    /// let now = Instant::now();
    /// let local = "msrp://switch.example.com:2855/leg1;tcp";
    /// let remote = "msrp://alice.example.com:7777/s1;tcp";
    /// switch.join(LegId(1), LegConfig::new(local, remote, "sip:alice@example.com"), now)?;
    /// switch.set_buffer_allowance(16 * 1024);
    /// let head = format!("MSRP t1 SEND\r\nTo-Path: {local}\r\nFrom-Path: {remote}\r\n\
    ///     Message-ID: m1\r\nByte-Range: 1-*/*\r\nContent-Type: message/cpim\r\n\r\n");
    /// switch.handle_input(LegId(1), LegInput::Bytes(head.as_bytes()), now);
    /// switch.handle_input(LegId(1), LegInput::Bytes(&[b'x'; 32 * 1024]), now);
    /// let mut refused = false;
    /// let mut torn_down = false;
    /// while let Some(output) = switch.poll_output() {
    ///     match output {
    ///         SwitchOutput::Transmit(t) => refused |= t.into_bytes().starts_with(b"MSRP t1 413"),
    ///         SwitchOutput::Event(e) => torn_down |= e == SwitchEvent::BufferExceeded { leg: LegId(1) },
    ///     }
    /// }
    /// assert!(refused && torn_down);
    /// assert!(switch.buffered_bytes() < 16 * 1024);
    /// # Ok::<(), oma_im::msrp::switch::JoinError>(())
    /// ```
    pub fn set_buffer_allowance(&mut self, bytes: usize) {
        self.shared.allowance = bytes;
    }

    /// The bytes of the switch's state apart from its buffers (which
    /// [`buffered_bytes`](Self::buffered_bytes) counts): each leg's
    /// configuration, paths, parser and bookkeeping, and the deliveries in
    /// flight.
    pub(crate) fn state_bytes(&self) -> usize {
        const DELIVERY: usize = 96;
        let legs: usize = self.legs.iter().map(|(_, leg)| leg_bytes(leg)).sum();
        size_of::<MsrpSwitch>()
            + self.first_body.capacity()
            + legs
            + self.deliveries.capacity() * DELIVERY
    }

    /// Leg `id`'s chunk does not fit: it is dropped, answered 413 at once
    /// (RFC 4975 §7.2; owed unless `Failure-Report: no`), and the leg's
    /// input is ignored from now on; the owner tears it down.
    pub(super) fn exceeded(&mut self, id: LegId) {
        let Some(leg) = self.legs.get_mut(&id) else {
            return;
        };
        leg.failed = true;
        if let Some(rx) = leg.receiving.take() {
            self.shared.release(rx.chunk.capacity());
            let inc = &rx.incoming;
            if inc.failure_report.unwrap_or(FailureReport::Yes) != FailureReport::No {
                let (to_line, from_line) =
                    inc.response_lines(leg.lines.remote_line(), leg.lines.local_line());
                let mut out = self.shared.buffer(48 + to_line.len() + from_line.len());
                write_response(&mut out, &inc.transact_id, 413, to_line, from_line);
                self.shared
                    .enqueue(id, leg, super::LegTransmit::whole(id, out), 0);
            }
        }
        self.shared
            .events
            .push_back(SwitchEvent::BufferExceeded { leg: id });
    }
}

/// What one leg's state holds, apart from its chunk buffer and queue.
fn leg_bytes(leg: &Leg) -> usize {
    size_of::<Leg>()
        + leg.local.local_uri.held_bytes()
        + leg.local.remote_uri.held_bytes()
        + leg.lines.held_bytes()
        + leg.parser.held_bytes()
        + leg
            .receiving
            .as_ref()
            .map_or(0, |rx| size_of::<Receiving>() + rx.incoming.held_bytes())
        + leg.relays.held_bytes()
        + leg.pending.capacity() * size_of::<(TransactId, Pending)>()
}
