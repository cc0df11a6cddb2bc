//! What a session hands out: bytes for the wire, events, deadlines, and the
//! typed refusals of [`send_message`](super::MsrpSession::send_message).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use crate::body::cpim::CpimMessageBuf;
use crate::body::mime::MimeError;
use crate::msrp::{ByteRange, MsrpError};

/// Where a [`Transmit`] goes: the authority (host and port) of the first
/// To-Path URI.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Authority {
    /// The host: a name, an IPv4 address or a bracketed IPv6 literal.
    pub host: Arc<str>,
    /// The port, if the URI has one.
    pub port: Option<u16>,
}

impl Authority {
    /// The port of an MSRP URI that names none (RFC 4975 §15.2).
    pub const DEFAULT_PORT: u16 = 2855;

    /// The authority of `host` and `port`.
    pub fn new(host: &str, port: Option<u16>) -> Self {
        Authority {
            host: Arc::from(host),
            port,
        }
    }

    /// The authority of the first URI of an MSRP path (`msrp://host:port/id;tcp`),
    /// or `None` when it does not parse.
    ///
    /// ```
    /// use oma_im::msrp::session::Authority;
    /// let a = Authority::from_msrp_uri("msrp://192.0.2.7/s1;tcp").unwrap();
    /// assert_eq!(a.port_or_default(), 2855);
    /// assert_eq!(a.socket_addr(), Some("192.0.2.7:2855".parse().unwrap()));
    /// assert_eq!(a.to_string(), "192.0.2.7:2855");
    /// ```
    pub fn from_msrp_uri(uri: &str) -> Option<Self> {
        let uri = crate::msrp::MsrpUri::parse(uri).ok()?;
        Some(Authority::new(uri.host, uri.port))
    }

    /// The port, or [`DEFAULT_PORT`](Self::DEFAULT_PORT) when the URI names
    /// none.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(Self::DEFAULT_PORT)
    }

    /// The socket address when the host is an IP literal (brackets of an
    /// IPv6 literal removed), with the default port when none is named;
    /// `None` for a host name, which the application resolves.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = host.parse().ok()?;
        Some(SocketAddr::new(ip, self.port_or_default()))
    }
}

impl From<SocketAddr> for Authority {
    fn from(addr: SocketAddr) -> Self {
        let host = match addr.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        Authority::new(&host, Some(addr.port()))
    }
}

/// `host:port`, with the default port written out when the URI named none.
impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port_or_default())
    }
}

/// Bytes to write to the session's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The peer (or first relay) the connection leads to.
    pub destination: Authority,
    /// Complete MSRP messages, to be written in order.
    pub data: Vec<u8>,
}

/// What a session hands out from [`poll_output`](super::MsrpSession::poll_output).
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Bytes for the connection.
    Transmit(Transmit),
    /// Something the application must know.
    Event(Event),
}

/// Why an outgoing message failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryFailure {
    /// A transaction of the message got this non-200 response.
    Response(u16),
    /// A transaction got no response within the response timeout (the 408
    /// semantics of RFC 4975 §7.1.1).
    Timeout,
    /// The peer sent a REPORT with this non-200 status.
    Report(u16),
    /// The connection closed before every chunk was acknowledged.
    ConnectionClosed,
}

/// A message that arrived whole.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMessage {
    /// Its Message-ID.
    pub message_id: String,
    /// Its Content-Type, as received.
    pub content_type: String,
    /// The whole body.
    pub body: Vec<u8>,
    /// For `message/cpim`: the parsed wrapper (From, To, DateTime, the
    /// inner Content-Type and content), or why it did not parse.
    pub cpim: Option<Result<CpimMessageBuf, MimeError>>,
}

/// Something the application must know.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The passive end received the first request of its peer on the
    /// connection: the connection is bound to the session (RFC 4975 §5.4).
    Bound,
    /// A message arrived whole (boxed: it holds the parsed CPIM wrapper).
    MessageReceived(Box<ReceivedMessage>),
    /// The peer aborted a message (`#`); what had arrived is dropped.
    MessageAborted {
        /// Its Message-ID.
        message_id: String,
    },
    /// Every chunk of an outgoing message was acknowledged with a 200 (or,
    /// with `Failure-Report: no` or `partial`, handed out for the wire;
    /// with `partial`, a failure response within the response timeout still
    /// gives [`Event::DeliveryFailed`] afterwards).
    MessageSent {
        /// Its Message-ID.
        message_id: String,
    },
    /// A success REPORT arrived for an outgoing message.
    ReportReceived {
        /// Its Message-ID.
        message_id: String,
        /// The bytes the REPORT covers.
        byte_range: Option<ByteRange>,
    },
    /// An outgoing message failed.
    DeliveryFailed {
        /// Its Message-ID.
        message_id: String,
        /// Why.
        cause: DeliveryFailure,
    },
    /// The SEND that binds the connection (sent by the active end with no
    /// content to send) failed.
    BindFailed(DeliveryFailure),
    /// The peer sent more than the session may hold for it (a chunk
    /// over [`Limits::max_buffered_bytes`](crate::msrp::Limits::max_buffered_bytes)
    /// with what is being reassembled, or over the allowance its owner
    /// set): the chunk was answered 413 (RFC 4975 §7.2), what had arrived
    /// of its message was dropped, and the session ignores further input.
    /// The owner tears the session down.
    BufferExceeded,
    /// The peer sent bytes that are not MSRP; the connection cannot be
    /// resynchronised and the session ignores further input.
    ProtocolError(MsrpError),
    /// The session ended ([`Input::Closed`](super::Input::Closed) or
    /// [`close`](super::MsrpSession::close)).
    Closed,
}

/// Why a deadline exists.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerReason {
    /// The response timeout of an outgoing transaction (RFC 4975 §7.1.1).
    ResponseTimeout {
        /// The transaction.
        transact_id: String,
        /// The message it carries a chunk of.
        message_id: String,
    },
}

/// The earliest deadline of a session and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    /// When [`handle_timeout`](super::MsrpSession::handle_timeout) must be
    /// called.
    pub at: Instant,
    /// Why.
    pub reason: TimerReason,
}

/// Why [`send_message`](super::MsrpSession::send_message) refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendErrorKind {
    /// The session is closed.
    Closed,
    /// The peer does not accept this content type (RFC 4975 §7.1.1: the
    /// sender MUST NOT send it), wrapped or not.
    NotAccepted,
    /// The content type is not a valid header value.
    InvalidContentType,
    /// The message is larger than the peer's `a=max-size` or the local
    /// message size limit.
    TooLarge,
    /// The outgoing queue, the pending transactions or the outgoing messages
    /// are at their limit: try again after draining output and responses.
    WouldBlock,
    /// The Message-ID override is not an `ident` within the length limit, or
    /// is already in use.
    InvalidMessageId,
    /// No transact-id could be found that the body does not contain.
    NoTransactId,
    /// A CPIM header field of [`SendOptions::cpim_extras`](super::SendOptions::cpim_extras)
    /// has a name or value that cannot be written.
    InvalidCpimHeader,
}

/// A refused [`send_message`](super::MsrpSession::send_message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The cause.
    pub kind: SendErrorKind,
    /// Byte offset in the body where it was found (0 when the cause is not
    /// in the body).
    pub offset: usize,
}

impl SendError {
    pub(crate) const fn new(kind: SendErrorKind) -> Self {
        Self { kind, offset: 0 }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MSRP send refused: {:?}", self.kind)
    }
}

impl std::error::Error for SendError {}
