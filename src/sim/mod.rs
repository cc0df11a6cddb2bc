//! A deterministic network simulator for the crate's roles: any mix of
//! [`ImClient`]s, [`ImServer`]s, [`ImHistoryFunction`]s, bare SIP
//! [`UserAgent`]s and stateless [`Proxy`]s at socket addresses, on a
//! virtual clock, with seeded faults — for your application's acceptance
//! tests as much as for the crate's own.
//!
//! * **Bytes on the wire.** Every SIP message is moved as bytes to the node
//!   at its destination and parsed again there (UDP datagrams and TCP
//!   messages); every MSRP connection a role asks for is opened to the node
//!   listening at that address, accepted there
//!   ([`ImServer::msrp_accepted_at`], [`ImClient::msrp_accepted_at`]; for a
//!   History Function the simulator binds it from its first `To-Path`), and
//!   its bytes are routed to the right inputs of both roles. The
//!   application code of the tests never touches a connection.
//! * **Virtual time.** When nothing moves, the clock jumps to the earliest
//!   deadline of all nodes and segments in flight. A run is bounded in
//!   virtual time and in steps; a run that does not go idle fails with a
//!   typed [`SimError`] that names the busy nodes and ends with the ladder.
//! * **Seeded faults** ([`Faults`]): loss, duplication and reordering
//!   (jitter) of UDP datagrams, latency, extra delay for chosen messages,
//!   partitions between two nodes (UDP lost, TCP held until
//!   [`repair`](Sim::repair)), connection resets, and a node restarted
//!   with a fresh role at the same addresses. The same seed gives the same
//!   run, byte for byte.
//! * **The wire log** ([`Sim::wire`]) as a printable ladder
//!   ([`Sim::ladder`]) and as a pcap capture ([`Sim::pcap`]) that Wireshark
//!   and tshark dissect.
//!
//! A One-to-One chat (7.1.1.2): alice invites bob, bob accepts, each side
//! sends a message, alice leaves.
//!
//! ```
//! use std::time::Duration;
//! use oma_im::im::client::{ClientConfig, Event};
//! use oma_im::sim::{Proxy, Sim};
//!
//! let core = "10.0.0.1:5060".parse()?;
//! let config = |user: &str, ip: &str| {
//!     let mut c = ClientConfig::new(&format!("sip:{user}@example.com"),
//!         "sip:factory@im.example.com", format!("{ip}:5060").parse().unwrap(), core);
//!     c.msrp_addr = format!("{ip}:2855").parse().unwrap();
//!     c
//! };
//! let mut sim = Sim::new(7);
//! let alice = sim.add_client("alice", config("alice", "10.0.0.21"));
//! let bob = sim.add_client("bob", config("bob", "10.0.0.22"));
//! sim.add_proxy("core", core, Proxy::new()
//!     .with_user("sip:alice@example.com", "10.0.0.21:5060".parse()?)
//!     .with_user("sip:bob@example.com", "10.0.0.22:5060".parse()?));
//! sim.auto_accept(bob, true);
//!
//! let now = sim.now();
//! let session = sim.client(alice).start_one_to_one("sip:bob@example.com", now)?;
//! sim.run_for(Duration::from_secs(1))?;
//! let now = sim.now();
//! sim.client(alice).send_message(session, "text/plain", b"hi bob", false, now)?;
//! sim.run_for(Duration::from_secs(1))?;
//! let now = sim.now();
//! sim.client(alice).leave(session, now)?;
//! sim.run_until_idle(Duration::from_secs(60))?;
//!
//! assert!(sim.client_events(bob).iter().any(|e| matches!(e,
//!     Event::MessageReceived { body, .. } if body == b"hi bob")));
//! assert!(sim.ladder().contains("MSRP"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod nodes;
mod pcap;
mod proxy;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::dialog::{self, UserAgent};
use crate::im::client::{self, ClientConfig, ImClient};
use crate::im::history::{self, HistoryConfig, ImHistoryFunction};
use crate::im::server::{self, ImServer, ServerConfig};
use crate::rng::Rng;
use crate::transaction::{Transmit, Transport};

pub use nodes::{AgentId, ClientId, HistoryId, NodeId, Nodes, ProxyId, ServerId, SimEvent};
pub use proxy::Proxy;
pub use wire::{Fate, WireKind, WireRecord};

use nodes::{Action, End, MsrpIn, Slot};
use wire::Entry;

/// How the network treats what crosses it. UDP datagrams may be lost,
/// duplicated and reordered (`jitter`); TCP segments are reliable and in
/// order. Every hop takes `latency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Faults {
    /// Percentage (0 to 100) of UDP datagrams lost.
    pub loss_percent: u8,
    /// Percentage (0 to 100) of UDP datagrams delivered twice.
    pub duplicate_percent: u8,
    /// One-way delay of every datagram and segment.
    pub latency: Duration,
    /// Random extra delay in `0..=jitter` for each UDP datagram: datagrams
    /// overtake each other.
    pub jitter: Duration,
}

