//! The IM Server, the core and scripted clients ([`ScriptedUa`]) on the
//! simulator, and the inviter's INVITE of an Ad-hoc IM Group Session.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::RequestSpec;
use oma_im::im::server::{Event, ImServer, Input, ParticipantId, ServerConfig, SessionId};
use oma_im::sim::{CustomId, Faults, Proxy, ProxyId, ServerId, Sim, SimEvent, WireRecord};
use oma_im::sip::{parse_message, HeaderName, Method, SipMessage};

use super::{core, ScriptedUa, CORE, DOMAIN, FACTORY, SERVER};
use crate::support::wire::is_sip;

/// The inviter's SDP offer: MSRP with two accept-types and an extension
/// attribute.
pub fn inviter_offer(user: &str, types: &str) -> String {
    let ip = super::client_addr(user).ip();
    format!(
        "v=0\r\no={user} 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=message 7000 TCP/MSRP *\r\na=accept-types:{types}\r\n\
         a=path:msrp://{ip}:7000/{user}s;tcp\r\na=setup:actpass\r\na=x-inviter:1\r\n"
    )
}

/// A `multipart/mixed` body with the SDP offer and the URI list (RFC 5366),
/// and its Content-Type.
pub fn adhoc_body(sdp: &str, invitees: &[&str]) -> (String, Vec<u8>) {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
         <resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\r\n<list>\r\n",
    );
    for uri in invitees {
        xml.push_str(&format!("<entry uri=\"{uri}\"/>\r\n"));
    }
    xml.push_str("</list>\r\n</resource-lists>\r\n");
    let body = format!(
        "--b1\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b1\r\n\
         Content-Type: application/resource-lists+xml\r\nContent-Disposition: recipient-list\r\n\r\n\
         {xml}\r\n--b1--\r\n"
    );
    ("multipart/mixed;boundary=b1".to_owned(), body.into_bytes())
}

/// The server's configuration in these tests: the factory URI, `cpim`
/// and `text/plain` allowed.
pub fn config() -> ServerConfig {
    let mut config = ServerConfig::new(SERVER.parse().unwrap(), CORE.parse().unwrap(), DOMAIN);
    config.conference_factory_uris.push(FACTORY.to_owned());
    config.allowed_accept_types = vec!["message/cpim".into(), "text/plain".into()];
    config.product = "oma-im/0.1".into();
    config.msrp_authority = "10.0.0.10:2855".into();
    config.seed = 7.into();
    config
}

/// The core, the server and one scripted client per user, on the
/// simulator with no fault and no latency.
pub struct Scenario {
    /// The simulator.
    pub sim: Sim,
    /// The users of the clients, in order.
    pub users: Vec<String>,
    clients: Vec<CustomId<ScriptedUa>>,
    /// The IM Server.
    pub server_id: ServerId,
    /// The SIP/IP Core.
    pub core: ProxyId,
}

impl Scenario {
    /// A network with `config`'s server and clients `(user, script)`.
    pub fn new(config: ServerConfig, clients: &[(&str, &[u16])]) -> Self {
        Self::with_core(config, clients, core())
    }

    /// [`Scenario::new`] with `core` as the SIP/IP Core.
    pub fn with_core(config: ServerConfig, clients: &[(&str, &[u16])], core: Proxy) -> Self {
        let mut sim = Sim::new(11).with_faults(Faults::PERFECT);
        let core = sim.add_proxy("core", CORE.parse().unwrap(), core);
        let server_id = sim.add_server("server", config);
        let mut sc = Scenario {
            sim,
            users: Vec::new(),
            clients: Vec::new(),
            server_id,
            core,
        };
        for (user, script) in clients {
            sc.add_client(user, script, CORE.parse().unwrap());
        }
        sc
    }

    /// Adds a scripted client of `user` whose requests go to `proxy`.
    pub fn add_client(&mut self, user: &str, script: &[u16], proxy: SocketAddr) {
        let client = ScriptedUa::new(user, script, proxy);
        let addr = client.ua.config().local_addr;
        let id = self.sim.add_node(user, addr, None, client);
        self.users.push(user.to_owned());
        self.clients.push(id);
    }

    /// The scripted client of `user`.
    pub fn client(&mut self, user: &str) -> &mut ScriptedUa {
        let i = self.users.iter().position(|u| u == user).expect("a client");
        self.sim.custom(self.clients[i])
    }

    /// The server.
    pub fn server(&mut self) -> &mut ImServer {
        self.sim.server(self.server_id)
    }

    /// The SIP/IP Core.
    pub fn core(&mut self) -> &mut Proxy {
        self.sim.proxy(self.core)
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.sim.now()
    }

    /// The wire log.
    pub fn wire(&self) -> &[WireRecord] {
        self.sim.wire()
    }

    /// `user` sends an INVITE to `target` with the extra headers, body and
    /// Content-Type.
    pub fn invite(
        &mut self,
        user: &str,
        target: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: Vec<u8>,
    ) {
        let now = self.now();
        let client = self.client(user);
        let mut spec = RequestSpec::new(
            Method::Invite,
            target,
            format!("<sip:{user}@example.com>"),
            format!("<{target}>"),
        );
        for (name, value) in headers {
            spec = spec.with_header(name.to_string(), *value);
        }
        if !content_type.is_empty() {
            spec = spec.with_body(content_type, body);
        }
        client.ua.send_request(spec, now).expect("INVITE sent");
    }

