//! # oma-im
//!
//! Sans-IO state machines for **OMA SIMPLE IM** (Instant Messaging using SIMPLE,
//! OMA-TS-SIMPLE_IM V1.0) and the SIP, SDP, MSRP, CPIM and XML-body codecs they
//! stand on.
//!
//! The crate opens no socket, reads no clock, spawns no thread and needs no async
//! runtime. The embedding program owns I/O and time; the crate owns protocol
//! correctness. Parsed messages, user commands and timer expiries go in; messages
//! for the wire, events and deadlines come out.
//!
//! ## Layers
//!
//! Dependencies point down this list; codecs never depend on state machines.
//!
//! * [`im`]: the OMA SIMPLE IM roles and the vocabulary they share (feature
//!   tags, release versions, the IM Session Identity, the SIP/IP Core profile).
//! * [`dialog`]: dialogs and the user agent core ([`dialog::UserAgent`]):
//!   transactions and dialogs, RFC 4028 session timers and RFC 6665
//!   subscriptions behind one `handle_input` / `handle_timeout` / `poll_output` /
//!   `poll_timeout` interface, with its drain contract and run loop documented
//!   there.
//! * [`transaction`]: RFC 3261 §17 client and server transactions, their
//!   timers A to K, and the stateless answers owed to bad requests.
//! * [`sip`]: the SIP wire format (RFC 3261): a zero-copy parser with the RFC 4475
//!   and RFC 5118 verdicts, typed header access, a writer, and stream framing for
//!   TCP.
//! * [`msrp`]: MSRP (RFC 4975): the wire codec, a stream parser for TCP,
//!   chunking and reassembly, the response/REPORT rules, the endpoint session
//!   ([`msrp::session::MsrpSession`]) and the switch that fans messages out to
//!   the participants of a conference ([`msrp::switch::MsrpSwitch`]).
//! * [`sdp`]: SDP (RFC 4566) with MSRP media (RFC 4975), zero-copy parser and
//!   writer, and the offer/answer rules of an IM session (RFC 3264), including
//!   the controlling IM Server's answer of OMA 7.2.1.2 step 2.
//! * [`body`]: message bodies: `multipart/mixed` (RFC 2046), resource-lists
//!   (RFC 4826/5366), conference-info (RFC 4575) and `message/cpim` (RFC 3862).
//! * [`rng`]: the seeded ChaCha20 generator every identifier comes from,
//!   and which identifiers must be unguessable.
//! * [`Limits`]: every bound of every layer in one value.
//!
//! ## Driving a state machine
//!
//! Every stateful piece speaks the same four calls: `handle_input(input, now)`,
//! `handle_timeout(now)`, `poll_output()` and `poll_timeout()`. After every
//! `handle_*` call, drain `poll_output()` until it returns `None` (each output is a
//! `Transmit` — bytes and where they go — or an `Event` with owned data), then
//! sleep until the instant `poll_timeout()` returns or until input arrives. Time
//! is always an argument; a deadline at or before `now` is handled by the same
//! call, so a loop never spins.
//!
//! ## Bounded input
//!
//! Everything that grows with input is limited by a `Limits` value; input over a
//! limit is rejected with a typed error (cause and byte offset) in time linear in
//! its length, and no input makes the crate panic.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod body;
mod decimal;
pub mod dialog;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod hash;
mod hash_slots;
pub mod im;
mod keyed;
mod limits;
pub mod msrp;
pub mod rng;
pub mod sdp;
pub mod sim;
pub mod sip;
mod slab;
mod spare;
pub mod transaction;

pub use limits::Limits;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
