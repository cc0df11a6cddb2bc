//! Cost and allocations of the IM Client: a whole One-to-One session
//! between two clients (INVITE, 100, 180, 200, ACK, MSRP binding, one CPIM
//! message, BYE, 200, then the transaction timers), and one 1 KiB message
//! on an established session (SEND and its 200), every message through
//! bytes.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::im::client::{ClientConfig, Event, ImClient, ImSessionId, Input, Output};
use oma_im::transaction::Transport;

#[global_allocator]
static A: support::Counting = support::Counting;

fn addr(n: usize) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, n as u8 + 1], 5060))
}

struct Pair {
    clients: [ImClient; 2],
    sessions: [Option<ImSessionId>; 2],
    received: usize,
    now: Instant,
}

impl Pair {
    fn new() -> Self {
        let config = |me: usize, user: &str| {
            let mut c = ClientConfig::new(
                &format!("sip:{user}@example.com"),
                "sip:factory@im.example.com",
                addr(me),
                addr(1 - me),
            );
            c.msrp_addr = addr(me);
            c.seed = (me as u64 + 1).into();
            c
        };
        Pair {
            clients: [
                ImClient::new(config(0, "alice")),
                ImClient::new(config(1, "bob")),
            ],
            sessions: [None, None],
            received: 0,
            now: Instant::now(),
        }
    }

    /// Moves everything between the clients until both are quiet; Bob
    /// accepts every invitation.
    fn pump(&mut self) {
        let mut outputs = Vec::new();
        loop {
            let mut progress = false;
            for me in 0..2 {
                outputs.clear();
                while let Some(o) = self.clients[me].poll_output() {
                    outputs.push(o);
                }
                progress |= !outputs.is_empty();
                for o in outputs.drain(..) {
                    self.route(me, o);
                }
            }
            if !progress {
                return;
            }
        }
    }

    fn route(&mut self, me: usize, output: Output) {
        let now = self.now;
        let peer = 1 - me;
        match output {
            Output::Transmit(t) => self.clients[peer].handle_input(
                Input::Sip {
                    bytes: &t.bytes,
                    source: addr(me),
                    transport: Transport::Udp,
                },
                now,
            ),
            Output::MsrpConnect { session, .. } => {
                self.clients[me].handle_input(Input::MsrpConnected { session }, now);
                if let Some(s) = self.sessions[peer] {
                    self.clients[peer].handle_input(Input::MsrpConnected { session: s }, now);
                }
            }
            Output::MsrpTransmit { data, .. } => {
                if let Some(s) = self.sessions[peer] {
                    self.clients[peer].handle_input(
                        Input::MsrpBytes {
                            session: s,
                            bytes: &data,
                        },
                        now,
                    );
                }
            }
            Output::MsrpClose { .. }
            | Output::MsrpAccepted { .. }
            | Output::MsrpConnectionTransmit { .. }
            | Output::MsrpConnectionClose { .. } => {}
            Output::Event(Event::InvitationReceived { session, .. }) => {
                self.sessions[me] = Some(session);
                self.clients[me].accept(session, now).expect("accept");
            }
            Output::Event(Event::SessionEstablished { session, .. }) => {
                self.sessions[me] = Some(session);
            }
            Output::Event(Event::MessageReceived { .. }) => self.received += 1,
            Output::Event(_) => {}
        }
    }

    /// One whole session; returns the messages received so far.
    fn session(&mut self) -> usize {
        let now = self.now;
        let s = self.clients[0]
            .start_one_to_one("sip:bob@example.com", now)
            .expect("INVITE");
        self.pump();
        self.clients[0]
            .send_message(s, "text/plain", b"Hello Bob", false, now)
            .expect("message");
        self.pump();
        self.clients[0].leave(s, now).expect("BYE");
        self.pump();
        self.sessions = [None, None];
        // Let every transaction timer run out.
        self.now += Duration::from_secs(100);
        let now = self.now;
        self.clients.iter_mut().for_each(|c| c.handle_timeout(now));
        self.pump();
        assert!(self.clients.iter().all(ImClient::is_idle));
        self.received
    }
}

fn main() {
    println!("im_client: IM Client sessions and messages");
    let mut pair = Pair::new();
    assert_eq!(pair.session(), 1);
    support::measure(
        "1-1 session: INVITE/180/200/ACK, MSRP bind, 1 message, BYE (both clients)",
        3,
        200,
        || pair.session(),
    );

    let mut pair = Pair::new();
    let now = pair.now;
    let s = pair.clients[0]
        .start_one_to_one("sip:bob@example.com", now)
        .expect("INVITE");
    pair.pump();
    let body = vec![b'm'; 1024];
    support::measure(
        "1 KiB CPIM message on an established session: SEND + 200",
        3,
        2_000,
        || {
            pair.clients[0]
                .send_message(s, "text/plain", &body, false, now)
                .expect("message");
            pair.pump();
            pair.received
        },
    );
}
