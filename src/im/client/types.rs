//! What goes into and comes out of an [`ImClient`](super::ImClient).

use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

use crate::dialog;
use crate::im::{ConnectionId, ImSessionIdentity};
use crate::msrp::session::{Authority, DeliveryFailure};
use crate::transaction::Transport;

/// Identifies an IM session of the client (one SIP dialog and its MSRP
/// session), originated or received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImSessionId(pub(crate) u64);

/// Identifies a request to the IM History Function to record an IM
/// Session (a REFER, 13.3.1.2), made with
/// [`request_recording`](super::ImClient::request_recording).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordingRequestId(pub(crate) u64);

/// Input from the network: SIP messages and the MSRP connections of the
/// sessions, keyed by IM session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// One SIP message (a datagram, or a message framed out of a stream).
    Sip {
        /// The message.
        bytes: &'a [u8],
        /// Who sent it.
        source: SocketAddr,
        /// How it came.
        transport: Transport,
    },
    /// The MSRP connection of `session` is up: the one the client asked to
    /// open ([`Output::MsrpConnect`]), or the one the peer opened to the
    /// local MSRP address for this session (passive end).
    MsrpConnected {
        /// The session.
        session: ImSessionId,
    },
    /// Bytes read from the MSRP connection of `session`, split anywhere.
    MsrpBytes {
        /// The session.
        session: ImSessionId,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// The MSRP connection of `session` closed.
    MsrpClosed {
        /// The session.
        session: ImSessionId,
    },
    /// Bytes read from a connection the application accepted on
    /// [`ClientConfig::msrp_addr`](super::ClientConfig::msrp_addr) and named
    /// with [`ImClient::msrp_accepted_at`](super::ImClient::msrp_accepted_at),
    /// split anywhere. The client finds the session from the first
    /// `To-Path` and says so with [`Output::MsrpAccepted`].
    MsrpAcceptedBytes {
        /// The connection.
        connection: ConnectionId,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// An accepted connection closed.
    MsrpAcceptedClosed {
        /// The connection.
        connection: ConnectionId,
    },
}

/// What the client hands out: drain with
/// [`poll_output`](super::ImClient::poll_output) until `None`.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// SIP bytes for the wire.
    Transmit(crate::transaction::Transmit),
    /// Open a TCP connection to `destination` for the MSRP of `session`
    /// (the local end is the active one, RFC 4145 / 5.8.1); report it with
    /// [`Input::MsrpConnected`].
    MsrpConnect {
        /// The session.
        session: ImSessionId,
        /// Host and port of the first To-Path URI.
        destination: Authority,
    },
    /// MSRP bytes to write on the connection of `session`.
    MsrpTransmit {
        /// The session.
        session: ImSessionId,
        /// The bytes, complete MSRP messages in order.
        data: Vec<u8>,
    },
    /// Close the MSRP connection of `session`.
    MsrpClose {
        /// The session.
        session: ImSessionId,
    },
    /// The accepted `connection` carries the MSRP of `session` (its first
    /// `To-Path` named the session's local URI): from now on, write the
    /// session's [`Output::MsrpTransmit`] on it and close it on
    /// [`Output::MsrpClose`].
    MsrpAccepted {
        /// The connection.
        connection: ConnectionId,
        /// The session it carries.
        session: ImSessionId,
    },
    /// Bytes to write on an accepted connection that carries no session:
    /// the `506` of RFC 4975 §5.4 to a second connection for a session
    /// already carried by another one.
    MsrpConnectionTransmit {
        /// The connection.
        connection: ConnectionId,
        /// Complete MSRP messages.
        data: Vec<u8>,
    },
    /// Close an accepted connection that carries no session: it named no
    /// session of this client, sent more than
    /// [`Limits::max_unbound_msrp_bytes`](super::Limits::max_unbound_msrp_bytes)
    /// without naming one, or stayed unbound for
    /// [`Limits::unbound_msrp_timeout`](super::Limits::unbound_msrp_timeout).
    MsrpConnectionClose {
        /// The connection.
        connection: ConnectionId,
    },
    /// Something the user or the application must know.
    Event(Event),
}

