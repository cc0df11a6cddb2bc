//! IM flow-test peers on the in-memory network: [`ImNode`] (an
//! [`ImClient`] with its MSRP connections emulated over the network) and
//! [`TestServer`] (a scripted IM Server / UAS on the SIP [`UserAgent`]),
//! both behind [`Peer`] so that one [`Network`](super::Network) holds them.
//!
//! MSRP runs over the same network as TCP segments: each client's MSRP
//! address is its SIP address, and a segment whose bytes start with
//! `MSRP ` goes to the MSRP session it belongs to.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use oma_im::body::multipart::find_sdp;
use oma_im::dialog::{self, Config, DialogId, DialogRequestSpec, ResponseSpec, UserAgent};
use oma_im::im::client::{ClientConfig, Event, ImClient, ImSessionId, Input, Output};
use oma_im::sdp::offer_answer::{answer, LocalParameters};
use oma_im::sdp::SessionDescription;
use oma_im::sip::{parse_message, HeaderName, Method, MethodSet, SipMessage};
use oma_im::transaction::{Transmit, Transport};

use super::{Node, Polled, WireRecord};

/// A client configuration for tests: `user@example.com` at `addr`, its
/// MSRP on the same address, the Conference-factory-URI of the test
/// server.
pub fn client_config(user: &str, addr: SocketAddr, proxy: SocketAddr, seed: u64) -> ClientConfig {
    let mut c = ClientConfig::new(
        &format!("sip:{user}@example.com"),
        "sip:conference-factory@im.example.com",
        addr,
        proxy,
    );
    c.msrp_addr = addr;
    c.product = "oma-im-test/1.0".to_owned();
    c.seed = seed.into();
    c
}

/// An IM Client on the network.
pub struct ImNode {
    /// The client.
    pub client: ImClient,
    now: Option<Instant>,
    /// The MSRP connection of each session: the peer's address.
    conns: HashMap<ImSessionId, SocketAddr>,
    /// Established sessions without a connection yet (passive end).
    passive: Vec<ImSessionId>,
    /// MSRP bytes from connections no session claimed yet (the peer
    /// connected before the 2xx arrived here), by source.
    unbound: Vec<(SocketAddr, Vec<u8>)>,
    /// What the client handed out and the node has not passed on.
    queue: std::collections::VecDeque<Polled<Event>>,
}

impl ImNode {
    /// A node for `config`.
    pub fn new(config: ClientConfig) -> Self {
        ImNode {
            client: ImClient::new(config),
            now: None,
            conns: HashMap::new(),
            passive: Vec::new(),
            unbound: Vec::new(),
            queue: Default::default(),
        }
    }

    fn pull(&mut self) {
        while let Some(output) = self.client.poll_output() {
            match output {
                Output::Transmit(t) => self.queue.push_back(Polled::Transmit(t)),
                Output::MsrpConnect {
                    session,
                    destination,
                } => {
                    let port = destination.port.unwrap_or(2855);
                    let host = destination
                        .host
                        .trim_start_matches('[')
                        .trim_end_matches(']');
                    if let Ok(ip) = host.parse() {
                        self.conns.insert(session, SocketAddr::new(ip, port));
                        if let Some(now) = self.now {
                            self.client
                                .handle_input(Input::MsrpConnected { session }, now);
                        }
                    }
                }
                Output::MsrpTransmit { session, data } => {
                    if let Some(&to) = self.conns.get(&session) {
                        self.queue.push_back(Polled::Transmit(Transmit {
                            destination: to,
                            transport: Transport::Tcp,
                            bytes: data,
                        }));
                    }
                }
                Output::MsrpClose { session } => {
                    self.conns.remove(&session);
                    self.passive.retain(|s| *s != session);
                }
                // This network binds passive connections itself.
                Output::MsrpAccepted { .. }
                | Output::MsrpConnectionTransmit { .. }
                | Output::MsrpConnectionClose { .. } => {}
                Output::Event(e) => {
                    if let Event::SessionEstablished { session, .. } = &e {
                        if !self.conns.contains_key(session) {
                            self.passive.push(*session);
                        }
                    }
                    if let (Some(&(source, _)), Some(now)) = (self.unbound.first(), self.now) {
                        if !self.passive.is_empty() {
                            let session = self.passive.remove(0);
                            self.conns.insert(session, source);
                            self.client
                                .handle_input(Input::MsrpConnected { session }, now);
                            for (_, bytes) in self.unbound.iter().filter(|(s, _)| *s == source) {
                                self.client
                                    .handle_input(Input::MsrpBytes { session, bytes }, now);
                            }
                            self.unbound.retain(|(s, _)| *s != source);
                        }
                    }
                    self.queue.push_back(Polled::Event(e));
                }
            }
        }
    }
}

