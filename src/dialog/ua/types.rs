//! What goes into and comes out of a [`UserAgent`](super::UserAgent).

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

use super::{SubscriptionEnd, SubscriptionId};
use crate::dialog::{DialogId, DialogOwner};
use crate::sip::{Method, SipError, SipMessage};
use crate::transaction::{OwnedMessage, Timer, Transmit, Transport};

/// Identifies a client transaction (a request this UA sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientTxId(pub(crate) u64);

/// Identifies a server transaction (a request this UA received).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerTxId(pub(crate) u64);

/// A client or a server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransactionId {
    /// A client transaction.
    Client(ClientTxId),
    /// A server transaction.
    Server(ServerTxId),
}

/// A message from the network.
// An `Input` lives on the stack for one call; boxing the parsed view would
// cost an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// One complete SIP message as received: a UDP datagram, or a message
    /// cut out of a TCP stream by the [`Framer`](crate::sip::Framer). The UA
    /// parses it; a bad request is answered statelessly, a bad response is
    /// dropped with [`Event::MessageDropped`].
    Datagram {
        /// The message.
        bytes: &'a [u8],
        /// Who sent it.
        source: SocketAddr,
        /// How it came.
        transport: Transport,
    },
    /// A message already parsed by the caller (the zero-copy view, moved
    /// in).
    Message {
        /// The message.
        message: SipMessage<'a>,
        /// Who sent it.
        source: SocketAddr,
        /// How it came.
        transport: Transport,
    },
}

/// What the UA hands the caller: drain with
/// [`poll_output`](super::UserAgent::poll_output) until `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Bytes for the wire.
    Transmit(Transmit),
    /// Something the application must know.
    Event(Event),
}

/// Why a dialog ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TerminationReason {
    /// This UA sent BYE and it completed (any final response).
    ByeSent,
    /// The peer sent BYE.
    ByeReceived,
    /// An early dialog ended with the INVITE's final response (its status).
    FinalResponse(u16),
    /// A request in the dialog got 481 or 408 (§12.2.1.2), or timed out.
    RequestFailed(u16),
    /// The BYE (or the request) timed out.
    Timeout,
    /// The 2xx to INVITE was never ACKed within 64*T1 (§13.3.1.4); BYE sent.
    AckTimeout,
    /// A second fork answered with 2xx after the first: ACKed and released
    /// with BYE (§13.2.2.4).
    ForkReleased,
    /// The application called [`terminate_dialog`](super::UserAgent::terminate_dialog).
    Local,
    /// The session timer ran out without a refresh from the peer
    /// (RFC 4028 §10); BYE sent.
    SessionExpired,
    /// This UA's session refresh failed with this status (408 for a
    /// timeout, RFC 4028 §10); BYE sent.
    SessionRefreshFailed(u16),
    /// The subscription of this dialog ended (RFC 6665).
    SubscriptionEnded,
}

/// Why an incoming message was not processed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// The message does not parse (a bad response, or a request too broken
    /// to answer).
    Malformed(SipError),
    /// A response with more than one Via (§8.1.3.3), or none of ours.
    NotForUs,
    /// A response or ACK matching no transaction and no dialog.
    NoMatch,
}

