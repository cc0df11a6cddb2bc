//! The MSRP switch of the controlling IM Server: messages arriving from one
//! participant's leg are relayed to every other leg.
//!
//! Each leg is one MSRP connection between the switch and one participant,
//! with its own paths and the participant's identity. A SEND from a leg is
//! answered by the switch itself (200, or 400/413/415/481 per RFC 4975
//! §7.2) and relayed to every other leg, chunk by chunk, each copy a new
//! transaction with that leg's To-Path and From-Path.
//!
//! # Exact relaying rules
//!
//! * Only `message/cpim` is relayed (415 otherwise): the sender is
//!   identified by the CPIM `From`, which the switch sets to the leg's
//!   [identity](LegConfig::from_identity) (the anonymous one when the
//!   participant asked for anonymity), whatever the sender wrote.
//! * The CPIM header block must be in the message's first chunk (Byte-Range
//!   starting at 1), which is rewritten: its `From` lines are replaced by one
//!   `From: <identity>` line. The size difference `d` is kept per message,
//!   and every later chunk is relayed unchanged with its Byte-Range shifted
//!   by `d` (start, end and total). Nothing but the chunk being relayed is
//!   buffered. A later chunk of a message whose first chunk was not seen
//!   gets 400.
//! * A disposition notification (`message/imdn+xml` in CPIM, RFC 5438 §7)
//!   goes only to the legs whose identity its CPIM `To` names, not to
//!   every leg.
//! * The legs a message goes to are fixed by its first chunk: a leg that
//!   joins mid-message gets only messages that start after it joined; a leg
//!   that leaves is dropped from every message in flight. When the sending
//!   leg leaves mid-message, the receiving legs get a body-less `#` chunk
//!   (the message is aborted) and a [`LegFailure::SenderLeft`] event each.
//!
//! # Backpressure
//!
//! Every leg has a queue of bytes bounded by [`LegConfig::max_queued_bytes`],
//! and at most [`SwitchLimits::max_pending_per_leg`] relayed transactions
//! awaiting its response. The application tells the switch when a leg's
//! socket cannot take more ([`LegInput::Blocked`]) and when it can again
//! ([`LegInput::Writable`]); [`poll_output`](MsrpSwitch::poll_output) hands
//! out transmits only for writable legs, round robin. When a chunk does not
//! fit in a leg's queue, it is dropped **and so is the rest of that message
//! for that leg** ([`SwitchEvent::DeliveryFailed`] with
//! [`LegFailure::Congested`]; [`SwitchEvent::LegCongested`] once until the
//! queue empties). Memory per leg never exceeds its bound, whatever the leg
//! does, and the other legs are unaffected.
//!
//! # Transmits
//!
//! A relayed chunk is written once, not once per leg: every leg's
//! [`LegTransmit`] holds its own head (start line with its transact-id,
//! its paths, the chunk's headers) and end-line, and shares the chunk's
//! body with the others. [`LegTransmit::slices`] gives the three for a
//! vectored write; [`LegTransmit::into_bytes`] gives them in one buffer.
//! The bytes are the same either way. Giving transmits back with
//! [`recycle_transmit`](MsrpSwitch::recycle_transmit) once written lets the
//! switch relay without allocating.
//!
//! # The drain contract
//!
//! As for [`MsrpSession`](super::session::MsrpSession): after every call
//! that takes input, call `poll_output` until `None`, then sleep until
//! `poll_timeout` or new input.
//!
//! ```
//! use std::time::Instant;
//! use oma_im::msrp::switch::{LegConfig, LegId, LegInput, MsrpSwitch, SwitchConfig, SwitchEvent, SwitchOutput};
//!
//! let mut switch = MsrpSwitch::new(SwitchConfig::default());
//! let now = Instant::now();
//! for (n, who) in [(1, "alice"), (2, "bob")] {
//!     let local = format!("msrp://switch.example.com:2855/leg{n};tcp");
//!     let remote = format!("msrp://{who}.example.com:7777/s{n};tcp");
//!     let identity = format!("sip:{who}@example.com");
//!     switch.join(LegId(n), LegConfig::new(&local, &remote, &identity), now)?;
//! }
//! // Alice's client sends a CPIM message on leg 1.
//! let cpim = b"From: <sip:mallory@example.com>\r\nTo: <sip:conf@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhi";
//! let mut send = format!("MSRP t1 SEND\r\nTo-Path: msrp://switch.example.com:2855/leg1;tcp\r\n\
//!     From-Path: msrp://alice.example.com:7777/s1;tcp\r\nMessage-ID: m1\r\n\
//!     Byte-Range: 1-{}/{}\r\nContent-Type: message/cpim\r\n\r\n", cpim.len(), cpim.len()).into_bytes();
//! send.extend_from_slice(cpim);
//! send.extend_from_slice(b"\r\n-------t1$\r\n");
//! switch.handle_input(LegId(1), LegInput::Bytes(&send), now);
//!
//! let mut to_bob = Vec::new();
//! while let Some(output) = switch.poll_output() {
//!     match output {
//!         SwitchOutput::Transmit(t) if t.leg == LegId(2) => to_bob.push(t.into_bytes()),
//!         SwitchOutput::Transmit(t) => assert!(t.into_bytes().starts_with(b"MSRP t1 200")),
//!         SwitchOutput::Event(e) => assert!(!matches!(e, SwitchEvent::MessageRelayed { .. })),
//!     }
//! }
//! let text = String::from_utf8(to_bob.concat()).unwrap();
//! assert!(text.contains("To-Path: msrp://bob.example.com:7777/s2;tcp\r\n"));
//! assert!(text.contains("From: <sip:alice@example.com>\r\n"));
//!
//! // Delivered once Bob's client answers 200.
//! let tid = text.split_whitespace().nth(1).unwrap();
//! let ok = format!("MSRP {tid} 200 OK\r\nTo-Path: msrp://switch.example.com:2855/leg2;tcp\r\n\
//!     From-Path: msrp://bob.example.com:7777/s2;tcp\r\n-------{tid}$\r\n");
//! switch.handle_input(LegId(2), LegInput::Bytes(ok.as_bytes()), now);
//! let relayed = std::iter::from_fn(|| switch.poll_output()).find_map(|o| match o {
//!     SwitchOutput::Event(SwitchEvent::MessageRelayed { to_legs, .. }) => Some(to_legs),
//!     _ => None,
//! });
//! assert_eq!(relayed, Some(vec![LegId(2)]));
//! # Ok::<(), oma_im::msrp::switch::JoinError>(())
//! ```

