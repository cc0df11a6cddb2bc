//! The network of a [`Sim`]: SIP datagrams and streams, MSRP connections
//! opened, written, closed and delivered, and the wire log they leave.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::transaction::{Transmit, Transport};

use super::custom::LinkInput;
use super::nodes::{End, NodeId};
use super::stream::{self, Pending, SipReceiver, StreamKey};
use super::wire::{Entry, Fate, WireKind, WireRecord};
use super::{Segment, Segmenting, Sim};

/// Something on its way.
#[derive(Debug)]
pub(super) enum Flight {
    /// A SIP datagram.
    Datagram {
        from_node: Option<NodeId>,
        from: SocketAddr,
        to: SocketAddr,
        transport: Transport,
        bytes: Vec<u8>,
    },
    /// A segment of a SIP stream.
    SipSegment {
        from_node: Option<NodeId>,
        from: SocketAddr,
        to: SocketAddr,
        transport: Transport,
        bytes: Vec<u8>,
    },
    Accept {
        conn: usize,
    },
    Up {
        conn: usize,
    },
    Refused {
        conn: usize,
    },
    Data {
        conn: usize,
        to_passive: bool,
        bytes: Vec<u8>,
    },
    Closed {
        conn: usize,
        to_passive: bool,
    },
}

/// One TCP connection (MSRP, or any a node of your own opens).
#[derive(Debug)]
pub(super) struct Conn {
    pub(super) active: NodeId,
    pub(super) a_end: End,
    pub(super) a_addr: SocketAddr,
    pub(super) a_open: bool,
    pub(super) passive: Option<NodeId>,
    pub(super) p_end: Option<End>,
    pub(super) p_addr: SocketAddr,
    pub(super) p_open: bool,
    /// Nothing written on it arrives any more: a node cut off the network,
    /// or a reset only one end saw.
    pub(super) broken: bool,
}

