//! [`Layout`]: where the parts of a parsed message are in its bytes, kept
//! with the bytes so that the zero-copy view is rebuilt without parsing
//! again.

use super::message::{Checked, Entries, HeaderEntry, RequestLine, StartLine, StatusLine};
use super::value::KeptValueLimits;
use super::{SipMessage, ValueLimits};

/// A range of octets in the message.
type Span = (u32, u32);

/// The start line, by offsets.
#[derive(Debug, Clone, Copy)]
enum Start {
    Request { method: Span, uri: Span },
    Response { code: u16, reason: Span },
}

/// What the parser found in one message, as offsets into its bytes: the
/// start line, the end of the header section, every header field (name id
/// and value span) and the body. Built from a [`SipMessage`] parsed from
/// exactly those bytes; [`Layout::view`] gives that message back, its
/// checked values (From, To, Via, ...) parsed again only when asked for.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    start: Start,
    head_end: u32,
    body: Span,
    more_vias: bool,
    /// The value limits the message was parsed with.
    value_limits: KeptValueLimits,
    headers: Box<[HeaderEntry]>,
}

/// The span of `part`, a subslice of the message that starts with `whole`
/// (an empty part may be a constant: its span is empty). Parsed messages
/// are at most `u32::MAX` octets long (the parser's size limit), so the
/// offsets fit; a span that does not is caught by [`Layout::view`].
fn span(whole: &[u8], part: &[u8]) -> Span {
    if part.is_empty() {
        return (0, 0);
    }
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    let end = start.saturating_add(part.len());
    (
        u32::try_from(start).unwrap_or(u32::MAX),
        u32::try_from(end).unwrap_or(0),
    )
}

/// `bytes[span]` as text.
fn text(head: &str, (start, end): Span) -> Option<&str> {
    head.get(start as usize..end as usize)
}

impl Layout {
    /// The layout of `message`, parsed from bytes that start where its
    /// header section starts.
    pub(crate) fn of(message: &SipMessage<'_>) -> Self {
        let head = message.head.as_bytes();
        let start = match &message.start_line {
            StartLine::Request(line) => Start::Request {
                method: span(head, line.method.as_bytes()),
                uri: span(head, line.uri.as_bytes()),
            },
            StartLine::Response(line) => Start::Response {
                code: line.code,
                reason: span(head, line.reason.as_bytes()),
            },
        };
        Layout {
            start,
            head_end: head.len() as u32,
            body: span(head, message.body),
            more_vias: message.checked.more_vias,
            value_limits: message.value_limits,
            headers: message.headers.to_vec().into_boxed_slice(),
        }
    }

    /// The layout of a request the crate wrote itself from the parts of a
    /// parsed one, without parsing it: `method` and `uri` are the spans of
    /// its Request-Line, `headers` its fields, `head_end` the end of its
    /// header section (its empty line included); it has no body. Its
    /// values are read under `value_limits`, those of the message it was
    /// written from.
    pub(crate) fn written_request(
        method: (u32, u32),
        uri: (u32, u32),
        headers: Box<[HeaderEntry]>,
        head_end: u32,
        more_vias: bool,
        value_limits: &crate::sip::ValueLimits,
    ) -> Self {
        Layout {
            start: Start::Request { method, uri },
            head_end,
            body: (0, 0),
            more_vias,
            value_limits: KeptValueLimits::new(value_limits),
            headers,
        }
    }

    /// The layout with `body` as the span of its body.
    pub(crate) fn with_body(mut self, body: (u32, u32)) -> Self {
        self.body = body;
        self
    }

    /// `true` when the Via header fields hold more than one via-parm.
    pub(crate) fn more_vias(&self) -> bool {
        self.more_vias
    }

    /// The message whose layout this is, over `bytes` (the bytes it was
    /// parsed from); `None` if `bytes` are not those.
    pub(crate) fn view<'a>(&'a self, bytes: &'a [u8]) -> Option<SipMessage<'a>> {
        let head = core::str::from_utf8(bytes.get(..self.head_end as usize)?).ok()?;
        let start_line = match self.start {
            Start::Request { method, uri } => StartLine::Request(RequestLine {
                method: text(head, method)?,
                uri: text(head, uri)?,
                uri_offset: uri.0 as usize,
            }),
            Start::Response { code, reason } => StartLine::Response(StatusLine {
                code,
                reason: text(head, reason)?,
            }),
        };
        let body = bytes.get(self.body.0 as usize..self.body.1 as usize)?;
        Some(SipMessage {
            head,
            start_line,
            headers: Entries::Kept(&self.headers),
            body,
            checked: Checked {
                more_vias: self.more_vias,
                ..Checked::default()
            },
            value_limits: self.value_limits,
        })
    }

    /// The method of a request, from `bytes` (those the layout was made
    /// from); `None` for a response.
    pub(crate) fn method<'a>(&self, bytes: &'a [u8]) -> Option<&'a str> {
        match self.start {
            Start::Request { method, .. } => {
                core::str::from_utf8(bytes.get(method.0 as usize..method.1 as usize)?).ok()
            }
            Start::Response { .. } => None,
        }
    }

    /// The value limits the message was parsed with.
    pub(crate) fn value_limits(&self) -> ValueLimits {
        self.value_limits.get()
    }

    /// The value of the first header field named `name` (a name the crate
    /// knows: `id` is its [`HeaderName::id`](super::HeaderName)), read from
    /// `bytes` (those the layout was made from) without a view of the
    /// whole message.
    pub(crate) fn first_value<'a>(&self, id: u8, bytes: &'a [u8]) -> Option<&'a str> {
        let entry = self.headers.iter().find(|e| e.id == id && id != 0)?;
        core::str::from_utf8(bytes.get(entry.start as usize..entry.end as usize)?).ok()
    }

    /// How many header fields the message has.
    pub(crate) fn header_count(&self) -> usize {
        self.headers.len()
    }
}
