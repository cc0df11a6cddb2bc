//! What goes into and comes out of an [`ImServer`](super::ImServer).

use std::net::SocketAddr;
use std::time::Instant;

use crate::dialog;
use crate::msrp::session::Authority;
use crate::transaction::{Transmit, Transport};

/// What the server holds against each counted budget of its
/// [memory budget](super::Limits#memory-budget), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryUse {
    /// The user agent's transactions, dialogs and INVITEs sent
    /// (`ua.max_held_bytes`).
    pub sip: usize,
    /// The sessions, their Participants, subscribers and switch legs
    /// (`max_session_bytes`).
    pub sessions: usize,
    /// The MSRP switches' buffers (`max_msrp_buffered_bytes`).
    pub msrp: usize,
}

/// Identifies an IM Session hosted by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub(crate) u64);

impl crate::slab::SlabKey for SessionId {
    fn from_raw(raw: u64) -> Self {
        SessionId(raw)
    }
    fn raw(self) -> u64 {
        self.0
    }
}

/// Identifies a Participant inside its IM Session (also the id of its leg
/// on the session's MSRP switch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub(crate) u64);

/// Identifies an MSRP connection (TCP) between the server and a
/// Participant. The server names the connections it opens
/// ([`Output::MsrpConnect`]); the application gets a name for each one it
/// accepts from [`ImServer::msrp_accepted`](super::ImServer::msrp_accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// Identifies an authorization question ([`Event::AuthorizationRequested`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthorizationId(pub(crate) u64);

/// An input to [`ImServer::handle_input`](super::ImServer::handle_input).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// One complete SIP message received (a UDP datagram, or a message cut
    /// out of a TCP stream).
    Sip {
        /// The message.
        bytes: &'a [u8],
        /// Who sent it.
        source: SocketAddr,
        /// How it came.
        transport: Transport,
    },
    /// An MSRP connection is up: one the server asked for with
    /// [`Output::MsrpConnect`], or one the application accepted.
    MsrpConnected {
        /// The connection.
        connection: ConnectionId,
    },
    /// Bytes read from an MSRP connection, split anywhere.
    MsrpBytes {
        /// The connection.
        connection: ConnectionId,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// An MSRP connection closed (or could not be opened).
    MsrpClosed {
        /// The connection.
        connection: ConnectionId,
    },
    /// The application's answer to [`Event::AuthorizationRequested`]
    /// (7.2.1.2 step 2).
    Authorization {
        /// The question answered.
        request: AuthorizationId,
        /// Whether the Authenticated Originator may set up the session.
        allowed: bool,
    },
}

/// What [`ImServer::poll_output`](super::ImServer::poll_output) hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A SIP message for the wire.
    Transmit(Transmit),
    /// Open a TCP connection to `address` for MSRP, then report
    /// [`Input::MsrpConnected`] (or [`Input::MsrpClosed`] on failure).
    MsrpConnect {
        /// The name of the connection.
        connection: ConnectionId,
        /// Host and port of the Participant's MSRP URI: the same
        /// [`Authority`] the client and the History Function name
        /// (formerly a `String`; `address.to_string()` gives
        /// the same `host:port`, with the default port 2855 written out).
        address: Authority,
    },
    /// Bytes to write on an MSRP connection.
    MsrpTransmit {
        /// The connection.
        connection: ConnectionId,
        /// One or more complete MSRP messages.
        bytes: Vec<u8>,
    },
    /// Close an MSRP connection: its Participant left.
    MsrpClose {
        /// The connection.
        connection: ConnectionId,
    },
    /// Something the application must know or decide.
    Event(Event),
}

/// Why a Participant left an IM Session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaveReason {
    /// It sent BYE.
    Departed,
    /// The server removed it (7.2.1.9): no invitee joined, or the session
    /// ended.
    Removed,
    /// It did not refresh the session in time (RFC 4028): released with BYE.
    SessionExpired,
    /// Its dialog failed (a timeout, a transport error, 481).
    Failed,
    /// Its MSRP leg is dead: the connection closed or was reset, a
    /// transaction on it went unanswered (RFC 4975 §7.1), or it sent what
    /// is not MSRP. Released with BYE when its dialog is still up.
    ConnectionLost,
    /// The same user joined again (a rejoin after losing connectivity):
    /// the new leg replaces this one, whose dialog is ended with BYE.
    Replaced,
    /// It sent more over MSRP than the server's buffer budget allows
    /// (`Limits::max_msrp_buffered_bytes` for the whole server, or the
    /// session's switch's `max_buffered_bytes`): its chunk was answered
    /// 413 (RFC 4975 §7.2) and it is released with BYE.
    BufferExceeded,
}

/// Why an invitation of the server did not end in a Participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvitationFailure {
    /// The invitee answered with this final status (3xx to 6xx; no
    /// redirect is followed), or it could not be reached: 408 when its
    /// INVITE timed out, 503 on a transport failure or without a route.
    Status(u16),
    /// It did not answer within
    /// [`ServerConfig::invitation_timeout`](super::ServerConfig::invitation_timeout):
    /// the INVITE was CANCELled (RFC 3261 §9.1).
    NoAnswer,
    /// The invitation was no longer needed (the session ended, or nobody
    /// was left in it under the release policy): CANCELled.
    Cancelled,
}

