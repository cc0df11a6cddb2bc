//! The configuration of a [`UserAgent`](super::UserAgent).

use std::net::SocketAddr;

use super::{Routing, SessionTimerConfig, SubscriptionConfig};
use crate::sip::OptionTag;
use crate::transaction::{Capabilities, TimerConfig, Transport};

/// Bounds on what a user agent keeps. Over a bound, an incoming request is
/// refused statelessly (503) and a command fails with
/// [`UaError::TooManyTransactions`](super::UaError::TooManyTransactions) or
/// [`UaError::TooManyDialogs`](super::UaError::TooManyDialogs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bounds on every SIP message parsed.
    pub sip: crate::sip::Limits,
    /// Most live client transactions, and most live server transactions.
    pub max_transactions: usize,
    /// Most dialogs (early and confirmed).
    pub max_dialogs: usize,
    /// Most entries in a dialog's route set (Record-Route values).
    pub max_route_set: usize,
    /// Most SIP bytes the user agent holds: the requests and last
    /// responses of its transactions (a request counted twice, and until
    /// its final response with room for one as large), the requests of the
    /// INVITEs it sent, and its dialogs' state and kept messages. Over it,
    /// an incoming request gets 503 statelessly, a new request fails with
    /// [`UaError::TooManyTransactions`](super::UaError::TooManyTransactions)
    /// and no dialog is created. Counted with
    /// [`UserAgent::held_bytes`](super::UserAgent::held_bytes).
    pub max_held_bytes: usize,
}

impl Default for Limits {
    /// Default SIP limits, 1024 transactions each way, 256 dialogs,
    /// 16 routes, 32 MiB held.
    fn default() -> Self {
        Limits {
            sip: crate::sip::Limits::default(),
            max_transactions: 1024,
            max_dialogs: 256,
            max_route_set: 16,
            max_held_bytes: 32 * 1024 * 1024,
        }
    }
}

/// How a user agent is set up.
///
/// ```
/// use oma_im::dialog::Config;
/// use oma_im::transaction::Transport;
///
/// let config = Config::new("192.0.2.1:5060".parse().unwrap(),
///     "192.0.2.100:5060".parse().unwrap(), Transport::Udp, 42);
/// assert_eq!(config.timers.t1.as_millis(), 500);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The address this UA sends from and receives on: the sent-by of its
    /// Via and the host of its Contact.
    pub local_addr: SocketAddr,
    /// The outbound proxy (the SIP/IP Core) every request goes to, unless
    /// [`routing`](Self::routing) is [`Routing::RequestTarget`].
    pub outbound_proxy: SocketAddr,
    /// The transport of requests (to the outbound proxy, or to a next hop
    /// whose URI names none) and of the default Contact.
    pub transport: Transport,
    /// Where requests go: [`Routing::OutboundProxy`] by default.
    pub routing: Routing,
    /// The largest request, in octets, sent over UDP (RFC 3261 §18.1.1): a
    /// larger request that would go over UDP goes over TCP to the same
    /// destination, its top Via saying `SIP/2.0/TCP`, and its client
    /// transaction runs TCP timers (no retransmission). 1300 by default (the
    /// RFC's figure when the path MTU is unknown); `usize::MAX` turns the
    /// switch off.
    pub max_udp_request_size: usize,
    /// T1, T2 and T4.
    pub timers: TimerConfig,
    /// Seed of the generator of tags, branches and Call-IDs: 256 bits from
    /// the operating system's entropy in production (see [`crate::rng`]).
    pub seed: crate::rng::Seed,
    /// Supported methods, option tags, body types and URI schemes.
    pub capabilities: Capabilities,
    /// Bounds on kept state.
    pub limits: Limits,
    /// The user part of the Contact URI, if any.
    pub contact_user: Option<String>,
    /// Parameters written after the Contact URI of every Contact the UA
    /// writes by default, each with its leading `;` — feature tags such as
    /// `;+g.oma.sip-im` (RFC 3840). Empty by default. A request or response
    /// that names its own Contact ([`RequestSpec::with_contact`],
    /// [`ResponseSpec::with_contact`]) does not get them.
    ///
    /// [`RequestSpec::with_contact`]: super::RequestSpec::with_contact
    /// [`ResponseSpec::with_contact`]: super::ResponseSpec::with_contact
    pub contact_params: String,
    /// Session timers (RFC 4028), when this UA uses them; set with
    /// [`with_session_timer`](Self::with_session_timer).
    pub session_timer: Option<SessionTimerConfig>,
    /// The durations a notifier grants (RFC 6665).
    pub subscriptions: SubscriptionConfig,
    /// Whether the core decides if it serves a request's Request-URI before
    /// the request's extensions and body type are checked (RFC 3261 orders
    /// the 404 of §8.2.2.1 before the 420 of §8.2.2.3 and the 415 of
    /// §8.2.3). When `true`, an out-of-dialog request that passes the
    /// method, scheme and header checks reaches the core as
    /// [`Event::RequestReceived`](super::Event::RequestReceived) whatever
    /// its Require and Content-Type; the core answers 404 for a URI it does
    /// not serve and otherwise calls
    /// [`UserAgent::check_extensions`](super::UserAgent::check_extensions).
    /// `false` (the default): the user agent answers 420 and 415 itself
    /// before the core sees the request. Requests inside a dialog are
    /// always checked by the user agent.
    pub core_screens_request_uri: bool,
}

impl Config {
    /// A configuration with default timers, capabilities and limits.
    pub fn new(
        local_addr: SocketAddr,
        outbound_proxy: SocketAddr,
        transport: Transport,
        seed: impl Into<crate::rng::Seed>,
    ) -> Self {
        Config {
            local_addr,
            outbound_proxy,
            transport,
            routing: Routing::OutboundProxy,
            max_udp_request_size: 1300,
            timers: TimerConfig::default(),
            seed: seed.into(),
            capabilities: Capabilities::default(),
            limits: Limits::default(),
            contact_user: None,
            contact_params: String::new(),
            session_timer: None,
            subscriptions: SubscriptionConfig::default(),
            core_screens_request_uri: false,
        }
    }

    /// The preloaded Route value written on requests outside a dialog with
    /// [`Routing::PreloadedRoute`]: `<sip:OUTBOUND-PROXY;lr>`, with
    /// `;transport=tcp` before `;lr` when [`transport`](Self::transport)
    /// is TCP.
    ///
    /// ```
    /// use oma_im::dialog::Config;
    /// use oma_im::transaction::Transport;
    ///
    /// let config = Config::new("[::1]:5070".parse().unwrap(),
    ///     "[::1]:5060".parse().unwrap(), Transport::Tcp, 1);
    /// assert_eq!(config.preloaded_route(), "<sip:[::1]:5060;transport=tcp;lr>");
    /// ```
    pub fn preloaded_route(&self) -> String {
        let transport = if self.transport.is_reliable() {
            ";transport=tcp"
        } else {
            ""
        };
        format!("<sip:{}{transport};lr>", self.outbound_proxy)
    }

    /// Turns session timers on: `timer` joins the Supported option tags.
    pub fn with_session_timer(mut self, session_timer: SessionTimerConfig) -> Self {
        self.capabilities.supported.insert(OptionTag::Timer);
        self.session_timer = Some(session_timer);
        self
    }
}
