//! What the switch hands out.

use std::sync::Arc;
use std::time::Instant;

use smallvec::SmallVec;

use super::LegId;
use crate::msrp::MsrpError;

/// One complete MSRP message to write to one leg's connection.
///
/// A relayed chunk is not copied for each leg it goes to: its body is
/// shared by the transmits of every leg, and each transmit holds only its
/// own head (start line and headers, up to the blank line) and tail (the
/// end-line). The bytes on the wire are the three in order:
/// [`slices`](Self::slices) gives them for a vectored write,
/// [`write_to`](Self::write_to) appends them to a buffer and
/// [`into_bytes`](Self::into_bytes) gives them in one. A transmit without a
/// body (a response, a report, an aborted chunk) has an empty body slice and
/// tail.
///
/// Once the bytes are written,
/// [`MsrpSwitch::recycle_transmit`](super::MsrpSwitch::recycle_transmit) gives the
/// transmit back, so that the next ones reuse its buffer.
///
/// ```
/// use std::time::Instant;
/// use oma_im::msrp::switch::{LegConfig, LegId, LegInput, MsrpSwitch, SwitchConfig, SwitchOutput};
///
/// let mut switch = MsrpSwitch::new(SwitchConfig::default());
/// let now = Instant::now();
/// for (n, who) in [(1, "alice"), (2, "bob"), (3, "carol")] {
///     let local = format!("msrp://switch.example.com:2855/leg{n};tcp");
///     let remote = format!("msrp://{who}.example.com:7777/s{n};tcp");
///     switch.join(LegId(n), LegConfig::new(&local, &remote, &format!("sip:{who}@example.com")), now)?;
/// }
/// let cpim = b"From: <sip:alice@example.com>\r\nTo: <sip:conf@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhi";
/// let mut send = format!("MSRP t1 SEND\r\nTo-Path: msrp://switch.example.com:2855/leg1;tcp\r\n\
///     From-Path: msrp://alice.example.com:7777/s1;tcp\r\nMessage-ID: m1\r\n\
///     Byte-Range: 1-{}/{}\r\nContent-Type: message/cpim\r\n\r\n", cpim.len(), cpim.len()).into_bytes();
/// send.extend_from_slice(cpim);
/// send.extend_from_slice(b"\r\n-------t1$\r\n");
/// switch.handle_input(LegId(1), LegInput::Bytes(&send), now);
///
/// let mut bodies = Vec::new();
/// while let Some(output) = switch.poll_output() {
///     if let SwitchOutput::Transmit(t) = output {
///         // What a vectored write (`write_vectored`) sends: head, body, tail.
///         let [head, body, tail] = t.slices();
///         let mut wire = Vec::new();
///         t.write_to(&mut wire);
///         assert_eq!(wire, [head, body, tail].concat());
///         assert_eq!(wire.len(), t.len());
///         if t.leg != LegId(1) {
///             assert!(head.starts_with(b"MSRP ") && head.ends_with(b"Content-Type: message/cpim\r\n\r\n"));
///             assert!(tail.starts_with(b"\r\n-------") && tail.ends_with(b"$\r\n"));
///             bodies.push(body.to_vec());
///         }
///         switch.recycle_transmit(t);
///     }
/// }
/// // Bob and Carol get the same body, written once.
/// assert_eq!(bodies.len(), 2);
/// assert_eq!(bodies[0], bodies[1]);
/// # Ok::<(), oma_im::msrp::switch::JoinError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LegTransmit {
    /// The leg.
    pub leg: LegId,
    /// The head, then from `split` on the tail.
    bytes: Vec<u8>,
    /// Where the body goes in `bytes`.
    split: usize,
    /// The body, shared with the transmits of the same chunk to other legs.
    body: Option<Arc<Vec<u8>>>,
}

impl LegTransmit {
    /// A transmit of `bytes` without a shared body.
    pub(super) fn whole(leg: LegId, bytes: Vec<u8>) -> Self {
        let split = bytes.len();
        LegTransmit {
            leg,
            bytes,
            split,
            body: None,
        }
    }

    /// A transmit of `head`, then `body`, then `tail`, where `bytes` holds
    /// the head up to `split` and the tail after it.
    pub(super) fn with_body(leg: LegId, bytes: Vec<u8>, split: usize, body: Arc<Vec<u8>>) -> Self {
        LegTransmit {
            leg,
            bytes,
            split,
            body: Some(body),
        }
    }

    /// The message's bytes in wire order: head, body, tail (the last two
    /// empty when it has no shared body). For a vectored write.
    pub fn slices(&self) -> [&[u8]; 3] {
        let (head, tail) = self.bytes.split_at(self.split.min(self.bytes.len()));
        let body = self.body.as_deref().map_or(&[][..], Vec::as_slice);
        [head, body, tail]
    }

