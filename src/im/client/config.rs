//! How an [`ImClient`](super::ImClient) is set up: the provisioned IM
//! parameters (Appendix I), the user's preferences and the bounds.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use crate::dialog;
use crate::im::SipIpCoreProfile;
use crate::sip::{Method, MethodSet};
use crate::transaction::Transport;

/// Session-timer preferences (RFC 4028), used in every initial INVITE
/// (9.1.1.1 steps 6 and 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimerPreferences {
    /// The Session-Expires value asked for, in seconds (at least 90).
    pub session_expires: u32,
    /// Whether to add `Session-Expires` (with `refresher=uac`) to initial
    /// INVITEs: a SHOULD of 9.1.1.1 step 7, on by default.
    pub include_session_expires: bool,
}

impl Default for SessionTimerPreferences {
    /// 1800 s (RFC 4028 §4 recommends 30 minutes), included.
    fn default() -> Self {
        SessionTimerPreferences {
            session_expires: 1800,
            include_session_expires: true,
        }
    }
}

/// Where a Large Message for several recipients goes (9.1.x): the URI list
/// travels in the INVITE in both cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LargeMessageGroupTarget {
    /// To the Conference-factory-URI of the Home IM Network.
    ConferenceFactory,
    /// To an exploder (RFC 5365 style; the RCS `exploder-uri`).
    Exploder(String),
}

/// Bounds on what an IM Client keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bounds of the SIP user agent underneath (its `sip` is replaced by
    /// [`layers.sip`](crate::Limits::sip)).
    pub ua: dialog::Limits,
    /// The bounds of every layer the client parses with: SIP messages, SDP,
    /// conference-info documents (`max_users` is replaced by
    /// [`max_participants`](Self::max_participants)), and each MSRP session
    /// ([`crate::Limits::session_limits`]).
    pub layers: crate::Limits,
    /// Most IM sessions alive at once (originated and received).
    pub max_sessions: usize,
    /// Most IM Session Identities kept after their session ended, for a
    /// later rejoin (7.1.1.9); the oldest is forgotten first.
    pub max_stored_identities: usize,
    /// Most methods kept from a peer's Allow header.
    pub max_allow_methods: usize,
    /// Most participants kept in a conference roster.
    pub max_participants: usize,
    /// Largest conference-info document accepted in a NOTIFY.
    pub max_notify_body: usize,
    /// Most recording requests (REFERs to the IM History Function) alive at
    /// once.
    pub max_recording_requests: usize,
    /// Most history references in one retrieval request (13.2.1.1).
    pub max_history_references: usize,
    /// How long a recording request waits, after the `202 Accepted`, for
    /// the NOTIFY that ends its implicit subscription (RFC 3515) before it
    /// is forgotten ([`Event::RecordingRequestTimedOut`](super::Event::RecordingRequestTimedOut)).
    pub refer_subscription_guard: Duration,
    /// Most bytes an accepted MSRP connection may send before it names a
    /// session of this client (its first `To-Path`), and after it was
    /// refused with `506`; then it is closed.
    pub max_unbound_msrp_bytes: usize,
    /// How long an accepted MSRP connection may stay without naming a
    /// session of this client before it is closed.
    pub unbound_msrp_timeout: Duration,
    /// Largest content sent in Pager Mode (one SIP MESSAGE); a larger one
    /// goes in Large Message mode (9.1.x). 1300 octets by default, the
    /// bound OMA SIMPLE IM draws between the two modes. With its SIP and
    /// CPIM headers such a MESSAGE is over the 1300-octet UDP bound of
    /// RFC 3261 §18.1.1 and RFC 3428 §9, and the user agent sends it over
    /// TCP ([`dialog::Config::max_udp_request_size`]).
    pub max_pager_message_size: usize,
    /// Most received messages kept for a display notification the
    /// application has not sent yet (RFC 5438); the oldest is forgotten
    /// first.
    pub max_pending_display_notifications: usize,
    /// Most senders kept as composing (RFC 3994) at once.
    pub max_composing_peers: usize,
    /// Most bytes the MSRP sessions hold for their peers together (chunks
    /// being read and messages being reassembled; each session also
    /// within `layers.msrp.max_buffered_bytes`). A peer whose chunk does
    /// not fit gets 413 and the client leaves the session
    /// ([`Event::BufferExceeded`](super::Event::BufferExceeded)).
    pub max_msrp_buffered_bytes: usize,
}

