//! History Function flow-test peers on the in-memory network.
//!
//! * [`HistoryNode`]: an [`ImHistoryFunction`] with a small application:
//!   an access policy (who may read), a store of history items keyed by
//!   reference, recorded messages appended to it, recordings accepted.
//! * [`ScriptedPeer`]: a SIP [`UserAgent`] with at most one
//!   [`MsrpSession`], scripted to play an IM Client (retrieval INVITE,
//!   REFER) or a controlling IM Server (200 with an `isfocus` Contact, SDP
//!   answer, SUBSCRIBE/NOTIFY, messages over MSRP, BYE).
//!
//! MSRP runs over the same network as TCP segments between the SIP
//! addresses: a segment whose bytes start with `MSRP ` goes to the MSRP
//! endpoint of the node.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use oma_im::body::cpim::{CpimAddress, CpimMessage, CpimMessageBuf};
use oma_im::body::multipart::find_sdp;
use oma_im::dialog::{
    self, Config, DialogId, DialogRequestSpec, RequestSpec, ResponseSpec, UserAgent,
};
use oma_im::im::history::{
    self, HistoryConfig, HistorySessionId, ImHistoryFunction, Input, Output,
};
use oma_im::msrp::session::{
    self as msrp, MsrpSession, ReceivedMessage, SendOptions, SessionConfig,
};
use oma_im::sdp::offer_answer::{answer, negotiate, offer, LocalParameters, Side};
use oma_im::sdp::{Direction, SessionDescription};
use oma_im::sip::{parse_message, HeaderName, Method};
use oma_im::transaction::{Transmit, Transport};

use super::{Node, Polled};

/// Every event of a flow, tagged by who saw it.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// An event of the History Function.
    History(history::Event),
    /// A SIP event of a scripted peer.
    Sip(dialog::Event),
    /// A message a scripted peer received over MSRP.
    MsrpReceived(Box<ReceivedMessage>),
}

/// A stored history item as a test writes it: a CPIM message.
pub fn stored_item(from: &str, to: &str, date_time: &str, text: &str) -> CpimMessageBuf {
    let mut m = CpimMessage::new(
        CpimAddress::new(None, from),
        CpimAddress::new(None, to),
        "text/plain",
        text.as_bytes().to_vec(),
    )
    .unwrap()
    .into_owned();
    m.date_time = Some(date_time.to_owned().into());
    m
}

/// The History Function with its application.
pub struct HistoryNode {
    /// The History Function.
    pub history: ImHistoryFunction,
    now: Option<Instant>,
    /// Asserted identities that may read the history; others get 403.
    pub readers: Vec<String>,
    /// Stored items by reference, in storage order.
    pub store: Vec<(String, CpimMessageBuf)>,
    /// Whether REFERs asking for a recording are accepted.
    pub accept_recordings: bool,
    /// Whether retrieval requests are answered at once (else the test does).
    pub auto_answer: bool,
    conns: HashMap<HistorySessionId, SocketAddr>,
    /// Sessions whose MSRP endpoint exists (after RecordingStarted or the
    /// first HistoryItemRequested).
    ready: Vec<HistorySessionId>,
    /// MSRP bytes from connections no session claimed yet, by source.
    unbound: Vec<(SocketAddr, Vec<u8>)>,
    queue: VecDeque<Polled<PeerEvent>>,
}

impl HistoryNode {
    /// A node for `config` that lets `readers` read.
    pub fn new(config: HistoryConfig, readers: &[&str]) -> Self {
        HistoryNode {
            history: ImHistoryFunction::new(config),
            now: None,
            readers: readers.iter().map(|r| r.to_string()).collect(),
            store: Vec::new(),
            accept_recordings: true,
            auto_answer: true,
            conns: HashMap::new(),
            ready: Vec::new(),
            unbound: Vec::new(),
            queue: VecDeque::new(),
        }
    }

    /// Binds waiting connections to ready sessions without one.
    fn bind_unbound(&mut self) {
        let Some(now) = self.now else { return };
        while let Some(&(source, _)) = self.unbound.first() {
            let Some(session) = self
                .ready
                .iter()
                .rev()
                .find(|s| !self.conns.contains_key(s))
                .copied()
            else {
                return;
            };
            self.conns.insert(session, source);
            self.history
                .handle_input(Input::MsrpConnected { session }, now);
            for (_, bytes) in self.unbound.iter().filter(|(s, _)| *s == source) {
                self.history
                    .handle_input(Input::MsrpBytes { session, bytes }, now);
            }
            self.unbound.retain(|(s, _)| *s != source);
        }
    }

