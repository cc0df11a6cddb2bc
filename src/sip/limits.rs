//! Bounds on what the SIP parser and framer accept.

use super::ValueLimits;

/// Bounds on a SIP message. Input over a bound is rejected with a typed
/// [`SipError`](super::SipError), found in time linear in the input.
///
/// [`values`](Self::values) bounds the header values: the parser checks the
/// values it validates (the Request-URI, Via, From, To, ...) under them, and
/// the [`SipMessage`](super::SipMessage) it returns keeps them for its typed
/// accessors ([`SipMessage::contact`](super::SipMessage::contact), ...).
///
/// ```
/// use oma_im::sip::{parse_message_with, HeaderName, Limits, SipErrorKind, ValueLimits};
///
/// let request = b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
///     Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
///     From: <sip:alice@example.com>;tag=1;a;b;c\r\nTo: <sip:bob@example.com>\r\n\
///     Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
/// assert!(parse_message_with(request, &Limits::default()).is_ok());
/// let tight = Limits {
///     values: ValueLimits { max_params: 2, ..ValueLimits::DEFAULT },
///     ..Limits::default()
/// };
/// let error = parse_message_with(request, &tight).unwrap_err();
/// assert_eq!(error.kind, SipErrorKind::MalformedHeader(HeaderName::From));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (start line, headers and body) in octets. Also bounds
    /// how far the stream framer looks for the end of a header section.
    /// Values above `u32::MAX` act as `u32::MAX`.
    pub max_message_size: usize,
    /// Largest number of header fields; counted while scanning, so a message
    /// with more is rejected as soon as the first extra field is seen.
    pub max_headers: usize,
    /// Largest header field (name, value and folded continuation lines) and
    /// largest start line, in octets.
    pub max_header_len: usize,
    /// Bounds on each header value (parameters, URI headers, comment
    /// nesting, products), for the parser's checks and the message's typed
    /// accessors.
    pub values: ValueLimits,
}

impl Default for Limits {
    /// 64 KiB messages, 128 header fields, 8 KiB per header field, the
    /// default [`ValueLimits`].
    fn default() -> Self {
        Limits {
            max_message_size: 64 * 1024,
            max_headers: 128,
            max_header_len: 8 * 1024,
            values: ValueLimits::DEFAULT,
        }
    }
}