impl Node for ImNode {
    type Event = Event;

    fn deliver(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        self.now = Some(now);
        if bytes.starts_with(b"MSRP ") {
            let bound = self
                .conns
                .iter()
                .find(|(_, a)| **a == source)
                .map(|(s, _)| *s);
            let session = match bound {
                Some(s) => s,
                None => {
                    // Outputs not yet pulled may name the session.
                    self.pull();
                    if self.passive.is_empty() {
                        self.unbound.push((source, bytes.to_vec()));
                        return;
                    }
                    let s = self.passive.remove(0);
                    self.conns.insert(s, source);
                    self.client
                        .handle_input(Input::MsrpConnected { session: s }, now);
                    s
                }
            };
            self.client
                .handle_input(Input::MsrpBytes { session, bytes }, now);
        } else {
            self.client.handle_input(
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
        self.client.handle_timeout(now);
    }

    fn poll(&mut self) -> Option<Polled<Event>> {
        if self.queue.is_empty() {
            self.pull();
        }
        self.queue.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    fn is_idle(&self) -> bool {
        self.client.is_idle() && self.queue.is_empty()
    }
}

/// What the scripted server does.
#[derive(Debug, Clone)]
pub struct Script {
    /// The final status of every INVITE (200 accepts, 0 sends none).
    pub invite_status: u16,
    /// Whether a 180 goes first.
    pub ringing: bool,
    /// The user part of the IM Session Identity put in the Contact with
    /// `isfocus`; `None` leaves the Contact plain.
    pub focus: Option<String>,
    /// The Session-Expires of the 200, if any.
    pub session_expires: Option<String>,
    /// The conference-info bodies of the NOTIFYs sent after a SUBSCRIBE.
    pub notify: Vec<Vec<u8>>,
    /// The final status of a REFER (RFC 3515); 405 refuses it.
    pub refer_status: u16,
    /// The `message/sipfrag` bodies NOTIFYed after a 2xx to a REFER, in
    /// order; the last one with `Subscription-State: terminated`.
    pub refer_notify: Vec<String>,
    /// The user part of the focus Contact in the 2xx to an INVITE, when it
    /// differs from the 18x's ([`focus`](Self::focus)): what a client
    /// stores from the 2xx can be told from what it stored before.
    pub ok_focus: Option<String>,
    /// The Allow value of the 2xx to an INVITE, when it differs from the
    /// 18x's.
    pub ok_allow: Option<String>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            invite_status: 200,
            ringing: true,
            focus: Some("conf-1".to_owned()),
            session_expires: Some("1800;refresher=uac".to_owned()),
            notify: Vec::new(),
            refer_status: 405,
            refer_notify: Vec::new(),
            ok_focus: None,
            ok_allow: None,
        }
    }
}

/// The methods the test server allows: a set an IM Client does not
/// default to (no MESSAGE, no OPTIONS), so that storing it can be seen.
pub fn server_allow() -> MethodSet<'static> {
    let mut allow = MethodSet::new();
    for m in [
        Method::Invite,
        Method::Ack,
        Method::Bye,
        Method::Cancel,
        Method::Subscribe,
        Method::Notify,
        Method::Update,
        Method::Refer,
    ] {
        allow.insert(m);
    }
    allow
}

/// A scripted IM Server / UAS.
pub struct TestServer {
    /// Its user agent.
    pub ua: UserAgent,
    /// What it does.
    pub script: Script,
    addr: SocketAddr,
    now: Option<Instant>,
    /// Call-IDs of SUBSCRIBEs answered, waiting for their dialog.
    subscribe_call_ids: Vec<String>,
    /// The subscription dialogs, for later NOTIFYs.
    pub subscriptions: Vec<DialogId>,
    /// Call-IDs of REFERs accepted, waiting for their dialog.
    refer_call_ids: Vec<String>,
    notify_version: u32,
    queue: std::collections::VecDeque<Polled<dialog::Event>>,
}

