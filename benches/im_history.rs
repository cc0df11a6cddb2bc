//! IM History Function: the cost of refusing a retrieval INVITE (13.2.1.1
//! checks, 403, drain), of recording one message that arrives over MSRP
//! (13.3.1.2: MSRP 200 out, MessageRecorded with the parsed CPIM), and of a
//! whole retrieval of 3 stored messages end to end between a real
//! [`ImClient`] and the History Function on a direct link (INVITE, 200,
//! ACK, three MSRP SENDs and their 200s, BYE, 200; every SIP message parsed
//! on the other side). Run with `cargo bench --bench im_history`.

mod support;

#[global_allocator]
static A: support::Counting = support::Counting;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use std::collections::VecDeque;

use oma_im::body::cpim::{CpimAddress, CpimMessage, CpimMessageBuf};
use oma_im::im::client::{self, ClientConfig, ImClient};
use oma_im::im::history::{
    Event, HistoryConfig, HistorySessionId, ImHistoryFunction, Input, Output,
};
use oma_im::im::SipIpCoreProfile;
use oma_im::sip::{parse_message, HeaderName};
use oma_im::transaction::Transport;

const ROUNDS: u32 = 5;
const ITERS: u64 = 2000;

fn history() -> ImHistoryFunction {
    let mut config = HistoryConfig::new(
        "sip:history@im.example.com",
        "192.0.2.50:5060".parse().expect("addr"),
        "192.0.2.1:5060".parse().expect("addr"),
    );
    config.limits.ua.max_transactions = 1 << 16;
    config.limits.ua.max_held_bytes = usize::MAX;
    ImHistoryFunction::new(config)
}

fn drain(h: &mut ImHistoryFunction) -> usize {
    let mut n = 0;
    while let Some(o) = h.poll_output() {
        n += 1;
        std::hint::black_box(o);
    }
    n
}

