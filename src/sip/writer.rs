//! Writing SIP messages into a caller's `Vec<u8>`: re-emitting a parsed
//! [`SipMessage`], and building requests and responses.
//!
//! Output is canonical: `Method SP Request-URI SP SIP/2.0` or
//! `SIP/2.0 SP Status-Code SP Reason-Phrase`, then one `Name: value` line per
//! header field with the long header name, CRLF line endings, an empty line
//! and the body. Builders always write a correct Content-Length.
//!
//! ```
//! use oma_im::sip::writer::RequestBuilder;
//! use oma_im::sip::{parse_message, HeaderName};
//!
//! let mut out = Vec::new();
//! RequestBuilder::new("MESSAGE", "sip:bob@example.com")
//!     .header(HeaderName::Via, "SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776sgdkse")
//!     .header(HeaderName::MaxForwards, "70")
//!     .header(HeaderName::From, "<sip:alice@example.com>;tag=49583")
//!     .header(HeaderName::To, "<sip:bob@example.com>")
//!     .header(HeaderName::CallId, "asd88asd77a@1.2.3.4")
//!     .header(HeaderName::CSeq, "1 MESSAGE")
//!     .body("text/plain", b"Hello")
//!     .write(&mut out);
//! let message = parse_message(&out)?;
//! assert_eq!(message.header(HeaderName::ContentLength).unwrap().value, "5");
//! assert_eq!(message.body(), b"Hello");
//! # Ok::<(), oma_im::sip::SipError>(())
//! ```

use crate::decimal::push_decimal;
use smallvec::SmallVec;

use super::message::{SipMessage, StartLine};
use super::name_addr::NameAddr;
use super::HeaderName;

/// How many header fields a builder holds without allocating.
const INLINE_BUILDER_HEADERS: usize = 16;

type Fields<'a> = SmallVec<[(HeaderName<'a>, &'a str); INLINE_BUILDER_HEADERS]>;

impl SipMessage<'_> {
    /// Appends the message in canonical form: the start line, every header
    /// field in order under its long name with its value as parsed (folded
    /// line breaks inside a value are kept), an empty line and the body.
    ///
    /// Header fields are written as they were received: a message that came
    /// without Content-Length (allowed in a datagram) is written without one,
    /// its body still last. What it writes parses back to a message equal
    /// (`==`) to this one, and writing that again gives the same octets.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self.start_line() {
            StartLine::Request(line) => write_request_line(out, line.method, line.uri),
            StartLine::Response(line) => write_status_line(out, line.code, line.reason),
        }
        for (name, value) in self.headers() {
            write_field(out, name, value.value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.body());
    }
}

fn write_request_line(out: &mut Vec<u8>, method: &str, uri: &str) {
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(uri.as_bytes());
    out.extend_from_slice(b" SIP/2.0\r\n");
}

