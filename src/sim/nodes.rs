//! The nodes of a [`Sim`](super::Sim): the roles of the crate, each behind
//! an id of its kind, and the one shape the simulator drives them through.

use std::net::SocketAddr;
use std::time::Instant;

use crate::dialog::{self, UserAgent};
use crate::im::client::{self, ImClient, ImSessionId};
use crate::im::history::{self, HistorySessionId, ImHistoryFunction};
use crate::im::server::{self, ImServer};
use crate::im::ConnectionId;
use crate::transaction::{Transmit, Transport};

use super::custom::{self, CustomId, CustomIndex, LinkInput, Node, NodeOutput};
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
    /// A node of your own ([`Node`]).
    Custom(CustomIndex),
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
node_from!(ClientId => Client, ServerId => Server, HistoryId => History, AgentId => Agent, ProxyId => Proxy, CustomIndex => Custom);

impl<T> From<CustomId<T>> for NodeId {
    fn from(id: CustomId<T>) -> Self {
        NodeId::Custom(id.into())
    }
}

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
/// simulation that has fewer nodes of its kind (or, for a node of your
/// own, another type at that place) makes the accessors panic (a
/// programming error, never an input of the network).
#[derive(Debug, Default)]
pub struct Nodes {
    pub(crate) clients: Vec<Slot<ImClient>>,
    pub(crate) servers: Vec<Slot<ImServer>>,
    pub(crate) histories: Vec<Slot<ImHistoryFunction>>,
    pub(crate) agents: Vec<Slot<UserAgent>>,
    pub(crate) proxies: Vec<Slot<Proxy>>,
    pub(crate) customs: Vec<Slot<Box<dyn Node>>>,
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

    /// The node of your own `id`.
    pub fn custom<T: Node>(&mut self, id: CustomId<T>) -> &mut T {
        match custom::downcast(self.customs[id.index].role.as_mut()) {
            Some(node) => node,
            None => panic!("{id:?} is a node of another type"),
        }
    }

    /// The node of your own `id`, to read it.
    pub fn custom_ref<T: Node>(&self, id: CustomId<T>) -> &T {
        match custom::downcast_ref(self.customs[id.index].role.as_ref()) {
            Some(node) => node,
            None => panic!("{id:?} is a node of another type"),
        }
    }

    /// Every node, in the order of their kinds then of their addition.
    pub fn ids(&self) -> Vec<NodeId> {
        self.id_list().into_vec()
    }

