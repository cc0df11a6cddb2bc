//! The state the client keeps per IM session.

use std::time::Instant;

use crate::body::conference_info::ConferenceInfo;
use crate::dialog::{ClientTxId, DialogId, ServerTxId};
use crate::im::ImSessionIdentity;
use crate::msrp::session::MsrpSession;

use super::InvitationKind;

/// How a session came to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// 7.1.1.2.
    OneToOne,
    /// 7.1.1.3, and the extension of a 1-1 session (clause notes §3).
    AdHoc,
    /// 7.1.1.4.
    PreDefined,
    /// 7.1.1.9.
    Rejoin,
    /// 7.1.1.10.
    PublicConference,
    /// 9.1.x: this client sends one Large Message.
    LargeMessage,
    /// Received invitation.
    Invited(InvitationKind),
}

/// Where the session's INVITE stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Our INVITE is out, no final response yet.
    Inviting,
    /// An INVITE arrived; the user has not answered.
    Invited,
    /// 2xx sent or received.
    Established,
    /// BYE sent.
    Ending,
}

/// The RFC 4028 session timer of an established session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionTimer {
    /// The session interval, seconds.
    pub interval: u32,
    /// Whether this client refreshes (else it supervises expiry).
    pub refresher: bool,
    /// When to refresh, or when the session expires.
    pub at: Instant,
}

/// A conference-state subscription (7.1.1.11).
#[derive(Debug)]
pub(crate) struct Subscription {
    /// The SUBSCRIBE transaction awaiting its answer.
    pub pending: Option<ClientTxId>,
    /// The subscription's dialog, once the 2xx came.
    pub dialog: Option<DialogId>,
    /// The conference state as last notified.
    pub roster: Option<ConferenceInfo>,
    /// When to refresh.
    pub refresh_at: Option<Instant>,
}

/// One IM session.
#[derive(Debug)]
pub(crate) struct Session {
    pub origin: Origin,
    pub state: State,
    /// The peer's address: the Request-URI we invited, or the originator.
    pub peer: String,
    /// Our INVITE (UAC).
    pub invite: Option<ClientTxId>,
    /// The received INVITE (UAS), until answered.
    pub incoming: Option<ServerTxId>,
    /// Call-ID and From tag of the received INVITE (UAS).
    pub incoming_key: Option<(String, String)>,
    pub dialog: Option<DialogId>,
    /// Our SDP: the offer (UAC) or the answer to send (UAS).
    pub local_sdp: Vec<u8>,
    /// The peer's SDP offer (UAS).
    pub remote_offer: Vec<u8>,
    /// The Session-Expires of the received INVITE (UAS), echoed in the 2xx.
    pub offered_expires: Option<u32>,
    /// The peer's supported methods, from its Allow header.
    pub peer_allow: Vec<String>,
    pub identity: Option<ImSessionIdentity>,
    pub timer: Option<SessionTimer>,
    pub msrp: Option<MsrpSession>,
    /// The Large Message to send once the session is up.
    pub large_message: Option<(String, Vec<u8>)>,
    pub subscription: Option<Subscription>,
}

impl Session {
    pub(crate) fn new(origin: Origin, state: State, peer: String) -> Self {
        Session {
            origin,
            state,
            peer,
            invite: None,
            incoming: None,
            incoming_key: None,
            dialog: None,
            local_sdp: Vec::new(),
            remote_offer: Vec::new(),
            offered_expires: None,
            peer_allow: Vec::new(),
            identity: None,
            timer: None,
            msrp: None,
            large_message: None,
            subscription: None,
        }
    }

    /// Whether this client sent the INVITE.
    pub(crate) fn is_uac(&self) -> bool {
        !matches!(self.origin, Origin::Invited(_))
    }
}
