//! The error of the SIP message parser and framer.

use core::fmt;

use super::HeaderName;

/// Why a SIP message was rejected, and where.
///
/// `offset` is the byte offset in the input at which the cause was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipError {
    /// What is wrong.
    pub kind: SipErrorKind,
    /// Byte offset in the input where it was found.
    pub offset: usize,
}

impl SipError {
    /// An error of `kind` found at `offset`.
    pub fn new(kind: SipErrorKind, offset: usize) -> Self {
        SipError { kind, offset }
    }
}

/// The cause of a [`SipError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SipErrorKind {
    /// The input is larger than [`Limits::max_message_size`](super::Limits::max_message_size).
    MessageTooLarge,
    /// More header fields than [`Limits::max_headers`](super::Limits::max_headers).
    TooManyHeaders,
    /// A header field (with its folded lines) or the start line is longer than
    /// [`Limits::max_header_len`](super::Limits::max_header_len).
    HeaderTooLong,
    /// The input ends before the empty line that closes the header section.
    UnterminatedHeaders,
    /// A CR not followed by LF, or an LF not preceded by CR, in the start
    /// line or the header section.
    BareLineEnding,
    /// The start line or the header section is not valid UTF-8.
    InvalidUtf8,
    /// The Request-Line is not `Method SP Request-URI SP SIP-Version`.
    InvalidRequestLine,
    /// The Method of the Request-Line is not a token.
    InvalidMethod,
    /// The Request-URI is not a valid URI.
    InvalidRequestUri,
    /// The Status-Line is not `SIP-Version SP Status-Code SP Reason-Phrase`.
    InvalidStatusLine,
    /// The Status-Code is not three digits in `100..=699`.
    InvalidStatusCode,
    /// The Reason-Phrase holds a control character.
    InvalidReasonPhrase,
    /// The SIP-Version is well formed but not `SIP/2.0`.
    UnsupportedVersion,
    /// The SIP-Version is not `"SIP" "/" 1*DIGIT "." 1*DIGIT`.
    InvalidVersion,
    /// A header line does not start with a token.
    InvalidHeaderName,
    /// A header name is not followed by a colon.
    MissingColon,
    /// A header value holds a control character.
    InvalidHeaderValue,
    /// A header that must appear once is missing.
    MissingHeader(HeaderName<'static>),
    /// A header that must appear at most once appears again (for
    /// Content-Length: with a different value).
    DuplicateHeader(HeaderName<'static>),
    /// A header value that must be checked eagerly is malformed: CSeq,
    /// Max-Forwards, Call-ID, From, To, Expires, Retry-After or Warning.
    MalformedHeader(HeaderName<'static>),
    /// A number in a header is larger than its header allows: CSeq ≥ 2³¹,
    /// Max-Forwards > 255, Expires or Retry-After ≥ 2³².
    ValueOutOfRange(HeaderName<'static>),
    /// Content-Length is not a decimal number (negative, empty, or with other
    /// characters), or does not fit the platform's `usize`.
    InvalidContentLength,
    /// Content-Length announces more octets than the datagram holds.
    BodyTruncated,
    /// A message on a stream has no Content-Length (RFC 3261 §18.3).
    MissingContentLength,
    /// The method of the CSeq differs from the method of the Request-Line.
    CSeqMethodMismatch,
}

impl fmt::Display for SipErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SipErrorKind::MessageTooLarge => f.write_str("message larger than the limit"),
            SipErrorKind::TooManyHeaders => f.write_str("more header fields than the limit"),
            SipErrorKind::HeaderTooLong => f.write_str("header field longer than the limit"),
            SipErrorKind::UnterminatedHeaders => {
                f.write_str("header section not closed by an empty line")
            }
            SipErrorKind::BareLineEnding => f.write_str("CR or LF outside a CRLF"),
            SipErrorKind::InvalidUtf8 => f.write_str("header section is not valid UTF-8"),
            SipErrorKind::InvalidRequestLine => f.write_str("malformed Request-Line"),
            SipErrorKind::InvalidMethod => f.write_str("Method is not a token"),
            SipErrorKind::InvalidRequestUri => f.write_str("malformed Request-URI"),
            SipErrorKind::InvalidStatusLine => f.write_str("malformed Status-Line"),
            SipErrorKind::InvalidStatusCode => f.write_str("Status-Code not in 100..=699"),
            SipErrorKind::InvalidReasonPhrase => f.write_str("control character in Reason-Phrase"),
            SipErrorKind::UnsupportedVersion => f.write_str("SIP-Version is not SIP/2.0"),
            SipErrorKind::InvalidVersion => f.write_str("malformed SIP-Version"),
            SipErrorKind::InvalidHeaderName => f.write_str("header name is not a token"),
            SipErrorKind::MissingColon => f.write_str("no colon after the header name"),
            SipErrorKind::InvalidHeaderValue => f.write_str("control character in a header value"),
            SipErrorKind::MissingHeader(name) => write!(f, "missing {name} header"),
            SipErrorKind::DuplicateHeader(name) => write!(f, "repeated {name} header"),
            SipErrorKind::MalformedHeader(name) => write!(f, "malformed {name} header"),
            SipErrorKind::ValueOutOfRange(name) => write!(f, "{name} value out of range"),
            SipErrorKind::InvalidContentLength => f.write_str("malformed Content-Length"),
            SipErrorKind::BodyTruncated => {
                f.write_str("Content-Length larger than the octets received")
            }
            SipErrorKind::MissingContentLength => {
                f.write_str("no Content-Length on a stream transport")
            }
            SipErrorKind::CSeqMethodMismatch => {
                f.write_str("CSeq method differs from the Request-Line method")
            }
        }
    }
}

impl fmt::Display for SipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid SIP message at byte {}: {}",
            self.offset, self.kind
        )
    }
}

impl std::error::Error for SipError {}
