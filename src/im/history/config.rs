//! The configuration of an [`ImHistoryFunction`](super::ImHistoryFunction).

use std::net::SocketAddr;
use std::time::Duration;

use crate::dialog;
use crate::im::trust::TrustDomain;
use crate::transaction::Transport;

/// Bounds on what a History Function keeps. Input over a bound is refused
/// with the protocol's answer (a SIP response, MSRP 413) or a typed error.
///
/// # Memory budget
///
/// Whatever its peers send, a History Function holds at most
///
/// ```text
///   SIP             ua.max_held_bytes                             32 MiB
///                     transactions, dialogs, INVITEs sent (see
///                     dialog::Limits::max_held_bytes)
/// + MSRP received   max_msrp_buffered_bytes                      128 MiB
///                     chunks being read and messages being reassembled,
///                     all sessions together (each session also within
///                     layers.msrp.max_buffered_bytes)
/// + MSRP to send    max_sessions × layers.msrp_session.max_queued_bytes
///                                                  64 × 4 MiB = 256 MiB
///                     history items handed to MSRP and not yet written
/// + references      max_sessions × max_history_references
///                     × layers.xml.max_text_len   64 × 256 × 4 KiB =  64 MiB
/// + recordings      max_sessions × max_stored_headers
///                     × layers.sip.max_header_len  64 × 64 × 8 KiB =  32 MiB
/// + sessions        max_sessions × S (its state, MSRP session, paths:
///                     a few KiB each)                              < 1 MiB
/// = total                                                       < 0.6 GiB
/// ```
///
/// plus, per call, the message being handled and the outputs (recorded
/// messages among them) not yet drained. A peer whose MSRP chunk does not
/// fit gets 413 and its session ends
/// ([`EndReason::BufferExceeded`](super::EndReason::BufferExceeded)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The SIP user agent's bounds (transactions, dialogs; its `sip` is
    /// replaced by [`layers.sip`](crate::Limits::sip)).
    pub ua: dialog::Limits,
    /// The bounds of every layer the History Function parses with: SIP
    /// messages, the bodies of an INVITE (`multipart/mixed`), the URI-list
    /// document (its `max_list_entries` is replaced by
    /// [`max_history_references`](Self::max_history_references)), SDP, and
    /// each MSRP session ([`crate::Limits::session_limits`]).
    pub layers: crate::Limits,
    /// Most history references in the URI-list of one retrieval request;
    /// a longer list is answered `413 Request Entity Too Large`.
    pub max_history_references: usize,
    /// Most retrieval and recording sessions alive at once; a request over
    /// it is answered `486 Busy Here`, a command fails with
    /// [`HistoryError::TooManySessions`](super::HistoryError::TooManySessions).
    pub max_sessions: usize,
    /// Most bytes the MSRP sessions hold for their peers together (chunks
    /// being read and messages being reassembled; each session also
    /// within `layers.msrp.max_buffered_bytes`). A peer whose chunk does
    /// not fit gets 413 and its session ends with BYE
    /// ([`EndReason::BufferExceeded`](super::EndReason::BufferExceeded)).
    pub max_msrp_buffered_bytes: usize,
    /// Most SIP header fields of a recorded 200 OK kept
    /// ([`RecordingInfo::headers`](super::RecordingInfo::headers)).
    pub max_stored_headers: usize,
    /// Most bytes an accepted MSRP connection may send before it names a
    /// session of this History Function (its first `To-Path`), and after
    /// it was refused with `506`; then it is closed.
    pub max_unbound_msrp_bytes: usize,
    /// How long an accepted MSRP connection may stay without naming a
    /// session of this History Function before it is closed.
    pub unbound_msrp_timeout: Duration,
}

impl Default for Limits {
    /// Default codec limits, 256 history references per request, 64
    /// sessions, 128 MiB of MSRP received, 64 stored header fields, and
    /// 8 KiB or 30 s for an accepted MSRP connection to name its session.
    fn default() -> Self {
        Limits {
            ua: dialog::Limits::default(),
            layers: crate::Limits::default(),
            max_history_references: 256,
            max_sessions: 64,
            max_msrp_buffered_bytes: 128 * 1024 * 1024,
            max_stored_headers: 64,
            max_unbound_msrp_bytes: 8 * 1024,
            unbound_msrp_timeout: Duration::from_secs(30),
        }
    }
}

/// What the History Function does with a recording or retrieval request
/// whose requester no trusted peer asserted (no `P-Asserted-Identity`, or
/// one from outside the trust domain, RFC 3325).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnverifiedRequests {
    /// Refused with
    /// [`missing_identity_status`](HistoryConfig::missing_identity_status).
    #[default]
    Refuse,
    /// Handed to the application with the `From` URI as the requester and
    /// `verified: false` in [`Event::RetrievalRequested`] /
    /// [`Event::RecordingRequested`]; the application decides.
    ///
    /// [`Event::RetrievalRequested`]: super::Event::RetrievalRequested
    /// [`Event::RecordingRequested`]: super::Event::RecordingRequested
    AcceptMarked,
}

