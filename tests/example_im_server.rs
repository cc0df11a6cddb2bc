//! `examples/im_server.rs` as a process on loopback: OPTIONS over UDP and
//! over TCP, and an ad-hoc INVITE over TCP, each answered on the transport
//! it came on; the invitation reaches the invitee at the address its URI
//! names (no outbound proxy given).
//!
//! `cargo test` builds the examples before it runs this test; when the
//! binary is not there (e.g. `cargo test --test example_im_server` alone,
//! before any `cargo build --examples`), the test says so and passes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oma_im::sip::{parse_message, Framer, Framing, Limits};

/// `target/<profile>/examples/im_server[.exe]`, next to this test's
/// `target/<profile>/deps/` directory.
/// The example's binary; `cargo test` builds the examples before the
/// integration tests run, so a missing one is a failure, not a skip.
fn built_example() -> PathBuf {
    example_binary().expect(
        "target/<profile>/examples/im_server is not built \
         (run `cargo build --example im_server` or the whole `cargo test`)",
    )
}

fn example_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir
        .join("examples")
        .join(format!("im_server{}", std::env::consts::EXE_SUFFIX));
    path.is_file().then_some(path)
}

/// The running example: killed (by its PID, through `Child::kill`) and
/// reaped when dropped, even when the test panics; its output is printed
/// then, as a ladder of what it saw.
struct Server {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Shown by the test harness when the test fails (or with
        // `--nocapture`).
        if let Ok(lines) = self.lines.lock() {
            eprintln!("--- im_server output ---");
            for line in lines.iter() {
                eprintln!("{line}");
            }
        }
    }
}

/// A loopback port free for both UDP and TCP (free now; another process
/// could take it before the example binds it, which is unlikely).
fn free_port() -> u16 {
    for _ in 0..50 {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port for UDP and TCP");
}

/// Starts the example and waits for its start-up line, which must name
/// `factory`.
fn start(
    binary: &PathBuf,
    sip: SocketAddr,
    msrp: SocketAddr,
    factory: &str,
    extra: &[&str],
) -> Server {
    let mut child = Command::new(binary)
        .args(extra)
        .args(["--sip-addr", &sip.to_string()])
        .args(["--msrp-addr", &msrp.to_string()])
        .args(["--seed", "5eed"])
        .args(["--seconds", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the example starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (ready_tx, ready_rx) = mpsc::channel();
    let kept = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("IM Server ready:") {
                let _ = ready_tx.send(line.clone());
            }
            if let Ok(mut kept) = kept.lock() {
                kept.push(line);
            }
        }
    });
    let server = Server { child, lines };
    let ready = ready_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the start-up line");
    assert!(ready.contains(&format!("factory {factory}")), "{ready}");
    assert!(ready.contains(&format!("SIP udp+tcp {sip}")), "{ready}");
    server
}