/// Something the application must know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A new request: answer it with [`respond`](super::UserAgent::respond)
    /// (BYE and CANCEL are answered by the UA itself).
    RequestReceived {
        /// The server transaction to respond on.
        transaction: ServerTxId,
        /// The dialog the request belongs to, if any.
        dialog: Option<DialogId>,
        /// The request.
        request: OwnedMessage,
    },
    /// The ACK of a 2xx to INVITE (it has no transaction).
    AckReceived {
        /// The dialog it confirms.
        dialog: DialogId,
        /// The ACK.
        request: OwnedMessage,
    },
    /// A response to a request this UA sent.
    ResponseReceived {
        /// The client transaction.
        transaction: ClientTxId,
        /// The dialog the response belongs to (or created), if any.
        dialog: Option<DialogId>,
        /// The response.
        response: OwnedMessage,
    },
    /// The peer cancelled a pending INVITE; the UA answered 487.
    RequestCancelled {
        /// The INVITE's server transaction.
        transaction: ServerTxId,
    },
    /// An early dialog was created.
    DialogEarly {
        /// The dialog.
        dialog: DialogId,
    },
    /// A dialog was confirmed by a 2xx.
    DialogEstablished {
        /// The dialog.
        dialog: DialogId,
    },
    /// A dialog ended; its state is gone.
    DialogTerminated {
        /// The dialog.
        dialog: DialogId,
        /// Why.
        reason: TerminationReason,
        /// What the application kept with it
        /// ([`UserAgent::set_dialog_owner`](super::UserAgent::set_dialog_owner)),
        /// if anything.
        owner: Option<DialogOwner>,
    },
    /// A transaction timed out (timer B, F or H).
    TransactionTimedOut {
        /// The transaction.
        transaction: TransactionId,
        /// The timer that fired.
        timer: Timer,
    },
    /// The transport failed for a transaction.
    TransportError {
        /// The transaction.
        transaction: TransactionId,
    },
    /// A request was refused without a transaction (400, 416, 420, 415, 481
    /// for CANCEL, 501, 503, 505).
    StatelessAnswerSent {
        /// The status sent.
        status: u16,
        /// Its reason phrase.
        reason: String,
        /// Where it went.
        destination: SocketAddr,
    },
    /// An incoming message was dropped.
    MessageDropped {
        /// Who sent it.
        source: SocketAddr,
        /// Why.
        reason: DropReason,
    },
    /// A session timer (RFC 4028) was negotiated in a dialog: by the 2xx
    /// to its INVITE (or the first INVITE or UPDATE carrying one).
    SessionTimerStarted {
        /// The dialog.
        dialog: DialogId,
        /// The session interval, seconds.
        interval: u32,
        /// Whether this UA is the refresher.
        local_refresher: bool,
    },
    /// A session refresh completed (a 2xx to a re-INVITE or UPDATE sent
    /// or received): the timer restarted.
    SessionRefreshed {
        /// The dialog.
        dialog: DialogId,
        /// The session interval, seconds.
        interval: u32,
        /// Whether this UA is the refresher.
        local_refresher: bool,
    },
    /// No refresh arrived in time: this UA sends BYE and the dialog ends
    /// with [`TerminationReason::SessionExpired`].
    SessionExpired {
        /// The dialog.
        dialog: DialogId,
    },
    /// An INVITE got 422 (Session Interval Too Small): the UA sent it again
    /// with the Session-Expires and Min-SE raised to the 422's Min-SE
    /// (RFC 4028 §7.4).
    InviteRetried {
        /// The INVITE that got 422.
        previous: ClientTxId,
        /// The new INVITE; its responses come on this id.
        retry: ClientTxId,
        /// The session interval asked for now, seconds.
        session_expires: u32,
    },
    /// A subscription is in place (RFC 6665): subscriber, the 2xx to its
    /// SUBSCRIBE came; notifier, it accepted one.
    SubscriptionActive {
        /// The subscription.
        subscription: SubscriptionId,
        /// Its dialog.
        dialog: DialogId,
        /// The duration granted, seconds.
        expires: u32,
    },
    /// A subscription was refreshed: subscriber, the 2xx to its refresh;
    /// notifier, a refresh received (a NOTIFY with the last body went
    /// back).
    SubscriptionRefreshed {
        /// The subscription.
        subscription: SubscriptionId,
        /// The duration granted, seconds.
        expires: u32,
    },
    /// Subscriber: a NOTIFY arrived and was answered with 200. Its body and
    /// Subscription-State are in `request`.
    NotifyReceived {
        /// The subscription.
        subscription: SubscriptionId,
        /// Its dialog.
        dialog: DialogId,
        /// The NOTIFY.
        request: OwnedMessage,
    },
    /// A subscription ended; its dialog goes with it.
    SubscriptionTerminated {
        /// The subscription.
        subscription: SubscriptionId,
        /// Why.
        reason: SubscriptionEnd,
    },
}

