//! RFC 3261 server transactions, Figure 7 (INVITE) and Figure 8
//! (non-INVITE), edge by edge, over UDP and TCP; where responses go
//! (§18.2.2, RFC 3581); transaction keys (§17.1.3, §17.2.3).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::sip::{parse_message, HeaderName};
use oma_im::transaction::{
    response_destination, ClientKey, OwnedMessage, RespondError, ServerKey, ServerState,
    ServerTransaction, Timer, TimerConfig, TransactionOutput, Transport,
};

fn request_text(method: &str, via: &str, to_tag: &str) -> String {
    format!(
        "{method} sip:bob@192.0.2.4 SIP/2.0\r\n\
         Via: {via}\r\n\
         Max-Forwards: 70\r\n\
         To: Bob <sip:bob@biloxi.com>{to_tag}\r\n\
         From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
         Call-ID: a84b4c76e66710\r\n\
         CSeq: 314159 {cseq_method}\r\n\
         Content-Length: 0\r\n\r\n",
        cseq_method = if method == "ACK" { "ACK" } else { method }
    )
}

fn via(transport: Transport) -> String {
    format!("SIP/2.0/{transport} pc33.atlanta.com:5070;branch=z9hG4bKnashds8")
}

fn source() -> SocketAddr {
    "192.0.2.1:5070".parse().unwrap()
}

fn start(method: &str, transport: Transport, t0: Instant) -> ServerTransaction {
    let req = OwnedMessage::new(request_text(method, &via(transport), "").into_bytes()).unwrap();
    ServerTransaction::new(req, source(), transport, TimerConfig::default(), t0)
}

fn drain(tx: &mut ServerTransaction) -> Vec<TransactionOutput> {
    std::iter::from_fn(|| tx.poll_output()).collect()
}

fn statuses(outputs: &[TransactionOutput]) -> Vec<u16> {
    outputs
        .iter()
        .filter_map(|o| match o {
            TransactionOutput::Transmit(t) => {
                Some(parse_message(&t.bytes).unwrap().status_code().unwrap())
            }
            _ => None,
        })
        .collect()
}

fn respond(tx: &mut ServerTransaction, code: u16, at: Instant) {
    let bytes = tx.response(code, "Reason", Some("a6c85cf")).finish(b"");
    tx.respond(bytes, at).unwrap();
}

fn retransmission(tx: &mut ServerTransaction, method: &str, transport: Transport, at: Instant) {
    let text = request_text(
        method,
        &via(transport),
        if method == "ACK" { ";tag=a6c85cf" } else { "" },
    );
    tx.handle_request(&parse_message(text.as_bytes()).unwrap(), at);
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn invite_starts_in_proceeding_with_100_trying_and_answers_retransmissions() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    assert_eq!(tx.state(), ServerState::Proceeding);
    assert_eq!(statuses(&drain(&mut tx)), [100]);
    retransmission(&mut tx, "INVITE", Transport::Udp, t0 + ms(500));
    assert_eq!(statuses(&drain(&mut tx)), [100]);
    respond(&mut tx, 180, t0 + ms(600));
    assert_eq!(statuses(&drain(&mut tx)), [180]);
    assert_eq!(tx.state(), ServerState::Proceeding);
    retransmission(&mut tx, "INVITE", Transport::Udp, t0 + ms(1500));
    assert_eq!(statuses(&drain(&mut tx)), [180]);
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn invite_2xx_terminates_the_transaction() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    drain(&mut tx);
    respond(&mut tx, 200, t0);
    let out = drain(&mut tx);
    assert_eq!(statuses(&out), [200]);
    assert_eq!(out.last(), Some(&TransactionOutput::Terminated));
    assert_eq!(tx.state(), ServerState::Terminated);
    assert_eq!(
        tx.respond(b"SIP/2.0 200 OK\r\n\r\n".to_vec(), t0),
        Err(RespondError::AlreadyFinal)
    );
}