impl Sim {
    pub(super) fn schedule(&mut self, at: Instant, flight: Flight) {
        self.seq += 1;
        self.flights.insert((at, self.seq), flight);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn log_wire(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        from_node: Option<NodeId>,
        to_node: Option<NodeId>,
        kind: WireKind,
        bytes: Vec<u8>,
        fate: Fate,
    ) {
        self.order.push(Entry::Wire(self.wire.len()));
        self.wire.push(WireRecord {
            at: self.elapsed(),
            from,
            to,
            from_node,
            to_node,
            kind,
            bytes,
            fate,
        });
    }

    fn extra_delay(&self, bytes: &[u8]) -> Duration {
        self.delays
            .iter()
            .filter(|(pick, _)| pick(bytes))
            .map(|(_, d)| *d)
            .sum()
    }

    pub(super) fn partitioned(&self, a: NodeId, b: NodeId) -> bool {
        self.partitions
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
    }

    pub(super) fn is_cut_off(&self, node: Option<NodeId>) -> bool {
        node.is_some_and(|n| self.cut_off.contains(&n))
    }

    pub(super) fn send_sip(&mut self, from_node: NodeId, t: Transmit) {
        let from = self.nodes.sip_addr(from_node);
        self.transmit(from, Some(from_node), t);
    }

    /// A SIP message from `from` (the address of `from_node`, or of no
    /// node) onto the network.
    pub(super) fn transmit(&mut self, from: SocketAddr, from_node: Option<NodeId>, t: Transmit) {
        let to_node = self.by_sip.get(&t.destination).copied();
        let reliable = t.transport.is_reliable();
        let isolated = self.is_cut_off(from_node) || self.is_cut_off(to_node);
        let cut = matches!((from_node, to_node), (Some(a), Some(b)) if self.partitioned(a, b));
        let f = self.faults;
        let lost = isolated
            || (!reliable
                && (cut
                    || (f.loss_percent > 0 && self.rng.below(100) < u64::from(f.loss_percent))));
        let duplicated = !reliable
            && !lost
            && f.duplicate_percent > 0
            && self.rng.below(100) < u64::from(f.duplicate_percent);
        let fate = match (lost, duplicated, reliable && cut) {
            (true, _, _) => Fate::Lost,
            (_, true, _) => Fate::Duplicated,
            (_, _, true) => Fate::Held,
            _ => Fate::Delivered,
        };
        self.log_wire(
            from,
            t.destination,
            from_node,
            to_node,
            WireKind::Sip(t.transport),
            t.bytes.clone(),
            fate,
        );
        if lost {
            return;
        }
        let extra = self.extra_delay(&t.bytes);
        if reliable {
            let key = StreamKey::Sip {
                from,
                to: t.destination,
            };
            let pending = Pending {
                from_node,
                to_node,
                from,
                to: t.destination,
                transport: t.transport,
                bytes: t.bytes,
                extra,
            };
            return self.stream_write(key, pending);
        }
        for _ in 0..if duplicated { 2 } else { 1 } {
            let jitter = if f.jitter.is_zero() {
                Duration::ZERO
            } else {
                let micros = u64::try_from(f.jitter.as_micros()).unwrap_or(u64::MAX - 1);
                Duration::from_micros(self.rng.below(micros.saturating_add(1)))
            };
            let at = self.now + f.latency + jitter + extra;
            self.schedule(
                at,
                Flight::Datagram {
                    from_node,
                    from,
                    to: t.destination,
                    transport: t.transport,
                    bytes: t.bytes.clone(),
                },
            );
        }
    }

    /// Bytes written on a stream: cut into segments now, or at the end of
    /// the writer's turn when streams are cut at arbitrary boundaries.
    fn stream_write(&mut self, key: StreamKey, write: Pending) {
        if self.segmenting == Segmenting::PerWrite {
            return self.emit(key, write);
        }
        match self.pending.get_mut(&key) {
            Some(pending) => {
                pending.bytes.extend_from_slice(&write.bytes);
                pending.extra = pending.extra.max(write.extra);
            }
            None => {
                self.pending.insert(key, write);
            }
        }
    }

    /// Cuts every stream written in this turn into segments.
    pub(super) fn flush_streams(&mut self) {
        for (key, pending) in std::mem::take(&mut self.pending) {
            self.emit(key, pending);
        }
    }

    /// Flushes one stream (before what must come after its bytes).
    fn flush_stream(&mut self, key: StreamKey) {
        if let Some(pending) = self.pending.remove(&key) {
            self.emit(key, pending);
        }
    }

    /// Sends the segments of `pending`, in order, none before the last one
    /// of its stream.
    fn emit(&mut self, key: StreamKey, pending: Pending) {
        let Pending {
            from_node,
            to_node,
            from,
            to,
            transport,
            bytes,
            extra,
        } = pending;
        let held = matches!((from_node, to_node), (Some(a), Some(b)) if self.partitioned(a, b));
        for piece in stream::cut(bytes, self.segmenting, &mut self.cuts) {
            self.order.push(Entry::Segment(self.segments.len()));
            self.segments.push(Segment {
                at: self.elapsed(),
                from,
                to,
                bytes: piece.clone(),
            });
            let flight = match key {
                StreamKey::Sip { .. } => Flight::SipSegment {
                    from_node,
                    from,
                    to,
                    transport,
                    bytes: piece,
                },
                StreamKey::Conn { conn, to_passive } => Flight::Data {
                    conn,
                    to_passive,
                    bytes: piece,
                },
            };
            if held {
                self.held.push(flight);
                continue;
            }
            let due = self.now + self.faults.latency + extra;
            let at = self
                .stream_ends
                .get(&key)
                .map_or(due, |last| due.max(*last));
            self.stream_ends.insert(key, at);
            self.schedule(at, flight);
        }
    }

    pub(super) fn connect(&mut self, id: NodeId, end: End, to: Option<SocketAddr>) {
        let ip = self.nodes.sip_addr(id).ip();
        self.next_port = if self.next_port == u16::MAX {
            49_152
        } else {
            self.next_port + 1
        };
        let a_addr = SocketAddr::new(ip, self.next_port);
        let p_addr = to.unwrap_or(SocketAddr::new(IpAddr::from([0, 0, 0, 0]), 0));
        let passive = to.and_then(|a| self.by_msrp.get(&a).copied());
        let conn = self.conns.len();
        // A node cut off the network: the SYN is lost and the connection
        // never completes.
        let black_hole = self.is_cut_off(Some(id)) || self.is_cut_off(passive);
        self.conns.push(Conn {
            active: id,
            a_end: end,
            a_addr,
            a_open: true,
            passive,
            p_end: None,
            p_addr,
            p_open: passive.is_some() && !black_hole,
            broken: black_hole,
        });
        self.ends.insert((id, end), conn);
        let latency = self.faults.latency;
        let now = self.now;
        let reachable = passive.is_some_and(|p| !self.partitioned(id, p));
        if black_hole {
            self.log_wire(
                a_addr,
                p_addr,
                Some(id),
                passive,
                WireKind::Open,
                Vec::new(),
                Fate::Lost,
            );
        } else if reachable {
            self.log_wire(
                a_addr,
                p_addr,
                Some(id),
                passive,
                WireKind::Open,
                Vec::new(),
                Fate::Delivered,
            );
            self.schedule(now + latency, Flight::Accept { conn });
            self.schedule(now + latency * 2, Flight::Up { conn });
        } else {
            self.log_wire(
                a_addr,
                p_addr,
                Some(id),
                passive,
                WireKind::Refused,
                Vec::new(),
                Fate::Delivered,
            );
            self.conns[conn].p_open = false;
            self.schedule(now + latency * 2, Flight::Refused { conn });
        }
    }

    /// The addresses and receiving node of one direction of a connection.
    fn direction(&self, conn: usize, to_passive: bool) -> (SocketAddr, SocketAddr, Option<NodeId>) {
        let c = &self.conns[conn];
        if to_passive {
            (c.a_addr, c.p_addr, c.passive)
        } else {
            (c.p_addr, c.a_addr, Some(c.active))
        }
    }

    pub(super) fn write(&mut self, id: NodeId, end: End, data: Vec<u8>) {
        let Some(&conn) = self.ends.get(&(id, end)) else {
            return;
        };
        let c = &self.conns[conn];
        let to_passive = c.active == id;
        let open = if to_passive { c.a_open } else { c.p_open };
        if !open {
            return;
        }
        let broken = c.broken;
        let (from, to, to_node) = self.direction(conn, to_passive);
        let lost = broken || self.is_cut_off(Some(id)) || self.is_cut_off(to_node);
        let cut = to_node.is_some_and(|t| self.partitioned(id, t));
        let fate = match (lost, cut) {
            (true, _) => Fate::Lost,
            (_, true) => Fate::Held,
            _ => Fate::Delivered,
        };
        let extra = self.extra_delay(&data);
        self.log_wire(
            from,
            to,
            Some(id),
            to_node,
            WireKind::Msrp,
            data.clone(),
            fate,
        );
        if !lost {
            // TCP keeps order: a segment never overtakes an earlier one.
            let key = StreamKey::Conn { conn, to_passive };
            let pending = Pending {
                from_node: Some(id),
                to_node,
                from,
                to,
                transport: Transport::Tcp,
                bytes: data,
                extra,
            };
            self.stream_write(key, pending);
        }
    }

    pub(super) fn close(&mut self, id: NodeId, end: End) {
        let Some(&conn) = self.ends.get(&(id, end)) else {
            return;
        };
        self.ends.retain(|(n, _), v| !(*n == id && *v == conn));
        let from_active = self.conns[conn].active == id;
        // What was written before the close goes first.
        self.flush_stream(StreamKey::Conn {
            conn,
            to_passive: from_active,
        });
        let c = &mut self.conns[conn];
        let was_open = if from_active {
            std::mem::replace(&mut c.a_open, false)
        } else {
            std::mem::replace(&mut c.p_open, false)
        };
        if !was_open {
            return;
        }
        let (from, to, to_node) = self.direction(conn, from_active);
        let c = &self.conns[conn];
        let other_open = if from_active { c.p_open } else { c.a_open };
        let lost = c.broken || self.is_cut_off(Some(id)) || self.is_cut_off(to_node);
        self.log_wire(
            from,
            to,
            Some(id),
            to_node,
            WireKind::Close,
            Vec::new(),
            if lost { Fate::Lost } else { Fate::Delivered },
        );
        if lost {
            // The other end never learns: what it writes is lost too.
            self.conns[conn].broken = true;
        } else if other_open {
            let key = StreamKey::Conn {
                conn,
                to_passive: from_active,
            };
            let due = self.now + self.faults.latency;
            let at = self
                .stream_ends
                .get(&key)
                .map_or(due, |last| due.max(*last));
            self.schedule(
                at,
                Flight::Closed {
                    conn,
                    to_passive: from_active,
                },
            );
        }
    }

    /// The nodes a flight goes between (for partitions).
    pub(super) fn flight_ends(&self, flight: &Flight) -> (Option<NodeId>, Option<NodeId>) {
        match flight {
            Flight::Datagram { from_node, to, .. } | Flight::SipSegment { from_node, to, .. } => {
                (*from_node, self.by_sip.get(to).copied())
            }
            Flight::Data {
                conn, to_passive, ..
            } => {
                let c = &self.conns[*conn];
                if *to_passive {
                    (Some(c.active), c.passive)
                } else {
                    (c.passive, Some(c.active))
                }
            }
            _ => (None, None),
        }
    }

    pub(super) fn arrive(&mut self, flight: Flight) {
        let now = self.now;
        match flight {
            Flight::Datagram {
                from,
                to,
                transport,
                bytes,
                ..
            } => match self.by_sip.get(&to).copied() {
                Some(node) => self.nodes.deliver_sip(node, &bytes, from, transport, now),
                None => self.undeliverable += 1,
            },
            Flight::SipSegment {
                from,
                to,
                transport,
                bytes,
                ..
            } => {
                let Some(node) = self.by_sip.get(&to).copied() else {
                    self.undeliverable += 1;
                    return;
                };
                let receiver = self
                    .receivers
                    .entry((from, to))
                    .or_insert_with(SipReceiver::new);
                let (messages, failed) = receiver.push(&bytes);
                if failed {
                    self.undeliverable += 1;
                }
                for message in messages {
                    self.nodes
                        .deliver_sip(node, &message, from, transport, self.now);
                }
            }
            Flight::Accept { conn } => {
                let Some(passive) = self.conns[conn].passive else {
                    return;
                };
                match self.nodes.accept(passive, now) {
                    Some(end) => {
                        self.conns[conn].p_end = Some(end);
                        self.ends.insert((passive, end), conn);
                    }
                    None => {
                        self.conns[conn].p_open = false;
                        let (from, to) = (self.conns[conn].p_addr, self.conns[conn].a_addr);
                        let active = self.conns[conn].active;
                        self.log_wire(
                            from,
                            to,
                            Some(passive),
                            Some(active),
                            WireKind::Reset,
                            Vec::new(),
                            Fate::Delivered,
                        );
                        self.schedule(
                            now,
                            Flight::Closed {
                                conn,
                                to_passive: false,
                            },
                        );
                    }
                }
            }
            Flight::Up { conn } => {
                let c = &self.conns[conn];
                if c.a_open {
                    let (a, e) = (c.active, c.a_end);
                    self.nodes.deliver_msrp(a, e, LinkInput::Connected, now);
                }
            }
            Flight::Refused { conn } => {
                let c = &mut self.conns[conn];
                if std::mem::replace(&mut c.a_open, false) {
                    let (a, e) = (c.active, c.a_end);
                    self.ends.remove(&(a, e));
                    self.nodes.deliver_msrp(a, e, LinkInput::Closed, now);
                }
            }
            Flight::Data {
                conn,
                to_passive,
                bytes,
            } => {
                let c = &self.conns[conn];
                let (node, end) = if to_passive {
                    match (c.p_open, c.passive, c.p_end) {
                        (true, Some(p), Some(e)) => (p, e),
                        _ => return,
                    }
                } else if c.a_open {
                    (c.active, c.a_end)
                } else {
                    return;
                };
                self.nodes
                    .deliver_msrp(node, end, LinkInput::Bytes(&bytes), now);
            }
            Flight::Closed { conn, to_passive } => {
                let c = &mut self.conns[conn];
                let (node, end) = if to_passive {
                    if !std::mem::replace(&mut c.p_open, false) {
                        return;
                    }
                    match (c.passive, c.p_end) {
                        (Some(p), Some(e)) => (p, e),
                        _ => return,
                    }
                } else {
                    if !std::mem::replace(&mut c.a_open, false) {
                        return;
                    }
                    (c.active, c.a_end)
                };
                self.ends.retain(|(n, _), v| !(*n == node && *v == conn));
                self.nodes.deliver_msrp(node, end, LinkInput::Closed, now);
            }
        }
    }
}
