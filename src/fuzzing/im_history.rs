//! `im_history_events`: an [`ImHistoryFunction`] driven by a sequence of
//! operations decoded from the fuzzer's bytes: retrieval INVITEs and REFERs
//! built from templates (with or without P-Asserted-Identity, URI-list,
//! `a=recvonly`), answers to the History Function's own requests (200 with
//! an SDP answer, failures), in-dialog BYE and ACK derived from its
//! responses, arbitrary or mutated SIP bytes, MSRP bytes and connection
//! changes, time passing, and every command.
//!
//! Checked besides "never panics": no call leaves a deadline at or before
//! `now`, and every SIP message with a Contact the History Function sends
//! parses (it rewrites that Contact on the way out).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::body::cpim::{CpimAddress, CpimMessage};
use crate::im::history::{
    Event, HistoryConfig, HistorySessionId, ImHistoryFunction, Input, Output,
};
use crate::im::ConnectionId;
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
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
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

const PEER: &str = "192.0.2.1:5060";
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=message 7777 TCP/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrp://192.0.2.1:7777/p1;tcp\r\n";
const DIRECTIONS: [&str; 4] = ["recvonly", "sendonly", "sendrecv", "inactive"];
const STATUSES: [u16; 8] = [100, 180, 200, 202, 403, 404, 486, 500];

struct World {
    history: ImHistoryFunction,
    peer: SocketAddr,
    now: Instant,
    sessions: Vec<HistorySessionId>,
    items: Vec<(HistorySessionId, usize)>,
    /// SIP messages the History Function sent, newest last (bounded).
    sent: Vec<Vec<u8>>,
    seq: u32,
}

impl World {
    fn new() -> Self {
        let peer: SocketAddr = PEER
            .parse()
            .unwrap_or(SocketAddr::from(([192, 0, 2, 1], 5060)));
        let mut config = HistoryConfig::new(
            "sip:history@im.example.com",
            SocketAddr::from(([192, 0, 2, 50], 5060)),
            peer,
        );
        config.limits.max_sessions = 8;
        config.limits.max_history_references = 8;
        config.limits.ua.max_transactions = 64;
        config.limits.ua.max_dialogs = 16;
        config.chunk_size = 64;
        // The peer is the trust domain, so the asserted-identity paths run;
        // the templates without P-Asserted-Identity exercise the refusals.
        config.trust = crate::im::trust::TrustDomain::new()
            .with_peer(crate::im::trust::TrustedPeer::host(peer.ip()));
        World {
            history: ImHistoryFunction::new(config),
            peer,
            now: Instant::now(),
            sessions: Vec::new(),
            items: Vec::new(),
            sent: Vec::new(),
            seq: 0,
        }
    }

    fn pump(&mut self) {
        if let Some(at) = self.history.poll_timeout() {
            assert!(at > self.now, "deadline at or before now left behind");
        }
        while let Some(o) = self.history.poll_output() {
            match o {
                Output::Transmit(t) => {
                    // The messages whose Contact the History Function
                    // rewrites must still parse. (Stateless answers of the
                    // user agent to broken requests carry no Contact and echo
                    // what the request had; the `ua_events` target covers
                    // them.)
                    let rewritten = memchr::memmem::find(&t.bytes, b"\r\nContact: ").is_some();
                    if let Err(e) = parse_message(&t.bytes) {
                        assert!(!rewritten, "a rewritten message does not parse ({e})");
                        super::check_stateless_answer(&t.bytes, &e);
                    }
                    if self.sent.len() >= 32 {
                        self.sent.remove(0);
                    }
                    self.sent.push(t.bytes);
                }
                Output::Event(
                    Event::RetrievalRequested { session, .. }
                    | Event::RecordingRequested { session, .. }
                    | Event::RecordingStarted { session, .. },
                ) if self.sessions.len() < 32 => self.sessions.push(session),
                Output::Event(Event::HistoryItemRequested { session, index, .. })
                    if self.items.len() < 64 =>
                {
                    self.items.push((session, index))
                }
                _ => {}
            }
        }
    }

    fn sip(&mut self, bytes: &[u8]) {
        let now = self.now;
        self.history.handle_input(
            Input::Sip {
                bytes,
                source: self.peer,
                transport: Transport::Udp,
            },
            now,
        );
    }

