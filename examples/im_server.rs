//! The controlling IM Server on real sockets, driven by a plain `std::net`
//! event loop (no async runtime, no thread): SIP over UDP **and** TCP on one
//! loopback address, MSRP over TCP, timers from `poll_timeout`.
//!
//! ```text
//! cargo run --example im_server -- \
//!     [--sip-addr 127.0.0.1:5070]       UDP socket and TCP listener for SIP
//!     [--msrp-addr 127.0.0.1:2855]      MSRP TCP listener; the a=path authority
//!     [--outbound-proxy 127.0.0.1:5060] every request goes there, with a
//!                                       preloaded Route; without it, each
//!                                       request goes to its first Route, else
//!                                       to its Request-URI's host:port
//!     [--factory sip:conf-factory@127.0.0.1:5070]   repeatable; default
//!                                       sip:conf-factory@<sip-addr>
//!     [--max-participants N]            Ad-hoc IM Group size limit
//!                                       (inviter included; default 10)
//!     [--domain 127.0.0.1]              host of the IM Session Identities;
//!                                       default <sip-addr>, so that requests
//!                                       to them come back here
//!     [--trust IP]                      repeatable: a peer of the trust
//!                                       domain (RFC 3325), e.g. the IM
//!                                       History Function whose recording
//!                                       legs are admitted
//!     [--seed HEX]                      default: 256 bits from the OS
//!     [--seconds N]                     exit after N seconds; default: run
//!                                       until killed
//! ```
//!
//! The older flags still work: `--sip-port P` and `--msrp-port P` (the
//! address `127.0.0.1:P`), and `--next-hop ADDR` (every request to `ADDR`,
//! no preloaded Route).
//!
//! Every address given — listeners, outbound proxy — must be a loopback
//! address, and nothing is ever sent elsewhere: a SIP message or MSRP
//! connection for another address is dropped (and says so). The server
//! hosts the Conference-factory-URIs, authorizes every originator and
//! releases the last Participant left. Requests larger than 1300 octets go
//! over TCP even when UDP was chosen (RFC 3261 §18.1.1, done by the crate).
//!
//! Standard output, one line each, flushed as written:
//!
//! * first, `IM Server ready: ...` with the SIP and MSRP addresses, the
//!   routing, the seed and one `factory <uri>` per Conference-factory-URI —
//!   a script can wait for this line;
//! * `<-- SOURCE (UDP|TCP): FIRST-LINE` for each SIP message received, and
//!   `--> DESTINATION (UDP|TCP): FIRST-LINE` for each one sent;
//! * `event: ...` for the server's events, `msrp ...` and `tcp ...` for
//!   connections.
//!
//! SIP on TCP: each connection (accepted, or opened by the server towards a
//! destination) is cut into messages by [`oma_im::sip::Framer`]; a
//! transmission over TCP uses the connection already open with its
//! destination, else opens one. Writes, SIP or MSRP, are queued per
//! connection and flushed without blocking.
//!
//! See the README section "Running the IM Server on loopback" for a SIPp
//! run.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use oma_im::dialog::Routing;
use oma_im::im::server::{ConnectionId, Event, ImServer, Input, Output, ServerConfig};
use oma_im::sip::{Framer, Framing, Limits};
use oma_im::transaction::Transport;

/// The largest backlog of unsent octets a connection may hold; beyond it
/// the peer is not reading and the connection is closed.
const MAX_OUTBOX: usize = 4 * 1024 * 1024;

/// The command line.
struct Args {
    sip_addr: SocketAddr,
    msrp_addr: SocketAddr,
    /// `(proxy, preloaded Route)`: `--outbound-proxy` or `--next-hop`.
    proxy: Option<(SocketAddr, bool)>,
    factories: Vec<String>,
    max_participants: Option<usize>,
    domain: Option<String>,
    seed: Option<[u8; 32]>,
    seconds: Option<u64>,
    trust: Vec<std::net::IpAddr>,
}

const USAGE: &str = "usage: im_server [--sip-addr IP:PORT] [--msrp-addr IP:PORT] \
[--outbound-proxy IP:PORT] [--factory URI]... [--max-participants N] [--domain HOST] \
[--trust IP]... [--seed HEX] [--seconds N]";

