//! The trust domain of RFC 3325: which peers' `P-Asserted-Identity` is
//! believed.
//!
//! A `P-Asserted-Identity` is only as good as the node that wrote it. RFC
//! 3325 §4 lets an element believe it only when the message came from
//! another element of its trust domain (the S-CSCF, the outbound proxy the
//! operator runs); from anyone else it is a claim that any user can write.
//! The application declares the trusted peers (their source addresses, and
//! the transport if it matters) in a [`TrustDomain`]; the IM Server and the
//! History Function check the source of every request against it. A request
//! from outside the domain has its `P-Asserted-Identity` ignored: its
//! originator is the `From` URI, reported with `verified: false`.
//!
//! The crate cannot see TLS or IPsec: a source address is only a proof of
//! origin where the network between the peers cannot be spoofed. List only
//! peers reached over such a network (a protected interface, TLS, IPsec).
//!
//! ```
//! use oma_im::im::trust::{TrustDomain, TrustedPeer};
//! use oma_im::transaction::Transport;
//!
//! let domain = TrustDomain::new()
//!     .with_peer(TrustedPeer::host("192.0.2.1".parse().unwrap()))
//!     .with_peer(TrustedPeer::at("192.0.2.2:5061".parse().unwrap(), Transport::Tcp));
//! assert!(domain.trusts("192.0.2.1:5060".parse().unwrap(), Transport::Udp));
//! assert!(domain.trusts("192.0.2.2:5061".parse().unwrap(), Transport::Tcp));
//! assert!(!domain.trusts("192.0.2.2:5061".parse().unwrap(), Transport::Udp));
//! assert!(!domain.trusts("198.51.100.7:5060".parse().unwrap(), Transport::Udp));
//! assert!(!TrustDomain::new().trusts("192.0.2.1:5060".parse().unwrap(), Transport::Udp));
//! ```

use std::net::{IpAddr, SocketAddr};

use crate::sip::SipMessage;
use crate::transaction::Transport;

/// One trusted peer: a host, optionally one port and one transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrustedPeer {
    /// The peer's IP address.
    pub ip: IpAddr,
    /// Its source port, when only one port of the host is trusted.
    pub port: Option<u16>,
    /// The transport, when only one is trusted.
    pub transport: Option<Transport>,
}

impl TrustedPeer {
    /// Every port and transport of `ip`.
    pub fn host(ip: IpAddr) -> Self {
        TrustedPeer {
            ip,
            port: None,
            transport: None,
        }
    }

    /// Only `address` over `transport`.
    pub fn at(address: SocketAddr, transport: Transport) -> Self {
        TrustedPeer {
            ip: address.ip(),
            port: Some(address.port()),
            transport: Some(transport),
        }
    }

    /// Whether a message from `source` over `transport` is from this peer.
    pub fn matches(&self, source: SocketAddr, transport: Transport) -> bool {
        self.ip == source.ip()
            && self.port.is_none_or(|p| p == source.port())
            && self.transport.is_none_or(|t| t == transport)
    }
}

/// The peers whose `P-Asserted-Identity` is believed (RFC 3325). Empty by
/// default: nobody is trusted, every originator is the unverified `From`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustDomain {
    /// The trusted peers.
    pub peers: Vec<TrustedPeer>,
}

impl TrustDomain {
    /// An empty domain: nobody is trusted.
    pub fn new() -> Self {
        TrustDomain::default()
    }

    /// The domain with `peer` added.
    pub fn with_peer(mut self, peer: TrustedPeer) -> Self {
        self.peers.push(peer);
        self
    }

    /// Whether a message from `source` over `transport` comes from inside
    /// the domain.
    pub fn trusts(&self, source: SocketAddr, transport: Transport) -> bool {
        self.peers.iter().any(|p| p.matches(source, transport))
    }
}

/// Who sent a request, and whether a trusted peer vouched for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Originator {
    /// The originator's IM Address: the first `P-Asserted-Identity` of a
    /// request from the trust domain, else the `From` URI.
    pub address: String,
    /// `true` when `address` is a `P-Asserted-Identity` written by a
    /// trusted peer; `false` when it is the `From` URI, which the sender
    /// wrote itself.
    pub verified: bool,
}

/// The originator of `request`: its first `P-Asserted-Identity` when it came
/// from the trust domain (`trusted`), else its `From` URI, unverified. A
/// `P-Asserted-Identity` from outside the domain is ignored (RFC 3325 §5).
///
/// ```
/// use oma_im::im::trust::originator;
/// use oma_im::sip::parse_message;
///
/// let msg = parse_message(b"INVITE sip:conf@im.example.com SIP/2.0\r\n\
///     Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n\
///     From: <sip:mallory@example.com>;tag=1\r\nTo: <sip:conf@im.example.com>\r\n\
///     Call-ID: c\r\nCSeq: 1 INVITE\r\n\
///     P-Asserted-Identity: <sip:alice@example.com>\r\nContent-Length: 0\r\n\r\n")?;
/// let untrusted = originator(&msg, false).unwrap();
/// assert_eq!(untrusted.address, "sip:mallory@example.com");
/// assert!(!untrusted.verified);
/// let trusted = originator(&msg, true).unwrap();
/// assert_eq!(trusted.address, "sip:alice@example.com");
/// assert!(trusted.verified);
/// # Ok::<(), oma_im::sip::SipError>(())
/// ```
pub fn originator(request: &SipMessage<'_>, trusted: bool) -> Option<Originator> {
    if trusted {
        if let Some(Ok(pai)) = request.p_asserted_identity().next() {
            return Some(Originator {
                address: pai.uri.to_string(),
                verified: true,
            });
        }
    }
    Some(Originator {
        address: request.from()?.ok()?.uri.to_string(),
        verified: false,
    })
}