impl Default for Limits {
    /// Default UA and MSRP bounds, 64 sessions, 64 stored identities, 32
    /// Allow methods, 1024 participants, 256 KiB NOTIFY bodies, 16
    /// recording requests, 1000 history references, a 64 s wait for the
    /// NOTIFY of a recording request (twice RFC 3261 Timer B: time for the
    /// History Function's INVITE to complete), 1300-octet Pager Mode
    /// messages, 256 messages awaiting a display notification, 256
    /// composing senders, 8 KiB or 30 s for an accepted MSRP
    /// connection to name its session, and 64 MiB held by all MSRP
    /// sessions together.
    fn default() -> Self {
        Limits {
            ua: dialog::Limits::default(),
            layers: crate::Limits::default(),
            max_sessions: 64,
            max_stored_identities: 64,
            max_allow_methods: 32,
            max_participants: 1024,
            max_notify_body: 256 * 1024,
            max_recording_requests: 16,
            max_history_references: 1000,
            refer_subscription_guard: Duration::from_secs(64),
            max_unbound_msrp_bytes: 8 * 1024,
            unbound_msrp_timeout: Duration::from_secs(30),
            max_pager_message_size: 1300,
            max_pending_display_notifications: 256,
            max_composing_peers: 256,
            max_msrp_buffered_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The configuration of an IM Client.
///
/// ```
/// use oma_im::im::client::ClientConfig;
///
/// let config = ClientConfig::new(
///     "sip:alice@example.com",
///     "sip:conference-factory@im.example.com",
///     "192.0.2.1:5060".parse().unwrap(),
///     "192.0.2.100:5060".parse().unwrap(),
/// );
/// assert_eq!(config.max_adhoc_group_size, 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The user's IM Address (a SIP URI), used in From and as the
    /// Authenticated Originator's IM Address.
    pub im_address: String,
    /// The Conference-factory-URI of the Home IM Network (`conf-fcty-uri`).
    pub conference_factory_uri: String,
    /// `MAX-ADHOC-GROUP-SIZE`: most Invited IM Users in an ad-hoc
    /// conference's URI list (7.1.1.3 step 4).
    pub max_adhoc_group_size: usize,
    /// The product tokens after `IM-client/OMA1.0` in User-Agent (Appendix
    /// F), e.g. `acme/1.0`; may be empty.
    pub product: String,
    /// The SIP methods the client supports (the Allow header).
    pub supported_methods: MethodSet<'static>,
    /// Session-timer preferences.
    pub session_timer: SessionTimerPreferences,
    /// Whether the user asks for anonymity: `Privacy: id` in initial
    /// requests (9.1.1.1 step 5, RFC 3325).
    pub anonymous: bool,
    /// The SIP/IP Core profile.
    pub profile: SipIpCoreProfile,
    /// The local SIP address (Via, Contact).
    pub local_sip_addr: SocketAddr,
    /// The outbound proxy (the SIP/IP Core).
    pub outbound_proxy: SocketAddr,
    /// The SIP transport to the outbound proxy.
    pub transport: Transport,
    /// Where requests go ([`dialog::Config::routing`]):
    /// [`Routing::OutboundProxy`](crate::dialog::Routing::OutboundProxy) by
    /// default.
    ///
    /// [`dialog::Config::routing`]: crate::dialog::Config::routing
    pub routing: crate::dialog::Routing,
    /// The local MSRP host (an IP address) and port, for `c=`, `m=` and the
    /// `a=path` URIs.
    pub msrp_addr: SocketAddr,
    /// Media types accepted in MSRP sessions besides `message/cpim`
    /// (7.1.1.3: MAY list other formats or `*`).
    pub extra_accept_types: Vec<String>,
    /// Types accepted inside CPIM (`a=accept-wrapped-types`); `*` by default.
    pub accept_wrapped_types: Vec<String>,
    /// Largest MSRP chunk sent.
    pub msrp_chunk_size: NonZeroUsize,
    /// Largest Large Message accepted (9.2.1 step 1 a: an invitation whose
    /// announced size is larger is rejected with 486, not enough resources).
    /// It is compared with the offer's `a=max-size`, the size of the MSRP
    /// message as sent: the content wrapped in `message/cpim`, CPIM headers
    /// included.
    pub max_large_message_size: u64,
    /// Where a Large Message for several recipients goes.
    pub large_message_group_target: LargeMessageGroupTarget,
    /// Seed of every random identifier (tags, Call-IDs, MSRP session ids):
    /// 256 bits from the operating system's entropy in production; the
    /// default (all zero) is for tests only (see [`crate::rng`]).
    pub seed: crate::rng::Seed,
    /// Bounds.
    pub limits: Limits,
}

impl ClientConfig {
    /// A configuration with the defaults: MAX-ADHOC-GROUP-SIZE 10, no
    /// product tokens, INVITE ACK BYE CANCEL OPTIONS MESSAGE UPDATE NOTIFY
    /// SUBSCRIBE REFER, default session timer, no anonymity, plain profile,
    /// UDP, MSRP on the SIP host at port 2855, only `message/cpim` with `*`
    /// wrapped, 2048-byte chunks, Large Messages up to 10 MiB sent to the
    /// Conference-factory-URI, an all-zero seed (for tests only: set
    /// [`seed`](Self::seed) from the operating system), default limits.
    pub fn new(
        im_address: &str,
        conference_factory_uri: &str,
        local_sip_addr: SocketAddr,
        outbound_proxy: SocketAddr,
    ) -> Self {
        let mut methods = MethodSet::new();
        for m in [
            Method::Invite,
            Method::Ack,
            Method::Bye,
            Method::Cancel,
            Method::Options,
            Method::Message,
            Method::Update,
            Method::Notify,
            Method::Subscribe,
            Method::Refer,
        ] {
            methods.insert(m);
        }
        ClientConfig {
            im_address: im_address.to_owned(),
            conference_factory_uri: conference_factory_uri.to_owned(),
            max_adhoc_group_size: 10,
            product: String::new(),
            supported_methods: methods,
            session_timer: SessionTimerPreferences::default(),
            anonymous: false,
            profile: SipIpCoreProfile::Plain,
            local_sip_addr,
            outbound_proxy,
            transport: Transport::Udp,
            routing: crate::dialog::Routing::OutboundProxy,
            msrp_addr: SocketAddr::new(local_sip_addr.ip(), 2855),
            extra_accept_types: Vec::new(),
            accept_wrapped_types: vec!["*".to_owned()],
            msrp_chunk_size: NonZeroUsize::new(2048).unwrap_or(NonZeroUsize::MIN),
            max_large_message_size: 10 * 1024 * 1024,
            large_message_group_target: LargeMessageGroupTarget::ConferenceFactory,
            seed: crate::rng::Seed::default(),
            limits: Limits::default(),
        }
    }
}