impl TestServer {
    /// A server at `addr` whose outbound proxy is `proxy`.
    pub fn new(addr: SocketAddr, proxy: SocketAddr, script: Script, seed: u64) -> Self {
        let mut config = Config::new(addr, proxy, Transport::Udp, seed);
        config.capabilities.allow = server_allow();
        config
            .capabilities
            .accept
            .push("application/resource-lists+xml");
        // It plays a Conference-factory-URI and a History Function: both
        // take URI-list INVITEs (RFC 5366).
        config
            .capabilities
            .supported
            .insert(oma_im::sip::OptionTag::RecipientListInvite);
        TestServer {
            ua: UserAgent::new(config),
            script,
            addr,
            now: None,
            subscribe_call_ids: Vec::new(),
            subscriptions: Vec::new(),
            refer_call_ids: Vec::new(),
            notify_version: 0,
            queue: Default::default(),
        }
    }

    /// Sends a NOTIFY with `body` on every subscription.
    pub fn notify_all(&mut self, body: &[u8], now: Instant) {
        for d in self.subscriptions.clone() {
            let spec = DialogRequestSpec::new(Method::Notify)
                .with_header("Event", "conference")
                .with_header("Subscription-State", "active;expires=3600")
                .with_body("application/conference-info+xml", body.to_vec());
            self.ua.send_in_dialog(d, spec, now).expect("NOTIFY");
        }
        self.notify_version += 1;
    }

    fn on_event(&mut self, event: &dialog::Event, now: Instant) {
        match event {
            dialog::Event::RequestReceived {
                transaction,
                dialog: None,
                request,
            } => {
                let msg = request.message();
                match msg.method() {
                    Some("INVITE") => self.on_invite(*transaction, &msg, now),
                    Some("SUBSCRIBE") => {
                        let call_id = msg.call_id().unwrap().unwrap().id.to_owned();
                        self.subscribe_call_ids.push(call_id);
                        self.ua
                            .respond(
                                *transaction,
                                ResponseSpec::new(200).with_header("Expires", "3600"),
                                now,
                            )
                            .expect("200 to SUBSCRIBE");
                    }
                    Some("REFER") => {
                        let status = self.script.refer_status;
                        if (200..300).contains(&status) {
                            let call_id = msg.call_id().unwrap().unwrap().id.to_owned();
                            self.refer_call_ids.push(call_id);
                        }
                        let _ = self
                            .ua
                            .respond(*transaction, ResponseSpec::new(status), now);
                    }
                    _ => {
                        let _ = self.ua.respond(*transaction, ResponseSpec::new(405), now);
                    }
                }
            }
            dialog::Event::RequestReceived {
                transaction,
                dialog: Some(_),
                request,
            } => {
                let msg = request.message();
                let mut spec = ResponseSpec::new(200);
                if let Some(se) = msg.header(HeaderName::SessionExpires) {
                    spec = spec.with_header("Session-Expires", se.value);
                }
                if msg.method() == Some("SUBSCRIBE") {
                    spec = spec.with_header(
                        "Expires",
                        msg.header(HeaderName::Expires).map_or("3600", |h| h.value),
                    );
                }
                let _ = self.ua.respond(*transaction, spec, now);
            }
            dialog::Event::DialogEstablished { dialog } => {
                let call_id = self.ua.dialog(*dialog).map(|d| d.call_id().to_owned());
                if let Some(pos) = call_id
                    .as_ref()
                    .and_then(|c| self.refer_call_ids.iter().position(|x| x == c))
                {
                    self.refer_call_ids.remove(pos);
                    let last = self.script.refer_notify.len().saturating_sub(1);
                    for (i, frag) in self.script.refer_notify.clone().into_iter().enumerate() {
                        let state = if i == last {
                            "terminated;reason=noresource"
                        } else {
                            "active;expires=60"
                        };
                        let spec = DialogRequestSpec::new(Method::Notify)
                            .with_header("Event", "refer")
                            .with_header("Subscription-State", state)
                            .with_body("message/sipfrag", frag.into_bytes());
                        self.ua.send_in_dialog(*dialog, spec, now).expect("NOTIFY");
                    }
                    return;
                }
                if let Some(pos) =
                    call_id.and_then(|c| self.subscribe_call_ids.iter().position(|x| *x == c))
                {
                    self.subscribe_call_ids.remove(pos);
                    self.subscriptions.push(*dialog);
                    for body in self.script.notify.clone() {
                        let spec = DialogRequestSpec::new(Method::Notify)
                            .with_header("Event", "conference")
                            .with_header("Subscription-State", "active;expires=3600")
                            .with_body("application/conference-info+xml", body);
                        self.ua.send_in_dialog(*dialog, spec, now).expect("NOTIFY");
                    }
                }
            }
            _ => {}
        }
    }