fn refused_invites(count: usize) -> Vec<Vec<u8>> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=message 7777 TCP/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrp://192.0.2.1:7777/p1;tcp\r\na=recvonly\r\n";
    let body = format!(
        "--b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b\r\nContent-Type: application/resource-lists+xml\r\n\r\n\
<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list><entry uri=\"sip:h1@history.example.com\"/></list></resource-lists>\r\n--b--\r\n"
    );
    (0..count)
        .map(|i| {
            format!(
                "INVITE sip:history@192.0.2.50 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{i}\r\n\
From: <sip:alice@example.com>;tag=a{i}\r\nTo: <sip:history@im.example.com>\r\nCall-ID: c{i}\r\n\
CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:192.0.2.1:5060>\r\n\
Content-Type: multipart/mixed;boundary=b\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
        .collect()
}

/// A History Function recording one session whose MSRP is up; returns it
/// with its local MSRP URI.
fn recording(
    now: Instant,
) -> (
    ImHistoryFunction,
    oma_im::im::history::HistorySessionId,
    String,
) {
    let mut h = history();
    let session = h
        .start_recording("sip:conf@192.0.2.1:5060", "sip:alice@example.com", now)
        .expect("recording");
    let mut invite = None;
    while let Some(o) = h.poll_output() {
        if let Output::Transmit(t) = o {
            invite = Some(t.bytes);
        }
    }
    let invite = invite.expect("INVITE");
    let msg = parse_message(&invite).expect("INVITE parses");
    let v = |n| msg.header(n).map(|x| x.value).unwrap_or_default();
    let body = std::str::from_utf8(msg.body()).expect("utf-8");
    let path = body
        .lines()
        .find_map(|l| l.strip_prefix("a=path:"))
        .expect("a=path")
        .to_owned();
    let answer = "v=0\r\no=- 2 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=message 7777 TCP/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrp://192.0.2.1:7777/focus;tcp\r\na=setup:active\r\na=sendonly\r\n";
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=f1\r\nCall-ID: {}\r\nCSeq: {}\r\n\
Contact: <sip:conf@192.0.2.1:5060>;isfocus\r\nAllow: INVITE, ACK, BYE\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
        v(HeaderName::Via),
        v(HeaderName::From),
        v(HeaderName::To),
        v(HeaderName::CallId),
        v(HeaderName::CSeq),
        answer.len()
    );
    let source: SocketAddr = "192.0.2.1:5060".parse().expect("addr");
    h.handle_input(
        Input::Sip {
            bytes: ok.as_bytes(),
            source,
            transport: Transport::Udp,
        },
        now,
    );
    h.handle_input(Input::MsrpConnected { session }, now);
    drain(&mut h);
    (h, session, path)
}

const CLIENT_ADDR: &str = "192.0.2.21:5060";
const HISTORY_ADDR: &str = "192.0.2.50:5060";
const HISTORY_URI: &str = "sip:history@192.0.2.50:5060";

/// Alice's IM Client and the History Function on a direct link, with the
/// application's store of three items.
struct Retrieval {
    client: ImClient,
    history: ImHistoryFunction,
    store: Vec<(String, CpimMessageBuf)>,
}

impl Retrieval {
    fn new() -> Self {
        let (c, h): (SocketAddr, SocketAddr) = (
            CLIENT_ADDR.parse().expect("addr"),
            HISTORY_ADDR.parse().expect("addr"),
        );
        let mut config = ClientConfig::new(
            "sip:alice@example.com",
            "sip:conf-factory@im.example.com",
            c,
            h,
        );
        config.msrp_addr = c;
        config.profile = SipIpCoreProfile::Ims;
        let mut hc = HistoryConfig::new("sip:history@im.example.com", h, c);
        hc.chunk_size = 1024;
        // The loop below plays the SIP/IP Core that asserts identities.
        hc.trust = oma_im::im::trust::TrustDomain::new()
            .with_peer(oma_im::im::trust::TrustedPeer::host(c.ip()));
        let said = [
            (
                "sip:bob@example.com",
                "2008-09-03T10:00:00Z",
                "hello all".to_owned(),
            ),
            (
                "sip:carol@example.com",
                "2008-09-03T10:00:05Z",
                "hi bob".to_owned(),
            ),
            (
                "sip:alice@example.com",
                "2008-09-03T10:01:00Z",
                "long message ".repeat(400),
            ),
        ];
        let store = said
            .iter()
            .enumerate()
            .map(|(i, (from, date, text))| {
                let mut m = CpimMessage::new(
                    CpimAddress::new(None, from),
                    CpimAddress::new(None, "sip:conf@im.example.com"),
                    "text/plain",
                    text.as_bytes().to_vec(),
                )
                .expect("CPIM")
                .into_owned();
                m.date_time = Some((*date).to_owned().into());
                (format!("sip:msg-{i}@history.example.com"), m)
            })
            .collect();
        Retrieval {
            client: ImClient::new(config),
            history: ImHistoryFunction::new(hc),
            store,
        }
    }

    /// One retrieval of the three items, until the client's session ends;
    /// returns how many messages the client received.
    fn run(&mut self, now: Instant) -> usize {
        let (c, h): (SocketAddr, SocketAddr) = (
            CLIENT_ADDR.parse().expect("addr"),
            HISTORY_ADDR.parse().expect("addr"),
        );
        let refs: Vec<&str> = self.store.iter().map(|(r, _)| r.as_str()).collect();
        let mine = self
            .client
            .retrieve_history(HISTORY_URI, &refs, now)
            .expect("retrieval");
        let mut theirs: Option<HistorySessionId> = None;
        // A connection opened by one side reaches the other once its
        // session exists.
        let (mut history_connect, mut client_connect, mut established) = (false, false, false);
        let mut to_history: VecDeque<Vec<u8>> = VecDeque::new();
        let mut to_client: VecDeque<Vec<u8>> = VecDeque::new();
        let mut msrp_to_history: VecDeque<Vec<u8>> = VecDeque::new();
        let mut msrp_to_client: VecDeque<Vec<u8>> = VecDeque::new();
        let mut received = 0;
        let mut ended = false;
        while !ended {
            let mut progress = false;
            while let Some(o) = self.client.poll_output() {
                progress = true;
                match o {
                    client::Output::Transmit(mut t) => {
                        // The SIP/IP Core asserts the preferred identity.
                        assert_identity(&mut t.bytes);
                        to_history.push_back(t.bytes);
                    }
                    client::Output::MsrpConnect { session, .. } => {
                        history_connect = true;
                        self.client
                            .handle_input(client::Input::MsrpConnected { session }, now);
                    }
                    client::Output::MsrpTransmit { data, .. } => msrp_to_history.push_back(data),
                    client::Output::MsrpClose { .. }
                    | client::Output::MsrpAccepted { .. }
                    | client::Output::MsrpConnectionTransmit { .. }
                    | client::Output::MsrpConnectionClose { .. } => {}
                    client::Output::Event(client::Event::MessageReceived { .. }) => received += 1,
                    client::Output::Event(client::Event::SessionEstablished {
                        session, ..
                    }) => {
                        established |= session == mine;
                    }
                    client::Output::Event(client::Event::SessionEnded { session, .. }) => {
                        ended = session == mine;
                    }
                    client::Output::Event(_) => {}
                }
            }
            while let Some(o) = self.history.poll_output() {
                progress = true;
                match o {
                    Output::Transmit(t) => to_client.push_back(t.bytes),
                    Output::MsrpConnect { session, .. } => {
                        client_connect = true;
                        self.history
                            .handle_input(Input::MsrpConnected { session }, now);
                    }
                    Output::MsrpTransmit { data, .. } => msrp_to_client.push_back(data),
                    Output::MsrpClose { .. }
                    | Output::MsrpAccepted { .. }
                    | Output::MsrpConnectionTransmit { .. }
                    | Output::MsrpConnectionClose { .. } => {}
                    Output::Event(Event::RetrievalRequested { session, .. }) => {
                        theirs = Some(session);
                        self.history.accept_retrieval(session, now).expect("accept");
                    }
                    Output::Event(Event::HistoryItemRequested { session, index, .. }) => {
                        let item = self.store.get(index).map(|(_, m)| m.clone());
                        self.history
                            .provide_history_item(session, index, item, now)
                            .expect("item");
                    }
                    Output::Event(_) => {}
                }
            }
            if let (true, Some(session)) = (history_connect, theirs) {
                history_connect = false;
                self.history
                    .handle_input(Input::MsrpConnected { session }, now);
            }
            if client_connect && established {
                client_connect = false;
                self.client
                    .handle_input(client::Input::MsrpConnected { session: mine }, now);
            }
            if let Some(bytes) = to_history.pop_front() {
                progress = true;
                let input = Input::Sip {
                    bytes: &bytes,
                    source: c,
                    transport: Transport::Udp,
                };
                self.history.handle_input(input, now);
            }
            if let Some(bytes) = to_client.pop_front() {
                progress = true;
                let input = client::Input::Sip {
                    bytes: &bytes,
                    source: h,
                    transport: Transport::Udp,
                };
                self.client.handle_input(input, now);
            }
            if let (Some(bytes), Some(session)) = (msrp_to_history.pop_front(), theirs) {
                progress = true;
                self.history.handle_input(
                    Input::MsrpBytes {
                        session,
                        bytes: &bytes,
                    },
                    now,
                );
            }
            if let Some(bytes) = msrp_to_client.pop_front() {
                progress = true;
                self.client.handle_input(
                    client::Input::MsrpBytes {
                        session: mine,
                        bytes: &bytes,
                    },
                    now,
                );
            }
            assert!(progress || ended, "the retrieval stalled");
        }
        received
    }
}

/// What a P-CSCF does (RFC 3325): `P-Preferred-Identity` becomes
/// `P-Asserted-Identity`.
fn assert_identity(bytes: &mut Vec<u8>) {
    let needle = b"\r\nP-Preferred-Identity:";
    if let Some(at) = bytes.windows(needle.len()).position(|w| w == needle) {
        bytes.splice(
            at..at + needle.len(),
            b"\r\nP-Asserted-Identity:".iter().copied(),
        );
    }
}

fn main() {
    let mut now = Instant::now();
    let source: SocketAddr = "192.0.2.1:5060".parse().expect("addr");

    let mut h = history();
    let invites = refused_invites((u64::from(ROUNDS) * ITERS + 1000) as usize);
    let mut next = 0;
    support::measure(
        "history: refuse retrieval INVITE (no PAI) + drain",
        ROUNDS,
        ITERS,
        || {
            now += Duration::from_secs(40);
            h.handle_timeout(now);
            let bytes = &invites[next % invites.len()];
            next += 1;
            h.handle_input(
                Input::Sip {
                    bytes,
                    source,
                    transport: Transport::Udp,
                },
                now,
            );
            drain(&mut h)
        },
    );

    let (mut h, session, path) = recording(now);
    let cpim = format!(
        "From: <sip:bob@example.com>\r\nTo: <sip:conf@192.0.2.1:5060>\r\nDateTime: 2008-09-03T10:00:00Z\r\n\r\n\
Content-Type: text/plain\r\n\r\n{}",
        "x".repeat(1024)
    );
    let sends: Vec<Vec<u8>> = (0..(u64::from(ROUNDS) * ITERS + 1000))
        .map(|i| {
            format!(
                "MSRP t{i} SEND\r\nTo-Path: {path}\r\nFrom-Path: msrp://192.0.2.1:7777/focus;tcp\r\nMessage-ID: m{i}\r\n\
Byte-Range: 1-{n}/{n}\r\nContent-Type: message/cpim\r\n\r\n{cpim}\r\n-------t{i}$\r\n",
                n = cpim.len()
            )
            .into_bytes()
        })
        .collect();
    let mut next = 0;
    let mut recorded = 0usize;
    support::measure(
        "history: record one 1 KiB CPIM message over MSRP",
        ROUNDS,
        ITERS,
        || {
            let bytes = &sends[next];
            next += 1;
            h.handle_input(Input::MsrpBytes { session, bytes }, now);
            while let Some(o) = h.poll_output() {
                if let Output::Event(Event::MessageRecorded { .. }) = &o {
                    recorded += 1;
                }
                std::hint::black_box(o);
            }
        },
    );
    assert_eq!(recorded, next, "every SEND recorded");

    let mut pair = Retrieval::new();
    let mut retrieved = 0usize;
    let mut runs = 0usize;
    support::measure(
        "history: retrieval of 3 messages end to end (client <-> History Function)",
        ROUNDS,
        ITERS / 10,
        || {
            // Past every transaction timer of the previous retrieval.
            now += Duration::from_secs(100);
            pair.client.handle_timeout(now);
            pair.history.handle_timeout(now);
            while pair.client.poll_output().is_some() {}
            while pair.history.poll_output().is_some() {}
            retrieved += pair.run(now);
            runs += 1;
        },
    );
    assert_eq!(retrieved, 3 * runs, "every item retrieved every time");
}
