//! Peers of the controlling IM Server on the in-memory network: the server
//! itself, scripted IM Clients built on the SIP [`UserAgent`], and a
//! stateless SIP/IP Core that routes between them.
//!
//! * Every peer sends its requests to the [`Core`], which forwards a request
//!   by its Request-URI (a node's address, a user name of the address book,
//!   or anything in the IM Server's domain) and a response to the sent-by
//!   of its top Via. Every message crosses the network as bytes.
//! * A [`Client`] answers each INVITE it receives with the status codes of
//!   its script, in order (a 2xx with its SDP answer); everything it sent or
//!   received stays in the network's wire log.
//! * The server's MSRP outputs are kept in [`Peer::Server`]'s `msrp` list for
//!   the test to play the MSRP side by hand.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use oma_im::dialog::{self, Config, ResponseSpec, UserAgent};
use oma_im::im::client;
use oma_im::im::history;
use oma_im::im::server::{self, ConnectionId, ImServer};
use oma_im::sip::{parse_message, Host, Uri};
use oma_im::transaction::{Transmit, Transport};

pub mod scenario;

use super::{Node, Polled};

/// The SIP/IP Core's address.
pub const CORE: &str = "10.0.0.1:5060";
/// The IM Server's address.
pub const SERVER: &str = "10.0.0.10:5060";
/// The IM Server's domain (IM Session Identities, Conference-factory-URI).
pub const DOMAIN: &str = "im.example.com";
/// The Conference-factory-URI the server hosts.
pub const FACTORY: &str = "sip:conf-factory@im.example.com";

/// The address of the scripted client of `user` (`alice` is `10.0.0.21`,
/// `bob` `10.0.0.22`, ...).
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

/// The two Record-Route values a record-routing [`Core`] adds, top first:
/// as if the request crossed the core, then a second proxy nearer the
/// callee (RFC 3261 §16.6 step 4).
pub const RECORD_ROUTES: [&str; 2] = ["<sip:10.0.0.2;lr>", "<sip:10.0.0.1:5060;lr>"];

/// A stateless SIP/IP Core: requests by Request-URI, responses by Via.
#[derive(Default)]
pub struct Core {
    queue: VecDeque<Transmit>,
    /// Plays the P-CSCF of an IMS core (TS 24.229 §5.2.6.3, RFC 3325): a
    /// request's `P-Preferred-Identity` becomes `P-Asserted-Identity`.
    pub asserts_identity: bool,
    /// Record-routes like a pair of loose-routing proxies: every request
    /// outside a dialog gets the [`RECORD_ROUTES`]; a request inside a
    /// dialog must name both in its Route header fields (either order), which
    /// the core removes (§16.4), or it is dropped, as a real record-routing
    /// proxy drops what bypasses it.
    pub record_route: bool,
    /// The start lines of the requests dropped for lack of the route set.
    pub dropped: Vec<String>,
    /// The branches of the INVITEs it passed outside a dialog.
    invite_branches: std::collections::HashSet<String>,
}

impl Core {
    /// An IMS core: it asserts the identity the clients prefer.
    pub fn ims() -> Self {
        Core {
            asserts_identity: true,
            ..Core::default()
        }
    }

    /// A core that record-routes (see [`Core::record_route`]).
    pub fn record_routing() -> Self {
        Core {
            record_route: true,
            ..Core::default()
        }
    }

    /// Applies the record-routing rules to a request; `None` when it is
    /// dropped.
    fn loose_route(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let msg = parse_message(bytes).ok()?;
        let in_dialog = msg
            .to()
            .and_then(Result::ok)
            .is_some_and(|t| t.tag().is_some());
        let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 2;
        let line_end = bytes.windows(2).position(|w| w == b"\r\n")? + 2;
        let mut out = Vec::with_capacity(bytes.len() + 80);
        out.extend_from_slice(&bytes[..line_end]);
        let branch = msg
            .top_via()
            .and_then(Result::ok)
            .and_then(|v| v.branch().map(str::to_owned))
            .unwrap_or_default();
        // The ACK of a non-2xx response is part of the INVITE's transaction
        // and follows its path (§17.1.1.3): it carries no route set.
        let hop_by_hop_ack = msg.method() == Some("ACK") && self.invite_branches.contains(&branch);
        if !in_dialog && msg.method() == Some("INVITE") {
            self.invite_branches.insert(branch);
        }
        if hop_by_hop_ack {
            return Some(bytes.to_vec());
        }
        if in_dialog {
            let routes: Vec<String> = msg
                .route()
                .filter_map(Result::ok)
                .map(|r| r.to_string())
                .collect();
            let ours = |r: &String| RECORD_ROUTES.iter().any(|rr| rr == r);
            if routes.len() != 2 || !ours(&routes[0]) || !ours(&routes[1]) {
                let line = String::from_utf8_lossy(&bytes[..line_end - 2]).into_owned();
                self.dropped.push(line);
                return None;
            }
            // The remaining header fields without the Route lines (the test
            // messages carry one value per Route line).
            for line in bytes[line_end..head_end].split_inclusive(|&b| b == b'\n') {
                let lower = line.to_ascii_lowercase();
                if !(lower.starts_with(b"route:") || lower.starts_with(b"route :")) {
                    out.extend_from_slice(line);
                }
            }
            out.extend_from_slice(&bytes[head_end..]);
        } else {
            for rr in RECORD_ROUTES {
                out.extend_from_slice(format!("Record-Route: {rr}\r\n").as_bytes());
            }
            out.extend_from_slice(&bytes[line_end..]);
        }
        Some(out)
    }

