//! `group_session`: a whole deployment on the simulator ([`crate::sim`]) —
//! three IM Clients, the controlling IM Server, the IM History Function and
//! a core proxy — driven through an interleaving of operations decoded from
//! the fuzzer's bytes with the `arbitrary` crate: ad-hoc set-ups, messages,
//! departures, recording requests and history retrievals, the passing of
//! time, UDP loss, duplication and jitter, connection resets, and restarts
//! of clients and of the History Function. The History Function records
//! what it is asked to and serves retrievals from what it recorded.
//!
//! Checked after every step, besides "never panics": no client lists a
//! Participant twice in a session's roster, and no message (each sent once,
//! with a unique body) is delivered twice in one session of a client. At
//! the end the network is made perfect, every client leaves, and every node
//! must go idle.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};

use crate::body::cpim::CpimMessageBuf;
use crate::im::client::{ClientConfig, Event};
use crate::im::history::{self, HistoryConfig, UnverifiedRequests};
use crate::im::server::ServerConfig;
use crate::sim::{ClientId, Faults, HistoryId, NodeId, Nodes, Proxy, Sim, SimEvent};

const CORE: &str = "10.0.0.1:5060";
const SERVER: &str = "10.0.0.10:5060";
const SERVER_MSRP: &str = "10.0.0.10:2855";
const HISTORY: &str = "10.0.0.30:5060";
const HISTORY_MSRP: &str = "10.0.0.30:2855";
const HISTORY_URI: &str = "sip:history@history.example.com";
const FACTORY: &str = "sip:conf-factory@im.example.com";
const USERS: [(&str, &str); 3] = [
    ("alice", "10.0.0.21"),
    ("bob", "10.0.0.22"),
    ("carol", "10.0.0.23"),
];
/// Most operations one input drives (each runs the simulator).
const STEPS: usize = 24;
/// How long each closing leave round waits: past Timer B (64*T1 = 32 s)
/// of any INVITE still being retransmitted, see [`World::settle`].
const SETTLE_ROUND: Duration = Duration::from_secs(40);
/// Most history references one retrieval asks for.
const MAX_REFERENCES: usize = 3;

fn addr(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or(SocketAddr::from(([10, 0, 0, 99], 5060)))
}

fn uri(user: &str) -> String {
    format!("sip:{user}@example.com")
}

/// The history reference of the `n`th recorded message.
fn reference(n: usize) -> String {
    format!("sip:item-{n}@history.example.com")
}

fn client_config(i: usize, restarts: u64) -> ClientConfig {
    let (user, ip) = USERS[i % USERS.len()];
    let mut c = ClientConfig::new(&uri(user), FACTORY, addr(&format!("{ip}:5060")), addr(CORE));
    c.msrp_addr = addr(&format!("{ip}:2855"));
    c.seed = (100 + i as u64 + 1000 * restarts).into();
    c
}

fn history_config(restarts: u64) -> HistoryConfig {
    let mut c = HistoryConfig::new(HISTORY_URI, addr(HISTORY), addr(CORE));
    c.msrp_addr = addr(HISTORY_MSRP);
    // The core asserts no identity here: requests are handed over marked.
    c.unverified_requests = UnverifiedRequests::AcceptMarked;
    c.seed = (7 + 1000 * restarts).into();
    c
}

/// One operation of an input.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// A client sets up an ad-hoc session with the two others.
    StartAdHoc(u8),
    /// A client sends a message in its first session.
    Send(u8),
    /// A client leaves its first session.
    Leave(u8),
    /// A client asks the History Function to record its first session.
    Record(u8),
    /// A client retrieves what the History Function recorded so far.
    Retrieve(u8),
    /// Time passes (milliseconds).
    Run(u16),
    /// UDP loss and duplication (percent) and jitter (milliseconds).
    Faults(u8, u8, u8),
    /// A perfect network again.
    Perfect,
    /// A client's MSRP connections are reset.
    ResetClient(u8),
    /// The History Function's MSRP connections are reset.
    ResetHistory,
    /// A client restarts: its state is gone.
    RestartClient(u8),
    /// The History Function restarts.
    RestartHistory,
}

impl<'a> Arbitrary<'a> for Op {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let client = |u: &mut Unstructured<'a>| u.int_in_range(0..=(USERS.len() - 1) as u8);
        Ok(match u.int_in_range(0u8..=11)? {
            0 => Op::StartAdHoc(client(u)?),
            1 => Op::Send(client(u)?),
            2 => Op::Leave(client(u)?),
            3 => Op::Record(client(u)?),
            4 => Op::Retrieve(client(u)?),
            5 => Op::Run(u.int_in_range(0..=12_000)?),
            6 => Op::Faults(
                u.int_in_range(0..=30)?,
                u.int_in_range(0..=20)?,
                u.int_in_range(0..=200)?,
            ),
            7 => Op::Perfect,
            8 => Op::ResetClient(client(u)?),
            9 => Op::ResetHistory,
            10 => Op::RestartClient(client(u)?),
            _ => Op::RestartHistory,
        })
    }
}

