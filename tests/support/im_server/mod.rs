//! The controlling IM Server's flow tests on the public simulator
//! ([`oma_im::sim`]): the addresses of the test network, its SIP/IP Core
//! (the simulator's [`Proxy`]), [`Group`] — the core, the real IM Server
//! and real IM Clients named by index — and, in [`scenario`], scripted
//! clients built on the SIP user agent ([`ScriptedUa`]).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{self, Config, ResponseSpec, UserAgent};
use oma_im::im::client::{self, ClientConfig, ImClient};
use oma_im::im::history::HistoryConfig;
use oma_im::im::history::ImHistoryFunction;
use oma_im::im::server::{self, ImServer, ServerConfig};
use oma_im::im::ConnectionId;
use oma_im::sim::{
    Faults, HistoryId, LinkInput, Node, NodeId, NodeOutput, Nodes, Proxy, ServerId, Sim, SimEvent,
    WireRecord,
};

use super::im_history::{HistoryApp, HistoryNode};
use oma_im::transaction::Transport;

pub mod scenario;

/// The SIP/IP Core's address.
pub const CORE: &str = "10.0.0.1:5060";
/// The IM Server's address.
pub const SERVER: &str = "10.0.0.10:5060";
/// The IM Server's domain (IM Session Identities, Conference-factory-URI).
pub const DOMAIN: &str = "im.example.com";
/// The Conference-factory-URI the server hosts.
pub const FACTORY: &str = "sip:conf-factory@im.example.com";
/// The users the core knows, at `example.com`.
pub const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "mallory"];

/// The address of the client of `user` (`alice` is `10.0.0.21`, `bob`
/// `10.0.0.22`, ..., anyone else `10.0.0.99`).
pub fn client_addr(user: &str) -> SocketAddr {
    let n = match user {
        "alice" => 21,
        "bob" => 22,
        "carol" => 23,
        "dave" => 24,
        "erin" => 25,
        _ => 99,
    };
    format!("10.0.0.{n}:5060").parse().unwrap()
}

/// The two Record-Route values a record-routing core adds, top first: as
/// if the request crossed the core, then a second proxy nearer the callee
/// (RFC 3261 §16.6 step 4).
pub const RECORD_ROUTES: [&str; 2] = ["<sip:10.0.0.2;lr>", "<sip:10.0.0.1:5060;lr>"];

/// The SIP/IP Core: each user of [`USERS`] at its [`client_addr`], the
/// server's domain at [`SERVER`].
pub fn core() -> Proxy {
    let mut proxy = Proxy::new().with_domain(DOMAIN, SERVER.parse().unwrap());
    for user in USERS {
        proxy = proxy.with_user(&format!("sip:{user}@example.com"), client_addr(user));
    }
    proxy
}

/// An IMS core: the [`core`] playing the P-CSCF (TS 24.229 §5.2.6.3,
/// RFC 3325): a request's `P-Preferred-Identity` becomes
/// `P-Asserted-Identity`.
pub fn ims_core() -> Proxy {
    core().asserting_identity()
}

/// The [`core`] record-routing like a pair of loose-routing proxies
/// ([`RECORD_ROUTES`]).
pub fn record_routing_core() -> Proxy {
    core().record_routing(&RECORD_ROUTES)
}

/// An SDP answer of `user` at `addr` for its MSRP leg.
pub fn sdp_answer(user: &str, addr: SocketAddr, types: &str, extra: &str) -> String {
    let ip = addr.ip();
    format!(
        "v=0\r\no={user} 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=message 7000 TCP/MSRP *\r\na=accept-types:{types}\r\n\
         a=path:msrp://{ip}:7000/{user}s;tcp\r\n{extra}"
    )
}

/// A scripted IM Client: a [`UserAgent`] that answers each INVITE with the
/// status codes of its script, in order (a 2xx with its SDP answer), and
/// accepts everything else inside a dialog. The test can also open TCP
/// connections from it and write on them (its MSRP, played by hand).
#[derive(Debug)]
pub struct ScriptedUa {
    /// The user agent.
    pub ua: UserAgent,
    /// The status codes it answers each INVITE with, in order.
    pub script: Vec<u16>,
    /// The SDP answer of its 2xx.
    pub sdp_answer: String,
    /// Events it got, in order.
    pub events: Vec<dialog::Event>,
    queue: VecDeque<NodeOutput>,
    now: Option<Instant>,
    links: BTreeMap<ConnectionId, Vec<u8>>,
    next_link: u64,
}

impl ScriptedUa {
    /// A client of `user` that sends its requests to `proxy`.
    pub fn new(user: &str, script: &[u16], proxy: SocketAddr) -> Self {
        let addr = client_addr(user);
        let seed = match addr.ip() {
            std::net::IpAddr::V4(ip) => u64::from(ip.octets()[3]),
            std::net::IpAddr::V6(_) => 0,
        };
        let mut config = Config::new(addr, proxy, Transport::Udp, seed);
        config.contact_user = Some(user.to_owned());
        ScriptedUa {
            ua: UserAgent::new(config),
            script: script.to_vec(),
            sdp_answer: sdp_answer(user, addr, "message/cpim", "a=setup:active\r\n"),
            events: Vec::new(),
            queue: VecDeque::new(),
            now: None,
            links: BTreeMap::new(),
            next_link: 0,
        }
    }