/// Why a scheduled deadline exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DeadlineReason {
    /// A client transaction timer.
    Client {
        /// The transaction.
        transaction: ClientTxId,
        /// The timer.
        timer: Timer,
    },
    /// A server transaction timer.
    Server {
        /// The transaction.
        transaction: ServerTxId,
        /// The timer.
        timer: Timer,
    },
    /// The UAS core's retransmission of a 2xx to INVITE (§13.3.1.4), or
    /// giving up on its ACK.
    Retransmit2xx {
        /// The dialog.
        dialog: DialogId,
    },
    /// Forgetting an INVITE answered with 2xx, 64*T1 after the answer
    /// (retransmissions of it are absorbed until then, RFC 6026).
    AcceptedInvite,
    /// Forgetting an INVITE this UA sent, 64*T1 after its first 2xx (a
    /// 2xx of another fork is ACKed and released until then, RFC 6026).
    AnsweredInvite,
    /// This UA refreshes the session of a dialog (half the interval).
    SessionRefresh {
        /// The dialog.
        dialog: DialogId,
    },
    /// This UA ends the session of a dialog the peer did not refresh (the
    /// interval minus min(32 s, interval / 3)).
    SessionExpiry {
        /// The dialog.
        dialog: DialogId,
    },
    /// A subscriber refreshes its subscription.
    SubscriptionRefresh {
        /// The subscription.
        subscription: SubscriptionId,
    },
    /// A subscription expires: the notifier sends its final NOTIFY, the
    /// subscriber gives up on an answer.
    SubscriptionExpiry {
        /// The subscription.
        subscription: SubscriptionId,
    },
}

/// A scheduled deadline and why it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// When.
    pub at: Instant,
    /// Why.
    pub reason: DeadlineReason,
}

/// A request outside any dialog (INVITE, MESSAGE, SUBSCRIBE, OPTIONS,
/// REFER, ...).
///
/// ```
/// use oma_im::dialog::RequestSpec;
/// use oma_im::sip::Method;
///
/// let spec = RequestSpec::new(Method::Message, "sip:bob@example.com",
///         "<sip:alice@example.com>", "<sip:bob@example.com>")
///     .with_header("Subject", "hello")
///     .with_body("text/plain", b"Hi Bob".to_vec());
/// assert_eq!(spec.body, b"Hi Bob");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// The method (not ACK or CANCEL: the UA sends those itself).
    pub method: Method<'static>,
    /// The Request-URI.
    pub target: String,
    /// The From address, without tag (the UA adds one).
    pub from: String,
    /// The To address.
    pub to: String,
    /// The Contact value to write instead of the user agent's default
    /// (`None`: the default). When the request creates a dialog, the
    /// dialog keeps it for its target-refresh requests and responses.
    pub contact: Option<String>,
    /// Further header fields, in order.
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// The body's Content-Type, when there is a body.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl RequestSpec {
    /// A request without body or extra header fields.
    pub fn new(
        method: Method<'static>,
        target: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> Self {
        RequestSpec {
            method,
            target: target.into(),
            from: from.into(),
            to: to.into(),
            contact: None,
            headers: Vec::new(),
            content_type: None,
            body: Vec::new(),
        }
    }

    /// Writes `contact` (a whole Contact value, e.g.
    /// `<sip:conf-1@im.example.com>;isfocus`) instead of the user agent's
    /// default Contact.
    pub fn with_contact(mut self, contact: impl Into<String>) -> Self {
        self.contact = Some(contact.into());
        self
    }

    /// Adds a header field; the value is taken as is when it is already a `String`.
    pub fn with_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body and its Content-Type.
    pub fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.content_type = Some(content_type.to_owned());
        self.body = body;
        self
    }
}

