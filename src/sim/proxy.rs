//! A stateless SIP proxy for simulations: the SIP/IP Core between the
//! roles.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use crate::sip::{parse_message, Host, Uri};
use crate::transaction::{Transmit, Transport};

/// A stateless SIP proxy (a SIP/IP Core in one node): a request goes by
/// its Request-URI — a user it knows (`user@host`), a domain it knows, or
/// an IP literal with its port (5060 by default) — and a response by the
/// sent-by of its top `Via`. By default it adds no header field of its
/// own, so in-dialog requests may go straight to the peer's Contact; with
/// [`record_routing`](Self::record_routing) it stays on the path of every
/// dialog (RFC 3261 §16.6 step 4) and drops what bypasses it. A message it
/// cannot route is dropped and counted.
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
    record_route: Vec<String>,
    /// The branches of the INVITEs passed outside a dialog (their ACK to a
    /// non-2xx final response carries no route set), the newest last.
    invite_branches: VecDeque<String>,
    bypassed: VecDeque<String>,
    queue: VecDeque<Transmit>,
    dropped: usize,
}

/// How many INVITE branches, and start lines of bypassing requests, a
/// record-routing proxy keeps.
const REMEMBERED: usize = 256;

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

    /// Record-routes like the chain of loose-routing proxies `values`
    /// names, top first (`<sip:10.0.0.1;lr>`): every request outside a
    /// dialog gets these `Record-Route` values (RFC 3261 §16.6 step 4);
    /// every request inside a dialog must name all of them, in either
    /// order, as its `Route` header fields — they are removed (§16.4) — or
    /// it is dropped, as a real record-routing proxy drops what bypasses
    /// it ([`bypassed`](Self::bypassed)). The ACK of a non-2xx final
    /// response, part of its INVITE's transaction (§17.1.1.3), passes as
    /// it is.
    pub fn record_routing(mut self, values: &[&str]) -> Self {
        self.record_route = values.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// How many messages it could not route or dropped.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The start lines of the last requests (up to 256) a
    /// [`record_routing`](Self::record_routing) proxy dropped because they
    /// did not name its route set.
    pub fn bypassed(&self) -> impl Iterator<Item = &str> + '_ {
        self.bypassed.iter().map(String::as_str)
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
        let request = !bytes.starts_with(b"SIP/2.0 ");
        if self.asserts_identity && request {
            assert_identity(&mut bytes);
        }
        if !self.record_route.is_empty() && request {
            match self.loose_route(&bytes) {
                Some(routed) => bytes = routed,
                None => {
                    self.dropped = self.dropped.saturating_add(1);
                    return;
                }
            }
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

impl Proxy {
    /// Applies the record-routing rules to a request; `None` when it is
    /// dropped.
    fn loose_route(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let msg = parse_message(bytes).ok()?;
        let in_dialog = msg
            .to()
            .and_then(Result::ok)
            .is_some_and(|t| t.tag().is_some());
        let head_end = memchr::memmem::find(bytes, b"\r\n\r\n")? + 2;
        let line_end = memchr::memmem::find(bytes, b"\r\n")? + 2;
        let branch = msg
            .top_via()
            .and_then(Result::ok)
            .and_then(|v| v.branch().map(str::to_owned))
            .unwrap_or_default();
        let method = msg.method();
        if method == Some("ACK") && self.invite_branches.contains(&branch) {
            return Some(bytes.to_vec());
        }
        if !in_dialog && method == Some("INVITE") {
            if self.invite_branches.len() == REMEMBERED {
                self.invite_branches.pop_front();
            }
            self.invite_branches.push_back(branch);
        }
        let mut out = Vec::with_capacity(bytes.len() + 40 * self.record_route.len());
        out.extend_from_slice(&bytes[..line_end]);
        if in_dialog {
            let routes: Vec<String> = msg
                .route()
                .filter_map(Result::ok)
                .map(|r| r.to_string())
                .collect();
            let ours = routes.len() == self.record_route.len()
                && routes.iter().all(|r| self.record_route.contains(r));
            if !ours {
                if self.bypassed.len() == REMEMBERED {
                    self.bypassed.pop_front();
                }
                let line = String::from_utf8_lossy(&bytes[..line_end - 2]).into_owned();
                self.bypassed.push_back(line);
                return None;
            }
            // The remaining header fields without the Route lines.
            for line in bytes[line_end..head_end].split_inclusive(|&b| b == b'\n') {
                let name = line.split(|&b| b == b':').next().unwrap_or_default();
                if !name.trim_ascii().eq_ignore_ascii_case(b"route") {
                    out.extend_from_slice(line);
                }
            }
            out.extend_from_slice(&bytes[head_end..]);
        } else {
            for rr in &self.record_route {
                out.extend_from_slice(format!("Record-Route: {rr}\r\n").as_bytes());
            }
            out.extend_from_slice(&bytes[line_end..]);
        }
        Some(out)
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