/// What the History Function's application keeps: the messages it
/// recorded, served back by reference.
#[derive(Debug, Default)]
struct Store {
    items: Vec<CpimMessageBuf>,
    /// The Message-IDs recorded: several recording legs of one session
    /// record each message once each, and it is stored once.
    ids: HashSet<String>,
}

impl Store {
    /// Answers what the History Function asks: every recording and every
    /// retrieval is accepted, every item served from what was recorded
    /// (the `n`th recorded message for [`reference`]`(n)`).
    fn answer(
        &mut self,
        nodes: &mut Nodes,
        node: NodeId,
        event: &SimEvent,
        now: std::time::Instant,
    ) {
        let (NodeId::History(id), SimEvent::History(event)) = (node, event) else {
            return;
        };
        let h = nodes.history(id);
        match event {
            history::Event::RecordingRequested { session, .. } => {
                let _ = h.accept_recording(*session, now);
            }
            history::Event::RetrievalRequested { session, .. } => {
                let _ = h.accept_retrieval(*session, now);
            }
            history::Event::HistoryItemRequested {
                session,
                index,
                reference: r,
            } => {
                let item = (0..self.items.len())
                    .find(|n| reference(*n) == *r)
                    .and_then(|n| self.items.get(n).cloned());
                let _ = h.provide_history_item(*session, *index, item, now);
            }
            history::Event::MessageRecorded { message, .. } => {
                if let Some(cpim) = &message.cpim {
                    if self.ids.insert(message.message_id.clone()) {
                        self.items.push(cpim.clone());
                    }
                }
            }
            _ => {}
        }
    }
}