impl Faults {
    /// No fault, 10 ms one-way latency.
    pub const NONE: Faults = Faults {
        loss_percent: 0,
        duplicate_percent: 0,
        latency: Duration::from_millis(10),
        jitter: Duration::ZERO,
    };

    /// `loss` % loss, `duplicate` % duplication, 10 ms latency and up to
    /// `jitter` more.
    pub fn lossy(loss: u8, duplicate: u8, jitter: Duration) -> Self {
        Faults {
            loss_percent: loss,
            duplicate_percent: duplicate,
            jitter,
            ..Faults::NONE
        }
    }
}

impl Default for Faults {
    fn default() -> Self {
        Faults::NONE
    }
}

/// An event a node reported, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// When, from the start of the simulation.
    pub at: Duration,
    /// Who.
    pub node: NodeId,
    /// What.
    pub event: SimEvent,
}

/// An entry of [`Sim::log`].
#[derive(Debug, Clone, Copy)]
pub enum LogEntry<'a> {
    /// Something crossed the wire.
    Wire(&'a WireRecord),
    /// A node reported an event.
    Event(&'a Recorded),
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// The nodes did not go idle within the bound of virtual time, or went
    /// still without being idle.
    NotIdle {
        /// Virtual time elapsed when the run gave up.
        elapsed: Duration,
        /// Each busy node's name and why it is busy.
        busy: Vec<(String, String)>,
        /// The last lines of the ladder.
        ladder_tail: String,
    },
    /// More steps than [`Sim::set_max_steps`] allows: the nodes keep
    /// exchanging without time passing (a livelock).
    TooManySteps {
        /// The bound.
        steps: u64,
        /// Virtual time elapsed.
        elapsed: Duration,
        /// The last lines of the ladder.
        ladder_tail: String,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::NotIdle {
                elapsed,
                busy,
                ladder_tail,
            } => {
                writeln!(f, "the nodes are not idle after {elapsed:?}:")?;
                for (name, why) in busy {
                    writeln!(f, "  {name}: {why}")?;
                }
                write!(f, "last messages:\n{ladder_tail}")
            }
            SimError::TooManySteps {
                steps,
                elapsed,
                ladder_tail,
            } => write!(
                f,
                "more than {steps} steps by {elapsed:?} (a livelock?); last messages:\n{ladder_tail}"
            ),
        }
    }
}

impl std::error::Error for SimError {}

/// Picks messages by their bytes (for [`Sim::delay_matching`]).
pub type Picker = fn(&[u8]) -> bool;

/// Something on its way.
#[derive(Debug)]
enum Flight {
    Sip {
        from_node: NodeId,
        from: SocketAddr,
        to: SocketAddr,
        transport: Transport,
        bytes: Vec<u8>,
    },
    Accept {
        conn: usize,
    },
    Up {
        conn: usize,
    },
    Refused {
        conn: usize,
    },
    Data {
        conn: usize,
        to_passive: bool,
        bytes: Vec<u8>,
    },
    Closed {
        conn: usize,
        to_passive: bool,
    },
}

/// One MSRP connection.
#[derive(Debug)]
struct Conn {
    active: NodeId,
    a_end: End,
    a_addr: SocketAddr,
    a_open: bool,
    passive: Option<NodeId>,
    p_end: Option<End>,
    p_addr: SocketAddr,
    p_open: bool,
    /// What a History Function's accepted connection sent before the
    /// simulator could bind it.
    unbound: Vec<u8>,
}

/// A simulation: nodes, the network between them, the virtual clock and
/// the wire log. See the [module documentation](self).
#[derive(Debug)]
pub struct Sim {
    nodes: Nodes,
    start: Instant,
    now: Instant,
    faults: Faults,
    rng: Rng,
    by_sip: HashMap<SocketAddr, NodeId>,
    by_msrp: HashMap<SocketAddr, NodeId>,
    flights: BTreeMap<(Instant, u64), Flight>,
    seq: u64,
    conns: Vec<Conn>,
    ends: HashMap<(NodeId, End), usize>,
    partitions: Vec<(NodeId, NodeId)>,
    held: Vec<Flight>,
    delays: Vec<(Picker, Duration)>,
    wire: Vec<WireRecord>,
    events: Vec<Recorded>,
    order: Vec<Entry>,
    max_steps: u64,
    steps: u64,
    next_port: u16,
    undeliverable: usize,
}

impl Sim {
    /// An empty simulation whose faults draw from `seed`, with
    /// [`Faults::NONE`].
    pub fn new(seed: u64) -> Self {
        let now = Instant::now();
        Sim {
            nodes: Nodes::default(),
            start: now,
            now,
            faults: Faults::NONE,
            rng: Rng::new(seed),
            by_sip: HashMap::new(),
            by_msrp: HashMap::new(),
            flights: BTreeMap::new(),
            seq: 0,
            conns: Vec::new(),
            ends: HashMap::new(),
            partitions: Vec::new(),
            held: Vec::new(),
            delays: Vec::new(),
            wire: Vec::new(),
            events: Vec::new(),
            order: Vec::new(),
            max_steps: 1_000_000,
            steps: 0,
            next_port: 49_152,
            undeliverable: 0,
        }
    }

