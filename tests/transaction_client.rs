//! RFC 3261 client transactions, Figure 5 (INVITE) and Figure 6
//! (non-INVITE), edge by edge, over UDP and TCP.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::sip::{parse_message, HeaderName};
use oma_im::transaction::{
    ClientState, ClientTransaction, OwnedMessage, Timer, TimerConfig, TransactionOutput, Transport,
};

const BRANCH: &str = "z9hG4bK776asdhds";

fn request(method: &str, transport: Transport) -> OwnedMessage {
    let text = format!(
        "{method} sip:bob@biloxi.com SIP/2.0\r\n\
         Via: SIP/2.0/{transport} pc33.atlanta.com;branch={BRANCH}\r\n\
         Route: <sip:proxy.atlanta.com;lr>\r\n\
         Max-Forwards: 70\r\n\
         To: Bob <sip:bob@biloxi.com>\r\n\
         From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
         Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n\
         CSeq: 314159 {method}\r\n\
         Contact: <sip:alice@pc33.atlanta.com>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    OwnedMessage::new(text.into_bytes()).unwrap()
}

fn response(code: u16, method: &str, transport: Transport) -> Vec<u8> {
    format!(
        "SIP/2.0 {code} Whatever\r\n\
         Via: SIP/2.0/{transport} pc33.atlanta.com;branch={BRANCH};received=192.0.2.1\r\n\
         To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n\
         From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
         Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n\
         CSeq: 314159 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn proxy() -> SocketAddr {
    "192.0.2.10:5060".parse().unwrap()
}

fn start(method: &str, transport: Transport, t0: Instant) -> ClientTransaction {
    ClientTransaction::start(
        request(method, transport),
        proxy(),
        transport,
        TimerConfig::default(),
        t0,
    )
}

fn drain(tx: &mut ClientTransaction) -> Vec<TransactionOutput> {
    std::iter::from_fn(|| tx.poll_output()).collect()
}

fn transmits(outputs: &[TransactionOutput]) -> Vec<Vec<u8>> {
    outputs
        .iter()
        .filter_map(|o| match o {
            TransactionOutput::Transmit(t) => {
                assert_eq!(t.destination, proxy());
                Some(t.bytes.clone())
            }
            _ => None,
        })
        .collect()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Fires timers until the transaction has none left, returning the firing
/// times (relative to `t0`) of each transmission and the last outputs.
fn run_out(tx: &mut ClientTransaction, t0: Instant) -> (Vec<Duration>, Vec<TransactionOutput>) {
    let mut sent = Vec::new();
    let mut last = Vec::new();
    while let Some((at, _)) = tx.poll_timeout() {
        tx.handle_timeout(at);
        let out = drain(tx);
        for _ in transmits(&out) {
            sent.push(at - t0);
        }
        last = out;
    }
    (sent, last)
}

#[test]
fn invite_calling_timer_a_doubles_without_cap_until_timer_b() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    assert_eq!(tx.state(), ClientState::Calling);
    assert_eq!(transmits(&drain(&mut tx)).len(), 1);
    assert_eq!(tx.poll_timeout(), Some((t0 + ms(500), Timer::A)));
    let (sent, last) = run_out(&mut tx, t0);
    // A: T1, 2*T1, 4*T1, ... (never capped at T2); B at 64*T1 = 32 s.
    assert_eq!(
        sent,
        [ms(500), ms(1500), ms(3500), ms(7500), ms(15500), ms(31500)]
    );
    assert_eq!(
        last,
        [
            TransactionOutput::TimedOut(Timer::B),
            TransactionOutput::Terminated
        ]
    );
    assert_eq!(tx.state(), ClientState::Terminated);
}

#[test]
fn invite_retransmission_is_the_same_request() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    let first = transmits(&drain(&mut tx));
    tx.handle_timeout(t0 + ms(500));
    assert_eq!(transmits(&drain(&mut tx)), first);
}

#[test]
fn invite_provisional_moves_calling_to_proceeding_and_stops_a_and_b() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    drain(&mut tx);
    let ringing = response(180, "INVITE", Transport::Udp);
    assert!(tx.handle_response(&parse_message(&ringing).unwrap(), t0 + ms(100)));
    assert_eq!(tx.state(), ClientState::Proceeding);
    assert_eq!(tx.poll_timeout(), None);
    // Further provisionals go up too.
    assert!(tx.handle_response(&parse_message(&ringing).unwrap(), t0 + ms(200)));
    assert!(drain(&mut tx).is_empty());
}

#[test]
fn invite_2xx_terminates_from_calling_and_proceeding_without_ack() {
    for provisional in [false, true] {
        let t0 = Instant::now();
        let mut tx = start("INVITE", Transport::Udp, t0);
        drain(&mut tx);
        if provisional {
            tx.handle_response(
                &parse_message(&response(183, "INVITE", Transport::Udp)).unwrap(),
                t0,
            );
        }
        let ok = response(200, "INVITE", Transport::Udp);
        assert!(tx.handle_response(&parse_message(&ok).unwrap(), t0 + ms(10)));
        assert_eq!(tx.state(), ClientState::Terminated);
        // The 2xx is ACKed by the transaction user, not the transaction.
        assert_eq!(drain(&mut tx), [TransactionOutput::Terminated]);
        assert_eq!(tx.poll_timeout(), None);
    }
}

#[test]
fn invite_non_2xx_is_acked_in_completed_and_timer_d_ends_it() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    drain(&mut tx);
    let busy = response(486, "INVITE", Transport::Udp);
    assert!(tx.handle_response(&parse_message(&busy).unwrap(), t0 + ms(700)));
    assert_eq!(tx.state(), ClientState::Completed);
    let acks = transmits(&drain(&mut tx));
    assert_eq!(acks.len(), 1);
    let ack = parse_message(&acks[0]).unwrap();
    // §17.1.1.3: same Request-URI, Call-ID, From, top Via, Route; To of the
    // response; CSeq number of the INVITE with method ACK.
    assert_eq!(ack.request_line().unwrap().uri, "sip:bob@biloxi.com");
    assert_eq!(ack.method(), Some("ACK"));
    assert_eq!(ack.cseq().unwrap().unwrap().seq, 314159);
    assert_eq!(ack.to().unwrap().unwrap().tag(), Some("a6c85cf"));
    assert_eq!(ack.from().unwrap().unwrap().tag(), Some("1928301774"));
    assert_eq!(ack.top_via().unwrap().unwrap().branch(), Some(BRANCH));
    assert_eq!(
        ack.header(HeaderName::Route).unwrap().value,
        "<sip:proxy.atlanta.com;lr>"
    );
    assert_eq!(
        ack.header(HeaderName::CallId).unwrap().value,
        "a84b4c76e66710@pc33.atlanta.com"
    );
    // Timer D: at least 32 s over UDP.
    assert_eq!(
        tx.poll_timeout(),
        Some((t0 + ms(700) + Duration::from_secs(32), Timer::D))
    );
    // A retransmitted final response is absorbed and ACKed again.
    assert!(!tx.handle_response(&parse_message(&busy).unwrap(), t0 + ms(1700)));
    assert_eq!(transmits(&drain(&mut tx)), acks);
    let (sent, last) = run_out(&mut tx, t0);
    assert!(sent.is_empty());
    assert_eq!(last, [TransactionOutput::Terminated]);
}

