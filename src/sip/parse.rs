//! Parsing one complete SIP message (a datagram, or a message the stream
//! framer has cut out): start line, header fields, the checks RFC 3261 and
//! RFC 4475 ask a receiver to make, and the body.

mod fields;
pub(crate) use fields::content_length_of;
mod start_line;
pub(crate) mod syntax;

use smallvec::SmallVec;

use super::message::{HeaderEntry, HeaderValue, SipMessage, StartLine};
use super::{HeaderName, Limits, SipError, SipErrorKind};

/// Parses one complete SIP message with the default [`Limits`].
///
/// See [`parse_message_with`].
///
/// ```
/// use oma_im::sip::{parse_message, HeaderName};
///
/// let datagram = b"MESSAGE sip:bob@example.com SIP/2.0\r\n\
///     Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776sgdkse\r\n\
///     Max-Forwards: 70\r\n\
///     f: <sip:alice@example.com>;tag=49583\r\n\
///     t: <sip:bob@example.com>\r\n\
///     i: asd88asd77a@1.2.3.4\r\n\
///     CSeq: 1 MESSAGE\r\n\
///     c: text/plain\r\n\
///     l: 5\r\n\
///     \r\n\
///     Hello";
/// let message = parse_message(datagram)?;
/// assert_eq!(message.method(), Some("MESSAGE"));
/// assert_eq!(message.header(HeaderName::From).unwrap().value, "<sip:alice@example.com>;tag=49583");
/// assert_eq!(message.body(), b"Hello");
/// # Ok::<(), oma_im::sip::SipError>(())
/// ```
pub fn parse_message(input: &[u8]) -> Result<SipMessage<'_>, SipError> {
    parse_message_with(input, &Limits::default())
}

/// Parses one complete SIP message from `input`, borrowing it.
///
/// `input` is a datagram or a message cut out of a stream by the
/// [framer](super::framing). CRLFs before the start line are skipped
/// (RFC 3261 §7.5). The body is the number of octets Content-Length
/// announces; octets after them are ignored (RFC 4475 §3.1.1.8, a datagram
/// holding more than one message). Without Content-Length the body is every
/// remaining octet.
///
/// Besides syntax, this checks what RFC 4475 asks a receiver to reject:
/// an unsupported SIP-Version; a missing or repeated Call-ID, From, To or
/// CSeq; a repeated Max-Forwards; a missing Via; a CSeq method other than the
/// Request-Line's; CSeq, Max-Forwards, Expires and Retry-After values out of
/// range; warn-codes that are not three digits; a Content-Length that is not
/// a number, that differs between two occurrences, or that is larger than the
/// octets received. A request without Max-Forwards is accepted (RFC 4475
/// §3.1.1.13, an RFC 2543 request).
///
/// Work is linear in the input; the header count limit is enforced while
/// scanning. No heap allocation for messages of up to 24 header fields.
pub fn parse_message_with<'a>(
    input: &'a [u8],
    limits: &Limits,
) -> Result<SipMessage<'a>, SipError> {
    let max_size = limits.max_message_size.min(u32::MAX as usize);
    if input.len() > max_size {
        return Err(SipError::new(SipErrorKind::MessageTooLarge, max_size));
    }
    let start = skip_keepalives(input);
    let head_end = find_head_end(input, start)?;
    let head = head_str(input, head_end)?;
    check_line_endings(head)?;

    // Start line: up to the first CRLF.
    let line_end = memchr::memchr(b'\n', head.as_bytes().get(start..).unwrap_or_default())
        .map_or(head.len(), |i| start + i - 1);
    if line_end - start > limits.max_header_len {
        return Err(SipError::new(SipErrorKind::HeaderTooLong, start));
    }
    let start_line = start_line::parse(head.get(start..line_end).unwrap_or_default(), start)?;

    let mut scan = HeaderScan::new(&start_line);
    // Header fields: from after the start line's CRLF to the blank line.
    let fields_end = head_end - 2;
    let mut pos = line_end + 2;
    while pos < fields_end {
        let field_end = field_end(head.as_bytes(), pos, fields_end);
        if field_end - pos > limits.max_header_len {
            return Err(SipError::new(SipErrorKind::HeaderTooLong, pos));
        }
        if scan.headers.len() == limits.max_headers {
            return Err(SipError::new(SipErrorKind::TooManyHeaders, pos));
        }
        let (name, value) = split_field(head, pos, field_end)?;
        scan.add(HeaderName::parse(name), value)?;
        pos = field_end + 2;
    }
    scan.finish(input, head_end)
}

