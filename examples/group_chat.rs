//! An ad-hoc IM group chat (OMA SIMPLE IM 7.1.1.3, 7.2.1.x) on the crate's
//! simulator ([`oma_im::sim`]), with the real roles: three [`ImClient`]s
//! (alice, bob, carol), one controlling [`ImServer`] and a stateless
//! SIP/IP Core ([`Proxy`]) between them.
//!
//! Alice creates the conference with bob and carol through the
//! Conference-factory-URI; each sends a message, which the server's MSRP
//! switch relays to the two others; bob leaves; alice leaves, and the
//! server, left with carol alone, releases her too (7.2.1.9, local policy
//! `release_alone`), ending the session.
//!
//! The simulator moves every SIP message as bytes, opens, accepts and
//! routes the MSRP connections, and runs a virtual clock; every hop takes
//! [`LATENCY`]. The demo prints a ladder of every SIP (`--->`) and MSRP
//! (`===>`) message that crossed, and each side's events (`*`).
//!
//! ```text
//! cargo run --example group_chat                      # the ladder
//! cargo run --example group_chat -- --pcap chat.pcap  # and the capture
//! ```
//!
//! `--pcap FILE` writes the wire log as a pcap capture: open it in
//! Wireshark, or `tshark -r chat.pcap -d tcp.port==2855,msrp`. It exits 0
//! when the whole scenario happened, 1 with the reason otherwise.

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use oma_im::body::cpim::CpimMessage;
use oma_im::im::client::{self, ClientConfig, ImClient, ImSessionId};
use oma_im::im::server::{self, ServerConfig};
use oma_im::msrp::{parse_message_prefix, Limits as MsrpLimits, StartLine};
use oma_im::rng::Seed;
use oma_im::sim::{ClientId, Faults, LogEntry, NodeId, Proxy, Sim, SimEvent, WireKind};
use oma_im::sip::{parse_message, HeaderName, SipMessage};

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

impl From<oma_im::sim::SimError> for DemoError {
    fn from(e: oma_im::sim::SimError) -> Self {
        DemoError(format!("the simulation failed: {e}"))
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
    /// The wire log as a pcap capture.
    pub pcap: Vec<u8>,
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
    let now = net.sim.now();
    let session = net.client("alice").start_ad_hoc(&invitees, now)?;
    net.sessions.insert("alice", session);
    net.run(SETTLE)?;
    for (user, _) in USERS {
        let established = net
            .session(user)
            .is_ok_and(|s| net.sim.client_ref(net.id(user)).is_established(s));
        if !established {
            return Err(DemoError(format!(
                "{user}'s IM session was not established"
            )));
        }
    }

    net.section("alice subscribes to the conference state");
    let session = net.session("alice")?;
    let now = net.sim.now();
    net.client("alice").subscribe_conference(session, now)?;
    net.run(SETTLE)?;

    net.section("each participant sends a message");
    for (user, _) in USERS {
        let session = net.session(user)?;
        let now = net.sim.now();
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
    let now = net.sim.now();
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
    let now = net.sim.now();
    net.client("bob")
        .send_display_notification(&sent.imdn_message_id, now)?;
    net.run(SETTLE)?;

    net.section("bob leaves");
    let session = net.session("bob")?;
    let now = net.sim.now();
    net.client("bob").leave(session, now)?;
    net.run(SETTLE)?;

    net.section("alice leaves: carol is alone, the server releases her");
    let session = net.session("alice")?;
    let now = net.sim.now();
    net.client("alice").leave(session, now)?;
    let idle = net.sim.run_until_idle(IDLE_BOUND);
    net.render();
    idle?;

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
    net.report.idle = net.sim.is_idle();
    net.report.pcap = net.sim.pcap();
    Ok(net.report)
}

/// `--pcap FILE`, if given.
fn pcap_path() -> Result<Option<String>, DemoError> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pcap" => {
                path = Some(
                    args.next()
                        .ok_or_else(|| DemoError("--pcap needs a file name".into()))?,
                )
            }
            "--help" | "-h" => {
                println!("usage: group_chat [--pcap FILE]");
                std::process::exit(0);
            }
            other => return Err(DemoError(format!("unknown argument {other}"))),
        }
    }
    Ok(path)
}

