//! RFC 4028 session timers between two user agents on the simulator
//! (`oma_im::sim`), as bytes: negotiation of the interval and the
//! refresher, 422
//! and the retry at the larger interval, refresh by the UAC and by the UAS
//! (UPDATE and re-INVITE), BYE before expiry when no refresh arrives, and a
//! failed refresh ending the session with a BYE.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{
    Config, Event, RefreshMethod, RequestSpec, ResponseSpec, SessionTimerConfig, TerminationReason,
    UserAgent,
};
use oma_im::sim::{Faults, WireRecord};
use oma_im::sip::{parse_message, HeaderName, Method, Refresher};
use oma_im::transaction::Transport;
use support::agents::Agents;

const SDP: &[u8] = b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\na=accept-types:text/plain\r\n";
const ANSWER: &[u8] = b"v=0\r\no=bob 2890844527 2890844527 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=message 8493 TCP/MSRP *\r\na=accept-types:text/plain\r\n";

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

fn timer(
    se: u32,
    min_se: u32,
    refresher: Option<Refresher>,
    m: RefreshMethod,
) -> SessionTimerConfig {
    SessionTimerConfig {
        session_expires: se,
        min_se,
        refresher,
        refresh_method: m,
    }
}

fn pair(alice: Option<SessionTimerConfig>, bob: Option<SessionTimerConfig>) -> Agents {
    let mut configs = [
        Config::new(addr(1), addr(2), Transport::Udp, 11),
        Config::new(addr(2), addr(1), Transport::Udp, 12),
    ];
    for (c, st) in configs.iter_mut().zip([alice, bob]) {
        if let Some(st) = st {
            *c = c.clone().with_session_timer(st);
        }
    }
    Agents::new(Faults::PERFECT, 7, configs.into())
}

fn invite() -> RequestSpec {
    RequestSpec::new(
        Method::Invite,
        "sip:bob@192.0.2.2",
        "Alice <sip:alice@example.com>",
        "Bob <sip:bob@example.com>",
    )
    .with_body("application/sdp", SDP.to_vec())
}

fn text(r: &WireRecord) -> String {
    String::from_utf8(r.bytes.clone()).unwrap()
}

/// The datagrams from node `from` whose start line begins with `start`.
fn sent<'a>(net: &'a Agents, from: usize, start: &str) -> Vec<&'a WireRecord> {
    let a = net.addr(from);
    net.wire()
        .iter()
        .filter(|r| r.from == a && r.first_line().starts_with(start))
        .collect()
}

fn header(r: &WireRecord, name: &str) -> Option<String> {
    let msg = parse_message(&r.bytes).unwrap();
    let value = msg
        .header(HeaderName::parse(name))
        .map(|h| h.value.to_owned());
    value
}

/// Answers every new request (INVITE with the SDP answer, UPDATE and
/// re-INVITE with 200); `stop(i, event)` says when node `i` hangs up.
fn answering(
    stop: impl Fn(usize, &Event) -> bool,
) -> impl FnMut(usize, &mut UserAgent, &Event, Instant) {
    move |i, ua, event, now| {
        if let Event::RequestReceived {
            transaction,
            request,
            ..
        } = event
        {
            let method = request.message().method().unwrap_or_default().to_owned();
            if method == "INVITE" {
                ua.respond(
                    *transaction,
                    ResponseSpec::new(200).with_body("application/sdp", ANSWER.to_vec()),
                    now,
                )
                .unwrap();
            } else if method != "BYE" {
                ua.respond(*transaction, ResponseSpec::new(200), now)
                    .unwrap();
            }
        }
        if stop(i, event) {
            let dialog = ua.dialogs().next().map(|d| d.id());
            if let Some(dialog) = dialog {
                ua.bye(dialog, now).unwrap();
            }
        }
    }
}

fn refreshed(node: usize) -> impl Fn(usize, &Event) -> bool {
    move |i, e| i == node && matches!(e, Event::SessionRefreshed { .. })
}

fn count(net: &Agents, node: usize, f: impl Fn(&Event) -> bool) -> usize {
    net.events()
        .iter()
        .filter(|(i, e)| *i == node && f(e))
        .count()
}