/// How an IM History Function is set up.
///
/// ```
/// use oma_im::im::history::HistoryConfig;
///
/// let config = HistoryConfig::new("sip:history@im.example.com",
///     "192.0.2.50:5060".parse().unwrap(), "192.0.2.100:5060".parse().unwrap());
/// assert_eq!(config.missing_identity_status, 403);
/// assert_eq!(config.msrp_addr, config.sip_addr);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryConfig {
    /// The History Function's own SIP URI: the `From` of its SUBSCRIBEs.
    pub identity: String,
    /// The address SIP is sent from and received on.
    pub sip_addr: SocketAddr,
    /// The SIP/IP Core (outbound proxy) every request goes to.
    pub outbound_proxy: SocketAddr,
    /// The SIP transport.
    pub transport: Transport,
    /// Where requests go ([`dialog::Config::routing`]):
    /// [`Routing::OutboundProxy`](dialog::Routing::OutboundProxy) by default.
    ///
    /// [`dialog::Config::routing`]: dialog::Config::routing
    pub routing: dialog::Routing,
    /// The address of the MSRP endpoint (`a=path`, `c=` and `m=` port).
    pub msrp_addr: SocketAddr,
    /// Product tokens after `IM-serv/OMA1.0` in `Server` and `User-Agent`
    /// (Appendix F), e.g. `acme-history/1.0`; empty for none.
    pub product: String,
    /// The status that refuses an initial INVITE without
    /// P-Asserted-Identity (13.2.1.1 step 1 a; the spec leaves the code to
    /// RFC 3261). `403 Forbidden` by default: without an asserted identity
    /// the History Function cannot tell whose history is asked for, and a
    /// challenge (401/407) cannot help since the identity must be asserted
    /// by the SIP/IP Core, not proven by the client (RFC 3325).
    pub missing_identity_status: u16,
    /// The peers whose `P-Asserted-Identity` is believed (RFC 3325): the
    /// S-CSCF or proxy in front of the History Function. Empty by default:
    /// every request is unverified.
    pub trust: TrustDomain,
    /// What becomes of a request without an identity asserted by the trust
    /// domain: [`UnverifiedRequests::Refuse`] by default.
    pub unverified_requests: UnverifiedRequests,
    /// The `Expires` of the conference-state SUBSCRIBE (7.1.1.11), seconds.
    pub subscription_expires: u32,
    /// RFC 4028 session timers of the History Function's sessions (13.3.1.1
    /// is read as 7.1.1.1 for a network entity: `Supported: timer` and
    /// Session-Expires in its INVITEs, refreshes when it is the refresher);
    /// `None` turns them off.
    pub session_timer: Option<dialog::SessionTimerConfig>,
    /// Largest body of one MSRP SEND chunk; larger history items are sent
    /// in several chunks.
    pub chunk_size: usize,
    /// Seed of every random token (tags, branches, MSRP session ids):
    /// 256 bits from the operating system's entropy in production; the
    /// default (all zero) is for tests only (see [`crate::rng`]).
    pub seed: crate::rng::Seed,
    /// How long the IM Session may take to answer a recording's INVITE
    /// with a final response; then the INVITE is CANCELled (RFC 3261 §9.1)
    /// and, with no final response 64*T1 after the CANCEL, the recording
    /// fails with 408 (its requester told in the REFER's last NOTIFY).
    /// 120 s by default.
    pub invitation_timeout: Duration,
    /// Bounds.
    pub limits: Limits,
}

impl HistoryConfig {
    /// A configuration with MSRP on the SIP address, UDP, default limits, an
    /// empty trust domain and unverified requests refused.
    pub fn new(identity: &str, sip_addr: SocketAddr, outbound_proxy: SocketAddr) -> Self {
        HistoryConfig {
            identity: identity.to_owned(),
            sip_addr,
            outbound_proxy,
            transport: Transport::Udp,
            routing: dialog::Routing::OutboundProxy,
            msrp_addr: sip_addr,
            product: String::new(),
            missing_identity_status: 403,
            trust: TrustDomain::new(),
            unverified_requests: UnverifiedRequests::Refuse,
            subscription_expires: 3600,
            session_timer: Some(dialog::SessionTimerConfig::default()),
            chunk_size: 2048,
            seed: crate::rng::Seed::default(),
            invitation_timeout: Duration::from_secs(120),
            limits: Limits::default(),
        }
    }
}