    /// `user` invites `invitees` through the factory with the default offer.
    pub fn adhoc(&mut self, user: &str, invitees: &[&str]) {
        let (ct, body) = adhoc_body(
            &inviter_offer(user, "message/cpim application/im-iscomposing+xml"),
            invitees,
        );
        self.invite(user, FACTORY, &[("Supported", "timer")], &ct, body);
    }

    /// Runs `secs` of virtual time.
    pub fn run(&mut self, secs: u64) {
        if let Err(e) = self.sim.run_for(Duration::from_secs(secs)) {
            panic!("{e}");
        }
    }

    /// Runs, answering every authorization question with `allowed`.
    pub fn run_answering(&mut self, secs: u64, allowed: bool) {
        let server = self.server_id;
        let run = self
            .sim
            .run_for_with(Duration::from_secs(secs), |nodes, _, event, now| {
                if let SimEvent::Server(Event::AuthorizationRequested { request, .. }) = event {
                    nodes.server(server).handle_input(
                        Input::Authorization {
                            request: *request,
                            allowed,
                        },
                        now,
                    );
                }
            });
        if let Err(e) = run {
            panic!("{e}");
        }
    }

    /// The server's events so far.
    pub fn server_events(&self) -> Vec<Event> {
        self.sim
            .server_events(self.server_id)
            .into_iter()
            .cloned()
            .collect()
    }

    /// The first session created and its identity.
    pub fn session(&self) -> (SessionId, String) {
        self.server_events()
            .into_iter()
            .find_map(|e| match e {
                Event::SessionCreated { session, identity } => Some((session, identity)),
                _ => None,
            })
            .expect("a session")
    }

    /// The Participant whose IM Address is `address`.
    pub fn participant(&self, address: &str) -> ParticipantId {
        self.server_events()
            .into_iter()
            .find_map(|e| match e {
                Event::ParticipantJoined {
                    participant,
                    address: a,
                    ..
                } if a == address => Some(participant),
                _ => None,
            })
            .expect("a participant")
    }

    /// Every SIP message the server put on the wire (they all go to the
    /// core).
    pub fn sent_by_server(&self) -> Vec<&WireRecord> {
        let server: SocketAddr = SERVER.parse().unwrap();
        self.wire()
            .iter()
            .filter(|r| r.from == server && is_sip(r))
            .collect()
    }

    /// The server's responses to `user`'s INVITE (by its From user), in
    /// order.
    pub fn responses_to(&self, user: &str) -> Vec<Vec<u8>> {
        self.sent_by_server()
            .into_iter()
            .filter(|r| {
                let m = parse_message(&r.bytes).unwrap();
                m.status_code().is_some()
                    && m.cseq().unwrap().unwrap().method.as_str() == "INVITE"
                    && from_user(&m) == Some(user.to_owned())
            })
            .map(|r| r.bytes.clone())
            .collect()
    }

    /// The server's responses to `user`'s requests of `method`, in order.
    pub fn responses_to_method(&self, user: &str, method: &str) -> Vec<Vec<u8>> {
        self.sent_by_server()
            .into_iter()
            .filter(|r| {
                let m = parse_message(&r.bytes).unwrap();
                m.status_code().is_some()
                    && m.cseq().unwrap().unwrap().method.as_str() == method
                    && from_user(&m) == Some(user.to_owned())
            })
            .map(|r| r.bytes.clone())
            .collect()
    }

    /// The INVITEs the server sent (to the invitees), in order.
    pub fn invites_sent(&self) -> Vec<Vec<u8>> {
        self.sent_by_server()
            .into_iter()
            .filter(|r| r.bytes.starts_with(b"INVITE "))
            .map(|r| r.bytes.clone())
            .collect()
    }

    /// The requests the server sent with `method` to `user` (by Request-URI
    /// user or To).
    pub fn requests_to(&self, method: &str, user: &str) -> Vec<Vec<u8>> {
        self.sent_by_server()
            .into_iter()
            .filter(|r| {
                let m = parse_message(&r.bytes).unwrap();
                m.method() == Some(method) && to_user(&m) == Some(user.to_owned())
            })
            .map(|r| r.bytes.clone())
            .collect()
    }
}

/// The user part of the From URI.
pub fn from_user(m: &SipMessage<'_>) -> Option<String> {
    user_of(&m.from()?.ok()?.uri.to_string())
}

/// The user part of the To URI.
pub fn to_user(m: &SipMessage<'_>) -> Option<String> {
    user_of(&m.to()?.ok()?.uri.to_string())
}

fn user_of(uri: &str) -> Option<String> {
    let rest = uri.split_once(':')?.1;
    Some(rest.split_once('@')?.0.to_owned())
}

/// The value of header `name` of a message, if any.
pub fn header(bytes: &[u8], name: &str) -> Option<String> {
    let m = parse_message(bytes).unwrap();
    let name = HeaderName::parse(name);
    m.header(name).map(|h| h.value.to_owned())
}

/// The status code of a response.
pub fn status(bytes: &[u8]) -> u16 {
    parse_message(bytes).unwrap().status_code().unwrap()
}

/// The body of a message, as text.
pub fn body(bytes: &[u8]) -> String {
    String::from_utf8(parse_message(bytes).unwrap().body().to_vec()).unwrap()
}