impl<'a> SipMessage<'a> {
    /// Parses one complete SIP message; the same as [`parse_message`].
    pub fn parse(input: &'a [u8]) -> Result<SipMessage<'a>, SipError> {
        parse_message(input)
    }

    /// Parses one complete SIP message under `limits`; the same as
    /// [`parse_message_with`].
    pub fn parse_with(input: &'a [u8], limits: &Limits) -> Result<SipMessage<'a>, SipError> {
        parse_message_with(input, limits)
    }
}

/// Offset of the first octet after any leading CRLFs.
pub(crate) fn skip_keepalives(input: &[u8]) -> usize {
    let mut at = 0;
    while input.get(at..at + 2) == Some(b"\r\n") {
        at += 2;
    }
    at
}

/// Offset just after the empty line closing the header section.
fn find_head_end(input: &[u8], start: usize) -> Result<usize, SipError> {
    let rest = input.get(start..).unwrap_or_default();
    if let Some(at) = memchr::memmem::find(rest, b"\r\n\r\n") {
        return Ok(start + at + 4);
    }
    // Say why: a bare line ending, or simply no empty line.
    let bare =
        memchr::memchr_iter(b'\n', rest).find(|&i| i == 0 || rest.get(i - 1) != Some(&b'\r'));
    match bare {
        Some(i) => Err(SipError::new(SipErrorKind::BareLineEnding, start + i)),
        None => Err(SipError::new(
            SipErrorKind::UnterminatedHeaders,
            input.len(),
        )),
    }
}

/// The start line and header section as text.
fn head_str(input: &[u8], head_end: usize) -> Result<&str, SipError> {
    let head = input.get(..head_end).unwrap_or_default();
    core::str::from_utf8(head)
        .map_err(|e| SipError::new(SipErrorKind::InvalidUtf8, e.valid_up_to()))
}

/// Every CR in the head is followed by LF and every LF preceded by CR.
fn check_line_endings(head: &str) -> Result<(), SipError> {
    let b = head.as_bytes();
    for i in memchr::memchr2_iter(b'\r', b'\n', b) {
        let ok = match b.get(i) {
            Some(b'\r') => b.get(i + 1) == Some(&b'\n'),
            _ => i > 0 && b.get(i - 1) == Some(&b'\r'),
        };
        if !ok {
            return Err(SipError::new(SipErrorKind::BareLineEnding, i));
        }
    }
    Ok(())
}

/// End (offset of the CR) of the header field starting at `pos`, following
/// folded continuation lines (CRLF followed by SP or HT).
fn field_end(head: &[u8], pos: usize, fields_end: usize) -> usize {
    let mut at = pos;
    loop {
        let rest = head.get(at..fields_end).unwrap_or_default();
        match memchr::memchr(b'\n', rest) {
            // Line endings are checked: the LF is preceded by CR.
            Some(i) if matches!(head.get(at + i + 1), Some(b' ' | b'\t')) => at += i + 1,
            Some(i) => return at + i - 1,
            None => return fields_end,
        }
    }
}

/// Where the name and the trimmed value of a header field are, relative to
/// the field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldParts {
    /// Length of the name (a token, so ASCII).
    pub(crate) name_len: usize,
    /// Start of the value, after the colon and any LWS.
    pub(crate) value_start: usize,
    /// End of the value, before any trailing LWS.
    pub(crate) value_end: usize,
}

/// Splits a header field (without its final CRLF) into `name HCOLON value`,
/// tolerating LWS (even folded) before the colon. On error, the cause and its
/// offset in `field`.
pub(crate) fn field_parts(field: &[u8]) -> Result<FieldParts, (SipErrorKind, usize)> {
    let name_len = field
        .iter()
        .position(|&b| !syntax::is_token_byte(b))
        .unwrap_or(field.len());
    if name_len == 0 {
        return Err((SipErrorKind::InvalidHeaderName, 0));
    }
    let after_name = field.get(name_len..).unwrap_or_default();
    let colon = after_name
        .iter()
        .position(|&b| !syntax::is_lws(b))
        .map(|i| name_len + i);
    let Some(colon) = colon.filter(|&i| field.get(i) == Some(&b':')) else {
        let kind = if after_name
            .first()
            .is_some_and(|&b| syntax::is_lws(b) || b == b':')
        {
            SipErrorKind::MissingColon
        } else {
            SipErrorKind::InvalidHeaderName
        };
        return Err((kind, name_len));
    };
    let value = field.get(colon + 1..).unwrap_or_default();
    let lead = value
        .iter()
        .position(|&b| !syntax::is_lws(b))
        .unwrap_or(value.len());
    let trail = value
        .iter()
        .rev()
        .position(|&b| !syntax::is_lws(b))
        .unwrap_or(0);
    let value_start = colon + 1 + lead;
    let value_end = (field.len() - trail).max(value_start);
    Ok(FieldParts {
        name_len,
        value_start,
        value_end,
    })
}

/// Splits the header field `head[pos..end]` into its name and trimmed value.
fn split_field(head: &str, pos: usize, end: usize) -> Result<(&str, HeaderValue<'_>), SipError> {
    let field = head.get(pos..end).unwrap_or_default();
    let parts =
        field_parts(field.as_bytes()).map_err(|(kind, at)| SipError::new(kind, pos + at))?;
    let name = field.get(..parts.name_len).unwrap_or_default();
    let value = field
        .get(parts.value_start..parts.value_end)
        .unwrap_or_default();
    Ok((
        name,
        HeaderValue {
            value,
            offset: pos + parts.value_start,
        },
    ))
}

/// The header fields collected so far and what the checks need to remember.
struct HeaderScan<'a> {
    start_line: StartLine<'a>,
    headers: SmallVec<[HeaderEntry<'a>; super::message::INLINE_HEADERS]>,
    via: bool,
    from: Option<HeaderValue<'a>>,
    to: Option<HeaderValue<'a>>,
    call_id: Option<HeaderValue<'a>>,
    cseq: Option<HeaderValue<'a>>,
    max_forwards: bool,
    content_length: Option<usize>,
}

impl<'a> HeaderScan<'a> {
    fn new(start_line: &StartLine<'a>) -> Self {
        HeaderScan {
            start_line: *start_line,
            headers: SmallVec::new(),
            via: false,
            from: None,
            to: None,
            call_id: None,
            cseq: None,
            max_forwards: false,
            content_length: None,
        }
    }

