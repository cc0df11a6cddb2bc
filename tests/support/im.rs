//! IM Client flow tests on the public simulator ([`oma_im::sim`]): real
//! [`ImClient`]s and [`TestServer`], a scripted IM Server / UAS built on
//! the SIP [`UserAgent`] and added as a node of the test's own
//! ([`oma_im::sim::Node`]). The simulator moves every SIP message as bytes
//! and carries the MSRP connections; the test server accepts the clients'
//! MSRP connections on its SIP address and reads nothing from them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::body::multipart::find_sdp;
use oma_im::dialog::{self, Config, DialogId, DialogRequestSpec, ResponseSpec, UserAgent};
use oma_im::im::client::{ClientConfig, Event, ImClient};
use oma_im::im::ConnectionId;
use oma_im::sdp::offer_answer::{answer, LocalParameters};
use oma_im::sdp::SessionDescription;
use oma_im::sim::{ClientId, CustomId, Faults, Node, NodeOutput, Sim, SimEvent, WireRecord};
use oma_im::sip::{HeaderName, Method, MethodSet, SipMessage};
use oma_im::transaction::Transport;

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
#[derive(Debug)]
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
    queue: VecDeque<NodeOutput>,
    next_link: u64,
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
            queue: VecDeque::new(),
            next_link: 0,
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
    fn handle_sip(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant) {
        self.now = Some(now);
        self.ua.handle_input(
            dialog::Input::Datagram {
                bytes,
                source,
                transport,
            },
            now,
        );
    }

    /// The clients' MSRP connections are accepted; what they carry is not
    /// read.
    fn accept(&mut self, _: Instant) -> Option<ConnectionId> {
        self.next_link += 1;
        Some(ConnectionId(self.next_link))
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        self.ua.handle_timeout(now);
    }

    fn poll_output(&mut self) -> Option<NodeOutput> {
        if let Some(p) = self.queue.pop_front() {
            return Some(p);
        }
        let output = self.ua.poll_output()?;
        Some(match output {
            dialog::Output::Transmit(mut t) => {
                self.rewrite_contact(&mut t.bytes);
                NodeOutput::Sip(t)
            }
            dialog::Output::Event(e) => {
                if let Some(now) = self.now {
                    self.on_event(&e, now);
                }
                NodeOutput::Event(SimEvent::Agent(e))
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

/// A node of [`Net`]: an IM Client or the test server.
#[derive(Debug, Clone, Copy)]
pub enum Handle {
    /// An IM Client.
    Client(ClientId),
    /// The scripted server.
    Server(CustomId<TestServer>),
}

/// One node of [`Net`], to reach as what it is.
pub struct NodeRef<'a> {
    sim: &'a mut Sim,
    handle: Handle,
}

impl<'a> NodeRef<'a> {
    /// The client; panics on the server.
    pub fn client(self) -> &'a mut ImClient {
        match self.handle {
            Handle::Client(id) => self.sim.client(id),
            Handle::Server(_) => panic!("not a client"),
        }
    }

    /// The server; panics on a client.
    pub fn server(self) -> &'a mut TestServer {
        match self.handle {
            Handle::Server(id) => self.sim.custom(id),
            Handle::Client(_) => panic!("not the server"),
        }
    }
}

/// IM Clients and test servers on the simulator, named by the index of
/// their addition.
pub struct Net {
    /// The simulator.
    pub sim: Sim,
    nodes: Vec<Handle>,
}

impl Net {
    /// An empty network with `faults`, drawing from `seed`.
    pub fn new(faults: Faults, seed: u64) -> Self {
        Net {
            sim: Sim::new(seed).with_faults(faults),
            nodes: Vec::new(),
        }
    }

    /// Adds an IM Client; returns its index.
    pub fn add_client(&mut self, config: ClientConfig) -> usize {
        let name = config
            .im_address
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or("client")
            .to_owned();
        let id = self.sim.add_client(&name, config);
        self.nodes.push(Handle::Client(id));
        self.nodes.len() - 1
    }

    /// Adds a test server at `addr` (its MSRP there too), whose outbound
    /// proxy is `proxy`; returns its index.
    pub fn add_server(
        &mut self,
        addr: SocketAddr,
        proxy: SocketAddr,
        script: Script,
        seed: u64,
    ) -> usize {
        let server = TestServer::new(addr, proxy, script, seed);
        let id = self.sim.add_node("server", addr, Some(addr), server);
        self.nodes.push(Handle::Server(id));
        self.nodes.len() - 1
    }

    /// Node `i`.
    pub fn node(&mut self, i: usize) -> NodeRef<'_> {
        NodeRef {
            handle: self.nodes[i],
            sim: &mut self.sim,
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

    /// The events of client `i`, in order.
    pub fn client_events(&self, i: usize) -> Vec<Event> {
        match self.nodes[i] {
            Handle::Client(id) => self.sim.client_events(id).into_iter().cloned().collect(),
            Handle::Server(_) => Vec::new(),
        }
    }

    /// Runs `secs` seconds of virtual time.
    pub fn run(&mut self, secs: u64) {
        if let Err(e) = self.sim.run_for(Duration::from_secs(secs)) {
            panic!("{e}");
        }
    }

    /// Runs until the virtual clock reaches `until`.
    pub fn run_until(&mut self, until: Instant) {
        let duration = until.saturating_duration_since(self.sim.now());
        if let Err(e) = self.sim.run_for(duration) {
            panic!("{e}");
        }
    }

    /// Runs until nothing is in flight and no node has a deadline; fails
    /// the test when that takes longer than `bound`.
    pub fn run_until_quiet(&mut self, bound: Duration) {
        if let Err(e) = self.sim.run_until_quiet(bound) {
            panic!("{e}");
        }
    }
}
