//! What goes into and comes out of an [`ImHistoryFunction`](super::ImHistoryFunction).

use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

use crate::body::cpim::CpimMessageBuf;
use crate::dialog;
use crate::im::ConnectionId;
use crate::msrp::session::{Authority, TimerReason};
use crate::transaction::Transport;

/// Identifies a retrieval or a recording session of one History Function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HistorySessionId(pub(crate) u64);

impl fmt::Display for HistorySessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "history-session#{}", self.0)
    }
}

/// Input from the network.
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
    /// The MSRP connection of `session` is up: the one the History Function
    /// asked for ([`Output::MsrpConnect`]), or the one the peer opened to
    /// [`HistoryConfig::msrp_addr`](super::HistoryConfig::msrp_addr) for it.
    MsrpConnected {
        /// The session.
        session: HistorySessionId,
    },
    /// Bytes read from the MSRP connection of `session`, split anywhere.
    MsrpBytes {
        /// The session.
        session: HistorySessionId,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// The MSRP connection of `session` closed.
    MsrpClosed {
        /// The session.
        session: HistorySessionId,
    },
    /// Bytes read from a connection the application accepted on
    /// [`HistoryConfig::msrp_addr`](super::HistoryConfig::msrp_addr) and
    /// named with
    /// [`ImHistoryFunction::msrp_accepted_at`](super::ImHistoryFunction::msrp_accepted_at),
    /// split anywhere. The History Function finds the session from the
    /// first `To-Path` and says so with [`Output::MsrpAccepted`].
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

/// What the History Function hands the caller: drain with
/// [`poll_output`](super::ImHistoryFunction::poll_output) until `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// SIP bytes for the wire.
    Transmit(crate::transaction::Transmit),
    /// Open a TCP connection to `destination` for the MSRP of `session`
    /// (the local end is the active one); report it with
    /// [`Input::MsrpConnected`].
    MsrpConnect {
        /// The session.
        session: HistorySessionId,
        /// Host and port of the peer's MSRP URI.
        destination: Authority,
    },
    /// MSRP bytes to write on the connection of `session`.
    MsrpTransmit {
        /// The session.
        session: HistorySessionId,
        /// Complete MSRP messages, in order.
        data: Vec<u8>,
    },
    /// Close the MSRP connection of `session`.
    MsrpClose {
        /// The session.
        session: HistorySessionId,
    },
    /// The accepted `connection` carries the MSRP of `session` (its first
    /// `To-Path` named the session's local URI): from now on, write the
    /// session's [`Output::MsrpTransmit`] on it and close it on
    /// [`Output::MsrpClose`].
    MsrpAccepted {
        /// The connection.
        connection: ConnectionId,
        /// The session it carries.
        session: HistorySessionId,
    },
    /// Bytes to write on an accepted connection that carries no session:
    /// the `506` of RFC 4975 §5.4 to a second connection for a session
    /// already carried, or whose own end connects.
    MsrpConnectionTransmit {
        /// The connection.
        connection: ConnectionId,
        /// Complete MSRP messages.
        data: Vec<u8>,
    },
    /// Close an accepted connection that carries no session: it named no
    /// session of this History Function, sent more than
    /// [`Limits::max_unbound_msrp_bytes`](super::Limits::max_unbound_msrp_bytes)
    /// before naming one or after its `506`, or stayed unbound for
    /// [`Limits::unbound_msrp_timeout`](super::Limits::unbound_msrp_timeout).
    MsrpConnectionClose {
        /// The connection.
        connection: ConnectionId,
    },
    /// Something the application must know or decide.
    Event(Event),
}