    /// [`ids`](Self::ids) without a heap allocation for a small network:
    /// the simulator lists the nodes at every step.
    pub(crate) fn id_list(&self) -> smallvec::SmallVec<[NodeId; 16]> {
        let mut ids = smallvec::SmallVec::new();
        ids.extend((0..self.clients.len()).map(|i| NodeId::Client(ClientId(i))));
        ids.extend((0..self.servers.len()).map(|i| NodeId::Server(ServerId(i))));
        ids.extend((0..self.histories.len()).map(|i| NodeId::History(HistoryId(i))));
        ids.extend((0..self.agents.len()).map(|i| NodeId::Agent(AgentId(i))));
        ids.extend((0..self.proxies.len()).map(|i| NodeId::Proxy(ProxyId(i))));
        ids.extend((0..self.customs.len()).map(|i| NodeId::Custom(CustomIndex(i))));
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
            NodeId::Custom(i) => &self.customs[i.0].name,
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
            NodeId::Custom(i) => self.customs[i.0].sip,
        }
    }

    /// The MSRP listening address of the node, if it has one.
    pub fn msrp_addr(&self, id: NodeId) -> Option<SocketAddr> {
        match id {
            NodeId::Client(i) => self.clients[i.0].msrp,
            NodeId::Server(i) => self.servers[i.0].msrp,
            NodeId::History(i) => self.histories[i.0].msrp,
            NodeId::Custom(i) => self.customs[i.0].msrp,
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
                    to: destination.socket_addr(),
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
                    to: address.socket_addr(),
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
                    to: destination.socket_addr(),
                },
                history::Output::MsrpTransmit { session, data } => Action::Write {
                    end: End::HistorySession(session),
                    data,
                },
                history::Output::MsrpClose { session } => Action::Close {
                    end: End::HistorySession(session),
                },
                history::Output::MsrpAccepted {
                    connection,
                    session,
                } => Action::Bound {
                    accepted: End::HistoryAccepted(connection),
                    session: End::HistorySession(session),
                },
                history::Output::MsrpConnectionTransmit { connection, data } => Action::Write {
                    end: End::HistoryAccepted(connection),
                    data,
                },
                history::Output::MsrpConnectionClose { connection } => Action::Close {
                    end: End::HistoryAccepted(connection),
                },
                history::Output::Event(e) => Action::Event(SimEvent::History(e)),
            },
            NodeId::Agent(i) => match self.agents[i.0].role.poll_output()? {
                dialog::Output::Transmit(t) => Action::Sip(t),
                dialog::Output::Event(e) => Action::Event(SimEvent::Agent(e)),
            },
            NodeId::Proxy(i) => Action::Sip(self.proxies[i.0].role.poll()?),
            NodeId::Custom(i) => match self.customs[i.0].role.poll_output()? {
                NodeOutput::Sip(t) => Action::Sip(t),
                NodeOutput::Connect { link, to } => Action::Connect {
                    end: End::Custom(link),
                    to: Some(to),
                },
                NodeOutput::Write { link, bytes } => Action::Write {
                    end: End::Custom(link),
                    data: bytes,
                },
                NodeOutput::Close { link } => Action::Close {
                    end: End::Custom(link),
                },
                NodeOutput::Event(e) => Action::Event(e),
            },
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
            NodeId::Custom(i) => self.customs[i.0]
                .role
                .handle_sip(bytes, source, transport, now),
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
            NodeId::History(i) => Some(End::HistoryAccepted(
                self.histories[i.0].role.msrp_accepted_at(now),
            )),
            NodeId::Custom(i) => self.customs[i.0].role.accept(now).map(End::Custom),
            NodeId::Agent(_) | NodeId::Proxy(_) => None,
        }
    }

    /// Hands a connection event to the end `end` of node `id`.
    pub(crate) fn deliver_msrp(&mut self, id: NodeId, end: End, what: LinkInput<'_>, now: Instant) {
        match (id, end) {
            (NodeId::Client(i), End::ClientSession(session)) => {
                let input = match what {
                    LinkInput::Connected => client::Input::MsrpConnected { session },
                    LinkInput::Bytes(bytes) => client::Input::MsrpBytes { session, bytes },
                    LinkInput::Closed => client::Input::MsrpClosed { session },
                };
                self.clients[i.0].role.handle_input(input, now);
            }
            (NodeId::Client(i), End::ClientAccepted(connection)) => {
                let input = match what {
                    LinkInput::Connected => return,
                    LinkInput::Bytes(bytes) => {
                        client::Input::MsrpAcceptedBytes { connection, bytes }
                    }
                    LinkInput::Closed => client::Input::MsrpAcceptedClosed { connection },
                };
                self.clients[i.0].role.handle_input(input, now);
            }
            (NodeId::Server(i), End::Server(connection)) => {
                let input = match what {
                    LinkInput::Connected => server::Input::MsrpConnected { connection },
                    LinkInput::Bytes(bytes) => server::Input::MsrpBytes { connection, bytes },
                    LinkInput::Closed => server::Input::MsrpClosed { connection },
                };
                self.servers[i.0].role.handle_input(input, now);
            }
            (NodeId::History(i), End::HistorySession(session)) => {
                let input = match what {
                    LinkInput::Connected => history::Input::MsrpConnected { session },
                    LinkInput::Bytes(bytes) => history::Input::MsrpBytes { session, bytes },
                    LinkInput::Closed => history::Input::MsrpClosed { session },
                };
                self.histories[i.0].role.handle_input(input, now);
            }
            (NodeId::History(i), End::HistoryAccepted(connection)) => {
                let input = match what {
                    LinkInput::Connected => return,
                    LinkInput::Bytes(bytes) => {
                        history::Input::MsrpAcceptedBytes { connection, bytes }
                    }
                    LinkInput::Closed => history::Input::MsrpAcceptedClosed { connection },
                };
                self.histories[i.0].role.handle_input(input, now);
            }
            (NodeId::Custom(i), End::Custom(link)) => {
                self.customs[i.0].role.handle_link(link, what, now);
            }
            _ => {}
        }
    }

    pub(crate) fn handle_timeout(&mut self, id: NodeId, now: Instant) {
        match id {
            NodeId::Client(i) => self.clients[i.0].role.handle_timeout(now),
            NodeId::Server(i) => self.servers[i.0].role.handle_timeout(now),
            NodeId::History(i) => self.histories[i.0].role.handle_timeout(now),
            NodeId::Agent(i) => self.agents[i.0].role.handle_timeout(now),
            NodeId::Custom(i) => self.customs[i.0].role.handle_timeout(now),
            NodeId::Proxy(_) => {}
        }
    }

    pub(crate) fn poll_timeout(&self, id: NodeId) -> Option<Instant> {
        match id {
            NodeId::Client(i) => self.clients[i.0].role.poll_timeout(),
            NodeId::Server(i) => self.servers[i.0].role.poll_timeout(),
            NodeId::History(i) => self.histories[i.0].role.poll_timeout(),
            NodeId::Agent(i) => self.agents[i.0].role.poll_timeout(),
            NodeId::Custom(i) => self.customs[i.0].role.poll_timeout(),
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
            NodeId::Custom(i) => self.customs[i.0].role.is_idle(),
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
            NodeId::Custom(i) => format!(
                "not idle, next deadline {:?}",
                self.customs[i.0].role.poll_timeout()
            ),
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
    /// A connection a History Function accepted.
    HistoryAccepted(ConnectionId),
    /// A connection of a node of your own.
    Custom(ConnectionId),
}

/// A node's output in the simulator's terms.
#[derive(Debug)]
pub(crate) enum Action {
    Sip(Transmit),
    Connect {
        end: End,
        to: Option<SocketAddr>,
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