fn args() -> Result<Args, String> {
    let loopback = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let mut a = Args {
        sip_addr: loopback(5070),
        msrp_addr: loopback(2855),
        proxy: None,
        factories: Vec::new(),
        max_participants: None,
        domain: None,
        seed: None,
        seconds: None,
        trust: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_owned());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--sip-addr" => a.sip_addr = value.parse().map_err(|e| bad(&e))?,
            "--msrp-addr" => a.msrp_addr = value.parse().map_err(|e| bad(&e))?,
            "--outbound-proxy" => {
                a.proxy = Some((value.parse().map_err(|e| bad(&e))?, true));
            }
            "--next-hop" => a.proxy = Some((value.parse().map_err(|e| bad(&e))?, false)),
            "--factory" => a.factories.push(value.clone()),
            "--max-participants" => {
                a.max_participants = Some(value.parse().map_err(|e| bad(&e))?);
            }
            "--domain" => a.domain = Some(value.clone()),
            "--seed" => {
                a.seed = Some(seed_from_hex(&value).map_err(|e| bad(&e))?);
            }
            "--seconds" => a.seconds = Some(value.parse().map_err(|e| bad(&e))?),
            "--trust" => a.trust.push(value.parse().map_err(|e| bad(&e))?),
            "--sip-port" => a.sip_addr = loopback(value.parse().map_err(|e| bad(&e))?),
            "--msrp-port" => a.msrp_addr = loopback(value.parse().map_err(|e| bad(&e))?),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    let mut named = vec![("--sip-addr", a.sip_addr), ("--msrp-addr", a.msrp_addr)];
    if let Some((proxy, _)) = a.proxy {
        named.push(("--outbound-proxy", proxy));
    }
    for (flag, addr) in named {
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{flag} {addr}: only loopback addresses are allowed"
            ));
        }
    }
    if a.factories.is_empty() {
        a.factories.push(format!("sip:conf-factory@{}", a.sip_addr));
    }
    Ok(a)
}

/// The 256-bit seed written as up to 64 hexadecimal digits (a test seed;
/// leading zeros may be left out).
fn seed_from_hex(text: &str) -> Result<[u8; 32], String> {
    let hex = text.trim_start_matches("0x").trim_start_matches("0X");
    if hex.is_empty() || hex.len() > 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("up to 64 hexadecimal digits".into());
    }
    let padded = format!("{hex:0>64}");
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&padded[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(seed)
}

/// 256 bits from the operating system: `/dev/urandom`, else the random keys
/// of std's `RandomState` (seeded by the OS as well), four times.
fn os_seed() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    let from_device = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if from_device {
        return bytes;
    }
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_usize(i);
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    bytes
}

/// What a TCP connection carries.
enum Carries {
    /// SIP: the octets received and not yet framed.
    Sip { framer: Framer, inbox: Vec<u8> },
    /// MSRP, under the server's name for the connection.
    Msrp(ConnectionId),
}

/// A TCP connection with its queue of octets to write.
struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    carries: Carries,
    outbox: Vec<u8>,
    /// How much of `outbox` is written.
    written: usize,
    /// Closed by the server: dropped once `outbox` is written.
    closing: bool,
}

impl Conn {
    fn new(stream: TcpStream, peer: SocketAddr, carries: Carries) -> io::Result<Conn> {
        stream.set_nonblocking(true)?;
        // Small SIP messages and MSRP chunks should not wait for Nagle.
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

    /// Queues `bytes` and writes what the socket takes now.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.outbox.len() - self.written + bytes.len() > MAX_OUTBOX {
            return Err(io::Error::other("the peer does not read"));
        }
        self.outbox.extend_from_slice(bytes);
        self.flush()
    }

    /// Writes queued octets until the socket would block.
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

/// Something read from a connection, for the server.
enum Incoming {
    Sip(Vec<u8>, SocketAddr),
    Msrp(ConnectionId, Vec<u8>),
    /// The connection (by key) is gone.
    Closed(u64),
}

