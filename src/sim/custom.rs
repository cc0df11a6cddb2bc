//! Nodes of your own in a [`Sim`](super::Sim): a scripted peer, a peer
//! that misbehaves on purpose, a SIP/IP Core with rules of its own. The
//! simulator drives them through the four calls every sans-IO role has
//! (input, timeout, output, deadline), moves their SIP messages as bytes,
//! and opens, accepts and routes their TCP connections like those of the
//! crate's roles.

use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::Instant;

use crate::im::ConnectionId;
use crate::transaction::{Transmit, Transport};

use super::nodes::SimEvent;

/// What a connection brings to one of its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkInput<'a> {
    /// The connection the node opened ([`NodeOutput::Connect`]) is up.
    Connected,
    /// Bytes read from it, split anywhere.
    Bytes(&'a [u8]),
    /// It closed: the other end closed it, it was reset, or (a connection
    /// the node opened) nothing listens at its destination.
    Closed,
}

/// What a node of your own hands the simulator.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeOutput {
    /// A SIP message for the wire: a datagram over UDP, written on the
    /// stream to its destination over TCP.
    Sip(Transmit),
    /// Open a TCP connection from the node to `to`; the node names it
    /// `link` in what follows.
    Connect {
        /// The node's name for the connection.
        link: ConnectionId,
        /// Where to.
        to: SocketAddr,
    },
    /// Write on a connection.
    Write {
        /// The connection.
        link: ConnectionId,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Close a connection (FIN).
    Close {
        /// The connection.
        link: ConnectionId,
    },
    /// Something for the test: recorded in [`Sim::events`](super::Sim::events)
    /// and handed to the hooks of the run.
    Event(SimEvent),
}

/// A node of your own, added with [`Sim::add_node`](super::Sim::add_node)
/// at a SIP address and optionally an address where it accepts TCP
/// connections. The simulator calls [`handle_sip`](Self::handle_sip) with
/// every SIP message sent to that address (UDP datagrams, and messages
/// framed out of TCP streams), [`accept`](Self::accept) for every
/// connection opened to the listening address, [`handle_link`](Self::handle_link)
/// with what happens on its connections, and
/// [`handle_timeout`](Self::handle_timeout) when the virtual clock reaches
/// [`poll_timeout`](Self::poll_timeout); after each call it drains
/// [`poll_output`](Self::poll_output).
///
/// A node that counts the SIP messages it gets is a few lines:
///
/// ```
/// use std::collections::VecDeque;
/// use std::net::SocketAddr;
/// use std::time::Instant;
/// use oma_im::sim::{Node, NodeOutput, Sim};
/// use oma_im::transaction::Transport;
///
/// #[derive(Debug, Default)]
/// struct Counter { seen: usize, out: VecDeque<NodeOutput> }
///
/// impl Node for Counter {
///     fn handle_sip(&mut self, _: &[u8], _: SocketAddr, _: Transport, _: Instant) {
///         self.seen += 1;
///     }
///     fn poll_output(&mut self) -> Option<NodeOutput> { self.out.pop_front() }
///     fn is_idle(&self) -> bool { self.out.is_empty() }
/// }
///
/// let mut sim = Sim::new(1);
/// let counter = sim.add_node("counter", "10.0.0.5:5060".parse()?, None, Counter::default());
/// assert_eq!(sim.custom(counter).seen, 0);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub trait Node: Any + fmt::Debug {
    /// A SIP message arrived from `source`.
    fn handle_sip(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, now: Instant);

    /// A connection was opened to the node's listening address: its name,
    /// or `None` to refuse it (the opener sees it closed). Refuses by
    /// default.
    fn accept(&mut self, now: Instant) -> Option<ConnectionId> {
        let _ = now;
        None
    }

    /// Something happened on connection `link`. Ignored by default.
    fn handle_link(&mut self, link: ConnectionId, input: LinkInput<'_>, now: Instant) {
        let _ = (link, input, now);
    }

    /// The deadline of [`poll_timeout`](Self::poll_timeout) has come.
    /// Nothing by default.
    fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
    }

    /// The next output; the simulator drains until `None`.
    fn poll_output(&mut self) -> Option<NodeOutput>;

    /// The earliest deadline; none by default.
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Whether the node keeps nothing alive (a run until idle waits for
    /// every node).
    fn is_idle(&self) -> bool;
}

/// A node of your own, of type `T`, in a [`Sim`](super::Sim): what
/// [`Sim::add_node`](super::Sim::add_node) returns and
/// [`Sim::custom`](super::Sim::custom) takes.
pub struct CustomId<T> {
    pub(crate) index: usize,
    kind: PhantomData<fn() -> T>,
}

impl<T> CustomId<T> {
    pub(crate) fn new(index: usize) -> Self {
        CustomId {
            index,
            kind: PhantomData,
        }
    }
}

impl<T> Clone for CustomId<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for CustomId<T> {}

impl<T> fmt::Debug for CustomId<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomId({})", self.index)
    }
}

impl<T> PartialEq for CustomId<T> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}

impl<T> Eq for CustomId<T> {}

impl<T> Hash for CustomId<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.index.hash(state);
    }
}

/// Any node of your own, whatever its type (in a
/// [`NodeId`](super::NodeId)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomIndex(pub(crate) usize);

impl<T> From<CustomId<T>> for CustomIndex {
    fn from(id: CustomId<T>) -> Self {
        CustomIndex(id.index)
    }
}

/// The node behind a boxed [`Node`], as its own type.
pub(crate) fn downcast<T: Node>(node: &mut dyn Node) -> Option<&mut T> {
    let any: &mut dyn Any = node;
    any.downcast_mut::<T>()
}

/// [`downcast`], shared.
pub(crate) fn downcast_ref<T: Node>(node: &dyn Node) -> Option<&T> {
    let any: &dyn Any = node;
    any.downcast_ref::<T>()
}
