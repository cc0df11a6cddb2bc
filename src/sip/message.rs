//! The parsed SIP message: a zero-copy view of a request or a response.

use core::cell::OnceCell;

use smallvec::SmallVec;

use super::parse::syntax::is_token_byte;
use super::value::KeptValueLimits;
use super::{CSeq, CallId, HeaderName, NameAddr, SipError, Uri, ValueLimits, Via};

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

/// One header field of a parsed message: its name and where its value is
/// in the message's header section, in 16 octets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderEntry {
    /// The [`HeaderName::id`] of the name: `0` for an unknown name, which
    /// is then read from the message.
    pub(crate) id: u8,
    /// Offset of the field's first octet (its name) in the parsed input.
    pub(crate) field: u32,
    /// Offset of the value's first octet in the parsed input.
    pub(crate) start: u32,
    /// Offset just past the value's last octet.
    pub(crate) end: u32,
}

/// The header fields of a [`SipMessage`]: cut by the parser (inline up
/// to [`INLINE_HEADERS`]), or borrowed from the layout an
/// [`OwnedMessage`](crate::transaction::OwnedMessage) keeps with its bytes.
#[derive(Debug, Clone)]
// A parsed message lives on the stack for one call: its fields inline save
// an allocation per message; a kept message borrows its own.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Entries<'a> {
    /// Cut by the parser.
    Parsed(SmallVec<[HeaderEntry; INLINE_HEADERS]>),
    /// Kept with the bytes they index.
    Kept(&'a [HeaderEntry]),
}

impl core::ops::Deref for Entries<'_> {
    type Target = [HeaderEntry];

    fn deref(&self) -> &[HeaderEntry] {
        match self {
            Entries::Parsed(entries) => entries,
            Entries::Kept(entries) => entries,
        }
    }
}

/// The values every message has and the parser checks (the Request-URI,
/// the top Via, From, To, Call-ID and CSeq), each parsed once: by the
/// parser's checks, or — for a message rebuilt from bytes the parser
/// accepted before — on first use.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checked<'a> {
    /// The Request-URI of a request.
    pub(crate) request_uri: OnceCell<Option<Uri<'a>>>,
    /// The first via-parm of the first Via header field that has one.
    pub(crate) top_via: OnceCell<Option<Via<'a>>>,
    /// `true` when the Via header fields hold more than one via-parm.
    pub(crate) more_vias: bool,
    /// The From value.
    pub(crate) from: OnceCell<Result<NameAddr<'a>, SipError>>,
    /// The To value.
    pub(crate) to: OnceCell<Result<NameAddr<'a>, SipError>>,
    /// The Call-ID.
    pub(crate) call_id: OnceCell<Result<CallId<'a>, SipError>>,
    /// The CSeq.
    pub(crate) cseq: OnceCell<Result<CSeq<'a>, SipError>>,
}

/// A parsed SIP request or response, borrowing the bytes it was parsed from.
///
/// Built by [`parse_message`](super::parse_message) (or [`SipMessage::parse`]),
/// which has already checked the start line, the header syntax, the presence
/// and uniqueness of the mandatory header fields, the CSeq, Max-Forwards and
/// Content-Length values, and found the body. Its typed accessors parse
/// header values under the value limits it was parsed with
/// ([`Limits::values`](super::Limits::values)).
///
/// Two messages are equal (`==`) when their start lines, header fields (names
/// as [`HeaderName`]s, values as text) and bodies are equal; byte offsets are
/// not compared.
#[derive(Debug, Clone)]
pub struct SipMessage<'a> {
    /// The input up to the end of the header section, as text.
    pub(crate) head: &'a str,
    pub(crate) start_line: StartLine<'a>,
    pub(crate) headers: Entries<'a>,
    pub(crate) body: &'a [u8],
    /// The values the parser checked, parsed once.
    pub(crate) checked: Checked<'a>,
    /// The value limits the message was parsed with, for its typed
    /// accessors.
    pub(crate) value_limits: KeptValueLimits,
}

impl HeaderEntry {
    /// The value of this field, from the header section `head`.
    pub(crate) fn value<'a>(&self, head: &'a str) -> HeaderValue<'a> {
        let (start, end) = (self.start as usize, self.end as usize);
        HeaderValue {
            value: head.get(start..end).unwrap_or_default(),
            offset: start,
        }
    }

    /// The name of this field: a known name by its id, any other as
    /// written (the token at the start of the field) in `head`.
    pub(crate) fn name<'a>(&self, head: &'a str) -> HeaderName<'a> {
        HeaderName::from_id(self.id).unwrap_or_else(|| {
            let field = head.get(self.field as usize..).unwrap_or_default();
            let len = field
                .bytes()
                .position(|b| !is_token_byte(b))
                .unwrap_or(field.len());
            HeaderName::Other(field.get(..len).unwrap_or_default())
        })
    }
}

impl<'a> SipMessage<'a> {
    /// The octets of the message: its header section and body.
    pub(crate) fn size(&self) -> usize {
        self.head.len().saturating_add(self.body.len())
    }

