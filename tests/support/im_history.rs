//! IM History Function flow tests on the public simulator
//! ([`oma_im::sim`]):
//!
//! * [`HistoryApp`]: the application around the simulator's
//!   [`ImHistoryFunction`] node — an access policy (who may read), a store
//!   of history items keyed by reference, recorded messages appended to
//!   it, recordings accepted — run as a hook of every run.
//! * [`ScriptedPeer`]: a node of the test's own ([`oma_im::sim::Node`]), a
//!   SIP [`UserAgent`] with at most one [`MsrpSession`], scripted to play an
//!   IM Client (retrieval INVITE, REFER) or a controlling IM Server (200
//!   with an `isfocus` Contact, SDP answer, SUBSCRIBE/NOTIFY, messages over
//!   MSRP, BYE). Its MSRP connection is opened, accepted and carried by
//!   the simulator.
//! * [`Net`]: History Functions and scripted peers named by index.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use oma_im::body::cpim::{CpimAddress, CpimMessage, CpimMessageBuf};
use oma_im::body::multipart::find_sdp;
use oma_im::dialog::{
    self, Config, DialogId, DialogRequestSpec, RequestSpec, ResponseSpec, UserAgent,
};
use oma_im::im::history::{self, HistoryConfig, ImHistoryFunction};
use oma_im::im::ConnectionId;
use oma_im::msrp::session::{
    self as msrp, MsrpSession, ReceivedMessage, SendOptions, SessionConfig,
};
use oma_im::sdp::offer_answer::{answer, negotiate, offer, LocalParameters, Side};
use oma_im::sdp::{Direction, SessionDescription};
use oma_im::sim::{
    CustomId, Faults, HistoryId, LinkInput, Node, NodeId, NodeOutput, Sim, SimEvent, WireRecord,
};
use oma_im::sip::{parse_message, HeaderName, Method};
use oma_im::transaction::{Transmit, Transport};

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

/// The application of a History Function in the tests.
#[derive(Debug, Default)]
pub struct HistoryApp {
    /// Asserted identities that may read the history; others get 403.
    pub readers: Vec<String>,
    /// Stored items by reference, in storage order.
    pub store: Vec<(String, CpimMessageBuf)>,
    /// Whether REFERs asking for a recording are accepted.
    pub accept_recordings: bool,
    /// Whether retrieval requests are answered at once (else the test does).
    pub auto_answer: bool,
}

impl HistoryApp {
    /// An application that lets `readers` read.
    pub fn new(readers: &[&str]) -> Self {
        HistoryApp {
            readers: readers.iter().map(|r| r.to_string()).collect(),
            store: Vec::new(),
            accept_recordings: true,
            auto_answer: true,
        }
    }

