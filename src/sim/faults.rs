//! The fault verbs of a [`Sim`]: partitions and repairs, nodes cut off the
//! network, chosen messages delayed, connections reset, nodes restarted.

use std::net::SocketAddr;
use std::time::Duration;

use crate::im::client::{ClientConfig, ImClient};
use crate::im::history::{HistoryConfig, ImHistoryFunction};
use crate::im::server::{ImServer, ServerConfig};
use crate::transaction::{Transmit, Transport};

use super::net::Flight;
use super::nodes::{ClientId, HistoryId, NodeId, ServerId};
use super::wire::{Fate, WireKind};
use super::{Picker, Sim};

impl Sim {
    /// Cuts the link between `a` and `b` (both ways): UDP datagrams are
    /// lost, TCP segments held until [`repair`](Self::repair).
    pub fn partition(&mut self, a: impl Into<NodeId>, b: impl Into<NodeId>) {
        let (a, b) = (a.into(), b.into());
        if !self.partitioned(a, b) {
            self.partitions.push((a, b));
        }
    }

    /// Restores the link between `a` and `b`; held TCP segments leave now.
    pub fn repair(&mut self, a: impl Into<NodeId>, b: impl Into<NodeId>) {
        let (a, b) = (a.into(), b.into());
        self.partitions
            .retain(|&(x, y)| !((x, y) == (a, b) || (x, y) == (b, a)));
        let held = std::mem::take(&mut self.held);
        for flight in held {
            let (from, to) = self.flight_ends(&flight);
            if matches!((from, to), (Some(f), Some(t)) if self.partitioned(f, t)) {
                self.held.push(flight);
            } else {
                let at = self.now + self.faults.latency;
                self.schedule(at, flight);
            }
        }
    }

    /// Cuts `node` off the network, as a host whose link went down:
    /// everything it sends and everything sent to it is lost, TCP segments
    /// included, and connections to or from it never complete; nobody is
    /// told (no reset). [`reconnect`](Self::reconnect) ends it.
    pub fn cut_off(&mut self, node: impl Into<NodeId>) {
        let node = node.into();
        if !self.cut_off.contains(&node) {
            self.cut_off.push(node);
        }
    }

    /// Puts a node [`cut_off`](Self::cut_off) back on the network; what
    /// was lost stays lost.
    pub fn reconnect(&mut self, node: impl Into<NodeId>) {
        let node = node.into();
        self.cut_off.retain(|n| *n != node);
    }

