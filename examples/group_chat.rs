//! An ad-hoc IM group chat (OMA SIMPLE IM 7.1.1.3, 7.2.1.x) entirely in
//! memory, with the real roles: three [`ImClient`]s (alice, bob, carol) and
//! one controlling [`ImServer`].
//!
//! Alice creates the conference with bob and carol through the
//! Conference-factory-URI; each sends a message, which the server's MSRP
//! switch relays to the two others; bob leaves; alice leaves, and the
//! server, left with carol alone, releases her too (7.2.1.9, local policy
//! `release_alone`), ending the session.
//!
//! The demo carries its own small network:
//!
//! * every node has a `SocketAddr`; every SIP `Transmit` is moved **as
//!   bytes** to the node owning its destination and handed in as a datagram.
//!   Requests go to a stateless SIP/IP Core that forwards them by
//!   Request-URI (the IM Server's domain, an IP address, or a user of the
//!   address book), and responses by their top `Via`;
//! * every MSRP connection is a pair of byte pipes between a client's IM
//!   session and the server's leg;
//! * every hop takes [`LATENCY`]; opening a TCP connection takes a round
//!   trip before the client may write on it;
//! * the clock is virtual: when nothing moves, it jumps to the next arrival
//!   or the earliest `poll_timeout` of all nodes; the number of steps is
//!   bounded, so the run can never hang.
//!
//! It prints a ladder of every SIP (`--->`) and MSRP (`===>`) message that
//! crossed, and each side's events (`*`). Run it with
//! `cargo run --example group_chat`; it exits 0 when the whole scenario
//! happened, 1 with the reason otherwise.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::body::cpim::CpimMessage;
use oma_im::im::client::{self, ClientConfig, ImClient, ImSessionId};
use oma_im::im::server::{self, ConnectionId, ImServer, ServerConfig};
use oma_im::msrp::{parse_message_prefix, Limits as MsrpLimits, StartLine};
use oma_im::rng::Seed;
use oma_im::sip::{parse_message, HeaderName, Host, SipMessage, Uri};
use oma_im::transaction::{Transmit, Transport};

/// The domain of the IM Server: IM Session Identities and the factory.
pub const DOMAIN: &str = "im.example.com";
/// The Conference-factory-URI the server hosts.
pub const FACTORY: &str = "sip:conf-factory@im.example.com";
/// The SIP/IP Core (every node's outbound proxy).
const CORE: &str = "10.0.0.1:5060";
/// The IM Server's SIP address.
const SERVER: &str = "10.0.0.10:5060";
/// The IM Server's MSRP address.
const SERVER_MSRP: &str = "10.0.0.10:2855";
/// The users and their SIP addresses (the MSRP one is the same host, port
/// 2855).
pub const USERS: [(&str, &str); 3] = [
    ("alice", "10.0.0.21:5060"),
    ("bob", "10.0.0.22:5060"),
    ("carol", "10.0.0.23:5060"),
];
/// The one-way delay of every hop (SIP datagram, TCP segment).
pub const LATENCY: Duration = Duration::from_millis(10);
/// Most deliveries the whole run may take.
const MAX_STEPS: u64 = 100_000;
/// How long the network runs after each user action.
const SETTLE: Duration = Duration::from_secs(1);
/// How long the network may take to go idle once the chat is over (the
/// SIP transactions' wait timers, 32 s at most over UDP).
const IDLE_BOUND: Duration = Duration::from_secs(120);

/// The IM Address of `user`.
pub fn im_address(user: &str) -> String {
    format!("sip:{user}@example.com")
}

/// Why the scenario did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoError(pub String);

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DemoError {}

/// 256 bits from the operating system's entropy (`/dev/urandom`): every
/// tag, Call-ID, IM Session Identity and MSRP session-id an attacker must
/// not guess comes from it (see `oma_im::rng`).
pub fn os_seed() -> Result<Seed, DemoError> {
    use std::io::Read as _;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| DemoError(format!("no entropy for the seed: {e}")))?;
    Ok(Seed::new(bytes))
}

impl From<client::ClientError> for DemoError {
    fn from(e: client::ClientError) -> Self {
        DemoError(format!("IM Client refused a command: {e}"))
    }
}

/// One message that crossed the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossed {
    /// Who sent it (`alice`, `server`, ...).
    pub from: &'static str,
    /// Who received it.
    pub to: &'static str,
    /// `true` for MSRP, `false` for SIP.
    pub msrp: bool,
    /// What it was: `INVITE sip:...`, `200 OK (INVITE)`, `SEND`, ...
    pub what: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What the scenario saw, in order.