    fn app(&mut self, event: &history::Event, now: Instant) {
        use history::Event as E;
        match event {
            E::RetrievalRequested {
                session, requester, ..
            } if self.auto_answer => {
                if self.readers.contains(requester) {
                    self.history.accept_retrieval(*session, now).unwrap();
                } else {
                    self.history.reject_retrieval(*session, now).unwrap();
                }
            }
            E::HistoryItemRequested {
                session,
                index,
                reference,
            } if self.auto_answer => {
                let item = self
                    .store
                    .iter()
                    .find(|(r, _)| r == reference)
                    .map(|(_, m)| m.clone());
                self.history
                    .provide_history_item(*session, *index, item, now)
                    .unwrap();
            }
            E::RecordingRequested { session, .. } => {
                if self.accept_recordings {
                    self.history.accept_recording(*session, now).unwrap();
                } else {
                    self.history.reject_recording(*session, now).unwrap();
                }
            }
            E::MessageRecorded { message, .. } => {
                if let Some(cpim) = &message.cpim {
                    let reference = format!("sip:msg-{}@history.example.com", self.store.len() + 1);
                    self.store.push((reference, cpim.clone()));
                }
            }
            _ => {}
        }
    }

    fn pull(&mut self) {
        while let Some(output) = self.history.poll_output() {
            match output {
                Output::Transmit(t) => self.queue.push_back(Polled::Transmit(t)),
                Output::MsrpConnect {
                    session,
                    destination,
                } => {
                    let host = destination
                        .host
                        .trim_start_matches('[')
                        .trim_end_matches(']');
                    let addr = SocketAddr::new(host.parse().unwrap(), destination.port.unwrap());
                    self.conns.insert(session, addr);
                    let now = self.now.unwrap();
                    self.history
                        .handle_input(Input::MsrpConnected { session }, now);
                }
                Output::MsrpTransmit { session, data } => {
                    let to = self.conns[&session];
                    self.queue.push_back(Polled::Transmit(Transmit {
                        destination: to,
                        transport: Transport::Tcp,
                        bytes: data,
                    }));
                }
                Output::MsrpClose { session } => {
                    self.conns.remove(&session);
                }
                Output::MsrpAccepted { .. }
                | Output::MsrpConnectionTransmit { .. }
                | Output::MsrpConnectionClose { .. } => {}
                Output::Event(e) => {
                    use history::Event as E;
                    if let E::RecordingStarted { session, .. }
                    | E::HistoryItemRequested { session, .. } = &e
                    {
                        if !self.ready.contains(session) {
                            self.ready.push(*session);
                        }
                    }
                    if let E::SessionEnded { session, .. } = &e {
                        self.ready.retain(|s| s != session);
                    }
                    if let Some(now) = self.now {
                        self.app(&e, now);
                    }
                    self.queue.push_back(Polled::Event(PeerEvent::History(e)));
                    self.bind_unbound();
                }
            }
        }
    }
}

impl Node for HistoryNode {
    type Event = PeerEvent;

    fn deliver(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        self.now = Some(now);
        if bytes.starts_with(b"MSRP ") {
            self.pull();
            let session = match self.conns.iter().find(|(_, a)| **a == source) {
                Some((s, _)) => *s,
                None => {
                    // The peer opened the connection: it belongs to the
                    // newest ready session without one, or waits for it.
                    self.unbound.push((source, bytes.to_vec()));
                    self.bind_unbound();
                    return;
                }
            };
            self.history
                .handle_input(Input::MsrpBytes { session, bytes }, now);
        } else {
            self.history.handle_input(
                Input::Sip {
                    bytes,
                    source,
                    transport,
                },
                now,
            );
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        self.history.handle_timeout(now);
    }

    fn poll(&mut self) -> Option<Polled<PeerEvent>> {
        if self.queue.is_empty() {
            self.pull();
        }
        self.queue.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.history.poll_timeout()
    }

    fn is_idle(&self) -> bool {
        self.history.is_idle() && self.queue.is_empty()
    }
}

/// What a scripted peer does with requests.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// As a focus: the user part of the IM Session Identity put in the
    /// Contact of its 200 OK with `isfocus`.
    pub focus: Option<String>,
    /// Extra header fields of its 200 OK to an INVITE.
    pub ok_headers: Vec<(String, String)>,
    /// The conference-info body NOTIFYed after a SUBSCRIBE.
    pub notify: Option<Vec<u8>>,
    /// Messages (content type, body) sent over MSRP once it is up.
    pub messages: Vec<(String, Vec<u8>)>,
}

