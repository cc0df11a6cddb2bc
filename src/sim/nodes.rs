//! The nodes of a [`Sim`](super::Sim): the roles of the crate, each behind
//! an id of its kind, and the one shape the simulator drives them through.

use std::net::SocketAddr;
use std::time::Instant;

use crate::dialog::{self, UserAgent};
use crate::im::client::{self, ImClient, ImSessionId};
use crate::im::history::{self, HistorySessionId, ImHistoryFunction};
use crate::im::server::{self, ImServer};
use crate::im::ConnectionId;
use crate::msrp::session::Authority;
use crate::transaction::{Transmit, Transport};

use super::proxy::Proxy;

/// An [`ImClient`] of a [`Sim`](super::Sim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(pub(crate) usize);
/// An [`ImServer`] of a [`Sim`](super::Sim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId(pub(crate) usize);
/// An [`ImHistoryFunction`] of a [`Sim`](super::Sim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HistoryId(pub(crate) usize);
/// A bare SIP [`UserAgent`] of a [`Sim`](super::Sim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub(crate) usize);
/// A [`Proxy`] of a [`Sim`](super::Sim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProxyId(pub(crate) usize);

/// Any node of a [`Sim`](super::Sim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeId {
    /// An IM Client.
    Client(ClientId),
    /// A controlling IM Server.
    Server(ServerId),
    /// An IM History Function.
    History(HistoryId),
    /// A SIP user agent.
    Agent(AgentId),
    /// A SIP proxy.
    Proxy(ProxyId),
}

macro_rules! node_from {
    ($($id:ident => $variant:ident),*) => {$(
        impl From<$id> for NodeId {
            fn from(id: $id) -> Self {
                NodeId::$variant(id)
            }
        }
    )*};
}
node_from!(ClientId => Client, ServerId => Server, HistoryId => History, AgentId => Agent, ProxyId => Proxy);

/// Something a node reported, tagged by its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum SimEvent {
    /// An event of an IM Client.
    Client(client::Event),
    /// An event of an IM Server.
    Server(server::Event),
    /// An event of an IM History Function.
    History(history::Event),
    /// An event of a SIP user agent.
    Agent(dialog::Event),
}

/// One node and what the simulator knows about it.
#[derive(Debug)]
pub(crate) struct Slot<R> {
    pub name: String,
    pub sip: SocketAddr,
    pub msrp: Option<SocketAddr>,
    pub role: R,
    /// Accept every invitation at once (clients only).
    pub auto_accept: bool,
}

/// Every node of a simulation, by kind. The hooks of
/// [`Sim::run_until_idle_with`](super::Sim::run_until_idle_with) get it to
/// act on any node while the simulation runs.
///
/// The ids are those the simulation handed out; an id of another
/// simulation that has fewer nodes of its kind makes the accessors panic
/// (a programming error, never an input of the network).
#[derive(Debug, Default)]
pub struct Nodes {
    pub(crate) clients: Vec<Slot<ImClient>>,
    pub(crate) servers: Vec<Slot<ImServer>>,
    pub(crate) histories: Vec<Slot<ImHistoryFunction>>,
    pub(crate) agents: Vec<Slot<UserAgent>>,
    pub(crate) proxies: Vec<Slot<Proxy>>,
}

impl Nodes {
    /// The IM Client `id`.
    pub fn client(&mut self, id: ClientId) -> &mut ImClient {
        &mut self.clients[id.0].role
    }

    /// The IM Server `id`.
    pub fn server(&mut self, id: ServerId) -> &mut ImServer {
        &mut self.servers[id.0].role
    }

    /// The IM History Function `id`.
    pub fn history(&mut self, id: HistoryId) -> &mut ImHistoryFunction {
        &mut self.histories[id.0].role
    }

    /// The SIP user agent `id`.
    pub fn agent(&mut self, id: AgentId) -> &mut UserAgent {
        &mut self.agents[id.0].role
    }

    /// The proxy `id`.
    pub fn proxy(&mut self, id: ProxyId) -> &mut Proxy {
        &mut self.proxies[id.0].role
    }

