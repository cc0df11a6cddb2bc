//! The state the client keeps per IM session.

use crate::body::conference_info::ConferenceInfo;
use crate::dialog::{ClientTxId, DialogId, ServerTxId, SubscriptionId};
use crate::im::ImSessionIdentity;
use crate::msrp::session::MsrpSession;

pub(crate) use super::SessionKind as Origin;
pub(crate) use super::SessionState as State;

/// A recording request: a REFER to the IM History Function (13.3.1.2)
/// and its implicit subscription (RFC 3515).
#[derive(Debug)]
pub(crate) struct RecordingRequest {
    /// The REFER, until its final response.
    pub refer: Option<ClientTxId>,
    /// The subscription dialog the `202` created.
    pub dialog: Option<DialogId>,
    /// When it is forgotten without a terminating NOTIFY.
    pub guard: Option<std::time::Instant>,
    /// A terminating NOTIFY overtook the REFER's final response: the
    /// request ends with that response.
    pub terminated: bool,
}

/// A conference-state subscription (7.1.1.11), held by the user agent.
#[derive(Debug)]
pub(crate) struct Subscription {
    /// The user agent's subscription.
    pub id: SubscriptionId,
    /// The conference state as last notified.
    pub roster: Option<ConferenceInfo>,
}

/// A REFER asking the focus to add or remove a user (RFC 4579 §5.5, §5.6),
/// until its last NOTIFY.
#[derive(Debug, Clone)]
pub(crate) struct Referral {
    /// The REFER's CSeq number: the `id` of its NOTIFYs' `Event: refer`.
    pub id: u32,
    /// The user to add or remove.
    pub user: String,
    /// `method=BYE`: a removal.
    pub remove: bool,
    /// The REFER, until its final response.
    pub refer: Option<crate::dialog::ClientTxId>,
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
    /// The peer's supported methods, from its Allow header.
    pub peer_allow: Vec<String>,
    pub identity: Option<ImSessionIdentity>,
    pub msrp: Option<MsrpSession>,
    /// The Large Message to send once the session is up.
    pub large_message: Option<(String, Vec<u8>)>,
    /// The CPIM `To` of a Large Message: the URI its INVITE went to (the
    /// recipient, or the Conference-factory-URI or exploder of a group),
    /// fixed with the offer so that `a=max-size` is the size sent.
    pub large_message_to: Option<String>,
    pub subscription: Option<Subscription>,
    /// The user left before the INVITE was answered (CANCEL sent): a 2xx
    /// that crosses the CANCEL is ended with BYE.
    pub cancelled: bool,
    /// This side's media is `a=recvonly` (a history retrieval, a received
    /// Large Message): nothing may be sent on it.
    pub receive_only: bool,
    /// The accepted connection that carries the MSRP (passive end, bound by
    /// the client from its first To-Path).
    pub connection: Option<crate::im::ConnectionId>,
    /// REFERs to the focus waiting for their outcome.
    pub referrals: Vec<Referral>,
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
            peer_allow: Vec::new(),
            identity: None,
            msrp: None,
            large_message: None,
            large_message_to: None,
            subscription: None,
            cancelled: false,
            receive_only: false,
            connection: None,
            referrals: Vec::new(),
        }
    }

    /// Whether this client sent the INVITE.
    pub(crate) fn is_uac(&self) -> bool {
        !matches!(self.origin, Origin::Invited(_))
    }
}