/// Why an initial INVITE for history retrieval was refused (13.2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// No P-Asserted-Identity (step 1 a): answered with
    /// [`HistoryConfig::missing_identity_status`](super::HistoryConfig::missing_identity_status).
    NoAssertedIdentity,
    /// No SDP, or an SDP whose media direction is not `a=recvonly`
    /// (step 3): `403 Forbidden`.
    NotRecvOnly,
    /// No URI-list in the body (step 4): `400 Bad Request` with a Warning.
    NoUriList,
    /// A body or URI-list that does not parse: `400 Bad Request` with a
    /// Warning.
    MalformedBody,
    /// More history references than
    /// [`Limits::max_history_references`](super::Limits::max_history_references):
    /// `413 Request Entity Too Large` with a Warning.
    TooManyReferences,
    /// The offered MSRP media cannot be answered: `488 Not Acceptable Here`.
    MediaNotAcceptable,
    /// Over [`Limits::max_sessions`](super::Limits::max_sessions): `486 Busy Here`.
    Busy,
    /// The application refused the asserted identity access to the
    /// history ([`reject_retrieval`](super::ImHistoryFunction::reject_retrieval)):
    /// `403 Forbidden`.
    NotAuthorized,
}

impl RejectReason {
    /// The Warning text sent with the rejection, if any.
    pub fn warning_text(self) -> Option<&'static str> {
        match self {
            RejectReason::NoUriList => Some("no URI-list of history references"),
            RejectReason::MalformedBody => Some("malformed body"),
            RejectReason::TooManyReferences => Some("too many history references"),
            _ => None,
        }
    }
}

/// What a recording History Function stored from the 200 OK of its INVITE
/// (13.3.1.2, "On receiving a SIP 200 OK").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingInfo {
    /// The methods of the `Allow` header (step 1), empty without one.
    pub allow: Vec<String>,
    /// The IM Session Identity of the Contact (step 2), if any.
    pub im_session_identity: Option<crate::im::ImSessionIdentity>,
    /// Every header field of the 200 OK, name and value as received (step
    /// 3), up to [`Limits::max_stored_headers`](super::Limits::max_stored_headers).
    pub headers: Vec<(String, String)>,
}

/// A message received over MSRP in a recorded session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMessage {
    /// The MSRP Message-ID.
    pub message_id: String,
    /// The MSRP Content-Type (`message/cpim` in an IM session).
    pub content_type: String,
    /// The MSRP body as received.
    pub body: Vec<u8>,
    /// The CPIM message with its headers (From, To, DateTime, ...), when
    /// the body is `message/cpim` and parses.
    pub cpim: Option<CpimMessageBuf>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// Every history item was delivered or reported missing; the History
    /// Function sent BYE.
    Completed,
    /// The peer sent BYE.
    ByeReceived,
    /// The application ended it ([`stop_recording`](super::ImHistoryFunction::stop_recording)).
    Local,
    /// The INVITE failed with this status (or 408 on timeout).
    InviteFailed(u16),
    /// The SIP dialog failed (timeout, 481).
    DialogFailed,
    /// The MSRP session could not be set up from the SDP exchange.
    MediaFailed,
    /// The peer sent more over MSRP than the buffer budget allows
    /// (`Limits::max_msrp_buffered_bytes`, or the session's
    /// `layers.msrp.max_buffered_bytes`): its chunk was answered 413
    /// (RFC 4975 §7.2), the connection closed and BYE sent.
    BufferExceeded,
}

