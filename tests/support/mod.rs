//! The in-memory network and virtual clock every flow test runs on.
//!
//! * [`Node`] wraps any state machine of the crate (today the SIP
//!   [`UserAgent`](oma_im::dialog::UserAgent); later the IM roles and MSRP
//!   endpoints): bytes in, [`Polled`] transmissions and events out, a
//!   deadline. Heterogeneous networks wrap their roles in one enum that
//!   implements `Node`.
//! * [`Network`] holds several nodes, each at a `SocketAddr`. Every
//!   `Transmit` is moved **as bytes** and parsed again by the receiver, with
//!   optional seeded loss, duplication, delay and reordering of UDP datagrams
//!   ([`Conditions`], seeded with the crate's `Rng`); TCP is reliable and in
//!   order.
//! * The clock is virtual: when nothing moves, it jumps to the earliest
//!   deadline of all nodes and in-flight datagrams.
//!   [`Network::run_until_idle`] fails the test when the network does not
//!   go idle within a bound.
//! * [`Network::wire`] logs every datagram that crossed (or was lost on)
//!   the wire, for assertions.
#![allow(dead_code)]

pub mod agents;
pub mod chat;
pub mod chat2;
pub mod im;
pub mod im2;
pub mod wire;
pub mod im_history;
pub mod im_history2;
pub mod im_server;
pub mod im_server2;
pub mod msg;
mod ua;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::rng::Rng;
use oma_im::transaction::{Transmit, Transport};

/// What a node hands the network.
#[derive(Debug)]
pub enum Polled<E> {
    /// Bytes for the wire.
    Transmit(Transmit),
    /// An event for the test.
    Event(E),
}

/// A sans-IO state machine on the network.
pub trait Node {
    /// The events it reports.
    type Event: Clone + std::fmt::Debug;
    /// Delivers one message received from `source`.
    fn deliver(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant);
    /// The deadline given by `poll_timeout` has passed.
    fn handle_timeout(&mut self, now: Instant);
    /// The next transmission or event.
    fn poll(&mut self) -> Option<Polled<Self::Event>>;
    /// The earliest deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// `true` when the node keeps no state alive.
    fn is_idle(&self) -> bool;
}

/// How the network treats UDP datagrams. TCP segments are never lost,
/// duplicated or reordered; they take `latency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conditions {
    /// Percentage of datagrams lost.
    pub loss_percent: u64,
    /// Percentage of datagrams delivered twice.
    pub duplicate_percent: u64,
    /// Fixed one-way delay.
    pub latency: Duration,
    /// Random extra delay in `0..=jitter`: datagrams overtake each other.
    pub jitter: Duration,
}

impl Conditions {
    /// A perfect network: no loss, no delay.
    pub const PERFECT: Conditions = Conditions {
        loss_percent: 0,
        duplicate_percent: 0,
        latency: Duration::ZERO,
        jitter: Duration::ZERO,
    };

    /// `loss` % loss, `dup` % duplication, 10 ms latency and up to `jitter`
    /// more (reordering).
    pub fn lossy(loss: u64, dup: u64, jitter: Duration) -> Self {
        Conditions {
            loss_percent: loss,
            duplicate_percent: dup,
            latency: Duration::from_millis(10),
            jitter,
        }
    }
}

/// What happened to a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Delivered (possibly late).
    Delivered,
    /// Delivered twice.
    Duplicated,
    /// Lost.
    Lost,
}

/// One datagram on the wire log.
#[derive(Debug, Clone)]
pub struct WireRecord {
    /// When it was sent, from the start of the run.
    pub sent_at: Duration,
    /// Sender.
    pub from: SocketAddr,
    /// Receiver.
    pub to: SocketAddr,
    /// Transport.
    pub transport: Transport,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// What the network did with it.
    pub fate: Fate,
}

impl WireRecord {
    /// The start line.
    pub fn start_line(&self) -> &str {
        let end = self
            .bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or(self.bytes.len());
        std::str::from_utf8(&self.bytes[..end]).unwrap_or("<not utf-8>")
    }
}