    /// Renames `P-Preferred-Identity` to `P-Asserted-Identity` in the
    /// header section of a request.
    fn assert_identity(bytes: &mut Vec<u8>) {
        let head = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(bytes.len());
        let needle = b"\r\nP-Preferred-Identity:";
        if let Some(at) = bytes[..head]
            .windows(needle.len())
            .position(|w| w == needle)
        {
            bytes.splice(
                at..at + needle.len(),
                b"\r\nP-Asserted-Identity:".iter().copied(),
            );
        }
    }

    fn route(bytes: &[u8]) -> Option<SocketAddr> {
        let msg = parse_message(bytes).ok()?;
        if msg.is_request() {
            let uri = Uri::parse(msg.request_line()?.uri).ok()?;
            let Uri::Sip(sip) = uri else { return None };
            let host = match sip.host {
                Host::Domain(d) => d.to_owned(),
                other => other.to_string(),
            };
            if host == DOMAIN {
                return SERVER.parse().ok();
            }
            if let Ok(ip) = host.parse::<std::net::IpAddr>() {
                return Some(SocketAddr::new(ip, sip.port.unwrap_or(5060)));
            }
            Some(client_addr(sip.user?))
        } else {
            let via = msg.top_via()?.ok()?;
            let ip: std::net::IpAddr = via.host.to_string().parse().ok()?;
            Some(SocketAddr::new(ip, via.port.unwrap_or(5060)))
        }
    }
}

/// A scripted IM Client: a [`UserAgent`] that answers INVITEs by script.
pub struct Client {
    /// The user agent.
    pub ua: UserAgent,
    /// The status codes it answers each INVITE with, in order.
    pub script: Vec<u16>,
    /// The SDP answer of its 2xx.
    pub sdp_answer: String,
    /// Events it got, in order.
    pub events: Vec<dialog::Event>,
    /// Transmits the script produced, waiting to be polled.
    queue: VecDeque<Polled<dialog::Event>>,
}

impl Client {
    /// A client of `user` behind the core.
    pub fn new(user: &str, script: &[u16]) -> Self {
        Self::with_proxy(user, script, CORE.parse().unwrap())
    }

    /// A client of `user` that sends its requests to `proxy` (the server
    /// itself, to go around the core).
    pub fn with_proxy(user: &str, script: &[u16], proxy: SocketAddr) -> Self {
        let addr = client_addr(user);
        let seed = match addr.ip() {
            std::net::IpAddr::V4(ip) => u64::from(ip.octets()[3]),
            std::net::IpAddr::V6(_) => 0,
        };
        let mut config = Config::new(addr, proxy, Transport::Udp, seed);
        config.contact_user = Some(user.to_owned());
        Client {
            ua: UserAgent::new(config),
            script: script.to_vec(),
            sdp_answer: sdp_answer(user, addr, "message/cpim", "a=setup:active\r\n"),
            events: Vec::new(),
            queue: VecDeque::new(),
        }
    }

