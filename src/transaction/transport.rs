//! Transports, destinations and the [`Transmit`] a state machine hands to the
//! caller for the wire.

use std::fmt;
use std::net::SocketAddr;

/// The transport a SIP message travels on (RFC 3261 §18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: unreliable, so requests and final responses are retransmitted.
    Udp,
    /// TCP: reliable, so nothing is retransmitted and the wait timers D, I, J
    /// and K are zero (RFC 3261 §17).
    Tcp,
}

impl Transport {
    /// `true` for a reliable transport (TCP).
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp)
    }

    /// The transport token of a Via header: `UDP` or `TCP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// The transport named by a Via transport token, ignoring case.
    pub fn from_token(token: &str) -> Option<Transport> {
        if token.eq_ignore_ascii_case("UDP") {
            Some(Transport::Udp)
        } else if token.eq_ignore_ascii_case("TCP") {
            Some(Transport::Tcp)
        } else {
            None
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialized bytes for the wire, with where and how to send them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send: the peer's address (for TCP, the connection to it).
    pub destination: SocketAddr,
    /// How to send.
    pub transport: Transport,
    /// One complete SIP message.
    pub bytes: Vec<u8>,
}
