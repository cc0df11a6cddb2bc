//! `im_server_events`: an [`ImServer`] driven by a sequence of operations
//! decoded from the fuzzer's bytes: an inviter's INVITE to the
//! Conference-factory-URI (with a URI list, an SDP offer, maybe `Privacy:
//! id`), the invitees' answers to the server's INVITEs, arbitrary SIP
//! datagrams, MSRP connections carrying SENDs or arbitrary bytes, the
//! application's authorization answers, and the passing of time.
//!
//! Checked besides "never panics": no call leaves a deadline at or before
//! `now`; every INVITE and SDP-carrying message the server sends parses
//! (the user agent checks every message it builds); the server never hosts
//! more sessions than its limit.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::im::server::{
    AuthorizationId, AuthorizationPolicy, ConnectionId, Event, ImServer, Input, Output,
    ServerConfig,
};
use crate::sip::{parse_message, HeaderName};
use crate::transaction::Transport;

/// Reads the fuzzer's bytes one at a time; zeros once exhausted.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((first, rest)) => {
                self.0 = rest;
                *first
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

const STATUSES: [u16; 10] = [100, 180, 183, 200, 302, 404, 480, 486, 500, 603];
const FACTORY: &str = "sip:conf@im.example.com";

struct World {
    server: ImServer,
    core: SocketAddr,
    now: Instant,
    calls: u32,
    /// INVITEs the server sent, to be answered: the header fields an
    /// answer copies, read when the INVITE was sent.
    invites: Vec<[String; 5]>,
    /// MSRP paths the server announced.
    paths: Vec<String>,
    connections: Vec<ConnectionId>,
    questions: Vec<AuthorizationId>,
}

impl World {
    fn drain(&mut self) {
        while let Some(output) = self.server.poll_output() {
            match output {
                // Every message the user agent sends was checked when it
                // was built (the fields it did not copy or make itself,
                // with the parser's verdict: `sip::parse::appended`); only
                // those the world keeps (INVITEs to answer, SDPs with a
                // path) are parsed here, to check them and read them.
                Output::Transmit(t) => {
                    let invite = t.bytes.starts_with(b"INVITE ");
                    // Stateless answers are built from what a malformed
                    // request carried: checked on their own.
                    let stateless = t.bytes.starts_with(b"SIP/2.0 400 ")
                        || t.bytes.starts_with(b"SIP/2.0 505 ");
                    if !invite && !stateless && memchr::memmem::find(&t.bytes, b"a=path:").is_none()
                    {
                        continue;
                    }
                    let message = match parse_message(&t.bytes) {
                        Ok(message) => message,
                        Err(e) => {
                            super::check_stateless_answer(&t.bytes, &e);
                            continue;
                        }
                    };
                    if invite && self.invites.len() < 64 {
                        if let Some(heads) = answer_heads(&message) {
                            self.invites.push(heads);
                        }
                    }
                    if let Some(path) = path_of(message.body()) {
                        if self.paths.len() < 64 {
                            self.paths.push(path);
                        }
                    }
                }
                Output::MsrpConnect { connection, .. } => self.connections.push(connection),
                Output::Event(Event::AuthorizationRequested { request, .. }) => {
                    self.questions.push(request)
                }
                _ => {}
            }
        }
        assert!(
            self.server.poll_timeout().is_none_or(|t| t > self.now),
            "a deadline at or before now was left behind"
        );
        assert!(self.server.session_count() <= self.server.config().limits.max_sessions);
    }

    fn sip(&mut self, bytes: &[u8]) {
        self.server.handle_input(
            Input::Sip {
                bytes,
                source: self.core,
                transport: Transport::Udp,
            },
            self.now,
        );
        self.drain();
    }
}

fn path_of(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().find(|l| l.starts_with("a=path:"))?;
    Some(line.trim_start_matches("a=path:").trim().to_owned())
}