mod budget;
mod chunk_ids;
mod config;
mod cpim_from;
mod leg_texts;
mod legs;
mod output;
mod pending;
mod quick_ok;
mod relays;
mod route;
mod whole;

pub use budget::PENDING_COST;
pub use config::{JoinError, LegConfig, LegId, SwitchConfig, SwitchLimits};
pub use output::{LegFailure, LegTransmit, SwitchDeadline, SwitchEvent, SwitchOutput, SwitchTimer};

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use smallvec::SmallVec;

use super::session::incoming::{classify, Incoming, Local, Verdict};
use super::session::wire::{
    fresh_transact_id, fresh_transact_id_in, path_line_text, write_report, write_response,
    write_send, write_send_fields, EndLineStarts, SendFields, ID_LEN,
};
use super::{ByteRange, ContinuationFlag, FailureReport, MsrpStreamParser, StreamEvent};
use crate::hash::IdMap;
use crate::rng::Rng;
use crate::sdp::AcceptTypes;
use chunk_ids::ChunkIds;
use cpim_from::rewrite_from;
use leg_texts::LegTexts;
use legs::Legs;
use pending::PendingTable;
use relays::Relays;

type TransactId = [u8; ID_LEN];

/// Legs a message goes to.
type Targets = SmallVec<[LegId; 16]>;

/// A message from a leg whose first chunk was relayed and last not yet.
#[derive(Debug, Clone)]
struct Relay {
    message_id: Arc<str>,
    /// The number of its [`Delivery`].
    delivery: u64,
    targets: Targets,
    /// Size change of the first chunk, added to every later Byte-Range.
    delta: i64,
    /// The next byte position (after the shift) and the shifted total.
    next_start: u64,
    total: Option<u64>,
}

/// The delivery of a message whose last chunk was relayed, to the legs that
/// still owe a response to one of its chunks. Recorded once the last chunk
/// goes out (until then a chunk's responses are matched by their pending
/// transactions alone, and its targets are its [`Relay`]'s), with the
/// transactions then awaiting a response counted per leg.
#[derive(Debug, Clone)]
struct Delivery {
    /// The sending leg.
    from: LegId,
    message_id: Arc<str>,
    /// The legs that have not failed, with how many of their transactions
    /// for the message await a response.
    targets: BTreeMap<LegId, u32>,
}

#[derive(Debug, Clone)]
struct Pending {
    message_id: Arc<str>,
    /// The sending leg and the number of the delivery, for a relayed chunk.
    from: Option<(LegId, u64)>,
    deadline: (Instant, u64),
}

/// The request or response a leg is sending: its head's owned parts and,
/// for a SEND to relay, its body so far. A leg holds one only while a
/// message arrives; the switch keeps one spare for the next.
#[derive(Debug, Clone)]
struct Receiving {
    incoming: Incoming,
    /// A line of the body starts with `-------` (see
    /// [`MsrpStreamParser::body_has_line_starts`]).
    line_starts: bool,
    /// The body, shared with the transmits that relay it (see
    /// [`Shared::unique_chunk`]).
    chunk: Arc<Vec<u8>>,
}

impl Default for Receiving {
    fn default() -> Self {
        Receiving {
            incoming: Incoming::empty(),
            line_starts: false,
            chunk: Arc::default(),
        }
    }
}

/// A relayed transaction's response deadline, in the order sent.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    /// When, and the transaction's sequence number.
    key: (Instant, u64),
    leg: LegId,
    tid: TransactId,
    /// Still awaiting its response: an answered one is dropped once it
    /// reaches the front.
    live: bool,
}

/// One leg: what it needs between messages, kept small (a session holds
/// one per participant).
#[derive(Debug, Clone)]
struct Leg {
    /// The switch opens the connection (and sends the binding SEND).
    active: bool,
    max_queued_bytes: usize,
    local: Local,
    /// Its remote path is one URI: the participant's responses can take
    /// the fast path (`quick_ok`), and its requests are answered on `lines`.
    one_uri_remote: bool,
    /// Its To-Path and From-Path lines, and the CPIM `From` of the messages
    /// it sends (its identity, or the anonymous one).
    lines: LegTexts,
    parser: MsrpStreamParser,
    receiving: Option<Box<Receiving>>,
    queue: VecDeque<LegTransmit>,
    queued_bytes: usize,
    writable: bool,
    congested: bool,
    /// Its input is ignored: it sent what is not MSRP, or a chunk over the
    /// buffer budget.
    failed: bool,
    relays: Relays,
    /// Relayed transactions awaiting the leg's response, by the transact-id
    /// the switch drew.
    pending: PendingTable,
}