/// How a session came to be: [`ImClient::session_kind`](super::ImClient::session_kind).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionKind {
    /// A One-to-One IM session this client set up (7.1.1.2).
    OneToOne,
    /// An Ad-hoc IM Conference this client set up (7.1.1.3), or a 1-1
    /// session extended to one.
    AdHoc,
    /// A Pre-Defined IM Conference (7.1.1.4).
    PreDefined,
    /// A rejoin of a conference by its IM Session Identity (7.1.1.9).
    Rejoin,
    /// A Public Conference joined (7.1.1.10).
    PublicConference,
    /// This client sends one Large Message (9.1.x).
    LargeMessage,
    /// This client retrieves history from the IM History Function (13.2.1.1).
    HistoryRetrieval,
    /// An invitation this client received.
    Invited(InvitationKind),
}

/// Where a session's INVITE stands: [`ImClient::session_state`](super::ImClient::session_state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionState {
    /// This client's INVITE is out, no final response yet.
    Inviting,
    /// An INVITE arrived; the user has not answered.
    Invited,
    /// 2xx sent or received.
    Established,
    /// BYE sent.
    Ending,
}

/// What kind of invitation arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvitationKind {
    /// A One-to-One IM session from another client.
    OneToOne,
    /// A group session: the Contact carries `isfocus` (the inviter is a
    /// controlling IM Server); `referred_by` is the inviting user, from
    /// `Referred-By` (RFC 3892), when present.
    Group {
        /// The inviting user, if the server named one.
        referred_by: Option<String>,
    },
    /// A Large Message session (9.2.1): the offer is `a=sendonly`.
    LargeMessage {
        /// The size announced in the offer's `a=max-size`, if any: the
        /// size of the MSRP message that will arrive, the content wrapped
        /// in `message/cpim` (what [`ImClient::send_large_message`]
        /// announces).
        ///
        /// [`ImClient::send_large_message`]: super::ImClient::send_large_message
        size: Option<u64>,
    },
}

/// Why an IM session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The user left (BYE sent), or a Large Message was delivered.
    Local,
    /// The peer sent BYE.
    Remote,
    /// The INVITE got this final non-2xx status.
    Rejected(u16),
    /// The invitation was declined or rejected by this client.
    Declined(u16),
    /// The peer cancelled its invitation.
    Cancelled,
    /// A request timed out, or the session timer expired.
    Timeout,
}

