//! The configuration of the switch and of each of its legs.

use std::time::Duration;

use crate::msrp::session::incoming::UriKey;
use crate::msrp::session::RESPONSE_TIMEOUT;
use crate::msrp::{self, MsrpUri};

/// The handle of a leg, chosen by the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LegId(pub u64);

/// One participant's MSRP connection as seen by the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegConfig {
    /// The switch's own MSRP URI on this leg (its `a=path` towards the
    /// participant).
    pub local_uri: String,
    /// The participant's `a=path`, its own URI last.
    pub remote_path: Vec<String>,
    /// The participant's identity (a URI, e.g. `sip:alice@example.com`),
    /// written in the CPIM `From` of every message relayed from this leg.
    pub identity: String,
    /// When the participant asked for anonymity: the URI written in the
    /// CPIM `From` instead of [`identity`](Self::identity).
    pub anonymous_identity: Option<String>,
    /// Whether the switch opens this leg's connection (then it sends the
    /// binding SEND on [`LegInput::Connected`](super::LegInput::Connected)).
    pub active: bool,
    /// Most bytes queued for this leg; beyond it the leg is congested (see
    /// the [module docs](super)).
    pub max_queued_bytes: usize,
}

impl LegConfig {
    /// A passive leg with a 1 MiB queue and no anonymity.
    pub fn new(local_uri: &str, remote_uri: &str, identity: &str) -> Self {
        Self {
            local_uri: local_uri.to_owned(),
            remote_path: vec![remote_uri.to_owned()],
            identity: identity.to_owned(),
            anonymous_identity: None,
            active: false,
            max_queued_bytes: 1024 * 1024,
        }
    }

    /// The URI written in the CPIM `From` of messages from this leg.
    pub fn from_identity(&self) -> &str {
        self.anonymous_identity.as_deref().unwrap_or(&self.identity)
    }

    /// Checks the URIs and identities; the keys of the local URI and of the
    /// participant's own URI (the last of its path), each URI parsed once.
    pub(crate) fn validate(&self) -> Result<(UriKey, UriKey), JoinError> {
        let key = |uri: &str| UriKey::parse(uri).map_err(|_| JoinError::InvalidUri);
        let local = key(&self.local_uri)?;
        let Some((own, path)) = self.remote_path.split_last() else {
            return Err(JoinError::InvalidUri);
        };
        for uri in path {
            MsrpUri::parse(uri).map_err(|_| JoinError::InvalidUri)?;
        }
        let remote = key(own)?;
        let uri_ok = |s: &str| {
            !s.is_empty()
                && !s
                    .bytes()
                    .any(|b| b.is_ascii_control() || b"<> ".contains(&b))
        };
        if !uri_ok(&self.identity) || !self.anonymous_identity.as_deref().is_none_or(uri_ok) {
            return Err(JoinError::InvalidIdentity);
        }
        Ok((local, remote))
    }
}

/// Why [`MsrpSwitch::join`](super::MsrpSwitch::join) refused a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinError {
    /// A leg with this id is already there.
    DuplicateLeg,
    /// [`SwitchLimits::max_legs`] legs are already there.
    TooManyLegs,
    /// The local URI or a remote path URI is not an MSRP URI, or the path is
    /// empty.
    InvalidUri,
    /// An identity is empty or holds a control character, a space, `<` or
    /// `>`.
    InvalidIdentity,
}

impl std::fmt::Display for JoinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MSRP switch: leg refused: {self:?}")
    }
}

impl std::error::Error for JoinError {}

/// Bounds of the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchLimits {
    /// Bounds of the MSRP codec on every leg (header size, chunk size).
    pub msrp: msrp::Limits,
    /// Most legs at once.
    pub max_legs: usize,
    /// Most messages one leg may have in the middle of being relayed
    /// (first chunk seen, last not yet); beyond it the leg's new messages
    /// get 413.
    pub max_relayed_messages_per_leg: usize,
    /// Most relayed transactions awaiting a response from one leg; beyond
    /// it the leg counts as congested.
    pub max_pending_per_leg: usize,
    /// Most bytes the switch holds for its legs, all legs together: the
    /// chunks being read (their buffers' capacity), the transmits queued
    /// for the legs, and [`PENDING_COST`](super::PENDING_COST) bytes per
    /// relayed transaction awaiting its response. A leg whose chunk does not
    /// fit gets 413 for it and is torn down
    /// ([`SwitchEvent::BufferExceeded`](super::SwitchEvent::BufferExceeded));
    /// a relayed chunk that does not fit is dropped for the leg it was for,
    /// as when that leg's queue is full. An owner that shares one budget
    /// between several switches lowers it further for each input
    /// ([`MsrpSwitch::set_buffer_allowance`](super::MsrpSwitch::set_buffer_allowance)).
    pub max_buffered_bytes: usize,
    /// Bounds of the `message/cpim` header block of a first chunk, read to
    /// route a disposition notification to its `To`.
    pub mime: crate::body::mime::MimeLimits,
}

impl Default for SwitchLimits {
    /// The codec's defaults, 256 legs, 8 relayed messages and 64 pending
    /// transactions per leg, 16 MiB buffered.
    fn default() -> Self {
        Self {
            msrp: msrp::Limits::default(),
            max_legs: 256,
            max_relayed_messages_per_leg: 8,
            max_pending_per_leg: 64,
            max_buffered_bytes: 16 * 1024 * 1024,
            mime: crate::body::mime::MimeLimits::default(),
        }
    }
}

/// The switch's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchConfig {
    /// Bounds.
    pub limits: SwitchLimits,
    /// How long a relayed transaction may wait for its response.
    pub response_timeout: Duration,
    /// Seed of the generator of every transact-id and Message-ID (see
    /// [`crate::rng`]).
    pub rng_seed: crate::rng::Seed,
}

impl Default for SwitchConfig {
    /// Default limits, the 30 s response timeout, seed 0.
    fn default() -> Self {
        Self {
            limits: SwitchLimits::default(),
            response_timeout: RESPONSE_TIMEOUT,
            rng_seed: crate::rng::Seed::from_u64(0),
        }
    }
}
