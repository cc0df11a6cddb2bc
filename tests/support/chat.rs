//! Real IM Clients chatting through the real IM Server on the simulator,
//! for the IMDN and is-composing flows: the SIP/IP Core (node 0), the IM
//! Server (1, its MSRP on its SIP address), then one IM Client per user
//! (2, 3, ...).

use std::time::Duration;

use oma_im::im::client::{ClientConfig, Event, ImClient, ImSessionId};
use oma_im::sim::{Faults, SimEvent};

use super::im::client_config;
use super::im_server::scenario::config;
use super::im_server::{client_addr, core, Group, CORE, FACTORY, SERVER};

/// The network of `users`, each client's configuration adjusted by `tune`
/// (given the user's index).
pub fn network(
    users: &[&str],
    faults: Faults,
    seed: u64,
    mut tune: impl FnMut(usize, &mut ClientConfig),
) -> Group {
    let mut cfg = config();
    cfg.msrp_authority = SERVER.to_owned();
    let mut net = Group::new(faults, seed, core(), cfg);
    for (i, user) in users.iter().enumerate() {
        let mut c = client_config(
            user,
            client_addr(user),
            CORE.parse().unwrap(),
            seed * 10 + i as u64,
        );
        c.conference_factory_uri = FACTORY.to_owned();
        tune(i, &mut c);
        net.add_client(c);
    }
    net
}

/// The IM Client at node `index`.
pub fn client(net: &mut Group, index: usize) -> &mut ImClient {
    net.client(index)
}

/// Runs `secs` of virtual time, accepting every invitation.
pub fn run(net: &mut Group, secs: u64) {
    let until = net.now() + Duration::from_secs(secs);
    net.run_until(until, |_, node, event, now| {
        if let SimEvent::Client(Event::InvitationReceived { session, .. }) = event {
            node.client().accept(*session, now).expect("accept");
        }
    });
}

/// Every event of the IM Client at node `index`, in order.
pub fn events(net: &Group, index: usize) -> Vec<Event> {
    net.client_events(index)
}

/// The session of the client at `index` established last.
pub fn established(net: &Group, index: usize) -> ImSessionId {
    events(net, index)
        .into_iter()
        .rev()
        .find_map(|e| match e {
            Event::SessionEstablished { session, .. } => Some(session),
            _ => None,
        })
        .expect("an established session")
}

/// Node 2 starts an ad-hoc group with the users of nodes 3.. and
/// everybody joins; the session of each node, from node 2 on.
pub fn group(net: &mut Group, users: &[&str]) -> Vec<ImSessionId> {
    let now = net.now();
    let invited: Vec<String> = users[1..]
        .iter()
        .map(|u| format!("sip:{u}@example.com"))
        .collect();
    let invited: Vec<&str> = invited.iter().map(String::as_str).collect();
    client(net, 2).start_ad_hoc(&invited, now).expect("ad hoc");
    run(net, 10);
    (0..users.len())
        .map(|i| {
            let s = established(net, 2 + i);
            assert!(
                client(net, 2 + i).is_established(s),
                "node {} joined",
                2 + i
            );
            s
        })
        .collect()
}

/// Every client leaves its sessions; the network must go idle.
pub fn leave_all(net: &mut Group, sessions: &[(usize, ImSessionId)]) {
    let now = net.now();
    for (index, session) in sessions {
        let _ = client(net, *index).leave(*session, now);
    }
    if let Err(e) = net.sim.run_until_idle(Duration::from_secs(300)) {
        panic!("{e}");
    }
}