    /// Puts `bytes` on the network now, from `from` to `to`, as if a node
    /// at `from` had sent them (or a host outside the simulation, or a
    /// forger, when no node is there): a late copy of a message, a replay,
    /// a datagram no role would write. The network treats them like any
    /// other SIP message (faults included; over TCP on the stream from
    /// `from`), and the wire log shows them.
    ///
    /// ```
    /// use std::time::Duration;
    /// use oma_im::dialog::{Config, Event, ResponseSpec};
    /// use oma_im::sim::{SimEvent, Sim};
    /// use oma_im::transaction::Transport;
    ///
    /// let mut sim = Sim::new(1);
    /// let bob = sim.add_agent("bob", Config::new("10.0.0.2:5060".parse()?,
    ///     "10.0.0.1:5060".parse()?, Transport::Udp, 2));
    /// // An OPTIONS from a host no node plays.
    /// let options = b"OPTIONS sip:bob@10.0.0.2 SIP/2.0\r\n\
    ///     Via: SIP/2.0/UDP 10.0.0.66:5060;branch=z9hG4bKx1\r\nMax-Forwards: 70\r\n\
    ///     From: <sip:x@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
    ///     Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    /// sim.inject("10.0.0.66:5060".parse()?, "10.0.0.2:5060".parse()?, Transport::Udp,
    ///     options.to_vec());
    /// sim.run_for_with(Duration::from_secs(1), |nodes, _, event, now| {
    ///     if let SimEvent::Agent(Event::RequestReceived { transaction, .. }) = event {
    ///         nodes.agent(bob).respond(*transaction, ResponseSpec::new(200), now).unwrap();
    ///     }
    /// })?;
    /// // The 200 went back to the forged sender, where no node is.
    /// assert!(sim.wire()[1].is_sip("SIP/2.0 200 "));
    /// assert_eq!(sim.undeliverable(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inject(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        transport: Transport,
        bytes: Vec<u8>,
    ) {
        let from_node = self.by_sip.get(&from).copied();
        self.transmit(
            from,
            from_node,
            Transmit {
                destination: to,
                transport,
                bytes,
            },
        );
        self.flush_streams();
    }

    /// Messages whose bytes `pick` selects take `delay` more than the
    /// others: they are overtaken (reordering of chosen messages; on a TCP
    /// stream, what follows them waits behind them).
    pub fn delay_matching(&mut self, pick: Picker, delay: Duration) {
        self.delays.push((pick, delay));
    }

    /// Resets every MSRP connection of `node`: both ends learn it is
    /// closed.
    pub fn reset_connections(&mut self, node: impl Into<NodeId>) {
        let node = node.into();
        for conn in 0..self.conns.len() {
            let c = &self.conns[conn];
            let mine = c.active == node || c.passive == Some(node);
            if mine && (c.a_open || c.p_open) {
                let (from, to) = (c.a_addr, c.p_addr);
                let (fnode, tnode) = (Some(c.active), c.passive);
                self.log_wire(
                    from,
                    to,
                    fnode,
                    tnode,
                    WireKind::Reset,
                    Vec::new(),
                    Fate::Delivered,
                );
                let now = self.now;
                if self.conns[conn].a_open {
                    self.schedule(
                        now,
                        Flight::Closed {
                            conn,
                            to_passive: false,
                        },
                    );
                }
                if self.conns[conn].p_open {
                    self.schedule(
                        now,
                        Flight::Closed {
                            conn,
                            to_passive: true,
                        },
                    );
                }
            }
        }
    }

    /// Resets the connections between `node` and `peer` as `node` alone
    /// sees it — a middlebox dropped them and its reset reached one side:
    /// `node` learns they are closed; `peer` is told nothing, and what it
    /// writes on them is lost. Returns how many connections were reset.
    pub fn reset_seen_by(&mut self, node: impl Into<NodeId>, peer: impl Into<NodeId>) -> usize {
        let (node, peer) = (node.into(), peer.into());
        let mut reset = 0;
        for conn in 0..self.conns.len() {
            let c = &self.conns[conn];
            let (node_is_active, node_open) = if c.active == node && c.passive == Some(peer) {
                (true, c.a_open)
            } else if c.active == peer && c.passive == Some(node) {
                (false, c.p_open)
            } else {
                continue;
            };
            if !node_open || c.broken {
                continue;
            }
            let (from, to) = if node_is_active {
                (c.p_addr, c.a_addr)
            } else {
                (c.a_addr, c.p_addr)
            };
            self.conns[conn].broken = true;
            self.log_wire(
                from,
                to,
                Some(peer),
                Some(node),
                WireKind::Reset,
                Vec::new(),
                Fate::Delivered,
            );
            let now = self.now;
            self.schedule(
                now,
                Flight::Closed {
                    conn,
                    to_passive: !node_is_active,
                },
            );
            reset += 1;
        }
        reset
    }

    /// Replaces client `id` with a new one from `config` at the same
    /// addresses (a restart: its state is gone, its connections reset).
    pub fn restart_client(&mut self, id: ClientId, config: ClientConfig) {
        self.drop_connections(id.into());
        self.nodes.clients[id.0].role = ImClient::new(config);
    }

    /// Replaces server `id` with a new one from `config` (a restart).
    pub fn restart_server(&mut self, id: ServerId, config: ServerConfig) {
        self.drop_connections(id.into());
        self.nodes.servers[id.0].role = ImServer::new(config);
    }

    /// Replaces History Function `id` with a new one from `config` (a
    /// restart).
    pub fn restart_history(&mut self, id: HistoryId, config: HistoryConfig) {
        self.drop_connections(id.into());
        self.nodes.histories[id.0].role = ImHistoryFunction::new(config);
    }

    /// The connections of a restarted node: reset; its own side is gone
    /// with its old role.
    fn drop_connections(&mut self, node: NodeId) {
        self.reset_connections(node);
        for c in &mut self.conns {
            if c.active == node {
                c.a_open = false;
            }
            if c.passive == Some(node) {
                c.p_open = false;
            }
        }
        self.ends.retain(|(n, _), _| *n != node);
        let addr = self.nodes.sip_addr(node);
        // Its SIP streams, both ways, are gone with its connections.
        self.receivers
            .retain(|(from, to), _| *from != addr && *to != addr);
    }
}
