//! Parsing one complete SIP message (a datagram, or a message the stream
//! framer has cut out): start line, header fields, the checks RFC 3261 and
//! RFC 4475 ask a receiver to make, and the body.

mod appended;
pub(crate) use appended::{check_appended, Appended, Present};
mod fields;
pub(crate) use fields::content_length_of;
mod start_line;
pub(crate) use start_line::check_reason_phrase;
pub(crate) mod syntax;

use core::cell::OnceCell;

use smallvec::SmallVec;

use super::message::INLINE_HEADERS;
use super::message::{Checked, Entries, HeaderEntry, HeaderValue, SipMessage, StartLine};
use super::value::KeptValueLimits;
use super::{HeaderName, Limits, SipError, SipErrorKind, Uri, ValueLimits};

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
/// octets received; a Request-URI, From or To that is not a valid URI or
/// name-addr; a malformed Via or Call-ID. A request without Max-Forwards is
/// accepted (RFC 4475 §3.4.1, an RFC 2543 request; RFC 3261 §16.3).
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
    let mut headers: SmallVec<[HeaderEntry; INLINE_HEADERS]> = SmallVec::new();
    let (head, start_line, request_uri) = match quick_split(input, start, limits, &mut headers) {
        Some((head, line_end)) => {
            let line = head.get(start..line_end).unwrap_or_default();
            let (start_line, request_uri) = start_line::parse(line, start, &limits.values)?;
            (head, start_line, request_uri)
        }
        None => {
            headers.clear();
            careful_split(input, start, limits, &mut headers)?
        }
    };
    let head_end = head.len();

    // The checks, on the header section as text.
    let mut seen = Seen::default();
    for (index, entry) in headers.iter().enumerate() {
        if WATCHED[usize::from(entry.id)] {
            if let Some(name) = HeaderName::from_id(entry.id) {
                seen.add(name, &entry.value(head), index, &limits.values)?;
            }
        }
    }
    let checked = seen.check(&start_line, request_uri, &headers, head, &limits.values)?;
    let rest = input.get(head_end..).unwrap_or_default();
    let body = match seen.content_length {
        Some((length, offset)) => rest
            .get(..length)
            .ok_or(SipError::new(SipErrorKind::BodyTruncated, offset))?,
        None => rest,
    };
    Ok(SipMessage {
        head,
        start_line,
        headers: Entries::Parsed(headers),
        body,
        checked,
        value_limits: KeptValueLimits::new(&limits.values),
    })
}

/// The header section of `input` as text (from the first octet, its empty
/// line included), with the start line parsed, and `headers` filled with
/// its fields.
type Split<'a> = (&'a str, StartLine<'a>, Option<Uri<'a>>);

/// The usual case of cutting the start line (from `start`) and the header
/// fields into `headers`, in one pass that sees every CR and LF of the
/// header section: `None` as soon as anything is unusual (a CR or LF alone,
/// a field not of the form `name: value`, a limit reached, octets that are
/// not UTF-8, no empty line), for [`careful_split`] to find and report.
/// Gives the header section as text and the end (offset of the CR) of the
/// start line.
///
/// Every octet from `start` to the end of the empty line is either in a
/// name, colon and SP/HT before a value (none is CR or LF), or searched
/// for CR and LF: each one found is the CR of a CRLF, so no CR stands alone.
fn quick_split<'a>(
    input: &'a [u8],
    start: usize,
    limits: &Limits,
    headers: &mut SmallVec<[HeaderEntry; INLINE_HEADERS]>,
) -> Option<(&'a str, usize)> {
    // The CR ending the line that began at `line_start`, searching from
    // `from`; the line's length checked.
    let search = LineEndSearch::new();
    let line_end = |line_start: usize, from: usize| {
        search.line_end(input, line_start, from, limits.max_header_len)
    };
    let start_line_end = line_end(start, start)?;
    let mut pos = start_line_end + 2;
    // Fields left before the limit (`headers` starts empty).
    let mut room = limits.max_headers;
    loop {
        let rest = input.get(pos..)?;
        if rest.starts_with(b"\r\n") {
            let head = core::str::from_utf8(input.get(..pos + 2)?).ok()?;
            return Some((head, start_line_end));
        }
        room = room.checked_sub(1)?;
        let (id, value_start) = name_and_colon(rest)?;
        let mut end = line_end(pos, pos + value_start)?;
        while matches!(input.get(end + 2), Some(b' ' | b'\t')) {
            end = line_end(pos, end + 2)?;
        }
        // The value starts before the final CR (it is none of CR, LF or
        // LWS), which ends the trimming.
        let field = rest.get(..end - pos)?;
        let mut value_end = field.len();
        while field
            .get(value_end.wrapping_sub(1))
            .is_some_and(|&b| syntax::is_lws(b))
        {
            value_end -= 1;
        }
        // Offsets fit in u32: larger inputs were rejected, so the casts
        // cannot truncate.
        let at = |i: usize| (pos + i) as u32;
        headers.push(HeaderEntry {
            id,
            field: at(0),
            start: at(value_start),
            end: at(value_end),
        });
        pos = end + 2;
    }
}

