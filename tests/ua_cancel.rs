//! CANCEL (§9): the UAC cancels after a provisional (or as soon as one
//! arrives); the UAS answers 200 to the CANCEL and 487 to the INVITE.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use oma_im::dialog::{
    ClientTxId, Config, Event, RequestSpec, ResponseSpec, TerminationReason, UaError,
};
use oma_im::sim::Faults;
use oma_im::sip::Method;
use oma_im::transaction::Transport;
use support::agents::Agents;

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n], 5060))
}

fn pair(seed: u64, conditions: Faults) -> Agents {
    Agents::new(
        conditions,
        seed,
        vec![
            Config::new(addr(1), addr(2), Transport::Udp, seed),
            Config::new(addr(2), addr(1), Transport::Udp, seed + 100),
        ],
    )
}

fn invite() -> RequestSpec {
    RequestSpec::new(
        Method::Invite,
        "sip:bob@192.0.2.2",
        "<sip:alice@example.com>",
        "<sip:bob@example.com>",
    )
}

fn status_events(net: &Agents, node: usize) -> Vec<(u16, String)> {
    net.events()
        .into_iter()
        .filter(|(i, _)| *i == node)
        .filter_map(|(_, e)| match e {
            Event::ResponseReceived { response, .. } => {
                let m = response.message();
                Some((
                    m.status_code().unwrap(),
                    m.cseq().unwrap().unwrap().method.to_string(),
                ))
            }
            _ => None,
        })
        .collect()
}

/// Alice cancels at once (`cancel_on` 0), on the 180, or (`cancel_on` 100)
/// on the first provisional, whichever it is.
fn run_cancel_flow(seed: u64, conditions: Faults, cancel_on: u16) -> Agents {
    let cancel_at_once = cancel_on == 0;
    let mut net = pair(seed, conditions);
    let now = net.now();
    let tx: ClientTxId = net.ua(0).send_request(invite(), now).unwrap();
    if cancel_at_once {
        // Before any provisional: the CANCEL waits for one (§9.1).
        net.ua(0).cancel(tx, now).unwrap();
        assert_eq!(net.ua(0).cancel(tx, now), Err(UaError::NotCancellable));
    }
    net.run_until_quiet(Duration::from_secs(300), |i, ua, e, now| match (i, e) {
        (
            1,
            Event::RequestReceived {
                transaction,
                request,
                ..
            },
        ) if request.message().method() == Some("INVITE") => {
            ua.respond(*transaction, ResponseSpec::new(180), now)
                .unwrap();
        }
        (
            0,
            Event::ResponseReceived {
                transaction,
                response,
                ..
            },
        ) if match response.message().status_code() {
            Some(180) => cancel_on == 180 || cancel_on == 100,
            Some(100) => cancel_on == 100,
            _ => false,
        } =>
        {
            let _ = ua.cancel(*transaction, now);
        }
        _ => {}
    });
    net
}

#[test]
fn cancel_after_ringing_gets_200_and_487() {
    let net = run_cancel_flow(1, Faults::PERFECT, 180);
    assert_eq!(
        net.lines(0, 1),
        [
            "INVITE sip:bob@192.0.2.2 SIP/2.0",
            "CANCEL sip:bob@192.0.2.2 SIP/2.0",
            "ACK sip:bob@192.0.2.2 SIP/2.0"
        ]
    );
    assert_eq!(
        net.lines(1, 0),
        [
            "SIP/2.0 100 Trying",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK",
            "SIP/2.0 487 Request Terminated"
        ]
    );
    // The UAC sees the INVITE's responses; the CANCEL's 200 is the UA's own business.
    assert_eq!(
        status_events(&net, 0),
        [
            (100, "INVITE".to_owned()),
            (180, "INVITE".to_owned()),
            (487, "INVITE".to_owned())
        ]
    );
    assert!(net
        .events()
        .iter()
        .any(|(i, e)| *i == 1 && matches!(e, Event::RequestCancelled { .. })));
    // Both early dialogs end with the 487.
    for node in 0..2 {
        assert!(net.events().iter().any(|(i, e)| *i == node
            && matches!(
                e,
                Event::DialogTerminated {
                    reason: TerminationReason::FinalResponse(487),
                    ..
                }
            )));
    }
    assert!(net.is_idle());
}

#[test]
fn cancel_before_any_provisional_goes_out_with_the_first() {
    let net = run_cancel_flow(2, Faults::PERFECT, 0);
    let lines = net.lines(0, 1);
    assert_eq!(lines[1], "CANCEL sip:bob@192.0.2.2 SIP/2.0");
    assert!(status_events(&net, 0).contains(&(487, "INVITE".to_owned())));
    assert!(net.is_idle());
}

#[test]
fn cancel_flow_survives_a_lossy_network() {
    for seed in 0..20 {
        let net = run_cancel_flow(seed, Faults::lossy(20, 20, Duration::from_millis(200)), 100);
        let finals: Vec<_> = status_events(&net, 0)
            .into_iter()
            .filter(|(c, _)| *c >= 200)
            .collect();
        assert_eq!(finals, [(487, "INVITE".to_owned())], "seed {seed}");
        assert!(net.is_idle());
    }
}