    /// An out-of-dialog INVITE or REFER from the peer.
    fn request(&mut self, r: &mut Reader<'_>) -> Vec<u8> {
        self.seq = self.seq.wrapping_add(1);
        let flags = r.u8();
        let call = r.u8() % 4;
        let pai = if flags & 1 == 1 {
            "P-Asserted-Identity: <sip:alice@example.com>\r\n"
        } else {
            ""
        };
        if flags & 2 == 2 {
            return format!(
                "REFER sip:history@192.0.2.50 SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bKr{}\r\n\
                 From: <sip:alice@example.com>;tag=a{call}\r\nTo: <sip:history@im.example.com>\r\n\
                 Call-ID: refer{call}\r\nCSeq: {} REFER\r\nMax-Forwards: 70\r\n{pai}\
                 Refer-To: <sip:conf{call}@192.0.2.1>\r\nContent-Length: 0\r\n\r\n",
                self.seq, self.seq
            )
            .into_bytes();
        }
        let direction = DIRECTIONS[usize::from(flags >> 2) % DIRECTIONS.len()];
        let entries: String = (0..(r.u8() % 10))
            .map(|i| format!("<entry uri=\"sip:h{i}@history.example.com\"/>"))
            .collect();
        let list = if flags & 16 == 16 {
            String::new()
        } else {
            format!(
                "--b\r\nContent-Type: application/resource-lists+xml\r\n\r\n<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>{entries}</list></resource-lists>\r\n"
            )
        };
        let body = format!(
            "--b\r\nContent-Type: application/sdp\r\n\r\n{SDP}a={direction}\r\n{list}--b--\r\n"
        );
        format!(
            "INVITE sip:history@192.0.2.50 SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bKi{}\r\n\
             From: <sip:alice@example.com>;tag=a{call}\r\nTo: <sip:history@im.example.com>\r\n\
             Call-ID: invite{call}\r\nCSeq: {} INVITE\r\nMax-Forwards: 70\r\nContact: <sip:{PEER}>\r\n{pai}\
             Allow: INVITE, ACK, BYE\r\nContent-Type: multipart/mixed;boundary=b\r\nContent-Length: {}\r\n\r\n{body}",
            self.seq,
            self.seq,
            body.len()
        )
        .into_bytes()
    }

    /// A message derived from one the History Function sent: a response to
    /// its request, or a BYE / ACK in the dialog of its response.
    fn derived(&mut self, r: &mut Reader<'_>) -> Option<Vec<u8>> {
        let k = usize::from(r.u8()) % self.sent.len().max(1);
        let sent = self.sent.get(k)?.clone();
        let msg = parse_message(&sent).ok()?;
        let value = |n: HeaderName<'_>| msg.header(n).map(|h| h.value).unwrap_or("");
        let (via, from, to, call_id, cseq) = (
            value(HeaderName::Via),
            value(HeaderName::From),
            value(HeaderName::To),
            value(HeaderName::CallId),
            value(HeaderName::CSeq),
        );
        self.seq = self.seq.wrapping_add(1);
        if msg.is_request() {
            let status = STATUSES[usize::from(r.u8()) % STATUSES.len()];
            let invite = msg.method() == Some("INVITE");
            let body = if invite && status == 200 {
                format!("{SDP}a=sendonly\r\na=setup:active\r\n")
            } else {
                String::new()
            };
            let ct = if body.is_empty() {
                ""
            } else {
                "Content-Type: application/sdp\r\n"
            };
            Some(
                format!(
                    "SIP/2.0 {status} X\r\nVia: {via}\r\nFrom: {from}\r\nTo: {to};tag=t{}\r\nCall-ID: {call_id}\r\n\
                     CSeq: {cseq}\r\nContact: <sip:conf@{PEER}>;isfocus\r\nAllow: INVITE, BYE\r\n{ct}Content-Length: {}\r\n\r\n{body}",
                    r.u8() % 2,
                    body.len()
                )
                .into_bytes(),
            )
        } else {
            let method = if r.u8() & 1 == 0 { "BYE" } else { "ACK" };
            let n = cseq.split(' ').next().unwrap_or("1");
            let n = if method == "ACK" {
                n.to_owned()
            } else {
                self.seq.to_string()
            };
            Some(
                format!(
                    "{method} sip:history@192.0.2.50 SIP/2.0\r\nVia: SIP/2.0/UDP {PEER};branch=z9hG4bKd{}\r\n\
                     From: {to}\r\nTo: {from}\r\nCall-ID: {call_id}\r\nCSeq: {n} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                    self.seq
                )
                .into_bytes(),
            )
        }
    }