    /// The same simulation with `faults`.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Changes the faults from now on.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// The most steps (outputs moved and arrivals) a simulation may take in
    /// all; 1 000 000 by default.
    pub fn set_max_steps(&mut self, steps: u64) {
        self.max_steps = steps;
    }

    // ----- nodes -----

    /// Adds an IM Client at its `local_sip_addr`, listening for MSRP at
    /// its `msrp_addr`.
    pub fn add_client(&mut self, name: &str, config: ClientConfig) -> ClientId {
        let id = ClientId(self.nodes.clients.len());
        let (sip, msrp) = (config.local_sip_addr, config.msrp_addr);
        self.nodes.clients.push(Slot {
            name: name.to_owned(),
            sip,
            msrp: Some(msrp),
            role: ImClient::new(config),
            auto_accept: false,
        });
        self.register(id.into(), sip, Some(msrp));
        id
    }

    /// Adds a controlling IM Server at its `local_addr`, listening for MSRP
    /// at its `msrp_authority` (when that is an IP address and port).
    pub fn add_server(&mut self, name: &str, config: ServerConfig) -> ServerId {
        let id = ServerId(self.nodes.servers.len());
        let sip = config.local_addr;
        let msrp = config.msrp_authority.parse().ok();
        self.nodes.servers.push(Slot {
            name: name.to_owned(),
            sip,
            msrp,
            role: ImServer::new(config),
            auto_accept: false,
        });
        self.register(id.into(), sip, msrp);
        id
    }

    /// Adds an IM History Function at its `sip_addr`, listening for MSRP at
    /// its `msrp_addr`.
    pub fn add_history(&mut self, name: &str, config: HistoryConfig) -> HistoryId {
        let id = HistoryId(self.nodes.histories.len());
        let (sip, msrp) = (config.sip_addr, config.msrp_addr);
        self.nodes.histories.push(Slot {
            name: name.to_owned(),
            sip,
            msrp: Some(msrp),
            role: ImHistoryFunction::new(config),
            auto_accept: false,
        });
        self.register(id.into(), sip, Some(msrp));
        id
    }

    /// Adds a bare SIP user agent at its `local_addr` (no MSRP).
    pub fn add_agent(&mut self, name: &str, config: dialog::Config) -> AgentId {
        let id = AgentId(self.nodes.agents.len());
        let sip = config.local_addr;
        self.nodes.agents.push(Slot {
            name: name.to_owned(),
            sip,
            msrp: None,
            role: UserAgent::new(config),
            auto_accept: false,
        });
        self.register(id.into(), sip, None);
        id
    }

    /// Adds a stateless proxy at `addr`.
    pub fn add_proxy(&mut self, name: &str, addr: SocketAddr, proxy: Proxy) -> ProxyId {
        let id = ProxyId(self.nodes.proxies.len());
        self.nodes.proxies.push(Slot {
            name: name.to_owned(),
            sip: addr,
            msrp: None,
            role: proxy,
            auto_accept: false,
        });
        self.register(id.into(), addr, None);
        id
    }

    fn register(&mut self, id: NodeId, sip: SocketAddr, msrp: Option<SocketAddr>) {
        self.by_sip.insert(sip, id);
        if let Some(msrp) = msrp {
            self.by_msrp.insert(msrp, id);
        }
    }

    /// Whether client `id` accepts every invitation as soon as it arrives
    /// (off by default: the test answers [`client::Event::InvitationReceived`]).
    pub fn auto_accept(&mut self, id: ClientId, on: bool) {
        self.nodes.clients[id.0].auto_accept = on;
    }

    /// Every node.
    pub fn nodes(&mut self) -> &mut Nodes {
        &mut self.nodes
    }

    /// The IM Client `id`, to give it commands (with [`now`](Self::now)).
    pub fn client(&mut self, id: ClientId) -> &mut ImClient {
        self.nodes.client(id)
    }

    /// The IM Client `id`, to read its state.
    pub fn client_ref(&self, id: ClientId) -> &ImClient {
        &self.nodes.clients[id.0].role
    }

    /// The IM Server `id`, to read its state.
    pub fn server_ref(&self, id: ServerId) -> &ImServer {
        &self.nodes.servers[id.0].role
    }

    /// The IM History Function `id`, to read its state.
    pub fn history_ref(&self, id: HistoryId) -> &ImHistoryFunction {
        &self.nodes.histories[id.0].role
    }

    /// The IM Server `id`.
    pub fn server(&mut self, id: ServerId) -> &mut ImServer {
        self.nodes.server(id)
    }