fn options(target: SocketAddr, via: &str, local: SocketAddr, branch: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:conf-factory@{target} SIP/2.0\r\n\
         Via: SIP/2.0/{via} {local};branch=z9hG4bK{branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=o{branch}\r\n\
         To: <sip:conf-factory@{target}>\r\n\
         Call-ID: {branch}@127.0.0.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Reads one SIP message from `stream` (framed as RFC 3261 §18.3 says).
fn read_message(stream: &mut TcpStream, inbox: &mut Vec<u8>) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut framer = Framer::new(Limits::default());
    let mut buf = [0u8; 4096];
    loop {
        match framer.advance(inbox).expect("a SIP stream") {
            Framing::Complete { skipped, len } => {
                let message = inbox[skipped..skipped + len].to_vec();
                inbox.drain(..skipped + len);
                return message;
            }
            Framing::KeepAlive { len } => {
                inbox.drain(..len);
            }
            Framing::Incomplete { .. } => {
                assert!(Instant::now() < deadline, "no answer over TCP");
                let n = stream.read(&mut buf).expect("a read before the timeout");
                assert!(n > 0, "the server closed the connection");
                inbox.extend_from_slice(&buf[..n]);
            }
        }
    }
}

fn adhoc_invite(factory: &str, local: SocketAddr, invitee: &str) -> Vec<u8> {
    let sdp = "v=0\r\n\
               o=alice 1 1 IN IP4 127.0.0.1\r\n\
               s=-\r\n\
               c=IN IP4 127.0.0.1\r\n\
               t=0 0\r\n\
               m=message 7000 TCP/MSRP *\r\n\
               a=accept-types:message/cpim\r\n\
               a=path:msrp://127.0.0.1:7000/alice1;tcp\r\n\
               a=setup:active\r\n";
    let list = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
         <resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\
         <list><entry uri=\"{invitee}\"/></list></resource-lists>\r\n"
    );
    let body = format!(
        "--b1\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b1\r\n\
         Content-Type: application/resource-lists+xml\r\n\
         Content-Disposition: recipient-list\r\n\r\n{list}\r\n--b1--\r\n"
    );
    format!(
        "INVITE {factory} SIP/2.0\r\n\
         Via: SIP/2.0/TCP {local};branch=z9hG4bKadhoc1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=alice1\r\n\
         To: <{factory}>\r\n\
         Call-ID: adhoc1@127.0.0.1\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:alice@{local};transport=tcp>;+g.oma.sip-im\r\n\
         Accept-Contact: *;+g.oma.sip-im\r\n\
         User-Agent: IM-client/OMA1.0 test\r\n\
         Supported: timer\r\n\
         Content-Type: multipart/mixed;boundary=b1\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn status(bytes: &[u8]) -> u16 {
    parse_message(bytes)
        .expect("a SIP message")
        .status_code()
        .expect("a response")
}

#[test]
fn the_example_answers_over_udp_and_tcp_and_routes_by_request_uri() {
    let binary = built_example();
    let sip: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let msrp: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    // Bob, the invitee, listens on both transports at one port.
    let bob_udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bob_addr = bob_udp.local_addr().unwrap();
    let bob_tcp = TcpListener::bind(bob_addr).unwrap();
    bob_tcp.set_nonblocking(true).unwrap();
    bob_udp
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let default_factory = format!("sip:conf-factory@{sip}");
    let server = start(&binary, sip, msrp, &default_factory, &[]);

    // OPTIONS over UDP: the answer comes back over UDP.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let local = udp.local_addr().unwrap();
    udp.send_to(&options(sip, "UDP", local, "udp1"), sip)
        .unwrap();
    let mut buf = vec![0u8; 65535];
    let (n, from) = udp.recv_from(&mut buf).expect("an answer over UDP");
    assert_eq!(from, sip);
    assert_eq!(status(&buf[..n]), 200, "OPTIONS over UDP");

    // OPTIONS over TCP: the answer comes back on the same connection.
    let mut tcp = TcpStream::connect(sip).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let local = tcp.local_addr().unwrap();
    tcp.write_all(&options(sip, "TCP", local, "tcp1")).unwrap();
    let mut inbox = Vec::new();
    let answer = read_message(&mut tcp, &mut inbox);
    assert_eq!(status(&answer), 200, "OPTIONS over TCP");

    // An ad-hoc INVITE over the same TCP connection.
    let factory = format!("sip:conf-factory@{sip}");
    let invitee = format!("sip:bob@{bob_addr}");
    let invite = adhoc_invite(&factory, local, &invitee);
    tcp.write_all(&invite).unwrap();
    let answer = read_message(&mut tcp, &mut inbox);
    let code = status(&answer);
    assert!((100..700).contains(&code), "a SIP response over TCP");
    let msg = parse_message(&answer).unwrap();
    assert_eq!(msg.cseq().unwrap().unwrap().method.as_str(), "INVITE");

    // Without an outbound proxy the invitation goes to Bob's URI: over UDP,
    // or over TCP when it is larger than 1300 octets.
    let deadline = Instant::now() + Duration::from_secs(10);
    let invitation = loop {
        assert!(Instant::now() < deadline, "Bob was not invited");
        if let Ok((n, _)) = bob_udp.recv_from(&mut buf) {
            break buf[..n].to_vec();
        }
        if let Ok((mut stream, _)) = bob_tcp.accept() {
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            break read_message(&mut stream, &mut Vec::new());
        }
    };
    assert!(
        invitation.starts_with(format!("INVITE {invitee} SIP/2.0\r\n").as_bytes()),
        "{}",
        String::from_utf8_lossy(&invitation)
    );
    drop(server);
}

#[test]
fn with_an_outbound_proxy_the_invitation_carries_a_preloaded_route() {
    let binary = built_example();
    let sip: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let msrp: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    // The proxy listens on both transports at one port.
    let proxy_udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let proxy = proxy_udp.local_addr().unwrap();
    let proxy_tcp = TcpListener::bind(proxy).unwrap();
    proxy_tcp.set_nonblocking(true).unwrap();
    proxy_udp
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let factory = "sip:conf@127.0.0.1";
    let server = start(
        &binary,
        sip,
        msrp,
        factory,
        &[
            "--outbound-proxy",
            &proxy.to_string(),
            "--factory",
            factory,
            "--max-participants",
            "5",
            "--domain",
            &sip.to_string(),
        ],
    );
    let mut tcp = TcpStream::connect(sip).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let local = tcp.local_addr().unwrap();
    tcp.write_all(&adhoc_invite(factory, local, "sip:bob@example.com"))
        .unwrap();
    let answer = read_message(&mut tcp, &mut Vec::new());
    assert!((100..700).contains(&status(&answer)));
    let mut buf = vec![0u8; 65535];
    let deadline = Instant::now() + Duration::from_secs(10);
    let invitation = loop {
        assert!(Instant::now() < deadline, "nothing reached the proxy");
        if let Ok((n, _)) = proxy_udp.recv_from(&mut buf) {
            break buf[..n].to_vec();
        }
        if let Ok((mut stream, _)) = proxy_tcp.accept() {
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            break read_message(&mut stream, &mut Vec::new());
        }
    };
    let msg = parse_message(&invitation).unwrap();
    assert_eq!(msg.method(), Some("INVITE"));
    assert_eq!(
        msg.header(oma_im::sip::HeaderName::Route).map(|h| h.value),
        Some(format!("<sip:{proxy};lr>").as_str())
    );
    drop(server);
}