    /// Reacts to an event of `history`, as the application would.
    pub fn on_event(
        &mut self,
        history: &mut ImHistoryFunction,
        event: &history::Event,
        now: Instant,
    ) {
        use history::Event as E;
        match event {
            E::RetrievalRequested {
                session, requester, ..
            } if self.auto_answer => {
                if self.readers.contains(requester) {
                    history.accept_retrieval(*session, now).unwrap();
                } else {
                    history.reject_retrieval(*session, now).unwrap();
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
                history
                    .provide_history_item(*session, *index, item, now)
                    .unwrap();
            }
            E::RecordingRequested { session, .. } => {
                if self.accept_recordings {
                    history.accept_recording(*session, now).unwrap();
                } else {
                    history.reject_recording(*session, now).unwrap();
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
}

/// A History Function node with its application.
pub struct HistoryNode<'a> {
    /// The History Function.
    pub history: &'a mut ImHistoryFunction,
    app: &'a mut HistoryApp,
}

impl<'a> HistoryNode<'a> {
    /// `history` with its application `app`.
    pub fn new(history: &'a mut ImHistoryFunction, app: &'a mut HistoryApp) -> Self {
        HistoryNode { history, app }
    }
}

impl Deref for HistoryNode<'_> {
    type Target = HistoryApp;

    fn deref(&self) -> &HistoryApp {
        self.app
    }
}

impl DerefMut for HistoryNode<'_> {
    fn deref_mut(&mut self) -> &mut HistoryApp {
        self.app
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

/// A scripted IM Client or controlling IM Server on a [`UserAgent`], its
/// MSRP on its SIP address.
#[derive(Debug)]
pub struct ScriptedPeer {
    /// The user agent.
    pub ua: UserAgent,
    /// The script.
    pub script: Script,
    addr: SocketAddr,
    now: Option<Instant>,
    /// The SDP offer this peer sent, for the negotiation.
    offer: Option<Vec<u8>>,
    /// The MSRP endpoint.
    pub msrp: Option<MsrpSession>,
    /// Its connection, once opened or accepted, and whether it is up.
    link: Option<(ConnectionId, bool)>,
    /// Whether the MSRP endpoint was told its connection is up.
    msrp_up: bool,
    next_link: u64,
    /// The INVITE dialog.
    pub dialog: Option<DialogId>,
    /// Messages received over MSRP.
    pub received: Vec<ReceivedMessage>,
    queue: VecDeque<NodeOutput>,
    sent_messages: bool,
    /// MSRP bytes that arrived before the MSRP session existed.
    unbound: Vec<u8>,
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
            link: None,
            msrp_up: false,
            next_link: 0,
            dialog: None,
            received: Vec::new(),
            queue: VecDeque::new(),
            sent_messages: false,
            unbound: Vec::new(),
            core: false,
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
        let n = negotiate(&local, &remote, side).unwrap();
        let config = SessionConfig {
            rng_seed: u64::from(self.addr.port()).into(),
            ..SessionConfig::default()
        };
        let session = MsrpSession::from_negotiated(&n, config).unwrap();
        let now = self.now.unwrap();
        if n.is_active() {
            let d = session.destination();
            let host = d.host.trim_start_matches('[').trim_end_matches(']');
            let to = SocketAddr::new(host.parse().unwrap(), d.port.unwrap());
            self.next_link += 1;
            let link = ConnectionId(self.next_link);
            self.link = Some((link, false));
            self.queue.push_back(NodeOutput::Connect { link, to });
        }
        self.msrp = Some(session);
        if !self.unbound.is_empty() {
            // The peer connected before the SDP answer arrived here.
            self.msrp_connected(now);
        }
        self.send_script_messages();
    }

    /// Tells the MSRP endpoint its connection is up (once), with what the
    /// connection brought before the endpoint existed.
    fn msrp_connected(&mut self, now: Instant) {
        let Some(m) = self.msrp.as_mut() else { return };
        if !self.msrp_up {
            self.msrp_up = true;
            m.handle_input(msrp::Input::Connected, now);
        }
        if !self.unbound.is_empty() {
            let early = std::mem::take(&mut self.unbound);
            m.handle_input(msrp::Input::Bytes(&early), now);
        }
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
                            spec = spec.with_header(n.clone(), v);
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
                        self.queue.push_back(NodeOutput::Sip(t));
                    }
                    dialog::Output::Event(e) => {
                        if let Some(now) = self.now {
                            self.on_event(&e, now);
                        }
                        self.queue.push_back(NodeOutput::Event(SimEvent::Agent(e)));
                    }
                }
            }
            while let Some(o) = self.msrp.as_mut().and_then(MsrpSession::poll_output) {
                moved = true;
                match o {
                    msrp::Output::Transmit(t) => {
                        if let Some((link, _)) = self.link {
                            self.queue.push_back(NodeOutput::Write {
                                link,
                                bytes: t.data,
                            });
                        }
                    }
                    msrp::Output::Event(msrp::Event::MessageReceived(m)) => {
                        self.received.push(*m);
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
    fn handle_sip(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        self.now = Some(now);
        if let Some(to) = self.core.then(|| self.elsewhere(bytes)).flatten() {
            self.queue.push_back(NodeOutput::Sip(Transmit {
                destination: to,
                transport,
                bytes: bytes.to_vec(),
            }));
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
        self.pull();
    }

    /// The peer's MSRP connection (one per scripted peer).
    fn accept(&mut self, _: Instant) -> Option<ConnectionId> {
        if self.link.is_some() {
            return None;
        }
        self.next_link += 1;
        let link = ConnectionId(self.next_link);
        self.link = Some((link, true));
        Some(link)
    }

    fn handle_link(&mut self, link: ConnectionId, input: LinkInput<'_>, now: Instant) {
        self.now = Some(now);
        if self.link.map(|(l, _)| l) != Some(link) {
            return;
        }
        match input {
            LinkInput::Connected => {
                self.link = Some((link, true));
                self.msrp_connected(now);
            }
            LinkInput::Bytes(bytes) => {
                self.unbound.extend_from_slice(bytes);
                self.msrp_connected(now);
            }
            LinkInput::Closed => {
                if let Some(m) = self.msrp.as_mut() {
                    m.handle_input(msrp::Input::Closed, now);
                }
            }
        }
        self.pull();
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        self.ua.handle_timeout(now);
        if let Some(m) = self.msrp.as_mut() {
            m.handle_timeout(now);
        }
        self.pull();
    }

    fn poll_output(&mut self) -> Option<NodeOutput> {
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

/// A node of [`Net`].
#[derive(Debug, Clone, Copy)]
enum Handle {
    History(HistoryId),
    Scripted(CustomId<ScriptedPeer>),
}

/// One node of [`Net`], to reach as what it is.
pub struct NodeRef<'a> {
    net: &'a mut Net,
    handle: Handle,
}

impl<'a> NodeRef<'a> {
    /// The History Function and its application; panics on a scripted peer.
    pub fn history(self) -> HistoryNode<'a> {
        let Handle::History(id) = self.handle else {
            panic!("not the History Function")
        };
        let Net { sim, apps, .. } = self.net;
        let app = apps
            .iter_mut()
            .find(|(h, _)| *h == id)
            .map(|(_, a)| a)
            .expect("an application");
        HistoryNode {
            history: sim.history(id),
            app,
        }
    }

    /// The scripted peer; panics on the History Function.
    pub fn scripted(self) -> &'a mut ScriptedPeer {
        let Handle::Scripted(id) = self.handle else {
            panic!("not a scripted peer")
        };
        self.net.sim.custom(id)
    }
}

/// History Functions (with their application) and scripted peers on the
/// simulator, named by the index of their addition.
pub struct Net {
    /// The simulator.
    pub sim: Sim,
    nodes: Vec<Handle>,
    apps: Vec<(HistoryId, HistoryApp)>,
}

impl Net {
    /// An empty network with `faults`, drawing from `seed`.
    pub fn new(faults: Faults, seed: u64) -> Self {
        Net {
            sim: Sim::new(seed).with_faults(faults),
            nodes: Vec::new(),
            apps: Vec::new(),
        }
    }

    /// Adds a History Function from `config`, its application `app`;
    /// returns its index.
    pub fn add_history(&mut self, config: HistoryConfig, app: HistoryApp) -> usize {
        let id = self.sim.add_history("history", config);
        self.apps.push((id, app));
        self.nodes.push(Handle::History(id));
        self.nodes.len() - 1
    }

    /// Adds a scripted peer at its address (its MSRP there too); returns
    /// its index.
    pub fn add_scripted(&mut self, name: &str, peer: ScriptedPeer) -> usize {
        let addr = peer.addr;
        let id = self.sim.add_node(name, addr, Some(addr), peer);
        self.nodes.push(Handle::Scripted(id));
        self.nodes.len() - 1
    }

    /// Node `i`.
    pub fn node(&mut self, i: usize) -> NodeRef<'_> {
        NodeRef {
            handle: self.nodes[i],
            net: self,
        }
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.sim.now()
    }

    /// The wire log.
    pub fn wire(&self) -> &[WireRecord] {
        self.sim.wire()
    }

    /// Every History Function event, in order.
    pub fn history_events(&self) -> Vec<history::Event> {
        self.sim
            .events()
            .iter()
            .filter_map(|r| match &r.event {
                SimEvent::History(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// The SIP events of scripted peer `i`, in order.
    pub fn peer_events(&self, i: usize) -> Vec<dialog::Event> {
        match self.nodes[i] {
            Handle::Scripted(id) => self.sim.agent_events(id).into_iter().cloned().collect(),
            Handle::History(_) => Vec::new(),
        }
    }

    /// Runs until the virtual clock reaches `until`, the applications
    /// answering their History Functions.
    pub fn run_until(&mut self, until: Instant) {
        let duration = until.saturating_duration_since(self.sim.now());
        let Net { sim, apps, .. } = self;
        let run = sim.run_for_with(duration, |nodes, id, event, now| {
            if let (NodeId::History(h), SimEvent::History(e)) = (id, event) {
                if let Some((_, app)) = apps.iter_mut().find(|(x, _)| *x == h) {
                    app.on_event(nodes.history(h), e, now);
                }
            }
        });
        if let Err(e) = run {
            panic!("{e}");
        }
    }

    /// Runs until nothing is in flight and no node has a deadline, the
    /// applications answering; fails the test after `bound`.
    pub fn run_until_quiet(&mut self, bound: Duration) {
        let Net { sim, apps, .. } = self;
        let run = sim.run_until_quiet_with(bound, |nodes, id, event, now| {
            if let (NodeId::History(h), SimEvent::History(e)) = (id, event) {
                if let Some((_, app)) = apps.iter_mut().find(|(x, _)| *x == h) {
                    app.on_event(nodes.history(h), e, now);
                }
            }
        });
        if let Err(e) = run {
            panic!("{e}");
        }
    }

    /// Whether every node is idle and nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.sim.is_idle()
    }
}

/// A parsed view of a wire record's bytes (SIP only).
pub fn sip(bytes: &[u8]) -> oma_im::sip::SipMessage<'_> {
    parse_message(bytes).unwrap()
}