    /// Every node, in the order of their kinds then of their addition.
    pub fn ids(&self) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = Vec::new();
        ids.extend((0..self.clients.len()).map(|i| NodeId::Client(ClientId(i))));
        ids.extend((0..self.servers.len()).map(|i| NodeId::Server(ServerId(i))));
        ids.extend((0..self.histories.len()).map(|i| NodeId::History(HistoryId(i))));
        ids.extend((0..self.agents.len()).map(|i| NodeId::Agent(AgentId(i))));
        ids.extend((0..self.proxies.len()).map(|i| NodeId::Proxy(ProxyId(i))));
        ids
    }

    /// The name the node was added with.
    pub fn name(&self, id: NodeId) -> &str {
        match id {
            NodeId::Client(i) => &self.clients[i.0].name,
            NodeId::Server(i) => &self.servers[i.0].name,
            NodeId::History(i) => &self.histories[i.0].name,
            NodeId::Agent(i) => &self.agents[i.0].name,
            NodeId::Proxy(i) => &self.proxies[i.0].name,
        }
    }

    /// The SIP address of the node.
    pub fn sip_addr(&self, id: NodeId) -> SocketAddr {
        match id {
            NodeId::Client(i) => self.clients[i.0].sip,
            NodeId::Server(i) => self.servers[i.0].sip,
            NodeId::History(i) => self.histories[i.0].sip,
            NodeId::Agent(i) => self.agents[i.0].sip,
            NodeId::Proxy(i) => self.proxies[i.0].sip,
        }
    }

    /// The MSRP listening address of the node, if it has one.
    pub fn msrp_addr(&self, id: NodeId) -> Option<SocketAddr> {
        match id {
            NodeId::Client(i) => self.clients[i.0].msrp,
            NodeId::Server(i) => self.servers[i.0].msrp,
            NodeId::History(i) => self.histories[i.0].msrp,
            NodeId::Agent(_) | NodeId::Proxy(_) => None,
        }
    }

    pub(crate) fn auto_accept(&self, id: NodeId) -> bool {
        match id {
            NodeId::Client(i) => self.clients[i.0].auto_accept,
            _ => false,
        }
    }

    /// The next output of a node, in the simulator's terms.
    pub(crate) fn poll(&mut self, id: NodeId) -> Option<Action> {
        Some(match id {
            NodeId::Client(i) => match self.clients[i.0].role.poll_output()? {
                client::Output::Transmit(t) => Action::Sip(t),
                client::Output::MsrpConnect {
                    session,
                    destination,
                } => Action::Connect {
                    end: End::ClientSession(session),
                    destination,
                },
                client::Output::MsrpTransmit { session, data } => Action::Write {
                    end: End::ClientSession(session),
                    data,
                },
                client::Output::MsrpClose { session } => Action::Close {
                    end: End::ClientSession(session),
                },
                client::Output::MsrpAccepted {
                    connection,
                    session,
                } => Action::Bound {
                    accepted: End::ClientAccepted(connection),
                    session: End::ClientSession(session),
                },
                client::Output::MsrpConnectionTransmit { connection, data } => Action::Write {
                    end: End::ClientAccepted(connection),
                    data,
                },
                client::Output::MsrpConnectionClose { connection } => Action::Close {
                    end: End::ClientAccepted(connection),
                },
                client::Output::Event(e) => Action::Event(SimEvent::Client(e)),
            },
            NodeId::Server(i) => match self.servers[i.0].role.poll_output()? {
                server::Output::Transmit(t) => Action::Sip(t),
                server::Output::MsrpConnect {
                    connection,
                    address,
                } => Action::Connect {
                    end: End::Server(connection),
                    destination: address,
                },
                server::Output::MsrpTransmit { connection, bytes } => Action::Write {
                    end: End::Server(connection),
                    data: bytes,
                },
                server::Output::MsrpClose { connection } => Action::Close {
                    end: End::Server(connection),
                },
                server::Output::Event(e) => Action::Event(SimEvent::Server(e)),
            },
            NodeId::History(i) => match self.histories[i.0].role.poll_output()? {
                history::Output::Transmit(t) => Action::Sip(t),
                history::Output::MsrpConnect {
                    session,
                    destination,
                } => Action::Connect {
                    end: End::HistorySession(session),
                    destination,
                },
                history::Output::MsrpTransmit { session, data } => Action::Write {
                    end: End::HistorySession(session),
                    data,
                },
                history::Output::MsrpClose { session } => Action::Close {
                    end: End::HistorySession(session),
                },
                history::Output::Event(e) => Action::Event(SimEvent::History(e)),
            },
            NodeId::Agent(i) => match self.agents[i.0].role.poll_output()? {
                dialog::Output::Transmit(t) => Action::Sip(t),
                dialog::Output::Event(e) => Action::Event(SimEvent::Agent(e)),
            },
            NodeId::Proxy(i) => Action::Sip(self.proxies[i.0].role.poll()?),
        })
    }

    /// Hands a SIP message to a node.
    pub(crate) fn deliver_sip(
        &mut self,
        id: NodeId,
        bytes: &[u8],
        source: SocketAddr,
        transport: Transport,
        now: Instant,
    ) {
        match id {
            NodeId::Client(i) => self.clients[i.0].role.handle_input(
                client::Input::Sip {
                    bytes,
                    source,
                    transport,
                },
                now,
            ),
            NodeId::Server(i) => self.servers[i.0].role.handle_input(
                server::Input::Sip {
                    bytes,
                    source,
                    transport,
                },
                now,
            ),
            NodeId::History(i) => self.histories[i.0].role.handle_input(
                history::Input::Sip {
                    bytes,
                    source,
                    transport,
                },
                now,
            ),
            NodeId::Agent(i) => self.agents[i.0].role.handle_input(
                dialog::Input::Datagram {
                    bytes,
                    source,
                    transport,
                },
                now,
            ),
            NodeId::Proxy(i) => self.proxies[i.0].role.forward(bytes, transport),
        }
    }

    /// Names a connection accepted on the node's MSRP address; `None` when
    /// the node takes no MSRP connection.
    pub(crate) fn accept(&mut self, id: NodeId, now: Instant) -> Option<End> {
        match id {
            NodeId::Client(i) => Some(End::ClientAccepted(
                self.clients[i.0].role.msrp_accepted_at(now),
            )),
            NodeId::Server(i) => Some(End::Server(self.servers[i.0].role.msrp_accepted_at(now))),
            NodeId::History(_) => Some(End::HistoryUnbound),
            NodeId::Agent(_) | NodeId::Proxy(_) => None,
        }
    }

    /// Hands a connection event to the end `end` of node `id`.
    pub(crate) fn deliver_msrp(&mut self, id: NodeId, end: End, what: MsrpIn<'_>, now: Instant) {
        match (id, end) {
            (NodeId::Client(i), End::ClientSession(session)) => {
                let input = match what {
                    MsrpIn::Connected => client::Input::MsrpConnected { session },
                    MsrpIn::Bytes(bytes) => client::Input::MsrpBytes { session, bytes },
                    MsrpIn::Closed => client::Input::MsrpClosed { session },
                };
                self.clients[i.0].role.handle_input(input, now);
            }
            (NodeId::Client(i), End::ClientAccepted(connection)) => {
                let input = match what {
                    MsrpIn::Connected => return,
                    MsrpIn::Bytes(bytes) => client::Input::MsrpAcceptedBytes { connection, bytes },
                    MsrpIn::Closed => client::Input::MsrpAcceptedClosed { connection },
                };
                self.clients[i.0].role.handle_input(input, now);
            }
            (NodeId::Server(i), End::Server(connection)) => {
                let input = match what {
                    MsrpIn::Connected => server::Input::MsrpConnected { connection },
                    MsrpIn::Bytes(bytes) => server::Input::MsrpBytes { connection, bytes },
                    MsrpIn::Closed => server::Input::MsrpClosed { connection },
                };
                self.servers[i.0].role.handle_input(input, now);
            }
            (NodeId::History(i), End::HistorySession(session)) => {
                let input = match what {
                    MsrpIn::Connected => history::Input::MsrpConnected { session },
                    MsrpIn::Bytes(bytes) => history::Input::MsrpBytes { session, bytes },
                    MsrpIn::Closed => history::Input::MsrpClosed { session },
                };
                self.histories[i.0].role.handle_input(input, now);
            }
            _ => {}
        }
    }

    /// The History Function session whose local MSRP URI has the
    /// session-id `token`.
    pub(crate) fn history_session_for(
        &self,
        id: HistoryId,
        token: &str,
    ) -> Option<HistorySessionId> {
        let h = &self.histories[id.0].role;
        let found = h.sessions().find(|s| {
            h.local_msrp_path(*s)
                .and_then(|p| crate::msrp::MsrpUri::parse(p).ok())
                .and_then(|u| u.session_id.map(|t| t == token))
                .unwrap_or(false)
        });
        found
    }

    pub(crate) fn handle_timeout(&mut self, id: NodeId, now: Instant) {
        match id {
            NodeId::Client(i) => self.clients[i.0].role.handle_timeout(now),
            NodeId::Server(i) => self.servers[i.0].role.handle_timeout(now),
            NodeId::History(i) => self.histories[i.0].role.handle_timeout(now),
            NodeId::Agent(i) => self.agents[i.0].role.handle_timeout(now),
            NodeId::Proxy(_) => {}
        }
    }

    pub(crate) fn poll_timeout(&self, id: NodeId) -> Option<Instant> {
        match id {
            NodeId::Client(i) => self.clients[i.0].role.poll_timeout(),
            NodeId::Server(i) => self.servers[i.0].role.poll_timeout(),
            NodeId::History(i) => self.histories[i.0].role.poll_timeout(),
            NodeId::Agent(i) => self.agents[i.0].role.poll_timeout(),
            NodeId::Proxy(_) => None,
        }
    }

    /// Why the node is not idle, or `None` when it is.
    pub(crate) fn busy(&self, id: NodeId) -> Option<String> {
        let idle = match id {
            NodeId::Client(i) => self.clients[i.0].role.is_idle(),
            NodeId::Server(i) => self.servers[i.0].role.is_idle(),
            NodeId::History(i) => self.histories[i.0].role.is_idle(),
            NodeId::Agent(i) => self.agents[i.0].role.is_idle(),
            NodeId::Proxy(i) => self.proxies[i.0].role.is_idle(),
        };
        if idle {
            return None;
        }
        Some(match id {
            NodeId::Client(i) => {
                let c = &self.clients[i.0].role;
                format!(
                    "{} session(s), next deadline {:?}",
                    c.sessions().count(),
                    c.next_deadline().map(|d| d.reason)
                )
            }
            NodeId::Server(i) => {
                let s = &self.servers[i.0].role;
                format!(
                    "{} session(s), next deadline {:?}",
                    s.session_count(),
                    s.next_deadline().map(|d| d.reason)
                )
            }
            NodeId::History(i) => {
                let h = &self.histories[i.0].role;
                format!(
                    "{} session(s), next deadline {:?}",
                    h.sessions().count(),
                    h.next_deadline().map(|d| d.reason)
                )
            }
            NodeId::Agent(i) => format!(
                "next deadline {:?}",
                self.agents[i.0].role.next_deadline().map(|d| d.reason)
            ),
            NodeId::Proxy(_) => "messages queued".to_owned(),
        })
    }
}

/// One end of an MSRP connection, as its role names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum End {
    /// A client session (the active end, or a passive one once bound).
    ClientSession(ImSessionId),
    /// A connection a client accepted.
    ClientAccepted(ConnectionId),
    /// A connection of a server (opened or accepted).
    Server(ConnectionId),
    /// A History Function session.
    HistorySession(HistorySessionId),
    /// A connection accepted by a History Function, not bound to a session
    /// yet: the simulator binds it from its first To-Path.
    HistoryUnbound,
}

/// What a connection brings to one of its ends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MsrpIn<'a> {
    Connected,
    Bytes(&'a [u8]),
    Closed,
}

/// A node's output in the simulator's terms.
#[derive(Debug)]
pub(crate) enum Action {
    Sip(Transmit),
    Connect {
        end: End,
        destination: Authority,
    },
    Write {
        end: End,
        data: Vec<u8>,
    },
    Close {
        end: End,
    },
    /// The accepted connection `accepted` now also goes by `session`.
    Bound {
        accepted: End,
        session: End,
    },
    Event(SimEvent),
}
