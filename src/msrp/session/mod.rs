//! The MSRP endpoint session (RFC 4975 §5–§7): one session over one TCP
//! (or TLS) connection that the application owns.
//!
//! [`MsrpSession`] is sans-IO: bytes read from the connection, the
//! connection's state and user commands go in; bytes to write, events and
//! deadlines come out. It never reads a clock: `now` is an argument.
//!
//! # The drain contract
//!
//! After **every** call that takes input — [`handle_input`](MsrpSession::handle_input),
//! [`handle_timeout`](MsrpSession::handle_timeout),
//! [`send_message`](MsrpSession::send_message), [`close`](MsrpSession::close) —
//! call [`poll_output`](MsrpSession::poll_output) until it returns `None`,
//! writing each [`Transmit`] to the connection in order and acting on each
//! [`Event`]; then sleep until [`poll_timeout`](MsrpSession::poll_timeout)
//! (or new input) and call `handle_timeout` with the current time. A deadline
//! at or before `now` is handled by the call that gets that `now`: after
//! `handle_timeout(now)`, `poll_timeout()` is later than `now` or `None`.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use oma_im::msrp::session::{Event, Input, MsrpSession, Output, SendOptions, SessionConfig, SessionParams};
//!
//! let alice_uri = "msrp://alice.example.com:7777/iau39soe2843z;tcp";
//! let bob_uri = "msrp://bob.example.com:8888/9di4eae923wzd;tcp";
//! let mut alice = MsrpSession::new(SessionParams::new(alice_uri, bob_uri, true), SessionConfig::default())?;
//! let bob_config = SessionConfig { rng_seed: oma_im::rng::Seed::new([2; 32]), ..SessionConfig::default() };
//! let mut bob = MsrpSession::new(SessionParams::new(bob_uri, alice_uri, false), bob_config)?;
//!
//! let mut now = Instant::now();
//! // The application connected Alice's socket to Bob's.
//! alice.handle_input(Input::Connected, now);
//! bob.handle_input(Input::Connected, now);
//! alice.send_message("text/plain", b"Hey Bob, are you there?", SendOptions::default(), now)?;
//!
//! // The run loop: drain one side's output into the other, both ways,
//! // until neither has anything left.
//! fn pump(from: &mut MsrpSession, to: &mut MsrpSession, now: Instant, got: &mut Vec<Vec<u8>>) -> bool {
//!     let mut moved = false;
//!     while let Some(output) = from.poll_output() {
//!         match output {
//!             Output::Transmit(t) => {
//!                 to.handle_input(Input::Bytes(&t.data), now);
//!                 moved = true;
//!             }
//!             Output::Event(Event::MessageReceived(m)) => got.push(m.body),
//!             Output::Event(_) => {}
//!         }
//!     }
//!     moved
//! }
//! let mut received = Vec::new();
//! while pump(&mut alice, &mut bob, now, &mut received) | pump(&mut bob, &mut alice, now, &mut received) {}
//! assert_eq!(received, [b"Hey Bob, are you there?".to_vec()]);
//!
//! // Nothing is pending: no deadline is left.
//! now += Duration::from_secs(31);
//! alice.handle_timeout(now);
//! assert_eq!(alice.poll_timeout(), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Behaviour
//!
//! * **Binding** (RFC 4975 §5.4): on [`Input::Connected`] the active end
//!   sends its first SEND at once — the first chunk of a queued message, or a
//!   SEND without body when it has nothing to send. The passive end sends
//!   nothing until the first request of its peer arrives on the connection
//!   ([`Event::Bound`]); messages given to it before are queued.
//! * **Sending**: content is wrapped in `message/cpim` when
//!   [`SessionConfig::cpim`] is set and the peer accepts `message/cpim`
//!   (the wrapped type must then be in the peer's `a=accept-wrapped-types`
//!   or `a=accept-types`, or the peer announced no wrapped types); a content
//!   type the peer does not accept is refused
//!   ([`SendErrorKind::NotAccepted`]). Messages are split into chunks of
//!   [`SessionConfig::chunk_size`], each a transaction with a fresh
//!   transact-id and a response timeout; [`Event::MessageSent`] when all are
//!   acknowledged, [`Event::DeliveryFailed`] on a failure response, a
//!   timeout, a failure REPORT or the connection closing.
//! * **Receiving** (RFC 4975 §7.2, §7.3): the first To-Path URI must match
//!   the local URI and the last From-Path URI the peer's (§6.1 comparison),
//!   else 481; a content type outside the local accept-types gets 415; a
//!   message over the local max-size or the limits 413; a malformed chunk
//!   400; other methods 501; everything else 200 — no response at all with
//!   `Failure-Report: no`, only failures with `partial`. Chunks are
//!   reassembled; a whole message gives [`Event::MessageReceived`] and, when
//!   it asked for it, a success REPORT.
//! * **Not handled here**: a second connection for the same session (506,
//!   RFC 4975 §7.3) is the application's to refuse, since the session sees
//!   only its own connection.

