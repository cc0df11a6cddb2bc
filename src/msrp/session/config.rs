//! What an [`MsrpSession`](super::MsrpSession) is built from: the negotiated
//! session parameters and the local configuration.

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

use crate::msrp::{self, MsrpError, MsrpUri, Scheme};
use crate::sdp::offer_answer::NegotiatedSession;
use crate::sdp::AcceptTypes;

/// The response timeout of RFC 4975 §7.1.1: a transaction with no response
/// within 30 seconds has failed (408 semantics).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Bounds on everything a session holds for its peer or its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Bounds of the MSRP codec: header size, chunk size, whole message size
    /// (over it the session answers 413), partially received messages.
    pub msrp: msrp::Limits,
    /// Most bytes waiting to leave: messages queued before the connection is
    /// bound plus transmits not yet taken with
    /// [`poll_output`](super::MsrpSession::poll_output). A send that would go
    /// over it is refused with [`SendErrorKind::WouldBlock`](super::SendErrorKind::WouldBlock).
    pub max_queued_bytes: usize,
    /// Most outgoing transactions awaiting their response (one per chunk).
    pub max_pending_transactions: usize,
    /// Most outgoing messages not yet fully acknowledged or failed.
    pub max_outgoing_messages: usize,
    /// Bounds of the `message/cpim` wrapper of a received message (its
    /// header fields).
    pub mime: crate::body::mime::MimeLimits,
}

impl Default for SessionLimits {
    /// The codec's default limits, 4 MiB of queued bytes, 1024 pending
    /// transactions, 64 outgoing messages.
    fn default() -> Self {
        Self {
            msrp: msrp::Limits::default(),
            max_queued_bytes: 4 * 1024 * 1024,
            max_pending_transactions: 1024,
            max_outgoing_messages: 64,
            mime: crate::body::mime::MimeLimits::default(),
        }
    }
}

/// The CPIM (RFC 3862) identities used to wrap outgoing content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpimIdentities {
    /// The CPIM `From` URI (the local user, e.g. `sip:alice@example.com`).
    pub from: String,
    /// The CPIM `To` URI (the peer or the conference).
    pub to: String,
}

/// The local configuration of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Largest body of one outgoing SEND chunk.
    pub chunk_size: NonZeroUsize,
    /// How long an outgoing transaction may wait for its response
    /// ([`RESPONSE_TIMEOUT`] by default).
    pub response_timeout: Duration,
    /// Bounds.
    pub limits: SessionLimits,
    /// Seed of the generator every transact-id and Message-ID comes from
    /// (see [`crate::rng`]).
    pub rng_seed: crate::rng::Seed,
    /// When set, outgoing content is wrapped in `message/cpim` with these
    /// identities, provided the peer accepts `message/cpim`.
    pub cpim: Option<CpimIdentities>,
}

impl Default for SessionConfig {
    /// 2048-byte chunks, 30 s response timeout, default limits, seed 0, no
    /// CPIM wrapping.
    fn default() -> Self {
        Self {
            chunk_size: NonZeroUsize::new(2048).unwrap_or(NonZeroUsize::MIN),
            response_timeout: RESPONSE_TIMEOUT,
            limits: SessionLimits::default(),
            rng_seed: crate::rng::Seed::from_u64(0),
            cpim: None,
        }
    }
}

/// The MSRP parameters of a session (what an SDP offer/answer settled),
/// owned. Build it from a [`NegotiatedSession`] with
/// [`SessionParams::from_negotiated`] or field by field in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParams {
    /// The local `a=path`, the local MSRP URI last.
    pub local_path: Vec<String>,
    /// The remote `a=path`: the URIs to send through, the peer's URI last.
    pub remote_path: Vec<String>,
    /// What the local end accepts.
    pub local_accept_types: AcceptTypes<'static>,
    /// What may be sent to the peer.
    pub remote_accept_types: AcceptTypes<'static>,
    /// What the local end accepts inside a wrapper, if announced.
    pub local_accept_wrapped_types: Option<AcceptTypes<'static>>,
    /// What may be sent to the peer inside a wrapper, if announced.
    pub remote_accept_wrapped_types: Option<AcceptTypes<'static>>,
    /// The largest message the local end accepts, if limited.
    pub local_max_size: Option<u64>,
    /// The largest message the peer accepts, if limited.
    pub remote_max_size: Option<u64>,
    /// Whether the local end opens the TCP connection (`a=setup:active`).
    pub active: bool,
    /// Whether the connection uses TLS (`TCP/TLS/MSRP`, `msrps` URIs).
    pub tls: bool,
}