/// A scripted IM Client or controlling IM Server on a [`UserAgent`].
pub struct ScriptedPeer {
    /// The user agent.
    pub ua: UserAgent,
    /// The script.
    pub script: Script,
    addr: SocketAddr,
    now: Option<Instant>,
    /// The SDP offer this peer sent, for the negotiation.
    offer: Option<Vec<u8>>,
    /// The MSRP endpoint and its connection.
    pub msrp: Option<MsrpSession>,
    conn: Option<SocketAddr>,
    /// The INVITE dialog.
    pub dialog: Option<DialogId>,
    /// Messages received over MSRP.
    pub received: Vec<ReceivedMessage>,
    queue: VecDeque<Polled<PeerEvent>>,
    sent_messages: bool,
    /// MSRP bytes that arrived before the MSRP session existed.
    unbound: Vec<(SocketAddr, Vec<u8>)>,
    /// Also a stand-in SIP/IP Core: SIP requests for another address, and
    /// responses whose top Via is another's, are passed on unchanged.
    pub core: bool,
}

impl ScriptedPeer {
    /// A peer at `addr` whose outbound proxy is `proxy`.
    pub fn new(addr: SocketAddr, proxy: SocketAddr, seed: u64, script: Script) -> Self {
        let mut config = Config::new(addr, proxy, Transport::Udp, seed);
        config
            .capabilities
            .accept
            .extend(["application/conference-info+xml", "message/sipfrag"]);
        ScriptedPeer {
            ua: UserAgent::new(config),
            script,
            addr,
            now: None,
            offer: None,
            msrp: None,
            conn: None,
            dialog: None,
            received: Vec::new(),
            queue: VecDeque::new(),
            sent_messages: false,
            core: false,
            unbound: Vec::new(),
        }
    }