mod budget;
mod config;
pub(crate) mod incoming;
mod output;
pub(crate) mod wire;

pub use config::{
    ConfigError, CpimIdentities, PathSide, SessionConfig, SessionLimits, SessionParams,
    RESPONSE_TIMEOUT,
};
pub use output::{
    Authority, Deadline, DeliveryFailure, Event, Output, ReceivedMessage, SendError, SendErrorKind,
    TimerReason, Transmit,
};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use crate::body::cpim::{CpimAddress, CpimMessage};
use crate::msrp::{
    chunks, ByteRange, ContinuationFlag, FailureReport, MsrpStreamParser, MsrpUri, Progress,
    Reassembler, ReassemblyError, StreamEvent, SuccessReport,
};
use crate::rng::Rng;

use incoming::{classify, Incoming, Local, UriKey, Verdict};
use wire::{fresh_transact_id, path_line, write_report, write_response, write_send, SendFields};

/// Input to [`MsrpSession::handle_input`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// The application's connection to the peer is up.
    Connected,
    /// Bytes read from the connection, split anywhere.
    Bytes(&'a [u8]),
    /// The connection closed.
    Closed,
}

/// What the sender of a message asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Ask for a success REPORT (`Success-Report: yes`).
    pub success_report: bool,
    /// The `Failure-Report` value; `None` leaves the header out (`yes`).
    pub failure_report: Option<FailureReport>,
    /// Use this Message-ID instead of a random one (tests).
    pub message_id: Option<String>,
    /// The CPIM `DateTime` to put in the wrapper, if wrapping (the session
    /// reads no clock).
    pub date_time: Option<String>,
    /// Header fields added to the CPIM wrapper (a disposition request of
    /// RFC 5438, the `To` of a notification). Refused with
    /// [`SendErrorKind::NotAccepted`] when the content is not wrapped (no
    /// CPIM identities configured, or the peer does not accept
    /// `message/cpim`), and with [`SendErrorKind::InvalidCpimHeader`] when
    /// a name or value cannot be written.
    pub cpim_extras: crate::body::cpim::CpimExtras,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Connection {
    Waiting,
    Connected,
    Closed,
}

/// A message queued before the connection was bound.
#[derive(Debug, Clone)]
struct Queued {
    message_id: String,
    content_type: String,
    body: Vec<u8>,
    success_report: bool,
    failure_report: Option<FailureReport>,
}

/// An outgoing message with transactions in flight.
#[derive(Debug, Clone)]
struct Outgoing {
    outstanding: usize,
    bind: bool,
    /// [`Event::MessageSent`] was already given (`Failure-Report: partial`:
    /// no 200 comes, only failures).
    sent_reported: bool,
}

#[derive(Debug, Clone)]
struct Transaction {
    message_id: String,
    deadline: (Instant, u64),
    /// Whether a 200 is expected; without (`partial`), the deadline only
    /// ends the wait for a failure response.
    expect_ok: bool,
}

