//! What the application adds to a response is checked before anything is
//! sent: the user agent copies the request's fields into the response and
//! checks only the fields the application appends (and its Reason-Phrase),
//! with the parser's verdict. A response the parser would refuse, or that
//! injects a second copy of a single-instance field, is refused with a
//! typed error and nothing crosses the wire; a valid one arrives as
//! written.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::dialog::{Config, Event, RequestSpec, ResponseSpec, UaError};
use oma_im::sim::Faults;
use oma_im::sip::{HeaderName, Method, SipErrorKind};
use oma_im::transaction::Transport;
use support::agents::Agents;

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

/// The kind of error each refused response gets.
fn refused() -> Vec<(ResponseSpec, SipErrorKind)> {
    let ok = || ResponseSpec::new(200);
    vec![
        (
            ok().with_header("From", "<sip:mallory@example.com>;tag=9"),
            SipErrorKind::DuplicateHeader(HeaderName::From),
        ),
        (
            ok().with_header("Call-ID", "other"),
            SipErrorKind::DuplicateHeader(HeaderName::CallId),
        ),
        (
            ok().with_header("Subject", "a\nInjected: b"),
            SipErrorKind::BareLineEnding,
        ),
        (
            ok().with_header("Subject", "a\r\n\r\nINVITE sip:x@example.com SIP/2.0"),
            SipErrorKind::UnterminatedHeaders,
        ),
        (
            ok().with_header("Expires", "soon"),
            SipErrorKind::MalformedHeader(HeaderName::Expires),
        ),
        (
            ok().with_header("Bad@Name", "x"),
            SipErrorKind::InvalidHeaderName,
        ),
        (
            ok().with_header("Content-Length", "99"),
            SipErrorKind::DuplicateHeader(HeaderName::ContentLength),
        ),
        (
            ResponseSpec {
                reason: Some("OK\r\nInjected: b".into()),
                ..ok()
            },
            SipErrorKind::InvalidReasonPhrase,
        ),
    ]
}

#[test]
fn appended_fields_are_checked_and_a_refused_response_sends_nothing() {
    let mut net = Agents::new(
        Faults::PERFECT,
        1,
        vec![
            Config::new(addr(1), addr(2), Transport::Udp, 1),
            Config::new(addr(2), addr(1), Transport::Udp, 2),
        ],
    );
    let now = net.now();
    let options = RequestSpec::new(
        Method::Options,
        "sip:bob@192.0.2.2",
        "<sip:alice@example.com>",
        "<sip:bob@example.com>",
    );
    net.ua(0).send_request(options, now).unwrap();
    let mut verdicts = Vec::new();
    net.run_until_quiet(Duration::from_secs(60), |i, ua, e, now| {
        if let (1, Event::RequestReceived { transaction, .. }) = (i, e) {
            for (spec, kind) in refused() {
                let got = ua.respond(*transaction, spec, now);
                verdicts.push((
                    got.map_err(|e| match e {
                        UaError::InvalidMessage(e) => Some(e.kind),
                        _ => None,
                    }),
                    kind,
                ));
            }
            let good = ResponseSpec::new(200)
                .with_header("Subject", "checked")
                .with_header("Expires", "3600");
            ua.respond(*transaction, good, now).unwrap();
        }
    });
    assert_eq!(verdicts.len(), refused().len(), "Bob got the OPTIONS");
    for (got, kind) in verdicts {
        assert_eq!(got, Err(Some(kind)));
    }
    // Only the valid response crossed, once, and Alice parsed it.
    assert_eq!(net.lines(1, 0), ["SIP/2.0 200 OK"]);
    let received: Vec<_> = net
        .events()
        .into_iter()
        .filter_map(|(i, e)| match (i, e) {
            (0, Event::ResponseReceived { response, .. }) => Some(response),
            _ => None,
        })
        .collect();
    assert_eq!(received.len(), 1);
    let m = received[0].message();
    assert_eq!(
        m.header(HeaderName::Subject).map(|v| v.value),
        Some("checked")
    );
    assert_eq!(m.header(HeaderName::Expires).map(|v| v.value), Some("3600"));
}