    fn local(&self, direction: Direction) -> LocalParameters<'static> {
        let mut l = LocalParameters::new(
            u64::from(self.addr.port()),
            1,
            self.addr.ip().to_string(),
            self.addr.port(),
            format!("msrp://{}/peer{};tcp", self.addr, self.addr.port()),
        );
        l.direction = direction;
        l
    }

    /// The SDP offer of a retrieval INVITE: `a=recvonly` unless told.
    pub fn retrieval_offer(&mut self, direction: Direction) -> Vec<u8> {
        let body = offer(&self.local(direction)).to_bytes();
        self.offer = Some(body.clone());
        body
    }

    /// Sends an out-of-dialog request.
    pub fn send(&mut self, spec: RequestSpec, now: Instant) {
        self.now = Some(now);
        self.ua.send_request(spec, now).unwrap();
    }

    fn start_msrp(&mut self, local_sdp: &[u8], remote_sdp: &[u8], side: Side) {
        let local = SessionDescription::parse(local_sdp).unwrap();
        let remote = SessionDescription::parse(remote_sdp).unwrap();
        let (mine, theirs) = match side {
            Side::Offerer => (&local, &remote),
            Side::Answerer => (&local, &remote),
        };
        let n = negotiate(mine, theirs, side).unwrap();
        let config = SessionConfig {
            rng_seed: u64::from(self.addr.port()).into(),
            ..SessionConfig::default()
        };
        let mut session = MsrpSession::from_negotiated(&n, config).unwrap();
        if n.is_active() {
            let d = session.destination();
            let host = d.host.trim_start_matches('[').trim_end_matches(']');
            self.conn = Some(SocketAddr::new(host.parse().unwrap(), d.port.unwrap()));
            session.handle_input(msrp::Input::Connected, self.now.unwrap());
        }
        let now = self.now.unwrap();
        for (source, bytes) in std::mem::take(&mut self.unbound) {
            if self.conn.is_none() {
                self.conn = Some(source);
                session.handle_input(msrp::Input::Connected, now);
            }
            session.handle_input(msrp::Input::Bytes(&bytes), now);
        }
        self.msrp = Some(session);
        self.send_script_messages();
    }

    fn send_script_messages(&mut self) {
        if self.sent_messages {
            return;
        }
        let (Some(m), Some(now)) = (self.msrp.as_mut(), self.now) else {
            return;
        };
        self.sent_messages = true;
        for (ct, body) in &self.script.messages {
            m.send_message(ct, body, SendOptions::default(), now)
                .unwrap();
        }
    }

    fn on_event(&mut self, e: &dialog::Event, now: Instant) {
        use dialog::Event as E;
        match e {
            E::RequestReceived {
                transaction,
                request,
                dialog,
            } => {
                let msg = request.message();
                match msg.method().unwrap() {
                    "INVITE" => {
                        let ct = msg
                            .header(HeaderName::ContentType)
                            .map(|h| h.value)
                            .unwrap_or("");
                        let sdp = find_sdp(ct, msg.body(), &Default::default())
                            .unwrap()
                            .unwrap()
                            .to_vec();
                        let offered = SessionDescription::parse(&sdp).unwrap();
                        let local = self.local(Direction::SendOnly);
                        let body = answer(&offered, &local).to_bytes();
                        let mut spec =
                            ResponseSpec::new(200).with_body("application/sdp", body.clone());
                        for (n, v) in &self.script.ok_headers {
                            spec = spec.with_header(n, v);
                        }
                        self.ua.respond(*transaction, spec, now).unwrap();
                        self.dialog = self.ua.dialogs().map(|d| d.id()).max();
                        self.start_msrp(&body, &sdp, Side::Answerer);
                    }
                    "SUBSCRIBE" => {
                        self.ua
                            .respond(
                                *transaction,
                                ResponseSpec::new(200).with_header("Expires", "3600"),
                                now,
                            )
                            .unwrap();
                        if let Some(body) = self.script.notify.clone() {
                            let d = self
                                .ua
                                .dialogs()
                                .filter(|d| d.call_id() == msg.call_id().unwrap().unwrap().id)
                                .map(|d| d.id())
                                .next()
                                .unwrap();
                            let spec = DialogRequestSpec::new(Method::Notify)
                                .with_header("Event", "conference")
                                .with_header("Subscription-State", "active;expires=3600")
                                .with_body("application/conference-info+xml", body);
                            self.ua.send_in_dialog(d, spec, now).unwrap();
                        }
                    }
                    // BYE is answered by the user agent itself.
                    "BYE" => {}
                    _ => {
                        let _ = dialog;
                        self.ua
                            .respond(*transaction, ResponseSpec::new(200), now)
                            .unwrap();
                    }
                }
            }
            E::ResponseReceived {
                response, dialog, ..
            } => {
                let msg = response.message();
                let invite = msg.cseq().unwrap().unwrap().method == Method::Invite;
                if invite && msg.status_code() == Some(200) && self.msrp.is_none() {
                    self.dialog = *dialog;
                    let ct = msg
                        .header(HeaderName::ContentType)
                        .map(|h| h.value)
                        .unwrap_or("");
                    let sdp = find_sdp(ct, msg.body(), &Default::default())
                        .unwrap()
                        .unwrap()
                        .to_vec();
                    let offer = self.offer.clone().unwrap();
                    self.start_msrp(&offer, &sdp, Side::Offerer);
                }
            }
            _ => {}
        }
    }

    /// Where a message for another node goes: a request's Request-URI
    /// host, a response's top Via sent-by.
    fn elsewhere(&self, bytes: &[u8]) -> Option<SocketAddr> {
        let msg = parse_message(bytes).ok()?;
        let target = match msg.request_line() {
            Some(line) => {
                let uri = line.uri.to_string();
                let host = uri.rsplit('@').next()?.trim_start_matches("sip:");
                let host = host.split(['>', ';']).next()?;
                host.parse().ok()?
            }
            None => {
                let via = msg.top_via()?.ok()?;
                format!("{}:{}", via.host, via.port?).parse().ok()?
            }
        };
        (target != self.addr).then_some(target)
    }

    fn rewrite_contact(&self, bytes: &mut Vec<u8>) {
        let Some(focus) = &self.script.focus else {
            return;
        };
        if !bytes.starts_with(b"SIP/2.0 200") || !contains(bytes, b"INVITE\r\n") {
            return;
        }
        let plain = format!("\r\nContact: <sip:{}>\r\n", self.addr);
        let tagged = format!(
            "\r\nContact: <sip:{focus}@{}>;isfocus;+g.oma.sip-im\r\n",
            self.addr
        );
        if let Some(at) = memchr_find(bytes, plain.as_bytes()) {
            bytes.splice(at..at + plain.len(), tagged.bytes());
        }
    }

    fn pull(&mut self) {
        loop {
            let mut moved = false;
            while let Some(o) = self.ua.poll_output() {
                moved = true;
                match o {
                    dialog::Output::Transmit(mut t) => {
                        self.rewrite_contact(&mut t.bytes);
                        self.queue.push_back(Polled::Transmit(t));
                    }
                    dialog::Output::Event(e) => {
                        if let Some(now) = self.now {
                            self.on_event(&e, now);
                        }
                        self.queue.push_back(Polled::Event(PeerEvent::Sip(e)));
                    }
                }
            }
            while let Some(o) = self.msrp.as_mut().and_then(MsrpSession::poll_output) {
                moved = true;
                match o {
                    msrp::Output::Transmit(t) => {
                        if let Some(to) = self.conn {
                            self.queue.push_back(Polled::Transmit(Transmit {
                                destination: to,
                                transport: Transport::Tcp,
                                bytes: t.data,
                            }));
                        }
                    }
                    msrp::Output::Event(msrp::Event::MessageReceived(m)) => {
                        self.received.push((*m).clone());
                        self.queue
                            .push_back(Polled::Event(PeerEvent::MsrpReceived(m)));
                    }
                    msrp::Output::Event(_) => {}
                }
            }
            if !moved {
                break;
            }
        }
    }
}

