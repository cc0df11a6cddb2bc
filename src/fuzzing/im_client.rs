//! `im_client_events`: two [`ImClient`]s on a direct link driven by a
//! sequence of operations decoded from the fuzzer's bytes: deliver, drop,
//! duplicate or mutate a SIP datagram in flight, inject arbitrary SIP or
//! MSRP bytes, open and close MSRP connections, advance time, and the user
//! commands (one-to-one, ad-hoc, pre-defined, public conference, rejoin,
//! extend, Large Message, accept, reject, send, subscribe, leave, and the
//! History Function's: a recording request (REFER), a history retrieval,
//! a dated message).
//!
//! A delivered datagram can be marked as coming from a conference focus
//! (`;isfocus` added to its Contact), so that the commands on a conference
//! are reached.
//!
//! Checked besides "never panics": no call leaves a deadline at or before
//! `now`; every SIP request handed out parses, and its Contact, when the
//! client wrote one, carries the IM feature tag.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::im::client::{ClientConfig, Event, ImClient, ImSessionId, Input, Output};
use crate::sip::{parse_message, HeaderName};
use crate::transaction::Transport;

/// Reads the fuzzer's bytes one at a time; zeros once exhausted.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((first, rest)) => {
                self.0 = rest;
                *first
            }
            None => 0,
        }
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

const STATUSES: [u16; 5] = [486, 603, 404, 488, 302];

struct World {
    clients: [ImClient; 2],
    addrs: [SocketAddr; 2],
    now: Instant,
    /// SIP datagrams in flight: (to, bytes).
    flight: Vec<(usize, Vec<u8>)>,
    /// MSRP bytes in flight: (to, bytes).
    msrp: Vec<(usize, Vec<u8>)>,
    /// Sessions each side knows of.
    sessions: [Vec<ImSessionId>; 2],
    /// Invitations not answered yet.
    invitations: [Vec<ImSessionId>; 2],
}

impl World {
    fn new() -> Self {
        let addrs = [
            SocketAddr::from(([192, 0, 2, 1], 5060)),
            SocketAddr::from(([192, 0, 2, 2], 5060)),
        ];
        let config = |me: usize, user: &str| {
            let mut c = ClientConfig::new(
                &format!("sip:{user}@example.com"),
                "sip:factory@im.example.com",
                addrs[me],
                addrs[1 - me],
            );
            c.msrp_addr = addrs[me];
            c.seed = (me as u64 + 1).into();
            c.max_adhoc_group_size = 3;
            c.max_large_message_size = 4096;
            c.limits.max_sessions = 8;
            c.limits.ua.max_transactions = 32;
            c.limits.ua.max_dialogs = 16;
            c
        };
        World {
            clients: [
                ImClient::new(config(0, "alice")),
                ImClient::new(config(1, "bob")),
            ],
            addrs,
            now: Instant::now(),
            flight: Vec::new(),
            msrp: Vec::new(),
            sessions: [Vec::new(), Vec::new()],
            invitations: [Vec::new(), Vec::new()],
        }
    }

    /// Drains side `me`, checking what it hands out.
    fn drain(&mut self, me: usize) {
        let now = self.now;
        let deadline = self.clients[me].poll_timeout();
        assert!(
            deadline.is_none_or(|d| d > now),
            "a deadline at or before now was left behind"
        );
        while let Some(output) = self.clients[me].poll_output() {
            match output {
                Output::Transmit(t) => {
                    // What the client sends must parse, but for stateless
                    // answers to mangled requests, which echo what they
                    // could read.
                    match parse_message(&t.bytes) {
                        Err(e) => super::check_stateless_answer(&t.bytes, &e),
                        Ok(msg) => {
                            if let Some(contact) = msg.header(HeaderName::Contact) {
                                if contact.value.contains(&self.addrs[me].to_string()) {
                                    assert!(contact.value.ends_with(";+g.oma.sip-im"));
                                }
                            }
                        }
                    }
                    if self.flight.len() < 64 {
                        self.flight.push((1 - me, t.bytes));
                    }
                }
                Output::MsrpTransmit { data, .. } => {
                    if self.msrp.len() < 64 {
                        self.msrp.push((1 - me, data));
                    }
                }
                Output::MsrpConnect { session, .. } => {
                    self.clients[me].handle_input(Input::MsrpConnected { session }, now);
                }
                Output::MsrpClose { .. }
                | Output::MsrpAccepted { .. }
                | Output::MsrpConnectionTransmit { .. }
                | Output::MsrpConnectionClose { .. } => {}
                Output::Event(e) => match e {
                    Event::InvitationReceived { session, .. } => {
                        self.sessions[me].push(session);
                        self.invitations[me].push(session);
                    }
                    Event::SessionEstablished { session, .. }
                        if !self.sessions[me].contains(&session) =>
                    {
                        self.sessions[me].push(session);
                    }
                    _ => {}
                },
            }
        }
    }

    fn pick(list: &[ImSessionId], n: u8) -> Option<ImSessionId> {
        (!list.is_empty()).then(|| list[usize::from(n) % list.len()])
    }