fn invite(call: u32, invitees: u8, types: &str, privacy: bool) -> Vec<u8> {
    let mut list = String::new();
    for i in 0..invitees {
        list.push_str(&format!("<entry uri=\"sip:user{i}@example.com\"/>"));
    }
    let sdp = format!(
        "v=0\r\no=a 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n\
         m=message 7000 TCP/MSRP *\r\na=accept-types:{types}\r\n\
         a=path:msrp://192.0.2.20:7000/a{call};tcp\r\na=setup:actpass\r\n"
    );
    let body = format!(
        "--b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b\r\n\
         Content-Type: application/resource-lists+xml\r\n\r\n\
         <resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>{list}</list></resource-lists>\r\n--b--\r\n"
    );
    let privacy = if privacy { "Privacy: id\r\n" } else { "" };
    format!(
        "INVITE {FACTORY} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-{call}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=f{call}\r\nTo: <{FACTORY}>\r\n\
         Call-ID: call-{call}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.20>\r\n\
         Allow: INVITE, ACK, BYE\r\n{privacy}Content-Type: multipart/mixed;boundary=b\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The Via, From, To, Call-ID and CSeq of an INVITE, which its answers
/// copy.
fn answer_heads(m: &crate::sip::SipMessage<'_>) -> Option<[String; 5]> {
    let header = |name| m.header(name).map(|h| h.value.to_owned());
    Some([
        header(HeaderName::Via)?,
        header(HeaderName::From)?,
        header(HeaderName::To)?,
        header(HeaderName::CallId)?,
        header(HeaderName::CSeq)?,
    ])
}

fn answer(invite: &[String; 5], status: u16, tag: u8) -> Vec<u8> {
    let [via, from, to, call_id, cseq] = invite;
    let sdp = "v=0\r\no=b 1 1 IN IP4 192.0.2.30\r\ns=-\r\nc=IN IP4 192.0.2.30\r\nt=0 0\r\n\
               m=message 7000 TCP/MSRP *\r\na=accept-types:message/cpim\r\n\
               a=path:msrp://192.0.2.30:7000/b;tcp\r\na=setup:active\r\n";
    let (extra, body) = if (200..300).contains(&status) {
        (
            "Content-Type: application/sdp\r\nSession-Expires: 90;refresher=uas\r\n",
            sdp,
        )
    } else {
        ("", "")
    };
    format!(
        "SIP/2.0 {status} X\r\nVia: {via}\r\nFrom: {from}\r\nTo: {to};tag=t{tag}\r\n\
         Call-ID: {call_id}\r\nCSeq: {cseq}\r\nContact: <sip:b@192.0.2.30>\r\n{extra}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn send(to: &str, tid: u8, text: &[u8]) -> Vec<u8> {
    let mut cpim = b"From: <sip:x@example.com>\r\nTo: <sip:y@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    cpim.extend_from_slice(text);
    let mut out = format!(
        "MSRP t{tid} SEND\r\nTo-Path: {to}\r\nFrom-Path: msrp://192.0.2.20:7000/a;tcp\r\n\
         Message-ID: m{tid}\r\nByte-Range: 1-{n}/{n}\r\nContent-Type: message/cpim\r\n\r\n",
        n = cpim.len()
    )
    .into_bytes();
    out.extend_from_slice(&cpim);
    out.extend_from_slice(format!("\r\n-------t{tid}$\r\n").as_bytes());
    out
}

/// The `im_server_events` target.
pub fn im_server_events(data: &[u8]) {
    let mut r = Reader(data);
    let flags = r.u8();
    let core: SocketAddr = "192.0.2.1:5060".parse().expect("an address");
    let mut config = ServerConfig::new(
        "192.0.2.10:5060".parse().expect("an address"),
        core,
        "im.example.com",
    );
    config.conference_factory_uris.push(FACTORY.to_owned());
    config.limits.max_sessions = 4;
    config.limits.max_adhoc_participants = 4;
    config.session_expires = 90;
    config.early_answer = flags & 1 != 0;
    if flags & 2 != 0 {
        config.authorization = AuthorizationPolicy::Ask;
    }
    let mut w = World {
        server: ImServer::new(config),
        core,
        now: Instant::now(),
        calls: 0,
        invites: Vec::new(),
        paths: Vec::new(),
        connections: Vec::new(),
        questions: Vec::new(),
    };
    for _ in 0..super::ROLE_STEPS {
        if r.0.is_empty() {
            break;
        }
        match r.u8() % 8 {
            0 => {
                w.calls += 1;
                let n = r.u8() % 6;
                let types = if r.u8() & 1 == 0 {
                    "message/cpim"
                } else {
                    "text/html"
                };
                let privacy = r.u8() & 1 != 0;
                let bytes = invite(w.calls, n, types, privacy);
                w.sip(&bytes);
            }
            1 => {
                let (i, s, tag) = (usize::from(r.u8()), usize::from(r.u8()), r.u8());
                if let Some(inv) = w.invites.get(i % w.invites.len().max(1)) {
                    let bytes = answer(inv, STATUSES[s % STATUSES.len()], tag);
                    w.sip(&bytes);
                }
            }
            2 => {
                let n = usize::from(r.u16() % 2048);
                let bytes = r.bytes(n).to_vec();
                w.sip(&bytes);
            }
            3 => {
                let connection = w.server.msrp_accepted();
                w.connections.push(connection);
                let pick = usize::from(r.u8());
                let bytes = match w.paths.get(pick % w.paths.len().max(1)) {
                    Some(path) if pick & 0x80 == 0 => {
                        let n = usize::from(r.u8());
                        let text = r.bytes(n).to_vec();
                        send(path, r.u8(), &text)
                    }
                    _ => {
                        let n = usize::from(r.u16() % 1024);
                        r.bytes(n).to_vec()
                    }
                };
                w.server.handle_input(
                    Input::MsrpBytes {
                        connection,
                        bytes: &bytes,
                    },
                    w.now,
                );
                w.drain();
            }
            4 => {
                let allowed = r.u8() & 1 != 0;
                if let Some(request) = w.questions.pop() {
                    w.server
                        .handle_input(Input::Authorization { request, allowed }, w.now);
                    w.drain();
                }
            }
            5 => {
                w.now += Duration::from_millis(u64::from(r.u16()) * 10);
                w.server.handle_timeout(w.now);
                w.drain();
            }
            6 => {
                let i = usize::from(r.u8());
                if let Some(&connection) = w.connections.get(i % w.connections.len().max(1)) {
                    let input = if i & 1 == 0 {
                        Input::MsrpClosed { connection }
                    } else {
                        Input::MsrpConnected { connection }
                    };
                    w.server.handle_input(input, w.now);
                    w.drain();
                }
            }
            _ => {
                let i = usize::from(r.u8());
                if let Some(&connection) = w.connections.get(i % w.connections.len().max(1)) {
                    let n = usize::from(r.u8());
                    let bytes = r.bytes(n).to_vec();
                    w.server.handle_input(
                        Input::MsrpBytes {
                            connection,
                            bytes: &bytes,
                        },
                        w.now,
                    );
                    w.drain();
                }
            }
        }
    }
    // Hours later every supervised session has been released.
    for _ in 0..64 {
        match w.server.poll_timeout() {
            Some(at) if at <= w.now + Duration::from_secs(4 * 3600) => {
                w.now = w.now.max(at);
                w.server.handle_timeout(w.now);
                w.drain();
            }
            _ => break,
        }
    }
}