/// One MSRP session over one connection. See the [module docs](self) for
/// the run loop and the rules it follows.
#[derive(Debug, Clone)]
pub struct MsrpSession {
    params: SessionParams,
    config: SessionConfig,
    local: Local,
    /// The remote path is one URI (see [`classify`]).
    one_uri_remote: bool,
    to_line: Vec<u8>,
    from_line: Vec<u8>,
    destination: Authority,
    rng: Rng,
    connection: Connection,
    bound: bool,
    failed: bool,
    parser: MsrpStreamParser,
    incoming: Incoming,
    chunk: Vec<u8>,
    reassembler: Reassembler,
    queued: VecDeque<Queued>,
    outgoing: HashMap<String, Outgoing>,
    transactions: HashMap<String, Transaction>,
    deadlines: BTreeMap<(Instant, u64), String>,
    sequence: u64,
    outputs: VecDeque<Output>,
    queued_bytes: usize,
    /// Chunks of the messages in `queued`.
    queued_chunks: usize,
    /// The owner's bound on the bytes held for the peer
    /// ([`MsrpSession::set_buffer_allowance`]).
    allowance: usize,
}

impl MsrpSession {
    /// A session from explicit parameters.
    pub fn new(params: SessionParams, config: SessionConfig) -> Result<Self, ConfigError> {
        params.validate()?;
        let last = |path: &[String]| path.last().cloned().unwrap_or_default();
        let first_remote = params.remote_path.first().cloned().unwrap_or_default();
        let destination = match MsrpUri::parse(&first_remote) {
            Ok(uri) => Authority {
                host: Arc::from(uri.host),
                port: uri.port,
            },
            Err(error) => {
                return Err(ConfigError::InvalidUri {
                    which: PathSide::Remote,
                    error,
                })
            }
        };
        let codec = config.limits.msrp;
        let max_size = params
            .local_max_size
            .map_or(codec.max_message_size, |m| m.min(codec.max_message_size));
        let local_uri = last(&params.local_path);
        Ok(Self {
            local: Local {
                local_uri: uri_key(&local_uri, PathSide::Local)?,
                remote_uri: uri_key(&last(&params.remote_path), PathSide::Remote)?,
                accept_types: std::sync::Arc::new(params.local_accept_types.clone()),
                max_size,
            },
            one_uri_remote: params.remote_path.len() == 1,
            to_line: path_line("To-Path", &params.remote_path),
            from_line: path_line("From-Path", std::slice::from_ref(&local_uri)),
            destination,
            rng: Rng::new(config.rng_seed),
            connection: Connection::Waiting,
            bound: false,
            failed: false,
            parser: MsrpStreamParser::new(codec),
            incoming: Incoming::empty(),
            chunk: Vec::new(),
            reassembler: Reassembler::new(codec),
            queued: VecDeque::new(),
            outgoing: HashMap::new(),
            transactions: HashMap::new(),
            deadlines: BTreeMap::new(),
            sequence: 0,
            outputs: VecDeque::new(),
            queued_bytes: 0,
            queued_chunks: 0,
            allowance: usize::MAX,
            params,
            config,
        })
    }

    /// A session from the result of an SDP offer/answer.
    pub fn from_negotiated(
        negotiated: &crate::sdp::offer_answer::NegotiatedSession<'_>,
        config: SessionConfig,
    ) -> Result<Self, ConfigError> {
        Self::new(SessionParams::from_negotiated(negotiated), config)
    }

    /// The session's parameters.
    pub fn params(&self) -> &SessionParams {
        &self.params
    }

    /// Where this session's bytes go.
    pub fn destination(&self) -> &Authority {
        &self.destination
    }

    /// Bytes waiting to leave (queued messages and transmits not yet taken).
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// Outgoing transactions awaiting their response.
    pub fn pending_transactions(&self) -> usize {
        self.transactions.len()
    }

    /// Messages partially received.
    pub fn partial_messages(&self) -> usize {
        self.reassembler.partial_count()
    }