#[test]
fn invite_non_2xx_from_proceeding_also_completes() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    tx.handle_response(
        &parse_message(&response(180, "INVITE", Transport::Udp)).unwrap(),
        t0,
    );
    drain(&mut tx);
    assert!(tx.handle_response(
        &parse_message(&response(603, "INVITE", Transport::Udp)).unwrap(),
        t0
    ));
    assert_eq!(tx.state(), ClientState::Completed);
    assert_eq!(transmits(&drain(&mut tx)).len(), 1);
}

#[test]
fn invite_over_tcp_never_retransmits_and_timer_d_is_zero() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Tcp, t0);
    assert_eq!(transmits(&drain(&mut tx)).len(), 1);
    assert_eq!(
        tx.poll_timeout(),
        Some((t0 + Duration::from_secs(32), Timer::B))
    );
    let busy = response(486, "INVITE", Transport::Tcp);
    assert!(tx.handle_response(&parse_message(&busy).unwrap(), t0 + ms(50)));
    let out = drain(&mut tx);
    assert_eq!(transmits(&out).len(), 1, "the ACK");
    assert_eq!(out.last(), Some(&TransactionOutput::Terminated));
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn invite_over_tcp_times_out_with_timer_b_alone() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Tcp, t0);
    drain(&mut tx);
    let (sent, last) = run_out(&mut tx, t0);
    assert!(sent.is_empty());
    assert_eq!(
        last,
        [
            TransactionOutput::TimedOut(Timer::B),
            TransactionOutput::Terminated
        ]
    );
}

