//! A stateless SIP proxy for simulations: the SIP/IP Core between the
//! roles.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use crate::sip::{parse_message, Host, Uri};
use crate::transaction::{Transmit, Transport};

/// A stateless SIP proxy (a SIP/IP Core in one node): a request goes by
/// its Request-URI — a user it knows (`user@host`), a domain it knows, or
/// an IP literal with its port (5060 by default) — and a response by the
/// sent-by of its top `Via`. It adds no header field of its own (it does
/// not record-route), so in-dialog requests may go straight to the peer's
/// Contact. A message it cannot route is dropped and counted.
///
/// ```
/// use oma_im::sim::Proxy;
/// let proxy = Proxy::new()
///     .with_user("sip:alice@example.com", "10.0.0.21:5060".parse().unwrap())
///     .with_domain("im.example.com", "10.0.0.10:5060".parse().unwrap())
///     .asserting_identity();
/// assert_eq!(proxy.dropped(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Proxy {
    users: BTreeMap<String, SocketAddr>,
    domains: BTreeMap<String, SocketAddr>,
    asserts_identity: bool,
    queue: VecDeque<Transmit>,
    dropped: usize,
}

impl Proxy {
    /// A proxy that knows no user and no domain.
    pub fn new() -> Self {
        Proxy::default()
    }

    /// Requests to `uri` (`sip:user@host`; the scheme and parameters are
    /// ignored) go to `addr`.
    pub fn with_user(mut self, uri: &str, addr: SocketAddr) -> Self {
        if let Some(key) = user_key(uri) {
            self.users.insert(key, addr);
        }
        self
    }

    /// Requests to any URI of `domain` go to `addr` (an IM Server, a
    /// History Function).
    pub fn with_domain(mut self, domain: &str, addr: SocketAddr) -> Self {
        self.domains.insert(domain.to_ascii_lowercase(), addr);
        self
    }

    /// Plays the P-CSCF of an IMS core (RFC 3325): the `P-Preferred-Identity`
    /// of a request becomes its `P-Asserted-Identity`.
    pub fn asserting_identity(mut self) -> Self {
        self.asserts_identity = true;
        self
    }

    /// How many messages it could not route.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    pub(crate) fn poll(&mut self) -> Option<Transmit> {
        self.queue.pop_front()
    }

    pub(crate) fn forward(&mut self, bytes: &[u8], transport: Transport) {
        let Some(destination) = self.route(bytes) else {
            self.dropped = self.dropped.saturating_add(1);
            return;
        };
        let mut bytes = bytes.to_vec();
        if self.asserts_identity && !bytes.starts_with(b"SIP/2.0 ") {
            assert_identity(&mut bytes);
        }
        self.queue.push_back(Transmit {
            destination,
            transport,
            bytes,
        });
    }

    fn route(&self, bytes: &[u8]) -> Option<SocketAddr> {
        let msg = parse_message(bytes).ok()?;
        if msg.is_request() {
            let Uri::Sip(sip) = msg.request_uri()? else {
                return None;
            };
            if let Some(user) = sip.user {
                let key = format!("{user}@{}", sip.host).to_ascii_lowercase();
                if let Some(addr) = self.users.get(&key) {
                    return Some(*addr);
                }
            }
            match sip.host {
                Host::Domain(d) => self.domains.get(&d.to_ascii_lowercase()).copied(),
                Host::Ipv4(ip) => Some(SocketAddr::new(IpAddr::V4(ip), sip.port.unwrap_or(5060))),
                Host::Ipv6(ip) => Some(SocketAddr::new(IpAddr::V6(ip), sip.port.unwrap_or(5060))),
            }
        } else {
            let via = msg.top_via()?.ok()?;
            let ip = match via.host {
                Host::Ipv4(ip) => IpAddr::V4(ip),
                Host::Ipv6(ip) => IpAddr::V6(ip),
                Host::Domain(_) => return None,
            };
            Some(SocketAddr::new(ip, via.port.unwrap_or(5060)))
        }
    }
}

/// `user@host`, lower case, of a SIP URI.
fn user_key(uri: &str) -> Option<String> {
    match Uri::parse(uri).ok()? {
        Uri::Sip(sip) => Some(format!("{}@{}", sip.user?, sip.host).to_ascii_lowercase()),
        _ => None,
    }
}

/// Renames the first `P-Preferred-Identity` of the header section to
/// `P-Asserted-Identity`.
fn assert_identity(bytes: &mut Vec<u8>) {
    let head = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    let needle = b"\r\nP-Preferred-Identity:";
    if let Some(at) = bytes[..head]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
    {
        bytes.splice(
            at..at + needle.len(),
            b"\r\nP-Asserted-Identity:".iter().copied(),
        );
    }
}