#[derive(Debug)]
struct InFlight {
    from: SocketAddr,
    to: SocketAddr,
    transport: Transport,
    bytes: Vec<u8>,
}

/// Picks datagrams by their bytes.
pub type Picker = fn(&[u8]) -> bool;

/// Several nodes on an in-memory network with a virtual clock.
pub struct Network<N: Node> {
    nodes: Vec<(SocketAddr, N)>,
    by_addr: HashMap<SocketAddr, usize>,
    /// The virtual time.
    pub now: Instant,
    start: Instant,
    conditions: Conditions,
    rng: Rng,
    in_flight: BinaryHeap<Reverse<InFlightKey>>,
    payloads: HashMap<u64, InFlight>,
    seq: u64,
    /// Every datagram sent, in order.
    pub wire: Vec<WireRecord>,
    /// Every event, with the index of the node that reported it.
    pub events: Vec<(usize, N::Event)>,
    /// Datagrams sent to an address where no node is.
    pub undeliverable: usize,
    /// Extra delay for the datagrams this predicate picks (by their bytes),
    /// on top of the conditions: reorders chosen messages.
    pub delay_if: Option<(Picker, Duration)>,
    /// Addresses cut off the network: everything they send and everything
    /// sent to them is lost, TCP included (a node that lost connectivity).
    pub cut: Vec<SocketAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct InFlightKey {
    at: Instant,
    seq: u64,
}

impl<N: Node> Network<N> {
    /// An empty network whose randomness comes from `seed`.
    pub fn new(conditions: Conditions, seed: u64) -> Self {
        let now = Instant::now();
        Network {
            nodes: Vec::new(),
            by_addr: HashMap::new(),
            now,
            start: now,
            conditions,
            rng: Rng::new(seed),
            in_flight: BinaryHeap::new(),
            payloads: HashMap::new(),
            seq: 0,
            wire: Vec::new(),
            events: Vec::new(),
            undeliverable: 0,
            delay_if: None,
            cut: Vec::new(),
        }
    }

    /// Adds a node at `addr`; returns its index.
    pub fn add(&mut self, addr: SocketAddr, node: N) -> usize {
        let index = self.nodes.len();
        self.nodes.push((addr, node));
        self.by_addr.insert(addr, index);
        index
    }

    /// The node at `index`.
    pub fn node(&mut self, index: usize) -> &mut N {
        &mut self.nodes[index].1
    }

    /// The address of the node at `index`.
    pub fn addr(&self, index: usize) -> SocketAddr {
        self.nodes[index].0
    }

    /// Time elapsed on the virtual clock.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// `true` when every node is idle and nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.in_flight.is_empty() && self.nodes.iter().all(|(_, n)| n.is_idle())
    }

    fn send(&mut self, from: SocketAddr, t: Transmit) {
        let reliable = t.transport.is_reliable();
        let c = self.conditions;
        let severed = self.cut.contains(&from) || self.cut.contains(&t.destination);
        let lost =
            severed || (!reliable && c.loss_percent > 0 && self.rng.below(100) < c.loss_percent);
        let dup = !reliable
            && !lost
            && c.duplicate_percent > 0
            && self.rng.below(100) < c.duplicate_percent;
        self.wire.push(WireRecord {
            sent_at: self.elapsed(),
            from,
            to: t.destination,
            transport: t.transport,
            bytes: t.bytes.clone(),
            fate: if lost {
                Fate::Lost
            } else if dup {
                Fate::Duplicated
            } else {
                Fate::Delivered
            },
        });
        if lost {
            return;
        }
        for _ in 0..if dup { 2 } else { 1 } {
            let jitter = if reliable || c.jitter.is_zero() {
                Duration::ZERO
            } else {
                Duration::from_micros(self.rng.below(c.jitter.as_micros() as u64 + 1))
            };
            let held = match self.delay_if {
                Some((picks, delay)) if picks(&t.bytes) => delay,
                _ => Duration::ZERO,
            };
            self.seq += 1;
            let at = self.now + c.latency + jitter + held;
            self.in_flight
                .push(Reverse(InFlightKey { at, seq: self.seq }));
            self.payloads.insert(
                self.seq,
                InFlight {
                    from,
                    to: t.destination,
                    transport: t.transport,
                    bytes: t.bytes.clone(),
                },
            );
        }
    }