/// The sockets.
struct Net {
    udp: UdpSocket,
    sip_listener: TcpListener,
    msrp_listener: TcpListener,
    conns: HashMap<u64, Conn>,
    next_key: u64,
    /// SIP connections by peer address.
    sip_peers: HashMap<SocketAddr, u64>,
    /// MSRP connections by the server's name.
    msrp_ids: HashMap<ConnectionId, u64>,
}

impl Net {
    fn add(&mut self, conn: Conn) -> u64 {
        let key = self.next_key;
        self.next_key += 1;
        match conn.carries {
            Carries::Sip { .. } => {
                self.sip_peers.insert(conn.peer, key);
            }
            Carries::Msrp(id) => {
                self.msrp_ids.insert(id, key);
            }
        }
        self.conns.insert(key, conn);
        key
    }

    /// Forgets connection `key`; the server's name if it carried MSRP and
    /// the server did not close it itself.
    fn remove(&mut self, key: u64) -> Option<ConnectionId> {
        let conn = self.conns.remove(&key)?;
        println!("tcp {} closed", conn.peer);
        if conn.closing {
            return None;
        }
        match conn.carries {
            Carries::Sip { .. } => {
                if self.sip_peers.get(&conn.peer) == Some(&key) {
                    self.sip_peers.remove(&conn.peer);
                }
                None
            }
            Carries::Msrp(id) => {
                self.msrp_ids.remove(&id);
                Some(id)
            }
        }
    }

    /// Sends SIP over TCP to `peer`: on the connection open with it, else
    /// on a new one.
    fn send_sip_tcp(&mut self, peer: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        let key = match self.sip_peers.get(&peer) {
            Some(&key) => key,
            None => {
                let stream = TcpStream::connect_timeout(&peer, Duration::from_secs(2))?;
                println!("tcp connected to {peer}");
                let carries = Carries::Sip {
                    framer: Framer::new(Limits::default()),
                    inbox: Vec::new(),
                };
                let conn = Conn::new(stream, peer, carries)?;
                self.add(conn)
            }
        };
        let sent = self.conns.get_mut(&key).map(|c| c.send(bytes));
        if let Some(Err(e)) = sent {
            self.remove(key);
            return Err(e);
        }
        Ok(())
    }

    /// New connections on both listeners.
    fn accept(&mut self, server: &mut ImServer) {
        while let Ok((stream, peer)) = self.sip_listener.accept() {
            if !peer.ip().is_loopback() {
                continue;
            }
            let carries = Carries::Sip {
                framer: Framer::new(Limits::default()),
                inbox: Vec::new(),
            };
            match Conn::new(stream, peer, carries) {
                Ok(conn) => {
                    println!("tcp accepted SIP from {peer}");
                    self.add(conn);
                }
                Err(e) => println!("tcp {peer}: {e}"),
            }
        }
        while let Ok((stream, peer)) = self.msrp_listener.accept() {
            if !peer.ip().is_loopback() {
                continue;
            }
            // The server finds the leg of the connection from its first
            // To-Path.
            let id = server.msrp_accepted();
            match Conn::new(stream, peer, Carries::Msrp(id)) {
                Ok(conn) => {
                    println!("msrp accepted from {peer}");
                    self.add(conn);
                }
                Err(e) => {
                    println!("msrp {peer}: {e}");
                    server.handle_input(Input::MsrpClosed { connection: id }, Instant::now());
                }
            }
        }
    }

