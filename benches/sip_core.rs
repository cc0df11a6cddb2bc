//! Cost and allocations of the SIP core: one non-INVITE client transaction
//! step by step, a whole INVITE dialog set-up and tear-down between two
//! user agents, through bytes, and one RFC 4028 session refresh
//! (UPDATE/200) in a long call.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{
    Config, Event, Input, Output, RequestSpec, ResponseSpec, SessionTimerConfig, UserAgent,
};
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
    fn new(session_timer: Option<SessionTimerConfig>) -> Self {
        let addrs = [
            SocketAddr::from(([192, 0, 2, 1], 5060)),
            SocketAddr::from(([192, 0, 2, 2], 5060)),
        ];
        let config = |i: usize, seed| {
            let c = Config::new(addrs[i], addrs[1 - i], Transport::Udp, seed);
            match session_timer {
                Some(st) => c.with_session_timer(st),
                None => c,
            }
        };
        Pair {
            uas: [UserAgent::new(config(0, 1)), UserAgent::new(config(1, 2))],
            addrs,
            now: Instant::now(),
        }
    }

    /// Sets up a call and keeps it.
    fn start_call(&mut self) {
        let spec = RequestSpec::new(
            Method::Invite,
            "sip:bob@192.0.2.2",
            "<sip:alice@example.com>",
            "<sip:bob@example.com>",
        );
        self.uas[0].send_request(spec, self.now).unwrap();
        self.exchange(false);
    }

    /// One session refresh: 45 s later (half the 90 s interval) Alice
    /// sends UPDATE, Bob answers 200; returns the number of datagrams.
    fn refresh(&mut self) -> usize {
        self.now += Duration::from_secs(45);
        let now = self.now;
        self.uas.iter_mut().for_each(|u| u.handle_timeout(now));
        let datagrams = self.exchange(false);
        assert!(self.uas.iter().all(|u| u.dialogs().next().is_some()));
        datagrams
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
        let datagrams = self.exchange(true);
        assert!(self.uas.iter().all(|u| u.dialogs().next().is_none()));
        datagrams
    }

    /// Moves every message across, answering INVITE with 180 and 200 and
    /// other requests with 200; Alice hangs up on establishment when
    /// `hang_up`. Returns the number of datagrams.
    fn exchange(&mut self, hang_up: bool) -> usize {
        let now = self.now;
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
                        Output::Event(Event::RequestReceived {
                            transaction,
                            request,
                            ..
                        }) if request.message().method() == Some("UPDATE") => {
                            self.uas[me]
                                .respond(transaction, ResponseSpec::new(200), now)
                                .unwrap();
                        }
                        Output::Event(Event::DialogEstablished { dialog })
                            if me == 0 && hang_up =>
                        {
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
    let mut pair = Pair::new(None);
    assert_eq!(pair.call(), 7);
    support::measure(
        "INVITE/100/180/200/ACK/BYE/200, both UAs, bytes",
        5,
        2_000,
        || pair.call(),
    );
    let mut pair = Pair::new(Some(SessionTimerConfig {
        session_expires: 90,
        refresher: Some(oma_im::sip::Refresher::Uac),
        ..SessionTimerConfig::default()
    }));
    pair.start_call();
    assert_eq!(pair.refresh(), 2);
    support::measure(
        "session refresh UPDATE/200 (RFC 4028), both UAs, bytes",
        5,
        5_000,
        || pair.refresh(),
    );
}