    /// Moves the user agent's outputs out, answering INVITEs by script.
    pub fn drain(&mut self, now: Instant) {
        while let Some(output) = self.ua.poll_output() {
            match output {
                dialog::Output::Transmit(t) => self.queue.push_back(Polled::Transmit(t)),
                dialog::Output::Event(e) => {
                    if let dialog::Event::RequestReceived {
                        transaction,
                        dialog: Some(_),
                        ..
                    } = &e
                    {
                        // NOTIFY, re-INVITE, UPDATE, ...: accepted.
                        let _ = self.ua.respond(*transaction, ResponseSpec::new(200), now);
                    }
                    if let dialog::Event::RequestReceived {
                        transaction,
                        request,
                        dialog: None,
                    } = &e
                    {
                        if request.message().method() == Some("INVITE") {
                            for code in self.script.clone() {
                                let mut spec = ResponseSpec::new(code);
                                if (200..300).contains(&code) {
                                    spec = spec
                                        .with_header("Session-Expires", "1800;refresher=uas")
                                        .with_body(
                                            "application/sdp",
                                            self.sdp_answer.clone().into_bytes(),
                                        );
                                }
                                let _ = self.ua.respond(*transaction, spec, now);
                            }
                        }
                    }
                    self.events.push(e.clone());
                    self.queue.push_back(Polled::Event(e));
                }
            }
        }
    }
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

/// The server's MSRP connections on the network.
#[derive(Default)]
pub struct Bridge {
    peers: HashMap<ConnectionId, SocketAddr>,
    by_peer: HashMap<SocketAddr, ConnectionId>,
    queue: VecDeque<Transmit>,
    now: Option<Instant>,
}

/// What a peer reports.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// An event of the IM Server.
    Server(server::Event),
    /// An event of a client's user agent.
    Client(dialog::Event),
    /// An event of a real IM Client.
    Im(client::Event),
    /// An event of the IM History Function.
    History(history::Event),
}

/// A node of the IM Server's network.
pub enum Peer {
    /// The IM Server, with the MSRP outputs it produced.
    Server {
        /// The server.
        server: Box<ImServer>,
        /// Its MSRP outputs, in order (when not bridged).
        msrp: Vec<server::Output>,
        /// When set, MSRP crosses the network as TCP segments to and from
        /// the server's SIP address: connection to peer address and back.
        bridge: Option<Bridge>,
    },
    /// A real IM Client.
    Im(Box<super::im::ImNode>),
    /// The IM History Function with its application.
    History(Box<super::im_history::HistoryNode>),
    /// A scripted client.
    Client(Box<Client>),
    /// The SIP/IP Core.
    Core(Core),
}

impl Peer {
    /// The server peer.
    pub fn server(config: server::ServerConfig) -> Self {
        Peer::Server {
            server: Box::new(ImServer::new(config)),
            msrp: Vec::new(),
            bridge: None,
        }
    }

    /// The server peer with its MSRP on the network (its MSRP authority
    /// must be its SIP address).
    pub fn bridged_server(config: server::ServerConfig) -> Self {
        Peer::Server {
            server: Box::new(ImServer::new(config)),
            msrp: Vec::new(),
            bridge: Some(Bridge::default()),
        }
    }

    /// The server inside, if this is the server.
    pub fn as_server(&mut self) -> &mut ImServer {
        match self {
            Peer::Server { server, .. } => server,
            _ => panic!("not the server"),
        }
    }

    /// The client inside, if this is a client.
    pub fn as_client(&mut self) -> &mut Client {
        match self {
            Peer::Client(c) => c,
            _ => panic!("not a client"),
        }
    }

    /// Reports to the bridged server that the MSRP connection with `peer`
    /// closed (a reset); `false` when there is none.
    pub fn reset_msrp(&mut self, peer: SocketAddr, now: Instant) -> bool {
        let Peer::Server {
            server,
            bridge: Some(bridge),
            ..
        } = self
        else {
            return false;
        };
        let Some(connection) = bridge.by_peer.remove(&peer) else {
            return false;
        };
        bridge.peers.remove(&connection);
        bridge.now = Some(now);
        server.handle_input(server::Input::MsrpClosed { connection }, now);
        true
    }

    /// Takes the server's MSRP outputs.
    pub fn take_msrp(&mut self) -> Vec<server::Output> {
        match self {
            Peer::Server { msrp, .. } => std::mem::take(msrp),
            _ => Vec::new(),
        }
    }
}

impl Node for Peer {
    type Event = PeerEvent;

