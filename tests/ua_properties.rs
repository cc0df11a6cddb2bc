//! Properties of two user agents driven by random interleavings of inputs
//! (delivery in any order, loss, duplication, garbage), timeouts and user
//! commands: nothing panics, no call leaves a deadline at or before `now`,
//! and once both sides have been driven to quiescence nothing is left alive
//! (session timers on or off, subscriptions included).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{
    ClientTxId, Config, DialogId, DialogRequestSpec, Event, Input, Output, RequestSpec,
    ResponseSpec, ServerTxId, SessionTimerConfig, SubscribeSpec, SubscriptionId, UserAgent,
};
use oma_im::sip::{Method, Refresher};
use oma_im::transaction::Transport;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Invite(usize),
    Message(usize),
    Deliver(usize),
    Duplicate(usize),
    Lose(usize),
    Advance(u64),
    Respond(usize, u16),
    Bye(usize),
    Cancel(usize),
    InDialog(usize),
    Garbage(usize, Vec<u8>),
    Subscribe(usize),
    Notify(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..2usize).prop_map(Op::Invite),
        1 => (0..2usize).prop_map(Op::Message),
        4 => any::<usize>().prop_map(Op::Deliver),
        1 => any::<usize>().prop_map(Op::Duplicate),
        1 => any::<usize>().prop_map(Op::Lose),
        2 => (0..40_000u64).prop_map(Op::Advance),
        3 => (any::<usize>(), prop::sample::select(vec![100u16, 180, 183, 200, 202, 404, 486, 500, 603])).prop_map(|(i, s)| Op::Respond(i, s)),
        1 => any::<usize>().prop_map(Op::Bye),
        1 => any::<usize>().prop_map(Op::Cancel),
        1 => any::<usize>().prop_map(Op::InDialog),
        1 => ((0..2usize), prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(i, b)| Op::Garbage(i, b)),
        1 => (0..2usize).prop_map(Op::Subscribe),
        1 => any::<usize>().prop_map(Op::Notify),
    ]
}

struct World {
    uas: [UserAgent; 2],
    addrs: [SocketAddr; 2],
    now: Instant,
    flight: Vec<(usize, Vec<u8>, Transport)>,
    pending: Vec<(usize, ServerTxId)>,
    dialogs: Vec<(usize, DialogId)>,
    invites: Vec<(usize, ClientTxId)>,
    served: Vec<(usize, SubscriptionId)>,
}

impl World {
    fn new(transport: Transport, seed: u64, timers: bool) -> Self {
        let addrs = [
            SocketAddr::from(([192, 0, 2, 1], 5060)),
            SocketAddr::from(([192, 0, 2, 2], 5060)),
        ];
        let config = |i: usize, seed| {
            let c = Config::new(addrs[i], addrs[1 - i], transport, seed);
            if timers {
                c.with_session_timer(SessionTimerConfig {
                    session_expires: 90,
                    refresher: (seed & 1 == 1).then_some(Refresher::Uac),
                    ..SessionTimerConfig::default()
                })
            } else {
                c
            }
        };
        World {
            uas: [
                UserAgent::new(config(0, seed)),
                UserAgent::new(config(1, seed ^ 0x5555)),
            ],
            addrs,
            now: Instant::now(),
            flight: Vec::new(),
            pending: Vec::new(),
            dialogs: Vec::new(),
            invites: Vec::new(),
            served: Vec::new(),
        }
    }

    /// Drains both sides; checks the never-spin contract.
    fn pump(&mut self) {
        for i in 0..2 {
            if let Some(at) = self.uas[i].poll_timeout() {
                assert!(at > self.now, "a deadline at or before now was left behind");
            }
            while let Some(o) = self.uas[i].poll_output() {
                match o {
                    Output::Transmit(t) => {
                        assert_eq!(t.destination, self.addrs[1 - i]);
                        self.flight.push((1 - i, t.bytes, t.transport));
                    }
                    Output::Event(Event::RequestReceived { transaction, .. }) => {
                        self.pending.push((i, transaction))
                    }
                    Output::Event(
                        Event::DialogEarly { dialog } | Event::DialogEstablished { dialog },
                    ) => self.dialogs.push((i, dialog)),
                    Output::Event(_) => {}
                }
            }
        }
    }

    fn deliver(&mut self, k: usize, keep: bool) {
        if self.flight.is_empty() {
            return;
        }
        let k = k % self.flight.len();
        let (to, bytes, transport) = if keep {
            self.flight[k].clone()
        } else {
            self.flight.remove(k)
        };
        let source = self.addrs[1 - to];
        self.uas[to].handle_input(
            Input::Datagram {
                bytes: &bytes,
                source,
                transport,
            },
            self.now,
        );
    }

    fn spec(method: Method<'static>) -> RequestSpec {
        RequestSpec::new(
            method,
            "sip:peer@192.0.2.9",
            "<sip:me@example.com>",
            "<sip:peer@example.com>",
        )
    }