    fn step(&mut self, r: &mut Reader<'_>) {
        let op = r.u8();
        let me = usize::from(op >> 7);
        let now = self.now;
        match op & 0x0f {
            0 | 1 if !self.flight.is_empty() => {
                let i = usize::from(r.u8()) % self.flight.len();
                let (to, mut bytes) = self.flight.remove(i);
                if op & 0x20 != 0 {
                    // Make the sender look like a conference focus (its
                    // Contact an IM Session Identity), so that the
                    // commands on a conference (subscribe, recording
                    // request) get past their checks.
                    mark_focus(&mut bytes);
                }
                let input = Input::Sip {
                    bytes: &bytes,
                    source: self.addrs[1 - to],
                    transport: Transport::Udp,
                };
                self.clients[to].handle_input(input, now);
                if op & 0x10 != 0 && self.flight.len() < 64 {
                    self.flight.push((to, bytes));
                }
            }
            2 if !self.flight.is_empty() => {
                let i = usize::from(r.u8()) % self.flight.len();
                let (_, bytes) = &mut self.flight[i];
                if !bytes.is_empty() {
                    let at = usize::from(r.u8()) * 7 % bytes.len();
                    bytes[at] = r.u8();
                }
            }
            3 => {
                let n = usize::from(r.u8());
                let bytes = r.bytes(n).to_vec();
                let input = Input::Sip {
                    bytes: &bytes,
                    source: self.addrs[1 - me],
                    transport: Transport::Udp,
                };
                self.clients[me].handle_input(input, now);
            }
            4 if !self.msrp.is_empty() => {
                let (to, bytes) = self.msrp.remove(0);
                if let Some(session) = Self::pick(&self.sessions[to], r.u8()) {
                    self.clients[to].handle_input(Input::MsrpConnected { session }, now);
                    self.clients[to].handle_input(
                        Input::MsrpBytes {
                            session,
                            bytes: &bytes,
                        },
                        now,
                    );
                }
            }
            5 => {
                let n = usize::from(r.u8());
                let pick = r.u8();
                let bytes = r.bytes(n).to_vec();
                if let Some(session) = Self::pick(&self.sessions[me], pick) {
                    let input = if pick & 1 == 0 {
                        Input::MsrpBytes {
                            session,
                            bytes: &bytes,
                        }
                    } else {
                        Input::MsrpClosed { session }
                    };
                    self.clients[me].handle_input(input, now);
                }
            }
            6 => {
                let step = u64::from(r.u8()) * 250;
                self.now += Duration::from_millis(step);
                let now = self.now;
                self.clients[0].handle_timeout(now);
                self.clients[1].handle_timeout(now);
            }
            7 => self.command(me, r),
            _ => {}
        }
        self.drain(0);
        self.drain(1);
    }

    fn command(&mut self, me: usize, r: &mut Reader<'_>) {
        let now = self.now;
        let peer = if me == 0 {
            "sip:bob@example.com"
        } else {
            "sip:alice@example.com"
        };
        let c = &mut self.clients[me];
        let which = r.u8();
        let pick = r.u8();
        let session = Self::pick(&self.sessions[me], pick);
        let started = match which % 15 {
            0 => c.start_one_to_one(peer, now).ok(),
            1 => {
                let n = usize::from(pick % 5);
                let list = [peer; 5];
                c.start_ad_hoc(&list[..n], now).ok()
            }
            2 => c.start_pre_defined(peer, now).ok(),
            3 => c.join_public_conference(peer, now).ok(),
            4 => session.and_then(|s| c.rejoin(s, now).ok()),
            5 => session.and_then(|s| c.extend_to_conference(s, &[peer], now).ok()),
            6 => {
                let size = usize::from(r.u8()) * 40;
                c.send_large_message(&[peer], "text/plain", &vec![b'L'; size], now)
                    .ok()
            }
            7 => {
                if let Some(s) = Self::pick(&self.invitations[me], pick) {
                    self.invitations[me].retain(|x| *x != s);
                    let _ = c.accept(s, now);
                }
                None
            }
            8 => {
                if let Some(s) = Self::pick(&self.invitations[me], pick) {
                    self.invitations[me].retain(|x| *x != s);
                    let status = STATUSES[usize::from(pick) % STATUSES.len()];
                    let _ = c.reject(s, status, now);
                }
                None
            }
            9 => {
                let n = usize::from(r.u8());
                let body = r.bytes(n).to_vec();
                if let Some(s) = session {
                    let _ = c.send_message(s, "text/plain", &body, pick & 1 == 1, now);
                }
                None
            }
            10 => {
                if let Some(s) = session {
                    let _ = c.subscribe_conference(s, now);
                }
                None
            }
            11 => {
                if let Some(s) = session {
                    let _ = c.leave(s, now);
                }
                None
            }
            12 => {
                if let Some(s) = session {
                    let _ = c.request_recording(s, peer, now);
                }
                None
            }
            13 => {
                let n = usize::from(pick % 4);
                let refs = [
                    "sip:msg-1@h.example.com",
                    "sip:msg-2@h.example.com",
                    "sip:m@h",
                    "",
                ];
                c.retrieve_history(peer, &refs[..n], now).ok()
            }
            _ => {
                let n = usize::from(r.u8());
                let body = r.bytes(n).to_vec();
                if let Some(s) = session {
                    let _ = c.send_message_dated(
                        s,
                        "text/plain",
                        &body,
                        false,
                        "2008-09-03T10:00:00Z",
                        now,
                    );
                }
                None
            }
        };
        if let Some(s) = started {
            self.sessions[me].push(s);
        }
    }
}

/// Adds `;isfocus` to the first Contact of a SIP message's header section.
fn mark_focus(bytes: &mut Vec<u8>) {
    let head = memchr::memmem::find(bytes, b"\r\n\r\n").unwrap_or(bytes.len());
    let Some(at) = memchr::memmem::find(&bytes[..head], b"\r\nContact: <") else {
        return;
    };
    if let Some(end) = memchr::memchr(b'>', &bytes[at..head]) {
        let insert = at + end + 1;
        bytes.splice(insert..insert, b";isfocus".iter().copied());
    }
}

/// The `im_client_events` target.
pub fn im_client_events(data: &[u8]) {
    let mut world = World::new();
    let mut r = Reader(data);
    let mut steps = 0;
    while !r.is_empty() && steps < super::ROLE_STEPS {
        world.step(&mut r);
        steps += 1;
    }
}