    /// The IM History Function `id`.
    pub fn history(&mut self, id: HistoryId) -> &mut ImHistoryFunction {
        self.nodes.history(id)
    }

    /// The SIP user agent `id`.
    pub fn agent(&mut self, id: AgentId) -> &mut UserAgent {
        self.nodes.agent(id)
    }

    /// The proxy `id`.
    pub fn proxy(&mut self, id: ProxyId) -> &mut Proxy {
        self.nodes.proxy(id)
    }

    // ----- faults -----

    /// Cuts the link between `a` and `b` (both ways): UDP datagrams are
    /// lost, TCP segments held until [`repair`](Self::repair).
    pub fn partition(&mut self, a: impl Into<NodeId>, b: impl Into<NodeId>) {
        let (a, b) = (a.into(), b.into());
        if !self.partitioned(a, b) {
            self.partitions.push((a, b));
        }
    }

    /// Restores the link between `a` and `b`; held TCP segments leave now.
    pub fn repair(&mut self, a: impl Into<NodeId>, b: impl Into<NodeId>) {
        let (a, b) = (a.into(), b.into());
        self.partitions
            .retain(|&(x, y)| !((x, y) == (a, b) || (x, y) == (b, a)));
        let held = std::mem::take(&mut self.held);
        for flight in held {
            let (from, to) = self.flight_ends(&flight);
            if matches!((from, to), (Some(f), Some(t)) if self.partitioned(f, t)) {
                self.held.push(flight);
            } else {
                let at = self.now + self.faults.latency;
                self.schedule(at, flight);
            }
        }
    }

    fn partitioned(&self, a: NodeId, b: NodeId) -> bool {
        self.partitions
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
    }

    /// Messages whose bytes `pick` selects take `delay` more than the
    /// others: they are overtaken (reordering of chosen messages).
    pub fn delay_matching(&mut self, pick: Picker, delay: Duration) {
        self.delays.push((pick, delay));
    }

    /// Resets every MSRP connection of `node`: both ends learn it is
    /// closed.
    pub fn reset_connections(&mut self, node: impl Into<NodeId>) {
        let node = node.into();
        for conn in 0..self.conns.len() {
            let c = &self.conns[conn];
            let mine = c.active == node || c.passive == Some(node);
            if mine && (c.a_open || c.p_open) {
                let (from, to) = (c.a_addr, c.p_addr);
                let (fnode, tnode) = (Some(c.active), c.passive);
                self.log_wire(
                    from,
                    to,
                    fnode,
                    tnode,
                    wire::WireKind::Reset,
                    Vec::new(),
                    Fate::Delivered,
                );
                let now = self.now;
                if self.conns[conn].a_open {
                    self.schedule(
                        now,
                        Flight::Closed {
                            conn,
                            to_passive: false,
                        },
                    );
                }
                if self.conns[conn].p_open {
                    self.schedule(
                        now,
                        Flight::Closed {
                            conn,
                            to_passive: true,
                        },
                    );
                }
            }
        }
    }

    /// Replaces client `id` with a new one from `config` at the same
    /// addresses (a restart: its state is gone, its connections reset).
    pub fn restart_client(&mut self, id: ClientId, config: ClientConfig) {
        self.drop_connections(id.into());
        self.nodes.clients[id.0].role = ImClient::new(config);
    }

    /// Replaces server `id` with a new one from `config` (a restart).
    pub fn restart_server(&mut self, id: ServerId, config: ServerConfig) {
        self.drop_connections(id.into());
        self.nodes.servers[id.0].role = ImServer::new(config);
    }

    /// Replaces History Function `id` with a new one from `config` (a
    /// restart).
    pub fn restart_history(&mut self, id: HistoryId, config: HistoryConfig) {
        self.drop_connections(id.into());
        self.nodes.histories[id.0].role = ImHistoryFunction::new(config);
    }

    /// The connections of a restarted node: reset; its own side is gone
    /// with its old role.
    fn drop_connections(&mut self, node: NodeId) {
        self.reset_connections(node);
        for c in &mut self.conns {
            if c.active == node {
                c.a_open = false;
            }
            if c.passive == Some(node) {
                c.p_open = false;
            }
        }
        self.ends.retain(|(n, _), _| *n != node);
    }

    // ----- time and logs -----

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Virtual time elapsed since the simulation started.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Every SIP message, MSRP segment and connection event, in order.
    pub fn wire(&self) -> &[WireRecord] {
        &self.wire
    }

    /// Every event of every node, in order.
    pub fn events(&self) -> &[Recorded] {
        &self.events
    }