    fn apply(&mut self, op: Op) {
        let now = self.now;
        match op {
            Op::Invite(i) => {
                if let Ok(tx) = self.uas[i].send_request(Self::spec(Method::Invite), now) {
                    self.invites.push((i, tx));
                }
            }
            Op::Message(i) => {
                let _ = self.uas[i].send_request(
                    Self::spec(Method::Message).with_body("text/plain", b"hi".to_vec()),
                    now,
                );
            }
            Op::Deliver(k) => self.deliver(k, false),
            Op::Duplicate(k) => self.deliver(k, true),
            Op::Lose(k) => {
                if !self.flight.is_empty() {
                    let k = k % self.flight.len();
                    self.flight.remove(k);
                }
            }
            Op::Advance(ms) => {
                self.now += Duration::from_millis(ms);
                let now = self.now;
                self.uas.iter_mut().for_each(|u| u.handle_timeout(now));
            }
            Op::Respond(k, status) => {
                if !self.pending.is_empty() {
                    let (i, tx) = self.pending[k % self.pending.len()];
                    if status == 202 {
                        let body = b"<conference-info/>".to_vec();
                        let ct = "application/conference-info+xml";
                        if let Ok(s) = self.uas[i].accept_subscription(tx, ct, body, now) {
                            self.served.push((i, s));
                        }
                    }
                    let _ = self.uas[i].respond(tx, ResponseSpec::new(status), now);
                }
            }
            Op::Bye(k) => {
                if !self.dialogs.is_empty() {
                    let (i, d) = self.dialogs[k % self.dialogs.len()];
                    let _ = self.uas[i].bye(d, now);
                }
            }
            Op::Cancel(k) => {
                if !self.invites.is_empty() {
                    let (i, tx) = self.invites[k % self.invites.len()];
                    let _ = self.uas[i].cancel(tx, now);
                }
            }
            Op::InDialog(k) => {
                if !self.dialogs.is_empty() {
                    let (i, d) = self.dialogs[k % self.dialogs.len()];
                    let _ =
                        self.uas[i].send_in_dialog(d, DialogRequestSpec::new(Method::Info), now);
                }
            }
            Op::Subscribe(i) => {
                let spec =
                    SubscribeSpec::conference("sip:conf@example.com", "<sip:me@example.com>", 120);
                let _ = self.uas[i].subscribe(spec, now);
            }
            Op::Notify(k) => {
                if !self.served.is_empty() {
                    let (i, s) = self.served[k % self.served.len()];
                    let _ = self.uas[i].notify(
                        s,
                        "application/conference-info+xml",
                        b"<conference-info/>".to_vec(),
                        now,
                    );
                }
            }
            Op::Garbage(i, bytes) => {
                let source = self.addrs[1 - i];
                self.uas[i].handle_input(
                    Input::Datagram {
                        bytes: &bytes,
                        source,
                        transport: Transport::Udp,
                    },
                    now,
                );
            }
        }
        self.pump();
    }

    /// A perfect network from now on: deliver everything, answer every
    /// request, hang up every dialog, cancel every INVITE, and let time run.
    fn quiesce(&mut self) {
        for _ in 0..10_000 {
            self.pump();
            while !self.flight.is_empty() {
                self.deliver(0, false);
                self.pump();
            }
            let now = self.now;
            for (i, tx) in std::mem::take(&mut self.pending) {
                let _ = self.uas[i].respond(tx, ResponseSpec::new(486), now);
            }
            for (i, d) in std::mem::take(&mut self.dialogs) {
                let _ = self.uas[i].bye(d, now);
            }
            for (i, tx) in std::mem::take(&mut self.invites) {
                let _ = self.uas[i].cancel(tx, now);
            }
            self.pump();
            if !self.flight.is_empty() {
                continue;
            }
            match self.uas.iter().filter_map(UserAgent::poll_timeout).min() {
                Some(at) => {
                    self.now = at;
                    self.uas.iter_mut().for_each(|u| u.handle_timeout(at));
                }
                None => return,
            }
        }
        panic!("no quiescence");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_interleavings_never_panic_and_leave_nothing_alive(
        seed in any::<u64>(),
        tcp in any::<bool>(),
        timers in any::<bool>(),
        ops in prop::collection::vec(op(), 0..80),
    ) {
        let mut world = World::new(if tcp { Transport::Tcp } else { Transport::Udp }, seed, timers);
        for op in ops {
            world.apply(op);
        }
        world.quiesce();
        for ua in &world.uas {
            prop_assert_eq!(ua.client_transaction_count(), 0);
            prop_assert_eq!(ua.server_transaction_count(), 0);
            prop_assert_eq!(ua.dialogs().count(), 0);
            prop_assert_eq!(ua.subscription_count(), 0);
            prop_assert_eq!(ua.poll_timeout(), None);
            prop_assert!(ua.is_idle());
        }
    }
}
