//! `group_session`: a whole ad-hoc group on the simulator ([`crate::sim`]) —
//! three IM Clients, the controlling IM Server and a core proxy — driven
//! through an interleaving decoded from the fuzzer's bytes: set-ups, messages,
//! departures, the passing of time, UDP loss, duplication and jitter,
//! connection resets and restarts of a client.
//!
//! Checked after every step, besides "never panics": no client lists a
//! Participant twice in a session's roster, and no message (each sent once,
//! with a unique body) is delivered twice to the same client. At the end the
//! network is made perfect, every client leaves, and every node must go
//! idle.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use crate::im::client::{ClientConfig, Event};
use crate::im::server::ServerConfig;
use crate::sim::{ClientId, Faults, Proxy, Sim};

const CORE: &str = "10.0.0.1:5060";
const SERVER: &str = "10.0.0.10:5060";
const SERVER_MSRP: &str = "10.0.0.10:2855";
const FACTORY: &str = "sip:conf-factory@im.example.com";
const USERS: [(&str, &str); 3] = [
    ("alice", "10.0.0.21"),
    ("bob", "10.0.0.22"),
    ("carol", "10.0.0.23"),
];
/// Most operations one input drives (each runs the simulator).
const STEPS: usize = 24;

fn addr(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or(SocketAddr::from(([10, 0, 0, 99], 5060)))
}

fn uri(user: &str) -> String {
    format!("sip:{user}@example.com")
}

fn client_config(i: usize, restarts: u64) -> ClientConfig {
    let (user, ip) = USERS[i];
    let mut c = ClientConfig::new(&uri(user), FACTORY, addr(&format!("{ip}:5060")), addr(CORE));
    c.msrp_addr = addr(&format!("{ip}:2855"));
    c.seed = (100 + i as u64 + 1000 * restarts).into();
    c
}

struct World {
    sim: Sim,
    clients: Vec<ClientId>,
    restarts: u64,
    sent: u32,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut sim = Sim::new(seed);
        sim.set_max_steps(200_000);
        let mut proxy = Proxy::new().with_domain("im.example.com", addr(SERVER));
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
        config.seed = 9u64.into();
        sim.add_server("server", config);
        for c in &clients {
            sim.auto_accept(*c, true);
        }
        World {
            sim,
            clients,
            restarts: 0,
            sent: 0,
        }
    }

    fn step(&mut self, op: u8, arg: u8) {
        let k = usize::from(arg) % self.clients.len();
        let c = self.clients[k];
        let now = self.sim.now();
        match op % 8 {
            0 => {
                let others: Vec<String> = (0..USERS.len())
                    .filter(|j| *j != k)
                    .map(|j| uri(USERS[j].0))
                    .collect();
                let refs: Vec<&str> = others.iter().map(String::as_str).collect();
                let _ = self.sim.client(c).start_ad_hoc(&refs, now);
            }
            1 => {
                let session = self.sim.client_ref(c).sessions().next();
                if let Some(s) = session {
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
            2 => {
                let session = self.sim.client_ref(c).sessions().next();
                if let Some(s) = session {
                    let _ = self.sim.client(c).leave(s, now);
                }
            }
            3 => {
                let _ = self.sim.run_for(Duration::from_millis(u64::from(arg) * 50));
            }
            4 => {
                let faults =
                    Faults::lossy(arg % 30, arg % 20, Duration::from_millis(u64::from(arg)));
                self.sim.set_faults(faults);
            }
            5 => self.sim.set_faults(Faults::NONE),
            6 => self.sim.reset_connections(c),
            _ => {
                self.restarts += 1;
                self.sim.restart_client(c, client_config(k, self.restarts));
                self.sim.auto_accept(c, true);
            }
        }
        let _ = self.sim.run_for(Duration::from_millis(200));
        self.check();
    }

    fn check(&self) {
        for &c in &self.clients {
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
            let mut bodies = HashSet::new();
            for e in self.sim.client_events(c) {
                if let Event::MessageReceived { body, .. } = e {
                    assert!(
                        bodies.insert(body.clone()),
                        "message {:?} delivered twice",
                        String::from_utf8_lossy(body)
                    );
                }
            }
        }
    }

    /// A perfect network; everyone leaves; every node must go idle.
    fn settle(&mut self) {
        self.sim.set_faults(Faults::NONE);
        let _ = self.sim.run_for(Duration::from_secs(5));
        for &c in &self.clients.clone() {
            let sessions: Vec<_> = self.sim.client_ref(c).sessions().collect();
            for s in sessions {
                let now = self.sim.now();
                let _ = self.sim.client(c).leave(s, now);
            }
        }
        if let Err(e) = self.sim.run_until_idle(Duration::from_secs(3600)) {
            panic!("the group did not go idle: {e}");
        }
        self.check();
    }
}

/// The `group_session` target.
pub fn group_session(data: &[u8]) {
    let Some((&seed, ops)) = data.split_first() else {
        return;
    };
    let mut world = World::new(u64::from(seed));
    for pair in ops.chunks(2).take(STEPS) {
        let (op, arg) = (pair[0], pair.get(1).copied().unwrap_or(0));
        world.step(op, arg);
    }
    world.settle();
}
