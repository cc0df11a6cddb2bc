//! The wire log of a [`Sim`](super::Sim): every SIP message and MSRP
//! segment that crossed, every TCP connection opened and closed, and the
//! ladder that prints them.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use crate::transaction::Transport;

use super::nodes::{NodeId, Nodes, SimEvent};

/// What crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireKind {
    /// A SIP message, over UDP or TCP.
    Sip(Transport),
    /// MSRP bytes on a TCP connection.
    Msrp,
    /// A TCP connection for MSRP was opened (SYN).
    Open,
    /// The connection was refused: nothing listens there (RST).
    Refused,
    /// A TCP connection was closed by its writer (FIN).
    Close,
    /// A TCP connection was reset by the simulation (RST).
    Reset,
}

/// What the network did with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Delivered (possibly late, possibly out of order).
    Delivered,
    /// Delivered twice.
    Duplicated,
    /// Lost.
    Lost,
    /// Held by a partition until it was repaired (TCP).
    Held,
}

/// One entry of the wire log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRecord {
    /// When it was sent, from the start of the simulation.
    pub at: Duration,
    /// The sender's address (for MSRP, the connection's end).
    pub from: SocketAddr,
    /// The receiver's address.
    pub to: SocketAddr,
    /// The sending node.
    pub from_node: Option<NodeId>,
    /// The receiving node, when one is at `to`.
    pub to_node: Option<NodeId>,
    /// What it is.
    pub kind: WireKind,
    /// The bytes (empty for connection events).
    pub bytes: Vec<u8>,
    /// What the network did with it.
    pub fate: Fate,
}

impl WireRecord {
    /// The first line of the bytes (`INVITE sip:... SIP/2.0`, `MSRP a1
    /// SEND`), or the connection event.
    pub fn first_line(&self) -> String {
        match self.kind {
            WireKind::Open => "[TCP connect]".to_owned(),
            WireKind::Refused => "[TCP connection refused]".to_owned(),
            WireKind::Close => "[TCP close]".to_owned(),
            WireKind::Reset => "[TCP reset]".to_owned(),
            WireKind::Sip(_) | WireKind::Msrp => {
                let end = self
                    .bytes
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .unwrap_or(self.bytes.len());
                String::from_utf8_lossy(&self.bytes[..end]).into_owned()
            }
        }
    }

    /// Whether it is a SIP message whose first line starts with `prefix`
    /// (`"INVITE "`, `"SIP/2.0 200 "`).
    pub fn is_sip(&self, prefix: &str) -> bool {
        matches!(self.kind, WireKind::Sip(_)) && self.bytes.starts_with(prefix.as_bytes())
    }

    /// Whether it is MSRP whose bytes hold a request of `method`
    /// (`"SEND"`, `"REPORT"`).
    pub fn is_msrp_request(&self, method: &str) -> bool {
        self.kind == WireKind::Msrp
            && self.bytes.split(|b| *b == b'\n').any(|line| {
                line.starts_with(b"MSRP ")
                    && line
                        .split(|b| *b == b' ')
                        .nth(2)
                        .is_some_and(|m| m.trim_ascii_end() == method.as_bytes())
            })
    }
}

/// An entry of the log: a record of the wire, a TCP segment or an event.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    Wire(usize),
    Segment(usize),
    Event(usize),
}

/// The ladder: one line per wire record and per event, in order.
pub(crate) fn ladder(
    nodes: &Nodes,
    wire: &[WireRecord],
    events: &[super::Recorded],
    order: &[Entry],
) -> String {
    let mut out = String::new();
    let name = |id: Option<NodeId>, addr: SocketAddr| match id {
        Some(id) => nodes.name(id).to_owned(),
        None => addr.to_string(),
    };
    for entry in order {
        match entry {
            Entry::Wire(i) => {
                let r = &wire[*i];
                let arrow = match (r.kind, r.fate) {
                    (_, Fate::Lost) => "--x",
                    (WireKind::Sip(Transport::Udp), _) => "-->",
                    (WireKind::Sip(_), _) => "~~>",
                    (WireKind::Msrp, _) => "==>",
                    (WireKind::Open, _) => "+=>",
                    (WireKind::Refused, _) => "x=>",
                    (WireKind::Close | WireKind::Reset, _) => "-=>",
                };
                let fate = match r.fate {
                    Fate::Delivered => "",
                    Fate::Duplicated => "  (duplicated)",
                    Fate::Lost => "  (lost)",
                    Fate::Held => "  (held by a partition)",
                };
                let _ = writeln!(
                    out,
                    "{:>9.3}s  {:>10} {arrow} {:<10} {}{fate}",
                    r.at.as_secs_f64(),
                    name(r.from_node, r.from),
                    name(r.to_node, r.to),
                    r.first_line(),
                );
            }
            Entry::Segment(_) => {}
            Entry::Event(i) => {
                let e = &events[*i];
                let _ = writeln!(
                    out,
                    "{:>9.3}s  {:>10} *   {}",
                    e.at.as_secs_f64(),
                    nodes.name(e.node),
                    describe(&e.event),
                );
            }
        }
    }
    out
}

/// One line for an event: its variant and fields, shortened.
fn describe(event: &SimEvent) -> String {
    let text = match event {
        SimEvent::Client(e) => format!("{e:?}"),
        SimEvent::Server(e) => format!("{e:?}"),
        SimEvent::History(e) => format!("{e:?}"),
        SimEvent::Agent(e) => format!("{e:?}"),
    };
    let mut short: String = text.chars().take(110).collect();
    if short.len() < text.len() {
        short.push_str("...");
    }
    short
}
