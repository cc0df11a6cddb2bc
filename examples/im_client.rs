//! A terminal IM Client on real sockets, driven by a plain `std::net` loop
//! (no async runtime): SIP over UDP **and** TCP on one loopback address,
//! MSRP over TCP (connections opened for the sessions where the client is
//! the active end, accepted on its MSRP address for the others), timers
//! from `poll_timeout`. It talks to `examples/im_server` (or to another
//! `im_client`, one to one).
//!
//! ```text
//! cargo run --example im_client -- \
//!     --sip-addr 127.0.0.1:5081          UDP socket and TCP listener for SIP
//!     --msrp-addr 127.0.0.1:2881         MSRP TCP listener (the a=path)
//!     [--user sip:alice@127.0.0.1:5081]  the IM Address; default
//!                                        sip:user@<sip-addr>
//!     [--factory sip:conf-factory@127.0.0.1:5070]
//!                                        the Conference-factory-URI
//!     [--auto-accept]                    accept every invitation at once
//!     [--seconds N]                      exit after N seconds
//! ```
//!
//! There is no outbound proxy: each request goes to its first Route, else
//! to its Request-URI's `host:port` (IP literals; `examples/im_server`
//! names its IM Session Identities the same way), which must be loopback.
//!
//! Lines typed on standard input:
//!
//! ```text
//! /adhoc URI URI...   create an Ad-hoc IM Group Session through the factory
//! /chat URI           a One-to-One IM session
//! /join URI           join (rejoin) a conference by its IM Session Identity
//! /accept             accept the pending invitation
//! /leave              leave the current session
//! /roster             the participants of the current conference
//! /record URI         ask the IM History Function at URI to record the
//!                     current conference (REFER)
//! /history URI REF... retrieve history items from the History Function
//! /quit               leave every session and exit
//! anything else       sent as a message on the current session
//! ```
//!
//! Standard output, one line each: `IM Client ready: ...` first, then
//! `invited by ...`, `established ...`, `message from SENDER: TEXT`,
//! `roster: ...`, `history item from SENDER to RECIPIENTS at DATETIME: TEXT`,
//! `ended ...`, and `error: ...` for a command refused. Every message sent
//! carries a CPIM `DateTime` from the system clock (UTC).

use std::collections::HashMap;
use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use oma_im::dialog::Routing;
use oma_im::im::client::{
    ClientConfig, Event, ImClient, ImSessionId, Input, InvitationKind, Output, SessionKind,
};
use oma_im::im::ConnectionId;
use oma_im::sip::{Framer, Framing, Limits};
use oma_im::transaction::Transport;

/// The largest backlog of unsent octets a connection may hold.
const MAX_OUTBOX: usize = 4 * 1024 * 1024;

const USAGE: &str = "usage: im_client --sip-addr IP:PORT --msrp-addr IP:PORT [--user URI] \
[--factory URI] [--auto-accept] [--seconds N]";

struct Args {
    sip_addr: SocketAddr,
    msrp_addr: SocketAddr,
    user: Option<String>,
    factory: Option<String>,
    auto_accept: bool,
    seconds: Option<u64>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        sip_addr: SocketAddr::from(([127, 0, 0, 1], 5081)),
        msrp_addr: SocketAddr::from(([127, 0, 0, 1], 2881)),
        user: None,
        factory: None,
        auto_accept: false,
        seconds: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--help" | "-h" => return Err(USAGE.to_owned()),
            "--auto-accept" => {
                a.auto_accept = true;
                continue;
            }
            _ => {}
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--sip-addr" => a.sip_addr = value.parse().map_err(|e| bad(&e))?,
            "--msrp-addr" => a.msrp_addr = value.parse().map_err(|e| bad(&e))?,
            "--user" => a.user = Some(value),
            "--factory" => a.factory = Some(value),
            "--seconds" => a.seconds = Some(value.parse().map_err(|e| bad(&e))?),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    for (flag, addr) in [("--sip-addr", a.sip_addr), ("--msrp-addr", a.msrp_addr)] {
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{flag} {addr}: only loopback addresses are allowed"
            ));
        }
    }
    Ok(a)
}

