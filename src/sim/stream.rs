//! TCP streams in a [`Sim`](super::Sim): what a node writes on a stream —
//! SIP messages to an address over TCP, MSRP on a connection — is cut into
//! segments ([`Segmenting`]) that arrive in order, and the receiving side
//! of a SIP stream frames whole messages out of them with
//! [`Framer`](crate::sip::framing::Framer) (RFC 3261 §18.3), as a real
//! transport does.

use std::net::SocketAddr;
use std::time::Duration;

use crate::rng::Rng;
use crate::sip::framing::{Framer, Framing};
use crate::sip::Limits;
use crate::transaction::Transport;

use super::nodes::NodeId;

/// How the simulator cuts what is written on a TCP stream into segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Segmenting {
    /// Each write (one SIP message, one MSRP write) in a segment of its own.
    #[default]
    PerWrite,
    /// What a node writes on one stream in one turn is coalesced, then cut
    /// at boundaries drawn from the simulation's seed into segments of 1 to
    /// `max` octets: a message may arrive in pieces, several messages in
    /// one segment.
    Arbitrary {
        /// The largest segment, in octets (at least 1).
        max: usize,
    },
}

/// One TCP segment that crossed (see [`Sim::segments`](super::Sim::segments)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// When it was sent, from the start of the simulation.
    pub at: Duration,
    /// The sender's address.
    pub from: SocketAddr,
    /// The receiver's address.
    pub to: SocketAddr,
    /// Its payload.
    pub bytes: Vec<u8>,
}

/// One direction of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum StreamKey {
    /// SIP from one address to another.
    Sip {
        /// The sender.
        from: SocketAddr,
        /// The receiver.
        to: SocketAddr,
    },
    /// One direction of an MSRP connection.
    Conn {
        /// The connection.
        conn: usize,
        /// Towards its passive end.
        to_passive: bool,
    },
}

/// Bytes written on one stream in this turn, not cut into segments yet.
#[derive(Debug)]
pub(crate) struct Pending {
    /// The sending node, if the bytes come from one.
    pub from_node: Option<NodeId>,
    /// The receiving node, if one is there.
    pub to_node: Option<NodeId>,
    /// The sender's address.
    pub from: SocketAddr,
    /// The receiver's address.
    pub to: SocketAddr,
    /// The transport (a reliable one).
    pub transport: Transport,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The longest extra delay of the writes in it.
    pub extra: Duration,
}

/// Cuts `bytes` into the segments `segmenting` asks for (one segment when
/// it is [`Segmenting::PerWrite`]).
pub(crate) fn cut(bytes: Vec<u8>, segmenting: Segmenting, rng: &mut Rng) -> Vec<Vec<u8>> {
    let max = match segmenting {
        Segmenting::PerWrite => return vec![bytes],
        Segmenting::Arbitrary { max } => max.max(1),
    };
    let mut out = Vec::new();
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let most = u64::try_from(max.min(rest.len())).unwrap_or(u64::MAX);
        let len = usize::try_from(rng.below(most) + 1).unwrap_or(1);
        let (head, tail) = rest.split_at(len.min(rest.len()));
        out.push(head.to_vec());
        rest = tail;
    }
    out
}

/// The receiving side of a SIP stream: the octets not framed yet.
#[derive(Debug)]
pub(crate) struct SipReceiver {
    buffer: Vec<u8>,
    framer: Framer,
}

impl SipReceiver {
    pub(crate) fn new() -> Self {
        SipReceiver {
            buffer: Vec::new(),
            framer: Framer::new(Limits::default()),
        }
    }

    /// Appends a segment; returns the whole messages the stream now holds,
    /// in order, and whether framing failed (the stream is unusable: what
    /// it held is dropped and framing starts afresh).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> (Vec<Vec<u8>>, bool) {
        self.buffer.extend_from_slice(bytes);
        let mut messages = Vec::new();
        loop {
            match self.framer.advance(&self.buffer) {
                Ok(Framing::Complete { skipped, len }) => {
                    let end = skipped + len;
                    messages.push(self.buffer[skipped..end].to_vec());
                    self.buffer.drain(..end);
                }
                Ok(Framing::KeepAlive { len }) => {
                    self.buffer.drain(..len);
                }
                Ok(Framing::Incomplete { .. }) => return (messages, false),
                Err(_) => {
                    self.buffer.clear();
                    self.framer.reset();
                    return (messages, true);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] =
        b"OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bK1\r\n\
        To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\n\
        CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn messages_cut_anywhere_come_out_whole() {
        let mut rng = Rng::new(5);
        let stream = [OPTIONS, b"\r\n\r\n", OPTIONS].concat();
        let segments = cut(stream, Segmenting::Arbitrary { max: 7 }, &mut rng);
        assert!(segments.iter().all(|s| (1..=7).contains(&s.len())));
        let mut receiver = SipReceiver::new();
        let mut got = Vec::new();
        for s in &segments {
            let (messages, failed) = receiver.push(s);
            assert!(!failed);
            got.extend(messages);
        }
        assert_eq!(got, [OPTIONS, OPTIONS]);
    }

    #[test]
    fn per_write_is_one_segment() {
        let mut rng = Rng::new(5);
        assert_eq!(
            cut(OPTIONS.to_vec(), Segmenting::PerWrite, &mut rng),
            [OPTIONS]
        );
    }
}