/// Something the user or the application must know.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A provisional response (e.g. 180 Ringing) to an INVITE of `session`.
    Progress {
        /// The session.
        session: ImSessionId,
        /// The status code.
        status: u16,
    },
    /// The session is established (2xx sent or received).
    SessionEstablished {
        /// The session.
        session: ImSessionId,
        /// The IM Session Identity stored, if the peer's Contact had one.
        identity: Option<ImSessionIdentity>,
    },
    /// The session ended.
    SessionEnded {
        /// The session.
        session: ImSessionId,
        /// Why.
        reason: EndReason,
    },
    /// An invitation arrived: answer with
    /// [`accept`](super::ImClient::accept) or
    /// [`reject`](super::ImClient::reject).
    InvitationReceived {
        /// The session it would create.
        session: ImSessionId,
        /// The inviting party: the Authenticated Originator's IM Address
        /// (P-Asserted-Identity in IMS, else From).
        originator: String,
        /// One-to-one, group or Large Message.
        kind: InvitationKind,
        /// The IM Session Identity stored from the Contact.
        identity: Option<ImSessionIdentity>,
    },
    /// The ad-hoc URI list is longer than MAX-ADHOC-GROUP-SIZE: nothing
    /// was sent (7.1.1.3 step 4).
    AdHocGroupTooLarge {
        /// Invited IM Users asked for.
        invited: usize,
        /// MAX-ADHOC-GROUP-SIZE.
        max: usize,
    },
    /// Rejoin was asked for a session whose IM Session Identity is not
    /// stored (7.1.1.9 step 1): nothing was sent.
    RejoinImpossible {
        /// The session asked for.
        session: ImSessionId,
    },
    /// A message arrived on the MSRP session.
    MessageReceived {
        /// The session.
        session: ImSessionId,
        /// The sender: the CPIM `From`, or the session's peer.
        from: Option<String>,
        /// The CPIM `To` addresses (empty when the message is not wrapped
        /// in CPIM); for a history item, its original recipients.
        to: Vec<String>,
        /// The CPIM `DateTime`, if any; for a history item, when it was
        /// originally sent.
        date_time: Option<String>,
        /// The content type (inside CPIM when wrapped).
        content_type: String,
        /// The content.
        body: Vec<u8>,
    },
    /// A Pager Mode message (a SIP MESSAGE outside any session) arrived;
    /// it was answered 200.
    PagerMessageReceived {
        /// The sender: the CPIM `From`, else the SIP From.
        from: Option<String>,
        /// The CPIM `To` addresses (every recipient of a list message).
        to: Vec<String>,
        /// The CPIM `DateTime`, if any.
        date_time: Option<String>,
        /// The content type (inside CPIM when wrapped).
        content_type: String,
        /// The content.
        body: Vec<u8>,
    },
    /// The final answer to a Pager Mode message: 200 from the recipient,
    /// 202 from a server that fans a list message out (RFC 5365), an error
    /// status, or 408 when no answer came.
    PagerMessageAnswered {
        /// The message.
        message: super::PagerMessageId,
        /// The status code.
        status: u16,
    },
    /// Every chunk of a message was acknowledged.
    MessageSent {
        /// The session.
        session: ImSessionId,
        /// Its Message-ID.
        message_id: String,
    },
    /// A success REPORT arrived for a message (delivery report).
    MessageDelivered {
        /// The session.
        session: ImSessionId,
        /// Its Message-ID.
        message_id: String,
    },
    /// A message could not be delivered.
    DeliveryFailed {
        /// The session.
        session: ImSessionId,
        /// Its Message-ID.
        message_id: String,
        /// Why.
        cause: DeliveryFailure,
    },
    /// The peer of `session` sent more over MSRP than the client may hold
    /// for it (`Limits::max_msrp_buffered_bytes` for all sessions, or the
    /// session's `layers.msrp.max_buffered_bytes`): its chunk was answered
    /// 413 (RFC 4975 §7.2) and the client leaves the session (BYE; then
    /// [`Event::SessionEnded`]).
    BufferExceeded {
        /// The session.
        session: ImSessionId,
    },
    /// The participants of a conference changed (7.1.1.11): the full list
    /// after the NOTIFY, and who joined and left with it.
    ParticipantsChanged {
        /// The session.
        session: ImSessionId,
        /// Every connected participant.
        participants: Vec<String>,
        /// Who appeared.
        joined: Vec<String>,
        /// Who disappeared.
        left: Vec<String>,
    },
    /// A NOTIFY could not be applied (bad body, version gap).
    ConferenceStateError {
        /// The session.
        session: ImSessionId,
    },
    /// The final response to the REFER of a recording request (13.3.1.2):
    /// `202 Accepted`, or the error (408 when it timed out). An error ends
    /// the request.
    RecordingRequestAnswered {
        /// The request.
        request: RecordingRequestId,
        /// The status code.
        status: u16,
    },
    /// A NOTIFY of the REFER's implicit subscription (RFC 3515 §2.4.4): the
    /// status code of its `message/sipfrag` body — the outcome of the
    /// History Function's INVITE to the IM Session Identity — answered 200.
    /// `terminated` (`Subscription-State: terminated`) ends the request —
    /// when a NOTIFY overtakes the `202` (UDP), once the `202` is reported.
    RecordingRequestNotified {
        /// The request.
        request: RecordingRequestId,
        /// The status code of the sipfrag's status line, if it has one.
        status: Option<u16>,
        /// The subscription ended with this NOTIFY.
        terminated: bool,
    },
    /// The progress of a request to the focus to add a user to a
    /// conference or remove one
    /// ([`ImClient::add_participants`](super::ImClient::add_participants),
    /// [`ImClient::remove_participant`](super::ImClient::remove_participant)).
    ReferralProgress {
        /// The conference.
        session: ImSessionId,
        /// The user to add or remove.
        user: String,
        /// A removal (`method=BYE`) rather than an addition.
        remove: bool,
        /// The REFER's failure response (403 when the focus's policy
        /// refuses it), or the status of a NOTIFY's `message/sipfrag`: 100
        /// while the focus invites the user, then the final status of its
        /// INVITE (200: the user joined); 0 for a sipfrag without a status
        /// line.
        status: u16,
        /// Nothing more comes for this request.
        done: bool,
    },
    /// A disposition notification (RFC 5438) arrived about a message this
    /// client sent with a request, in a session or as a Pager Mode
    /// MESSAGE (answered 200). Never reported as a message.
    NotificationReceived {
        /// The session it came on; `None` in Pager Mode.
        session: Option<ImSessionId>,
        /// The `imdn.Message-ID` of the message it is about.
        imdn_message_id: String,
        /// Its CPIM `From`: who sent it (in a conference, as the IM Server
        /// vouches for).
        from: Option<String>,
        /// The `<recipient-uri>` it names, if any.
        recipient: Option<String>,
        /// Delivered, failed, displayed, ...
        notification: crate::body::imdn::Notification,
    },
    /// The message just reported (the [`Event::MessageReceived`] or
    /// [`Event::PagerMessageReceived`] before this event) asks for a
    /// display notification: call
    /// [`send_display_notification`](super::ImClient::send_display_notification)
    /// with `imdn_message_id` once the user saw it. Not given to an
    /// anonymous user.
    DisplayNotificationRequested {
        /// The session it came on; `None` in Pager Mode.
        session: Option<ImSessionId>,
        /// Its `imdn.Message-ID`.
        imdn_message_id: String,
        /// Its sender.
        from: String,
    },
    /// A sender started or stopped composing (RFC 3994), or its `active`
    /// state lapsed.
    ComposingChanged {
        /// The session; `None` for indications in Pager Mode.
        session: Option<ImSessionId>,
        /// The sender: the CPIM `From`, or the session's peer.
        from: String,
        /// Whether it is composing now.
        active: bool,
        /// The type of what it composes, when the indication said.
        content_type: Option<String>,
    },
    /// No terminating NOTIFY came within
    /// [`Limits::refer_subscription_guard`](super::Limits::refer_subscription_guard)
    /// of the `202`: the request is forgotten.
    RecordingRequestTimedOut {
        /// The request.
        request: RecordingRequestId,
    },
}