/// Why an IM Session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The setup was refused with this status (403, 404, 486, 488, or the
    /// final response chosen when every invitee failed).
    Rejected(u16),
    /// The inviter cancelled its INVITE.
    Cancelled,
    /// The last Participant left.
    Empty,
    /// The single message of a Large Message session was relayed.
    LargeMessageDelivered,
}

/// Something the application must know or decide.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// 7.2.1.2 step 2: may `originator` set up a session at `target`, or
    /// join the one running there? Asked under
    /// [`AuthorizationPolicy::Ask`](super::AuthorizationPolicy::Ask) for
    /// every set-up and every join (the access rules of the
    /// [`AccessPolicy`](super::AccessPolicy) already passed). Answer with
    /// [`Input::Authorization`].
    AuthorizationRequested {
        /// The question.
        request: AuthorizationId,
        /// The Authenticated Originator's IM Address.
        originator: String,
        /// `true` when `originator` is a `P-Asserted-Identity` from the
        /// trust domain ([`ServerConfig::trust`](super::ServerConfig::trust));
        /// `false` when it is the `From` the sender wrote (RFC 3325).
        verified: bool,
        /// The Request-URI (Conference-factory-URI, IM Group Identity,
        /// public conference URI or IM Session Identity).
        target: String,
    },
    /// An IM Session was created with its IM Session Identity (RFC 4579).
    SessionCreated {
        /// The session.
        session: SessionId,
        /// The IM Session Identity (the focus URI).
        identity: String,
    },
    /// A Participant joined (its dialog is confirmed). A recording leg
    /// (an `a=recvonly` join admitted by the
    /// [`RecordingPolicy`](super::RecordingPolicy), 13.3.1.2) is reported
    /// too, with the address its INVITE asserted; it is left out of the
    /// conference state.
    ParticipantJoined {
        /// The session.
        session: SessionId,
        /// The Participant.
        participant: ParticipantId,
        /// Its IM Address.
        address: String,
        /// `true` when `address` is vouched for: a `P-Asserted-Identity`
        /// from the trust domain, or the address the server itself invited;
        /// `false` when it is the `From` the joiner wrote (RFC 3325).
        verified: bool,
    },
    /// A Participant left.
    ParticipantLeft {
        /// The session.
        session: SessionId,
        /// The Participant.
        participant: ParticipantId,
        /// Why.
        reason: LeaveReason,
    },
    /// An invitation of the server failed: the invitee is listed as
    /// `disconnected` in the roster, with the reason.
    InvitationFailed {
        /// The session.
        session: SessionId,
        /// The invitee.
        participant: ParticipantId,
        /// Its IM Address.
        address: String,
        /// Why.
        reason: InvitationFailure,
    },
    /// A message from one Participant was delivered: its last chunk went
    /// to the others and each of them answered every chunk.
    MessageRelayed {
        /// The session.
        session: SessionId,
        /// The sender.
        from: ParticipantId,
        /// How many Participants acknowledged all of it (MSRP 200 to every
        /// chunk); those that failed or did not answer are not counted.
        recipients: usize,
    },
    /// A Pager Mode MESSAGE was fanned out (RFC 5365) and answered 202.
    PagerMessageRelayed {
        /// The sender (the Authenticated Originator's IM Address, or the
        /// unverified From).
        originator: String,
        /// Whether `originator` was asserted by a trusted peer.
        verified: bool,
        /// How many MESSAGEs went out, one per recipient.
        recipients: usize,
    },
    /// An IM Session ended; its state is gone.
    SessionEnded {
        /// The session.
        session: SessionId,
        /// Why.
        reason: EndReason,
    },
}

/// Why a deadline of the server exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadlineReason {
    /// A timer of the SIP user agent (transaction timers, 2xx
    /// retransmission).
    Sip(dialog::DeadlineReason),
    /// The session supervision of RFC 4028 (7.2.1.1): the Participant must
    /// refresh before then, else it is released with BYE.
    SessionRefresh {
        /// The session.
        session: SessionId,
        /// The Participant.
        participant: ParticipantId,
    },
    /// The expiry of a subscription to the session's conference event
    /// package.
    Subscription {
        /// The session.
        session: SessionId,
    },
    /// An invitee that has not answered is CANCELled then
    /// ([`ServerConfig::invitation_timeout`](super::ServerConfig::invitation_timeout)).
    InvitationTimeout {
        /// The session.
        session: SessionId,
        /// The invitee.
        participant: ParticipantId,
    },
    /// A Participant whose MSRP connection closed is removed then, unless
    /// it sent BYE
    /// ([`ServerConfig::connection_loss_grace`](super::ServerConfig::connection_loss_grace)).
    ConnectionLost {
        /// The session.
        session: SessionId,
        /// The Participant.
        participant: ParticipantId,
    },
    /// A response timeout of the session's MSRP switch.
    MsrpSwitch {
        /// The session.
        session: SessionId,
    },
    /// An accepted MSRP connection that has not named a leg the server
    /// can bind it to is closed then
    /// ([`Limits::unbound_msrp_timeout`](super::Limits::unbound_msrp_timeout)).
    UnboundMsrp {
        /// The connection.
        connection: ConnectionId,
    },
}

/// A deadline and why it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// When.
    pub at: Instant,
    /// Why.
    pub reason: DeadlineReason,
}