fn terminated(net: &Agents, node: usize) -> Vec<TerminationReason> {
    net.events()
        .iter()
        .filter(|(i, _)| *i == node)
        .filter_map(|(_, e)| match e {
            Event::DialogTerminated { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn uac_refreshes_with_update_at_half_the_interval() {
    let mut net = pair(
        Some(timer(90, 90, Some(Refresher::Uac), RefreshMethod::Update)),
        Some(SessionTimerConfig::default()),
    );
    let now = net.now();
    net.ua(0).send_request(invite(), now).unwrap();
    let mut refreshes = 0;
    net.run_until_quiet(Duration::from_secs(600), {
        let mut inner = answering(|_, _| false);
        move |i, ua: &mut UserAgent, e: &Event, now| {
            inner(i, ua, e, now);
            if i == 0 && matches!(e, Event::SessionRefreshed { .. }) {
                refreshes += 1;
                if refreshes == 2 {
                    let d = ua.dialogs().next().unwrap().id();
                    ua.bye(d, now).unwrap();
                }
            }
        }
    });
    let invite = sent(&net, 0, "INVITE")[0];
    assert_eq!(
        header(invite, "Session-Expires").as_deref(),
        Some("90;refresher=uac")
    );
    assert_eq!(header(invite, "Min-SE").as_deref(), Some("90"));
    assert_eq!(header(invite, "Supported").as_deref(), Some("timer"));
    let ok = sent(&net, 1, "SIP/2.0 200")[0];
    assert_eq!(
        header(ok, "Session-Expires").as_deref(),
        Some("90;refresher=uac")
    );
    assert_eq!(header(ok, "Require").as_deref(), Some("timer"));
    let updates = sent(&net, 0, "UPDATE");
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].at, Duration::from_secs(45));
    assert_eq!(updates[1].at, Duration::from_secs(90));
    assert_eq!(
        header(updates[0], "Session-Expires").as_deref(),
        Some("90;refresher=uac")
    );
    // Bob, not the refresher, answers each UPDATE with the timer restarted.
    let ok_update = sent(&net, 1, "SIP/2.0 200")
        .into_iter()
        .find(|r| text(r).contains("CSeq: 2 UPDATE"))
        .unwrap();
    assert_eq!(
        header(ok_update, "Session-Expires").as_deref(),
        Some("90;refresher=uac")
    );
    assert_eq!(
        count(&net, 0, |e| matches!(
            e,
            Event::SessionTimerStarted {
                interval: 90,
                local_refresher: true,
                ..
            }
        )),
        1
    );
    assert_eq!(
        count(&net, 1, |e| matches!(
            e,
            Event::SessionTimerStarted {
                interval: 90,
                local_refresher: false,
                ..
            }
        )),
        1
    );
    assert_eq!(
        count(&net, 1, |e| matches!(e, Event::SessionRefreshed { .. })),
        2
    );
    assert!(sent(&net, 1, "BYE").is_empty(), "bob never gave up");
    assert_eq!(terminated(&net, 0), [TerminationReason::ByeSent]);
    assert!(net.is_idle());
}

#[test]
fn uas_refreshes_with_reinvite_carrying_its_session_description() {
    let mut net = pair(
        Some(timer(120, 90, None, RefreshMethod::Update)),
        Some(timer(1800, 90, Some(Refresher::Uas), RefreshMethod::Invite)),
    );
    let now = net.now();
    net.ua(0).send_request(invite(), now).unwrap();
    net.run_until_quiet(Duration::from_secs(600), answering(refreshed(1)));
    let invite = sent(&net, 0, "INVITE")[0];
    assert_eq!(header(invite, "Session-Expires").as_deref(), Some("120"));
    let ok = sent(&net, 1, "SIP/2.0 200")[0];
    assert_eq!(
        header(ok, "Session-Expires").as_deref(),
        Some("120;refresher=uas")
    );
    let reinvites = sent(&net, 1, "INVITE");
    assert_eq!(reinvites.len(), 1);
    assert_eq!(reinvites[0].at, Duration::from_secs(60));
    // In the re-INVITE Bob is the UAC: refresher=uac, his own SDP again.
    assert_eq!(
        header(reinvites[0], "Session-Expires").as_deref(),
        Some("120;refresher=uac")
    );
    assert!(text(reinvites[0]).ends_with(std::str::from_utf8(ANSWER).unwrap()));
    assert_eq!(
        sent(&net, 1, "ACK").len(),
        1,
        "bob ACKs the 2xx of his re-INVITE"
    );
    assert_eq!(
        count(&net, 0, |e| matches!(
            e,
            Event::SessionRefreshed {
                interval: 120,
                local_refresher: false,
                ..
            }
        )),
        1
    );
    assert_eq!(terminated(&net, 1), [TerminationReason::ByeSent]);
    assert_eq!(terminated(&net, 0), [TerminationReason::ByeReceived]);
    assert!(net.is_idle());
}

#[test]
fn too_small_interval_gets_422_and_the_retry_asks_for_min_se() {
    let mut net = pair(
        Some(timer(90, 90, Some(Refresher::Uac), RefreshMethod::Update)),
        Some(timer(1800, 120, None, RefreshMethod::Update)),
    );
    let now = net.now();
    let first = net.ua(0).send_request(invite(), now).unwrap();
    net.run_until_quiet(Duration::from_secs(600), answering(refreshed(0)));
    assert_eq!(
        net.lines(1, 0)[..2],
        [
            "SIP/2.0 100 Trying",
            "SIP/2.0 422 Session Interval Too Small"
        ]
    );
    let too_small = sent(&net, 1, "SIP/2.0 422")[0];
    assert_eq!(header(too_small, "Min-SE").as_deref(), Some("120"));
    let invites = sent(&net, 0, "INVITE");
    assert_eq!(invites.len(), 2);
    let (a, b) = (
        parse_message(&invites[0].bytes).unwrap(),
        parse_message(&invites[1].bytes).unwrap(),
    );
    assert_eq!(a.call_id().unwrap().unwrap(), b.call_id().unwrap().unwrap());
    assert_eq!(b.cseq().unwrap().unwrap().seq, 2);
    assert_eq!(
        header(invites[1], "Session-Expires").as_deref(),
        Some("120;refresher=uac")
    );
    assert_eq!(header(invites[1], "Min-SE").as_deref(), Some("120"));
    assert!(net.events().iter().any(|(i, e)| *i == 0
        && matches!(e, Event::InviteRetried { previous, session_expires: 120, .. } if *previous == first)));
    // Bob never saw the first INVITE; the refresh honours Min-SE 120.
    assert_eq!(
        count(&net, 1, |e| matches!(
            e,
            Event::RequestReceived { dialog: None, .. }
        )),
        1
    );
    let update = sent(&net, 0, "UPDATE")[0];
    assert_eq!(update.at, Duration::from_secs(60));
    assert_eq!(
        header(update, "Session-Expires").as_deref(),
        Some("120;refresher=uac")
    );
    assert_eq!(header(update, "Min-SE").as_deref(), Some("120"));
    assert!(net.is_idle());
}

#[test]
fn non_refresher_sends_bye_before_expiry_when_no_refresh_arrives() {
    // Alice asks for a 90 s timer and to refresh, but has no session timer
    // of her own: she never refreshes.
    let mut net = pair(None, Some(SessionTimerConfig::default()));
    let now = net.now();
    let spec = invite()
        .with_header("Supported", "timer")
        .with_header("Session-Expires", "90;refresher=uac");
    net.ua(0).send_request(spec, now).unwrap();
    net.run_until_quiet(Duration::from_secs(600), answering(|_, _| false));
    let byes = sent(&net, 1, "BYE");
    assert_eq!(byes.len(), 1);
    // 90 - min(32, 90 / 3) = 60 s after the 2xx.
    assert_eq!(byes[0].at, Duration::from_secs(60));
    assert_eq!(
        count(&net, 1, |e| matches!(e, Event::SessionExpired { .. })),
        1
    );
    assert_eq!(terminated(&net, 1), [TerminationReason::SessionExpired]);
    assert_eq!(terminated(&net, 0), [TerminationReason::ByeReceived]);
    assert!(net.is_idle());
}

#[test]
fn uas_without_timer_support_leaves_no_timer() {
    let mut net = pair(Some(timer(90, 90, None, RefreshMethod::Update)), None);
    let now = net.now();
    net.ua(0).send_request(invite(), now).unwrap();
    net.run_until(now + Duration::from_secs(300), answering(|_, _| false));
    let ok = sent(&net, 1, "SIP/2.0 200")[0];
    assert_eq!(header(ok, "Session-Expires"), None);
    assert!(sent(&net, 0, "UPDATE").is_empty());
    assert!(sent(&net, 1, "BYE").is_empty());
    assert_eq!(
        count(&net, 0, |e| matches!(e, Event::SessionTimerStarted { .. })),
        0
    );
    let d = net.ua(0).dialogs().next().unwrap().id();
    assert_eq!(net.ua(0).session_timer(d), None);
    let at = net.now();
    net.ua(0).bye(d, at).unwrap();
    net.run_until_quiet(Duration::from_secs(60), |_, _, _, _| {});
    assert_eq!(terminated(&net, 0), [TerminationReason::ByeSent]);
    assert!(net.is_idle());
}

#[test]
fn uac_without_timer_support_makes_the_uas_the_refresher() {
    // A Session-Expires without Supported: timer (a proxy put it there):
    // the UAS must refresh and must not require timer (RFC 4028 §9).
    let mut net = pair(
        None,
        Some(timer(1800, 90, Some(Refresher::Uac), RefreshMethod::Update)),
    );
    let now = net.now();
    net.ua(0)
        .send_request(invite().with_header("Session-Expires", "100"), now)
        .unwrap();
    net.run_until_quiet(Duration::from_secs(600), answering(refreshed(1)));
    let ok = sent(&net, 1, "SIP/2.0 200")[0];
    assert_eq!(
        header(ok, "Session-Expires").as_deref(),
        Some("100;refresher=uas")
    );
    assert_eq!(header(ok, "Require"), None);
    let updates = sent(&net, 1, "UPDATE");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].at, Duration::from_secs(50));
    assert!(net.is_idle());
}