    fn session(&self, r: &mut Reader<'_>) -> HistorySessionId {
        let k = usize::from(r.u8());
        self.sessions
            .get(k % self.sessions.len().max(1))
            .copied()
            .unwrap_or(HistorySessionId(u64::from(r.u8())))
    }

    fn step(&mut self, r: &mut Reader<'_>) {
        let now = self.now;
        match r.u8() % 9 {
            0 => {
                let bytes = self.request(r);
                self.sip(&bytes);
            }
            1 => {
                if let Some(bytes) = self.derived(r) {
                    self.sip(&bytes);
                }
            }
            2 => {
                let mut bytes = if r.u8() & 1 == 0 {
                    self.request(r)
                } else {
                    self.derived(r).unwrap_or_default()
                };
                for _ in 0..=(r.u8() % 4) {
                    let at = usize::from(r.u16()) % bytes.len().max(1);
                    if let Some(b) = bytes.get_mut(at) {
                        *b = r.u8();
                    }
                }
                self.sip(&bytes);
            }
            3 => {
                let n = usize::from(r.u8());
                let bytes = r.bytes(n).to_vec();
                self.sip(&bytes);
            }
            4 => {
                let session = self.session(r);
                let input = match r.u8() % 5 {
                    0 => Input::MsrpConnected { session },
                    1 => Input::MsrpClosed { session },
                    // A connection a peer opened: a new one, or one of the
                    // first names handed out.
                    3 => {
                        let connection = if r.u8() & 1 == 0 {
                            self.history.msrp_accepted_at(now)
                        } else {
                            ConnectionId(u64::from(r.u8() % 8))
                        };
                        let n = usize::from(r.u8());
                        let bytes = r.bytes(n).to_vec();
                        self.history.handle_input(
                            Input::MsrpAcceptedBytes {
                                connection,
                                bytes: &bytes,
                            },
                            now,
                        );
                        return;
                    }
                    4 => Input::MsrpAcceptedClosed {
                        connection: ConnectionId(u64::from(r.u8() % 8)),
                    },
                    _ => {
                        let n = usize::from(r.u8());
                        let bytes = r.bytes(n).to_vec();
                        self.history.handle_input(
                            Input::MsrpBytes {
                                session,
                                bytes: &bytes,
                            },
                            now,
                        );
                        return;
                    }
                };
                self.history.handle_input(input, now);
            }
            5 => {
                self.now += Duration::from_millis(u64::from(r.u16()) * 8);
                let now = self.now;
                self.history.handle_timeout(now);
            }
            6 => {
                let session = self.session(r);
                let _ = match r.u8() % 5 {
                    0 => self.history.accept_retrieval(session, now),
                    1 => self.history.reject_retrieval(session, now),
                    2 => self.history.accept_recording(session, now),
                    3 => self.history.reject_recording(session, now),
                    _ => self.history.stop_recording(session, now),
                };
            }
            7 if !self.items.is_empty() => {
                let (session, index) = self.items.remove(usize::from(r.u8()) % self.items.len());
                let text = vec![b'x'; usize::from(r.u8()) * 4];
                let item = (r.u8() & 1 == 0).then(|| {
                    CpimMessage::new(
                        CpimAddress::new(None, "sip:bob@example.com"),
                        CpimAddress::new(None, "sip:alice@example.com"),
                        "text/plain",
                        text,
                    )
                    .map(CpimMessage::into_owned)
                    .ok()
                });
                let _ = self
                    .history
                    .provide_history_item(session, index, item.flatten(), now);
            }
            _ => {
                let _ = self.history.start_recording(
                    "sip:conf@192.0.2.1",
                    "sip:alice@example.com",
                    now,
                );
            }
        }
    }
}

/// Runs the operations encoded in `data` against one History Function.
pub fn im_history_events(data: &[u8]) {
    let mut r = Reader(data);
    let mut world = World::new();
    let mut steps = 0;
    while !r.is_empty() && steps < super::ROLE_STEPS {
        world.step(&mut r);
        world.pump();
        steps += 1;
    }
    // Let every timer run out.
    for _ in 0..64 {
        let Some(at) = world.history.poll_timeout() else {
            break;
        };
        world.now = world.now.max(at);
        let now = world.now;
        world.history.handle_timeout(now);
        world.pump();
    }
}