    /// Opens a TCP connection to `to` (an MSRP connection played by hand).
    pub fn connect(&mut self, to: SocketAddr) -> ConnectionId {
        self.next_link += 1;
        let link = ConnectionId(self.next_link);
        self.links.insert(link, Vec::new());
        self.queue.push_back(NodeOutput::Connect { link, to });
        link
    }

    /// Writes `bytes` on connection `link`.
    pub fn write(&mut self, link: ConnectionId, bytes: Vec<u8>) {
        self.queue.push_back(NodeOutput::Write { link, bytes });
    }

    /// What connection `link` brought so far.
    pub fn received(&self, link: ConnectionId) -> &[u8] {
        self.links.get(&link).map_or(&[], Vec::as_slice)
    }

    /// Moves the user agent's outputs out, answering INVITEs by script.
    fn drain(&mut self) {
        while let Some(output) = self.ua.poll_output() {
            match output {
                dialog::Output::Transmit(t) => self.queue.push_back(NodeOutput::Sip(t)),
                dialog::Output::Event(e) => {
                    if let Some(now) = self.now {
                        self.react(&e, now);
                    }
                    self.events.push(e.clone());
                    self.queue.push_back(NodeOutput::Event(SimEvent::Agent(e)));
                }
            }
        }
    }

    fn react(&mut self, e: &dialog::Event, now: Instant) {
        match e {
            dialog::Event::RequestReceived {
                transaction,
                dialog: Some(_),
                ..
            } => {
                // NOTIFY, re-INVITE, UPDATE, ...: accepted.
                let _ = self.ua.respond(*transaction, ResponseSpec::new(200), now);
            }
            dialog::Event::RequestReceived {
                transaction,
                request,
                dialog: None,
            } if request.message().method() == Some("INVITE") => {
                for code in self.script.clone() {
                    let mut spec = ResponseSpec::new(code);
                    if (200..300).contains(&code) {
                        spec = spec
                            .with_header("Session-Expires", "1800;refresher=uas")
                            .with_body("application/sdp", self.sdp_answer.clone().into_bytes());
                    }
                    let _ = self.ua.respond(*transaction, spec, now);
                }
            }
            _ => {}
        }
    }
}

impl Node for ScriptedUa {
    fn handle_sip(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        self.now = Some(now);
        self.ua.handle_input(
            dialog::Input::Datagram {
                bytes,
                source,
                transport,
            },
            now,
        );
        self.drain();
    }

    fn handle_link(&mut self, link: ConnectionId, input: LinkInput<'_>, _: Instant) {
        if let (LinkInput::Bytes(bytes), Some(got)) = (input, self.links.get_mut(&link)) {
            got.extend_from_slice(bytes);
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        self.ua.handle_timeout(now);
        self.drain();
    }

    fn poll_output(&mut self) -> Option<NodeOutput> {
        if self.queue.is_empty() {
            self.drain();
        }
        self.queue.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.ua.poll_timeout()
    }

    fn is_idle(&self) -> bool {
        self.ua.is_idle() && self.queue.is_empty()
    }
}

/// One node of a [`Group`], in a hook.
pub struct NodeMut<'a> {
    nodes: &'a mut Nodes,
    id: NodeId,
}

impl<'a> NodeMut<'a> {
    /// The IM Client; panics on another node.
    pub fn client(self) -> &'a mut ImClient {
        match self.id {
            NodeId::Client(c) => self.nodes.client(c),
            other => panic!("{other:?} is not an IM Client"),
        }
    }

    /// The IM Server; panics on another node.
    pub fn server(self) -> &'a mut ImServer {
        match self.id {
            NodeId::Server(s) => self.nodes.server(s),
            other => panic!("{other:?} is not the IM Server"),
        }
    }

    /// The IM History Function; panics on another node.
    pub fn history(self) -> &'a mut ImHistoryFunction {
        match self.id {
            NodeId::History(h) => self.nodes.history(h),
            other => panic!("{other:?} is not the History Function"),
        }
    }
}

/// The SIP/IP Core (node 0), the IM Server (node 1), then the nodes the
/// test adds — IM Clients (2, 3, ...), History Functions with their
/// application ([`HistoryApp`], run on each of their events), others — on
/// the simulator.
pub struct Group {
    /// The simulator.
    pub sim: Sim,
    /// The IM Server.
    pub server: ServerId,
    nodes: Vec<NodeId>,
    apps: Vec<(HistoryId, HistoryApp)>,
}