#[test]
fn non_invite_trying_timer_e_doubles_up_to_t2_until_timer_f() {
    let t0 = Instant::now();
    let mut tx = start("MESSAGE", Transport::Udp, t0);
    assert_eq!(tx.state(), ClientState::Trying);
    drain(&mut tx);
    assert_eq!(tx.poll_timeout(), Some((t0 + ms(500), Timer::E)));
    let (sent, last) = run_out(&mut tx, t0);
    let expected: Vec<Duration> = [
        500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]
    .into_iter()
    .map(ms)
    .collect();
    assert_eq!(sent, expected);
    assert_eq!(
        last,
        [
            TransactionOutput::TimedOut(Timer::F),
            TransactionOutput::Terminated
        ]
    );
}

#[test]
fn non_invite_proceeding_retransmits_every_t2() {
    let t0 = Instant::now();
    let mut tx = start("MESSAGE", Transport::Udp, t0);
    drain(&mut tx);
    assert!(tx.handle_response(
        &parse_message(&response(100, "MESSAGE", Transport::Udp)).unwrap(),
        t0 + ms(100)
    ));
    assert_eq!(tx.state(), ClientState::Proceeding);
    tx.handle_timeout(t0 + ms(500));
    assert_eq!(transmits(&drain(&mut tx)).len(), 1);
    assert_eq!(tx.poll_timeout(), Some((t0 + ms(4500), Timer::E)));
    // Provisionals in Proceeding still go up.
    assert!(tx.handle_response(
        &parse_message(&response(180, "MESSAGE", Transport::Udp)).unwrap(),
        t0 + ms(600)
    ));
}

#[test]
fn non_invite_final_completes_then_timer_k_terminates() {
    for provisional in [false, true] {
        let t0 = Instant::now();
        let mut tx = start("MESSAGE", Transport::Udp, t0);
        drain(&mut tx);
        if provisional {
            tx.handle_response(
                &parse_message(&response(100, "MESSAGE", Transport::Udp)).unwrap(),
                t0,
            );
        }
        let ok = response(200, "MESSAGE", Transport::Udp);
        assert!(tx.handle_response(&parse_message(&ok).unwrap(), t0 + ms(300)));
        assert_eq!(tx.state(), ClientState::Completed);
        assert_eq!(tx.poll_timeout(), Some((t0 + ms(5300), Timer::K)));
        // Retransmitted responses are absorbed, nothing is sent.
        assert!(!tx.handle_response(&parse_message(&ok).unwrap(), t0 + ms(400)));
        assert!(transmits(&drain(&mut tx)).is_empty());
        let (_, last) = run_out(&mut tx, t0);
        assert_eq!(last, [TransactionOutput::Terminated]);
        assert!(!tx.handle_response(&parse_message(&ok).unwrap(), t0 + ms(9000)));
    }
}