    /// The value of `entry`, from the header section.
    pub(crate) fn value(&self, entry: &HeaderEntry) -> HeaderValue<'a> {
        entry.value(self.head)
    }

    /// The value limits the message was parsed with
    /// ([`Limits::values`](super::Limits::values)), under which its typed
    /// accessors parse.
    ///
    /// ```
    /// use oma_im::sip::{parse_message_with, Limits, ValueLimits};
    ///
    /// let limits = Limits {
    ///     values: ValueLimits { max_params: 4, ..ValueLimits::DEFAULT },
    ///     ..Limits::default()
    /// };
    /// let message = parse_message_with(b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
    ///     Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
    ///     From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
    ///     Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\
    ///     Contact: <sip:alice@192.0.2.1>;a;b;c;d;e\r\nContent-Length: 0\r\n\r\n", &limits)?;
    /// assert_eq!(message.value_limits().max_params, 4);
    /// assert!(message.contact().next().unwrap().is_err());
    /// # Ok::<(), oma_im::sip::SipError>(())
    /// ```
    pub fn value_limits(&self) -> ValueLimits {
        self.value_limits.get()
    }

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

    /// The Request-URI of a request, parsed (the parser has checked it, and
    /// parses it at most once).
    ///
    /// ```
    /// use oma_im::sip::parse_message;
    ///
    /// let request = parse_message(b"OPTIONS sip:bob@example.com;transport=tcp SIP/2.0\r\n\
    ///     Via: SIP/2.0/TCP h.example.com;branch=z9hG4bK1\r\n\
    ///     From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
    ///     Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")?;
    /// let uri = request.request_uri().unwrap();
    /// assert_eq!(uri.as_sip().unwrap().transport(), Some("tcp"));
    /// # Ok::<(), oma_im::sip::SipError>(())
    /// ```
    pub fn request_uri(&self) -> Option<&Uri<'a>> {
        self.checked
            .request_uri
            .get_or_init(|| Uri::parse_with(self.request_line()?.uri, &self.value_limits()).ok())
            .as_ref()
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
        self.headers
            .iter()
            .map(|entry| (entry.name(self.head), self.value(entry)))
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
        HeaderValues {
            entries: self.headers.iter(),
            head: self.head,
            wanted: name.id(),
            other,
        }
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

/// The values of one header field, in message order: a known name is
/// found by its id, any other by its spelling.
struct HeaderValues<'s, 'a> {
    entries: core::slice::Iter<'s, HeaderEntry>,
    /// The header section the entries index.
    head: &'a str,
    /// The [`HeaderName::id`] of the name (`0` for any other name).
    wanted: u8,
    /// Any other name, as given.
    other: Option<&'s str>,
}

impl<'a> Iterator for HeaderValues<'_, 'a> {
    type Item = HeaderValue<'a>;

    fn next(&mut self) -> Option<HeaderValue<'a>> {
        let head = self.head;
        let entry = match self.other {
            None => {
                let wanted = self.wanted;
                self.entries.find(|entry| entry.id == wanted)?
            }
            Some(other) => self
                .entries
                .find(|entry| other.eq_ignore_ascii_case(entry.name(head).as_str()))?,
        };
        Some(entry.value(head))
    }
}

impl<'b> PartialEq<SipMessage<'b>> for SipMessage<'_> {
    fn eq(&self, other: &SipMessage<'b>) -> bool {
        same_start_line(&self.start_line, &other.start_line)
            && self.body == other.body
            && self.headers.len() == other.headers.len()
            && self.headers.iter().zip(other.headers.iter()).all(|(a, b)| {
                a.name(self.head) == b.name(other.head)
                    && self.value(a).value == other.value(b).value
            })
    }
}

impl Eq for SipMessage<'_> {}

/// Start lines equal in everything but offsets.
fn same_start_line(a: &StartLine<'_>, b: &StartLine<'_>) -> bool {
    match (a, b) {
        (StartLine::Request(a), StartLine::Request(b)) => a.method == b.method && a.uri == b.uri,
        (StartLine::Response(a), StartLine::Response(b)) => {
            a.code == b.code && a.reason == b.reason
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::sip::{parse_message, HeaderName};

    const OPTIONS: &[u8] = b"OPTIONS sip:b@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\nv: SIP/2.0/UDP g.example.com\r\n\
        From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
        Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nX-Other: x\r\nl: 0\r\n\r\n";

    #[test]
    fn equality_ignores_offsets_but_not_content() {
        let plain = parse_message(OPTIONS).unwrap();
        let mut shifted = b"\r\n\r\n".to_vec();
        shifted.extend_from_slice(OPTIONS);
        let shifted = parse_message(&shifted).unwrap();
        assert_eq!(
            plain.request_line().unwrap().uri_offset + 4,
            shifted.request_line().unwrap().uri_offset
        );
        assert_eq!(plain, shifted);
        let other = String::from_utf8_lossy(OPTIONS).replace("X-Other: x", "X-Other: y");
        assert_ne!(plain, parse_message(other.as_bytes()).unwrap());
    }

    #[test]
    fn header_lookup_by_any_spelling() {
        let m = parse_message(OPTIONS).unwrap();
        let vias: Vec<_> = m.header_values(HeaderName::Via).map(|v| v.value).collect();
        assert_eq!(
            vias,
            [
                "SIP/2.0/UDP h.example.com;branch=z9hG4bK1",
                "SIP/2.0/UDP g.example.com"
            ]
        );
        assert_eq!(m.header(HeaderName::Other("x-OTHER")).unwrap().value, "x");
        assert_eq!(m.header(HeaderName::Other("via")).unwrap().value, vias[0]);
        let cl = m.header(HeaderName::ContentLength).unwrap();
        assert_eq!(&OPTIONS[cl.offset..cl.offset + 1], b"0");
        assert!(m.header(HeaderName::Subject).is_none());
        assert_eq!(m.headers().count(), m.header_count());
    }
}
