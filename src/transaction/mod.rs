//! RFC 3261 §17 transactions: the client and server state machines for
//! INVITE and non-INVITE requests, their timers A to K, and the keys that
//! match messages to them.
//!
//! Each transaction is a sans-IO state machine of its own, driven the same
//! way as every state machine of the crate:
//!
//! 1. feed it what happened: [`ClientTransaction::handle_response`],
//!    [`ServerTransaction::handle_request`], [`ServerTransaction::respond`],
//!    or `handle_timeout(now)` once the deadline it gave has passed;
//! 2. drain `poll_output()` until `None`: [`TransactionOutput::Transmit`]
//!    (bytes for the wire), [`TransactionOutput::TimedOut`],
//!    [`TransactionOutput::TransportError`], [`TransactionOutput::Terminated`];
//! 3. sleep until `poll_timeout()`, which names the [`Timer`] that will fire.
//!
//! A timer due at or before `now` fires in the call that receives `now`, so
//! zero-length timers (D, I, J and K on TCP) never leave a deadline behind.
//!
//! The [`UserAgent`](crate::dialog::UserAgent) keeps its transactions in
//! maps keyed by [`ClientKey`] and [`ServerKey`] and drives them for you;
//! use these types directly to build another kind of SIP element.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use oma_im::sip::parse_message;
//! use oma_im::transaction::{ClientState, ClientTransaction, OwnedMessage, TimerConfig,
//!     TransactionOutput, Transport};
//!
//! let invite = OwnedMessage::new(b"INVITE sip:bob@example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKnashds8\r\n\
//!     Max-Forwards: 70\r\n\
//!     To: <sip:bob@example.com>\r\n\
//!     From: <sip:alice@example.com>;tag=1928301774\r\n\
//!     Call-ID: a84b4c76e66710\r\n\
//!     CSeq: 314159 INVITE\r\n\
//!     Content-Length: 0\r\n\r\n".to_vec())?;
//! let now = Instant::now();
//! let mut tx = ClientTransaction::start(invite, "192.0.2.2:5060".parse().unwrap(),
//!     Transport::Tcp, TimerConfig::default(), now);
//! let mut sent = 0;
//! while let Some(out) = tx.poll_output() {
//!     if let TransactionOutput::Transmit(_) = out { sent += 1 }
//! }
//! assert_eq!(sent, 1);
//! let busy = parse_message(b"SIP/2.0 486 Busy Here\r\n\
//!     Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKnashds8\r\n\
//!     To: <sip:bob@example.com>;tag=a6c85cf\r\n\
//!     From: <sip:alice@example.com>;tag=1928301774\r\n\
//!     Call-ID: a84b4c76e66710\r\n\
//!     CSeq: 314159 INVITE\r\n\
//!     Content-Length: 0\r\n\r\n")?;
//! assert!(tx.handle_response(&busy, now));
//! // Over TCP timer D is zero: the ACK is sent and the transaction is over.
//! let ack = match tx.poll_output() {
//!     Some(TransactionOutput::Transmit(t)) => t.bytes,
//!     other => panic!("{other:?}"),
//! };
//! assert!(ack.starts_with(b"ACK sip:bob@example.com SIP/2.0\r\n"));
//! assert_eq!(tx.poll_output(), Some(TransactionOutput::Terminated));
//! assert_eq!(tx.state(), ClientState::Terminated);
//! assert_eq!(tx.poll_timeout(), None);
//! # Ok::<(), oma_im::sip::SipError>(())
//! ```

mod build;
mod client;
mod key;
mod owned;
mod server;
mod stateless;
mod timers;
mod transport;

pub use build::reason_phrase;
pub(crate) use build::{cancel_for, MessageWriter};
pub use client::{ClientState, ClientTransaction};
pub use key::{BranchKey, ClientKey, ServerKey, MAGIC_COOKIE};
pub use owned::OwnedMessage;
pub use server::{
    response_destination, RespondError, ResponseWriter, ServerState, ServerTransaction,
};
pub(crate) use stateless::reject_bytes;
pub use stateless::{
    check_extensions, check_request, check_request_head, stateless_answer, Capabilities, Rejection,
};
pub(crate) use timers::Timers;
pub use timers::{Timer, TimerConfig};
pub use transport::{Transmit, Transport};

/// What a transaction hands its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionOutput {
    /// Bytes for the wire: the request, a retransmission, an ACK or a
    /// response.
    Transmit(Transmit),
    /// The timeout timer fired (B, F or H): the transaction user must be
    /// told (§8.1.3.1: as a 408 for a client).
    TimedOut(Timer),
    /// The transport reported a failure (§17.1.4, §17.2.4).
    TransportError,
    /// The transaction is over and can be dropped.
    Terminated,
}