/// 256 bits from the operating system.
fn os_seed() -> io::Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// What a TCP connection carries.
enum Carries {
    /// SIP: the octets received and not yet framed.
    Sip { framer: Framer, inbox: Vec<u8> },
    /// The MSRP of a session this client connected for.
    Session(ImSessionId),
    /// An MSRP connection this client accepted.
    Accepted(ConnectionId),
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    carries: Carries,
    outbox: Vec<u8>,
    written: usize,
    /// Closed by the client: dropped once `outbox` is written.
    closing: bool,
}

impl Conn {
    fn new(stream: TcpStream, peer: SocketAddr, carries: Carries) -> io::Result<Conn> {
        stream.set_nonblocking(true)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            peer,
            carries,
            outbox: Vec::new(),
            written: 0,
            closing: false,
        })
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.outbox.len() - self.written + bytes.len() > MAX_OUTBOX {
            return Err(io::Error::other("the peer does not read"));
        }
        self.outbox.extend_from_slice(bytes);
        self.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        while self.written < self.outbox.len() {
            match self.stream.write(&self.outbox[self.written..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.written == self.outbox.len() {
            self.outbox.clear();
            self.written = 0;
        }
        Ok(())
    }
}

/// Something read from the sockets, for the client.
enum Incoming {
    Sip(Vec<u8>, SocketAddr),
    Msrp(u64, Vec<u8>),
    Closed(u64),
}

/// The sockets.
struct Net {
    udp: UdpSocket,
    sip_listener: TcpListener,
    msrp_listener: TcpListener,
    conns: HashMap<u64, Conn>,
    next_key: u64,
    sip_peers: HashMap<SocketAddr, u64>,
    /// The connection carrying each session's MSRP.
    sessions: HashMap<ImSessionId, u64>,
    /// Accepted MSRP connections by the client's name.
    accepted: HashMap<ConnectionId, u64>,
}

impl Net {
    fn add(&mut self, conn: Conn) -> u64 {
        let key = self.next_key;
        self.next_key += 1;
        match conn.carries {
            Carries::Sip { .. } => {
                self.sip_peers.insert(conn.peer, key);
            }
            Carries::Session(s) => {
                self.sessions.insert(s, key);
            }
            Carries::Accepted(c) => {
                self.accepted.insert(c, key);
            }
        }
        self.conns.insert(key, conn);
        key
    }

    /// Forgets connection `key`; the input that tells the client, unless
    /// the client closed it itself.
    fn remove(&mut self, key: u64) -> Option<Input<'static>> {
        let conn = self.conns.remove(&key)?;
        self.sessions.retain(|_, k| *k != key);
        if self.sip_peers.get(&conn.peer) == Some(&key) {
            self.sip_peers.remove(&conn.peer);
        }
        if conn.closing {
            return None;
        }
        match conn.carries {
            Carries::Sip { .. } => None,
            Carries::Session(session) => Some(Input::MsrpClosed { session }),
            Carries::Accepted(connection) => {
                self.accepted.remove(&connection);
                Some(Input::MsrpAcceptedClosed { connection })
            }
        }
    }

    fn send_on(&mut self, key: u64, bytes: &[u8]) -> Option<Input<'static>> {
        let failed = self
            .conns
            .get_mut(&key)
            .is_some_and(|c| c.send(bytes).is_err());
        if failed {
            self.remove(key)
        } else {
            None
        }
    }

    fn send_sip_tcp(&mut self, peer: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        let key = match self.sip_peers.get(&peer) {
            Some(&key) => key,
            None => {
                let stream = TcpStream::connect_timeout(&peer, Duration::from_secs(2))?;
                let carries = Carries::Sip {
                    framer: Framer::new(Limits::default()),
                    inbox: Vec::new(),
                };
                self.add(Conn::new(stream, peer, carries)?)
            }
        };
        let failed = self
            .conns
            .get_mut(&key)
            .is_some_and(|c| c.send(bytes).is_err());
        if failed {
            self.remove(key);
            return Err(io::Error::other("the SIP connection failed"));
        }
        Ok(())
    }

    fn accept(&mut self, client: &mut ImClient) {
        while let Ok((stream, peer)) = self.sip_listener.accept() {
            if !peer.ip().is_loopback() {
                continue;
            }
            let carries = Carries::Sip {
                framer: Framer::new(Limits::default()),
                inbox: Vec::new(),
            };
            if let Ok(conn) = Conn::new(stream, peer, carries) {
                self.add(conn);
            }
        }
        while let Ok((stream, peer)) = self.msrp_listener.accept() {
            if !peer.ip().is_loopback() {
                continue;
            }
            // The client finds the session from the first To-Path.
            let id = client.msrp_accepted_at(Instant::now());
            match Conn::new(stream, peer, Carries::Accepted(id)) {
                Ok(conn) => {
                    self.add(conn);
                }
                Err(_) => client
                    .handle_input(Input::MsrpAcceptedClosed { connection: id }, Instant::now()),
            }
        }
    }

    fn poll_connections(&mut self, scratch: &mut [u8]) -> Vec<Incoming> {
        let mut incoming = Vec::new();
        for (&key, conn) in &mut self.conns {
            if conn.flush().is_err() || (conn.closing && conn.outbox.is_empty()) {
                incoming.push(Incoming::Closed(key));
                continue;
            }
            for _ in 0..16 {
                match conn.stream.read(scratch) {
                    Ok(0) => {
                        incoming.push(Incoming::Closed(key));
                        break;
                    }
                    Ok(n) => match &mut conn.carries {
                        Carries::Sip { framer, inbox } => {
                            inbox.extend_from_slice(&scratch[..n]);
                            if !frame(framer, inbox, conn.peer, &mut incoming) {
                                incoming.push(Incoming::Closed(key));
                                break;
                            }
                        }
                        _ => incoming.push(Incoming::Msrp(key, scratch[..n].to_vec())),
                    },
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => {
                        incoming.push(Incoming::Closed(key));
                        break;
                    }
                }
            }
        }
        incoming
    }
}

