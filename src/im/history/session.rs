//! The state the History Function keeps per session.

use std::time::Instant;

use crate::dialog::{ClientTxId, DialogId, ServerTxId, SubscriptionId};
use crate::im::ConnectionId;
use crate::msrp::session::MsrpSession;

use super::{EndReason, RecordingInfo};

/// One retrieval or recording session.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) kind: Kind,
    /// The MSRP endpoint, once the SDP exchange is done.
    pub(super) msrp: Option<MsrpSession>,
    /// The accepted connection that carries the MSRP (passive end).
    pub(super) connection: Option<ConnectionId>,
    /// The INVITE dialog.
    pub(super) dialog: Option<DialogId>,
    /// Set when the History Function sent BYE: why, reported when it completes.
    pub(super) ending: Option<EndReason>,
}

/// Which direction the session works in.
#[derive(Debug)]
pub(super) enum Kind {
    /// 13.2.1.1: the History Function delivers stored history.
    Retrieval(Retrieval),
    /// 13.3.1.2: the History Function records an IM Session.
    Recording(Recording),
}

/// Where a retrieval is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RetrievalState {
    /// The application decides whether the requester may read.
    Authorizing,
    /// 200 OK sent; items are looked up and delivered.
    Delivering,
    /// Every item is done; BYE goes once the ACK has arrived.
    Completing,
    /// BYE sent.
    Releasing,
}

/// One history reference of a retrieval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    /// Asked of the application.
    Pending,
    /// Answered: the `message/cpim` bytes, waiting for the items before it.
    Ready(Vec<u8>),
    /// Answered: no such item.
    Missing,
    /// Handed to MSRP under this Message-ID.
    Sending(String),
    /// Every chunk acknowledged.
    Delivered,
    /// The MSRP delivery failed.
    Failed,
}

/// A retrieval session (terminating side, 13.2.1.1).
#[derive(Debug)]
pub(super) struct Retrieval {
    pub(super) state: RetrievalState,
    pub(super) invite_tx: ServerTxId,
    pub(super) call_id: String,
    /// The SDP offer of the INVITE.
    pub(super) offer: Vec<u8>,
    pub(super) references: Vec<String>,
    pub(super) items: Vec<Item>,
    /// The first item not yet handed to MSRP.
    pub(super) next: usize,
    pub(super) acked: bool,
}

impl Retrieval {
    /// Whether every item is delivered, missing or failed.
    pub(super) fn is_done(&self) -> bool {
        self.items
            .iter()
            .all(|i| matches!(i, Item::Delivered | Item::Missing | Item::Failed))
    }

    /// Counts of delivered, missing and failed items.
    pub(super) fn tally(&self) -> (usize, usize, usize) {
        let count = |f: fn(&Item) -> bool| self.items.iter().filter(|i| f(i)).count();
        (
            count(|i| *i == Item::Delivered),
            count(|i| *i == Item::Missing),
            count(|i| *i == Item::Failed),
        )
    }
}

/// Where a recording is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecordingState {
    /// A REFER asked for it; the application decides.
    Requested,
    /// The INVITE is out.
    Inviting,
    /// 200 OK received: messages are recorded.
    Recording,
}

/// A recording session (originating side, 13.3.1.2).
#[derive(Debug)]
pub(super) struct Recording {
    pub(super) state: RecordingState,
    /// The REFER that asked for it, until answered.
    pub(super) refer_tx: Option<ServerTxId>,
    /// The Call-ID of that REFER.
    pub(super) refer_call_id: String,
    /// The dialog the 202 to the REFER created (for its NOTIFY).
    pub(super) refer_dialog: Option<DialogId>,
    /// The IM Session Identity the INVITE goes to.
    pub(super) target: String,
    /// The SIP URI of the initiator (the From of the INVITE).
    pub(super) initiator: String,
    pub(super) invite_tx: Option<ClientTxId>,
    /// While the INVITE has no final response: when it is CANCELled
    /// ([`HistoryConfig::invitation_timeout`](super::HistoryConfig::invitation_timeout)).
    pub(super) invite_deadline: Option<Instant>,
    /// The SDP offer of the INVITE.
    pub(super) offer: Vec<u8>,
    /// What the 200 OK carried.
    pub(super) info: Option<RecordingInfo>,
    /// The conference-state subscription (7.1.1.11), held by the user
    /// agent: it answers the NOTIFYs and refreshes before expiry.
    pub(super) subscription: Option<SubscriptionId>,
}
