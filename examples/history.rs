//! The IM History Function on real sockets, storing what it records in
//! SQLite, so that history survives a restart of the process: a plain
//! `std::net` loop (no async runtime), SIP over UDP **and** TCP on one
//! loopback address, MSRP over TCP.
//!
//! ```text
//! cargo run --example history -- \
//!     --sip-addr 127.0.0.1:5090          UDP socket and TCP listener for SIP
//!     --msrp-addr 127.0.0.1:2890         MSRP TCP listener (the a=path)
//!     --db history.sqlite                the store (created when missing)
//!     [--identity sip:history@127.0.0.1:5090]   default sip:history@<sip-addr>
//!     [--accept-unverified]              hand requests without an asserted
//!                                        identity to the application (a
//!                                        loopback demo has no IMS core)
//!     [--seconds N]                      exit after N seconds
//! ```
//!
//! There is no outbound proxy: each request goes to its Request-URI's
//! `host:port` (loopback IP literals). Recording requests (REFER, 13.3.1.2)
//! are accepted; `/record IM-SESSION-IDENTITY INITIATOR` typed on standard
//! input starts a recording too. Every message recorded is stored with its
//! original CPIM headers under a history reference
//! `<identity>;item=<n>`, owned by the user who asked for the recording; a
//! retrieval (13.2.1.1) gets the items its requester owns, the others are
//! reported missing.
//!
//! Standard output, one line each: `History Function ready: ...` first, then
//! `recording ...`, `stored REFERENCE from SENDER: TEXT`, `retrieval ...`,
//! `ended ...`.

use std::collections::HashMap;
use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use oma_im::body::cpim::CpimMessage;
use oma_im::dialog::Routing;
use oma_im::im::history::{
    Event, HistoryConfig, HistorySessionId, ImHistoryFunction, Input, Output, UnverifiedRequests,
};
use oma_im::im::ConnectionId;
use oma_im::sip::{Framer, Framing, Limits};
use oma_im::transaction::Transport;

const MAX_OUTBOX: usize = 4 * 1024 * 1024;

const USAGE: &str = "usage: history --sip-addr IP:PORT --msrp-addr IP:PORT --db FILE \
[--identity URI] [--accept-unverified] [--seconds N]";

struct Args {
    sip_addr: SocketAddr,
    msrp_addr: SocketAddr,
    db: String,
    identity: Option<String>,
    accept_unverified: bool,
    seconds: Option<u64>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        sip_addr: SocketAddr::from(([127, 0, 0, 1], 5090)),
        msrp_addr: SocketAddr::from(([127, 0, 0, 1], 2890)),
        db: "history.sqlite".to_owned(),
        identity: None,
        accept_unverified: false,
        seconds: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--help" | "-h" => return Err(USAGE.to_owned()),
            "--accept-unverified" => {
                a.accept_unverified = true;
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
            "--db" => a.db = value,
            "--identity" => a.identity = Some(value),
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

fn os_seed() -> io::Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// The store: one row per recorded message.
struct Store {
    db: rusqlite::Connection,
    identity: String,
}

impl Store {
    fn open(path: &str, identity: &str) -> rusqlite::Result<Store> {
        let db = rusqlite::Connection::open(path)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS items (
                 id INTEGER PRIMARY KEY,
                 reference TEXT UNIQUE,
                 owner TEXT NOT NULL,
                 session_identity TEXT NOT NULL,
                 body BLOB NOT NULL
             );",
        )?;
        Ok(Store {
            db,
            identity: identity.to_owned(),
        })
    }

    /// Stores a `message/cpim` body; returns its history reference.
    fn add(&self, owner: &str, session_identity: &str, body: &[u8]) -> rusqlite::Result<String> {
        self.db.execute(
            "INSERT INTO items (owner, session_identity, body) VALUES (?1, ?2, ?3)",
            rusqlite::params![owner, session_identity, body],
        )?;
        let id = self.db.last_insert_rowid();
        let reference = format!("{};item={id}", self.identity);
        self.db.execute(
            "UPDATE items SET reference = ?1 WHERE id = ?2",
            rusqlite::params![reference, id],
        )?;
        Ok(reference)
    }

    /// The stored body of `reference`, if `owner` owns it.
    fn get(&self, reference: &str, owner: &str) -> Option<Vec<u8>> {
        self.db
            .query_row(
                "SELECT body FROM items WHERE reference = ?1 AND owner = ?2",
                rusqlite::params![reference, owner],
                |row| row.get(0),
            )
            .ok()
    }
}

enum Carries {
    Sip {
        framer: Framer,
        inbox: Vec<u8>,
    },
    /// The MSRP of a session the History Function opened.
    Session(HistorySessionId),
    /// An MSRP connection a peer opened, under the History Function's
    /// name for it: the History Function binds it to its session.
    Accepted(ConnectionId),
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    carries: Carries,
    outbox: Vec<u8>,
    written: usize,
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

enum Incoming {
    Sip(Vec<u8>, SocketAddr),
    Msrp(u64, Vec<u8>),
    Closed(u64),
}

/// What a closed connection carried, to report to the History Function.
enum Gone {
    Session(HistorySessionId),
    Accepted(ConnectionId),
}

struct Net {
    udp: UdpSocket,
    sip_listener: TcpListener,
    msrp_listener: TcpListener,
    conns: HashMap<u64, Conn>,
    next_key: u64,
    sip_peers: HashMap<SocketAddr, u64>,
    sessions: HashMap<HistorySessionId, u64>,
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