/// Cuts the whole SIP messages out of `inbox`; `false` when the stream is
/// broken.
fn frame(
    framer: &mut Framer,
    inbox: &mut Vec<u8>,
    peer: SocketAddr,
    out: &mut Vec<Incoming>,
) -> bool {
    loop {
        match framer.advance(inbox) {
            Ok(Framing::Complete { skipped, len }) => {
                out.push(Incoming::Sip(inbox[skipped..skipped + len].to_vec(), peer));
                inbox.drain(..skipped + len);
            }
            Ok(Framing::KeepAlive { len }) => {
                inbox.drain(..len);
            }
            Ok(Framing::Incomplete { .. }) => return true,
            Err(_) => return false,
        }
    }
}

/// The user's side: the current session and what is pending.
struct Ui {
    auto_accept: bool,
    current: Option<ImSessionId>,
    pending: Vec<ImSessionId>,
    quitting: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = match args() {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let user = args
        .user
        .clone()
        .unwrap_or_else(|| format!("sip:user@{}", args.sip_addr));
    let factory = args
        .factory
        .clone()
        .unwrap_or_else(|| "sip:conf-factory@127.0.0.1:5070".to_owned());
    let udp = UdpSocket::bind(args.sip_addr)?;
    let sip_listener = TcpListener::bind(args.sip_addr)?;
    sip_listener.set_nonblocking(true)?;
    let msrp_listener = TcpListener::bind(args.msrp_addr)?;
    msrp_listener.set_nonblocking(true)?;

    let mut config = ClientConfig::new(&user, &factory, args.sip_addr, args.sip_addr);
    config.routing = Routing::RequestTarget;
    config.transport = Transport::Udp;
    config.msrp_addr = args.msrp_addr;
    config.product = "oma-im-example/0.1".into();
    config.seed = os_seed()?.into();
    let mut client = ImClient::new(config);
    let mut net = Net {
        udp,
        sip_listener,
        msrp_listener,
        conns: HashMap::new(),
        next_key: 0,
        sip_peers: HashMap::new(),
        sessions: HashMap::new(),
        accepted: HashMap::new(),
    };
    let mut ui = Ui {
        auto_accept: args.auto_accept,
        current: None,
        pending: Vec::new(),
        quitting: false,
    };

    // Standard input is read on its own thread: std has no non-blocking
    // read of it.
    let (lines_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    println!(
        "IM Client ready: {user}, SIP udp+tcp {}, MSRP tcp {}, factory {factory}",
        args.sip_addr, args.msrp_addr
    );
    io::stdout().flush()?;

    let start = Instant::now();
    let mut quit_at: Option<Instant> = None;
    let mut scratch = vec![0u8; 65535];
    loop {
        let now = Instant::now();
        if args
            .seconds
            .is_some_and(|s| start.elapsed() >= Duration::from_secs(s))
            || quit_at.is_some_and(|t| now >= t || client.is_idle())
        {
            break;
        }
        while let Ok(line) = lines.try_recv() {
            command(&mut client, &mut ui, line.trim(), Instant::now());
            drain(&mut client, &mut net, &mut ui);
        }
        if ui.quitting && quit_at.is_none() {
            // Time for the BYEs to be answered.
            quit_at = Some(Instant::now() + Duration::from_secs(2));
        }
        let wait = client
            .poll_timeout()
            .map_or(Duration::from_millis(5), |t| {
                t.saturating_duration_since(now)
            })
            .clamp(Duration::from_millis(1), Duration::from_millis(5));
        net.udp.set_read_timeout(Some(wait))?;
        match net.udp.recv_from(&mut scratch) {
            Ok((n, source)) if source.ip().is_loopback() => {
                let bytes = scratch[..n].to_vec();
                let input = Input::Sip {
                    bytes: &bytes,
                    source,
                    transport: Transport::Udp,
                };
                client.handle_input(input, Instant::now());
                drain(&mut client, &mut net, &mut ui);
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock
                        | ErrorKind::TimedOut
                        | ErrorKind::Interrupted
                        | ErrorKind::ConnectionRefused
                ) => {}
            Err(e) => return Err(e.into()),
        }
        net.accept(&mut client);
        drain(&mut client, &mut net, &mut ui);
        for incoming in net.poll_connections(&mut scratch) {
            let now = Instant::now();
            match incoming {
                Incoming::Sip(bytes, source) => client.handle_input(
                    Input::Sip {
                        bytes: &bytes,
                        source,
                        transport: Transport::Tcp,
                    },
                    now,
                ),
                Incoming::Msrp(key, bytes) => {
                    let input = match net.conns.get(&key).map(|c| &c.carries) {
                        Some(Carries::Session(session)) => Some(Input::MsrpBytes {
                            session: *session,
                            bytes: &bytes,
                        }),
                        Some(Carries::Accepted(connection)) => Some(Input::MsrpAcceptedBytes {
                            connection: *connection,
                            bytes: &bytes,
                        }),
                        _ => None,
                    };
                    if let Some(input) = input {
                        client.handle_input(input, now);
                    }
                }
                Incoming::Closed(key) => {
                    if let Some(input) = net.remove(key) {
                        client.handle_input(input, now);
                    }
                }
            }
            drain(&mut client, &mut net, &mut ui);
        }
        client.handle_timeout(Instant::now());
        drain(&mut client, &mut net, &mut ui);
    }
    println!("bye");
    io::stdout().flush()?;
    Ok(())
}

/// One line typed by the user.
fn command(client: &mut ImClient, ui: &mut Ui, line: &str, now: Instant) {
    let mut words = line.split_whitespace();
    let result: Result<(), String> = match words.next() {
        None => Ok(()),
        Some("/adhoc") => {
            let invited: Vec<&str> = words.collect();
            client
                .start_ad_hoc(&invited, now)
                .map(|s| ui.current = Some(s))
                .map_err(|e| e.to_string())
        }
        Some("/chat") => match words.next() {
            Some(peer) => client
                .start_one_to_one(peer, now)
                .map(|s| ui.current = Some(s))
                .map_err(|e| e.to_string()),
            None => Err("/chat needs a URI".to_owned()),
        },
        Some("/join") => match words.next() {
            Some(uri) => client
                .rejoin_identity(uri, now)
                .map(|s| ui.current = Some(s))
                .map_err(|e| e.to_string()),
            None => Err("/join needs an IM Session Identity".to_owned()),
        },
        Some("/accept") => match ui.pending.pop() {
            Some(s) => {
                ui.current = Some(s);
                client.accept(s, now).map_err(|e| e.to_string())
            }
            None => Err("no invitation pending".to_owned()),
        },
        Some("/leave") => match ui.current.take() {
            Some(s) => client.leave(s, now).map_err(|e| e.to_string()),
            None => Err("no current session".to_owned()),
        },
        Some("/roster") => match ui.current {
            Some(s) => {
                println!("roster: {}", client.participants(s).join(", "));
                Ok(())
            }
            None => Err("no current session".to_owned()),
        },
        Some("/record") => match (words.next(), ui.current) {
            (Some(uri), Some(s)) => client
                .request_recording(s, uri, now)
                .map(drop)
                .map_err(|e| e.to_string()),
            (None, _) => Err("/record needs the History Function's URI".to_owned()),
            (_, None) => Err("no current session".to_owned()),
        },
        Some("/history") => {
            let uri = words.next();
            let references: Vec<&str> = words.collect();
            match uri {
                Some(uri) => client
                    .retrieve_history(uri, &references, now)
                    .map(drop)
                    .map_err(|e| e.to_string()),
                None => Err("/history needs the History Function's URI".to_owned()),
            }
        }
        Some("/quit") => {
            let sessions: Vec<ImSessionId> = client.sessions().collect();
            for s in sessions {
                let _ = client.leave(s, now);
            }
            ui.quitting = true;
            Ok(())
        }
        Some(w) if w.starts_with('/') => Err(format!("unknown command {w}")),
        Some(_) => match ui.current {
            Some(s) => client
                .send_message_dated(s, "text/plain", line.as_bytes(), false, &utc_now(), now)
                .map(drop)
                .map_err(|e| e.to_string()),
            None => Err("no current session: /adhoc, /chat or /join first".to_owned()),
        },
    };
    if let Err(e) = result {
        println!("error: {e}");
    }
}

/// The drain contract: until `poll_output` says `None`.
fn drain(client: &mut ImClient, net: &mut Net, ui: &mut Ui) {
    while let Some(output) = client.poll_output() {
        let now = Instant::now();
        match output {
            Output::Transmit(t) => {
                if !t.destination.ip().is_loopback() {
                    println!("dropped (not loopback): {}", t.destination);
                    continue;
                }
                let sent = match t.transport {
                    Transport::Udp => net.udp.send_to(&t.bytes, t.destination).map(drop),
                    Transport::Tcp => net.send_sip_tcp(t.destination, &t.bytes),
                };
                if let Err(e) = sent {
                    println!("send to {} failed: {e}", t.destination);
                }
            }
            Output::MsrpConnect {
                session,
                destination,
            } => {
                let opened = match destination.socket_addr() {
                    Some(a) if a.ip().is_loopback() => {
                        TcpStream::connect_timeout(&a, Duration::from_secs(2))
                            .and_then(|s| Conn::new(s, a, Carries::Session(session)))
                            .map_err(|e| e.to_string())
                    }
                    _ => Err("not a loopback address".to_owned()),
                };
                let input = match opened {
                    Ok(conn) => {
                        net.add(conn);
                        Input::MsrpConnected { session }
                    }
                    Err(e) => {
                        println!("msrp connect to {destination}: {e}");
                        Input::MsrpClosed { session }
                    }
                };
                client.handle_input(input, now);
            }
            Output::MsrpTransmit { session, data } => {
                if let Some(&key) = net.sessions.get(&session) {
                    if let Some(input) = net.send_on(key, &data) {
                        client.handle_input(input, now);
                    }
                }
            }
            Output::MsrpClose { session } => {
                if let Some(key) = net.sessions.remove(&session) {
                    if let Some(conn) = net.conns.get_mut(&key) {
                        conn.closing = true;
                    }
                }
            }
            Output::MsrpAccepted {
                connection,
                session,
            } => {
                if let Some(&key) = net.accepted.get(&connection) {
                    net.sessions.insert(session, key);
                }
            }
            Output::MsrpConnectionTransmit { connection, data } => {
                if let Some(&key) = net.accepted.get(&connection) {
                    if let Some(input) = net.send_on(key, &data) {
                        client.handle_input(input, now);
                    }
                }
            }
            Output::MsrpConnectionClose { connection } => {
                if let Some(key) = net.accepted.remove(&connection) {
                    if let Some(conn) = net.conns.get_mut(&key) {
                        conn.closing = true;
                    }
                }
            }
            Output::Event(event) => on_event(client, ui, event, now),
        }
    }
}

fn on_event(client: &mut ImClient, ui: &mut Ui, event: Event, now: Instant) {
    match event {
        Event::InvitationReceived {
            session,
            originator,
            kind,
            ..
        } => {
            let what = match &kind {
                InvitationKind::OneToOne => "a one-to-one session".to_owned(),
                InvitationKind::Group { referred_by } => format!(
                    "a group session (for {})",
                    referred_by.as_deref().unwrap_or("?")
                ),
                InvitationKind::LargeMessage { .. } => "a Large Message".to_owned(),
                other => format!("{other:?}"),
            };
            println!("invited by {originator} to {what}");
            if ui.auto_accept {
                ui.current = Some(session);
                if let Err(e) = client.accept(session, now) {
                    println!("error: {e}");
                }
            } else {
                ui.pending.push(session);
                println!("type /accept to join");
            }
        }
        Event::SessionEstablished { session, identity } => {
            let peer = client.session_peer(session).unwrap_or("?").to_owned();
            match identity {
                Some(id) if id.is_focus => {
                    println!("established: conference {}", id.uri);
                    // The roster comes with the conference state.
                    if let Err(e) = client.subscribe_conference(session, now) {
                        println!("error: no roster: {e}");
                    }
                }
                _ => println!("established: with {peer}"),
            }
            if ui.current.is_none() {
                ui.current = Some(session);
            }
        }
        Event::MessageReceived {
            session,
            from,
            to,
            date_time,
            body,
            ..
        } => {
            let from = from.as_deref().unwrap_or("?");
            let text = String::from_utf8_lossy(&body);
            if client.session_kind(session) == Some(&SessionKind::HistoryRetrieval) {
                println!(
                    "history item from {from} to {} at {}: {text}",
                    to.join(" "),
                    date_time.as_deref().unwrap_or("?")
                );
            } else {
                println!("message from {from}: {text}");
            }
        }
        Event::ParticipantsChanged {
            participants,
            joined,
            left,
            ..
        } => {
            for j in joined {
                println!("joined: {j}");
            }
            for l in left {
                println!("left: {l}");
            }
            println!("roster: {}", participants.join(", "));
        }
        Event::SessionEnded { session, reason } => {
            println!("ended: {reason:?}");
            if ui.current == Some(session) {
                ui.current = None;
            }
            ui.pending.retain(|s| *s != session);
        }
        Event::Progress { status, .. } => println!("progress: {status}"),
        Event::DeliveryFailed { cause, .. } => println!("not delivered: {cause:?}"),
        Event::ConferenceStateError { .. } => println!("error: a conference state not applied"),
        _ => {}
    }
}

/// The time now as an RFC 3339 UTC date-time (CPIM `DateTime`, RFC 3862
/// §5.3), from the system clock.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