/// What every leg operation shares, apart from the legs.
#[derive(Debug, Clone)]
struct Shared {
    /// The configuration's limits and response timeout (its seed went
    /// into `rng`).
    limits: SwitchLimits,
    response_timeout: std::time::Duration,
    rng: Rng,
    events: VecDeque<SwitchEvent>,
    /// The response deadline of every transaction sent, in order (every
    /// transaction waits the same time), with consecutive sequence numbers;
    /// answered ones are dropped once they reach the front.
    deadlines: VecDeque<Deadline>,
    sequence: u64,
    /// The transact-id of the last transaction sent.
    tid: TransactId,
    /// The headers after the paths of the chunk being relayed, the same in
    /// every leg's copy: written once per chunk.
    common: Vec<u8>,
    /// Buffers given back with [`MsrpSwitch::recycle`], for the next
    /// transmits.
    spare: Vec<Vec<u8>>,
    /// What [`SwitchLimits::max_buffered_bytes`] bounds: chunk buffers,
    /// queued transmits, pending transactions.
    buffered: usize,
    /// The owner's bound for the next inputs
    /// ([`MsrpSwitch::set_buffer_allowance`]).
    allowance: usize,
    /// The receiving state of the last message a leg finished, for the
    /// next one.
    spare_receiving: Option<Box<Receiving>>,
    /// The content types a leg accepts (CPIM only), shared by every leg.
    accept_types: Arc<AcceptTypes<'static>>,
}

/// The MSRP switch: legs in, relayed chunks out. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct MsrpSwitch {
    legs: Legs,
    shared: Shared,
    cursor: Option<(LegId, usize)>,
    /// The rewritten first chunk being relayed, shared with its transmits.
    first_body: Arc<Vec<u8>>,
    /// Messages relayed and not yet acknowledged by every leg, by sending
    /// leg and Message-ID.
    deliveries: IdMap<u64, Delivery>,
    /// The number of the last delivery.
    last_delivery: u64,
}

/// Input for one leg, to [`MsrpSwitch::handle_input`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegInput<'a> {
    /// The leg's connection is up (an active leg then sends its binding
    /// SEND).
    Connected,
    /// Bytes read from the leg's connection, split anywhere.
    Bytes(&'a [u8]),
    /// The leg's socket takes no more bytes: hold its transmits.
    Blocked,
    /// The leg's socket takes bytes again (legs start writable).
    Writable,
    /// The leg's connection closed: the leg leaves.
    Closed,
}

impl MsrpSwitch {
    /// A switch without legs.
    pub fn new(config: SwitchConfig) -> Self {
        Self {
            legs: Legs::default(),
            shared: Shared {
                rng: Rng::new(config.rng_seed),
                limits: config.limits,
                response_timeout: config.response_timeout,
                events: VecDeque::new(),
                deadlines: VecDeque::new(),
                sequence: 0,
                tid: [0; ID_LEN],
                common: Vec::new(),
                spare: Vec::new(),
                buffered: 0,
                allowance: usize::MAX,
                spare_receiving: None,
                accept_types: Arc::clone(&CPIM_ONLY),
            },
            cursor: None,
            first_body: Arc::default(),
            deliveries: IdMap::default(),
            last_delivery: 0,
        }
    }

    /// Adds a leg. It gets only messages whose first chunk arrives from now
    /// on.
    pub fn join(&mut self, id: LegId, config: LegConfig, now: Instant) -> Result<(), JoinError> {
        self.handle_timeout(now);
        if self.legs.contains_key(&id) {
            return Err(JoinError::DuplicateLeg);
        }
        if self.legs.len() >= self.shared.limits.max_legs {
            return Err(JoinError::TooManyLegs);
        }
        let (local_uri, remote_uri) = config.validate()?;
        let limits = self.shared.limits.msrp;
        let lines = LegTexts::new(
            &path_line_text("To-Path", &config.remote_path),
            &path_line_text("From-Path", std::slice::from_ref(&config.local_uri)),
            config.from_identity(),
        );
        let leg = Leg {
            active: config.active,
            max_queued_bytes: config.max_queued_bytes,
            local: Local {
                local_uri,
                remote_uri,
                accept_types: Arc::clone(&self.shared.accept_types),
                max_size: limits.max_message_size,
            },
            one_uri_remote: config.remote_path.len() == 1,
            lines,
            parser: MsrpStreamParser::new(limits),
            receiving: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            writable: true,
            congested: false,
            failed: false,
            relays: Relays::default(),
            pending: PendingTable::default(),
        };
        self.legs.insert(id, leg);
        self.shared.events.push_back(SwitchEvent::LegJoined(id));
        Ok(())
    }

    /// Removes a leg: what was queued for it is dropped, messages in flight
    /// to it are dropped for it only, and messages it was sending are
    /// aborted on the other legs. `false` when there is no such leg.
    pub fn leave(&mut self, id: LegId) -> bool {
        let Some(leg) = self.legs.remove(&id) else {
            return false;
        };
        self.shared.release(
            leg.receiving.as_ref().map_or(0, |rx| rx.chunk.capacity())
                + leg.queued_bytes
                + leg.pending.len().saturating_mul(PENDING_COST),
        );
        // Its deadlines are dropped as they reach the front.
        for p in leg.pending.values() {
            self.shared.settled(p.deadline);
        }
        self.shared.drop_settled();
        for other in self.legs.values_mut() {
            for relay in other.relays.values_mut() {
                relay.targets.retain(|t| *t != id);
            }
        }
        // What it was sending and had not finished is aborted below (it has
        // no delivery recorded yet); what was on its way to it will not be
        // acknowledged.
        let mut waiting: Vec<u64> = self
            .deliveries
            .iter()
            .filter(|(_, d)| d.targets.contains_key(&id))
            .map(|(k, _)| *k)
            .collect();
        waiting.sort_unstable();
        for key in waiting {
            if let Some(d) = self.deliveries.get_mut(&key) {
                d.targets.remove(&id);
            }
            self.settle(key);
        }
        let mut relays: Vec<&Relay> = leg.relays.values().collect();
        relays.sort_by(|a, b| a.message_id.cmp(&b.message_id));
        for relay in relays {
            let range = ByteRange {
                start: relay.next_start.max(1),
                end: None,
                total: relay.total,
            };
            for target in &relay.targets {
                if let Some(t) = self.legs.get_mut(target) {
                    // The abort is best effort: a full queue drops it.
                    let _ = self.shared.send(
                        *target,
                        t,
                        &relay.message_id,
                        range,
                        ContinuationFlag::Aborted,
                    );
                }
                self.shared.events.push_back(SwitchEvent::DeliveryFailed {
                    leg: *target,
                    message_id: relay.message_id.clone(),
                    cause: LegFailure::SenderLeft,
                });
            }
        }
        self.shared.events.push_back(SwitchEvent::LegLeft(id));
        true
    }