#[test]
fn failed_refresh_ends_the_session_with_bye() {
    for status in [481u16, 408, 500] {
        let mut net = pair(
            Some(timer(90, 90, Some(Refresher::Uac), RefreshMethod::Update)),
            Some(SessionTimerConfig::default()),
        );
        let now = net.now();
        net.ua(0).send_request(invite(), now).unwrap();
        net.run_until_quiet(Duration::from_secs(600), move |_, ua, e, now| {
            if let Event::RequestReceived {
                transaction,
                request,
                ..
            } = e
            {
                let code = match request.message().method() {
                    Some("INVITE") => 200,
                    Some("UPDATE") => status,
                    _ => return,
                };
                ua.respond(*transaction, ResponseSpec::new(code), now)
                    .unwrap();
            }
        });
        let byes = sent(&net, 0, "BYE");
        assert_eq!(byes.len(), 1, "status {status}");
        assert_eq!(byes[0].at, Duration::from_secs(45));
        assert_eq!(
            terminated(&net, 0),
            [TerminationReason::SessionRefreshFailed(status)]
        );
        assert!(net.is_idle());
    }
}

#[test]
fn refresh_that_times_out_ends_the_session_with_bye() {
    // 180 s: the refresh at 90 s times out at 122 s, before Bob's expiry
    // (148 s).
    let mut net = pair(
        Some(timer(180, 90, Some(Refresher::Uac), RefreshMethod::Update)),
        Some(SessionTimerConfig::default()),
    );
    let now = net.now();
    net.ua(0).send_request(invite(), now).unwrap();
    // Bob's application never answers the UPDATE.
    net.run_until_quiet(Duration::from_secs(600), |_, ua, e, now| {
        if let Event::RequestReceived {
            transaction,
            request,
            ..
        } = e
        {
            if request.message().method() == Some("INVITE") {
                ua.respond(*transaction, ResponseSpec::new(200), now)
                    .unwrap();
            }
        }
    });
    let byes = sent(&net, 0, "BYE");
    assert_eq!(byes.len(), 1);
    // Timer F: 64*T1 = 32 s after the UPDATE at 90 s.
    assert_eq!(byes[0].at, Duration::from_secs(90 + 32));
    assert_eq!(
        terminated(&net, 0),
        [TerminationReason::SessionRefreshFailed(408)]
    );
}
