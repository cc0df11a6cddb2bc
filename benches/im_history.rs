//! IM History Function: the cost of refusing a retrieval INVITE (13.2.1.1
//! checks, 403, drain) and of recording one message that arrives over MSRP
//! (13.3.1.2: MSRP 200 out, MessageRecorded with the parsed CPIM). Run with
//! `cargo bench --bench im_history`.

mod support;

#[global_allocator]
static A: support::Counting = support::Counting;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::im::history::{Event, HistoryConfig, ImHistoryFunction, Input, Output};
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
}
