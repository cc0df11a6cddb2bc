//! Cost and allocations of the SIP core: one non-INVITE client transaction
//! step by step, and a whole INVITE dialog set-up and tear-down between two
//! user agents, through bytes.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{Config, Event, Input, Output, RequestSpec, ResponseSpec, UserAgent};
use oma_im::sip::{parse_message, Method};
use oma_im::transaction::{
    ClientTransaction, OwnedMessage, TimerConfig, TransactionOutput, Transport,
};

#[global_allocator]
static A: support::Counting = support::Counting;

const MESSAGE: &[u8] = b"MESSAGE sip:bob@192.0.2.2 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776sgdkse;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.com>;tag=49583\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: asd88asd77a@1.2.3.4\r\n\
CSeq: 1 MESSAGE\r\n\
Content-Type: text/plain\r\n\
Content-Length: 5\r\n\
\r\n\
Hello";

const OK: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776sgdkse;rport=5060;received=192.0.2.1\r\n\
From: <sip:alice@example.com>;tag=49583\r\n\
To: <sip:bob@example.com>;tag=ab30317f1a784dc48ff824d0d3715d86\r\n\
Call-ID: asd88asd77a@1.2.3.4\r\n\
CSeq: 1 MESSAGE\r\n\
Content-Length: 0\r\n\
\r\n";

fn non_invite_transaction(transport: Transport) -> usize {
    let t0 = Instant::now();
    let request = OwnedMessage::new(MESSAGE.to_vec()).unwrap();
    let peer: SocketAddr = "192.0.2.2:5060".parse().unwrap();
    let mut tx = ClientTransaction::start(request, peer, transport, TimerConfig::default(), t0);
    let mut outputs = 0;
    while tx.poll_output().is_some() {
        outputs += 1;
    }
    let ok = parse_message(OK).unwrap();
    assert!(tx.handle_response(&ok, t0));
    if let Some((at, _)) = tx.poll_timeout() {
        tx.handle_timeout(at);
    }
    while let Some(o) = tx.poll_output() {
        outputs += 1;
        if o == TransactionOutput::Terminated {
            break;
        }
    }
    assert!(tx.is_terminated());
    outputs
}

/// Two user agents connected back to back; the clock is moved 40 s per
/// call so that everything of the previous call has expired.
struct Pair {
    uas: [UserAgent; 2],
    addrs: [SocketAddr; 2],
    now: Instant,
}

impl Pair {
    fn new() -> Self {
        let addrs = [
            SocketAddr::from(([192, 0, 2, 1], 5060)),
            SocketAddr::from(([192, 0, 2, 2], 5060)),
        ];
        Pair {
            uas: [
                UserAgent::new(Config::new(addrs[0], addrs[1], Transport::Udp, 1)),
                UserAgent::new(Config::new(addrs[1], addrs[0], Transport::Udp, 2)),
            ],
            addrs,
            now: Instant::now(),
        }
    }

    /// INVITE / 100 / 180 / 200 / ACK / BYE / 200, every message serialized
    /// and parsed again; returns the number of datagrams.
    fn call(&mut self) -> usize {
        self.now += Duration::from_secs(40);
        let now = self.now;
        self.uas.iter_mut().for_each(|u| u.handle_timeout(now));
        let spec = RequestSpec::new(
            Method::Invite,
            "sip:bob@192.0.2.2",
            "<sip:alice@example.com>",
            "<sip:bob@example.com>",
        );
        self.uas[0].send_request(spec, now).unwrap();
        let mut datagrams = 0;
        loop {
            let mut moved = false;
            for me in 0..2 {
                while let Some(o) = self.uas[me].poll_output() {
                    moved = true;
                    match o {
                        Output::Transmit(t) => {
                            datagrams += 1;
                            let input = Input::Datagram {
                                bytes: &t.bytes,
                                source: self.addrs[me],
                                transport: t.transport,
                            };
                            self.uas[1 - me].handle_input(input, now);
                        }
                        Output::Event(Event::RequestReceived {
                            transaction,
                            request,
                            ..
                        }) if request.message().method() == Some("INVITE") => {
                            self.uas[me]
                                .respond(transaction, ResponseSpec::new(180), now)
                                .unwrap();
                            self.uas[me]
                                .respond(transaction, ResponseSpec::new(200), now)
                                .unwrap();
                        }
                        Output::Event(Event::DialogEstablished { dialog }) if me == 0 => {
                            self.uas[0].bye(dialog, now).unwrap();
                        }
                        Output::Event(_) => {}
                    }
                }
            }
            if !moved {
                break;
            }
        }
        assert!(self.uas.iter().all(|u| u.dialogs().next().is_none()));
        datagrams
    }
}

fn main() {
    println!("sip_core: SIP transactions and dialogs");
    support::measure(
        "client transaction MESSAGE/200 (UDP, to Timer K)",
        5,
        20_000,
        || non_invite_transaction(Transport::Udp),
    );
    support::measure("client transaction MESSAGE/200 (TCP)", 5, 20_000, || {
        non_invite_transaction(Transport::Tcp)
    });
    let mut pair = Pair::new();
    assert_eq!(pair.call(), 7);
    support::measure(
        "INVITE/100/180/200/ACK/BYE/200, both UAs, bytes",
        5,
        2_000,
        || pair.call(),
    );
}