struct World {
    sim: Sim,
    clients: Vec<ClientId>,
    /// How many events each client had had when it last restarted: a
    /// restarted client numbers its sessions afresh.
    since: Vec<usize>,
    history: HistoryId,
    store: Store,
    restarts: u64,
    sent: u32,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut sim = Sim::new(seed);
        sim.set_max_steps(200_000);
        let mut proxy = Proxy::new()
            .with_domain("im.example.com", addr(SERVER))
            .with_user(HISTORY_URI, addr(HISTORY));
        let mut clients = Vec::new();
        for (i, (user, ip)) in USERS.iter().enumerate() {
            clients.push(sim.add_client(user, client_config(i, 0)));
            proxy = proxy.with_user(&uri(user), addr(&format!("{ip}:5060")));
        }
        sim.add_proxy("core", addr(CORE), proxy);
        let mut config = ServerConfig::new(addr(SERVER), addr(CORE), "im.example.com");
        config.conference_factory_uris = vec![FACTORY.to_owned()];
        config.msrp_authority = SERVER_MSRP.to_owned();
        config.release_alone = true;
        // The History Function's INVITE names the initiator in its From,
        // which no trusted peer vouches for here.
        config.access.recording_needs_verified_identity = false;
        config.seed = 9u64.into();
        sim.add_server("server", config);
        let history = sim.add_history("history", history_config(0));
        for c in &clients {
            sim.auto_accept(*c, true);
        }
        World {
            sim,
            since: vec![0; clients.len()],
            clients,
            history,
            store: Store::default(),
            restarts: 0,
            sent: 0,
        }
    }

    /// Runs the simulation for `duration`, the History Function's
    /// questions answered as they come.
    fn run_for(&mut self, duration: Duration) {
        let store = &mut self.store;
        let _ = self.sim.run_for_with(duration, |nodes, node, event, now| {
            store.answer(nodes, node, event, now)
        });
    }

    fn first_session(&self, c: ClientId) -> Option<crate::im::client::ImSessionId> {
        self.sim.client_ref(c).sessions().next()
    }

    fn step(&mut self, op: Op) {
        let now = self.sim.now();
        let client = |k: u8| usize::from(k) % USERS.len();
        match op {
            Op::StartAdHoc(k) => {
                let k = client(k);
                let others: Vec<String> = (0..USERS.len())
                    .filter(|j| *j != k)
                    .map(|j| uri(USERS[j].0))
                    .collect();
                let refs: Vec<&str> = others.iter().map(String::as_str).collect();
                let _ = self.sim.client(self.clients[k]).start_ad_hoc(&refs, now);
            }
            Op::Send(k) => {
                let c = self.clients[client(k)];
                if let Some(s) = self.first_session(c) {
                    self.sent += 1;
                    let body = format!("m{}", self.sent);
                    let _ = self.sim.client(c).send_message(
                        s,
                        "text/plain",
                        body.as_bytes(),
                        false,
                        now,
                    );
                }
            }
            Op::Leave(k) => {
                let c = self.clients[client(k)];
                if let Some(s) = self.first_session(c) {
                    let _ = self.sim.client(c).leave(s, now);
                }
            }
            Op::Record(k) => {
                let c = self.clients[client(k)];
                if let Some(s) = self.first_session(c) {
                    let _ = self.sim.client(c).request_recording(s, HISTORY_URI, now);
                }
            }
            Op::Retrieve(k) => {
                // What was recorded, and one reference to nothing.
                let found = self.store.items.len().min(MAX_REFERENCES - 1);
                let refs: Vec<String> = (0..found).map(reference).chain([reference(99)]).collect();
                let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
                let c = self.clients[client(k)];
                let _ = self.sim.client(c).retrieve_history(HISTORY_URI, &refs, now);
            }
            Op::Run(ms) => self.run_for(Duration::from_millis(u64::from(ms))),
            Op::Faults(loss, duplicate, jitter) => {
                let jitter = Duration::from_millis(u64::from(jitter));
                self.sim.set_faults(Faults::lossy(loss, duplicate, jitter));
            }
            Op::Perfect => self.sim.set_faults(Faults::NONE),
            Op::ResetClient(k) => self.sim.reset_connections(self.clients[client(k)]),
            Op::ResetHistory => self.sim.reset_connections(self.history),
            Op::RestartClient(k) => {
                let k = client(k);
                self.restarts += 1;
                let c = self.clients[k];
                self.since[k] = self.sim.client_events(c).len();
                self.sim.restart_client(c, client_config(k, self.restarts));
                self.sim.auto_accept(c, true);
            }
            Op::RestartHistory => {
                self.restarts += 1;
                self.sim
                    .restart_history(self.history, history_config(self.restarts));
            }
        }
        self.run_for(Duration::from_millis(200));
        self.check();
    }

    fn check(&self) {
        for (&c, &since) in self.clients.iter().zip(&self.since) {
            let client = self.sim.client_ref(c);
            for s in client.sessions() {
                let roster = client.participants(s);
                let unique: HashSet<&String> = roster.iter().collect();
                assert_eq!(
                    unique.len(),
                    roster.len(),
                    "a participant listed twice: {roster:?}"
                );
            }
            // A retrieval delivers recorded messages again, in a session of
            // its own: once per session.
            let mut delivered = HashSet::new();
            for e in self.sim.client_events(c).into_iter().skip(since) {
                if let Event::MessageReceived { session, body, .. } = e {
                    assert!(
                        delivered.insert((*session, body.clone())),
                        "message {:?} delivered twice in {session:?}",
                        String::from_utf8_lossy(body)
                    );
                }
            }
        }
    }

    /// A perfect network; everyone leaves; every node must go idle.
    ///
    /// An invitation still on its way when everyone leaves (an ad-hoc
    /// set-up whose inviter left by CANCEL after the server had invited
    /// the others) makes a session after the leave: everyone leaves again,
    /// a few rounds, until no client has a session it has not left.
    ///
    /// Each round waits [`SETTLE_ROUND`], longer than an INVITE client
    /// transaction lives (Timer B, 64*T1): an inviter that left before any
    /// provisional response may not CANCEL yet (RFC 3261 §9.1), so its
    /// INVITE is still retransmitted after the leave, and the last one
    /// reaching the focus up to 32 s later still sets up a session with
    /// the others. A shorter round could see no new session and stop
    /// just before that one is made.
    fn settle(&mut self) {
        self.sim.set_faults(Faults::NONE);
        self.run_for(Duration::from_secs(5));
        let mut left = HashSet::new();
        for _ in 0..4 {
            let mut more = false;
            for &c in &self.clients.clone() {
                let sessions: Vec<_> = self.sim.client_ref(c).sessions().collect();
                for s in sessions {
                    if left.insert((c, s)) {
                        let now = self.sim.now();
                        let _ = self.sim.client(c).leave(s, now);
                        more = true;
                    }
                }
            }
            if !more {
                break;
            }
            self.run_for(SETTLE_ROUND);
        }
        let store = &mut self.store;
        let idle = self
            .sim
            .run_until_idle_with(Duration::from_secs(3600), |nodes, node, event, now| {
                store.answer(nodes, node, event, now)
            });
        if let Err(e) = idle {
            panic!("the group did not go idle: {e}");
        }
        self.check();
    }
}

/// The `group_session` target: a seed byte, then up to [`STEPS`]
/// operations, each decoded from the bytes that follow.
pub fn group_session(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(seed) = u8::arbitrary(&mut u) else {
        return;
    };
    let mut world = World::new(u64::from(seed));
    for _ in 0..STEPS {
        if u.is_empty() {
            break;
        }
        let Ok(op) = Op::arbitrary(&mut u) else {
            break;
        };
        world.step(op);
    }
    world.settle();
}