impl Group {
    /// `core` at [`CORE`] and an IM Server from `config` at its address,
    /// on a network with `faults` drawing from `seed`.
    pub fn new(faults: Faults, seed: u64, core: Proxy, config: ServerConfig) -> Self {
        let mut sim = Sim::new(seed).with_faults(faults);
        let core = sim.add_proxy("core", CORE.parse().unwrap(), core);
        let server = sim.add_server("server", config);
        Group {
            sim,
            server,
            nodes: vec![core.into(), server.into()],
            apps: Vec::new(),
        }
    }

    /// Adds a History Function from `config` with its application;
    /// returns its index.
    pub fn add_history(&mut self, config: HistoryConfig, app: HistoryApp) -> usize {
        let id = self.sim.add_history("history", config);
        self.apps.push((id, app));
        self.add(id.into())
    }

    /// The History Function of index `i` and its application.
    pub fn history(&mut self, i: usize) -> HistoryNode<'_> {
        let NodeId::History(id) = self.nodes[i] else {
            panic!("node {i} is not a History Function")
        };
        let app = self
            .apps
            .iter_mut()
            .find(|(h, _)| *h == id)
            .map(|(_, a)| a)
            .expect("an application");
        HistoryNode::new(self.sim.history(id), app)
    }

    /// Adds an IM Client named after its user; returns its index.
    pub fn add_client(&mut self, config: ClientConfig) -> usize {
        let name = config
            .im_address
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or("client")
            .to_owned();
        let id = self.sim.add_client(&name, config);
        self.add(id.into())
    }

    /// Names a node added to [`sim`](Self::sim) by index; returns it.
    pub fn add(&mut self, id: NodeId) -> usize {
        self.nodes.push(id);
        self.nodes.len() - 1
    }

    /// The node of index `i`.
    pub fn id(&self, i: usize) -> NodeId {
        self.nodes[i]
    }

    /// The index of node `id`, if the group names it.
    pub fn index(&self, id: NodeId) -> Option<usize> {
        self.nodes.iter().position(|n| *n == id)
    }

    /// The IM Client of index `i`.
    pub fn client(&mut self, i: usize) -> &mut ImClient {
        NodeMut {
            nodes: self.sim.nodes(),
            id: self.nodes[i],
        }
        .client()
    }

    /// The IM Server.
    pub fn server(&mut self) -> &mut ImServer {
        self.sim.server(self.server)
    }

    /// The SIP address of node `i`.
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.sim.sip_addr(self.nodes[i])
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.sim.now()
    }

    /// The wire log.
    pub fn wire(&self) -> &[WireRecord] {
        self.sim.wire()
    }

    /// The events of the IM Client of index `i`, in order.
    pub fn client_events(&self, i: usize) -> Vec<client::Event> {
        self.sim
            .events_of(self.nodes[i])
            .filter_map(|e| match e {
                SimEvent::Client(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// The IM Server's events, in order.
    pub fn server_events(&self) -> Vec<server::Event> {
        self.sim
            .server_events(self.server)
            .into_iter()
            .cloned()
            .collect()
    }

    /// A simulator hook running the History Functions' applications,
    /// then calling `hook` with the index of the node that reported
    /// (`usize::MAX` for a node the group does not name).
    fn hook<'a>(
        ids: &'a [NodeId],
        apps: &'a mut [(HistoryId, HistoryApp)],
        mut hook: impl FnMut(usize, NodeMut<'_>, &SimEvent, Instant) + 'a,
    ) -> impl FnMut(&mut Nodes, NodeId, &SimEvent, Instant) + 'a {
        move |nodes, id, event, now| {
            if let (NodeId::History(h), SimEvent::History(e)) = (id, event) {
                if let Some((_, app)) = apps.iter_mut().find(|(x, _)| *x == h) {
                    app.on_event(nodes.history(h), e, now);
                }
            }
            let i = ids.iter().position(|n| *n == id).unwrap_or(usize::MAX);
            hook(i, NodeMut { nodes, id }, event, now);
        }
    }

    /// Runs until the virtual clock reaches `until`, calling `hook` with
    /// every event.
    pub fn run_until(
        &mut self,
        until: Instant,
        hook: impl FnMut(usize, NodeMut<'_>, &SimEvent, Instant),
    ) {
        let duration = until.saturating_duration_since(self.sim.now());
        let Group {
            sim, nodes, apps, ..
        } = self;
        if let Err(e) = sim.run_for_with(duration, Self::hook(nodes, apps, hook)) {
            panic!("{e}");
        }
    }

    /// Runs until nothing is in flight and no node has a deadline; fails
    /// the test when that takes longer than `bound`.
    pub fn run_until_quiet(
        &mut self,
        bound: Duration,
        hook: impl FnMut(usize, NodeMut<'_>, &SimEvent, Instant),
    ) {
        let Group {
            sim, nodes, apps, ..
        } = self;
        if let Err(e) = sim.run_until_quiet_with(bound, Self::hook(nodes, apps, hook)) {
            panic!("{e}");
        }
    }

    /// Whether every node is idle and nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.sim.is_idle()
    }
}
