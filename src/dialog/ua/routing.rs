//! Where the requests of a user agent go (RFC 3261 §8.1.2, §18.1.1): the
//! routing choice of [`Config::routing`](super::Config::routing), the next
//! hop a request names, and the switch to TCP for large requests.

use std::net::{IpAddr, SocketAddr};

use crate::sip::{Host, SipMessage, Uri};
use crate::transaction::Transport;

/// How a [`UserAgent`](super::UserAgent) chooses where each request it sends
/// goes. Responses always go back the way their request came (RFC 3261
/// §18.2.2), whatever the routing.
///
/// Whatever the choice, a request that would go over UDP and is larger than
/// [`Config::max_udp_request_size`](super::Config::max_udp_request_size) goes
/// over TCP instead, its top Via saying `SIP/2.0/TCP` (RFC 3261 §18.1.1).
///
/// ```
/// use oma_im::dialog::{Config, Routing};
/// use oma_im::transaction::Transport;
///
/// let mut config = Config::new("127.0.0.1:5070".parse().unwrap(),
///     "127.0.0.1:5060".parse().unwrap(), Transport::Udp, 7);
/// assert_eq!(config.routing, Routing::OutboundProxy);
/// config.routing = Routing::PreloadedRoute;
/// assert_eq!(config.preloaded_route(), "<sip:127.0.0.1:5060;lr>");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Routing {
    /// Every request goes to [`Config::outbound_proxy`] over
    /// [`Config::transport`], unchanged: in-dialog requests carry the
    /// dialog's route set as their Route header fields. The default.
    ///
    /// [`Config::outbound_proxy`]: super::Config::outbound_proxy
    /// [`Config::transport`]: super::Config::transport
    #[default]
    OutboundProxy,
    /// Every request goes to the outbound proxy, as with
    /// [`OutboundProxy`](Self::OutboundProxy), and each request sent outside
    /// a dialog carries a preloaded `Route: <sip:PROXY-ADDRESS;lr>` naming the
    /// proxy (RFC 3261 §8.1.2; `;transport=tcp` is added when
    /// [`Config::transport`](super::Config::transport) is TCP), as written by
    /// [`Config::preloaded_route`](super::Config::preloaded_route). Requests
    /// inside a dialog carry the dialog's route set instead.
    PreloadedRoute,
    /// No outbound proxy: a request goes to the next hop it names itself
    /// (RFC 3261 §8.1.2, loose routing of §16.12) — the URI of its first
    /// Route header field when it has one, else its Request-URI (also when
    /// the dialog's route set starts with a strict router, which §12.2.1.1
    /// puts in the Request-URI).
    ///
    /// That URI's host must be an IP literal: the crate does no DNS. The
    /// port is the URI's, else 5060 for `sip:` and 5061 for `sips:`; the
    /// transport is the URI's `transport` parameter (`udp` or `tcp`), else
    /// TCP for `sips:` (the application secures the connection), else
    /// [`Config::transport`](super::Config::transport). A request whose
    /// next hop has a host name, another scheme or another transport is not
    /// sent: the command fails with
    /// [`UaError::Unroutable`](super::UaError::Unroutable). A request the
    /// user agent sends on its own fails the way it does when it cannot be
    /// built: an ACK that cannot be sent ends its dialog with
    /// [`TerminationReason::RequestFailed(503)`](super::TerminationReason::RequestFailed),
    /// a session refresh ends the session
    /// ([`TerminationReason::SessionRefreshFailed(503)`](super::TerminationReason::SessionRefreshFailed)),
    /// a subscription refresh ends the subscription, and a BYE that cannot be
    /// sent removes its dialog at once.
    /// [`Config::outbound_proxy`](super::Config::outbound_proxy) is not used.
    RequestTarget,
}

/// The next hop of `request` under [`Routing::RequestTarget`]: the first
/// Route's URI, or the Request-URI when there is no Route or when
/// `strict` (the dialog's first route is a strict router). `Err` carries
/// the text of the URI that cannot be reached without resolution.
pub(crate) fn next_hop(
    request: &SipMessage<'_>,
    strict: bool,
    default: Transport,
) -> Result<(SocketAddr, Transport), String> {
    let first_route = if strict { None } else { request.route().next() };
    match first_route {
        Some(Ok(route)) => uri_hop(&route.uri, default).ok_or_else(|| route.uri.to_string()),
        Some(Err(error)) => Err(error.to_string()),
        None => match request.request_uri() {
            Some(uri) => uri_hop(uri, default).ok_or_else(|| uri.to_string()),
            None => Err(String::new()),
        },
    }
}

/// The address and transport of a SIP URI whose host (or `maddr`) is an IP
/// literal.
fn uri_hop(uri: &Uri<'_>, default: Transport) -> Option<(SocketAddr, Transport)> {
    let sip = uri.as_sip()?;
    let host = match sip.maddr() {
        Some(maddr) => Host::parse(maddr, false).ok()?,
        None => sip.host,
    };
    let ip: IpAddr = match host {
        Host::Ipv4(a) => a.into(),
        Host::Ipv6(a) => a.into(),
        Host::Domain(_) => return None,
    };
    let transport = match sip.transport() {
        Some(t) if t.eq_ignore_ascii_case("tcp") => Transport::Tcp,
        Some(t) if t.eq_ignore_ascii_case("udp") && !sip.secure => Transport::Udp,
        Some(_) => return None,
        None if sip.secure => Transport::Tcp,
        None => default,
    };
    let port = sip.port.unwrap_or(if sip.secure { 5061 } else { 5060 });
    Some((SocketAddr::new(ip, port), transport))
}

/// Rewrites the transport token of the Via the user agent writes first in
/// each request (`Via: SIP/2.0/UDP` ↔ `Via: SIP/2.0/TCP`, the same length).
/// Returns `false`, changing nothing, when the bytes do not start that way.
pub(crate) fn set_top_via_transport(bytes: &mut [u8], transport: Transport) -> bool {
    const PREFIX: &[u8] = b"Via: SIP/2.0/";
    let Some(eol) = memchr::memmem::find(bytes, b"\r\n") else {
        return false;
    };
    let start = eol + 2;
    let token = start + PREFIX.len();
    if bytes.get(start..token) != Some(PREFIX) || bytes.get(token + 3) != Some(&b' ') {
        return false;
    }
    match bytes.get_mut(token..token + 3) {
        Some(slot) => {
            slot.copy_from_slice(transport.as_str().as_bytes());
            true
        }
        None => false,
    }
}