/// The search for the CR or LF ending a header line: memchr2's, with the
/// choice of vector routine (and its set-up) made once per message rather
/// than once per line.
struct LineEndSearch {
    /// The AVX2 searcher, where the CPU has AVX2.
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::Two>,
}

impl LineEndSearch {
    fn new() -> Self {
        LineEndSearch {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::Two::new(b'\r', b'\n'),
        }
    }

    /// The position of the first CR or LF in `haystack`.
    #[inline(always)]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(two) = &self.avx2 {
            return two.find(haystack);
        }
        memchr::memchr2(b'\r', b'\n', haystack)
    }

    /// The CR ending the line of `input` that began at `line_start`,
    /// searching from `from`: `None` unless it is the CR of a CRLF and the
    /// line holds at most `max_len` octets.
    #[inline(always)]
    fn line_end(
        &self,
        input: &[u8],
        line_start: usize,
        from: usize,
        max_len: usize,
    ) -> Option<usize> {
        let cr = from + self.find(input.get(from..)?)?;
        let crlf = input.get(cr..cr + 2) == Some(b"\r\n");
        (crlf && cr - line_start <= max_len).then_some(cr)
    }
}

/// Cuts the start line (from `start`) and the header fields of `input` into
/// `headers` octet by octet, reporting the first error: the start line's,
/// then a field's (line endings before names), then the header section's
/// text. Gives the header section as text and the parsed start line.
fn careful_split<'a>(
    input: &'a [u8],
    start: usize,
    limits: &Limits,
    headers: &mut SmallVec<[HeaderEntry; INLINE_HEADERS]>,
) -> Result<Split<'a>, SipError> {
    let mut lines = Lines::new(input, start, limits.max_header_len);

    // The start line: up to the first CRLF, with no folding.
    let line_end = lines.line(start, false)?;
    let line = input.get(start..line_end).unwrap_or_default();
    let line = core::str::from_utf8(line)
        .map_err(|e| SipError::new(SipErrorKind::InvalidUtf8, start + e.valid_up_to()))?;
    let (start_line, request_uri) = start_line::parse(line, start, &limits.values)?;

    // Cut the header fields (each with its folded continuation lines) up to
    // the empty line, and recognise their names.
    let mut pos = line_end + 2;
    while input.get(pos..pos + 2) != Some(b"\r\n") {
        if headers.len() == limits.max_headers {
            return Err(SipError::new(SipErrorKind::TooManyHeaders, pos));
        }
        let field_end = lines.line(pos, true)?;
        let field = input.get(pos..field_end).unwrap_or_default();
        let parts = field_parts(field).map_err(|(kind, at)| SipError::new(kind, pos + at))?;
        // Offsets fit in u32: larger inputs were rejected, so the casts
        // cannot truncate.
        let at = |i: usize| (pos + i) as u32;
        headers.push(HeaderEntry {
            id: parts.id,
            field: at(0),
            start: at(parts.value_start),
            end: at(parts.value_end),
        });
        pos = field_end + 2;
    }
    lines.line_feeds += 1;
    let head = lines.head(pos + 2)?;
    Ok((head, start_line, request_uri))
}