fn main() -> std::process::ExitCode {
    let pcap = match pcap_path() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match run_scenario(true) {
        Ok(report) => {
            let _ = writeln!(
                std::io::stdout(),
                "\nDone: {} SIP and {} MSRP messages crossed; every node is idle.",
                report.crossed.iter().filter(|c| !c.msrp).count(),
                report.crossed.iter().filter(|c| c.msrp).count(),
            );
            if let Some(path) = pcap {
                if let Err(e) = std::fs::write(&path, &report.pcap) {
                    eprintln!("cannot write {path}: {e}");
                    return std::process::ExitCode::FAILURE;
                }
                let _ = writeln!(
                    std::io::stdout(),
                    "Wire log written to {path}: open it in Wireshark, or \
                     `tshark -r {path} -d tcp.port==2855,msrp`."
                );
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nThe group chat did not complete: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

// ----- the scenario on the simulator -----

struct Net {
    sim: Sim,
    clients: Vec<(&'static str, ClientId)>,
    core: NodeId,
    echo: bool,
    /// Each user's IM session in the chat.
    sessions: HashMap<&'static str, ImSessionId>,
    /// How much of the simulator's log is rendered.
    rendered: usize,
    /// The sender of each message the core received, by its bytes.
    via_core: Vec<(Vec<u8>, &'static str)>,
    report: Report,
}

impl Net {
    fn new(latency: Duration, echo: bool) -> Result<Self, DemoError> {
        let addr = |s: &str| -> SocketAddr { s.parse().expect("an address") };
        let mut sim = Sim::new(0).with_faults(Faults {
            latency,
            ..Faults::NONE
        });
        sim.set_max_steps(MAX_STEPS);
        let mut proxy = Proxy::new().with_domain(DOMAIN, addr(SERVER));
        let mut clients = Vec::new();
        for (user, sip) in USERS {
            let mut config = ClientConfig::new(&im_address(user), FACTORY, addr(sip), addr(CORE));
            config.msrp_addr = SocketAddr::new(addr(sip).ip(), 2855);
            config.product = "oma-im-demo/0.1".into();
            config.seed = os_seed()?;
            let id = sim.add_client(user, config);
            // The invitees accept at once.
            sim.auto_accept(id, true);
            clients.push((user, id));
            proxy = proxy.with_user(&im_address(user), addr(sip));
        }
        let core = sim.add_proxy("core", addr(CORE), proxy).into();
        let mut config = ServerConfig::new(addr(SERVER), addr(CORE), DOMAIN);
        config.conference_factory_uris.push(FACTORY.into());
        config.msrp_authority = SERVER_MSRP.into();
        config.product = "oma-im-demo/0.1".into();
        config.release_alone = true;
        config.seed = os_seed()?;
        sim.add_server("server", config);
        let mut net = Net {
            sim,
            clients,
            core,
            echo,
            sessions: HashMap::new(),
            rendered: 0,
            via_core: Vec::new(),
            report: Report::default(),
        };
        net.print(
            "---> SIP (each one crosses the SIP/IP Core)   ===> MSRP   * an event".to_owned(),
        );
        net.print(String::new());
        net.print(format!("{:8}{}", "", lane_names()));
        Ok(net)
    }

    fn id(&self, user: &str) -> ClientId {
        self.clients
            .iter()
            .find(|(u, _)| *u == user)
            .map(|(_, id)| *id)
            .unwrap_or(self.clients[0].1)
    }

    fn client(&mut self, user: &str) -> &mut ImClient {
        let id = self.id(user);
        self.sim.client(id)
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

    /// Runs the simulation for `horizon`, then renders what happened.
    fn run(&mut self, horizon: Duration) -> Result<(), DemoError> {
        let result = self.sim.run_for(horizon);
        self.render();
        Ok(result?)
    }

    /// The name of a node as the ladder shows it.
    fn name(&self, node: Option<NodeId>) -> &'static str {
        match node {
            Some(NodeId::Client(c)) => self
                .clients
                .iter()
                .find(|(_, id)| *id == c)
                .map_or("?", |(u, _)| u),
            Some(NodeId::Server(_)) => "server",
            Some(NodeId::Proxy(_)) => "core",
            _ => "?",
        }
    }

    /// Renders the log entries not rendered yet: the ladder lines, the
    /// messages that crossed and the events.
    fn render(&mut self) {
        let entries: Vec<Rendered> = self
            .sim
            .log()
            .skip(self.rendered)
            .map(|entry| match entry {
                LogEntry::Wire(r) => Rendered::Wire {
                    at: r.at,
                    from: r.from_node,
                    to: r.to_node,
                    kind: r.kind,
                    dest: r.to,
                    bytes: r.bytes.clone(),
                },
                LogEntry::Event(e) => Rendered::Event {
                    at: e.at,
                    node: e.node,
                    event: e.event.clone(),
                },
            })
            .collect();
        self.rendered += entries.len();
        for entry in entries {
            match entry {
                Rendered::Wire {
                    at,
                    from,
                    to,
                    kind,
                    dest,
                    bytes,
                } => {
                    let stamp = stamp(at);
                    match kind {
                        WireKind::Sip(_) if to == Some(self.core) => {
                            let origin = self.name(from);
                            self.via_core.push((bytes, origin));
                        }
                        WireKind::Sip(_) => {
                            let origin = if from == Some(self.core) {
                                match self.via_core.iter().position(|(b, _)| *b == bytes) {
                                    Some(i) => self.via_core.remove(i).1,
                                    None => "core",
                                }
                            } else {
                                self.name(from)
                            };
                            let to = self.name(to);
                            self.ladder_sip(&stamp, origin, to, &bytes);
                        }
                        WireKind::Msrp => {
                            let (from, to) = (self.name(from), self.name(to));
                            self.ladder_msrp(&stamp, from, to, &bytes);
                        }
                        WireKind::Open => {
                            let line = format!(
                                "{stamp}{}  TCP connect to {dest} (MSRP)",
                                arrow(self.name(from), self.name(to), '=')
                            );
                            self.print(line);
                        }
                        WireKind::Close | WireKind::Reset | WireKind::Refused => {
                            let line = format!(
                                "{stamp}{}  TCP close",
                                arrow(self.name(from), self.name(to), '=')
                            );
                            self.print(line);
                        }
                    }
                }
                Rendered::Event { at, node, event } => self.event(&stamp(at), node, event),
            }
        }
    }

    fn event(&mut self, stamp: &str, node: NodeId, event: SimEvent) {
        match event {
            SimEvent::Client(e) => {
                let name = self.name(Some(node));
                if let client::Event::InvitationReceived { session, .. } = &e {
                    self.sessions.insert(name, *session);
                }
                let line = format!("{stamp}{}  {name}: {}", mark(name), describe_client(&e));
                self.print(line);
                self.report.client_events.push((name, e));
            }
            SimEvent::Server(e) => {
                let line = format!("{stamp}{}  server: {}", mark("server"), describe_server(&e));
                self.print(line);
                self.report.server_events.push(e);
            }
            SimEvent::History(_) | SimEvent::Agent(_) => {}
        }
    }

    fn ladder_sip(&mut self, stamp: &str, from: &'static str, to: &'static str, bytes: &[u8]) {
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
        let line = format!("{stamp}{}  {what}", arrow(from, to, '-'));
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

    fn ladder_msrp(&mut self, stamp: &str, from: &'static str, to: &'static str, bytes: &[u8]) {
        let limits = MsrpLimits::default();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (what, used) = match parse_message_prefix(rest, &limits) {
                Ok((msg, used)) => (describe_msrp(&msg), used),
                Err(e) => (format!("unparsable MSRP ({e})"), rest.len()),
            };
            let line = format!("{stamp}{}  {what}", arrow(from, to, '='));
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

/// A log entry, copied out of the simulator to be rendered.
enum Rendered {
    Wire {
        at: Duration,
        from: Option<NodeId>,
        to: Option<NodeId>,
        kind: WireKind,
        dest: SocketAddr,
        bytes: Vec<u8>,
    },
    Event {
        at: Duration,
        node: NodeId,
        event: SimEvent,
    },
}

fn stamp(at: Duration) -> String {
    format!("{:>7.3} ", at.as_secs_f64())
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
