//! The conference state (RFC 4575) of an IM Session is its roster: only its
//! Participants may subscribe to it, and each session keeps a bounded
//! number of subscriptions, so one join cannot be made to send thousands
//! of NOTIFYs.

use oma_im::dialog::RequestSpec;
use oma_im::sip::Method;

use crate::support::im_server::scenario::{config, inviter_offer, status, Scenario};

const BOB: &str = "sip:bob@example.com";
const CAROL: &str = "sip:carol@example.com";

/// `user` SUBSCRIBEs to the conference state of `identity`.
fn subscribe(sc: &mut Scenario, user: &str, identity: &str) {
    let now = sc.now();
    let spec = RequestSpec::new(
        Method::Subscribe,
        identity,
        format!("<sip:{user}@example.com>"),
        format!("<{identity}>"),
    )
    .with_header("Event", "conference")
    .with_header("Accept", "application/conference-info+xml")
    .with_header("Expires", "600");
    sc.client(user).ua.send_request(spec, now).unwrap();
}

fn subscribe_finals(sc: &Scenario, user: &str) -> Vec<u16> {
    sc.responses_to_method(user, "SUBSCRIBE")
        .iter()
        .map(|r| status(r))
        .filter(|c| *c >= 200)
        .collect()
}

/// Carol, invited but busy at first, joins through the IM Session Identity.
fn carol_joins(sc: &mut Scenario, identity: &str) {
    let offer = inviter_offer("carol", "message/cpim").into_bytes();
    sc.invite("carol", identity, &[], "application/sdp", offer);
    sc.run(10);
}

#[test]
fn a_stranger_cannot_read_the_roster() {
    let mut sc = Scenario::new(
        config(),
        &[
            ("alice", &[]),
            ("bob", &[200]),
            ("carol", &[486]),
            ("mallory", &[]),
        ],
    );
    sc.adhoc("alice", &[BOB, CAROL]);
    sc.run(10);
    let (_, identity) = sc.session();
    subscribe(&mut sc, "mallory", &identity);
    subscribe(&mut sc, "alice", &identity);
    sc.run(10);
    assert_eq!(subscribe_finals(&sc, "mallory"), [403]);
    assert_eq!(subscribe_finals(&sc, "alice"), [200]);
    carol_joins(&mut sc, &identity);
    assert!(sc.requests_to("NOTIFY", "mallory").is_empty(), "no NOTIFY");
    // Alice got the full state, then carol's arrival.
    assert_eq!(sc.requests_to("NOTIFY", "alice").len(), 2);
}

#[test]
fn roster_subscriptions_are_capped_per_session() {
    let mut cfg = config();
    cfg.limits.max_subscriptions_per_session = 3;
    let mut sc = Scenario::new(cfg, &[("alice", &[]), ("bob", &[200]), ("carol", &[486])]);
    sc.adhoc("alice", &[BOB, CAROL]);
    sc.run(10);
    let (_, identity) = sc.session();
    for _ in 0..5 {
        subscribe(&mut sc, "alice", &identity);
    }
    sc.run(10);
    let mut codes = subscribe_finals(&sc, "alice");
    codes.sort_unstable();
    assert_eq!(codes, [200, 200, 200, 503, 503]);
    assert_eq!(
        sc.requests_to("NOTIFY", "alice").len(),
        3,
        "one full state each"
    );
    // One join: one NOTIFY per accepted subscription, no more.
    carol_joins(&mut sc, &identity);
    assert_eq!(sc.requests_to("NOTIFY", "alice").len(), 6);
    let (session, _) = sc.session();
    assert_eq!(sc.server().participants(session).len(), 3);
}