/// Cuts CRLF-terminated lines out of the input, front to back.
struct Lines<'a> {
    input: &'a [u8],
    /// Longest line or header field (without its final CRLF).
    max_len: usize,
    /// LFs seen so far (each checked to follow a CR).
    line_feeds: usize,
    /// Where the `line_feed` iterator starts in `input`.
    base: usize,
    /// The LFs after `base`, in order: one search for the whole header
    /// section rather than one per line.
    line_feed: memchr::Memchr<'a>,
}

impl<'a> Lines<'a> {
    /// Lines of `input` from `start`, which follows any keep-alive CRLFs.
    fn new(input: &'a [u8], start: usize, max_len: usize) -> Self {
        let rest = input.get(start..).unwrap_or_default();
        let line_feed = memchr::memchr_iter(b'\n', rest);
        Lines {
            input,
            max_len,
            line_feeds: start / 2,
            base: start,
            line_feed,
        }
    }

    /// The end (offset of the final CR) of the line starting at `start`,
    /// just after the previous line — with `fold`, of the header field: the
    /// line and its continuation lines (those starting with SP or HT). Every
    /// LF must follow a CR.
    #[inline]
    fn line(&mut self, start: usize, fold: bool) -> Result<usize, SipError> {
        let input = self.input;
        let too_long = |end: usize| end - start > self.max_len;
        loop {
            let Some(lf) = self.line_feed.next().map(|i| self.base + i) else {
                return Err(if too_long(input.len()) {
                    SipError::new(SipErrorKind::HeaderTooLong, start)
                } else {
                    SipError::new(SipErrorKind::UnterminatedHeaders, input.len())
                });
            };
            if lf == start || input.get(lf - 1) != Some(&b'\r') {
                return Err(SipError::new(SipErrorKind::BareLineEnding, lf));
            }
            if too_long(lf - 1) {
                return Err(SipError::new(SipErrorKind::HeaderTooLong, start));
            }
            self.line_feeds += 1;
            if !(fold && matches!(input.get(lf + 1), Some(b' ' | b'\t'))) {
                return Ok(lf - 1);
            }
        }
    }

    /// The input up to `head_end` as text, once every line has been cut: it
    /// must be UTF-8 and hold no CR but those of its CRLFs.
    fn head(&self, head_end: usize) -> Result<&'a str, SipError> {
        let bytes = self.input.get(..head_end).unwrap_or_default();
        let head = core::str::from_utf8(bytes)
            .map_err(|e| SipError::new(SipErrorKind::InvalidUtf8, e.valid_up_to()))?;
        // Each LF was checked to follow a CR: as many CRs means none alone.
        let carriage_returns = memchr::memchr_iter(b'\r', bytes).count();
        if carriage_returns != self.line_feeds {
            let lone = bytes
                .windows(2)
                .position(|w| w[0] == b'\r' && w[1] != b'\n')
                .unwrap_or(bytes.len());
            return Err(SipError::new(SipErrorKind::BareLineEnding, lone));
        }
        Ok(head)
    }
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

/// The usual start of a header field, `name:` and any SP or HT, followed by
/// an octet that starts the value: the [`HeaderName::id`] of the name and
/// the offset of the value in `rest`. `None` for anything else.
#[inline]
fn name_and_colon(rest: &[u8]) -> Option<(u8, usize)> {
    let (id, name_len) = HeaderName::known_prefix(rest).unwrap_or_else(|| {
        let len = rest
            .iter()
            .take_while(|&&b| syntax::is_token_byte(b))
            .count();
        (0, len)
    });
    if name_len == 0 || rest.get(name_len) != Some(&b':') {
        return None;
    }
    let mut at = name_len + 1;
    // Usually one SP, then the value.
    if rest.get(at) == Some(&b' ') && rest.get(at + 1).is_some_and(|&b| b > b' ') {
        return Some((id, at + 1));
    }
    loop {
        match *rest.get(at)? {
            b' ' | b'\t' => at += 1,
            // Tested before CR and LF: a visible octet starts the value.
            b if b > b' ' => return Some((id, at)),
            b'\r' | b'\n' => return None,
            _ => return Some((id, at)),
        }
    }
}