    /// Gives back the buffer of a [`LegTransmit`] once its bytes are
    /// written, so that later transmits reuse it instead of allocating: a
    /// switch fed its buffers back relays chunks without allocating. Optional;
    /// at most a few buffers (of bounded size) are kept.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        if self.shared.spare.len() < MAX_SPARE && buffer.capacity() <= MAX_SPARE_CAPACITY {
            self.shared.spare.push(buffer);
        }
    }

    /// Gives back a [`LegTransmit`] whose bytes were written (with
    /// [`LegTransmit::slices`] or [`LegTransmit::write_to`]): its own buffer
    /// is [recycled](Self::recycle), and its share of a relayed body
    /// released, so that the next chunk is received into that body's buffer
    /// once every leg's transmit of it is given back or dropped.
    pub fn recycle_transmit(&mut self, transmit: LegTransmit) {
        self.recycle(transmit.into_buffer());
    }

    /// How many legs the switch has.
    pub(crate) fn leg_count(&self) -> usize {
        self.legs.len()
    }

    /// Takes back a buffer given with [`recycle`](Self::recycle) and not
    /// used (a role that lends buffers to many switches keeps them itself).
    pub(crate) fn take_spare(&mut self) -> Option<Vec<u8>> {
        self.shared.spare.pop()
    }

    /// Whether a leg with this id is there.
    pub fn has_leg(&self, id: LegId) -> bool {
        self.legs.contains_key(&id)
    }

    /// Bytes queued for a leg (`None` without such a leg).
    pub fn queued_bytes(&self, id: LegId) -> Option<usize> {
        self.legs.get(&id).map(|l| l.queued_bytes)
    }

    /// Takes input for one leg; input for an unknown leg is ignored.
    pub fn handle_input(&mut self, id: LegId, input: LegInput<'_>, now: Instant) {
        self.handle_timeout(now);
        let Some(leg) = self.legs.get_mut(&id) else {
            return;
        };
        match input {
            LegInput::Connected => {
                if leg.active {
                    let message_id: Arc<str> = Arc::from(self.shared.rng.token(ID_LEN));
                    let range = ByteRange {
                        start: 1,
                        end: Some(0),
                        total: Some(0),
                    };
                    let _ =
                        self.shared
                            .send(id, leg, &message_id, range, ContinuationFlag::Complete);
                    let at = self.shared.response_deadline(now);
                    if let Some(leg) = self.legs.get_mut(&id) {
                        track(&mut self.shared, id, leg, message_id, None, at);
                    }
                }
            }
            LegInput::Bytes(data) => {
                if !leg.failed {
                    let rest = self.quick_responses(id, data);
                    let rest = self.whole_messages(id, rest, now);
                    if rest.is_empty() {
                        // Every byte was a response taken on the fast path.
                    } else if let Some(leg) = self.legs.get_mut(&id) {
                        leg.parser.feed(rest);
                        self.receive(id, now);
                    }
                }
            }
            LegInput::Blocked => leg.writable = false,
            LegInput::Writable => leg.writable = true,
            LegInput::Closed => {
                self.leave(id);
            }
        }
        self.shared.drop_settled();
    }

    /// Handles every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.shared.drop_settled();
        while let Some(&d) = self.shared.deadlines.front() {
            if d.key.0 > now {
                break;
            }
            self.shared.deadlines.pop_front();
            let Some(leg) = self.legs.get_mut(&d.leg) else {
                continue;
            };
            if leg.pending.get(&d.tid).is_some_and(|p| p.deadline == d.key) {
                if let Some(p) = leg.pending.remove(&d.tid) {
                    self.shared.release(PENDING_COST);
                    self.failed_delivery(d.leg, p, LegFailure::Timeout);
                }
            }
            self.shared.drop_settled();
        }
    }

    /// The next output: events first, then one transmit of a writable leg
    /// with queued bytes, legs taken round robin.
    pub fn poll_output(&mut self) -> Option<SwitchOutput> {
        if let Some(event) = self.shared.events.pop_front() {
            return Some(SwitchOutput::Event(event));
        }
        let (id, at, leg) = self
            .legs
            .next_ready(self.cursor, |l| l.writable && !l.queue.is_empty())?;
        let transmit = leg.queue.pop_front()?;
        leg.queued_bytes = leg.queued_bytes.saturating_sub(transmit.len());
        self.shared.release(transmit.len());
        if leg.queue.is_empty() {
            leg.congested = false;
        }
        self.cursor = Some((id, at));
        Some(SwitchOutput::Transmit(transmit))
    }

    /// The earliest deadline, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.shared.next_deadline().map(|d| d.key.0)
    }

    /// The earliest deadline and why it exists.
    pub fn poll_deadline(&self) -> Option<SwitchDeadline> {
        let d = self.shared.next_deadline()?;
        let message_id = self
            .legs
            .get(&d.leg)
            .and_then(|l| l.pending.get(&d.tid))
            .map(|p| p.message_id.clone())
            .unwrap_or_else(|| Arc::from(""));
        Some(SwitchDeadline {
            at: d.key.0,
            reason: SwitchTimer::ResponseTimeout {
                leg: d.leg,
                message_id,
            },
        })
    }

    fn receive(&mut self, id: LegId, now: Instant) {
        loop {
            let Some(leg) = self.legs.get_mut(&id) else {
                return;
            };
            if leg.failed {
                return;
            }
            let flag = match leg.parser.next_event() {
                Err(error) => {
                    leg.failed = true;
                    self.shared
                        .events
                        .push_back(SwitchEvent::ProtocolError { leg: id, error });
                    return;
                }
                Ok(None) => Ok(None),
                Ok(Some(StreamEvent::Head { head, has_body })) => {
                    begin(
                        &mut self.shared,
                        &mut leg.receiving,
                        (&leg.local, leg.one_uri_remote),
                        &head,
                        has_body,
                    );
                    continue;
                }
                Ok(Some(StreamEvent::BodyData(data))) => {
                    if take_body(&mut self.shared, &mut leg.receiving, data) {
                        continue;
                    }
                    Err(())
                }
                Ok(Some(StreamEvent::End(flag))) => Ok(Some(flag)),
            };
            let flag = match flag {
                Ok(Some(flag)) => flag,
                Ok(None) => {
                    leg.parser.release_consumed();
                    return;
                }
                // Over the budget.
                Err(()) => return self.exceeded(id),
            };
            let line_starts = leg.parser.body_has_line_starts();
            if let Some(rx) = leg.receiving.as_mut() {
                rx.line_starts = line_starts;
            }
            self.finish(id, flag, now);
        }
    }

    fn finish(&mut self, id: LegId, flag: ContinuationFlag, now: Instant) {
        let Some(mut rx) = self.legs.get_mut(&id).and_then(|l| l.receiving.take()) else {
            return;
        };
        self.answer(id, &rx, flag, now);
        // Kept for the next message unless large; a spare it replaces is
        // given back.
        self.shared.trim_chunk(&mut rx.chunk);
        if let Some(old) = self.shared.spare_receiving.replace(rx) {
            self.shared.release(old.chunk.capacity());
        }
    }

    /// What the message `rx` that leg `id` finished calls for: relaying,
    /// a response, a report.
    fn answer(&mut self, id: LegId, rx: &Receiving, flag: ContinuationFlag, now: Instant) {
        let inc = &rx.incoming;
        let code = match inc.verdict {
            Verdict::Ignore | Verdict::Report(_) => return,
            Verdict::Response(code) => {
                self.on_response(id, &inc.transact_id, code);
                return;
            }
            Verdict::Reject(code) => code,
            Verdict::Empty => 200,
            Verdict::Accept => {
                let range = inc.byte_range.unwrap_or(ByteRange {
                    start: 1,
                    end: None,
                    total: None,
                });
                let (message_id, content_type) = (&inc.message_id, &inc.content_type);
                let chunk = Chunk {
                    range,
                    body: &rx.chunk,
                    line_starts: rx.line_starts,
                };
                self.relay_chunk(id, &chunk, message_id, content_type, flag, now)
            }
        };
        let Some(leg) = self.legs.get_mut(&id) else {
            return;
        };
        let owed = match inc.failure_report.unwrap_or(FailureReport::Yes) {
            FailureReport::Yes => true,
            FailureReport::No => false,
            FailureReport::Partial => code != 200,
        };
        if owed {
            let (to_line, from_line) =
                inc.response_lines(leg.lines.remote_line(), leg.lines.local_line());
            let mut out = self.shared.buffer(48 + to_line.len() + from_line.len());
            write_response(&mut out, &inc.transact_id, code, to_line, from_line);
            self.shared.enqueue(id, leg, LegTransmit::whole(id, out), 0);
        }
        // RFC 4975 §7.1.3: the switch is the endpoint of the sender's leg;
        // it reports the whole message received when asked to.
        let whole = code == 200
            && flag == ContinuationFlag::Complete
            && inc.verdict == Verdict::Accept
            && inc.success_report == Some(super::SuccessReport::Yes);
        if whole {
            let range = inc.byte_range.unwrap_or(ByteRange {
                start: 1,
                end: None,
                total: None,
            });
            let total = range.total.or(range.end).unwrap_or(0);
            let mut tid = String::new();
            fresh_transact_id(&mut self.shared.rng, b"", &mut tid);
            let mut out = self.shared.buffer(256);
            write_report(
                &mut out,
                &tid,
                leg.lines.remote_line(),
                leg.lines.local_line(),
                &inc.message_id,
                ByteRange {
                    start: 1,
                    end: Some(total),
                    total: Some(total),
                },
                200,
            );
            self.shared.enqueue(id, leg, LegTransmit::whole(id, out), 0);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn relay_chunk(
        &mut self,
        id: LegId,
        received: &Chunk<'_>,
        message_id: &str,
        content_type: &str,
        flag: ContinuationFlag,
        now: Instant,
    ) -> u16 {
        let Some(leg) = self.legs.get_mut(&id) else {
            return 481;
        };
        let (range, chunk) = (received.range, received.body);
        let first = range.start == 1;
        let mut relay = if first {
            if !leg.relays.contains_key(message_id)
                && leg.relays.len() >= self.shared.limits.max_relayed_messages_per_leg
            {
                return 413;
            }
            let identity = leg.lines.identity();
            let first_body = unique_body(&mut self.first_body);
            if rewrite_from(chunk, identity, first_body).is_none() {
                return 400;
            }
            let delta = i64::try_from(self.first_body.len()).unwrap_or(i64::MAX)
                - i64::try_from(chunk.len()).unwrap_or(i64::MAX);
            // A message sent again from its start replaces its delivery:
            // the old one's responses find no delivery.
            self.last_delivery = self.last_delivery.wrapping_add(1);
            Relay {
                message_id: Arc::from(message_id),
                delivery: self.last_delivery,
                targets: self.targets(id, chunk),
                delta,
                next_start: 1,
                total: None,
            }
        } else {
            // Out of the table while its chunk goes out, back in after.
            match leg.relays.take(message_id) {
                Some(relay) => relay,
                None => return 400,
            }
        };
        let shift = |n: u64| n.checked_add_signed(relay.delta);
        let shifted = ByteRange {
            start: if first { 1 } else { range.start },
            end: range.end,
            total: range.total,
        };
        let (Some(start), Some(end), Some(total)) = (
            if first { Some(1) } else { shift(shifted.start) },
            shifted.end.map_or(Some(None), |e| shift(e).map(Some)),
            shifted.total.map_or(Some(None), |t| shift(t).map(Some)),
        ) else {
            if let (false, Some(leg)) = (first, self.legs.get_mut(&id)) {
                leg.relays.put(relay);
            }
            return 400;
        };
        if let (true, Some(leg)) = (first, self.legs.get_mut(&id)) {
            // A message sent again from its start replaces the one before.
            leg.relays.remove(message_id);
        }
        let shifted = ByteRange { start, end, total };
        let body = if first { &self.first_body } else { chunk };
        // A body-less chunk (an abort, `#`) is relayed body-less.
        let body = (!content_type.is_empty()).then_some(body);
        let key = relay.delivery;
        let mut delivered = Targets::new();
        // One scan of the body for the end-line check of every leg's
        // transact-id, and the headers every leg's copy shares written once.
        // A chunk relayed as received has none unless the receiving scan
        // saw a line start with hyphens; a first chunk was rewritten.
        let ends = match body {
            Some(b) if first || received.line_starts => EndLineStarts::scan(b),
            _ => EndLineStarts::default(),
        };
        let mut common = std::mem::take(&mut self.shared.common);
        common.clear();
        let fields = SendFields {
            message_id: &relay.message_id,
            success_report: None,
            failure_report: None,
            byte_range: Some(shifted),
            content_type: Some(content_type).filter(|ct| !ct.is_empty()),
        };
        write_send_fields(&mut common, &fields, body.is_some());
        // One draw for every copy's transact-id (see `chunk_ids`).
        let ids = ChunkIds::draw(&mut self.shared.rng);
        let mut copy = ChunkCopy {
            common: &common,
            body,
            flag,
            ends: &ends,
            ids: &ids,
            place: 0,
        };
        let shared = &mut self.shared;
        // Every copy goes out now, and waits as long.
        let at = shared.response_deadline(now);
        for (place, target, t) in self.legs.among_mut(&relay.targets) {
            copy.place = place;
            if shared.relay(target, t, &copy) {
                let message_id = relay.message_id.clone();
                track(shared, target, t, message_id, Some((id, key)), at);
                delivered.push(target);
            } else {
                shared.events.push_back(SwitchEvent::DeliveryFailed {
                    leg: target,
                    message_id: relay.message_id.clone(),
                    cause: LegFailure::Congested,
                });
            }
        }
        self.shared.common = common;
        relay.targets = delivered;
        relay.next_start = end.map_or(start, |e| e.saturating_add(1));
        relay.total = total;
        let Some(leg) = self.legs.get_mut(&id) else {
            return 200;
        };
        match flag {
            ContinuationFlag::Continuation => leg.relays.put(relay),
            ContinuationFlag::Complete => {
                leg.relays.release_if_empty();
                self.record_delivery(id, key, relay);
                self.settle(key);
            }
            ContinuationFlag::Aborted => leg.relays.release_if_empty(),
        }
        200
    }

    /// Records the delivery `key` of leg `from`'s message whose last chunk
    /// `relay` just went out: its targets, each with its transactions of the
    /// delivery still awaiting a response.
    fn record_delivery(&mut self, from: LegId, key: u64, relay: Relay) {
        let targets = relay
            .targets
            .iter()
            .map(|t| {
                let owed = self.legs.get(t).map_or(0, |leg| {
                    leg.pending
                        .values()
                        .filter(|p| p.from == Some((from, key)))
                        .count()
                });
                (*t, u32::try_from(owed).unwrap_or(u32::MAX))
            })
            .collect();
        self.deliveries.insert(
            key,
            Delivery {
                from,
                message_id: relay.message_id,
                targets,
            },
        );
    }

    /// Reports a message relayed once its last chunk went out and every
    /// leg it went to answered every chunk (200) or failed.
    fn settle(&mut self, key: u64) {
        let done = self
            .deliveries
            .get(&key)
            .is_some_and(|d| d.targets.values().all(|n| *n == 0));
        if !done {
            return;
        }
        if let Some(d) = self.deliveries.remove(&key) {
            self.shared.events.push_back(SwitchEvent::MessageRelayed {
                from_leg: d.from,
                message_id: d.message_id,
                to_legs: d.targets.into_keys().collect(),
            });
        }
    }

    fn on_response(&mut self, id: LegId, transact_id: &str, code: u16) {
        if let Ok(tid) = TransactId::try_from(transact_id.as_bytes()) {
            self.on_response_to(id, tid, code);
        }
    }

    /// The response `code` of leg `id` to the relayed transaction `tid`.
    fn on_response_to(&mut self, id: LegId, tid: TransactId, code: u16) {
        let Some(leg) = self.legs.get_mut(&id) else {
            return;
        };
        let Some(p) = leg.pending.remove(&tid) else {
            return;
        };
        self.answered(id, p, code);
    }

    /// The response `code` of leg `id` to the transaction `p`, just taken
    /// out of the leg's pending ones.
    fn answered(&mut self, id: LegId, p: Pending, code: u16) {
        self.shared.settled(p.deadline);
        self.shared.release(PENDING_COST);
        // Its deadline is dropped when it reaches the front (at the end of
        // the input that carried the response).
        if code != 200 {
            return self.failed_delivery(id, p, LegFailure::Response(code));
        }
        // Only a delivery whose last chunk went out is recorded, and can be
        // settled: the responses to the chunks before need no lookup.
        if let Some((_, key)) = p.from.filter(|_| !self.deliveries.is_empty()) {
            if let Some(d) = self.deliveries.get_mut(&key) {
                if let Some(n) = d.targets.get_mut(&id) {
                    *n = n.saturating_sub(1);
                }
                self.settle(key);
            }
        }
    }

    /// A relayed transaction to `leg` failed: the rest of that message is
    /// not sent to it.
    fn failed_delivery(&mut self, leg: LegId, p: Pending, cause: LegFailure) {
        let Some((from, key)) = p.from else {
            return;
        };
        if let Some(relay) = self
            .legs
            .get_mut(&from)
            .and_then(|l| l.relays.get_mut(&p.message_id))
        {
            relay.targets.retain(|t| *t != leg);
        }
        if let Some(d) = self.deliveries.get_mut(&key) {
            d.targets.remove(&leg);
        }
        self.shared.events.push_back(SwitchEvent::DeliveryFailed {
            leg,
            message_id: p.message_id,
            cause,
        });
        self.settle(key);
    }
}

/// The head of the message a leg starts sending, classified into the
/// leg's receiving state (the switch's spare one when it has none).
fn begin(
    shared: &mut Shared,
    receiving: &mut Option<Box<Receiving>>,
    (local, one_uri_remote): (&Local, bool),
    head: &super::MsrpHead<'_>,
    has_body: bool,
) {
    let rx = receiving.get_or_insert_with(|| shared.spare_receiving.take().unwrap_or_default());
    classify(head, has_body, local, one_uri_remote, &mut rx.incoming);
    shared.unique_chunk(&mut rx.chunk).clear();
}

/// The next bytes of the body of the message being received, kept when it
/// is to be relayed: `false` when they do not fit in the buffer budget.
fn take_body(shared: &mut Shared, receiving: &mut Option<Box<Receiving>>, data: &[u8]) -> bool {
    let Some(rx) = receiving
        .as_mut()
        .filter(|rx| rx.incoming.verdict == Verdict::Accept)
    else {
        return true;
    };
    if !shared.reserve_chunk(&mut rx.chunk, data.len()) {
        return false;
    }
    shared.unique_chunk(&mut rx.chunk).extend_from_slice(data);
    true
}

/// Records the transaction just sent to `leg` (its id is `shared.tid`), a
/// chunk of the delivery `from` (sending leg, number) if relayed, with its
/// response deadline `at` (from [`Shared::response_deadline`]).
fn track(
    shared: &mut Shared,
    id: LegId,
    leg: &mut Leg,
    message_id: Arc<str>,
    from: Option<(LegId, u64)>,
    at: Instant,
) {
    let tid = shared.tid;
    shared.sequence = shared.sequence.wrapping_add(1);
    let key = (at, shared.sequence);
    shared.deadlines.push_back(Deadline {
        key,
        leg: id,
        tid,
        live: true,
    });
    shared.buffered = shared.buffered.saturating_add(PENDING_COST);
    leg.pending.insert(
        tid,
        Pending {
            message_id,
            from,
            deadline: key,
        },
    );
}

/// What every leg of every switch accepts: CPIM.
static CPIM_ONLY: std::sync::LazyLock<Arc<AcceptTypes<'static>>> =
    std::sync::LazyLock::new(|| Arc::new(AcceptTypes::from_iter(["message/cpim"])));

/// How many buffers [`MsrpSwitch::recycle`] keeps.
const MAX_SPARE: usize = 32;
/// The largest buffer [`MsrpSwitch::recycle`] keeps.
const MAX_SPARE_CAPACITY: usize = 64 * 1024;

impl Shared {
    /// An empty buffer of at least `size` bytes: a recycled one when there
    /// is one.
    fn buffer(&mut self, size: usize) -> Vec<u8> {
        match self.spare.pop() {
            Some(mut out) => {
                out.clear();
                out.reserve(size);
                out
            }
            None => Vec::with_capacity(size),
        }
    }

    /// The response deadline of a transaction sent at `now`, in order: a
    /// clock read earlier than the last one does not move a deadline before
    /// those already queued.
    fn response_deadline(&self, now: Instant) -> Instant {
        let at = now + self.response_timeout;
        self.deadlines.back().map_or(at, |last| at.max(last.key.0))
    }

    /// Queues `data` for `leg` if it fits in the leg's queue and in the
    /// buffer budget with `room` bytes to spare (room kept for the switch's
    /// own responses); else marks the leg congested.
    fn enqueue(&mut self, id: LegId, leg: &mut Leg, data: LegTransmit, room: usize) -> bool {
        let fits = leg
            .queued_bytes
            .checked_add(data.len())
            .is_some_and(|n| n <= leg.max_queued_bytes)
            && self.fits(data.len(), room);
        if !fits {
            if !leg.congested {
                leg.congested = true;
                self.events.push_back(SwitchEvent::LegCongested(id));
            }
            return false;
        }
        leg.queued_bytes += data.len();
        self.buffered = self.buffered.saturating_add(data.len());
        leg.queue.push_back(data);
        true
    }

    /// Whether `leg` takes one more relayed transaction; else marks it
    /// congested.
    fn takes_transaction(&mut self, id: LegId, leg: &mut Leg) -> bool {
        if leg.pending.len() < self.limits.max_pending_per_leg {
            return true;
        }
        if !leg.congested {
            leg.congested = true;
            self.events.push_back(SwitchEvent::LegCongested(id));
        }
        false
    }

    /// Writes a body-less SEND for `leg` (a binding SEND, an aborted
    /// chunk) with a fresh transact-id (left in `self.tid`) and queues it;
    /// `false` when the leg is congested.
    fn send(
        &mut self,
        id: LegId,
        leg: &mut Leg,
        message_id: &str,
        range: ByteRange,
        flag: ContinuationFlag,
    ) -> bool {
        if !self.takes_transaction(id, leg)
            || !fresh_transact_id_in(&mut self.rng, b"", &EndLineStarts::default(), &mut self.tid)
        {
            return false;
        }
        let size = leg.lines.held_bytes() + message_id.len() + 160;
        let mut out = self.buffer(size);
        // Letters and digits: always UTF-8.
        let Ok(tid) = std::str::from_utf8(&self.tid) else {
            return false;
        };
        let fields = SendFields {
            message_id,
            success_report: None,
            failure_report: None,
            byte_range: Some(range),
            content_type: None,
        };
        write_send(
            &mut out,
            tid,
            leg.lines.remote_line(),
            leg.lines.local_line(),
            &fields,
            None,
            flag,
        );
        let transmit = LegTransmit::whole(id, out);
        self.enqueue(id, leg, transmit, budget::CONTROL_ROOM + PENDING_COST)
    }

    /// Relays a chunk to `leg` as a SEND with the leg's paths and the
    /// transact-id of its place among the chunk's targets (left in
    /// `self.tid`), written as [`write_send`] writes it. Queues it; `false`
    /// when the leg is congested.
    fn relay(&mut self, id: LegId, leg: &mut Leg, copy: &ChunkCopy<'_>) -> bool {
        let ChunkCopy {
            common,
            body,
            flag,
            ends,
            ids,
            place,
        } = *copy;
        let bytes = body.map_or(&[][..], |b| b.as_slice());
        if !self.takes_transaction(id, leg)
            || !ids.leg_id(place, &mut self.rng, bytes, ends, &mut self.tid)
        {
            return false;
        }
        // Start line, paths, the common headers, then the end-line (after
        // the CRLF that closes a body); room for the body too, so that
        // `LegTransmit::into_bytes` does not grow the buffer.
        let size = 2 * ID_LEN + leg.lines.held_bytes() + common.len() + bytes.len() + 32;
        let mut out = self.buffer(size);
        // The fixed-size parts are put together where they are made, so
        // that a copy takes four appends.
        out.extend_from_slice(&start_line(&self.tid));
        out.extend_from_slice(leg.lines.both());
        out.extend_from_slice(common);
        let split = out.len();
        // The end-line, as `write_end_line` writes it, after the CRLF that
        // closes a body.
        let end = end_line(&self.tid, flag);
        out.extend_from_slice(if body.is_some() { &end } else { &end[2..] });
        let transmit = match body {
            Some(body) => LegTransmit::with_body(id, out, split, Arc::clone(body)),
            None => LegTransmit::whole(id, out),
        };
        self.enqueue(id, leg, transmit, budget::CONTROL_ROOM + PENDING_COST)
    }

    /// The transaction whose deadline is `key` was answered (or its leg
    /// left): its deadline no longer counts. Found by its sequence number
    /// (the deadlines' are consecutive), without a lookup.
    fn settled(&mut self, key: (Instant, u64)) {
        let Some(front) = self.deadlines.front() else {
            return;
        };
        let at = usize::try_from(key.1.wrapping_sub(front.key.1)).unwrap_or(usize::MAX);
        if let Some(d) = self.deadlines.get_mut(at).filter(|d| d.key == key) {
            d.live = false;
        }
    }

    /// Drops the deadlines of answered transactions from the front of the
    /// queue: the front is a live one after every input.
    fn drop_settled(&mut self) {
        while self.deadlines.front().is_some_and(|d| !d.live) {
            self.deadlines.pop_front();
        }
    }

    /// The earliest deadline of a transaction awaiting its response.
    fn next_deadline(&self) -> Option<&Deadline> {
        self.deadlines.iter().find(|d| d.live)
    }
}

/// `MSRP tid SEND CRLF`, the start line of a relayed copy.
fn start_line(tid: &TransactId) -> [u8; ID_LEN + 12] {
    let mut line = [0; ID_LEN + 12];
    line[..5].copy_from_slice(b"MSRP ");
    line[5..5 + ID_LEN].copy_from_slice(tid);
    line[5 + ID_LEN..].copy_from_slice(b" SEND\r\n");
    line
}

/// `CRLF -------tid flag CRLF`: the CRLF closing a body, then the
/// end-line.
fn end_line(tid: &TransactId, flag: ContinuationFlag) -> [u8; ID_LEN + 12] {
    let mut line = [0; ID_LEN + 12];
    line[..9].copy_from_slice(b"\r\n-------");
    line[9..9 + ID_LEN].copy_from_slice(tid);
    line[9 + ID_LEN] = flag.as_byte();
    line[10 + ID_LEN..].copy_from_slice(b"\r\n");
    line
}

/// A chunk as received, for relaying.
struct Chunk<'a> {
    /// Its Byte-Range (`1-*/*` when the SEND had none).
    range: ByteRange,
    body: &'a Arc<Vec<u8>>,
    /// A line of the body starts with `-------`: the receiving scan saw
    /// where an end-line could be, so the body is scanned for candidates.
    line_starts: bool,
}

/// What a chunk's copy to one leg is made of, besides the leg.
#[derive(Clone, Copy)]
struct ChunkCopy<'a> {
    /// The headers after the paths (announcing the body when there is one).
    common: &'a [u8],
    /// The body, shared by every copy.
    body: Option<&'a Arc<Vec<u8>>>,
    flag: ContinuationFlag,
    /// The body's end-line candidates.
    ends: &'a EndLineStarts,
    /// The chunk's transact-id draw, and the leg's place among its targets.
    ids: &'a ChunkIds,
    place: usize,
}

/// `body` for writing: itself unless transmits still share it (their bytes
/// not written yet), else a fresh buffer (the shared one stays theirs).
fn unique_body(body: &mut Arc<Vec<u8>>) -> &mut Vec<u8> {
    if Arc::get_mut(body).is_none() {
        *body = Arc::default();
    }
    Arc::make_mut(body)
}