#[derive(Debug, Default)]
pub struct Report {
    /// Every SIP and MSRP message that crossed.
    pub crossed: Vec<Crossed>,
    /// Every event of a client, with its user.
    pub client_events: Vec<(&'static str, client::Event)>,
    /// Every event of the server.
    pub server_events: Vec<server::Event>,
    /// The ladder, line by line, as printed.
    pub ladder: Vec<String>,
    /// Whether every node was idle at the end.
    pub idle: bool,
}

impl Report {
    /// The text of the messages `user` received: `(sender, text)`.
    pub fn received(&self, user: &str) -> Vec<(String, String)> {
        self.client_events
            .iter()
            .filter(|(u, _)| *u == user)
            .filter_map(|(_, e)| match e {
                client::Event::MessageReceived { from, body, .. } => Some((
                    from.clone().unwrap_or_default(),
                    String::from_utf8_lossy(body).into_owned(),
                )),
                _ => None,
            })
            .collect()
    }

    /// The events of `user`'s client.
    pub fn events_of(&self, user: &str) -> Vec<&client::Event> {
        self.client_events
            .iter()
            .filter(|(u, _)| *u == user)
            .map(|(_, e)| e)
            .collect()
    }

    /// The SIP messages from `from` to `to` whose description starts with
    /// `what`.
    pub fn sip(&self, from: &str, to: &str, what: &str) -> Vec<&Crossed> {
        self.crossed
            .iter()
            .filter(|c| !c.msrp && c.from == from && c.to == to && c.what.starts_with(what))
            .collect()
    }