/// Something the application must know or decide.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An initial INVITE asks for history (13.2.1.1) and passed the checks.
    /// Decide from `requester` whose history it may read: answer with
    /// [`accept_retrieval`](super::ImHistoryFunction::accept_retrieval) or
    /// [`reject_retrieval`](super::ImHistoryFunction::reject_retrieval).
    RetrievalRequested {
        /// The session.
        session: HistorySessionId,
        /// The P-Asserted-Identity URI of the requester (the `From`, when
        /// unverified requests are accepted and this one is).
        requester: String,
        /// `true` when `requester` was asserted by the trust domain
        /// ([`HistoryConfig::trust`](super::HistoryConfig::trust)).
        verified: bool,
        /// The Allow methods of the INVITE (step 2), empty without one.
        allow: Vec<String>,
        /// The history references of the URI-list, in order.
        references: Vec<String>,
    },
    /// An initial INVITE was refused before any session existed.
    RetrievalRefused {
        /// The status sent.
        status: u16,
        /// Why.
        reason: RejectReason,
    },
    /// Look up the stored item of one history reference, and answer with
    /// [`provide_history_item`](super::ImHistoryFunction::provide_history_item).
    HistoryItemRequested {
        /// The session.
        session: HistorySessionId,
        /// The reference's position in the URI-list.
        index: usize,
        /// The history reference (the entry URI).
        reference: String,
    },
    /// Every item was delivered or reported missing (or failed); the
    /// session is being released.
    RetrievalCompleted {
        /// The session.
        session: HistorySessionId,
        /// Items delivered (MSRP 200 for every chunk).
        delivered: usize,
        /// Items the application reported missing.
        missing: usize,
        /// Items whose delivery failed.
        failed: usize,
    },
    /// An IM Client asked, with REFER, that an IM Session be recorded.
    /// Answer with [`accept_recording`](super::ImHistoryFunction::accept_recording)
    /// or [`reject_recording`](super::ImHistoryFunction::reject_recording).
    RecordingRequested {
        /// The session.
        session: HistorySessionId,
        /// The identity the trust domain asserted, or (unverified requests
        /// accepted) the From URI of the REFER.
        requester: String,
        /// `true` when `requester` was asserted by the trust domain
        /// ([`HistoryConfig::trust`](super::HistoryConfig::trust)); `false`
        /// when it is the From, which the sender wrote.
        verified: bool,
        /// The IM Session Identity of the Refer-To.
        im_session_identity: String,
    },
    /// The INVITE of a recording session was answered 200 OK; what it
    /// carried is stored.
    RecordingStarted {
        /// The session.
        session: HistorySessionId,
        /// The stored Allow, IM Session Identity and header fields.
        info: RecordingInfo,
    },
    /// A message of a recorded session arrived: store it. Disposition
    /// notifications (`message/imdn+xml`, RFC 5438) and is-composing
    /// indications (`application/im-iscomposing+xml`, RFC 3994) are not
    /// messages and are never recorded.
    MessageRecorded {
        /// The session.
        session: HistorySessionId,
        /// The message with its CPIM headers (boxed: it holds the parsed
        /// CPIM message).
        message: Box<RecordedMessage>,
    },
    /// A conference-state NOTIFY (RFC 4575) of a recorded session.
    ConferenceState {
        /// The session.
        session: HistorySessionId,
        /// The `application/conference-info+xml` body.
        body: Vec<u8>,
    },
    /// A session ended; its state is gone once its SIP dialog is.
    SessionEnded {
        /// The session.
        session: HistorySessionId,
        /// Why.
        reason: EndReason,
    },
}

/// Why a scheduled deadline exists.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadlineReason {
    /// A timer of the SIP user agent.
    Sip(dialog::DeadlineReason),
    /// An MSRP response timeout of a session.
    Msrp {
        /// The session.
        session: HistorySessionId,
        /// The MSRP timer.
        reason: TimerReason,
    },
    /// An accepted MSRP connection that has not named its session (or was
    /// refused) is closed then.
    UnboundMsrp(ConnectionId),
    /// A recording's INVITE unanswered for
    /// [`HistoryConfig::invitation_timeout`](super::HistoryConfig::invitation_timeout)
    /// is CANCELled then.
    Invitation(HistorySessionId),
}

/// A scheduled deadline and why it exists.
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
pub enum HistoryError {
    /// No live session has that id.
    UnknownSession,
    /// The session is not in a state where the command applies (already
    /// answered, not a retrieval, not a recording, ...).
    WrongState,
    /// No history reference has that index, or it was already answered.
    UnknownItem,
    /// Over [`Limits::max_sessions`](super::Limits::max_sessions).
    TooManySessions,
    /// A URI given is not a valid SIP header value.
    InvalidUri,
    /// The SIP user agent refused the request or response.
    Ua(dialog::UaError),
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::UnknownSession => f.write_str("no such history session"),
            HistoryError::WrongState => f.write_str("not possible in the session's state"),
            HistoryError::UnknownItem => f.write_str("no such pending history reference"),
            HistoryError::TooManySessions => f.write_str("session limit reached"),
            HistoryError::InvalidUri => f.write_str("invalid URI"),
            HistoryError::Ua(e) => write!(f, "user agent: {e}"),
        }
    }
}

impl std::error::Error for HistoryError {}

impl From<dialog::UaError> for HistoryError {
    fn from(e: dialog::UaError) -> Self {
        HistoryError::Ua(e)
    }
}
