//! A deterministic network simulator for the crate's roles: any mix of
//! [`ImClient`]s, [`ImServer`]s, [`ImHistoryFunction`]s, bare SIP
//! [`UserAgent`]s, [`Proxy`]s and nodes of your own ([`Node`], such as
//! the hand-driven [`RawPeer`]) at socket addresses, on a virtual clock,
//! with seeded faults — for your application's acceptance tests as much as
//! for the crate's own.
//!
//! * **Bytes on the wire.** Every SIP message is moved as bytes to the node
//!   at its destination and parsed again there: UDP datagrams one by one,
//!   TCP as a stream cut into segments ([`Segmenting`]) from which the
//!   receiving side frames whole messages (RFC 3261 §18.3). Every MSRP
//!   connection a role asks for is opened to the node listening at that
//!   address and accepted there ([`ImServer::msrp_accepted_at`],
//!   [`ImClient::msrp_accepted_at`], [`ImHistoryFunction::msrp_accepted_at`]:
//!   each role binds it to its session from the first `To-Path`), and its
//!   bytes are routed to the right inputs of both roles. The application
//!   code of the tests never touches a connection.
//! * **Virtual time.** When nothing moves, the clock jumps to the earliest
//!   deadline of all nodes and segments in flight. A run is bounded in
//!   virtual time and in steps; a run that does not go idle fails with a
//!   typed [`SimError`] that names the busy nodes and ends with the ladder.
//! * **Seeded faults** ([`Faults`]): loss, duplication and reordering
//!   (jitter) of UDP datagrams, latency, extra delay for chosen messages,
//!   partitions between two nodes (UDP lost, TCP held until
//!   [`repair`](Sim::repair)), a node cut off the network
//!   ([`cut_off`](Sim::cut_off): everything lost, TCP included),
//!   connection resets seen by both ends or by one
//!   ([`reset_seen_by`](Sim::reset_seen_by)), TCP streams cut at arbitrary
//!   boundaries, and a node restarted with a fresh role at the same
//!   addresses. The same seed gives the same run, byte for byte.
//! * **The wire log** ([`Sim::wire`]) as a printable ladder
//!   ([`Sim::ladder`]) and as a pcap capture ([`Sim::pcap`]) that Wireshark
//!   and tshark dissect; the TCP segments in [`Sim::segments`].
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

mod custom;
mod faults;
mod net;
mod nodes;
mod pcap;
mod proxy;
mod raw;
mod run;
mod stream;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::dialog::{self, UserAgent};
use crate::im::client::{self, ClientConfig, ImClient};
use crate::im::history::{self, HistoryConfig, ImHistoryFunction};
use crate::im::server::{self, ImServer, ServerConfig};
use crate::rng::Rng;

pub use custom::{CustomId, CustomIndex, LinkInput, Node, NodeOutput};
pub use nodes::{AgentId, ClientId, HistoryId, NodeId, Nodes, ProxyId, ServerId, SimEvent};
pub use proxy::Proxy;
pub use raw::{RawPeer, RawSip};
pub use stream::{Segment, Segmenting};
pub use wire::{Fate, WireKind, WireRecord};

use net::{Conn, Flight};
use nodes::Slot;
use stream::{Pending, SipReceiver, StreamKey};
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

    /// No fault and no latency: everything arrives at the instant it is
    /// sent (in the order it was sent).
    pub const PERFECT: Faults = Faults {
        latency: Duration::ZERO,
        ..Faults::NONE
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
    /// A node was given its deadline and kept a deadline at or before that
    /// time without doing anything: the run would spin without time
    /// passing (a broken drain contract).
    StuckDeadline {
        /// The nodes' names.
        nodes: Vec<String>,
        /// Virtual time elapsed.
        elapsed: Duration,
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
            SimError::StuckDeadline { nodes, elapsed } => write!(
                f,
                "at {elapsed:?}, {} kept a deadline at or before now after handling it",
                nodes.join(", ")
            ),
        }
    }
}

impl std::error::Error for SimError {}

/// Picks messages by their bytes (for [`Sim::delay_matching`]).
pub type Picker = fn(&[u8]) -> bool;

/// A simulation: nodes, the network between them, the virtual clock and
/// the wire log. See the [module documentation](self).
#[derive(Debug)]
pub struct Sim {
    nodes: Nodes,
    start: Instant,
    now: Instant,
    faults: Faults,
    rng: Rng,
    /// Draws the boundaries of [`Segmenting::Arbitrary`] (apart from
    /// `rng`, so that cutting streams leaves the other faults as they were).
    cuts: Rng,
    segmenting: Segmenting,
    by_sip: HashMap<SocketAddr, NodeId>,
    by_msrp: HashMap<SocketAddr, NodeId>,
    flights: BTreeMap<(Instant, u64), Flight>,
    seq: u64,
    conns: Vec<Conn>,
    ends: HashMap<(NodeId, nodes::End), usize>,
    partitions: Vec<(NodeId, NodeId)>,
    cut_off: Vec<NodeId>,
    held: Vec<Flight>,
    delays: Vec<(Picker, Duration)>,
    /// Stream bytes written this turn, not cut into segments yet.
    pending: BTreeMap<StreamKey, Pending>,
    /// When the last segment of each stream arrives: later ones do not
    /// overtake it.
    stream_ends: HashMap<StreamKey, Instant>,
    /// The receiving side of each SIP stream, by (sender, receiver).
    receivers: HashMap<(SocketAddr, SocketAddr), SipReceiver>,
    wire: Vec<WireRecord>,
    segments: Vec<Segment>,
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
            cuts: Rng::with_stream(seed, 0x7463_705f_6375_7473),
            segmenting: Segmenting::PerWrite,
            by_sip: HashMap::new(),
            by_msrp: HashMap::new(),
            flights: BTreeMap::new(),
            seq: 0,
            conns: Vec::new(),
            ends: HashMap::new(),
            partitions: Vec::new(),
            cut_off: Vec::new(),
            held: Vec::new(),
            delays: Vec::new(),
            pending: BTreeMap::new(),
            stream_ends: HashMap::new(),
            receivers: HashMap::new(),
            wire: Vec::new(),
            segments: Vec::new(),
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