    /// Takes connection state changes and received bytes.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) {
        self.handle_timeout(now);
        match input {
            Input::Connected => {
                if self.connection != Connection::Waiting {
                    return;
                }
                self.connection = Connection::Connected;
                if self.params.active {
                    self.bound = true;
                    if self.queued.is_empty() {
                        self.send_bind(now);
                    } else {
                        self.flush_queued(now);
                    }
                }
            }
            Input::Bytes(data) => {
                if self.connection == Connection::Waiting {
                    // Bytes can only come over a connection that is up.
                    self.handle_input(Input::Connected, now);
                }
                if self.connection != Connection::Connected || self.failed {
                    return;
                }
                let rest = self.receive_whole(data, now);
                if !rest.is_empty() && !self.failed {
                    self.parser.feed(rest);
                    self.receive(now);
                }
            }
            Input::Closed => self.shut(),
        }
    }

    /// Handles every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(entry) = self.deadlines.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let transact_id = entry.remove();
            if let Some(tx) = self.transactions.remove(&transact_id) {
                if tx.expect_ok {
                    self.fail_message(&tx.message_id, DeliveryFailure::Timeout);
                } else {
                    self.acknowledge(tx.message_id);
                }
            }
        }
    }

    /// The next output; call until `None` after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        let output = self.outputs.pop_front()?;
        if let Output::Transmit(t) = &output {
            self.queued_bytes = self.queued_bytes.saturating_sub(t.data.len());
        }
        Some(output)
    }

    /// The earliest deadline, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.keys().next().map(|k| k.0)
    }

    /// The earliest deadline and why it exists.
    pub fn poll_deadline(&self) -> Option<Deadline> {
        let (key, transact_id) = self.deadlines.iter().next()?;
        let message_id = self
            .transactions
            .get(transact_id)
            .map(|t| t.message_id.clone())
            .unwrap_or_default();
        Some(Deadline {
            at: key.0,
            reason: TimerReason::ResponseTimeout {
                transact_id: transact_id.clone(),
                message_id,
            },
        })
    }

    /// Ends the session: outstanding messages fail with
    /// [`DeliveryFailure::ConnectionClosed`], then [`Event::Closed`]. The
    /// application closes its connection.
    pub fn close(&mut self) {
        self.shut();
    }

    /// Sends a message of `content_type`; returns its Message-ID.
    ///
    /// The message is checked against the peer's accept-types (wrapped types
    /// when it is CPIM-wrapped), its max-size and the limits, then chunked
    /// and handed out as transmits — at once when the connection is bound,
    /// else when it is.
    pub fn send_message(
        &mut self,
        content_type: &str,
        body: &[u8],
        options: SendOptions,
        now: Instant,
    ) -> Result<String, SendError> {
        use SendErrorKind as K;
        self.handle_timeout(now);
        if self.connection == Connection::Closed {
            return Err(SendError::new(K::Closed));
        }
        if content_type.is_empty()
            || content_type.contains(['\r', '\n'])
            || !content_type.contains('/')
        {
            return Err(SendError::new(K::InvalidContentType));
        }
        let message_id = match options.message_id {
            Some(id) => {
                let limit = self.config.limits.msrp.max_message_id_len;
                let valid = id.len() <= limit
                    && id.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-+%=".contains(&b));
                if !valid || self.outgoing.contains_key(&id) {
                    return Err(SendError::new(K::InvalidMessageId));
                }
                id
            }
            None => self.rng.token(wire::ID_LEN),
        };
        let (content_type, body) = self.wrap(
            content_type,
            body,
            options.date_time.as_deref(),
            &options.cpim_extras,
        )?;
        let size = body.len() as u64;
        let max = self
            .params
            .remote_max_size
            .map_or(self.config.limits.msrp.max_message_size, |m| {
                m.min(self.config.limits.msrp.max_message_size)
            });
        if size > max {
            return Err(SendError::new(K::TooLarge));
        }
        let chunk_count = body.len().div_ceil(self.config.chunk_size.get()).max(1);
        let overhead = chunk_count.saturating_mul(512);
        let bytes = body.len().saturating_add(overhead);
        let limits = &self.config.limits;
        if self.queued_bytes.saturating_add(bytes) > limits.max_queued_bytes
            || self
                .transactions
                .len()
                .saturating_add(self.queued_chunks)
                .saturating_add(chunk_count)
                > limits.max_pending_transactions
            || self.outgoing.len().saturating_add(self.queued.len()) >= limits.max_outgoing_messages
        {
            return Err(SendError::new(K::WouldBlock));
        }
        let queued = Queued {
            message_id: message_id.clone(),
            content_type,
            body,
            success_report: options.success_report,
            failure_report: options.failure_report,
        };
        if self.bound && self.connection == Connection::Connected {
            self.emit(&queued, now)?;
        } else {
            self.queued_bytes = self.queued_bytes.saturating_add(queued.body.len());
            self.queued_chunks = self.queued_chunks.saturating_add(chunk_count);
            self.queued.push_back(queued);
        }
        Ok(message_id)
    }

    /// Checks the content type against the peer's accept-types and wraps
    /// the content in CPIM when configured and accepted.
    fn wrap(
        &self,
        content_type: &str,
        body: &[u8],
        date_time: Option<&str>,
        extras: &crate::body::cpim::CpimExtras,
    ) -> Result<(String, Vec<u8>), SendError> {
        let remote = &self.params.remote_accept_types;
        let cpim = self
            .config
            .cpim
            .as_ref()
            .filter(|_| remote.matches("message/cpim"));
        let Some(ids) = cpim else {
            if !remote.matches(content_type) || !extras.is_empty() {
                return Err(SendError::new(SendErrorKind::NotAccepted));
            }
            return Ok((content_type.to_owned(), body.to_vec()));
        };
        // The peer accepts the wrapper. Inside it, what its
        // `a=accept-wrapped-types` lists, or its `a=accept-types`; without
        // `a=accept-wrapped-types` it put no restriction on wrapped content.
        let wrapped_ok = self
            .params
            .remote_accept_wrapped_types
            .as_ref()
            .is_none_or(|w| w.matches(content_type));
        if !wrapped_ok && !remote.matches(content_type) {
            return Err(SendError::new(SendErrorKind::NotAccepted));
        }
        let mut msg = CpimMessage::new(
            CpimAddress::new(None, &ids.from),
            CpimAddress::new(None, &ids.to),
            content_type,
            body,
        )
        .map_err(|_| SendError::new(SendErrorKind::InvalidContentType))?;
        msg.date_time = date_time.map(std::borrow::Cow::Borrowed);
        extras
            .apply(&mut msg)
            .map_err(|_| SendError::new(SendErrorKind::InvalidCpimHeader))?;
        let mut out = Vec::with_capacity(body.len() + 128);
        msg.write(&mut out);
        Ok(("message/cpim".to_owned(), out))
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence = self.sequence.wrapping_add(1);
        self.sequence
    }

    fn track(&mut self, transact_id: &str, message_id: &str, expect_ok: bool, now: Instant) {
        let key = (now + self.config.response_timeout, self.next_sequence());
        self.deadlines.insert(key, transact_id.to_owned());
        self.transactions.insert(
            transact_id.to_owned(),
            Transaction {
                message_id: message_id.to_owned(),
                deadline: key,
                expect_ok,
            },
        );
    }

    fn transmit(&mut self, data: Vec<u8>) {
        self.queued_bytes = self.queued_bytes.saturating_add(data.len());
        self.outputs.push_back(Output::Transmit(Transmit {
            destination: self.destination.clone(),
            data,
        }));
    }

    fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    /// The body-less SEND of an active end with nothing to send.
    fn send_bind(&mut self, now: Instant) {
        let message_id = self.rng.token(wire::ID_LEN);
        let mut tid = String::new();
        fresh_transact_id(&mut self.rng, b"", &mut tid);
        let fields = SendFields {
            message_id: &message_id,
            success_report: None,
            failure_report: None,
            byte_range: Some(ByteRange {
                start: 1,
                end: Some(0),
                total: Some(0),
            }),
            content_type: None,
        };
        let mut out = Vec::with_capacity(256);
        write_send(
            &mut out,
            &tid,
            &self.to_line,
            &self.from_line,
            &fields,
            None,
            ContinuationFlag::Complete,
        );
        self.track(&tid, &message_id, true, now);
        self.outgoing.insert(
            message_id,
            Outgoing {
                outstanding: 1,
                bind: true,
                sent_reported: false,
            },
        );
        self.transmit(out);
    }

    fn flush_queued(&mut self, now: Instant) {
        self.queued_chunks = 0;
        while let Some(q) = self.queued.pop_front() {
            self.queued_bytes = self.queued_bytes.saturating_sub(q.body.len());
            if let Err(e) = self.emit(&q, now) {
                self.event(Event::DeliveryFailed {
                    message_id: q.message_id,
                    cause: DeliveryFailure::Response(match e.kind {
                        SendErrorKind::TooLarge => 413,
                        _ => 400,
                    }),
                });
            }
        }
    }

    /// Chunks a message into transmits and tracks its transactions.
    fn emit(&mut self, q: &Queued, now: Instant) -> Result<(), SendError> {
        // `no`: nothing comes back; `partial`: only failures come back.
        let tracked = q.failure_report != Some(FailureReport::No);
        let expect_ok = q.failure_report.is_none_or(|f| f == FailureReport::Yes);
        let size = self.config.chunk_size;
        let mut count = 0usize;
        let mut tid = String::new();
        for chunk in chunks(&q.body, size) {
            if !fresh_transact_id(&mut self.rng, chunk.data, &mut tid) {
                return Err(SendError::new(SendErrorKind::NoTransactId));
            }
            let fields = SendFields {
                message_id: &q.message_id,
                success_report: q.success_report.then_some(SuccessReport::Yes),
                failure_report: q.failure_report,
                byte_range: Some(chunk.byte_range),
                content_type: Some(&q.content_type),
            };
            let mut out = Vec::with_capacity(chunk.data.len() + 256);
            write_send(
                &mut out,
                &tid,
                &self.to_line,
                &self.from_line,
                &fields,
                Some(chunk.data),
                chunk.flag,
            );
            if tracked {
                self.track(&tid, &q.message_id, expect_ok, now);
            }
            self.transmit(out);
            count += 1;
        }
        if tracked {
            self.outgoing.insert(
                q.message_id.clone(),
                Outgoing {
                    outstanding: count,
                    bind: false,
                    sent_reported: !expect_ok,
                },
            );
        }
        if !expect_ok {
            self.event(Event::MessageSent {
                message_id: q.message_id.clone(),
            });
        }
        Ok(())
    }

    /// Fails a message once: drops its transactions and reports it.
    fn fail_message(&mut self, message_id: &str, cause: DeliveryFailure) {
        let Some(out) = self.outgoing.remove(message_id) else {
            return;
        };
        let deadlines = &mut self.deadlines;
        self.transactions.retain(|_, tx| {
            let keep = tx.message_id != message_id;
            if !keep {
                deadlines.remove(&tx.deadline);
            }
            keep
        });
        if out.bind {
            self.event(Event::BindFailed(cause));
        } else {
            self.event(Event::DeliveryFailed {
                message_id: message_id.to_owned(),
                cause,
            });
        }
    }

    fn shut(&mut self) {
        if self.connection == Connection::Closed {
            return;
        }
        self.connection = Connection::Closed;
        // With `partial` no news was good news: nothing to fail.
        self.outgoing.retain(|_, out| !out.sent_reported);
        let mut ids: Vec<String> = self.outgoing.keys().cloned().collect();
        ids.sort();
        for id in ids {
            self.fail_message(&id, DeliveryFailure::ConnectionClosed);
        }
        self.queued_chunks = 0;
        for q in std::mem::take(&mut self.queued) {
            self.event(Event::DeliveryFailed {
                message_id: q.message_id,
                cause: DeliveryFailure::ConnectionClosed,
            });
        }
        self.queued_bytes = self
            .outputs
            .iter()
            .map(|o| match o {
                Output::Transmit(t) => t.data.len(),
                Output::Event(_) => 0,
            })
            .sum();
        self.deadlines.clear();
        self.transactions.clear();
        self.event(Event::Closed);
    }

    /// Handles the whole messages at the front of `data`, parsed where they
    /// lie while the stream parser stands between messages (see
    /// [`MsrpStreamParser::parse_whole`]): the same outcome as through the
    /// parser, which gets the bytes left (given back).
    fn receive_whole<'d>(&mut self, mut data: &'d [u8], now: Instant) -> &'d [u8] {
        while !data.is_empty() && !self.failed {
            let Some((message, used)) = self.parser.parse_whole(data) else {
                break;
            };
            data = data.get(used..).unwrap_or_default();
            let room = self.room();
            let has_body = message.body.is_some();
            classify(
                &message.head,
                has_body,
                &self.local,
                self.one_uri_remote,
                &mut self.incoming,
            );
            self.chunk.clear();
            let body = message.body.unwrap_or_default();
            if self.incoming.verdict == Verdict::Accept && !body.is_empty() {
                if !budget::reserve_chunk(&mut self.chunk, body.len(), room) {
                    self.exceeded();
                    return &[];
                }
                self.chunk.extend_from_slice(body);
            }
            self.finish(message.flag, now);
            if self.failed {
                return &[];
            }
            budget::trim_chunk(&mut self.chunk);
        }
        data
    }

    /// Runs the stream parser over what was fed.
    fn receive(&mut self, now: Instant) {
        loop {
            let room = self.room();
            let flag = match self.parser.next_event() {
                Err(e) => {
                    self.failed = true;
                    self.outputs
                        .push_back(Output::Event(Event::ProtocolError(e)));
                    return;
                }
                Ok(None) => Ok(None),
                Ok(Some(StreamEvent::Head { head, has_body })) => {
                    classify(
                        &head,
                        has_body,
                        &self.local,
                        self.one_uri_remote,
                        &mut self.incoming,
                    );
                    self.chunk.clear();
                    continue;
                }
                Ok(Some(StreamEvent::BodyData(data))) => {
                    if self.incoming.verdict != Verdict::Accept {
                        continue;
                    }
                    if budget::reserve_chunk(&mut self.chunk, data.len(), room) {
                        self.chunk.extend_from_slice(data);
                        continue;
                    }
                    Err(())
                }
                Ok(Some(StreamEvent::End(flag))) => Ok(Some(flag)),
            };
            let flag = match flag {
                Ok(Some(flag)) => flag,
                Ok(None) => {
                    self.parser.release_consumed();
                    return;
                }
                Err(()) => return self.exceeded(),
            };
            self.finish(flag, now);
            if self.failed {
                return;
            }
            budget::trim_chunk(&mut self.chunk);
        }
    }

    /// Acts on a request or response whose end-line arrived.
    fn finish(&mut self, flag: ContinuationFlag, now: Instant) {
        if self.incoming.matched && !self.bound {
            self.bound = true;
            self.event(Event::Bound);
            self.flush_queued(now);
        }
        let code = match self.incoming.verdict {
            Verdict::Ignore => return,
            Verdict::Response(code) => {
                self.on_response(code);
                return;
            }
            Verdict::Report(code) => {
                self.on_report(code);
                return;
            }
            Verdict::Reject(code) => code,
            Verdict::Empty => 200,
            Verdict::Accept => match self.reassemble(flag) {
                Some(code) => code,
                None => return,
            },
        };
        self.respond(code);
    }

    /// The code to answer the chunk with; `None` when it went over the
    /// buffer budget (answered 413 already, the session torn down).
    fn reassemble(&mut self, flag: ContinuationFlag) -> Option<u16> {
        let inc = &self.incoming;
        let whole = ByteRange {
            start: 1,
            end: None,
            total: None,
        };
        // A chunk from byte 1 that ends the message is the whole message,
        // whatever its end and total say: lenient with senders (and with
        // the example of RFC 4975 §10.1, `1-16/16` over 14 bytes).
        let range = match inc.byte_range {
            Some(r) if !(r.start == 1 && flag == ContinuationFlag::Complete) => r,
            _ => whole,
        };
        // The chunk is copied into the reassembler: both count until the
        // chunk's buffer is reused.
        let worst = (self.chunk.len() as u64).saturating_add(crate::msrp::SEGMENT_OVERHEAD);
        if flag != ContinuationFlag::Aborted && worst > self.room() as u64 {
            self.exceeded();
            return None;
        }
        let inc = &self.incoming;
        Some(
            match self
                .reassembler
                .push(&inc.message_id, range, &self.chunk, flag)
            {
                Ok(Progress::Incomplete) => 200,
                Ok(Progress::Aborted { message_id }) => {
                    self.event(Event::MessageAborted { message_id });
                    200
                }
                Ok(Progress::Complete(m)) => {
                    if m.data.len() as u64 > self.local.max_size {
                        return Some(413);
                    }
                    self.deliver(m.message_id, m.data);
                    200
                }
                Err(ReassemblyError::LimitExceeded(crate::msrp::Limit::BufferedBytes)) => {
                    self.exceeded();
                    return None;
                }
                Err(ReassemblyError::LimitExceeded(_)) => 413,
                Err(_) => 400,
            },
        )
    }

    fn deliver(&mut self, message_id: String, body: Vec<u8>) {
        let inc = &self.incoming;
        let is_cpim = inc
            .content_type
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("message/cpim"));
        let mime = &self.config.limits.mime;
        let cpim =
            is_cpim.then(|| CpimMessage::parse_with(&body, mime).map(CpimMessage::into_owned));
        if inc.success_report == Some(SuccessReport::Yes) {
            let mut tid = String::new();
            fresh_transact_id(&mut self.rng, b"", &mut tid);
            let total = body.len() as u64;
            let mut out = Vec::with_capacity(256);
            write_report(
                &mut out,
                &tid,
                &self.to_line,
                &self.from_line,
                &message_id,
                ByteRange {
                    start: 1,
                    end: Some(total),
                    total: Some(total),
                },
                200,
            );
            self.transmit(out);
        }
        let content_type = self.incoming.content_type.clone();
        self.event(Event::MessageReceived(Box::new(ReceivedMessage {
            message_id,
            content_type,
            body,
            cpim,
        })));
    }

    fn respond(&mut self, code: u16) {
        let inc = &self.incoming;
        let owed = match inc.failure_report.unwrap_or(FailureReport::Yes) {
            FailureReport::Yes => true,
            FailureReport::No => false,
            FailureReport::Partial => code != 200,
        };
        if !owed {
            return;
        }
        let mut out = Vec::with_capacity(192);
        let (to_line, from_line) = inc.response_lines(&self.to_line, &self.from_line);
        write_response(&mut out, &inc.transact_id, code, to_line, from_line);
        self.transmit(out);
    }

    fn on_response(&mut self, code: u16) {
        let Some(tx) = self.transactions.remove(&self.incoming.transact_id) else {
            return;
        };
        self.deadlines.remove(&tx.deadline);
        if code != 200 {
            self.fail_message(&tx.message_id, DeliveryFailure::Response(code));
            return;
        }
        self.acknowledge(tx.message_id);
    }

    /// One transaction of a message is over without failure.
    fn acknowledge(&mut self, message_id: String) {
        let Some(out) = self.outgoing.get_mut(&message_id) else {
            return;
        };
        out.outstanding = out.outstanding.saturating_sub(1);
        if out.outstanding == 0 {
            let quiet = out.bind || out.sent_reported;
            self.outgoing.remove(&message_id);
            if !quiet {
                self.event(Event::MessageSent { message_id });
            }
        }
    }

    fn on_report(&mut self, code: u16) {
        let message_id = self.incoming.message_id.clone();
        if code == 200 {
            self.event(Event::ReportReceived {
                message_id,
                byte_range: self.incoming.byte_range,
            });
        } else if self.outgoing.contains_key(&message_id) {
            self.fail_message(&message_id, DeliveryFailure::Report(code));
        } else {
            self.event(Event::DeliveryFailed {
                message_id,
                cause: DeliveryFailure::Report(code),
            });
        }
    }
}

fn uri_key(uri: &str, which: PathSide) -> Result<UriKey, ConfigError> {
    UriKey::parse(uri).map_err(|error| ConfigError::InvalidUri { which, error })
}