#[test]
fn non_invite_over_tcp_has_no_timer_e_and_zero_timer_k() {
    let t0 = Instant::now();
    let mut tx = start("OPTIONS", Transport::Tcp, t0);
    drain(&mut tx);
    assert_eq!(
        tx.poll_timeout(),
        Some((t0 + Duration::from_secs(32), Timer::F))
    );
    assert!(tx.handle_response(
        &parse_message(&response(404, "OPTIONS", Transport::Tcp)).unwrap(),
        t0
    ));
    assert_eq!(drain(&mut tx), [TransactionOutput::Terminated]);
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn configured_t1_t2_t4_drive_the_timers() {
    let config = TimerConfig {
        t1: ms(100),
        t2: ms(300),
        t4: ms(700),
    };
    let t0 = Instant::now();
    let mut tx = ClientTransaction::start(
        request("MESSAGE", Transport::Udp),
        proxy(),
        Transport::Udp,
        config,
        t0,
    );
    drain(&mut tx);
    let (sent, last) = run_out(&mut tx, t0);
    assert_eq!(&sent[..4], &[ms(100), ms(300), ms(600), ms(900)]);
    assert_eq!(
        last,
        [
            TransactionOutput::TimedOut(Timer::F),
            TransactionOutput::Terminated
        ]
    );
    let mut tx = ClientTransaction::start(
        request("MESSAGE", Transport::Udp),
        proxy(),
        Transport::Udp,
        config,
        t0,
    );
    tx.handle_response(
        &parse_message(&response(200, "MESSAGE", Transport::Udp)).unwrap(),
        t0,
    );
    assert_eq!(tx.poll_timeout(), Some((t0 + ms(700), Timer::K)));
}

#[test]
fn transport_error_terminates_and_reports() {
    let t0 = Instant::now();
    let mut tx = start("MESSAGE", Transport::Tcp, t0);
    drain(&mut tx);
    tx.handle_transport_error();
    assert_eq!(
        drain(&mut tx),
        [
            TransactionOutput::TransportError,
            TransactionOutput::Terminated
        ]
    );
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn after_cancel_timer_b_bounds_the_wait_in_proceeding() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    drain(&mut tx);
    tx.handle_response(
        &parse_message(&response(180, "INVITE", Transport::Udp)).unwrap(),
        t0,
    );
    assert_eq!(tx.poll_timeout(), None);
    tx.cancel_sent(t0 + ms(1000));
    assert_eq!(tx.poll_timeout(), Some((t0 + ms(33_000), Timer::B)));
    let (_, last) = run_out(&mut tx, t0);
    assert_eq!(
        last,
        [
            TransactionOutput::TimedOut(Timer::B),
            TransactionOutput::Terminated
        ]
    );
}

/// A re-INVITE (To with a tag) that gets a provisional response and never a
/// final one times out with Timer B even in Proceeding, over TCP too (no
/// retransmission tells the peer): found by `ua_events`, where a dialog
/// ended while its re-INVITE waited, and the transaction stayed forever.
#[test]
fn reinvite_provisional_keeps_timer_b_running_in_proceeding() {
    let t0 = Instant::now();
    let text = String::from_utf8(request("INVITE", Transport::Tcp).bytes().to_vec())
        .unwrap()
        .replace(
            "To: Bob <sip:bob@biloxi.com>",
            "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf",
        );
    let mut tx = ClientTransaction::start(
        OwnedMessage::new(text.into_bytes()).unwrap(),
        proxy(),
        Transport::Tcp,
        TimerConfig::default(),
        t0,
    );
    drain(&mut tx);
    let trying = response(100, "INVITE", Transport::Tcp);
    assert!(tx.handle_response(&parse_message(&trying).unwrap(), t0 + ms(100)));
    assert_eq!(tx.state(), ClientState::Proceeding);
    assert_eq!(tx.poll_timeout(), Some((t0 + ms(32_000), Timer::B)));
    let (_, last) = run_out(&mut tx, t0);
    assert_eq!(
        last,
        [
            TransactionOutput::TimedOut(Timer::B),
            TransactionOutput::Terminated
        ]
    );
}