/// Where the name and the trimmed value of a header field are, relative to
/// the field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldParts {
    /// The [`HeaderName::id`] of the name (`0` for an unknown name).
    pub(crate) id: u8,
    /// Start of the value, after the colon and any LWS.
    pub(crate) value_start: usize,
    /// End of the value, before any trailing LWS.
    pub(crate) value_end: usize,
}

/// Splits a header field (without its final CRLF) into `name HCOLON value`,
/// tolerating LWS (even folded) before the colon. On error, the cause and its
/// offset in `field`.
#[inline]
pub(crate) fn field_parts(field: &[u8]) -> Result<FieldParts, (SipErrorKind, usize)> {
    let (id, mut name_len) = HeaderName::known_prefix(field).unwrap_or((0, 0));
    if id == 0 {
        while field
            .get(name_len)
            .is_some_and(|&b| syntax::is_token_byte(b))
        {
            name_len += 1;
        }
    }
    if name_len == 0 {
        return Err((SipErrorKind::InvalidHeaderName, 0));
    }
    // Usually `name: value`; LWS before the colon is allowed.
    let mut colon = name_len;
    while field.get(colon).is_some_and(|&b| syntax::is_lws(b)) {
        colon += 1;
    }
    if field.get(colon) != Some(&b':') {
        let kind = match field.get(name_len) {
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b':') => SipErrorKind::MissingColon,
            Some(_) => SipErrorKind::InvalidHeaderName,
        };
        return Err((kind, name_len));
    }
    let mut value_start = colon + 1;
    while field.get(value_start).is_some_and(|&b| syntax::is_lws(b)) {
        value_start += 1;
    }
    let mut value_end = field.len();
    while value_end > value_start && field.get(value_end - 1).is_some_and(|&b| syntax::is_lws(b)) {
        value_end -= 1;
    }
    Ok(FieldParts {
        id,
        value_start,
        value_end,
    })
}

/// What the checks remember about the header fields seen so far.
#[derive(Default)]
struct Seen<'a> {
    /// The index of the first Via field and one past that of the last.
    vias: Option<(usize, usize)>,
    from: Option<HeaderValue<'a>>,
    to: Option<HeaderValue<'a>>,
    call_id: Option<HeaderValue<'a>>,
    cseq: Option<HeaderValue<'a>>,
    max_forwards: bool,
    /// The Content-Length and the offset of its (first) value.
    content_length: Option<(usize, usize)>,
}

/// The [`HeaderName::id`]s of the header fields [`Seen::add`] looks at.
static WATCHED: [bool; 256] = {
    let mut table = [false; 256];
    let watched = [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::MaxForwards,
        HeaderName::ContentLength,
        HeaderName::Expires,
        HeaderName::RetryAfter,
        HeaderName::Warning,
    ];
    let mut i = 0;
    while i < watched.len() {
        table[watched[i].id() as usize] = true;
        i += 1;
    }
    table
};

impl<'a> Seen<'a> {
    /// Notes one header field, the `index`th, checking single-instance
    /// fields and the scalars as they come.
    #[inline]
    fn add(
        &mut self,
        name: HeaderName<'a>,
        value: &HeaderValue<'a>,
        index: usize,
        limits: &ValueLimits,
    ) -> Result<(), SipError> {
        let duplicate = |name| {
            Err(SipError::new(
                SipErrorKind::DuplicateHeader(name),
                value.offset,
            ))
        };
        let (slot, once) = match name {
            HeaderName::Via => {
                let first = self.vias.map_or(index, |(first, _)| first);
                self.vias = Some((first, index + 1));
                return Ok(());
            }
            HeaderName::From => (&mut self.from, HeaderName::From),
            HeaderName::To => (&mut self.to, HeaderName::To),
            HeaderName::CallId => (&mut self.call_id, HeaderName::CallId),
            HeaderName::CSeq => (&mut self.cseq, HeaderName::CSeq),
            HeaderName::MaxForwards => {
                if self.max_forwards {
                    return duplicate(HeaderName::MaxForwards);
                }
                self.max_forwards = true;
                return fields::max_forwards(value, limits);
            }
            HeaderName::ContentLength => {
                let length = fields::content_length(value)?;
                return match self.content_length {
                    Some((previous, _)) if previous != length => {
                        duplicate(HeaderName::ContentLength)
                    }
                    Some(_) => Ok(()),
                    None => {
                        self.content_length = Some((length, value.offset));
                        Ok(())
                    }
                };
            }
            HeaderName::Expires => return fields::expires(value, limits),
            HeaderName::RetryAfter => return fields::retry_after(value),
            HeaderName::Warning => return fields::warning(value, limits),
            _ => return Ok(()),
        };
        if slot.is_some() {
            return duplicate(once);
        }
        *slot = Some(*value);
        Ok(())
    }