    fn deliver(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        match self {
            Peer::Server {
                server,
                bridge: Some(bridge),
                ..
            } if bytes.starts_with(b"MSRP ") || bridge.by_peer.contains_key(&source) => {
                let connection = match bridge.by_peer.get(&source) {
                    Some(c) => *c,
                    None => {
                        let c = server.msrp_accepted();
                        bridge.by_peer.insert(source, c);
                        bridge.peers.insert(c, source);
                        c
                    }
                };
                bridge.now = Some(now);
                server.handle_input(server::Input::MsrpBytes { connection, bytes }, now);
            }
            Peer::Server { server, bridge, .. } => {
                if let Some(b) = bridge {
                    b.now = Some(now);
                }
                server.handle_input(
                    server::Input::Sip {
                        bytes,
                        source,
                        transport,
                    },
                    now,
                )
            }
            Peer::Im(node) => node.deliver(bytes, source, transport, now),
            Peer::History(node) => node.deliver(bytes, source, transport, now),
            Peer::Client(c) => {
                c.ua.handle_input(
                    dialog::Input::Datagram {
                        bytes,
                        source,
                        transport,
                    },
                    now,
                );
                c.drain(now);
            }
            Peer::Core(core) => {
                if let Some(destination) = Core::route(bytes) {
                    let mut bytes = bytes.to_vec();
                    if core.asserts_identity && !bytes.starts_with(b"SIP/2.0 ") {
                        Core::assert_identity(&mut bytes);
                    }
                    if core.record_route && !bytes.starts_with(b"SIP/2.0 ") {
                        match core.loose_route(&bytes) {
                            Some(routed) => bytes = routed,
                            None => return,
                        }
                    }
                    core.queue.push_back(Transmit {
                        destination,
                        transport,
                        bytes,
                    });
                }
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Peer::Server { server, bridge, .. } => {
                if let Some(b) = bridge {
                    b.now = Some(now);
                }
                server.handle_timeout(now);
            }
            Peer::Im(node) => node.handle_timeout(now),
            Peer::History(node) => node.handle_timeout(now),
            Peer::Client(c) => {
                c.ua.handle_timeout(now);
                c.drain(now);
            }
            Peer::Core(_) => {}
        }
    }

    fn poll(&mut self) -> Option<Polled<PeerEvent>> {
        match self {
            Peer::Server {
                server,
                bridge: Some(bridge),
                ..
            } => loop {
                if let Some(t) = bridge.queue.pop_front() {
                    return Some(Polled::Transmit(t));
                }
                match server.poll_output()? {
                    server::Output::Transmit(t) => return Some(Polled::Transmit(t)),
                    server::Output::Event(e) => return Some(Polled::Event(PeerEvent::Server(e))),
                    server::Output::MsrpConnect {
                        connection,
                        address,
                    } => {
                        if let (Some(addr), Some(now)) = (address.socket_addr(), bridge.now) {
                            bridge.peers.insert(connection, addr);
                            bridge.by_peer.insert(addr, connection);
                            server.handle_input(server::Input::MsrpConnected { connection }, now);
                        }
                    }
                    server::Output::MsrpTransmit { connection, bytes } => {
                        if let Some(&destination) = bridge.peers.get(&connection) {
                            bridge.queue.push_back(Transmit {
                                destination,
                                transport: Transport::Tcp,
                                bytes,
                            });
                        }
                    }
                    server::Output::MsrpClose { connection } => {
                        if let Some(addr) = bridge.peers.remove(&connection) {
                            bridge.by_peer.remove(&addr);
                        }
                    }
                }
            },
            Peer::Im(node) => node.poll().map(|p| match p {
                Polled::Transmit(t) => Polled::Transmit(t),
                Polled::Event(e) => Polled::Event(PeerEvent::Im(e)),
            }),
            Peer::History(node) => loop {
                match node.poll()? {
                    Polled::Transmit(t) => return Some(Polled::Transmit(t)),
                    Polled::Event(super::im_history::PeerEvent::History(e)) => {
                        return Some(Polled::Event(PeerEvent::History(e)))
                    }
                    Polled::Event(_) => {}
                }
            },
            Peer::Server { server, msrp, .. } => loop {
                match server.poll_output()? {
                    server::Output::Transmit(t) => return Some(Polled::Transmit(t)),
                    server::Output::Event(e) => return Some(Polled::Event(PeerEvent::Server(e))),
                    other => msrp.push(other),
                }
            },
            Peer::Client(c) => {
                while let Some(output) = c.ua.poll_output() {
                    c.queue.push_back(match output {
                        dialog::Output::Transmit(t) => Polled::Transmit(t),
                        dialog::Output::Event(e) => Polled::Event(e),
                    });
                }
                c.queue.pop_front().map(|p| match p {
                    Polled::Transmit(t) => Polled::Transmit(t),
                    Polled::Event(e) => Polled::Event(PeerEvent::Client(e)),
                })
            }
            Peer::Core(core) => core.queue.pop_front().map(Polled::Transmit),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Peer::Server { server, .. } => server.poll_timeout(),
            Peer::Im(node) => node.poll_timeout(),
            Peer::History(node) => node.poll_timeout(),
            Peer::Client(c) => c.ua.poll_timeout(),
            Peer::Core(_) => None,
        }
    }

    fn is_idle(&self) -> bool {
        match self {
            Peer::Server { server, msrp, .. } => server.is_idle() && msrp.is_empty(),
            Peer::Im(node) => node.is_idle(),
            Peer::History(node) => node.is_idle(),
            Peer::Client(c) => c.ua.is_idle() && c.queue.is_empty(),
            Peer::Core(core) => core.queue.is_empty(),
        }
    }
}