    /// Flushes every queue and reads every connection.
    fn poll_connections(&mut self, scratch: &mut [u8]) -> Vec<Incoming> {
        let mut incoming = Vec::new();
        for (&key, conn) in &mut self.conns {
            if conn.flush().is_err() || (conn.closing && conn.outbox.is_empty()) {
                incoming.push(Incoming::Closed(key));
                continue;
            }
            // A bounded number of reads per turn, so one busy peer does not
            // starve the others.
            for _ in 0..16 {
                match conn.stream.read(scratch) {
                    Ok(0) => {
                        incoming.push(Incoming::Closed(key));
                        break;
                    }
                    Ok(n) => match &mut conn.carries {
                        Carries::Msrp(id) => {
                            incoming.push(Incoming::Msrp(*id, scratch[..n].to_vec()))
                        }
                        Carries::Sip { framer, inbox } => {
                            inbox.extend_from_slice(&scratch[..n]);
                            if !frame(framer, inbox, conn.peer, &mut incoming) {
                                println!("tcp {}: not a SIP stream", conn.peer);
                                incoming.push(Incoming::Closed(key));
                                break;
                            }
                        }
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

/// Cuts the whole messages out of `inbox`; `false` when the stream is
/// broken (RFC 3261 §18.3: it cannot be re-synchronised).
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = match args() {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    // The seed is never printed: tags, Call-IDs, IM Session Identities and
    // MSRP session-ids follow from it.
    let seed_origin = if args.seed.is_some() {
        "given"
    } else {
        "from the OS"
    };
    let seed = args.seed.unwrap_or_else(os_seed);
    let udp = UdpSocket::bind(args.sip_addr)?;
    let sip_listener = TcpListener::bind(args.sip_addr)?;
    sip_listener.set_nonblocking(true)?;
    let msrp_listener = TcpListener::bind(args.msrp_addr)?;
    msrp_listener.set_nonblocking(true)?;

    let domain = args
        .domain
        .clone()
        .unwrap_or_else(|| args.sip_addr.to_string());
    let (proxy, routing) = match args.proxy {
        Some((proxy, true)) => (proxy, Routing::PreloadedRoute),
        Some((proxy, false)) => (proxy, Routing::OutboundProxy),
        // Not used: each request goes where it names.
        None => (args.sip_addr, Routing::RequestTarget),
    };
    let mut config = ServerConfig::new(args.sip_addr, proxy, &domain);
    config.transport = Transport::Udp;
    config.routing = routing;
    config.msrp_authority = args.msrp_addr.to_string();
    config.conference_factory_uris = args.factories.clone();
    config.product = "oma-im-example/0.1".into();
    config.release_alone = true;
    config.seed = seed.into();
    for ip in &args.trust {
        config.trust =
            std::mem::take(&mut config.trust).with_peer(oma_im::im::trust::TrustedPeer::host(*ip));
    }
    if let Some(n) = args.max_participants {
        config.limits.max_adhoc_participants = n;
    }
    let mut server = ImServer::new(config);
    let mut net = Net {
        udp,
        sip_listener,
        msrp_listener,
        conns: HashMap::new(),
        next_key: 0,
        sip_peers: HashMap::new(),
        msrp_ids: HashMap::new(),
    };

    let routing_text = match args.proxy {
        Some((proxy, true)) => format!("outbound proxy {proxy} with a preloaded Route"),
        Some((proxy, false)) => format!("next hop {proxy}"),
        None => "to each request's Route or Request-URI".to_owned(),
    };
    let factories: Vec<String> = args
        .factories
        .iter()
        .map(|f| format!("factory {f}"))
        .collect();
    println!(
        "IM Server ready: SIP udp+tcp {}, MSRP tcp {}, domain {domain}, requests {routing_text}, seed {seed_origin}, {}",
        args.sip_addr,
        args.msrp_addr,
        factories.join(", ")
    );
    io::stdout().flush()?;

    let start = Instant::now();
    let mut scratch = vec![0u8; 65535];
    loop {
        if args
            .seconds
            .is_some_and(|s| start.elapsed() >= Duration::from_secs(s))
        {
            break;
        }
        // Wait for a datagram until the server's deadline, at most 5 ms so
        // that the TCP connections are polled often.
        let now = Instant::now();
        let wait = server
            .poll_timeout()
            .map_or(Duration::from_millis(5), |t| {
                t.saturating_duration_since(now)
            })
            .clamp(Duration::from_millis(1), Duration::from_millis(5));
        net.udp.set_read_timeout(Some(wait))?;
        match net.udp.recv_from(&mut scratch) {
            Ok((n, source)) if source.ip().is_loopback() => {
                let bytes = scratch[..n].to_vec();
                println!("<-- {source} (UDP): {}", first_line(&bytes));
                let input = Input::Sip {
                    bytes: &bytes,
                    source,
                    transport: Transport::Udp,
                };
                server.handle_input(input, Instant::now());
                drain(&mut server, &mut net);
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            // An ICMP error of an earlier send (connection refused): the
            // transaction layer times out on its own.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
            Err(e) => return Err(e.into()),
        }
        net.accept(&mut server);
        drain(&mut server, &mut net);
        for incoming in net.poll_connections(&mut scratch) {
            let now = Instant::now();
            match incoming {
                Incoming::Sip(bytes, source) => {
                    println!("<-- {source} (TCP): {}", first_line(&bytes));
                    let input = Input::Sip {
                        bytes: &bytes,
                        source,
                        transport: Transport::Tcp,
                    };
                    server.handle_input(input, now);
                }
                Incoming::Msrp(connection, bytes) => {
                    let input = Input::MsrpBytes {
                        connection,
                        bytes: &bytes,
                    };
                    server.handle_input(input, now);
                }
                Incoming::Closed(key) => {
                    if let Some(connection) = net.remove(key) {
                        server.handle_input(Input::MsrpClosed { connection }, now);
                    }
                }
            }
            drain(&mut server, &mut net);
        }
        server.handle_timeout(Instant::now());
        drain(&mut server, &mut net);
    }
    println!("stopping: {} session(s) hosted", server.session_count());
    io::stdout().flush()?;
    Ok(())
}

/// The drain contract: until `poll_output` says `None`.
fn drain(server: &mut ImServer, net: &mut Net) {
    while let Some(output) = server.poll_output() {
        match output {
            Output::Transmit(t) => {
                let line = first_line(&t.bytes);
                if !t.destination.ip().is_loopback() {
                    println!(
                        "dropped (not loopback) {} ({}): {line}",
                        t.destination, t.transport
                    );
                    continue;
                }
                println!("--> {} ({}): {line}", t.destination, t.transport);
                let sent = match t.transport {
                    Transport::Udp => net.udp.send_to(&t.bytes, t.destination).map(drop),
                    Transport::Tcp => net.send_sip_tcp(t.destination, &t.bytes),
                };
                if let Err(e) = sent {
                    println!("send to {} failed: {e}", t.destination);
                }
            }
            Output::MsrpConnect {
                connection,
                address,
            } => {
                let target: Option<SocketAddr> = address.socket_addr();
                let opened = match target {
                    Some(a) if a.ip().is_loopback() => {
                        TcpStream::connect_timeout(&a, Duration::from_secs(2))
                            .and_then(|s| Conn::new(s, a, Carries::Msrp(connection)))
                            .map_err(|e| e.to_string())
                    }
                    _ => Err("not a loopback address".to_owned()),
                };
                let input = match opened {
                    Ok(conn) => {
                        println!("msrp connected to {address}");
                        net.add(conn);
                        Input::MsrpConnected { connection }
                    }
                    Err(e) => {
                        println!("msrp connect to {address}: {e}");
                        Input::MsrpClosed { connection }
                    }
                };
                server.handle_input(input, Instant::now());
            }
            Output::MsrpTransmit { connection, bytes } => {
                let Some(&key) = net.msrp_ids.get(&connection) else {
                    continue;
                };
                let failed = net
                    .conns
                    .get_mut(&key)
                    .is_some_and(|c| c.send(&bytes).is_err());
                if failed {
                    net.remove(key);
                    server.handle_input(Input::MsrpClosed { connection }, Instant::now());
                }
            }
            Output::MsrpClose { connection } => {
                // What is queued is written first; the connection goes
                // when its queue is empty.
                if let Some(key) = net.msrp_ids.remove(&connection) {
                    if let Some(conn) = net.conns.get_mut(&key) {
                        conn.closing = true;
                    }
                }
            }
            Output::Event(Event::AuthorizationRequested {
                request,
                originator,
                ..
            }) => {
                println!("authorizing {originator}");
                server.handle_input(
                    Input::Authorization {
                        request,
                        allowed: true,
                    },
                    Instant::now(),
                );
            }
            Output::Event(e) => println!("event: {e:?}"),
        }
    }
}

fn first_line(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