    /// Checks the mandatory fields of a message with `start_line` and
    /// `headers` (whose header section, from the input's first octet, is
    /// `head`), and gives them parsed.
    fn check(
        &self,
        start_line: &StartLine<'a>,
        request_uri: Option<Uri<'a>>,
        headers: &[HeaderEntry],
        head: &'a str,
        limits: &ValueLimits,
    ) -> Result<Checked<'a>, SipError> {
        let head_end = head.len();
        let missing = |name| SipError::new(SipErrorKind::MissingHeader(name), head_end);
        let call_id = self.call_id.ok_or_else(|| missing(HeaderName::CallId))?;
        let from = self.from.ok_or_else(|| missing(HeaderName::From))?;
        let to = self.to.ok_or_else(|| missing(HeaderName::To))?;
        let cseq_value = self.cseq.ok_or_else(|| missing(HeaderName::CSeq))?;
        let Some((first_via, vias_end)) = self.vias else {
            return Err(missing(HeaderName::Via));
        };
        let (mut top_via, mut more_vias) = (None, false);
        let via_id = HeaderName::Via.id();
        for entry in headers.get(first_via..vias_end).unwrap_or_default() {
            if entry.id == via_id {
                fields::via(&entry.value(head), &mut top_via, &mut more_vias, limits)?;
            }
        }
        let from = fields::name_addr(&from, HeaderName::From, limits)?;
        let to = fields::name_addr(&to, HeaderName::To, limits)?;
        let call_id = fields::call_id(&call_id, limits)?;
        let cseq = fields::cseq(&cseq_value, limits)?;
        if let StartLine::Request(line) = start_line {
            if line.method != cseq.method.as_str() {
                return Err(SipError::new(
                    SipErrorKind::CSeqMethodMismatch,
                    cseq_value.offset,
                ));
            }
        }
        Ok(Checked {
            request_uri: OnceCell::from(request_uri),
            top_via: OnceCell::from(top_via),
            more_vias,
            from: OnceCell::from(Ok(from)),
            to: OnceCell::from(Ok(to)),
            call_id: OnceCell::from(Ok(call_id)),
            cseq: OnceCell::from(Ok(cseq)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "OPTIONS sip:b@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
        From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
        Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n";

    fn with(extra: &str) -> Vec<u8> {
        format!("{HEAD}{extra}").into_bytes()
    }

    fn error(input: &[u8], limits: &Limits) -> SipError {
        parse_message_with(input, limits).expect_err("rejected")
    }

    #[test]
    fn limits_are_enforced_where_they_are_crossed() {
        let limits = Limits {
            max_message_size: 400,
            max_headers: 7,
            max_header_len: 60,
            ..Limits::default()
        };
        let ok = with("l: 0\r\n\r\n");
        assert!(parse_message_with(&ok, &limits).is_ok());

        let many = with("A: 1\r\nB: 2\r\nC: 3\r\nl: 0\r\n\r\n");
        let err = error(&many, &limits);
        assert_eq!(err.kind, SipErrorKind::TooManyHeaders);
        // Seven fields are allowed: the eighth is the error.
        assert_eq!(
            err.offset,
            many.windows(4).position(|w| w == b"C: 3").unwrap()
        );

        let long = with(&format!("X: {}\r\nl: 0\r\n\r\n", "y".repeat(60)));
        let err = error(&long, &limits);
        assert_eq!(err.kind, SipErrorKind::HeaderTooLong);
        assert_eq!(err.offset, HEAD.len());

        let folded = with(&format!(
            "X: {}\r\n {}\r\nl: 0\r\n\r\n",
            "y".repeat(30),
            "z".repeat(30)
        ));
        assert_eq!(error(&folded, &limits).kind, SipErrorKind::HeaderTooLong);

        let big = with(&format!("l: 300\r\n\r\n{}", "b".repeat(300)));
        assert_eq!(error(&big, &limits).kind, SipErrorKind::MessageTooLarge);
    }

    #[test]
    fn line_endings_and_text_are_checked() {
        let kind = |input: &[u8]| error(input, &Limits::default()).kind;
        assert_eq!(
            kind(&with("X: a\rb\r\nl: 0\r\n\r\n")),
            SipErrorKind::BareLineEnding
        );
        assert_eq!(
            kind(&with("X: a\nl: 0\r\n\r\n")),
            SipErrorKind::BareLineEnding
        );
        let mut latin1 = with("X: caf");
        latin1.extend_from_slice(b"\xe9\r\nl: 0\r\n\r\n");
        let err = error(&latin1, &Limits::default());
        assert_eq!(
            (err.kind, err.offset),
            (SipErrorKind::InvalidUtf8, HEAD.len() + 6)
        );
        assert_eq!(kind(&with("l: 0\r\n")), SipErrorKind::UnterminatedHeaders);
        // A line starting with SP continues the field before it...
        assert_eq!(
            kind(&with(" 2\r\n\r\n")),
            SipErrorKind::MalformedHeader(HeaderName::CSeq)
        );
        // ...and the start line cannot be continued.
        let folded_start = HEAD.replacen("\r\n", "\r\n folded\r\n", 1) + "\r\n";
        assert_eq!(
            kind(folded_start.as_bytes()),
            SipErrorKind::InvalidHeaderName
        );
        assert_eq!(
            kind(&with("X-No-Colon\r\n\r\n")),
            SipErrorKind::MissingColon
        );
        assert_eq!(
            kind(&with("X@Y: z\r\n\r\n")),
            SipErrorKind::InvalidHeaderName
        );
        assert_eq!(kind(b""), SipErrorKind::UnterminatedHeaders);
        assert_eq!(kind(b"\r\n\r\n"), SipErrorKind::UnterminatedHeaders);
        let utf8 = with("Subject: caf\u{e9} \u{4e2d}\r\nl: 0\r\n\r\n");
        let message = parse_message(&utf8).unwrap();
        assert_eq!(
            message.header(HeaderName::Subject).unwrap().value,
            "caf\u{e9} \u{4e2d}"
        );
    }

    #[test]
    fn mandatory_fields_are_checked() {
        let kind = |input: &str| error(input.as_bytes(), &Limits::default()).kind;
        let without = |name: &str| {
            let mut text = String::new();
            for line in HEAD.split_inclusive("\r\n") {
                if !line.starts_with(name) {
                    text.push_str(line);
                }
            }
            text + "l: 0\r\n\r\n"
        };
        assert_eq!(
            kind(&without("Via")),
            SipErrorKind::MissingHeader(HeaderName::Via)
        );
        assert_eq!(
            kind(&without("From")),
            SipErrorKind::MissingHeader(HeaderName::From)
        );
        assert_eq!(
            kind(&without("To")),
            SipErrorKind::MissingHeader(HeaderName::To)
        );
        assert_eq!(
            kind(&without("Call-ID")),
            SipErrorKind::MissingHeader(HeaderName::CallId)
        );
        assert_eq!(
            kind(&without("CSeq")),
            SipErrorKind::MissingHeader(HeaderName::CSeq)
        );
        let twice = |extra: &str| error(&with(extra), &Limits::default()).kind;
        assert_eq!(
            twice("t: <sip:c@d>\r\n\r\n"),
            SipErrorKind::DuplicateHeader(HeaderName::To)
        );
        assert_eq!(
            twice("Max-Forwards: 1\r\nMax-Forwards: 1\r\n\r\n"),
            SipErrorKind::DuplicateHeader(HeaderName::MaxForwards)
        );
        assert_eq!(
            twice("l: 0\r\nContent-Length: 1\r\n\r\nx"),
            SipErrorKind::DuplicateHeader(HeaderName::ContentLength)
        );
        assert!(parse_message(&with("l: 0\r\nContent-Length: 00\r\n\r\n")).is_ok());
        assert_eq!(
            twice("Expires: 99999999999\r\n\r\n"),
            SipErrorKind::ValueOutOfRange(HeaderName::Expires)
        );
        // Responses need the same fields.
        let response = HEAD.replace("OPTIONS sip:b@example.com SIP/2.0", "SIP/2.0 200 OK");
        assert!(parse_message(format!("{response}\r\n").as_bytes()).is_ok());
        let no_via = response.replace("Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n", "");
        assert_eq!(
            kind(&format!("{no_via}\r\n")),
            SipErrorKind::MissingHeader(HeaderName::Via)
        );
    }

    /// The octets worth planting into a message to reach the unusual cases.
    const PLANTED: &[u8] = b"\r\n \t:@x\xc3\xa9\xff";

    proptest::proptest! {
        /// Whenever the one-pass split accepts a message, the careful split
        /// accepts it too and finds the same fields, text and start line.
        #[test]
        fn quick_split_agrees_with_careful_split(
            edits in proptest::collection::vec((0usize..260, 0..PLANTED.len()), 0..3),
            max_headers in 5usize..12,
            max_header_len in 20usize..80,
        ) {
            let mut input = with("X-Folded: a\r\n\tb \r\nl: 0\r\nSubject:  hi\r\n\r\n");
            let edits_made = edits.len();
            for (at, planted) in edits {
                if let Some(b) = input.get_mut(at) {
                    *b = PLANTED[planted];
                }
            }
            let limits = Limits { max_headers, max_header_len, ..Limits::default() };
            let start = skip_keepalives(&input);
            let (mut quick, mut careful) = (SmallVec::new(), SmallVec::new());
            // The message as written takes the one-pass split within limits.
            let usual = edits_made == 0 && max_headers >= 8 && max_header_len >= 50;
            let taken = quick_split(&input, start, &limits, &mut SmallVec::new()).is_some();
            proptest::prop_assert!(taken || !usual);
            let fields = |h: &SmallVec<[HeaderEntry; INLINE_HEADERS]>| {
                h.iter().map(|e| (e.id, e.field, e.start, e.end)).collect::<Vec<_>>()
            };
            if let Some((head, line_end)) = quick_split(&input, start, &limits, &mut quick) {
                let split = careful_split(&input, start, &limits, &mut careful);
                let line = start_line::parse(&head[start..line_end], start, &ValueLimits::DEFAULT);
                match (split, line) {
                    (Ok((text, start_line, uri)), Ok(parsed)) => {
                        proptest::prop_assert_eq!(text, head);
                        proptest::prop_assert_eq!((start_line, uri), parsed);
                        proptest::prop_assert_eq!(fields(&quick), fields(&careful));
                    }
                    (Err(e), Err(f)) => proptest::prop_assert_eq!(e, f),
                    (split, line) => proptest::prop_assert!(false, "{split:?} / {line:?}"),
                }
            }
        }
    }

    proptest::proptest! {
        /// The line-end search finds the CR or LF memchr2 finds.
        #[test]
        fn line_end_search_agrees_with_memchr2(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"\r\n\t\x8d\x8a a:".to_vec()),
                0..80,
            ),
        ) {
            proptest::prop_assert_eq!(
                LineEndSearch::new().find(&bytes),
                memchr::memchr2(b'\r', b'\n', &bytes)
            );
        }
    }

    #[test]
    fn body_follows_content_length_or_takes_the_rest() {
        let exact = with("l: 3\r\n\r\nabcdef");
        assert_eq!(parse_message(&exact).unwrap().body(), b"abc");
        let rest = with("\r\n\x00\x01binary");
        assert_eq!(parse_message(&rest).unwrap().body(), b"\x00\x01binary");
        let short = with("l: 10\r\n\r\nabc");
        let err = error(&short, &Limits::default());
        assert_eq!(err.kind, SipErrorKind::BodyTruncated);
        assert_eq!(&short[err.offset..err.offset + 2], b"10");
    }
}