    fn on_invite(&mut self, tx: dialog::ServerTxId, msg: &SipMessage<'_>, now: Instant) {
        let extra = |mut spec: ResponseSpec| {
            spec = spec.with_header("Server", "IM-serv/OMA1.0 test/1.0");
            spec
        };
        if self.script.ringing {
            self.ua
                .respond(tx, extra(ResponseSpec::new(180)), now)
                .expect("180");
        }
        if self.script.invite_status == 0 {
            return;
        }
        if self.script.invite_status != 200 {
            self.ua
                .respond(tx, extra(ResponseSpec::new(self.script.invite_status)), now)
                .expect("final");
            return;
        }
        let ct = msg.header(HeaderName::ContentType).map_or("", |h| h.value);
        let offer = find_sdp(ct, msg.body(), &Default::default())
            .unwrap()
            .expect("an SDP offer");
        let offer = SessionDescription::parse(offer).unwrap();
        let path = format!("msrp://{}/srv{};tcp", self.addr, self.notify_version);
        let host = self.addr.ip().to_string();
        let mut local = LocalParameters::new(7, 1, host.as_str(), self.addr.port(), path.as_str());
        local.accept_types = oma_im::sdp::AcceptTypes::from_iter(["message/cpim", "*"]);
        let body = answer(&offer, &local).to_bytes();
        let mut spec = extra(ResponseSpec::new(200)).with_body("application/sdp", body);
        if let Some(se) = &self.script.session_expires {
            spec = spec
                .with_header("Session-Expires", se)
                .with_header("Require", "timer");
        }
        self.ua.respond(tx, spec, now).expect("200");
    }