/// A request inside a dialog (BYE, re-INVITE, UPDATE, INFO, REFER, NOTIFY,
/// MESSAGE, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogRequestSpec {
    /// The method (not ACK or CANCEL).
    pub method: Method<'static>,
    /// Further header fields.
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// The body's Content-Type, when there is a body.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl DialogRequestSpec {
    /// A request of `method` without body.
    pub fn new(method: Method<'static>) -> Self {
        DialogRequestSpec {
            method,
            headers: Vec::new(),
            content_type: None,
            body: Vec::new(),
        }
    }

    /// Adds a header field; the value is taken as is when it is already a `String`.
    pub fn with_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body and its Content-Type.
    pub fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.content_type = Some(content_type.to_owned());
        self.body = body;
        self
    }
}

/// A response to a received request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSpec {
    /// The Status-Code, `100..=699`.
    pub status: u16,
    /// The Reason-Phrase; the RFC's one when `None`.
    pub reason: Option<String>,
    /// The Contact value to write instead of the user agent's default
    /// (`None`: the default), in a response that carries one (to a
    /// dialog-creating request). When the response creates a dialog, the
    /// dialog keeps it for its target-refresh requests and responses.
    pub contact: Option<String>,
    /// Further header fields.
    pub headers: Vec<(Cow<'static, str>, String)>,
    /// The body's Content-Type, when there is a body.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl ResponseSpec {
    /// A response with the standard reason phrase and no body.
    pub fn new(status: u16) -> Self {
        ResponseSpec {
            status,
            reason: None,
            contact: None,
            headers: Vec::new(),
            content_type: None,
            body: Vec::new(),
        }
    }

    /// Writes `contact` (a whole Contact value) instead of the user agent's
    /// default Contact, when the response carries one.
    pub fn with_contact(mut self, contact: impl Into<String>) -> Self {
        self.contact = Some(contact.into());
        self
    }

    /// Adds a header field; the value is taken as is when it is already a `String`.
    pub fn with_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body and its Content-Type.
    pub fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.content_type = Some(content_type.to_owned());
        self.body = body;
        self
    }
}

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UaError {
    /// No live transaction has that id.
    UnknownTransaction,
    /// No dialog has that id.
    UnknownDialog,
    /// The message built from the spec does not parse (a bad header value,
    /// URI or method).
    InvalidMessage(SipError),
    /// ACK and CANCEL are sent by the UA itself; a status outside
    /// `100..=699`.
    NotAllowed,
    /// The transaction already sent (or got) its final response.
    AlreadyFinal,
    /// The client transaction is not an INVITE, or already answered.
    NotCancellable,
    /// Over [`Limits::max_transactions`](super::Limits::max_transactions).
    TooManyTransactions,
    /// Over [`Limits::max_dialogs`](super::Limits::max_dialogs).
    TooManyDialogs,
    /// No live subscription of this role has that id.
    UnknownSubscription,
    /// With [`Routing::RequestTarget`](super::Routing::RequestTarget), the
    /// next hop the request names (the URI carried here; empty when the
    /// request has none) cannot be reached without name resolution: its
    /// host is not an IP literal, its scheme is not `sip`/`sips`, or its
    /// transport is neither UDP nor TCP. Nothing was sent.
    Unroutable(String),
    /// The request was refused with this status, sent on its transaction
    /// ([`UserAgent::check_extensions`](super::UserAgent::check_extensions)).
    Refused {
        /// The status code sent (420 or 415).
        status: u16,
    },
}

impl fmt::Display for UaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UaError::UnknownTransaction => f.write_str("no such transaction"),
            UaError::UnknownDialog => f.write_str("no such dialog"),
            UaError::InvalidMessage(e) => write!(f, "the message built is invalid: {e}"),
            UaError::NotAllowed => f.write_str("not allowed here"),
            UaError::AlreadyFinal => f.write_str("a final response was already sent"),
            UaError::NotCancellable => f.write_str("not a pending INVITE"),
            UaError::TooManyTransactions => f.write_str("transaction limit reached"),
            UaError::TooManyDialogs => f.write_str("dialog limit reached"),
            UaError::UnknownSubscription => f.write_str("no such subscription"),
            UaError::Unroutable(uri) => {
                write!(f, "no IP address to send to in the next hop `{uri}`")
            }
            UaError::Refused { status } => write!(f, "refused with {status}"),
        }
    }
}

impl std::error::Error for UaError {}
