//! What the switch hands out.

use std::sync::Arc;
use std::time::Instant;

use super::LegId;
use crate::msrp::MsrpError;

/// Bytes to write to one leg's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegTransmit {
    /// The leg.
    pub leg: LegId,
    /// One complete MSRP message.
    pub data: Vec<u8>,
}

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