    fn rewrite_contact(&self, bytes: &mut Vec<u8>) {
        let ok_to_invite = bytes.starts_with(b"SIP/2.0 2")
            && find(bytes, b" INVITE\r\n").is_some_and(|at| {
                let line = bytes[..at].iter().rposition(|&b| b == b'\n').unwrap_or(0);
                bytes[line..at].starts_with(b"\nCSeq:")
            });
        if let (true, Some(allow)) = (ok_to_invite, &self.script.ok_allow) {
            if let Some(at) = find(bytes, b"\r\nAllow: ") {
                let start = at + b"\r\nAllow: ".len();
                let end = start + find(&bytes[start..], b"\r\n").unwrap_or(0);
                bytes.splice(start..end, allow.bytes());
            }
        }
        let focus = match (&self.script.ok_focus, ok_to_invite) {
            (Some(focus), true) => focus,
            _ => match &self.script.focus {
                Some(focus) => focus,
                None => return,
            },
        };
        let plain = format!("\r\nContact: <sip:{}>\r\n", self.addr);
        let tagged = format!(
            "\r\nContact: <sip:{focus}@{}>;isfocus;+g.oma.sip-im\r\n",
            self.addr
        );
        if let Some(at) = find(bytes, plain.as_bytes()) {
            bytes.splice(at..at + plain.len(), tagged.bytes());
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Node for TestServer {
    type Event = dialog::Event;

    fn deliver(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        self.now = Some(now);
        if bytes.starts_with(b"MSRP ") {
            return;
        }
        self.ua.handle_input(
            dialog::Input::Datagram {
                bytes,
                source,
                transport,
            },
            now,
        );
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        self.ua.handle_timeout(now);
    }

    fn poll(&mut self) -> Option<Polled<dialog::Event>> {
        if let Some(p) = self.queue.pop_front() {
            return Some(p);
        }
        let output = self.ua.poll_output()?;
        Some(match output {
            dialog::Output::Transmit(mut t) => {
                self.rewrite_contact(&mut t.bytes);
                Polled::Transmit(t)
            }
            dialog::Output::Event(e) => {
                if let Some(now) = self.now {
                    self.on_event(&e, now);
                }
                Polled::Event(e)
            }
        })
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.ua.poll_timeout()
    }

    fn is_idle(&self) -> bool {
        self.ua.is_idle() && self.queue.is_empty()
    }
}

/// An event of either kind of peer.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// From a client.
    Client(Event),
    /// From the test server.
    Server(dialog::Event),
}

/// A client or the test server.
pub enum Peer {
    /// An IM Client.
    Client(Box<ImNode>),
    /// The scripted server.
    Server(Box<TestServer>),
}

impl Peer {
    /// The client; panics on a server.
    pub fn client(&mut self) -> &mut ImClient {
        match self {
            Peer::Client(n) => &mut n.client,
            Peer::Server(_) => panic!("not a client"),
        }
    }

    /// The server; panics on a client.
    pub fn server(&mut self) -> &mut TestServer {
        match self {
            Peer::Server(s) => s,
            Peer::Client(_) => panic!("not a server"),
        }
    }
}

impl Node for Peer {
    type Event = PeerEvent;

    fn deliver(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        match self {
            Peer::Client(n) => n.deliver(bytes, source, transport, now),
            Peer::Server(s) => s.deliver(bytes, source, transport, now),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Peer::Client(n) => Node::handle_timeout(&mut **n, now),
            Peer::Server(s) => Node::handle_timeout(&mut **s, now),
        }
    }

    fn poll(&mut self) -> Option<Polled<PeerEvent>> {
        match self {
            Peer::Client(n) => n.poll().map(|p| match p {
                Polled::Transmit(t) => Polled::Transmit(t),
                Polled::Event(e) => Polled::Event(PeerEvent::Client(e)),
            }),
            Peer::Server(s) => s.poll().map(|p| match p {
                Polled::Transmit(t) => Polled::Transmit(t),
                Polled::Event(e) => Polled::Event(PeerEvent::Server(e)),
            }),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Peer::Client(n) => n.poll_timeout(),
            Peer::Server(s) => s.poll_timeout(),
        }
    }

    fn is_idle(&self) -> bool {
        match self {
            Peer::Client(n) => n.is_idle(),
            Peer::Server(s) => s.is_idle(),
        }
    }
}

/// The SIP requests (method `method`) on the wire log, each delivered
/// copy once, in order.
pub fn sip_requests<'w>(wire: &'w [WireRecord], method: &str) -> Vec<&'w WireRecord> {
    let prefix = format!("{method} ");
    let mut seen: Vec<&[u8]> = Vec::new();
    wire.iter()
        .filter(|r| r.bytes.starts_with(prefix.as_bytes()))
        .filter(|r| {
            if seen.contains(&r.bytes.as_slice()) {
                false
            } else {
                seen.push(&r.bytes);
                true
            }
        })
        .collect()
}

/// The SIP responses with `status` on the wire log (first copy of each).
pub fn sip_responses(wire: &[WireRecord], status: u16) -> Vec<&WireRecord> {
    let prefix = format!("SIP/2.0 {status} ");
    let mut seen: Vec<&[u8]> = Vec::new();
    wire.iter()
        .filter(|r| r.bytes.starts_with(prefix.as_bytes()))
        .filter(|r| {
            if seen.contains(&r.bytes.as_slice()) {
                false
            } else {
                seen.push(&r.bytes);
                true
            }
        })
        .collect()
}

/// Parses a wire record as SIP (panics if it is not).
pub fn parsed(record: &WireRecord) -> SipMessage<'_> {
    parse_message(&record.bytes).expect("SIP on the wire parses")
}

/// The values of header `name` of `msg`.
pub fn values<'m>(msg: &'m SipMessage<'_>, name: &str) -> Vec<&'m str> {
    msg.header_values(HeaderName::parse(name))
        .map(|h| h.value)
        .collect()
}