impl SessionParams {
    /// Parameters with the given paths, `*` accepted both ways, no wrapped
    /// types, no size limits, plain TCP.
    pub fn new(local_uri: &str, remote_uri: &str, active: bool) -> Self {
        Self {
            local_path: vec![local_uri.to_owned()],
            remote_path: vec![remote_uri.to_owned()],
            local_accept_types: AcceptTypes::from_iter(["*"]),
            remote_accept_types: AcceptTypes::from_iter(["*"]),
            local_accept_wrapped_types: None,
            remote_accept_wrapped_types: None,
            local_max_size: None,
            remote_max_size: None,
            active,
            tls: false,
        }
    }

    /// The owned parameters of a negotiated session.
    pub fn from_negotiated(negotiated: &NegotiatedSession<'_>) -> Self {
        let own = |path: &[Cow<'_, str>]| path.iter().map(|u| u.to_string()).collect();
        Self {
            local_path: own(&negotiated.local_path),
            remote_path: own(&negotiated.remote_path),
            local_accept_types: negotiated.local_accept_types.clone().into_owned(),
            remote_accept_types: negotiated.remote_accept_types.clone().into_owned(),
            local_accept_wrapped_types: negotiated
                .local_accept_wrapped_types
                .clone()
                .map(AcceptTypes::into_owned),
            remote_accept_wrapped_types: negotiated
                .remote_accept_wrapped_types
                .clone()
                .map(AcceptTypes::into_owned),
            local_max_size: negotiated.local_max_size,
            remote_max_size: negotiated.remote_max_size,
            active: negotiated.is_active(),
            tls: negotiated.tls,
        }
    }

    /// Checks that both paths are non-empty lists of MSRP URIs whose
    /// schemes agree with [`tls`](Self::tls).
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (which, path) in [
            (PathSide::Local, &self.local_path),
            (PathSide::Remote, &self.remote_path),
        ] {
            if path.is_empty() {
                return Err(ConfigError::EmptyPath(which));
            }
            for uri in path {
                let parsed = MsrpUri::parse(uri)
                    .map_err(|error| ConfigError::InvalidUri { which, error })?;
                if (parsed.scheme == Scheme::Msrps) != self.tls {
                    return Err(ConfigError::SchemeMismatch(which));
                }
            }
        }
        Ok(())
    }
}

/// Which path of [`SessionParams`] a [`ConfigError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSide {
    /// [`SessionParams::local_path`].
    Local,
    /// [`SessionParams::remote_path`].
    Remote,
}

/// Why a session could not be built from its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A path has no URI.
    EmptyPath(PathSide),
    /// A path holds a string that is not an MSRP URI.
    InvalidUri {
        /// Which path.
        which: PathSide,
        /// What the URI parser found.
        error: MsrpError,
    },
    /// A URI's scheme is `msrps` without TLS, or `msrp` with it.
    SchemeMismatch(PathSide),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::EmptyPath(which) => write!(f, "MSRP session: empty {which:?} path"),
            ConfigError::InvalidUri { which, error } => {
                write!(f, "MSRP session: {which:?} path: {error}")
            }
            ConfigError::SchemeMismatch(which) => {
                write!(f, "MSRP session: {which:?} path scheme does not match TLS")
            }
        }
    }
}

impl std::error::Error for ConfigError {}
