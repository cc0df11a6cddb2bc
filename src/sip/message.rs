//! The parsed SIP message: a zero-copy view of a request or a response.

use smallvec::SmallVec;

use super::HeaderName;

/// How many header fields a [`SipMessage`] holds without allocating.
pub(crate) const INLINE_HEADERS: usize = 24;

/// The raw value of one header field, as found in the message.
///
/// `value` is trimmed of surrounding linear white space but may still contain
/// folded line breaks (`CRLF` followed by SP or HT, RFC 3261 §7.3.1), which the
/// value parsers treat as LWS. Comma-separated list values are not split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderValue<'a> {
    /// The value, borrowed from the message.
    pub value: &'a str,
    /// Byte offset of `value` in the parsed input.
    pub offset: usize,
}

impl<'a> HeaderValue<'a> {
    /// The value text (same as the `value` field).
    pub fn as_str(&self) -> &'a str {
        self.value
    }
}

/// The Request-Line of a request (RFC 3261 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    /// The Method token, case-sensitive (`INVITE`, `MESSAGE`, or any
    /// extension method).
    pub method: &'a str,
    /// The Request-URI, unparsed (its syntax has been checked).
    pub uri: &'a str,
    /// Byte offset of the Request-URI in the parsed input.
    pub uri_offset: usize,
}

/// The Status-Line of a response (RFC 3261 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine<'a> {
    /// The Status-Code, in `100..=699`.
    pub code: u16,
    /// The Reason-Phrase, possibly empty, possibly UTF-8.
    pub reason: &'a str,
}

/// The first line of a SIP message. The SIP-Version is always `SIP/2.0`:
/// any other version is rejected by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// A request's Request-Line.
    Request(RequestLine<'a>),
    /// A response's Status-Line.
    Response(StatusLine<'a>),
}

/// One header field of a parsed message: its name and where its value is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderEntry<'a> {
    pub(crate) name: HeaderName<'a>,
    pub(crate) value: &'a str,
    pub(crate) offset: u32,
}

impl<'a> HeaderEntry<'a> {
    fn value(&self) -> HeaderValue<'a> {
        // Offsets fit in u32: the parser rejects larger inputs.
        HeaderValue {
            value: self.value,
            offset: self.offset as usize,
        }
    }
}

/// A parsed SIP request or response, borrowing the bytes it was parsed from.
///
/// Built by [`parse_message`](super::parse_message) (or [`SipMessage::parse`]),
/// which has already checked the start line, the header syntax, the presence
/// and uniqueness of the mandatory header fields, the CSeq, Max-Forwards and
/// Content-Length values, and found the body.
///
/// Two messages are equal (`==`) when their start lines, header fields (names
/// as [`HeaderName`]s, values as text) and bodies are equal; byte offsets are
/// not compared.
#[derive(Debug, Clone)]
pub struct SipMessage<'a> {
    pub(crate) start_line: StartLine<'a>,
    pub(crate) headers: SmallVec<[HeaderEntry<'a>; INLINE_HEADERS]>,
    pub(crate) body: &'a [u8],
}

impl<'a> SipMessage<'a> {
    /// The start line: a Request-Line or a Status-Line.
    pub fn start_line(&self) -> &StartLine<'a> {
        &self.start_line
    }

    /// `true` for a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start_line, StartLine::Request(_))
    }

    /// The Request-Line, for a request.
    pub fn request_line(&self) -> Option<&RequestLine<'a>> {
        match &self.start_line {
            StartLine::Request(line) => Some(line),
            StartLine::Response(_) => None,
        }
    }

    /// The Status-Line, for a response.
    pub fn status_line(&self) -> Option<&StatusLine<'a>> {
        match &self.start_line {
            StartLine::Request(_) => None,
            StartLine::Response(line) => Some(line),
        }
    }

    /// The Method of a request's Request-Line.
    pub fn method(&self) -> Option<&'a str> {
        self.request_line().map(|line| line.method)
    }

    /// The Status-Code of a response.
    pub fn status_code(&self) -> Option<u16> {
        self.status_line().map(|line| line.code)
    }

    /// Every header field in message order, with its name as recognised
    /// (compact forms become the long name's variant).
    pub fn headers(&self) -> impl Iterator<Item = (HeaderName<'a>, HeaderValue<'a>)> + '_ {
        self.headers.iter().map(|entry| (entry.name, entry.value()))
    }

    /// Every value of the header field `name`, in message order, whatever
    /// form (long, compact, any case) each occurrence used.
    pub fn header_values<'s>(
        &'s self,
        name: HeaderName<'s>,
    ) -> impl Iterator<Item = HeaderValue<'a>> + 's {
        let other = match name {
            HeaderName::Other(other) => Some(other),
            _ => None,
        };
        let wanted = core::mem::discriminant(&name);
        self.headers
            .iter()
            .filter(move |entry| match other {
                None => core::mem::discriminant(&entry.name) == wanted,
                Some(other) => other.eq_ignore_ascii_case(entry.name.as_str()),
            })
            .map(HeaderEntry::value)
    }

    /// The first value of the header field `name`.
    pub fn header(&self, name: HeaderName<'_>) -> Option<HeaderValue<'a>> {
        self.header_values(name).next()
    }

    /// How many header fields the message has.
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// The message body: the octets announced by Content-Length, or (in a
    /// datagram without Content-Length) every octet after the header section.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

impl PartialEq for SipMessage<'_> {
    fn eq(&self, other: &SipMessage<'_>) -> bool {
        self.start_line == other.start_line
            && self.body == other.body
            && self.headers.len() == other.headers.len()
            && self
                .headers
                .iter()
                .zip(other.headers.iter())
                .all(|(a, b)| a.name == b.name && a.value == b.value)
    }
}

impl Eq for SipMessage<'_> {}