    /// The events of client `id`, in order.
    pub fn client_events(&self, id: ClientId) -> Vec<&client::Event> {
        self.events
            .iter()
            .filter(|r| r.node == NodeId::Client(id))
            .filter_map(|r| match &r.event {
                SimEvent::Client(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// The events of server `id`, in order.
    pub fn server_events(&self, id: ServerId) -> Vec<&server::Event> {
        self.events
            .iter()
            .filter(|r| r.node == NodeId::Server(id))
            .filter_map(|r| match &r.event {
                SimEvent::Server(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// The events of History Function `id`, in order.
    pub fn history_events(&self, id: HistoryId) -> Vec<&history::Event> {
        self.events
            .iter()
            .filter(|r| r.node == NodeId::History(id))
            .filter_map(|r| match &r.event {
                SimEvent::History(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// The wire log and the events merged, in the order they happened.
    pub fn log(&self) -> impl Iterator<Item = LogEntry<'_>> + '_ {
        self.order.iter().map(|entry| match entry {
            Entry::Wire(i) => LogEntry::Wire(&self.wire[*i]),
            Entry::Event(i) => LogEntry::Event(&self.events[*i]),
        })
    }

    /// SIP messages sent to an address where no node is.
    pub fn undeliverable(&self) -> usize {
        self.undeliverable
    }

    /// The ladder: one line per message, connection event and node event,
    /// in order — `-->` SIP over UDP, `~~>` SIP over TCP, `==>` MSRP,
    /// `+=>` a connection opened, `-=>` closed or reset, `--x` lost, `*`
    /// an event.
    pub fn ladder(&self) -> String {
        wire::ladder(&self.nodes, &self.wire, &self.events, &self.order)
    }

    /// The wire log as a pcap capture (`LINKTYPE_ETHERNET`, synthetic
    /// IPv4, UDP and TCP headers with computed lengths and checksums; the
    /// capture starts at 2026-01-01T00:00:00Z). Datagrams appear as sent
    /// (lost ones included, duplicated ones twice). Records between IPv6
    /// addresses are left out.
    pub fn pcap(&self) -> Vec<u8> {
        pcap::write(&self.wire)
    }

    /// Writes [`pcap`](Self::pcap) to `path`.
    pub fn write_pcap(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        std::fs::write(path, self.pcap())
    }

    fn ladder_tail(&self) -> String {
        let ladder = self.ladder();
        let lines: Vec<&str> = ladder.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    // ----- running -----

    /// Runs for `duration` of virtual time (or less when everything is
    /// idle before).
    pub fn run_for(&mut self, duration: Duration) -> Result<(), SimError> {
        self.run_for_with(duration, |_, _, _, _| {})
    }

    /// [`run_for`](Self::run_for), calling `hook` with every node, the
    /// node that reported, each event and the time.
    pub fn run_for_with(
        &mut self,
        duration: Duration,
        mut hook: impl FnMut(&mut Nodes, NodeId, &SimEvent, Instant),
    ) -> Result<(), SimError> {
        let until = self.now + duration;
        self.run(until, false, &mut hook)
    }

    /// Runs until every node is idle and nothing is in flight; fails with
    /// [`SimError::NotIdle`] when that does not happen within `bound` of
    /// virtual time.
    pub fn run_until_idle(&mut self, bound: Duration) -> Result<(), SimError> {
        self.run_until_idle_with(bound, |_, _, _, _| {})
    }

    /// [`run_until_idle`](Self::run_until_idle) with a hook on every
    /// event.
    pub fn run_until_idle_with(
        &mut self,
        bound: Duration,
        mut hook: impl FnMut(&mut Nodes, NodeId, &SimEvent, Instant),
    ) -> Result<(), SimError> {
        let until = self.now + bound;
        self.run(until, true, &mut hook)
    }

    /// Whether every node is idle and nothing is in flight or held.
    pub fn is_idle(&self) -> bool {
        self.flights.is_empty()
            && self.held.is_empty()
            && self
                .nodes
                .ids()
                .iter()
                .all(|id| self.nodes.busy(*id).is_none())
    }

    fn run(
        &mut self,
        until: Instant,
        idle: bool,
        hook: &mut dyn FnMut(&mut Nodes, NodeId, &SimEvent, Instant),
    ) -> Result<(), SimError> {
        loop {
            while self.step(hook)? {}
            let ids = self.nodes.ids();
            let next_node = ids
                .iter()
                .filter_map(|id| self.nodes.poll_timeout(*id))
                .min();
            let next_flight = self.flights.keys().next().map(|(at, _)| *at);
            let next = next_node.into_iter().chain(next_flight).min();
            match next {
                Some(next) if next <= until => {
                    self.now = self.now.max(next);
                    let now = self.now;
                    for id in ids {
                        if self.nodes.poll_timeout(id).is_some_and(|t| t <= now) {
                            self.nodes.handle_timeout(id, now);
                        }
                    }
                }
                _ => {
                    if idle && !self.is_idle() {
                        return Err(self.not_idle());
                    }
                    if !idle {
                        self.now = self.now.max(until);
                    }
                    return Ok(());
                }
            }
        }
    }

    fn not_idle(&self) -> SimError {
        let mut busy: Vec<(String, String)> = self
            .nodes
            .ids()
            .into_iter()
            .filter_map(|id| Some((self.nodes.name(id).to_owned(), self.nodes.busy(id)?)))
            .collect();
        if !self.held.is_empty() {
            busy.push((
                "network".to_owned(),
                format!("{} segment(s) held by a partition", self.held.len()),
            ));
        }
        if !self.flights.is_empty() {
            busy.push((
                "network".to_owned(),
                format!("{} message(s) in flight", self.flights.len()),
            ));
        }
        SimError::NotIdle {
            elapsed: self.elapsed(),
            busy,
            ladder_tail: self.ladder_tail(),
        }
    }

    fn count_step(&mut self) -> Result<(), SimError> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(SimError::TooManySteps {
                steps: self.max_steps,
                elapsed: self.elapsed(),
                ladder_tail: self.ladder_tail(),
            });
        }
        Ok(())
    }

    /// Moves every node's outputs out, then delivers what is due now.
    fn step(
        &mut self,
        hook: &mut dyn FnMut(&mut Nodes, NodeId, &SimEvent, Instant),
    ) -> Result<bool, SimError> {
        let mut progress = false;
        for id in self.nodes.ids() {
            while let Some(action) = self.nodes.poll(id) {
                progress = true;
                self.count_step()?;
                self.act(id, action, hook);
            }
        }
        while let Some(entry) = self.flights.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let flight = entry.remove();
            progress = true;
            self.count_step()?;
            self.arrive(flight);
        }
        // History connections that came before their session's SDP
        // exchange completed there.
        for conn in 0..self.conns.len() {
            let c = &self.conns[conn];
            if c.p_open && c.p_end == Some(End::HistoryUnbound) && !c.unbound.is_empty() {
                self.bind_history(conn);
                progress |= self.conns[conn].p_end != Some(End::HistoryUnbound);
            }
        }
        Ok(progress)
    }

    fn schedule(&mut self, at: Instant, flight: Flight) {
        self.seq += 1;
        self.flights.insert((at, self.seq), flight);
    }

    #[allow(clippy::too_many_arguments)]
    fn log_wire(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        from_node: Option<NodeId>,
        to_node: Option<NodeId>,
        kind: WireKind,
        bytes: Vec<u8>,
        fate: Fate,
    ) {
        self.order.push(Entry::Wire(self.wire.len()));
        self.wire.push(WireRecord {
            at: self.elapsed(),
            from,
            to,
            from_node,
            to_node,
            kind,
            bytes,
            fate,
        });
    }

    fn extra_delay(&self, bytes: &[u8]) -> Duration {
        self.delays
            .iter()
            .filter(|(pick, _)| pick(bytes))
            .map(|(_, d)| *d)
            .sum()
    }

    fn act(
        &mut self,
        id: NodeId,
        action: Action,
        hook: &mut dyn FnMut(&mut Nodes, NodeId, &SimEvent, Instant),
    ) {
        match action {
            Action::Sip(t) => self.send_sip(id, t),
            Action::Connect { end, destination } => {
                let to = destination.socket_addr();
                self.connect(id, end, to);
            }
            Action::Write { end, data } => self.write(id, end, data),
            Action::Close { end } => self.close(id, end),
            Action::Bound { accepted, session } => {
                if let Some(&conn) = self.ends.get(&(id, accepted)) {
                    self.ends.insert((id, session), conn);
                }
            }
            Action::Event(event) => {
                let now = self.now;
                if self.nodes.auto_accept(id) {
                    if let (
                        NodeId::Client(c),
                        SimEvent::Client(client::Event::InvitationReceived { session, .. }),
                    ) = (id, &event)
                    {
                        let _ = self.nodes.client(c).accept(*session, now);
                    }
                }
                hook(&mut self.nodes, id, &event, now);
                self.order.push(Entry::Event(self.events.len()));
                self.events.push(Recorded {
                    at: self.elapsed(),
                    node: id,
                    event,
                });
            }
        }
    }

    fn send_sip(&mut self, from_node: NodeId, t: Transmit) {
        let from = self.nodes.sip_addr(from_node);
        let to_node = self.by_sip.get(&t.destination).copied();
        let reliable = t.transport.is_reliable();
        let cut = to_node.is_some_and(|to| self.partitioned(from_node, to));
        let f = self.faults;
        let lost = !reliable
            && (cut || (f.loss_percent > 0 && self.rng.below(100) < u64::from(f.loss_percent)));
        let duplicated = !reliable
            && !lost
            && f.duplicate_percent > 0
            && self.rng.below(100) < u64::from(f.duplicate_percent);
        let held = reliable && cut;
        let fate = match (lost, duplicated, held) {
            (true, _, _) => Fate::Lost,
            (_, true, _) => Fate::Duplicated,
            (_, _, true) => Fate::Held,
            _ => Fate::Delivered,
        };
        self.log_wire(
            from,
            t.destination,
            Some(from_node),
            to_node,
            WireKind::Sip(t.transport),
            t.bytes.clone(),
            fate,
        );
        if lost {
            return;
        }
        let extra = self.extra_delay(&t.bytes);
        let flight = |bytes: Vec<u8>| Flight::Sip {
            from_node,
            from,
            to: t.destination,
            transport: t.transport,
            bytes,
        };
        if held {
            self.held.push(flight(t.bytes));
            return;
        }
        for _ in 0..if duplicated { 2 } else { 1 } {
            let jitter = if reliable || f.jitter.is_zero() {
                Duration::ZERO
            } else {
                let micros = u64::try_from(f.jitter.as_micros()).unwrap_or(u64::MAX - 1);
                Duration::from_micros(self.rng.below(micros.saturating_add(1)))
            };
            let at = self.now + f.latency + jitter + extra;
            self.schedule(at, flight(t.bytes.clone()));
        }
    }

    fn connect(&mut self, id: NodeId, end: End, to: Option<SocketAddr>) {
        let ip = self.nodes.sip_addr(id).ip();
        self.next_port = if self.next_port == u16::MAX {
            49_152
        } else {
            self.next_port + 1
        };
        let a_addr = SocketAddr::new(ip, self.next_port);
        let p_addr = to.unwrap_or(SocketAddr::new(IpAddr::from([0, 0, 0, 0]), 0));
        let passive = to.and_then(|a| self.by_msrp.get(&a).copied());
        let conn = self.conns.len();
        self.conns.push(Conn {
            active: id,
            a_end: end,
            a_addr,
            a_open: true,
            passive,
            p_end: None,
            p_addr,
            p_open: passive.is_some(),
            unbound: Vec::new(),
        });
        self.ends.insert((id, end), conn);
        let latency = self.faults.latency;
        let now = self.now;
        let reachable = passive.is_some_and(|p| !self.partitioned(id, p));
        if reachable {
            self.log_wire(
                a_addr,
                p_addr,
                Some(id),
                passive,
                WireKind::Open,
                Vec::new(),
                Fate::Delivered,
            );
            self.schedule(now + latency, Flight::Accept { conn });
            self.schedule(now + latency * 2, Flight::Up { conn });
        } else {
            self.log_wire(
                a_addr,
                p_addr,
                Some(id),
                passive,
                WireKind::Refused,
                Vec::new(),
                Fate::Delivered,
            );
            self.conns[conn].p_open = false;
            self.schedule(now + latency * 2, Flight::Refused { conn });
        }
    }

    fn write(&mut self, id: NodeId, end: End, data: Vec<u8>) {
        let Some(&conn) = self.ends.get(&(id, end)) else {
            return;
        };
        let c = &self.conns[conn];
        let to_passive = c.active == id;
        let (from, to, to_node) = if to_passive {
            (c.a_addr, c.p_addr, c.passive)
        } else {
            (c.p_addr, c.a_addr, Some(c.active))
        };
        let open = if to_passive { c.a_open } else { c.p_open };
        if !open {
            return;
        }
        let cut = to_node.is_some_and(|t| self.partitioned(id, t));
        let fate = if cut { Fate::Held } else { Fate::Delivered };
        let extra = self.extra_delay(&data);
        self.log_wire(
            from,
            to,
            Some(id),
            to_node,
            WireKind::Msrp,
            data.clone(),
            fate,
        );
        let flight = Flight::Data {
            conn,
            to_passive,
            bytes: data,
        };
        if cut {
            self.held.push(flight);
        } else {
            // TCP keeps order: a segment never overtakes an earlier one.
            let at = self.now + self.faults.latency + extra;
            self.schedule(at, flight);
        }
    }

    fn close(&mut self, id: NodeId, end: End) {
        let Some(&conn) = self.ends.get(&(id, end)) else {
            return;
        };
        self.ends.retain(|(n, _), v| !(*n == id && *v == conn));
        let c = &mut self.conns[conn];
        let from_active = c.active == id;
        let was_open = if from_active {
            std::mem::replace(&mut c.a_open, false)
        } else {
            std::mem::replace(&mut c.p_open, false)
        };
        if !was_open {
            return;
        }
        let c = &self.conns[conn];
        let (from, to, to_node) = if from_active {
            (c.a_addr, c.p_addr, c.passive)
        } else {
            (c.p_addr, c.a_addr, Some(c.active))
        };
        let other_open = if from_active { c.p_open } else { c.a_open };
        self.log_wire(
            from,
            to,
            Some(id),
            to_node,
            WireKind::Close,
            Vec::new(),
            Fate::Delivered,
        );
        if other_open {
            let at = self.now + self.faults.latency;
            self.schedule(
                at,
                Flight::Closed {
                    conn,
                    to_passive: from_active,
                },
            );
        }
    }

    /// The nodes a flight goes between (for partitions).
    fn flight_ends(&self, flight: &Flight) -> (Option<NodeId>, Option<NodeId>) {
        match flight {
            Flight::Sip { from_node, to, .. } => (Some(*from_node), self.by_sip.get(to).copied()),
            Flight::Data {
                conn, to_passive, ..
            } => {
                let c = &self.conns[*conn];
                if *to_passive {
                    (Some(c.active), c.passive)
                } else {
                    (c.passive, Some(c.active))
                }
            }
            _ => (None, None),
        }
    }

    fn arrive(&mut self, flight: Flight) {
        let now = self.now;
        match flight {
            Flight::Sip {
                from,
                to,
                transport,
                bytes,
                ..
            } => match self.by_sip.get(&to).copied() {
                Some(node) => self.nodes.deliver_sip(node, &bytes, from, transport, now),
                None => self.undeliverable += 1,
            },
            Flight::Accept { conn } => {
                let Some(passive) = self.conns[conn].passive else {
                    return;
                };
                match self.nodes.accept(passive, now) {
                    Some(end) => {
                        self.conns[conn].p_end = Some(end);
                        if end != End::HistoryUnbound {
                            self.ends.insert((passive, end), conn);
                        }
                    }
                    None => self.conns[conn].p_open = false,
                }
            }
            Flight::Up { conn } => {
                let c = &self.conns[conn];
                if c.a_open {
                    let (a, e) = (c.active, c.a_end);
                    self.nodes.deliver_msrp(a, e, MsrpIn::Connected, now);
                }
            }
            Flight::Refused { conn } => {
                let c = &mut self.conns[conn];
                if std::mem::replace(&mut c.a_open, false) {
                    let (a, e) = (c.active, c.a_end);
                    self.ends.remove(&(a, e));
                    self.nodes.deliver_msrp(a, e, MsrpIn::Closed, now);
                }
            }
            Flight::Data {
                conn,
                to_passive,
                bytes,
            } => {
                let c = &mut self.conns[conn];
                if to_passive {
                    if !c.p_open {
                        return;
                    }
                    let Some(passive) = c.passive else { return };
                    match c.p_end {
                        Some(End::HistoryUnbound) => {
                            c.unbound.extend_from_slice(&bytes);
                            self.bind_history(conn);
                        }
                        Some(end) => {
                            self.nodes
                                .deliver_msrp(passive, end, MsrpIn::Bytes(&bytes), now)
                        }
                        None => {}
                    }
                } else if c.a_open {
                    let (a, e) = (c.active, c.a_end);
                    self.nodes.deliver_msrp(a, e, MsrpIn::Bytes(&bytes), now);
                }
            }
            Flight::Closed { conn, to_passive } => {
                let c = &mut self.conns[conn];
                let (node, end) = if to_passive {
                    if !std::mem::replace(&mut c.p_open, false) {
                        return;
                    }
                    match (c.passive, c.p_end) {
                        (Some(p), Some(e)) => (p, e),
                        _ => return,
                    }
                } else {
                    if !std::mem::replace(&mut c.a_open, false) {
                        return;
                    }
                    (c.active, c.a_end)
                };
                self.ends.retain(|(n, _), v| !(*n == node && *v == conn));
                self.nodes.deliver_msrp(node, end, MsrpIn::Closed, now);
            }
        }
    }

    /// Binds a History Function's accepted connection to the session its
    /// first To-Path names, once that session's MSRP endpoint exists.
    fn bind_history(&mut self, conn: usize) {
        use crate::im::accept::{to_path_session_id, Lookup};
        let c = &self.conns[conn];
        let Some(NodeId::History(h)) = c.passive else {
            return;
        };
        let session = match to_path_session_id(&c.unbound) {
            Lookup::Incomplete => return,
            Lookup::Invalid => None,
            Lookup::Found(token) => match self.nodes.history_session_for(h, token) {
                Some(s) => Some(s),
                // The SDP exchange is not complete there yet: wait.
                None => return,
            },
        };
        let now = self.now;
        let Some(session) = session else {
            let (from, to) = (c.p_addr, c.a_addr);
            let active = c.active;
            self.log_wire(
                from,
                to,
                Some(NodeId::History(h)),
                Some(active),
                WireKind::Reset,
                Vec::new(),
                Fate::Delivered,
            );
            self.conns[conn].p_open = false;
            self.schedule(
                now,
                Flight::Closed {
                    conn,
                    to_passive: false,
                },
            );
            return;
        };
        let end = End::HistorySession(session);
        let node = NodeId::History(h);
        let buffer = std::mem::take(&mut self.conns[conn].unbound);
        self.conns[conn].p_end = Some(end);
        self.ends.insert((node, end), conn);
        self.nodes.deliver_msrp(node, end, MsrpIn::Connected, now);
        self.nodes
            .deliver_msrp(node, end, MsrpIn::Bytes(&buffer), now);
    }
}