    /// The MSRP messages from `from` to `to` whose description starts with
    /// `what`.
    pub fn msrp(&self, from: &str, to: &str, what: &str) -> Vec<&Crossed> {
        self.crossed
            .iter()
            .filter(|c| c.msrp && c.from == from && c.to == to && c.what.starts_with(what))
            .collect()
    }
}

/// Runs the whole group chat with [`LATENCY`] on every hop; prints the
/// ladder as it goes when `echo`. Fails when a step of the scenario did not
/// happen.
pub fn run_scenario(echo: bool) -> Result<Report, DemoError> {
    run_scenario_with(LATENCY, echo)
}

/// [`run_scenario`] with `latency` on every hop.
pub fn run_scenario_with(latency: Duration, echo: bool) -> Result<Report, DemoError> {
    let mut net = Net::new(latency, echo)?;
    let invitees: Vec<String> = USERS[1..].iter().map(|(u, _)| im_address(u)).collect();
    let invitees: Vec<&str> = invitees.iter().map(String::as_str).collect();

    net.section("alice creates an Ad-hoc IM Group Session with bob and carol");
    let now = net.now;
    let session = net.client("alice").start_ad_hoc(&invitees, now)?;
    net.sessions.insert("alice", session);
    net.run(SETTLE)?;
    for (user, _) in USERS {
        let established = net.session(user).is_ok_and(|s| {
            net.client_ref(user)
                .is_some_and(|client| client.is_established(s))
        });
        if !established {
            return Err(DemoError(format!(
                "{user}'s IM session was not established"
            )));
        }
    }

    net.section("alice subscribes to the conference state");
    let session = net.session("alice")?;
    let now = net.now;
    net.client("alice").subscribe_conference(session, now)?;
    net.run(SETTLE)?;

    net.section("each participant sends a message");
    for (user, _) in USERS {
        let session = net.session(user)?;
        let now = net.now;
        let text = format!("hello from {user}");
        net.client(user)
            .send_message(session, "text/plain", text.as_bytes(), false, now)?;
        net.run(SETTLE)?;
    }
    for (user, _) in USERS {
        let got = net.report.received(user);
        for (other, _) in USERS.iter().filter(|(o, _)| *o != user) {
            let expected = (im_address(other), format!("hello from {other}"));
            if !got.contains(&expected) {
                return Err(DemoError(format!(
                    "{user} did not receive {other}'s message (received {got:?})"
                )));
            }
        }
    }

    net.section("carol types; alice asks for notifications; bob reads it");
    let (alice, carol) = (net.session("alice")?, net.session("carol")?);
    let now = net.now;
    net.client("carol").set_composing(carol, true, now)?;
    let request = client::DispositionRequest::ALL;
    let date = "2026-12-07T10:00:00Z";
    let sent = net.client("alice").send_message_with_imdn(
        alice,
        "text/plain",
        b"read me",
        request,
        date,
        now,
    )?;
    net.run(SETTLE)?;
    let now = net.now;
    net.client("bob")
        .send_display_notification(&sent.imdn_message_id, now)?;
    net.run(SETTLE)?;

    net.section("bob leaves");
    let session = net.session("bob")?;
    let now = net.now;
    net.client("bob").leave(session, now)?;
    net.run(SETTLE)?;

    net.section("alice leaves: carol is alone, the server releases her");
    let session = net.session("alice")?;
    let now = net.now;
    net.client("alice").leave(session, now)?;
    net.run_until_idle()?;

    let ended = |user: &str| {
        net.report.events_of(user).iter().any(|e| {
            matches!(e, client::Event::SessionEnded { session, .. } if net.sessions.get(user) == Some(session))
        })
    };
    for (user, _) in USERS {
        if !ended(user) {
            return Err(DemoError(format!("{user}'s IM session did not end")));
        }
    }
    if !net
        .report
        .server_events
        .iter()
        .any(|e| matches!(e, server::Event::SessionEnded { .. }))
    {
        return Err(DemoError("the server's IM Session did not end".into()));
    }
    net.report.idle = true;
    Ok(net.report)
}

fn main() -> std::process::ExitCode {
    match run_scenario(true) {
        Ok(report) => {
            let _ = writeln!(
                std::io::stdout(),
                "\nDone: {} SIP and {} MSRP messages crossed; every node is idle.",
                report.crossed.iter().filter(|c| !c.msrp).count(),
                report.crossed.iter().filter(|c| c.msrp).count(),
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nThe group chat did not complete: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

// ----- the network -----

/// A role on the network.
enum Role {
    Client(Box<ImClient>),
    Server(Box<ImServer>),
    /// The stateless SIP/IP Core.
    Core,
}

struct Node {
    name: &'static str,
    addr: SocketAddr,
    role: Role,
}

/// One MSRP connection: a client's IM session and the server's leg.
struct Pipe {
    client: usize,
    session: ImSessionId,
    server: usize,
    connection: ConnectionId,
    open: bool,
}

/// Something on its way.
enum Segment {
    /// The TCP handshake of a pipe is done: its client may write.
    Connected { pipe: usize },
    /// A SIP datagram; `origin` is the node that wrote it (the core
    /// forwards without changing it).
    Sip {
        origin: usize,
        from: SocketAddr,
        to: SocketAddr,
        bytes: Vec<u8>,
    },
    /// MSRP bytes on a pipe, towards the server or the client.
    Msrp {
        pipe: usize,
        to_server: bool,
        bytes: Vec<u8>,
    },
    /// One end closed the pipe; the other learns it.
    Closed { pipe: usize, to_server: bool },
}

struct Net {
    nodes: Vec<Node>,
    pipes: Vec<Pipe>,
    /// What is on its way, by arrival time (then order of sending).
    wire: BTreeMap<(Instant, u64), Segment>,
    seq: u64,
    latency: Duration,
    start: Instant,
    now: Instant,
    steps: u64,
    echo: bool,
    /// Each user's IM session in the chat.
    sessions: HashMap<&'static str, ImSessionId>,
    report: Report,
}

impl Net {
    fn new(latency: Duration, echo: bool) -> Result<Self, DemoError> {
        let core: SocketAddr = CORE.parse().expect("an address");
        let server_addr: SocketAddr = SERVER.parse().expect("an address");
        let mut nodes = vec![Node {
            name: "core",
            addr: core,
            role: Role::Core,
        }];
        for (user, addr) in USERS {
            let addr: SocketAddr = addr.parse().expect("an address");
            let mut config = ClientConfig::new(&im_address(user), FACTORY, addr, core);
            config.product = "oma-im-demo/0.1".into();
            config.seed = os_seed()?;
            nodes.push(Node {
                name: user,
                addr,
                role: Role::Client(Box::new(ImClient::new(config))),
            });
        }
        let mut config = ServerConfig::new(server_addr, core, DOMAIN);
        config.conference_factory_uris.push(FACTORY.into());
        config.msrp_authority = SERVER_MSRP.into();
        config.product = "oma-im-demo/0.1".into();
        config.release_alone = true;
        config.seed = os_seed()?;
        nodes.push(Node {
            name: "server",
            addr: server_addr,
            role: Role::Server(Box::new(ImServer::new(config))),
        });
        let start = Instant::now();
        let mut net = Net {
            nodes,
            pipes: Vec::new(),
            wire: BTreeMap::new(),
            seq: 0,
            latency,
            start,
            now: start,
            steps: 0,
            echo,
            sessions: HashMap::new(),
            report: Report::default(),
        };
        net.print(
            "---> SIP (each one crosses the SIP/IP Core)   ===> MSRP   * an event".to_owned(),
        );
        net.print(String::new());
        net.print(format!("{:8}{}", "", lane_names()));
        Ok(net)
    }

    fn client(&mut self, user: &str) -> &mut ImClient {
        self.nodes
            .iter_mut()
            .find_map(|n| match &mut n.role {
                Role::Client(c) if n.name == user => Some(&mut **c),
                _ => None,
            })
            .expect("a user of USERS")
    }

    fn client_ref(&self, user: &str) -> Option<&ImClient> {
        self.nodes.iter().find_map(|n| match &n.role {
            Role::Client(c) if n.name == user => Some(&**c),
            _ => None,
        })
    }

    fn session(&self, user: &str) -> Result<ImSessionId, DemoError> {
        self.sessions
            .get(user)
            .copied()
            .ok_or_else(|| DemoError(format!("{user} has no IM session")))
    }

    fn print(&mut self, line: String) {
        if self.echo {
            // A closed stdout (`| head`) is no reason to stop the chat.
            let _ = writeln!(std::io::stdout(), "{line}");
        }
        self.report.ladder.push(line);
    }

    fn section(&mut self, title: &str) {
        self.print(String::new());
        self.print(format!("== {title} =="));
    }

    fn stamp(&self) -> String {
        format!("{:>7.3} ", (self.now - self.start).as_secs_f64())
    }

    /// Moves everything and lets the deadlines up to `horizon` from now
    /// fire; the clock then stands at the end of the horizon.
    fn run(&mut self, horizon: Duration) -> Result<(), DemoError> {
        let until = self.now + horizon;
        loop {
            self.settle()?;
            match self.next_time() {
                Some(at) if at <= until => self.advance(at),
                _ => break,
            }
        }
        self.now = self.now.max(until);
        Ok(())
    }

    /// Runs until every node keeps no state, within [`IDLE_BOUND`].
    fn run_until_idle(&mut self) -> Result<(), DemoError> {
        let limit = self.now + IDLE_BOUND;
        loop {
            self.settle()?;
            match self.next_time() {
                None => break,
                Some(at) if at <= limit => self.advance(at),
                Some(at) => {
                    return Err(DemoError(format!(
                        "the network is not idle {IDLE_BOUND:?} after the chat: a deadline at {:?}",
                        at - self.start
                    )))
                }
            }
        }
        let busy: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| match &n.role {
                Role::Client(c) => !c.is_idle(),
                Role::Server(s) => !s.is_idle(),
                Role::Core => false,
            })
            .map(|n| n.name)
            .collect();
        if busy.is_empty() {
            Ok(())
        } else {
            Err(DemoError(format!("not idle at the end: {busy:?}")))
        }
    }

    /// The next arrival or deadline of any node.
    fn next_time(&self) -> Option<Instant> {
        let arrival = self.wire.keys().next().map(|(at, _)| *at);
        self.nodes
            .iter()
            .filter_map(|n| match &n.role {
                Role::Client(c) => c.poll_timeout(),
                Role::Server(s) => s.poll_timeout(),
                Role::Core => None,
            })
            .chain(arrival)
            .min()
    }

    /// Moves the clock to `at` and wakes the nodes whose deadline is due.
    fn advance(&mut self, at: Instant) {
        self.now = self.now.max(at);
        let now = self.now;
        for node in &mut self.nodes {
            match &mut node.role {
                Role::Client(c) if c.poll_timeout().is_some_and(|t| t <= now) => {
                    c.handle_timeout(now)
                }
                Role::Server(s) if s.poll_timeout().is_some_and(|t| t <= now) => {
                    s.handle_timeout(now)
                }
                _ => {}
            }
        }
    }

    /// Puts `segment` on its way: it arrives one hop from now.
    fn put(&mut self, segment: Segment) {
        self.put_after(self.latency, segment);
    }

    fn put_after(&mut self, delay: Duration, segment: Segment) {
        self.seq += 1;
        self.wire.insert((self.now + delay, self.seq), segment);
    }

    /// Drains every node and delivers everything due now, until nothing
    /// moves.
    fn settle(&mut self) -> Result<(), DemoError> {
        loop {
            for i in 0..self.nodes.len() {
                self.drain(i)?;
            }
            let due = self
                .wire
                .first_key_value()
                .is_some_and(|((at, _), _)| *at <= self.now);
            let Some((_, segment)) = due.then(|| self.wire.pop_first()).flatten() else {
                return Ok(());
            };
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(DemoError(format!(
                    "more than {MAX_STEPS} deliveries: the network does not settle"
                )));
            }
            self.deliver(segment)?;
        }
    }

    /// Moves node `i`'s outputs onto the network and reacts to its events.
    fn drain(&mut self, i: usize) -> Result<(), DemoError> {
        loop {
            let now = self.now;
            let (name, addr) = (self.nodes[i].name, self.nodes[i].addr);
            match &mut self.nodes[i].role {
                Role::Core => return Ok(()),
                Role::Client(c) => {
                    let Some(output) = c.poll_output() else {
                        return Ok(());
                    };
                    match output {
                        client::Output::Transmit(t) => self.send(i, addr, t),
                        client::Output::MsrpConnect {
                            session,
                            destination,
                        } => {
                            let target = format!(
                                "{}:{}",
                                destination.host,
                                destination.port.unwrap_or(2855)
                            );
                            self.connect(i, session, &target)?;
                        }
                        client::Output::MsrpTransmit { session, data } => {
                            let pipe = self
                                .pipes
                                .iter()
                                .position(|p| p.client == i && p.session == session && p.open)
                                .ok_or_else(|| {
                                    DemoError(format!("{name} wrote MSRP with no connection"))
                                })?;
                            self.put(Segment::Msrp {
                                pipe,
                                to_server: true,
                                bytes: data,
                            });
                        }
                        client::Output::MsrpClose { session } => {
                            if let Some(pipe) = self
                                .pipes
                                .iter()
                                .position(|p| p.client == i && p.session == session && p.open)
                            {
                                self.close(pipe, true);
                            }
                        }
                        client::Output::Event(e) => self.client_event(i, e, now)?,
                    }
                }
                Role::Server(s) => {
                    let Some(output) = s.poll_output() else {
                        return Ok(());
                    };
                    match output {
                        server::Output::Transmit(t) => self.send(i, addr, t),
                        server::Output::MsrpConnect { address, .. } => {
                            return Err(DemoError(format!(
                                "the server asked to open an MSRP connection to {address}: \
                                 in this demo the clients are the active ends"
                            )));
                        }
                        server::Output::MsrpTransmit { connection, bytes } => {
                            let pipe = self
                                .pipes
                                .iter()
                                .position(|p| p.connection == connection && p.open)
                                .ok_or_else(|| {
                                    DemoError("the server wrote MSRP with no connection".into())
                                })?;
                            self.put(Segment::Msrp {
                                pipe,
                                to_server: false,
                                bytes,
                            });
                        }
                        server::Output::MsrpClose { connection } => {
                            if let Some(pipe) = self
                                .pipes
                                .iter()
                                .position(|p| p.connection == connection && p.open)
                            {
                                self.close(pipe, false);
                            }
                        }
                        server::Output::Event(e) => self.server_event(i, e, now),
                    }
                }
            }
        }
    }

    fn send(&mut self, origin: usize, from: SocketAddr, t: Transmit) {
        self.put(Segment::Sip {
            origin,
            from,
            to: t.destination,
            bytes: t.bytes,
        });
    }

    /// A client opens its session's MSRP connection to `target`: the server
    /// owning that MSRP address accepts it.
    fn connect(
        &mut self,
        client: usize,
        session: ImSessionId,
        target: &str,
    ) -> Result<(), DemoError> {
        let found = self.nodes.iter().position(
            |n| matches!(&n.role, Role::Server(s) if s.config().msrp_authority == target),
        );
        let (server, connection) = match found.map(|j| (j, &mut self.nodes[j].role)) {
            Some((j, Role::Server(s))) => (j, s.msrp_accepted()),
            _ => {
                return Err(DemoError(format!(
                    "{} connects MSRP to {target}, where nobody listens",
                    self.nodes[client].name
                )))
            }
        };
        self.pipes.push(Pipe {
            client,
            session,
            server,
            connection,
            open: true,
        });
        let line = format!(
            "{}{}  TCP connect to {target} (MSRP)",
            self.stamp(),
            arrow(self.nodes[client].name, "server", '=')
        );
        self.print(line);
        let pipe = self.pipes.len() - 1;
        self.put_after(self.latency * 2, Segment::Connected { pipe });
        Ok(())
    }

    fn close(&mut self, pipe: usize, by_client: bool) {
        let p = &mut self.pipes[pipe];
        p.open = false;
        let (from, to) = if by_client {
            (self.nodes[p.client].name, "server")
        } else {
            ("server", self.nodes[p.client].name)
        };
        self.put(Segment::Closed {
            pipe,
            to_server: by_client,
        });
        let line = format!("{}{}  TCP close (MSRP)", self.stamp(), arrow(from, to, '='));
        self.print(line);
    }

    fn deliver(&mut self, segment: Segment) -> Result<(), DemoError> {
        let now = self.now;
        match segment {
            Segment::Sip {
                origin,
                from,
                to,
                bytes,
            } => {
                let j = self
                    .nodes
                    .iter()
                    .position(|n| n.addr == to)
                    .ok_or_else(|| DemoError(format!("SIP to {to}, where nobody is")))?;
                if matches!(self.nodes[j].role, Role::Core) {
                    let next = route(&bytes).ok_or_else(|| {
                        DemoError(format!(
                            "the SIP/IP Core cannot route: {}",
                            start_line(&bytes)
                        ))
                    })?;
                    self.put(Segment::Sip {
                        origin,
                        from: to,
                        to: next,
                        bytes,
                    });
                    return Ok(());
                }
                self.ladder_sip(origin, j, &bytes);
                let input = (bytes.as_slice(), from, Transport::Udp);
                match &mut self.nodes[j].role {
                    Role::Client(c) => c.handle_input(
                        client::Input::Sip {
                            bytes: input.0,
                            source: input.1,
                            transport: input.2,
                        },
                        now,
                    ),
                    Role::Server(s) => s.handle_input(
                        server::Input::Sip {
                            bytes: input.0,
                            source: input.1,
                            transport: input.2,
                        },
                        now,
                    ),
                    Role::Core => {}
                }
            }
            Segment::Msrp {
                pipe,
                to_server,
                bytes,
            } => {
                let p = &self.pipes[pipe];
                let (client, server, session, connection) =
                    (p.client, p.server, p.session, p.connection);
                let (from, to) = if to_server {
                    (client, server)
                } else {
                    (server, client)
                };
                self.ladder_msrp(from, to, &bytes);
                match &mut self.nodes[to].role {
                    Role::Client(c) => c.handle_input(
                        client::Input::MsrpBytes {
                            session,
                            bytes: &bytes,
                        },
                        now,
                    ),
                    Role::Server(s) => s.handle_input(
                        server::Input::MsrpBytes {
                            connection,
                            bytes: &bytes,
                        },
                        now,
                    ),
                    Role::Core => {}
                }
            }
            Segment::Connected { pipe } => {
                let p = &self.pipes[pipe];
                let (client, session) = (p.client, p.session);
                if let (true, Role::Client(c)) = (p.open, &mut self.nodes[client].role) {
                    c.handle_input(client::Input::MsrpConnected { session }, now);
                }
            }
            Segment::Closed { pipe, to_server } => {
                let p = &self.pipes[pipe];
                let (session, connection) = (p.session, p.connection);
                let to = if to_server { p.server } else { p.client };
                match &mut self.nodes[to].role {
                    Role::Client(c) => c.handle_input(client::Input::MsrpClosed { session }, now),
                    Role::Server(s) => {
                        s.handle_input(server::Input::MsrpClosed { connection }, now)
                    }
                    Role::Core => {}
                }
            }
        }
        Ok(())
    }

    /// A client's event: recorded, printed, and answered where the user
    /// decides (every invitation is accepted).
    fn client_event(
        &mut self,
        i: usize,
        event: client::Event,
        now: Instant,
    ) -> Result<(), DemoError> {
        let name = self.nodes[i].name;
        let line = format!(
            "{}{}  {name}: {}",
            self.stamp(),
            mark(name),
            describe_client(&event)
        );
        self.print(line);
        if let client::Event::InvitationReceived { session, .. } = &event {
            self.sessions.insert(name, *session);
            if let Role::Client(c) = &mut self.nodes[i].role {
                c.accept(*session, now)?;
            }
        }
        self.report.client_events.push((name, event));
        Ok(())
    }

    /// A server event: recorded, printed, and answered where the
    /// application decides (every originator is authorized).
    fn server_event(&mut self, i: usize, event: server::Event, now: Instant) {
        let line = format!(
            "{}{}  server: {}",
            self.stamp(),
            mark("server"),
            describe_server(&event)
        );
        self.print(line);
        if let server::Event::AuthorizationRequested { request, .. } = &event {
            if let Role::Server(s) = &mut self.nodes[i].role {
                s.handle_input(
                    server::Input::Authorization {
                        request: *request,
                        allowed: true,
                    },
                    now,
                );
            }
        }
        self.report.server_events.push(event);
    }

    fn ladder_sip(&mut self, from: usize, to: usize, bytes: &[u8]) {
        let (from, to) = (self.nodes[from].name, self.nodes[to].name);
        let mut lines = Vec::new();
        let what = match parse_message(bytes) {
            Ok(msg) => {
                let invite = msg.cseq().and_then(Result::ok).is_some_and(|c| {
                    c.method.as_str() == "INVITE" && msg.status_code().is_none_or(|s| s >= 180)
                });
                for name in KEY_HEADERS {
                    // The Contact tells who is the focus: shown on INVITE
                    // and its 180 and 200.
                    if name == "Contact" && !invite {
                        continue;
                    }
                    if let Some(h) = msg.header(HeaderName::parse(name)) {
                        lines.push(format!(
                            "{:8}{}      {name}: {}",
                            "",
                            lanes(),
                            shorten(h.value)
                        ));
                    }
                }
                describe_sip(&msg)
            }
            Err(e) => format!("unparsable SIP ({e})"),
        };
        let line = format!("{}{}  {what}", self.stamp(), arrow(from, to, '-'));
        self.print(line);
        for line in lines {
            self.print(line);
        }
        self.report.crossed.push(Crossed {
            from,
            to,
            msrp: false,
            what,
            bytes: bytes.to_vec(),
        });
    }

    fn ladder_msrp(&mut self, from: usize, to: usize, bytes: &[u8]) {
        let (from, to) = (self.nodes[from].name, self.nodes[to].name);
        let limits = MsrpLimits::default();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (what, used) = match parse_message_prefix(rest, &limits) {
                Ok((msg, used)) => (describe_msrp(&msg), used),
                Err(e) => (format!("unparsable MSRP ({e})"), rest.len()),
            };
            let line = format!("{}{}  {what}", self.stamp(), arrow(from, to, '='));
            self.print(line);
            self.report.crossed.push(Crossed {
                from,
                to,
                msrp: true,
                what,
                bytes: rest.get(..used).unwrap_or(rest).to_vec(),
            });
            rest = rest.get(used..).unwrap_or_default();
        }
    }
}

/// Where the stateless SIP/IP Core sends a message: a request by its
/// Request-URI (the server's domain, an IP address, a user of the address
/// book), a response to the sent-by of its top Via.
fn route(bytes: &[u8]) -> Option<SocketAddr> {
    let msg = parse_message(bytes).ok()?;
    if let Some(line) = msg.request_line() {
        let Uri::Sip(uri) = Uri::parse(line.uri).ok()? else {
            return None;
        };
        let port = uri.port.unwrap_or(5060);
        return match uri.host {
            Host::Domain(d) if d == DOMAIN => SERVER.parse().ok(),
            Host::Domain(_) => {
                let user = uri.user?;
                let (_, addr) = USERS.iter().find(|(u, _)| *u == user)?;
                addr.parse().ok()
            }
            other => Some(SocketAddr::new(other.to_string().parse().ok()?, port)),
        };
    }
    let via = msg.top_via()?.ok()?;
    let ip = via.host.to_string().parse().ok()?;
    Some(SocketAddr::new(ip, via.port.unwrap_or(5060)))
}

// ----- the ladder -----

/// The columns of the ladder.
const LANES: [&str; 4] = ["alice", "server", "bob", "carol"];
/// Width of a column.
const LANE_WIDTH: usize = 14;
/// The headers shown under a SIP message.
const KEY_HEADERS: [&str; 6] = [
    "Contact",
    "Referred-By",
    "Session-Expires",
    "Event",
    "Subscription-State",
    "Content-Type",
];

fn lane_of(name: &str) -> usize {
    LANES.iter().position(|l| *l == name).unwrap_or(0) * LANE_WIDTH + LANE_WIDTH / 2
}

fn lane_names() -> String {
    let mut row = String::new();
    for name in LANES {
        row.push_str(&format!("{name:^LANE_WIDTH$}"));
    }
    row
}

fn empty_row() -> Vec<char> {
    let mut row = vec![' '; LANES.len() * LANE_WIDTH];
    for name in LANES {
        row[lane_of(name)] = '|';
    }
    row
}

fn lanes() -> String {
    empty_row().into_iter().collect()
}

/// `|----->|` from one lane to another, `-` for SIP and `=` for MSRP.
fn arrow(from: &str, to: &str, fill: char) -> String {
    let mut row = empty_row();
    let (a, b) = (lane_of(from), lane_of(to));
    if a < b {
        row[a + 1..b].fill(fill);
        row[b - 1] = '>';
    } else if b < a {
        row[b + 1..a].fill(fill);
        row[b + 1] = '<';
    }
    row.into_iter().collect()
}

/// `*` on a node's lane.
fn mark(name: &str) -> String {
    let mut row = empty_row();
    row[lane_of(name)] = '*';
    row.into_iter().collect()
}

fn shorten(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", &value[..at]),
        None => value.to_owned(),
    }
}

fn start_line(bytes: &[u8]) -> String {
    let line = bytes.split(|&b| b == b'\r').next().unwrap_or_default();
    String::from_utf8_lossy(line).into_owned()
}

/// `INVITE sip:...` for a request, `200 OK (INVITE)` for a response.
fn describe_sip(msg: &SipMessage<'_>) -> String {
    if let Some(line) = msg.request_line() {
        return format!("{} {}", msg.method().unwrap_or("?"), line.uri);
    }
    let method = msg
        .cseq()
        .and_then(Result::ok)
        .map(|c| c.method.as_str().to_owned())
        .unwrap_or_default();
    match msg.status_line() {
        Some(s) => format!("{} {} ({method})", s.code, s.reason),
        None => "?".to_owned(),
    }
}

/// `SEND message/cpim From <...>: "text"` for a SEND, `200 OK` for a
/// response.
fn describe_msrp(msg: &oma_im::msrp::MsrpMessage<'_>) -> String {
    match &msg.head.start {
        StartLine::Request(method) => {
            let method = method.as_str();
            let body = msg.body.unwrap_or_default();
            match msg.head.content_type {
                Some(ct) if ct.eq_ignore_ascii_case("message/cpim") => {
                    match CpimMessage::parse(body) {
                        Ok(cpim) => format!(
                            "{method} message/cpim From {}: {:?}",
                            cpim.from.as_ref().map_or("?", |f| &*f.uri),
                            String::from_utf8_lossy(&cpim.content)
                        ),
                        Err(e) => format!("{method} message/cpim (bad CPIM: {e})"),
                    }
                }
                Some(ct) => format!("{method} {ct} ({} bytes)", body.len()),
                None if body.is_empty() => format!("{method} (no body: opens the session)"),
                None => format!("{method} ({} bytes)", body.len()),
            }
        }
        StartLine::Response { code, comment } => {
            format!("{code} {}", comment.unwrap_or_default())
        }
    }
}

fn describe_client(event: &client::Event) -> String {
    use client::Event as E;
    match event {
        E::InvitationReceived {
            originator, kind, ..
        } => format!("invitation from {originator} ({kind:?}): accepted"),
        E::SessionEstablished { identity, .. } => match identity {
            Some(id) => format!(
                "session established, IM Session Identity {}{}",
                id.uri,
                if id.is_focus { " (isfocus)" } else { "" }
            ),
            None => "session established".to_owned(),
        },
        E::MessageReceived {
            from,
            content_type,
            body,
            ..
        } => format!(
            "message from {} ({content_type}): {:?}",
            from.as_deref().unwrap_or("?"),
            String::from_utf8_lossy(body)
        ),
        E::Progress { status, .. } => format!("progress: {status}"),
        E::MessageSent { message_id, .. } => format!("message {message_id} sent"),
        E::ParticipantsChanged {
            participants,
            joined,
            left,
            ..
        } => format!("participants {participants:?} (joined {joined:?}, left {left:?})"),
        E::SessionEnded { reason, .. } => format!("session ended ({reason:?})"),
        other => format!("{other:?}"),
    }
}

fn describe_server(event: &server::Event) -> String {
    use server::Event as E;
    match event {
        E::SessionCreated { identity, .. } => {
            format!("IM Session created, IM Session Identity {identity}")
        }
        E::ParticipantJoined { address, .. } => format!("{address} joined"),
        E::ParticipantLeft {
            participant,
            reason,
            ..
        } => format!("participant {participant:?} left ({reason:?})"),
        E::MessageRelayed {
            from, recipients, ..
        } => format!("message of {from:?} relayed to {recipients} participant(s)"),
        E::SessionEnded { reason, .. } => format!("IM Session ended ({reason:?})"),
        other => format!("{other:?}"),
    }
}