    /// Records one header field, checking single-instance fields and the
    /// scalars as they come.
    fn add(&mut self, name: HeaderName<'a>, value: HeaderValue<'a>) -> Result<(), SipError> {
        let once = |slot: &mut Option<HeaderValue<'a>>, name: HeaderName<'static>| match slot {
            Some(_) => Err(SipError::new(
                SipErrorKind::DuplicateHeader(name),
                value.offset,
            )),
            None => {
                *slot = Some(value);
                Ok(())
            }
        };
        match name {
            HeaderName::Via => self.via = true,
            HeaderName::From => once(&mut self.from, HeaderName::From)?,
            HeaderName::To => once(&mut self.to, HeaderName::To)?,
            HeaderName::CallId => once(&mut self.call_id, HeaderName::CallId)?,
            HeaderName::CSeq => once(&mut self.cseq, HeaderName::CSeq)?,
            HeaderName::MaxForwards => {
                if self.max_forwards {
                    let kind = SipErrorKind::DuplicateHeader(HeaderName::MaxForwards);
                    return Err(SipError::new(kind, value.offset));
                }
                self.max_forwards = true;
                fields::max_forwards(&value)?;
            }
            HeaderName::ContentLength => {
                let length = fields::content_length(&value)?;
                if self
                    .content_length
                    .is_some_and(|previous| previous != length)
                {
                    let kind = SipErrorKind::DuplicateHeader(HeaderName::ContentLength);
                    return Err(SipError::new(kind, value.offset));
                }
                self.content_length = Some(length);
            }
            HeaderName::Expires => fields::expires(&value)?,
            HeaderName::RetryAfter => fields::retry_after(&value)?,
            HeaderName::Warning => fields::warning(&value)?,
            _ => {}
        }
        // The parser rejects inputs longer than u32::MAX before scanning.
        let offset = u32::try_from(value.offset).unwrap_or(u32::MAX);
        self.headers.push(HeaderEntry {
            name,
            value: value.value,
            offset,
        });
        Ok(())
    }

    /// Checks the mandatory fields and cuts the body.
    fn finish(self, input: &'a [u8], head_end: usize) -> Result<SipMessage<'a>, SipError> {
        let missing = |name| SipError::new(SipErrorKind::MissingHeader(name), head_end);
        let call_id = self.call_id.ok_or_else(|| missing(HeaderName::CallId))?;
        let from = self.from.ok_or_else(|| missing(HeaderName::From))?;
        let to = self.to.ok_or_else(|| missing(HeaderName::To))?;
        let cseq = self.cseq.ok_or_else(|| missing(HeaderName::CSeq))?;
        if !self.via {
            return Err(missing(HeaderName::Via));
        }
        fields::call_id(&call_id)?;
        fields::name_addr(&from, HeaderName::From)?;
        fields::name_addr(&to, HeaderName::To)?;
        let cseq_method = fields::cseq(&cseq)?;
        if let StartLine::Request(line) = &self.start_line {
            if line.method != cseq_method {
                return Err(SipError::new(SipErrorKind::CSeqMethodMismatch, cseq.offset));
            }
        }
        let rest = input.get(head_end..).unwrap_or_default();
        let body = match self.content_length {
            Some(length) => rest
                .get(..length)
                .ok_or(SipError::new(SipErrorKind::BodyTruncated, input.len()))?,
            None => rest,
        };
        Ok(SipMessage {
            start_line: self.start_line,
            headers: self.headers,
            body,
        })
    }
}
