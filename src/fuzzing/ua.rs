//! `ua_events`: two [`UserAgent`]s driven by a sequence of operations
//! decoded from the fuzzer's bytes: deliver, duplicate, drop or mutate a
//! message in flight, inject arbitrary bytes, advance time, and the user
//! commands (send a request, respond, BYE, an in-dialog request, CANCEL,
//! subscribe, accept a subscription, NOTIFY, end a subscription), with
//! session timers on or off.
//!
//! Checked besides "never panics": no call leaves a deadline at or before
//! `now`; every transmission goes to the peer; and once the network is made
//! perfect and every request answered, every dialog hung up and every INVITE
//! cancelled, both sides end with nothing alive.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::dialog::{
    ClientTxId, Config, DialogId, DialogRequestSpec, Event, Input, Output, RefreshMethod,
    RequestSpec, ResponseSpec, ServerTxId, SessionTimerConfig, SubscribeSpec, SubscriptionId,
    UaError, UserAgent,
};
use crate::sip::{parse_message, Method, Refresher};
use crate::transaction::Transport;

/// Reads the fuzzer's bytes one at a time; zeros once exhausted.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }
    fn u8(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

const STATUSES: [u16; 12] = [100, 180, 183, 200, 202, 302, 404, 481, 486, 487, 500, 603];
const METHODS: [Method<'static>; 5] = [
    Method::Invite,
    Method::Message,
    Method::Options,
    Method::Subscribe,
    Method::Refer,
];

struct World {
    uas: [UserAgent; 2],
    addrs: [SocketAddr; 2],
    now: Instant,
    flight: Vec<(usize, Vec<u8>, Transport)>,
    pending: Vec<(usize, ServerTxId)>,
    dialogs: Vec<(usize, DialogId)>,
    invites: Vec<(usize, ClientTxId)>,
    /// Subscriptions served (notifier side), for further NOTIFYs.
    served: Vec<(usize, SubscriptionId)>,
}

impl World {
    /// `flags`: bit 1 turns session timers on (bit 2: the UAC asks to
    /// refresh, bit 3: refresh by re-INVITE).
    fn new(transport: Transport, flags: u8) -> Self {
        let addrs = [
            SocketAddr::from(([192, 0, 2, 1], 5060)),
            SocketAddr::from(([192, 0, 2, 2], 5060)),
        ];
        let mut configs = [
            Config::new(addrs[0], addrs[1], transport, 1),
            Config::new(addrs[1], addrs[0], transport, 2),
        ];
        for c in &mut configs {
            c.limits.max_transactions = 64;
            c.limits.max_dialogs = 16;
            if flags & 2 != 0 {
                *c = c.clone().with_session_timer(SessionTimerConfig {
                    session_expires: 90,
                    min_se: 90,
                    refresher: (flags & 4 != 0).then_some(Refresher::Uac),
                    refresh_method: if flags & 8 != 0 {
                        RefreshMethod::Invite
                    } else {
                        RefreshMethod::Update
                    },
                });
            }
        }
        let [a, b] = configs;
        World {
            uas: [UserAgent::new(a), UserAgent::new(b)],
            addrs,
            now: Instant::now(),
            flight: Vec::new(),
            pending: Vec::new(),
            dialogs: Vec::new(),
            invites: Vec::new(),
            served: Vec::new(),
        }
    }

    fn pump(&mut self) {
        for i in 0..2 {
            if let Some(at) = self.uas[i].poll_timeout() {
                assert!(at > self.now, "deadline at or before now left behind");
            }
            while let Some(o) = self.uas[i].poll_output() {
                match o {
                    Output::Transmit(t) => {
                        // Only the peer is on this network; elsewhere is lost.
                        if t.destination == self.addrs[1 - i] && self.flight.len() < 256 {
                            self.flight.push((1 - i, t.bytes, t.transport));
                        }
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

    fn input(&mut self, to: usize, bytes: &[u8], transport: Transport, parsed: bool) {
        let source = self.addrs[1 - to];
        let now = self.now;
        match parse_message(bytes) {
            Ok(message) if parsed => self.uas[to].handle_input(
                Input::Message {
                    message,
                    source,
                    transport,
                },
                now,
            ),
            _ => self.uas[to].handle_input(
                Input::Datagram {
                    bytes,
                    source,
                    transport,
                },
                now,
            ),
        }
    }

    fn step(&mut self, r: &mut Reader<'_>) {
        let now = self.now;
        match r.u8() % 10 {
            0 | 1 if !self.flight.is_empty() => {
                let k = usize::from(r.u8()) % self.flight.len();
                let (to, bytes, transport) = self.flight.remove(k);
                self.input(to, &bytes, transport, r.u8() & 1 == 1);
            }
            2 if !self.flight.is_empty() => {
                let k = usize::from(r.u8()) % self.flight.len();
                let copy = self.flight[k].clone();
                self.flight.push(copy);
            }
            3 if !self.flight.is_empty() => {
                let k = usize::from(r.u8()) % self.flight.len();
                self.flight.remove(k);
            }
            4 if !self.flight.is_empty() => {
                let k = usize::from(r.u8()) % self.flight.len();
                let (to, mut bytes, transport) = self.flight[k].clone();
                for _ in 0..=(r.u8() % 4) {
                    let at = usize::from(r.u16()) % bytes.len().max(1);
                    if let Some(b) = bytes.get_mut(at) {
                        *b = r.u8();
                    }
                }
                self.input(to, &bytes, transport, r.u8() & 1 == 1);
            }
            5 => {
                let to = usize::from(r.u8() & 1);
                let n = usize::from(r.u8());
                let bytes = r.bytes(n).to_vec();
                self.input(to, &bytes, Transport::Udp, false);
            }
            6 => {
                self.now += Duration::from_millis(u64::from(r.u16()) * 4);
                let now = self.now;
                self.uas.iter_mut().for_each(|u| u.handle_timeout(now));
            }
            7 => {
                let from = usize::from(r.u8() & 1);
                let method = METHODS[usize::from(r.u8()) % METHODS.len()];
                let spec = RequestSpec::new(
                    method,
                    "sip:peer@192.0.2.9",
                    "<sip:me@example.com>",
                    "<sip:peer@example.com>",
                );
                if method == Method::Subscribe && r.u8() & 1 == 1 {
                    let expires = u32::from(r.u16());
                    let spec = SubscribeSpec::conference(
                        "sip:conf@192.0.2.9",
                        "<sip:me@example.com>",
                        expires,
                    );
                    let _ = self.uas[from].subscribe(spec, now);
                } else if let Ok(tx) = self.uas[from].send_request(spec, now) {
                    if method == Method::Invite {
                        self.invites.push((from, tx));
                    }
                }
            }
            8 if !self.pending.is_empty() => {
                let (i, tx) = self.pending[usize::from(r.u8()) % self.pending.len()];
                let status = STATUSES[usize::from(r.u8()) % STATUSES.len()];
                if status == 202 {
                    if let Ok(s) =
                        self.uas[i].accept_subscription(tx, "text/plain", b"state".to_vec(), now)
                    {
                        self.served.push((i, s));
                    }
                }
                let _ = self.uas[i].respond(tx, ResponseSpec::new(status), now);
            }
            9 if !self.dialogs.is_empty() => {
                let (i, d) = self.dialogs[usize::from(r.u8()) % self.dialogs.len()];
                let _ = match r.u8() % 3 {
                    0 => self.uas[i].bye(d, now),
                    1 => self.uas[i].send_in_dialog(d, DialogRequestSpec::new(Method::Invite), now),
                    _ => self.uas[i].send_in_dialog(d, DialogRequestSpec::new(Method::Info), now),
                };
            }
            _ if !self.served.is_empty() && r.u8() & 1 == 1 => {
                let (i, s) = self.served[usize::from(r.u8()) % self.served.len()];
                let _ = match r.u8() % 2 {
                    0 => self.uas[i]
                        .notify(s, "text/plain", b"more".to_vec(), now)
                        .map(|_| ()),
                    _ => self.uas[i].terminate_subscription(s, "deactivated", now),
                };
            }
            _ if !self.invites.is_empty() => {
                let (i, tx) = self.invites[usize::from(r.u8()) % self.invites.len()];
                let _ = self.uas[i].cancel(tx, now);
            }
            _ => {}
        }
        self.pump();
    }

    /// A perfect network from now on; everything answered, hung up,
    /// cancelled; time runs until nothing is scheduled.
    fn quiesce(&mut self) {
        for _ in 0..100_000 {
            self.pump();
            while let Some((to, bytes, transport)) = self.flight.pop() {
                self.input(to, &bytes, transport, false);
                self.pump();
            }
            let now = self.now;
            for (i, tx) in std::mem::take(&mut self.pending) {
                let _ = self.uas[i].respond(tx, ResponseSpec::new(486), now);
            }
            for (i, d) in std::mem::take(&mut self.dialogs) {
                // Over the transaction limit: hang up once some have ended.
                if self.uas[i].bye(d, now) == Err(UaError::TooManyTransactions) {
                    self.dialogs.push((i, d));
                }
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

/// The `ua_events` entry point.
pub fn ua_events(data: &[u8]) {
    let mut r = Reader(data);
    let flags = r.u8();
    let transport = if flags & 1 == 1 {
        Transport::Tcp
    } else {
        Transport::Udp
    };
    let mut world = World::new(transport, flags);
    let mut steps = 0;
    while !r.0.is_empty() && steps < super::ROLE_STEPS {
        world.step(&mut r);
        steps += 1;
    }
    world.quiesce();
    for ua in &world.uas {
        assert!(ua.is_idle(), "state left alive after quiescence: {ua:?}");
    }
}
