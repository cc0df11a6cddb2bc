//! [`RawPeer`]: a node that does only what the test tells it, for playing a
//! peer by hand — an attacker, a peer that misbehaves, SIP datagrams and
//! TCP bytes written one by one.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use crate::im::ConnectionId;
use crate::transaction::{Transmit, Transport};

use super::custom::{LinkInput, Node, NodeOutput};

/// A SIP message a [`RawPeer`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSip {
    /// Who sent it.
    pub source: SocketAddr,
    /// How it came.
    pub transport: Transport,
    /// The message.
    pub bytes: Vec<u8>,
}

/// One connection of a [`RawPeer`].
#[derive(Debug, Default)]
struct RawLink {
    up: bool,
    closed: bool,
    received: Vec<u8>,
}

/// A node with no protocol of its own: it sends the SIP bytes it is given
/// ([`send_sip`](Self::send_sip)), opens connections and writes on them
/// ([`connect`](Self::connect), [`write`](Self::write),
/// [`close`](Self::close)), accepts connections on its listening address
/// when [`accepting`](Self::accepting), and keeps everything it receives.
/// Its commands leave at the next step of the run; what the other nodes
/// send back is in [`sip_received`](Self::sip_received) and
/// [`received`](Self::received), and on the wire log.
///
/// Mallory opens a connection to an IM Server's MSRP address and sends a
/// SEND whose To-Path names no session of the server: the server closes
/// the connection without a word.
///
/// ```
/// use std::time::Duration;
/// use oma_im::im::server::ServerConfig;
/// use oma_im::sim::{RawPeer, Sim};
///
/// let mut sim = Sim::new(3);
/// let mut config = ServerConfig::new("10.0.0.10:5060".parse()?,
///     "10.0.0.1:5060".parse()?, "im.example.com");
/// config.msrp_authority = "10.0.0.10:2855".into();
/// sim.add_server("server", config);
/// let mallory = sim.add_node("mallory", "10.0.0.66:5060".parse()?, None, RawPeer::new());
/// let link = sim.custom(mallory).connect("10.0.0.10:2855".parse()?);
/// sim.custom(mallory).write(link, b"MSRP m1 SEND\r\nTo-Path: msrp://10.0.0.10:2855/none;tcp\r\n\
///     From-Path: msrp://10.0.0.66:7000/m;tcp\r\nMessage-ID: 1\r\nByte-Range: 1-0/0\r\n-------m1$\r\n");
/// sim.run_until_idle(Duration::from_secs(60))?;
/// assert!(!sim.custom(mallory).is_open(link));
/// assert!(sim.custom(mallory).received(link).is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct RawPeer {
    accepts: bool,
    next_link: u64,
    out: VecDeque<NodeOutput>,
    sip: Vec<RawSip>,
    links: BTreeMap<ConnectionId, RawLink>,
}

impl RawPeer {
    /// A peer that refuses connections opened to it.
    pub fn new() -> Self {
        RawPeer::default()
    }

    /// The same peer, accepting every connection opened to its listening
    /// address.
    pub fn accepting(mut self) -> Self {
        self.accepts = true;
        self
    }

    fn name(&mut self) -> ConnectionId {
        self.next_link = self.next_link.wrapping_add(1);
        ConnectionId(self.next_link)
    }

    /// Sends `bytes` to `to` as they are (a SIP message, or anything).
    pub fn send_sip(&mut self, to: SocketAddr, transport: Transport, bytes: impl Into<Vec<u8>>) {
        self.out.push_back(NodeOutput::Sip(Transmit {
            destination: to,
            transport,
            bytes: bytes.into(),
        }));
    }

    /// Opens a TCP connection to `to`; bytes written before it is up wait
    /// in it, as on a socket.
    pub fn connect(&mut self, to: SocketAddr) -> ConnectionId {
        let link = self.name();
        self.links.insert(link, RawLink::default());
        self.out.push_back(NodeOutput::Connect { link, to });
        link
    }

    /// Writes `bytes` on connection `link`.
    pub fn write(&mut self, link: ConnectionId, bytes: impl Into<Vec<u8>>) {
        self.out.push_back(NodeOutput::Write {
            link,
            bytes: bytes.into(),
        });
    }

    /// Closes connection `link`.
    pub fn close(&mut self, link: ConnectionId) {
        if let Some(l) = self.links.get_mut(&link) {
            l.closed = true;
        }
        self.out.push_back(NodeOutput::Close { link });
    }

    /// The SIP messages received, in order.
    pub fn sip_received(&self) -> &[RawSip] {
        &self.sip
    }

    /// The bytes read from connection `link` so far.
    pub fn received(&self, link: ConnectionId) -> &[u8] {
        self.links.get(&link).map_or(&[], |l| &l.received)
    }

    /// Whether connection `link` is up and not closed.
    pub fn is_open(&self, link: ConnectionId) -> bool {
        self.links.get(&link).is_some_and(|l| l.up && !l.closed)
    }

    /// Every connection, opened or accepted, in the order of their names.
    pub fn links(&self) -> impl Iterator<Item = ConnectionId> + '_ {
        self.links.keys().copied()
    }
}

impl Node for RawPeer {
    fn handle_sip(&mut self, bytes: &[u8], source: SocketAddr, transport: Transport, _: Instant) {
        self.sip.push(RawSip {
            source,
            transport,
            bytes: bytes.to_vec(),
        });
    }

    fn accept(&mut self, _: Instant) -> Option<ConnectionId> {
        if !self.accepts {
            return None;
        }
        let link = self.name();
        self.links.insert(
            link,
            RawLink {
                up: true,
                ..RawLink::default()
            },
        );
        Some(link)
    }

    fn handle_link(&mut self, link: ConnectionId, input: LinkInput<'_>, _: Instant) {
        let Some(l) = self.links.get_mut(&link) else {
            return;
        };
        match input {
            LinkInput::Connected => l.up = true,
            LinkInput::Bytes(bytes) => l.received.extend_from_slice(bytes),
            LinkInput::Closed => l.closed = true,
        }
    }

    fn poll_output(&mut self) -> Option<NodeOutput> {
        self.out.pop_front()
    }

    fn is_idle(&self) -> bool {
        self.out.is_empty()
    }
}