#[test]
fn invite_non_2xx_timer_g_doubles_to_t2_and_ack_confirms_then_timer_i() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    drain(&mut tx);
    respond(&mut tx, 486, t0);
    assert_eq!(statuses(&drain(&mut tx)), [486]);
    assert_eq!(tx.state(), ServerState::Completed);
    let mut sent = Vec::new();
    // G fires at 0.5, 1.5, 3.5, 7.5, 11.5 s (interval capped at T2 = 4 s).
    while let Some((at, timer)) = tx.poll_timeout() {
        if at > t0 + ms(12_000) {
            break;
        }
        assert_eq!(timer, Timer::G);
        tx.handle_timeout(at);
        assert_eq!(statuses(&drain(&mut tx)), [486]);
        sent.push(at - t0);
    }
    assert_eq!(sent, [ms(500), ms(1500), ms(3500), ms(7500), ms(11500)]);
    // An INVITE retransmission is answered with the final response.
    retransmission(&mut tx, "INVITE", Transport::Udp, t0 + ms(12_000));
    assert_eq!(statuses(&drain(&mut tx)), [486]);
    retransmission(&mut tx, "ACK", Transport::Udp, t0 + ms(12_100));
    assert_eq!(tx.state(), ServerState::Confirmed);
    assert!(drain(&mut tx).is_empty());
    assert_eq!(tx.poll_timeout(), Some((t0 + ms(17_100), Timer::I)));
    // Confirmed absorbs ACK and INVITE retransmissions.
    retransmission(&mut tx, "ACK", Transport::Udp, t0 + ms(13_000));
    retransmission(&mut tx, "INVITE", Transport::Udp, t0 + ms(13_000));
    assert!(drain(&mut tx).is_empty());
    tx.handle_timeout(t0 + ms(17_100));
    assert_eq!(drain(&mut tx), [TransactionOutput::Terminated]);
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn invite_non_2xx_without_ack_times_out_with_timer_h() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Udp, t0);
    drain(&mut tx);
    respond(&mut tx, 404, t0);
    drain(&mut tx);
    let mut retransmissions = 0;
    let mut last = Vec::new();
    while let Some((at, _)) = tx.poll_timeout() {
        tx.handle_timeout(at);
        last = drain(&mut tx);
        retransmissions += statuses(&last).len();
    }
    // G: 0.5, 1.5, 3.5, 7.5, then every 4 s up to 31.5 s: 10 times.
    assert_eq!(retransmissions, 10);
    assert_eq!(
        last,
        [
            TransactionOutput::TimedOut(Timer::H),
            TransactionOutput::Terminated
        ]
    );
}

