//! The Contact a user agent writes: its default with the configured
//! parameters (feature tags), a request's or response's own Contact, and
//! the dialog keeping that Contact for its target-refresh requests and
//! responses — all as it crossed the wire.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{Config, DialogRequestSpec, Event, RequestSpec, ResponseSpec, UserAgent};
use oma_im::sim::{Faults, WireRecord};
use oma_im::sip::{parse_message, HeaderName, Method};
use oma_im::transaction::Transport;
use support::agents::Agents;

const FOCUS_CONTACT: &str = "<sip:conf-1@192.0.2.2:5060>;isfocus";

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

/// Alice's UA adds `;+g.oma.sip-im` to its default Contact; Bob's has none.
fn pair() -> Agents {
    let mut alice = Config::new(addr(1), addr(2), Transport::Udp, 11);
    alice.contact_params = ";+g.oma.sip-im".to_owned();
    let bob = Config::new(addr(2), addr(1), Transport::Udp, 12);
    Agents::new(Faults::PERFECT, 5, vec![alice, bob])
}

fn contact(record: &WireRecord) -> Option<String> {
    let msg = parse_message(&record.bytes).unwrap();
    msg.header(HeaderName::Contact).map(|h| h.value.to_owned())
}

fn sent<'n>(net: &'n Agents, start: &str) -> Vec<&'n WireRecord> {
    net.wire()
        .iter()
        .filter(|r| r.first_line().starts_with(start))
        .collect()
}

/// Bob answers the INVITE with 180 naming the focus Contact, then 200
/// without one (the dialog's is used); every UPDATE gets a plain 200.
fn bob(i: usize, ua: &mut UserAgent, event: &Event, now: Instant) {
    if let (
        1,
        Event::RequestReceived {
            transaction,
            request,
            ..
        },
    ) = (i, event)
    {
        match request.message().method() {
            Some("INVITE") => {
                let ringing = ResponseSpec::new(180).with_contact(FOCUS_CONTACT);
                ua.respond(*transaction, ringing, now).unwrap();
                ua.respond(*transaction, ResponseSpec::new(200), now)
                    .unwrap();
            }
            Some("UPDATE") => ua
                .respond(*transaction, ResponseSpec::new(200), now)
                .unwrap(),
            _ => {}
        }
    }
}

#[test]
fn default_contact_carries_the_configured_parameters_and_dialogs_keep_their_contact() {
    let mut net = pair();
    let now = net.now();
    let invite = RequestSpec::new(
        Method::Invite,
        "sip:conference-factory@192.0.2.2",
        "<sip:alice@example.com>",
        "<sip:conference-factory@example.com>",
    );
    net.ua(0).send_request(invite, now).unwrap();
    net.run_until_quiet(Duration::from_secs(60), bob);

    let alice_default = "<sip:192.0.2.1:5060>;+g.oma.sip-im";
    assert_eq!(
        contact(sent(&net, "INVITE")[0]).as_deref(),
        Some(alice_default)
    );
    let ringing = sent(&net, "SIP/2.0 180");
    let ok = sent(&net, "SIP/2.0 200");
    assert_eq!(contact(ringing[0]).as_deref(), Some(FOCUS_CONTACT));
    // The 200 confirming the early dialog carries the dialog's Contact.
    assert_eq!(contact(ok[0]).as_deref(), Some(FOCUS_CONTACT));
    // Alice's remote target is the focus URI: her ACK goes there.
    assert_eq!(
        sent(&net, "ACK")[0].first_line(),
        "ACK sip:conf-1@192.0.2.2:5060 SIP/2.0"
    );

    // Target refreshes in both directions, and their 2xx, repeat each
    // side's dialog Contact.
    let alice_dialog = net.ua(0).dialogs().next().unwrap().id();
    let bob_dialog = net.ua(1).dialogs().next().unwrap().id();
    assert_eq!(
        net.ua(1).dialog(bob_dialog).unwrap().local_contact(),
        Some(FOCUS_CONTACT)
    );
    let now = net.now();
    net.ua(0)
        .send_in_dialog(alice_dialog, DialogRequestSpec::new(Method::Update), now)
        .unwrap();
    net.run_until_quiet(Duration::from_secs(60), bob);
    let now = net.now();
    net.ua(1)
        .send_in_dialog(bob_dialog, DialogRequestSpec::new(Method::Update), now)
        .unwrap();
    net.run_until_quiet(Duration::from_secs(60), |i, ua, event, now| {
        if let (0, Event::RequestReceived { transaction, .. }) = (i, event) {
            ua.respond(*transaction, ResponseSpec::new(200), now)
                .unwrap();
        }
    });
    let updates = sent(&net, "UPDATE");
    assert_eq!(updates.len(), 2);
    assert!(updates[0]
        .first_line()
        .starts_with("UPDATE sip:conf-1@192.0.2.2:5060 "));
    assert_eq!(contact(updates[0]).as_deref(), Some(alice_default));
    assert_eq!(contact(updates[1]).as_deref(), Some(FOCUS_CONTACT));
    let oks = sent(&net, "SIP/2.0 200");
    assert_eq!(oks.len(), 3);
    assert_eq!(contact(oks[1]).as_deref(), Some(FOCUS_CONTACT));
    assert_eq!(contact(oks[2]).as_deref(), Some(alice_default));
}

#[test]
fn a_request_names_its_own_contact_and_its_dialog_keeps_it() {
    let mut net = pair();
    let now = net.now();
    let own = "<sip:alice-session-7@192.0.2.1:5060>;+g.oma.sip-im;expires=60";
    let invite = RequestSpec::new(
        Method::Invite,
        "sip:bob@192.0.2.2",
        "<sip:alice@example.com>",
        "<sip:bob@example.com>",
    )
    .with_contact(own);
    net.ua(0).send_request(invite, now).unwrap();
    net.run_until_quiet(Duration::from_secs(60), bob);
    assert_eq!(contact(sent(&net, "INVITE")[0]).as_deref(), Some(own));
    let alice_dialog = net.ua(0).dialogs().next().unwrap().id();
    assert_eq!(
        net.ua(0).dialog(alice_dialog).unwrap().local_contact(),
        Some(own)
    );
    let now = net.now();
    net.ua(0)
        .send_in_dialog(alice_dialog, DialogRequestSpec::new(Method::Update), now)
        .unwrap();
    net.run_until_quiet(Duration::from_secs(60), bob);
    // Bob's remote target is Alice's own Contact URI.
    assert_eq!(contact(sent(&net, "UPDATE")[0]).as_deref(), Some(own));
    let bob_dialog = net.ua(1).dialogs().next().unwrap();
    assert_eq!(
        bob_dialog.remote_target(),
        "sip:alice-session-7@192.0.2.1:5060"
    );
    // A request that creates no dialog, with the default Contact: Bob's
    // plain default (no parameters configured).
    let options = RequestSpec::new(
        Method::Options,
        "sip:alice@192.0.2.1",
        "<sip:bob@example.com>",
        "<sip:alice@example.com>",
    );
    let now = net.now();
    net.ua(1).send_request(options, now).unwrap();
    net.run_until_quiet(Duration::from_secs(60), |i, ua, event, now| {
        if let (0, Event::RequestReceived { transaction, .. }) = (i, event) {
            ua.respond(*transaction, ResponseSpec::new(200), now)
                .unwrap();
        }
    });
    assert_eq!(
        contact(sent(&net, "OPTIONS")[0]).as_deref(),
        Some("<sip:192.0.2.2:5060>")
    );
}