    /// The number of bytes on the wire.
    pub fn len(&self) -> usize {
        self.bytes.len() + self.body.as_deref().map_or(0, Vec::len)
    }

    /// Whether there are no bytes to write (never, for what the switch hands
    /// out).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the bytes on the wire to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.len());
        for part in self.slices() {
            out.extend_from_slice(part);
        }
    }

    /// The bytes on the wire in one buffer (the transmit's own, with the
    /// body copied in): for a transport without vectored writes.
    pub fn into_bytes(self) -> Vec<u8> {
        let Some(body) = self.body.filter(|b| !b.is_empty()) else {
            return self.bytes;
        };
        let mut bytes = self.bytes;
        let split = self.split.min(bytes.len());
        let tail: SmallVec<[u8; 64]> = SmallVec::from_slice(&bytes[split..]);
        bytes.truncate(split);
        bytes.reserve(body.len() + tail.len());
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&tail);
        bytes
    }

    /// The transmit's own buffer, for reuse (its bytes are the head and
    /// tail, not the message).
    pub(super) fn into_buffer(self) -> Vec<u8> {
        self.bytes
    }
}

/// Transmits are equal when they go to the same leg with the same bytes.
impl PartialEq for LegTransmit {
    fn eq(&self, other: &Self) -> bool {
        self.leg == other.leg
            && self.len() == other.len()
            && self
                .slices()
                .into_iter()
                .flatten()
                .eq(other.slices().into_iter().flatten())
    }
}

impl Eq for LegTransmit {}

/// Why a message did not reach a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegFailure {
    /// The leg's queue (or its pending transactions) was full: the rest of
    /// the message was dropped for this leg.
    Congested,
    /// The leg answered a chunk with this non-200 code.
    Response(u16),
    /// The leg did not answer a chunk within the response timeout.
    Timeout,
    /// The sending leg left before the message was complete; the receiving
    /// legs got an aborted (`#`) chunk.
    SenderLeft,
}

/// Something the application must know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SwitchEvent {
    /// A leg joined.
    LegJoined(LegId),
    /// A leg left (by [`leave`](super::MsrpSwitch::leave) or because its
    /// connection closed).
    LegLeft(LegId),
    /// A message was delivered: its last chunk was relayed and every leg it
    /// went to has answered each of its chunks; `to_legs` are those that
    /// answered every chunk with 200 (the others are reported with
    /// [`DeliveryFailed`](SwitchEvent::DeliveryFailed)).
    MessageRelayed {
        /// The sending leg.
        from_leg: LegId,
        /// The Message-ID.
        message_id: Arc<str>,
        /// The legs that got the whole message, in id order.
        to_legs: Vec<LegId>,
    },
    /// A leg's queue is full: chunks for it are being dropped. Raised once
    /// until its queue empties again.
    LegCongested(LegId),
    /// A message did not reach a leg.
    DeliveryFailed {
        /// The leg that did not get it.
        leg: LegId,
        /// The Message-ID.
        message_id: Arc<str>,
        /// Why.
        cause: LegFailure,
    },
    /// A chunk from a leg did not fit in the switch's buffer budget
    /// ([`SwitchLimits::max_buffered_bytes`](super::SwitchLimits::max_buffered_bytes),
    /// or the allowance its owner set): the chunk was dropped and answered
    /// 413 (RFC 4975 §7.2: stop sending this message), and the leg's input
    /// is ignored from then on. The owner tears the leg down.
    BufferExceeded {
        /// The leg.
        leg: LegId,
    },
    /// A leg sent bytes that are not MSRP; its input is ignored from then
    /// on (the application should drop the leg).
    ProtocolError {
        /// The leg.
        leg: LegId,
        /// What the parser found.
        error: MsrpError,
    },
}

/// What [`poll_output`](super::MsrpSwitch::poll_output) hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchOutput {
    /// Bytes for a leg.
    Transmit(LegTransmit),
    /// An event.
    Event(SwitchEvent),
}

/// Why a switch deadline exists.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SwitchTimer {
    /// The response timeout of a transaction relayed to `leg`.
    ResponseTimeout {
        /// The leg.
        leg: LegId,
        /// The message the transaction carries a chunk of.
        message_id: Arc<str>,
    },
}

/// The switch's earliest deadline and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchDeadline {
    /// When [`handle_timeout`](super::MsrpSwitch::handle_timeout) must be
    /// called.
    pub at: Instant,
    /// Why.
    pub reason: SwitchTimer,
}