#[test]
fn invite_over_tcp_sends_once_and_timer_i_is_zero() {
    let t0 = Instant::now();
    let mut tx = start("INVITE", Transport::Tcp, t0);
    drain(&mut tx);
    respond(&mut tx, 486, t0);
    drain(&mut tx);
    assert_eq!(
        tx.poll_timeout(),
        Some((t0 + Duration::from_secs(32), Timer::H))
    );
    retransmission(&mut tx, "ACK", Transport::Tcp, t0 + ms(10));
    assert_eq!(drain(&mut tx), [TransactionOutput::Terminated]);
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn non_invite_trying_absorbs_then_proceeding_and_completed_answer_retransmissions() {
    let t0 = Instant::now();
    let mut tx = start("MESSAGE", Transport::Udp, t0);
    assert_eq!(tx.state(), ServerState::Trying);
    assert!(drain(&mut tx).is_empty());
    retransmission(&mut tx, "MESSAGE", Transport::Udp, t0 + ms(500));
    assert!(drain(&mut tx).is_empty());
    respond(&mut tx, 100, t0 + ms(600));
    assert_eq!(tx.state(), ServerState::Proceeding);
    assert_eq!(statuses(&drain(&mut tx)), [100]);
    retransmission(&mut tx, "MESSAGE", Transport::Udp, t0 + ms(1500));
    assert_eq!(statuses(&drain(&mut tx)), [100]);
    respond(&mut tx, 200, t0 + ms(2000));
    assert_eq!(tx.state(), ServerState::Completed);
    assert_eq!(statuses(&drain(&mut tx)), [200]);
    assert_eq!(tx.poll_timeout(), Some((t0 + ms(34_000), Timer::J)));
    retransmission(&mut tx, "MESSAGE", Transport::Udp, t0 + ms(3500));
    assert_eq!(statuses(&drain(&mut tx)), [200]);
    assert_eq!(
        tx.respond(tx.response(500, "Late", None).finish(b""), t0),
        Err(RespondError::AlreadyFinal)
    );
    tx.handle_timeout(t0 + ms(34_000));
    assert_eq!(drain(&mut tx), [TransactionOutput::Terminated]);
}

#[test]
fn non_invite_final_from_trying_over_tcp_terminates_at_once() {
    let t0 = Instant::now();
    let mut tx = start("OPTIONS", Transport::Tcp, t0);
    respond(&mut tx, 200, t0);
    let out = drain(&mut tx);
    assert_eq!(statuses(&out), [200]);
    assert_eq!(out.last(), Some(&TransactionOutput::Terminated));
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn responses_copy_the_request_and_stamp_received() {
    let t0 = Instant::now();
    let mut tx = start("MESSAGE", Transport::Udp, t0);
    respond(&mut tx, 200, t0);
    let out = drain(&mut tx);
    let TransactionOutput::Transmit(t) = &out[0] else {
        panic!("{out:?}")
    };
    // No rport: back to the source address at the sent-by port.
    assert_eq!(t.destination, source());
    let msg = parse_message(&t.bytes).unwrap();
    let via = msg.top_via().unwrap().unwrap();
    assert_eq!(via.received(), Some(source().ip()));
    assert_eq!(via.branch(), Some("z9hG4bKnashds8"));
    assert_eq!(msg.to().unwrap().unwrap().tag(), Some("a6c85cf"));
    assert_eq!(
        msg.header(HeaderName::CallId).unwrap().value,
        "a84b4c76e66710"
    );
    assert_eq!(msg.cseq().unwrap().unwrap().seq, 314159);
}

#[test]
fn response_destination_follows_rport_sent_by_port_and_connection() {
    let from: SocketAddr = "198.51.100.7:40000".parse().unwrap();
    let text = request_text(
        "MESSAGE",
        "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;rport",
        "",
    );
    let msg = parse_message(text.as_bytes()).unwrap();
    assert_eq!(response_destination(&msg, from, Transport::Udp), from);
    let text = request_text("MESSAGE", "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1", "");
    let msg = parse_message(text.as_bytes()).unwrap();
    assert_eq!(
        response_destination(&msg, from, Transport::Udp),
        "198.51.100.7:5062".parse().unwrap()
    );
    let text = request_text("MESSAGE", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1", "");
    let msg = parse_message(text.as_bytes()).unwrap();
    assert_eq!(
        response_destination(&msg, from, Transport::Udp),
        "198.51.100.7:5060".parse().unwrap()
    );
    assert_eq!(response_destination(&msg, from, Transport::Tcp), from);
    // rport is filled in in the response.
    let text = request_text(
        "MESSAGE",
        "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;rport",
        "",
    );
    let req = OwnedMessage::new(text.into_bytes()).unwrap();
    let tx = ServerTransaction::new(
        req,
        from,
        Transport::Udp,
        TimerConfig::default(),
        Instant::now(),
    );
    let bytes = tx.response(200, "OK", Some("x")).finish(b"");
    let resp = parse_message(&bytes).unwrap();
    let via = resp.top_via().unwrap().unwrap();
    assert_eq!(via.rport(), Some(Some(40000)));
    assert_eq!(via.received(), Some(from.ip()));
}

#[test]
fn server_keys_match_retransmissions_ack_and_cancel_to_the_invite() {
    let v = via(Transport::Udp);
    let key = |m: &str, to_tag: &str| {
        ServerKey::of_request(&parse_message(request_text(m, &v, to_tag).as_bytes()).unwrap())
            .unwrap()
    };
    let invite = key("INVITE", "");
    assert_eq!(key("INVITE", ""), invite);
    assert_eq!(key("ACK", ";tag=x"), invite);
    assert_ne!(key("BYE", ";tag=x"), invite);
    let cancel_text = request_text("CANCEL", &v, "");
    let cancel = parse_message(cancel_text.as_bytes()).unwrap();
    assert_ne!(ServerKey::of_request(&cancel).unwrap(), invite);
    assert_eq!(ServerKey::of_cancelled_invite(&cancel).unwrap(), invite);
    // Same branch, other sent-by: another transaction.
    let other = request_text(
        "INVITE",
        "SIP/2.0/UDP pc34.atlanta.com:5070;branch=z9hG4bKnashds8",
        "",
    );
    assert_ne!(
        ServerKey::of_request(&parse_message(other.as_bytes()).unwrap()).unwrap(),
        invite
    );
    // Sent-by host compared case-insensitively.
    let upper = request_text(
        "INVITE",
        "SIP/2.0/UDP PC33.Atlanta.COM:5070;branch=z9hG4bKnashds8",
        "",
    );
    assert_eq!(
        ServerKey::of_request(&parse_message(upper.as_bytes()).unwrap()).unwrap(),
        invite
    );
}

#[test]
fn rfc_2543_requests_match_on_the_fallback_fields() {
    let v = "SIP/2.0/UDP pc33.atlanta.com:5070;branch=1234";
    let key = |m: &str, to_tag: &str| {
        ServerKey::of_request(&parse_message(request_text(m, v, to_tag).as_bytes()).unwrap())
            .unwrap()
    };
    let invite = key("INVITE", "");
    assert!(matches!(invite, ServerKey::Rfc2543 { .. }));
    assert_eq!(key("INVITE", ""), invite);
    // The ACK carries the To tag the server added: it still matches.
    assert_eq!(key("ACK", ";tag=a6c85cf"), invite);
    // A different top Via is another transaction.
    let other = request_text(
        "INVITE",
        "SIP/2.0/UDP pc33.atlanta.com:5071;branch=1234",
        "",
    );
    assert_ne!(
        ServerKey::of_request(&parse_message(other.as_bytes()).unwrap()).unwrap(),
        invite
    );
    // Non-INVITE: the To tag is part of the key.
    assert_ne!(key("BYE", ";tag=a"), key("BYE", ";tag=b"));
}

#[test]
fn client_keys_use_branch_and_cseq_method() {
    let resp = |method: &str| {
        format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\nTo: <sip:b@h>;tag=1\r\n\
             From: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        )
    };
    let invite =
        ClientKey::of_response(&parse_message(resp("INVITE").as_bytes()).unwrap()).unwrap();
    let cancel =
        ClientKey::of_response(&parse_message(resp("CANCEL").as_bytes()).unwrap()).unwrap();
    assert_eq!(invite.branch(), "z9hG4bK9");
    assert_eq!(invite.method(), "INVITE");
    assert_ne!(invite, cancel);
}
