//! End to end on the simulator ([`oma_im::sim`]): an IM Client asks the History
//! Function (REFER) to record a group session held by the controlling IM
//! Server; later the client retrieves that history with a URI-list INVITE
//! and receives each stored message over MSRP with its original CPIM
//! headers. In the first test the IM Client and the IM Server are scripted
//! peers on the SIP user agent and the MSRP session; [`real_roles`] plays
//! the same flow with the real [`ImClient`](oma_im::im::client::ImClient)
//! and [`ImServer`](oma_im::im::server::ImServer).

#[path = "im_history_e2e/real_roles.rs"]
mod real_roles;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::body::cpim::CpimMessage;
use oma_im::dialog::RequestSpec;
use oma_im::im::history::{EndReason, Event, HistoryConfig};
use oma_im::sdp::Direction;
use oma_im::sip::Method;

use oma_im::sim::Faults;
use support::im_history::{HistoryApp, Net, Script, ScriptedPeer};

const CLIENT: &str = "10.0.0.1:5060";
const HISTORY: &str = "10.0.0.2:5060";
const FOCUS: &str = "10.0.0.3:5060";
const ALICE: &str = "sip:alice@example.com";
const IDENTITY: &str = "sip:conf-9@10.0.0.3:5060";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn cpim(from: &str, date: &str, text: &str) -> Vec<u8> {
    format!("From: <{from}>\r\nTo: <{IDENTITY}>\r\nDateTime: {date}\r\n\r\nContent-Type: text/plain\r\n\r\n{text}")
        .into_bytes()
}

fn history_events(net: &Net) -> Vec<Event> {
    net.history_events()
}

fn run(net: &mut Net) {
    net.run_until_quiet(Duration::from_secs(300));
}

#[test]
fn recorded_group_session_is_retrieved_with_original_cpim_headers() {
    for conditions in [
        Faults::PERFECT,
        Faults::lossy(10, 5, Duration::from_millis(20)),
    ] {
        let mut net = Net::new(conditions, 21);
        let big = "long message ".repeat(400);
        let said = [
            (
                "sip:bob@example.com",
                "2008-09-03T10:00:00Z",
                "hello all".to_owned(),
            ),
            (
                "sip:carol@example.com",
                "2008-09-03T10:00:05-05:00",
                "hi bob".to_owned(),
            ),
            ("sip:alice@example.com", "2008-09-03T10:01:00Z", big),
        ];
        let mut c = HistoryConfig::new("sip:history@im.example.com", addr(HISTORY), addr(FOCUS));
        c.seed = 4.into();
        c.chunk_size = 1024;
        // The client stands in for the SIP/IP Core that asserts identities.
        c.trust = oma_im::im::trust::TrustDomain::new()
            .with_peer(oma_im::im::trust::TrustedPeer::host(addr(CLIENT).ip()));
        let mut focus = ScriptedPeer::new(
            addr(FOCUS),
            addr(HISTORY),
            3,
            Script {
                focus: Some("conf-9".to_owned()),
                messages: said
                    .iter()
                    .map(|(f, d, t)| ("message/cpim".to_owned(), cpim(f, d, t)))
                    .collect(),
                ..Script::default()
            },
        );
        focus.core = true;
        net.add_scripted(
            "client",
            ScriptedPeer::new(addr(CLIENT), addr(HISTORY), 1, Script::default()),
        );
        net.add_history(c, HistoryApp::new(&[ALICE]));
        net.add_scripted("focus", focus);

        // 1. Alice asks the History Function to record the session.
        let now = net.now();
        let refer = RequestSpec::new(
            Method::Refer,
            "sip:history@10.0.0.2:5060",
            format!("<{ALICE}>"),
            "<sip:history@im.example.com>",
        )
        .with_header("Refer-To", format!("<{IDENTITY}>"))
        .with_header("P-Asserted-Identity", format!("<{ALICE}>"));
        net.node(0).scripted().send(refer, now);
        // A minute: the recording stays up (its conference subscription
        // keeps a refresh deadline) until the IM Server ends it.
        let until = net.now() + Duration::from_secs(60);
        net.run_until(until);
        assert_eq!(net.node(1).history().store.len(), 3, "{conditions:?}");

        // 2. The IM Server ends the session.
        let now = net.now();
        let focus = net.node(2).scripted();
        let d = focus.dialog.unwrap();
        focus.ua.bye(d, now).unwrap();
        run(&mut net);
        assert!(history_events(&net).iter().any(|e| matches!(
            e,
            Event::SessionEnded {
                reason: EndReason::ByeReceived,
                ..
            }
        )));

        // 3. Later Alice retrieves it with a URI-list INVITE.
        let refs: Vec<String> = net
            .node(1)
            .history()
            .store
            .iter()
            .map(|(r, _)| r.clone())
            .collect();
        let entries: String = refs
            .iter()
            .map(|r| format!("<entry uri=\"{r}\"/>"))
            .collect();
        let list = format!("<?xml version=\"1.0\"?><resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>{entries}</list></resource-lists>");
        let now = net.now();
        let client = net.node(0).scripted();
        let sdp = String::from_utf8(client.retrieval_offer(Direction::RecvOnly)).unwrap();
        let body = format!(
            "--b7\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b7\r\nContent-Type: application/resource-lists+xml\r\n\
             Content-Disposition: recipient-list\r\n\r\n{list}\r\n--b7--\r\n"
        );
        let invite = RequestSpec::new(
            Method::Invite,
            "sip:history@10.0.0.2:5060",
            format!("<{ALICE}>"),
            "<sip:history@im.example.com>",
        )
        .with_header("P-Asserted-Identity", format!("<{ALICE}>"))
        .with_body("multipart/mixed;boundary=b7", body.into_bytes());
        client.send(invite, now);
        run(&mut net);

        let received = net.node(0).scripted().received.clone();
        assert_eq!(received.len(), 3, "{conditions:?}");
        for (got, (from, date, text)) in received.iter().zip(&said) {
            assert_eq!(got.content_type, "message/cpim");
            let c = CpimMessage::parse(&got.body).unwrap();
            assert_eq!(c.from.as_ref().unwrap().uri, *from);
            assert_eq!(c.to[0].uri, IDENTITY);
            assert_eq!(c.date_time.as_deref(), Some(*date));
            assert_eq!(c.mime_headers.get("Content-Type"), Some("text/plain"));
            assert_eq!(&*c.content, text.as_bytes());
        }
        // The History Function released the retrieval session.
        assert!(history_events(&net).iter().any(|e| matches!(
            e,
            Event::SessionEnded {
                reason: EndReason::Completed,
                ..
            }
        )));
        assert!(net
            .wire()
            .iter()
            .any(|r| r.to == addr(CLIENT) && r.first_line().starts_with("BYE ")));
        assert!(net.node(1).history().history.is_idle());
    }
}
