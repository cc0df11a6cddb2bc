//! The controlling IM Server on real sockets, driven by a plain `std::net`
//! event loop (no async runtime): SIP over UDP on 127.0.0.1, MSRP over TCP,
//! every request sent to a next hop standing in for the SIP/IP Core, timers
//! from `poll_timeout`.
//!
//! ```text
//! cargo run --example im_server -- [--sip-port 5070] [--msrp-port 2855]
//!     [--next-hop 127.0.0.1:5080] [--seconds 60]
//! ```
//!
//! The Conference-factory-URI is `sip:conf-factory@127.0.0.1:<sip-port>`.
//! Traffic only ever goes to 127.0.0.1: anything else is dropped. See the
//! README section "Running the IM Server on loopback" for a SIPp run.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use oma_im::im::server::{ConnectionId, Event, ImServer, Input, Output, ServerConfig};
use oma_im::transaction::Transport;

struct Args {
    sip_port: u16,
    msrp_port: u16,
    next_hop: SocketAddr,
    seconds: Option<u64>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        sip_port: 5070,
        msrp_port: 2855,
        next_hop: "127.0.0.1:5080".parse().map_err(|e| format!("{e}"))?,
        seconds: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--sip-port" => a.sip_port = value.parse().map_err(|e| bad(&e))?,
            "--msrp-port" => a.msrp_port = value.parse().map_err(|e| bad(&e))?,
            "--next-hop" => a.next_hop = value.parse().map_err(|e| bad(&e))?,
            "--seconds" => a.seconds = Some(value.parse().map_err(|e| bad(&e))?),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if !a.next_hop.ip().is_loopback() {
        return Err("the next hop must be on 127.0.0.1".into());
    }
    Ok(a)
}

/// The MSRP connections, by the server's names for them.
#[derive(Default)]
struct Msrp {
    streams: HashMap<ConnectionId, TcpStream>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    let local: SocketAddr = ([127, 0, 0, 1], args.sip_port).into();
    let udp = UdpSocket::bind(local)?;
    let listener = TcpListener::bind(("127.0.0.1", args.msrp_port))?;
    listener.set_nonblocking(true)?;

    let mut config = ServerConfig::new(local, args.next_hop, &local.to_string());
    config.transport = Transport::Udp;
    config.msrp_authority = format!("127.0.0.1:{}", args.msrp_port);
    config
        .conference_factory_uris
        .push(format!("sip:conf-factory@{local}"));
    config.product = "oma-im-example/0.1".into();
    config.release_alone = true;
    let mut server = ImServer::new(config);
    let mut msrp = Msrp::default();
    println!(
        "IM Server: SIP udp {local}, MSRP tcp 127.0.0.1:{}, next hop {}, factory sip:conf-factory@{local}",
        args.msrp_port, args.next_hop
    );

    let start = Instant::now();
    let mut buf = vec![0u8; 65535];
    loop {
        if args
            .seconds
            .is_some_and(|s| start.elapsed() >= Duration::from_secs(s))
        {
            break;
        }
        // Sleep until the server's deadline, new SIP, or the next MSRP poll.
        let now = Instant::now();
        let wait = server
            .poll_timeout()
            .map_or(Duration::from_millis(20), |t| {
                t.saturating_duration_since(now)
            })
            .clamp(Duration::from_millis(1), Duration::from_millis(20));
        udp.set_read_timeout(Some(wait))?;
        match udp.recv_from(&mut buf) {
            Ok((n, source)) => {
                let input = Input::Sip {
                    bytes: &buf[..n],
                    source,
                    transport: Transport::Udp,
                };
                server.handle_input(input, Instant::now());
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.into()),
        }
        // New MSRP connections: the server finds their leg from the first To-Path.
        while let Ok((stream, peer)) = listener.accept() {
            if !peer.ip().is_loopback() {
                continue;
            }
            stream.set_nonblocking(true)?;
            let id = server.msrp_accepted();
            msrp.streams.insert(id, stream);
        }
        // MSRP bytes in.
        let mut closed = Vec::new();
        for (&id, stream) in &mut msrp.streams {
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => {
                        closed.push(id);
                        break;
                    }
                    Ok(n) => server.handle_input(
                        Input::MsrpBytes {
                            connection: id,
                            bytes: &buf[..n],
                        },
                        Instant::now(),
                    ),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => {
                        closed.push(id);
                        break;
                    }
                }
            }
        }
        for id in closed {
            msrp.streams.remove(&id);
            server.handle_input(Input::MsrpClosed { connection: id }, Instant::now());
        }
        server.handle_timeout(Instant::now());
        drain(&mut server, &udp, &mut msrp)?;
    }
    println!("stopping: {} session(s) hosted", server.session_count());
    Ok(())
}

/// The drain contract: until `poll_output` says `None`.
fn drain(server: &mut ImServer, udp: &UdpSocket, msrp: &mut Msrp) -> std::io::Result<()> {
    while let Some(output) = server.poll_output() {
        match output {
            Output::Transmit(t) => {
                if t.destination.ip().is_loopback() {
                    println!("--> {}: {}", t.destination, first_line(&t.bytes));
                    udp.send_to(&t.bytes, t.destination)?;
                } else {
                    println!("dropped (not loopback): {}", t.destination);
                }
            }
            Output::MsrpConnect {
                connection,
                address,
            } => {
                let target: Option<SocketAddr> = address.parse().ok();
                let stream = target
                    .filter(|a| a.ip().is_loopback())
                    .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).ok());
                let input = match stream {
                    Some(s) => {
                        s.set_nonblocking(true)?;
                        msrp.streams.insert(connection, s);
                        Input::MsrpConnected { connection }
                    }
                    None => Input::MsrpClosed { connection },
                };
                server.handle_input(input, Instant::now());
            }
            Output::MsrpTransmit { connection, bytes } => {
                if let Some(s) = msrp.streams.get_mut(&connection) {
                    // A real server would queue on WouldBlock and report
                    // backpressure; the example writes through.
                    s.set_nonblocking(false)?;
                    s.write_all(&bytes)?;
                    s.set_nonblocking(true)?;
                }
            }
            Output::MsrpClose { connection } => {
                msrp.streams.remove(&connection);
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
    Ok(())
}

fn first_line(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .position(|&b| b == b'\r')
        .unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