    /// Drains every node and delivers every datagram due now; calls `hook`
    /// for each event. Returns whether anything happened.
    pub fn step(&mut self, hook: &mut impl FnMut(usize, &mut N, &N::Event, Instant)) -> bool {
        let mut progress = false;
        for i in 0..self.nodes.len() {
            while let Some(polled) = self.nodes[i].1.poll() {
                progress = true;
                match polled {
                    Polled::Transmit(t) => {
                        let from = self.nodes[i].0;
                        self.send(from, t);
                    }
                    Polled::Event(e) => {
                        let now = self.now;
                        hook(i, &mut self.nodes[i].1, &e, now);
                        self.events.push((i, e));
                    }
                }
            }
        }
        while let Some(Reverse(key)) = self.in_flight.peek().copied() {
            if key.at > self.now {
                break;
            }
            self.in_flight.pop();
            progress = true;
            let Some(d) = self.payloads.remove(&key.seq) else {
                continue;
            };
            match self.by_addr.get(&d.to) {
                Some(&j) => self.nodes[j]
                    .1
                    .deliver(&d.bytes, d.from, d.transport, self.now),
                None => self.undeliverable += 1,
            }
        }
        progress
    }

    /// Runs until every node is idle and nothing is in flight, jumping the
    /// clock to the earliest deadline whenever nothing moves. Panics when
    /// that takes longer than `bound` of virtual time (or too many steps).
    pub fn run_until_idle(
        &mut self,
        bound: Duration,
        mut hook: impl FnMut(usize, &mut N, &N::Event, Instant),
    ) {
        let limit = self.now + bound;
        let mut steps = 0u64;
        loop {
            while self.step(&mut hook) {
                steps += 1;
                assert!(
                    steps < 1_000_000,
                    "the network keeps moving without time passing"
                );
            }
            let next_node = self
                .nodes
                .iter()
                .filter_map(|(_, n)| n.poll_timeout())
                .min();
            let next_datagram = self.in_flight.peek().map(|Reverse(k)| k.at);
            let Some(next) = next_node.into_iter().chain(next_datagram).min() else {
                break;
            };
            assert!(
                next <= limit,
                "network not idle within {bound:?}: next deadline at {:?}",
                next - self.start
            );
            // Never spin: after being driven at `now`, no node keeps a
            // deadline at or before `now`.
            assert!(
                next > self.now,
                "a deadline at or before now was left behind"
            );
            self.now = self.now.max(next);
            let now = self.now;
            for (_, node) in &mut self.nodes {
                node.handle_timeout(now);
            }
        }
    }

    /// Runs until the virtual clock reaches `until` (or everything is idle).
    pub fn run_until(
        &mut self,
        until: Instant,
        mut hook: impl FnMut(usize, &mut N, &N::Event, Instant),
    ) {
        loop {
            while self.step(&mut hook) {}
            let next_node = self
                .nodes
                .iter()
                .filter_map(|(_, n)| n.poll_timeout())
                .min();
            let next_datagram = self.in_flight.peek().map(|Reverse(k)| k.at);
            match next_node.into_iter().chain(next_datagram).min() {
                Some(next) if next <= until => {
                    self.now = self.now.max(next);
                    let now = self.now;
                    for (_, node) in &mut self.nodes {
                        node.handle_timeout(now);
                    }
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    /// The start lines of the datagrams from `from` to `to`, in order
    /// (lost ones included).
    pub fn lines(&self, from: usize, to: usize) -> Vec<String> {
        let (a, b) = (self.addr(from), self.addr(to));
        self.wire
            .iter()
            .filter(|r| r.from == a && r.to == b)
            .map(|r| r.start_line().to_owned())
            .collect()
    }
}