    /// How TCP streams (SIP over TCP, MSRP) are cut into segments from now
    /// on: [`Segmenting::PerWrite`] by default.
    pub fn set_segmenting(&mut self, segmenting: Segmenting) {
        self.segmenting = segmenting;
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

    /// Adds a node of your own ([`Node`]; a [`RawPeer`] for instance) that
    /// gets the SIP messages sent to `sip` and the TCP connections opened
    /// to `listen` (none when `None`). [`custom`](Self::custom) reaches it
    /// as its own type.
    pub fn add_node<T: Node>(
        &mut self,
        name: &str,
        sip: SocketAddr,
        listen: Option<SocketAddr>,
        node: T,
    ) -> CustomId<T> {
        let index = self.nodes.customs.len();
        self.nodes.customs.push(Slot {
            name: name.to_owned(),
            sip,
            msrp: listen,
            role: Box::new(node),
            auto_accept: false,
        });
        self.register(NodeId::Custom(CustomIndex(index)), sip, listen);
        CustomId::new(index)
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

    /// The SIP user agent `id`, to read its state.
    pub fn agent_ref(&self, id: AgentId) -> &UserAgent {
        &self.nodes.agents[id.0].role
    }

    /// The proxy `id`.
    pub fn proxy(&mut self, id: ProxyId) -> &mut Proxy {
        self.nodes.proxy(id)
    }

    /// The node of your own `id`, as its own type: to give it commands
    /// (with [`now`](Self::now)) or read its state.
    pub fn custom<T: Node>(&mut self, id: CustomId<T>) -> &mut T {
        self.nodes.custom(id)
    }

    /// The node of your own `id`, to read its state.
    pub fn custom_ref<T: Node>(&self, id: CustomId<T>) -> &T {
        self.nodes.custom_ref(id)
    }

    /// The SIP address of node `id`.
    pub fn sip_addr(&self, id: impl Into<NodeId>) -> SocketAddr {
        self.nodes.sip_addr(id.into())
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

    /// Every SIP message, MSRP write and connection event, in order (a SIP
    /// message over TCP once, however it was cut into segments).
    pub fn wire(&self) -> &[WireRecord] {
        &self.wire
    }

    /// Every TCP segment that carried SIP or MSRP bytes, in the order they
    /// were sent.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Every event of every node, in order.
    pub fn events(&self) -> &[Recorded] {
        &self.events
    }

    /// The events of node `id` (any kind), in order.
    pub fn events_of(&self, id: impl Into<NodeId>) -> impl Iterator<Item = &SimEvent> + '_ {
        let id = id.into();
        self.events
            .iter()
            .filter(move |r| r.node == id)
            .map(|r| &r.event)
    }

    /// The events of client `id`, in order.
    pub fn client_events(&self, id: ClientId) -> Vec<&client::Event> {
        self.events_of(id)
            .filter_map(|e| match e {
                SimEvent::Client(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// The events of server `id`, in order.
    pub fn server_events(&self, id: ServerId) -> Vec<&server::Event> {
        self.events_of(id)
            .filter_map(|e| match e {
                SimEvent::Server(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// The events of History Function `id`, in order.
    pub fn history_events(&self, id: HistoryId) -> Vec<&history::Event> {
        self.events_of(id)
            .filter_map(|e| match e {
                SimEvent::History(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// The SIP user agent events node `id` reported (an [`AgentId`], or a
    /// node of your own built on a user agent), in order.
    pub fn agent_events(&self, id: impl Into<NodeId>) -> Vec<&dialog::Event> {
        self.events_of(id)
            .filter_map(|e| match e {
                SimEvent::Agent(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// The wire log and the events merged, in the order they happened.
    pub fn log(&self) -> impl Iterator<Item = LogEntry<'_>> + '_ {
        self.order.iter().filter_map(|entry| match entry {
            Entry::Wire(i) => Some(LogEntry::Wire(&self.wire[*i])),
            Entry::Event(i) => Some(LogEntry::Event(&self.events[*i])),
            Entry::Segment(_) => None,
        })
    }

    /// SIP messages sent to an address where no node is, and SIP streams
    /// that could not be framed.
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
    /// (lost ones included, duplicated ones twice); TCP payloads in the
    /// [`segments`](Self::segments) they were cut into. Records between
    /// IPv6 addresses are left out.
    pub fn pcap(&self) -> Vec<u8> {
        pcap::write(&self.wire, &self.segments, &self.order)
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
}