fn write_status_line(out: &mut Vec<u8>, code: u16, reason: &str) {
    out.extend_from_slice(b"SIP/2.0 ");
    push_decimal(out, u64::from(code));
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn write_field(out: &mut Vec<u8>, name: HeaderName<'_>, value: &[u8]) {
    out.extend_from_slice(name.as_str().as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Appends `value` with every CR and LF replaced by SP, so that a value given
/// to a builder can never end its header field early.
fn push_single_line(out: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    let mut rest = bytes;
    while let Some(i) = memchr::memchr2(b'\r', b'\n', rest) {
        out.extend_from_slice(rest.get(..i).unwrap_or_default());
        out.push(b' ');
        rest = rest.get(i + 1..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
}

/// The header fields and body shared by both builders.
#[derive(Debug, Clone, Default)]
struct Parts<'a> {
    fields: Fields<'a>,
    body: Option<(&'a str, &'a [u8])>,
}

impl<'a> Parts<'a> {
    fn push(&mut self, name: HeaderName<'a>, value: &'a str) {
        if name != HeaderName::ContentLength {
            self.fields.push((name, value));
        }
    }

    /// Header fields, Content-Type (with a body), Content-Length, the empty
    /// line and the body. `to_tag` is added to a To field without a tag.
    fn write(&self, out: &mut Vec<u8>, to_tag: Option<&str>) {
        for &(name, value) in &self.fields {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            push_single_line(out, value);
            if let Some(tag) = to_tag.filter(|_| name == HeaderName::To) {
                if NameAddr::parse(value).is_ok_and(|to| to.tag().is_none()) {
                    out.extend_from_slice(b";tag=");
                    push_single_line(out, tag);
                }
            }
            out.extend_from_slice(b"\r\n");
        }
        let body = match self.body {
            Some((content_type, body)) => {
                out.extend_from_slice(b"Content-Type: ");
                push_single_line(out, content_type);
                out.extend_from_slice(b"\r\n");
                body
            }
            None => &[],
        };
        out.extend_from_slice(b"Content-Length: ");
        push_decimal(out, body.len() as u64);
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(body);
    }
}

/// Builds a request: `RequestBuilder::new(method, uri).header(..)..body(..)`,
/// then [`write`](RequestBuilder::write) into a `Vec<u8>`.
///
/// Header fields are written in the order given, under their long names.
/// Content-Length is always written, last, with the body's length; a
/// Content-Length given with [`header`](RequestBuilder::header) is ignored.
/// CR and LF inside values are written as SP. The method must be a token and
/// the Request-URI free of white space: they are written as given.
#[derive(Debug, Clone)]
pub struct RequestBuilder<'a> {
    method: &'a str,
    uri: &'a str,
    parts: Parts<'a>,
}

impl<'a> RequestBuilder<'a> {
    /// A request with this Method and Request-URI, no header field, no body.
    pub fn new(method: &'a str, uri: &'a str) -> Self {
        RequestBuilder {
            method,
            uri,
            parts: Parts::default(),
        }
    }

    /// Adds a header field after those already added.
    pub fn header(mut self, name: HeaderName<'a>, value: &'a str) -> Self {
        self.parts.push(name, value);
        self
    }

    /// Sets the body and its Content-Type (written just before
    /// Content-Length).
    pub fn body(mut self, content_type: &'a str, body: &'a [u8]) -> Self {
        self.parts.body = Some((content_type, body));
        self
    }

    /// Appends the request to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        write_request_line(out, self.method, self.uri);
        self.parts.write(out, None);
    }
}

/// Builds a response: from scratch with [`ResponseBuilder::new`], or to a
/// parsed request with [`ResponseBuilder::for_request`].
///
/// The same rules as [`RequestBuilder`] apply to header fields and the body.
/// The Status-Code should be in `100..=699` and the Reason-Phrase free of
/// control characters: they are written as given.
///
/// ```
/// use oma_im::sip::writer::ResponseBuilder;
/// use oma_im::sip::{parse_message, HeaderName};
///
/// let request = parse_message(b"BYE sip:bob@192.0.2.4 SIP/2.0\r\n\
///     Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds10\r\n\
///     Max-Forwards: 70\r\n\
///     From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
///     To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n\
///     Call-ID: a84b4c76e66710\r\n\
///     CSeq: 231 BYE\r\n\
///     Content-Length: 0\r\n\r\n")?;
/// let mut out = Vec::new();
/// ResponseBuilder::for_request(&request, 200, "OK").write(&mut out);
/// let response = parse_message(&out)?;
/// assert_eq!(response.status_code(), Some(200));
/// assert_eq!(response.header(HeaderName::CSeq).unwrap().value, "231 BYE");
/// # Ok::<(), oma_im::sip::SipError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ResponseBuilder<'a> {
    code: u16,
    reason: &'a str,
    to_tag: Option<&'a str>,
    parts: Parts<'a>,
}

impl<'a> ResponseBuilder<'a> {
    /// A response with this Status-Code and Reason-Phrase, no header field,
    /// no body.
    pub fn new(code: u16, reason: &'a str) -> Self {
        ResponseBuilder {
            code,
            reason,
            to_tag: None,
            parts: Parts::default(),
        }
    }

    /// A response to `request` (RFC 3261 §8.2.6.2): copies every Via in
    /// order, then From, To, Call-ID and CSeq. Add a To tag with
    /// [`to_tag`](ResponseBuilder::to_tag).
    pub fn for_request(request: &SipMessage<'a>, code: u16, reason: &'a str) -> Self {
        let mut response = ResponseBuilder::new(code, reason);
        for via in request.header_values(HeaderName::Via) {
            response.parts.push(HeaderName::Via, via.value);
        }
        for name in [
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
        ] {
            if let Some(value) = request.header(name) {
                response.parts.push(name, value.value);
            }
        }
        response
    }

    /// Adds `;tag=<tag>` to the To header field if it has no tag yet (RFC
    /// 3261 §8.2.6.2: a UAS adds its tag to the To of a response).
    pub fn to_tag(mut self, tag: &'a str) -> Self {
        self.to_tag = Some(tag);
        self
    }

    /// Adds a header field after those already added.
    pub fn header(mut self, name: HeaderName<'a>, value: &'a str) -> Self {
        self.parts.push(name, value);
        self
    }

    /// Sets the body and its Content-Type (written just before
    /// Content-Length).
    pub fn body(mut self, content_type: &'a str, body: &'a [u8]) -> Self {
        self.parts.body = Some((content_type, body));
        self
    }

    /// Appends the response to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        write_status_line(out, self.code, self.reason);
        self.parts.write(out, self.to_tag);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_message;

    #[test]
    fn values_cannot_break_out_of_their_line() {
        let mut out = Vec::new();
        push_single_line(&mut out, "a\r\nVia: evil\rb\nc");
        assert_eq!(out, b"a  Via: evil b c");
    }

    #[test]
    fn content_length_is_computed_not_copied() {
        let mut out = Vec::new();
        RequestBuilder::new("INFO", "sip:a@example.com")
            .header(HeaderName::ContentLength, "999")
            .body("application/octet-stream", &[0, 13, 10, 255])
            .write(&mut out);
        assert!(out.ends_with(
            b"Content-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n\x00\r\n\xff"
        ));
        assert!(!out.windows(3).any(|w| w == b"999"));
    }

    #[test]
    fn response_to_request_copies_the_transaction_fields_and_tags_to() {
        let request = parse_message(
            b"INVITE sip:bob@example.com SIP/2.0\r\n\
              Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1\r\n\
              v: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK2\r\n\
              Max-Forwards: 69\r\n\
              f: Alice <sip:alice@example.com>;tag=1928301774\r\n\
              t: Bob <sip:bob@example.com>\r\n\
              i: a84b4c76e66710@pc33.example.com\r\n\
              CSeq: 314159 INVITE\r\n\
              Subject: lunch\r\n\
              l: 0\r\n\r\n",
        )
        .unwrap();
        let mut out = Vec::new();
        ResponseBuilder::for_request(&request, 180, "Ringing")
            .to_tag("a6c85cf")
            .write(&mut out);
        let expected: &[u8] = b"SIP/2.0 180 Ringing\r\n\
            Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1\r\n\
            Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK2\r\n\
            From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
            To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n\
            Call-ID: a84b4c76e66710@pc33.example.com\r\n\
            CSeq: 314159 INVITE\r\n\
            Content-Length: 0\r\n\r\n";
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(expected)
        );
        // A To that already has a tag keeps it.
        let response = parse_message(&out).unwrap();
        let mut again = Vec::new();
        ResponseBuilder::for_request(&response, 200, "OK")
            .to_tag("other")
            .write(&mut again);
        let text = String::from_utf8_lossy(&again);
        assert!(
            text.contains("To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n"),
            "{text}"
        );
    }

    #[test]
    fn parsed_messages_are_rewritten_canonically() {
        let input = b"\r\nSIP/2.0 200 OK\r\nv : SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n\
            f:<sip:a@example.com>;tag=1\r\nt:<sip:b@example.com>;tag=2\r\n\
            i:x@y\r\nCSeq:1 MESSAGE\r\nX-Folded: one\r\n  two\r\nl:3\r\n\r\nabcdef";
        let message = parse_message(input).unwrap();
        let mut out = Vec::new();
        message.write(&mut out);
        let expected: &[u8] = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n\
            From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n\
            Call-ID: x@y\r\nCSeq: 1 MESSAGE\r\nX-Folded: one\r\n  two\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(expected)
        );
        assert_eq!(parse_message(&out).unwrap(), message);
    }
}