/// Why a deadline exists.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadlineReason {
    /// A timer of the SIP user agent, among them the session refresh and
    /// expiry of RFC 4028 ([`dialog::DeadlineReason::SessionRefresh`],
    /// [`dialog::DeadlineReason::SessionExpiry`]) and the refresh of the
    /// conference subscription.
    Sip(dialog::DeadlineReason),
    /// A timer of the MSRP session.
    Msrp(ImSessionId),
    /// The guard of a recording request waiting for its terminating NOTIFY.
    RecordingRequest(RecordingRequestId),
    /// The user stopped typing in the session: `idle` is sent (RFC 3994
    /// §3.2).
    ComposingIdle(ImSessionId),
    /// The user's `active` state in the session is sent again before its
    /// refresh interval ends.
    ComposingRefresh(ImSessionId),
    /// A sender's `active` state lapses without a refresh (in the session,
    /// or in Pager Mode).
    ComposingExpiry(Option<ImSessionId>),
    /// An accepted MSRP connection that named no session yet is closed
    /// then ([`Limits::unbound_msrp_timeout`](super::Limits::unbound_msrp_timeout)).
    UnboundMsrp(ConnectionId),
}

/// A deadline and why it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// When.
    pub at: Instant,
    /// Why.
    pub reason: DeadlineReason,
}

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// No live session has that id.
    UnknownSession,
    /// The session is not in a state where this command applies.
    WrongState,
    /// Over [`Limits::max_sessions`](super::Limits::max_sessions).
    TooManySessions,
    /// The URI list is longer than MAX-ADHOC-GROUP-SIZE (7.1.1.3 step 4).
    TooManyInvited {
        /// Invited IM Users asked for.
        invited: usize,
        /// MAX-ADHOC-GROUP-SIZE.
        max: usize,
    },
    /// The URI list is empty.
    NoRecipient,
    /// More history references than
    /// [`Limits::max_history_references`](super::Limits::max_history_references).
    TooManyReferences {
        /// References asked for.
        references: usize,
        /// The limit.
        max: usize,
    },
    /// No IM Session Identity is stored for the session (7.1.1.9 step 1).
    NoSessionIdentity,
    /// The SIP user agent refused the request.
    Sip(dialog::UaError),
    /// The MSRP session refused the message.
    Msrp(crate::msrp::session::SendError),
    /// The session's media is `a=recvonly` on this side (a history
    /// retrieval, a received Large Message): this client may not send on it.
    ReceiveOnly,
    /// A URI given is not usable in a SIP header (empty, or with a line
    /// break or angle bracket).
    InvalidUri,
    /// A disposition request needs the message's `DateTime` (RFC 5438
    /// §6.3): none, or not an RFC 3339 date-time, was given.
    DateTimeRequired,
    /// No received message with that `imdn.Message-ID` awaits a display
    /// notification.
    UnknownMessage,
    /// The user is anonymous: this client sends no disposition
    /// notification.
    Anonymous,
    /// The content is over the Pager Mode size and the message cannot go
    /// in Large Message mode.
    PagerTooLarge {
        /// Its size.
        size: usize,
        /// [`Limits::max_pager_message_size`](super::Limits::max_pager_message_size).
        max: usize,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::UnknownSession => f.write_str("no such IM session"),
            ClientError::WrongState => f.write_str("not possible in this session state"),
            ClientError::TooManySessions => f.write_str("IM session limit reached"),
            ClientError::TooManyInvited { invited, max } => {
                write!(
                    f,
                    "{invited} invited IM users exceed MAX-ADHOC-GROUP-SIZE {max}"
                )
            }
            ClientError::NoRecipient => f.write_str("no recipient"),
            ClientError::TooManyReferences { references, max } => {
                write!(f, "{references} history references exceed the limit {max}")
            }
            ClientError::NoSessionIdentity => f.write_str("no IM Session Identity stored"),
            ClientError::Sip(e) => write!(f, "SIP: {e}"),
            ClientError::Msrp(e) => write!(f, "MSRP: {e}"),
            ClientError::ReceiveOnly => f.write_str("the session only receives (a=recvonly)"),
            ClientError::InvalidUri => f.write_str("the URI cannot be written in a SIP header"),
            ClientError::DateTimeRequired => {
                f.write_str("a disposition request needs an RFC 3339 DateTime")
            }
            ClientError::UnknownMessage => {
                f.write_str("no message awaits a display notification with that imdn.Message-ID")
            }
            ClientError::Anonymous => f.write_str("an anonymous user sends no notifications"),
            ClientError::PagerTooLarge { size, max } => {
                write!(f, "{size} octets exceed the Pager Mode size {max}")
            }
        }
    }
}

impl std::error::Error for ClientError {}

impl From<dialog::UaError> for ClientError {
    fn from(e: dialog::UaError) -> Self {
        ClientError::Sip(e)
    }
}