fn memchr_find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// Whether `h` contains `n`.
pub fn contains(h: &[u8], n: &[u8]) -> bool {
    memchr_find(h, n).is_some()
}

impl Node for ScriptedPeer {
    type Event = PeerEvent;

    fn deliver(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        self.now = Some(now);
        if bytes.starts_with(b"MSRP ") {
            // Events not yet pulled may set the MSRP session up.
            self.pull();
            let Some(m) = self.msrp.as_mut() else {
                // The peer connected before the SDP answer arrived here:
                // the bytes wait in the accepted connection.
                self.unbound.push((source, bytes.to_vec()));
                return;
            };
            if self.conn.is_none() {
                self.conn = Some(source);
                m.handle_input(msrp::Input::Connected, now);
            }
            m.handle_input(msrp::Input::Bytes(bytes), now);
        } else if let Some(to) = self.core.then(|| self.elsewhere(bytes)).flatten() {
            self.queue.push_back(Polled::Transmit(Transmit {
                destination: to,
                transport,
                bytes: bytes.to_vec(),
            }));
        } else {
            self.ua.handle_input(
                dialog::Input::Datagram {
                    bytes,
                    source,
                    transport,
                },
                now,
            );
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        self.ua.handle_timeout(now);
        if let Some(m) = self.msrp.as_mut() {
            m.handle_timeout(now);
        }
    }

    fn poll(&mut self) -> Option<Polled<PeerEvent>> {
        if self.queue.is_empty() {
            self.pull();
        }
        self.queue.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let m = self.msrp.as_ref().and_then(MsrpSession::poll_timeout);
        self.ua.poll_timeout().into_iter().chain(m).min()
    }

    fn is_idle(&self) -> bool {
        self.ua.is_idle() && self.queue.is_empty()
    }
}

/// Either kind of node, on one network (a handful per test: their size
/// does not matter).
#[allow(clippy::large_enum_variant)]
pub enum Peer {
    /// The History Function.
    History(HistoryNode),
    /// A scripted client or server.
    Scripted(ScriptedPeer),
}

impl Peer {
    /// The History Function node.
    pub fn history(&mut self) -> &mut HistoryNode {
        match self {
            Peer::History(h) => h,
            Peer::Scripted(_) => panic!("not the History Function"),
        }
    }

    /// The scripted node.
    pub fn scripted(&mut self) -> &mut ScriptedPeer {
        match self {
            Peer::Scripted(s) => s,
            Peer::History(_) => panic!("not a scripted peer"),
        }
    }
}

impl Node for Peer {
    type Event = PeerEvent;

    fn deliver(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        match self {
            Peer::History(n) => n.deliver(bytes, source, transport, now),
            Peer::Scripted(n) => n.deliver(bytes, source, transport, now),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Peer::History(n) => n.handle_timeout(now),
            Peer::Scripted(n) => n.handle_timeout(now),
        }
    }

    fn poll(&mut self) -> Option<Polled<PeerEvent>> {
        match self {
            Peer::History(n) => n.poll(),
            Peer::Scripted(n) => n.poll(),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Peer::History(n) => n.poll_timeout(),
            Peer::Scripted(n) => n.poll_timeout(),
        }
    }

    fn is_idle(&self) -> bool {
        match self {
            Peer::History(n) => n.is_idle(),
            Peer::Scripted(n) => n.is_idle(),
        }
    }
}

/// A parsed view of a wire record's bytes (SIP only).
pub fn sip(bytes: &[u8]) -> oma_im::sip::SipMessage<'_> {
    parse_message(bytes).unwrap()
}