    fn remove(&mut self, key: u64) -> Option<Gone> {
        let conn = self.conns.remove(&key)?;
        self.sessions.retain(|_, k| *k != key);
        self.accepted.retain(|_, k| *k != key);
        if self.sip_peers.get(&conn.peer) == Some(&key) {
            self.sip_peers.remove(&conn.peer);
        }
        match conn.carries {
            Carries::Session(s) if !conn.closing => Some(Gone::Session(s)),
            Carries::Accepted(c) if !conn.closing => Some(Gone::Accepted(c)),
            _ => None,
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

    fn accept(&mut self, history: &mut ImHistoryFunction) {
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
            let name = history.msrp_accepted_at(Instant::now());
            match Conn::new(stream, peer, Carries::Accepted(name)) {
                Ok(conn) => {
                    self.add(conn);
                }
                Err(_) => history.handle_input(
                    Input::MsrpAcceptedClosed { connection: name },
                    Instant::now(),
                ),
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

/// What the application knows of each session.
#[derive(Default)]
struct App {
    /// Who owns what a recording stores (the requester, or the initiator).
    owners: HashMap<HistorySessionId, String>,
    /// The IM Session Identity each recording records.
    recorded: HashMap<HistorySessionId, String>,
    /// Who retrieves, per retrieval session.
    readers: HashMap<HistorySessionId, String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = match args() {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let identity = args
        .identity
        .clone()
        .unwrap_or_else(|| format!("sip:history@{}", args.sip_addr));
    let store = Store::open(&args.db, &identity)?;
    let udp = UdpSocket::bind(args.sip_addr)?;
    let sip_listener = TcpListener::bind(args.sip_addr)?;
    sip_listener.set_nonblocking(true)?;
    let msrp_listener = TcpListener::bind(args.msrp_addr)?;
    msrp_listener.set_nonblocking(true)?;

    let mut config = HistoryConfig::new(&identity, args.sip_addr, args.sip_addr);
    config.routing = Routing::RequestTarget;
    config.msrp_addr = args.msrp_addr;
    config.product = "oma-im-example/0.1".into();
    config.seed = os_seed()?.into();
    if args.accept_unverified {
        config.unverified_requests = UnverifiedRequests::AcceptMarked;
    }
    let mut history = ImHistoryFunction::new(config);
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
    let mut app = App::default();

    let (lines_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let stored: i64 = store
        .db
        .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?;
    println!(
        "History Function ready: {identity}, SIP udp+tcp {}, MSRP tcp {}, store {} ({stored} items)",
        args.sip_addr, args.msrp_addr, args.db
    );
    io::stdout().flush()?;

    let start = Instant::now();
    let mut scratch = vec![0u8; 65535];
    loop {
        let now = Instant::now();
        if args
            .seconds
            .is_some_and(|s| start.elapsed() >= Duration::from_secs(s))
        {
            break;
        }
        while let Ok(line) = lines.try_recv() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["/record", target, initiator] => {
                    match history.start_recording(target, initiator, Instant::now()) {
                        Ok(s) => {
                            app.owners.insert(s, (*initiator).to_owned());
                            app.recorded.insert(s, (*target).to_owned());
                            println!("recording {target} for {initiator}");
                        }
                        Err(e) => println!("error: {e}"),
                    }
                }
                [] => {}
                _ => println!("error: /record IM-SESSION-IDENTITY INITIATOR"),
            }
            drain(&mut history, &mut net, &store, &mut app);
        }
        let wait = history
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
                history.handle_input(input, Instant::now());
                drain(&mut history, &mut net, &store, &mut app);
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
        net.accept(&mut history);
        for incoming in net.poll_connections(&mut scratch) {
            let now = Instant::now();
            match incoming {
                Incoming::Sip(bytes, source) => history.handle_input(
                    Input::Sip {
                        bytes: &bytes,
                        source,
                        transport: Transport::Tcp,
                    },
                    now,
                ),
                Incoming::Msrp(key, bytes) => {
                    let input = match net.conns.get(&key).map(|c| &c.carries) {
                        Some(Carries::Session(session)) => Input::MsrpBytes {
                            session: *session,
                            bytes: &bytes,
                        },
                        Some(Carries::Accepted(connection)) => Input::MsrpAcceptedBytes {
                            connection: *connection,
                            bytes: &bytes,
                        },
                        _ => continue,
                    };
                    history.handle_input(input, now);
                }
                Incoming::Closed(key) => closed(&mut history, &mut net, key, now),
            }
            drain(&mut history, &mut net, &store, &mut app);
        }
        history.handle_timeout(Instant::now());
        drain(&mut history, &mut net, &store, &mut app);
    }
    println!("bye");
    io::stdout().flush()?;
    Ok(())
}

/// Reports a closed connection to the History Function.
fn closed(history: &mut ImHistoryFunction, net: &mut Net, key: u64, now: Instant) {
    let input = match net.remove(key) {
        Some(Gone::Session(session)) => Input::MsrpClosed { session },
        Some(Gone::Accepted(connection)) => Input::MsrpAcceptedClosed { connection },
        None => return,
    };
    history.handle_input(input, now);
}

fn drain(history: &mut ImHistoryFunction, net: &mut Net, store: &Store, app: &mut App) {
    while let Some(output) = history.poll_output() {
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
                history.handle_input(input, now);
            }
            Output::MsrpTransmit { session, data } => {
                if let Some(&key) = net.sessions.get(&session) {
                    write(history, net, key, &data, now);
                }
            }
            Output::MsrpConnectionTransmit { connection, data } => {
                if let Some(&key) = net.accepted.get(&connection) {
                    write(history, net, key, &data, now);
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
            Output::MsrpClose { session } => {
                if let Some(key) = net.sessions.remove(&session) {
                    if let Some(conn) = net.conns.get_mut(&key) {
                        conn.closing = true;
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
            Output::Event(event) => on_event(history, store, app, event, now),
        }
    }
}

/// Writes on connection `key`; a connection that fails is reported closed.
fn write(history: &mut ImHistoryFunction, net: &mut Net, key: u64, data: &[u8], now: Instant) {
    let failed = net
        .conns
        .get_mut(&key)
        .is_some_and(|c| c.send(data).is_err());
    if failed {
        closed(history, net, key, now);
    }
}

fn on_event(
    history: &mut ImHistoryFunction,
    store: &Store,
    app: &mut App,
    event: Event,
    now: Instant,
) {
    match event {
        Event::RecordingRequested {
            session,
            requester,
            verified,
            im_session_identity,
        } => {
            println!("recording {im_session_identity} for {requester} (verified: {verified})");
            app.owners.insert(session, requester);
            app.recorded.insert(session, im_session_identity);
            if let Err(e) = history.accept_recording(session, now) {
                println!("error: {e}");
            }
        }
        Event::RecordingStarted { session, .. } => {
            let target = app.recorded.get(&session).cloned().unwrap_or_default();
            println!("recording started: {target}");
        }
        Event::MessageRecorded { session, message } => {
            let owner = app.owners.get(&session).cloned().unwrap_or_default();
            let target = app.recorded.get(&session).cloned().unwrap_or_default();
            if message.cpim.is_none() {
                println!("not stored (not message/cpim): {}", message.message_id);
                return;
            }
            match store.add(&owner, &target, &message.body) {
                Ok(reference) => {
                    let (from, text) = match CpimMessage::parse(&message.body) {
                        Ok(m) => (
                            m.from
                                .as_ref()
                                .map(|f| f.uri.to_string())
                                .unwrap_or_default(),
                            String::from_utf8_lossy(&m.content).into_owned(),
                        ),
                        Err(_) => (String::new(), String::new()),
                    };
                    println!("stored {reference} from {from}: {text}");
                }
                Err(e) => println!("error: not stored: {e}"),
            }
        }
        Event::RetrievalRequested {
            session,
            requester,
            verified,
            references,
            ..
        } => {
            println!(
                "retrieval of {} item(s) for {requester} (verified: {verified})",
                references.len()
            );
            app.readers.insert(session, requester);
            if let Err(e) = history.accept_retrieval(session, now) {
                println!("error: {e}");
            }
        }
        Event::HistoryItemRequested {
            session,
            index,
            reference,
        } => {
            let reader = app.readers.get(&session).cloned().unwrap_or_default();
            let item = store
                .get(&reference, &reader)
                .and_then(|body| CpimMessage::parse(&body).ok().map(|m| m.into_owned()));
            if item.is_none() {
                println!("missing {reference}");
            }
            if let Err(e) = history.provide_history_item(session, index, item, now) {
                println!("error: {e}");
            }
        }
        Event::RetrievalCompleted {
            delivered, missing, ..
        } => println!("retrieval done: {delivered} delivered, {missing} missing"),
        Event::SessionEnded { session, reason } => {
            app.owners.remove(&session);
            app.recorded.remove(&session);
            app.readers.remove(&session);
            println!("ended: {reason:?}");
        }
        Event::RetrievalRefused { status, reason } => {
            println!("retrieval refused: {status} ({reason:?})")
        }
        _ => {}
    }
}
