//! Parsing of one MSRP message: head scanning (shared with the stream
//! parser), header section, body and end-line.

use memchr::memchr;

use super::error::{Limit, MsrpError, MsrpErrorKind};
use super::fields::{
    ByteRange, ContinuationFlag, FailureReport, Header, Method, StartLine, Status, SuccessReport,
};
use super::message::{MsrpHead, MsrpMessage, Path};
use super::syntax::{is_ident, is_name, is_token, is_utf8text, parse_3digit};
use super::uri::{MsrpUri, Scheme};
use super::Limits;

/// Where the head of a message ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadEnd {
    /// A blank line ends the headers; the body starts at `body_start`.
    Body { head_len: usize, body_start: usize },
    /// An end-line follows the headers directly (no body); it spans
    /// `head_len..line_end` (CRLF included).
    EndLine { head_len: usize, line_end: usize },
}

/// Where the lines of a head end (the offset of each CR), as far as there
/// is room.
pub(crate) type LineEnds = arrayvec::ArrayVec<u32, 24>;

/// Finds the end of a head line by line, keeping its place between calls so
/// that a stream parser never rescans a line.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadScanner {
    /// Start of the first line not yet seen complete.
    line_start: usize,
}

impl HeadScanner {
    /// Scans `buf` (the bytes of this message received so far, from its
    /// first byte). `Ok(None)`: more bytes are needed.
    pub(crate) fn scan(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<HeadEnd>, MsrpError> {
        self.scan_noting(buf, limits, &mut LineEnds::new())
    }

    /// [`HeadScanner::scan`], noting in `ends` where each line of the head
    /// (start line and header lines) ends, while there is room: what
    /// [`parse_head_memo`] would otherwise search for again.
    pub(crate) fn scan_noting(
        &mut self,
        buf: &[u8],
        limits: &Limits,
        ends: &mut LineEnds,
    ) -> Result<Option<HeadEnd>, MsrpError> {
        let max = limits.max_header_size;
        loop {
            let rest = buf.get(self.line_start..).unwrap_or_default();
            let Some(i) = memchr(b'\n', rest) else {
                if buf.len() > max {
                    return Err(MsrpError::new(
                        MsrpErrorKind::LimitExceeded(Limit::HeaderSize),
                        max,
                    ));
                }
                return Ok(None);
            };
            let lf = self.line_start + i;
            if lf >= max {
                return Err(MsrpError::new(
                    MsrpErrorKind::LimitExceeded(Limit::HeaderSize),
                    max,
                ));
            }
            if i == 0 || rest[i - 1] != b'\r' {
                return Err(MsrpError::new(MsrpErrorKind::InvalidLineEnding, lf));
            }
            let line = &rest[..i - 1];
            let start = self.line_start;
            self.line_start = lf + 1;
            // The line's CR (a head shorter than 4 GiB: else nothing is
            // noted and the lines are found again).
            let note = |ends: &mut LineEnds| {
                if let Ok(cr) = u32::try_from(lf - 1) {
                    let _ = ends.try_push(cr);
                }
            };
            if start == 0 {
                note(ends);
                continue;
            }
            if line.is_empty() {
                return Ok(Some(HeadEnd::Body {
                    head_len: start,
                    body_start: lf + 1,
                }));
            }
            if line.starts_with(b"-------") {
                return Ok(Some(HeadEnd::EndLine {
                    head_len: start,
                    line_end: lf + 1,
                }));
            }
            note(ends);
        }
    }
}

/// Checks an end-line (`line`, CRLF included, found at `offset`) against the
/// transact-id and returns its flag.
pub(crate) fn check_end_line(
    line: &[u8],
    transact_id: &str,
    offset: usize,
) -> Result<ContinuationFlag, MsrpError> {
    let tid = transact_id.as_bytes();
    let inner = line
        .strip_prefix(b"-------")
        .and_then(|l| l.strip_suffix(b"\r\n"))
        .ok_or(MsrpError::new(MsrpErrorKind::InvalidEndLine, offset))?;
    let (flag, id) = match inner.split_last() {
        Some((&flag, id)) => (flag, id),
        None => return Err(MsrpError::new(MsrpErrorKind::InvalidEndLine, offset + 7)),
    };
    if id != tid {
        return Err(MsrpError::new(
            MsrpErrorKind::TransactIdMismatch,
            offset + 7,
        ));
    }
    ContinuationFlag::from_byte(flag).ok_or(MsrpError::new(
        MsrpErrorKind::InvalidEndLine,
        offset + 7 + id.len(),
    ))
}

/// Where the parts of one MSRP URI are in the text it was parsed from, so
/// that the same text gives the same [`MsrpUri`] without parsing it again.
#[derive(Debug, Clone, Copy)]
struct UriShape {
    scheme: Scheme,
    userinfo: Option<(u32, u32)>,
    host: (u32, u32),
    port: Option<u16>,
    session_id: Option<(u32, u32)>,
    transport: (u32, u32),
    params: Option<(u32, u32)>,
}

impl UriShape {
    /// The shape of `uri`, parsed from `text` (every part of `uri` is a
    /// slice of `text`).
    fn of(text: &str, uri: &MsrpUri<'_>) -> Option<Self> {
        let base = text.as_ptr() as usize;
        let span = |part: &str| -> Option<(u32, u32)> {
            let start = (part.as_ptr() as usize).checked_sub(base)?;
            let end = start.checked_add(part.len())?;
            (end <= text.len()).then_some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
        };
        let opt = |part: Option<&str>| part.map(span).map_or(Some(None), |s| s.map(Some));
        Some(Self {
            scheme: uri.scheme,
            userinfo: opt(uri.userinfo)?,
            host: span(uri.host)?,
            port: uri.port,
            session_id: opt(uri.session_id)?,
            transport: span(uri.transport)?,
            params: opt(uri.params)?,
        })
    }

    /// The URI again, from `text` (the same text as in [`UriShape::of`]).
    fn rebuild<'a>(&self, text: &'a str) -> Option<MsrpUri<'a>> {
        let part = |(start, end): (u32, u32)| text.get(start as usize..end as usize);
        let opt = |span: Option<(u32, u32)>| span.map(part).map_or(Some(None), |p| p.map(Some));
        Some(MsrpUri {
            scheme: self.scheme,
            userinfo: opt(self.userinfo)?,
            host: part(self.host)?,
            port: self.port,
            session_id: opt(self.session_id)?,
            transport: part(self.transport)?,
            params: opt(self.params)?,
        })
    }
}

/// The To-Path or From-Path value last parsed on a connection, and its
/// URIs' shapes: a peer writes the same paths on every message, so the
/// stream parser checks them with one comparison instead of parsing every
/// URI again (RFC 4975 §6.1 matching is then done on the same values).
#[derive(Debug, Clone, Default)]
pub(crate) struct PathMemo {
    text: String,
    shapes: smallvec::SmallVec<[UriShape; 2]>,
}

impl PathMemo {
    /// The path of `value`, if it is the value remembered.
    fn recall<'a>(&self, value: &'a str) -> Option<Path<'a>> {
        if self.shapes.is_empty() || self.text != value {
            return None;
        }
        let mut path = Path::new();
        for shape in &self.shapes {
            path.push(shape.rebuild(value)?);
        }
        Some(path)
    }

    /// Remembers `value` and its parsed `path`.
    fn remember(&mut self, value: &str, path: &Path<'_>) {
        self.shapes.clear();
        self.text.clear();
        for uri in path.iter() {
            match UriShape::of(value, uri) {
                Some(shape) => self.shapes.push(shape),
                None => {
                    self.shapes.clear();
                    return;
                }
            }
        }
        self.text.push_str(value);
    }
}

/// The memos of a stream parser: its last To-Path and From-Path.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathMemos {
    to: PathMemo,
    from: PathMemo,
}

/// [`parse_path`] through a memo: the value remembered gives its path
/// without parsing; any other value is parsed (and remembered when valid).
fn parse_path_memo<'a>(
    value: &'a str,
    at: usize,
    limits: &Limits,
    memo: Option<&mut PathMemo>,
) -> Result<Path<'a>, MsrpError> {
    let Some(memo) = memo else {
        return parse_path(value, at, limits);
    };
    if let Some(path) = memo.recall(value) {
        return Ok(path);
    }
    let path = parse_path(value, at, limits)?;
    memo.remember(value, &path);
    Ok(path)
}

/// Parses the start line and header lines (`head`: each line ends in CRLF,
/// without the blank line or end-line after them).
pub(crate) fn parse_head<'a>(
    head: &'a [u8],
    has_body: bool,
    limits: &Limits,
) -> Result<MsrpHead<'a>, MsrpError> {
    parse_head_memo(head, has_body, limits, None, &[])
}

/// [`parse_head`] with the path memos of a stream parser, and where the
/// first lines end when they are known already (`ends`, from
/// [`HeadScanner::scan_noting`]).
pub(crate) fn parse_head_memo<'a>(
    head: &'a [u8],
    has_body: bool,
    limits: &Limits,
    mut memos: Option<&mut PathMemos>,
    ends: &[u32],
) -> Result<MsrpHead<'a>, MsrpError> {
    let text = std::str::from_utf8(head)
        .map_err(|e| MsrpError::new(MsrpErrorKind::InvalidUtf8, e.valid_up_to()))?;
    let mut lines = Lines { text, at: 0, ends };
    let (at, start_line) = lines
        .next()
        .ok_or(MsrpError::new(MsrpErrorKind::NotMsrp, 0))?;
    let (transact_id, start) = parse_start_line(start_line, at, limits)?;

    let mut headers = lines.map(|(at, line)| split_header(line, at));
    let to_path = match headers.next().transpose()? {
        Some((_, name, value, v_at)) if is_name(name, "to-path") => {
            parse_path_memo(value, v_at, limits, memos.as_deref_mut().map(|m| &mut m.to))?
        }
        Some((at, ..)) => return Err(MsrpError::new(MsrpErrorKind::MissingToPath, at)),
        None => return Err(MsrpError::new(MsrpErrorKind::MissingToPath, head.len())),
    };
    let from_path = match headers.next().transpose()? {
        Some((_, name, value, v_at)) if is_name(name, "from-path") => {
            parse_path_memo(value, v_at, limits, memos.map(|m| &mut m.from))?
        }
        Some((at, ..)) => return Err(MsrpError::new(MsrpErrorKind::MissingFromPath, at)),
        None => return Err(MsrpError::new(MsrpErrorKind::MissingFromPath, head.len())),
    };
    let mut msg = MsrpHead::request(transact_id, Method::Send, to_path, from_path);
    msg.start = start;
    let mut count = 2usize;
    for header in headers {
        let (at, name, value, v_at) = header?;
        count += 1;
        if count > limits.max_headers {
            return Err(MsrpError::new(
                MsrpErrorKind::LimitExceeded(Limit::Headers),
                at,
            ));
        }
        let dup = MsrpError::new(MsrpErrorKind::DuplicateHeader, at);
        match Field::of(name) {
            Field::MessageId => {
                if msg.message_id.is_some() {
                    return Err(dup);
                }
                if value.len() > limits.max_message_id_len {
                    return Err(MsrpError::new(
                        MsrpErrorKind::LimitExceeded(Limit::MessageIdLength),
                        v_at,
                    ));
                }
                if !is_ident(value) {
                    return Err(MsrpError::new(MsrpErrorKind::InvalidMessageId, v_at));
                }
                msg.message_id = Some(value);
            }
            Field::ByteRange => {
                if msg.byte_range.is_some() {
                    return Err(dup);
                }
                msg.byte_range = Some(ByteRange::parse(value).map_err(|e| e.shifted(v_at))?);
            }
            Field::SuccessReport => {
                if msg.success_report.is_some() {
                    return Err(dup);
                }
                msg.success_report = Some(
                    SuccessReport::parse(value)
                        .ok_or(MsrpError::new(MsrpErrorKind::InvalidReportValue, v_at))?,
                );
            }
            Field::FailureReport => {
                if msg.failure_report.is_some() {
                    return Err(dup);
                }
                msg.failure_report = Some(
                    FailureReport::parse(value)
                        .ok_or(MsrpError::new(MsrpErrorKind::InvalidReportValue, v_at))?,
                );
            }
            Field::Status => {
                if msg.status.is_some() {
                    return Err(dup);
                }
                msg.status = Some(Status::parse(value).map_err(|e| e.shifted(v_at))?);
            }
            Field::ContentType => {
                if msg.content_type.is_some() {
                    return Err(dup);
                }
                check_media_type(value, v_at)?;
                msg.content_type = Some(value);
            }
            Field::Path => return Err(dup),
            Field::Mime => msg.mime_headers.push(Header { name, value }),
            Field::Extension => msg.ext_headers.push(Header { name, value }),
        }
    }
    if has_body && msg.content_type.is_none() {
        return Err(MsrpError::new(
            MsrpErrorKind::BodyWithoutContentType,
            head.len(),
        ));
    }
    Ok(msg)
}

/// What a header name after the two paths names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    MessageId,
    ByteRange,
    SuccessReport,
    FailureReport,
    Status,
    ContentType,
    /// To-Path or From-Path again.
    Path,
    /// Another `Content-*` header.
    Mime,
    Extension,
}

impl Field {
    /// The field `name` (a token) names, compared without case: one
    /// comparison, chosen by the name's length and first letter.
    fn of(name: &str) -> Field {
        let is = |lower: &str| is_name(name, lower);
        let first = name.as_bytes().first().map_or(0, |b| b | 0x20);
        match (name.len(), first) {
            (6, b's') if is("status") => Field::Status,
            (7, b't') if is("to-path") => Field::Path,
            (9, b'f') if is("from-path") => Field::Path,
            (10, b'm') if is("message-id") => Field::MessageId,
            (10, b'b') if is("byte-range") => Field::ByteRange,
            (12, b'c') if is("content-type") => Field::ContentType,
            (14, b's') if is("success-report") => Field::SuccessReport,
            (14, b'f') if is("failure-report") => Field::FailureReport,
            (8.., b'c') if name.get(..8).is_some_and(|p| is_name(p, "content-")) => Field::Mime,
            _ => Field::Extension,
        }
    }
}

/// Lines of a head, each with its offset, CRLF removed.
struct Lines<'a, 'e> {
    text: &'a str,
    at: usize,
    /// Where the next lines end (their CRs), when known.
    ends: &'e [u32],
}

impl<'a> Iterator for Lines<'a, '_> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.text.get(self.at..).filter(|r| !r.is_empty())?;
        let end = match self.ends.split_first() {
            Some((&cr, later)) if (cr as usize) >= self.at => {
                self.ends = later;
                cr as usize - self.at
            }
            // Every LF of a head follows a CR (checked by the head scanner).
            _ => memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |lf| lf.saturating_sub(1)),
        };
        let line = rest.get(..end)?;
        let at = self.at;
        self.at += end + 2;
        Some((at, line))
    }
}

/// `s` cut at its first SP (a start line is short: a plain loop beats a
/// vectorised search's set-up).
fn split_at_space(s: &str) -> Option<(&str, &str)> {
    let sp = s.bytes().position(|b| b == b' ')?;
    Some((s.get(..sp)?, s.get(sp + 1..)?))
}

fn parse_start_line<'a>(
    line: &'a str,
    at: usize,
    limits: &Limits,
) -> Result<(&'a str, StartLine<'a>), MsrpError> {
    let rest = line
        .strip_prefix("MSRP ")
        .ok_or(MsrpError::new(MsrpErrorKind::NotMsrp, at))?;
    let tid_at = at + 5;
    let (tid, rest) = split_at_space(rest).ok_or(MsrpError::new(
        MsrpErrorKind::InvalidMethod,
        at + line.len(),
    ))?;
    if tid.len() > limits.max_transact_id_len {
        return Err(MsrpError::new(
            MsrpErrorKind::LimitExceeded(Limit::TransactIdLength),
            tid_at,
        ));
    }
    if !is_ident(tid) {
        return Err(MsrpError::new(MsrpErrorKind::InvalidTransactId, tid_at));
    }
    let word_at = tid_at + tid.len() + 1;
    let (word, comment) = match split_at_space(rest) {
        Some((w, c)) => (w, Some(c)),
        None => (rest, None),
    };
    if let Some(code) = parse_3digit(word) {
        if code < 100 {
            return Err(MsrpError::new(MsrpErrorKind::InvalidStatusCode, word_at));
        }
        if comment.is_some_and(|c| !is_utf8text(c)) {
            return Err(MsrpError::new(
                MsrpErrorKind::InvalidStatusCode,
                word_at + 4,
            ));
        }
        return Ok((tid, StartLine::Response { code, comment }));
    }
    if word.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Err(MsrpError::new(MsrpErrorKind::InvalidStatusCode, word_at));
    }
    if comment.is_some() || word.is_empty() || !word.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(MsrpError::new(MsrpErrorKind::InvalidMethod, word_at));
    }
    Ok((tid, StartLine::Request(Method::from(word))))
}

/// Splits `name ":" [SP] value`; returns (line offset, name, value, value offset).
fn split_header(line: &str, at: usize) -> Result<(usize, &str, &str, usize), MsrpError> {
    let bad = |o| MsrpError::new(MsrpErrorKind::InvalidHeader, o);
    // One pass over the name: a letter, then token characters up to the
    // colon (a colon is not a token character). Every position cut at is
    // an ASCII character's.
    let bytes = line.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(bad(at));
    }
    let mut colon = 1;
    loop {
        match bytes.get(colon) {
            Some(b':') => break,
            Some(&b) if is_token(b) => colon += 1,
            _ => return Err(bad(at)),
        }
    }
    let blank = |b: &u8| matches!(*b, b' ' | b'\t');
    let mut start = colon + 1;
    while bytes.get(start).is_some_and(blank) {
        start += 1;
    }
    let mut end = bytes.len();
    while end > start && bytes.get(end - 1).is_some_and(blank) {
        end -= 1;
    }
    let v_at = at + start;
    let (Some(name), Some(value)) = (line.get(..colon), line.get(start..end)) else {
        return Err(bad(at));
    };
    if !is_utf8text(value) {
        return Err(bad(v_at));
    }
    Ok((at, name, value, v_at))
}

fn parse_path<'a>(value: &'a str, at: usize, limits: &Limits) -> Result<Path<'a>, MsrpError> {
    let mut path = Path::new();
    let mut offset = at;
    for part in value.split(' ') {
        if !part.is_empty() {
            if path.len() == limits.max_path_uris {
                return Err(MsrpError::new(
                    MsrpErrorKind::LimitExceeded(Limit::PathUris),
                    offset,
                ));
            }
            path.push(MsrpUri::parse(part).map_err(|e| e.shifted(offset))?);
        }
        offset += part.len() + 1;
    }
    if path.is_empty() {
        return Err(MsrpError::new(MsrpErrorKind::InvalidUri, at));
    }
    Ok(path)
}

/// `type "/" subtype *( ";" gen-param )`: the type and subtype must be
/// tokens (SP or HT may follow the subtype); the parameters are kept as
/// written.
fn check_media_type(value: &str, at: usize) -> Result<(), MsrpError> {
    let b = value.as_bytes();
    let token_end = |from: usize| {
        let mut i = from;
        while b.get(i).is_some_and(|&c| is_token(c)) {
            i += 1;
        }
        i
    };
    let slash = token_end(0);
    let sub_end = token_end(slash + 1);
    let mut i = sub_end;
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    let well_formed = slash > 0
        && b.get(slash) == Some(&b'/')
        && sub_end > slash + 1
        && matches!(b.get(i), None | Some(b';'));
    if !well_formed {
        return Err(MsrpError::new(MsrpErrorKind::InvalidContentType, at));
    }
    Ok(())
}

/// Parses one message at the start of `input` and returns it with the
/// number of bytes it spans (end-line CRLF included); bytes after it are
/// left alone.
///
/// ```
/// use oma_im::msrp::{parse_message_prefix, Limits};
///
/// let wire = b"MSRP a786hjs2 200 OK\r\n\
/// To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n\
/// From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n\
/// -------a786hjs2$\r\nMSRP next";
/// let (msg, used) = parse_message_prefix(wire, &Limits::default())?;
/// assert_eq!(&wire[used..], b"MSRP next");
/// assert_eq!(msg.body, None);
/// # Ok::<(), oma_im::msrp::MsrpError>(())
/// ```
pub fn parse_message_prefix<'a>(
    input: &'a [u8],
    limits: &Limits,
) -> Result<(MsrpMessage<'a>, usize), MsrpError> {
    parse_prefix(input, limits, None, &mut false)
}

/// [`parse_message_prefix`] with the path memos of a stream parser, noting
/// in `line_starts` whether a line of the body starts with `-------` (see
/// [`scan_end_line`]).
pub(crate) fn parse_prefix<'a>(
    input: &'a [u8],
    limits: &Limits,
    mut memos: Option<&mut PathMemos>,
    line_starts: &mut bool,
) -> Result<(MsrpMessage<'a>, usize), MsrpError> {
    let mut ends = LineEnds::new();
    let end = HeadScanner::default()
        .scan_noting(input, limits, &mut ends)?
        .ok_or(MsrpError::new(MsrpErrorKind::Incomplete, input.len()))?;
    match end {
        HeadEnd::EndLine { head_len, line_end } => {
            let head = parse_head_memo(&input[..head_len], false, limits, memos.take(), &ends)?;
            let flag = check_end_line(&input[head_len..line_end], head.transact_id, head_len)?;
            Ok((
                MsrpMessage {
                    head,
                    body: None,
                    flag,
                },
                line_end,
            ))
        }
        HeadEnd::Body {
            head_len,
            body_start,
        } => {
            let head = parse_head_memo(&input[..head_len], true, limits, memos.take(), &ends)?;
            let rest = &input[body_start..];
            let EndScan::Found {
                at: body_len,
                flag,
                len,
            } = scan_end_line(rest, head.transact_id.as_bytes(), true, line_starts)
            else {
                return Err(MsrpError::new(MsrpErrorKind::Incomplete, input.len()));
            };
            let used = body_len + len;
            if body_len > limits.max_chunk_size {
                return Err(MsrpError::new(
                    MsrpErrorKind::LimitExceeded(Limit::ChunkSize),
                    body_start + limits.max_chunk_size,
                ));
            }
            let body = &rest[..body_len];
            Ok((
                MsrpMessage {
                    head,
                    body: Some(body),
                    flag,
                },
                body_start + used,
            ))
        }
    }
}

/// What [`scan_end_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndScan {
    /// The end-line's leading CRLF is at `at`; it is `len` bytes long
    /// (both CRLFs included).
    Found {
        at: usize,
        flag: ContinuationFlag,
        len: usize,
    },
    /// The bytes from `at` on are the start of what may be the end-line.
    Partial { at: usize },
    /// No end-line, and no start of one at the end of the data.
    None,
}

const HYPHENS: &[u8] = b"\r\n-------";

/// What one candidate position holds.
enum Candidate {
    EndLine(ContinuationFlag, usize),
    Partial,
    /// The whole of `lead`, but not the end-line: a line of the body that
    /// starts with `-------` (an end-line of another transaction, or text).
    LineStart,
    No,
}

/// Matches `lead` (CRLF and/or hyphens), the transact-id, a flag and CRLF at
/// the start of `rest`; `Partial` when `rest` ends inside a possible match.
fn candidate(rest: &[u8], lead: &[u8], tid: &[u8]) -> Candidate {
    let n = rest.len().min(lead.len());
    if rest[..n] != lead[..n] {
        return Candidate::No;
    }
    // Past this point a `rest` longer than `lead` starts with all of it.
    let mismatch = if rest.len() > lead.len() {
        Candidate::LineStart
    } else {
        Candidate::No
    };
    let id = rest.get(lead.len()..).unwrap_or_default();
    let n = id.len().min(tid.len());
    if id[..n] != tid[..n] {
        return mismatch;
    }
    let fixed = lead.len() + tid.len();
    let flag = rest.get(fixed).map(|&f| ContinuationFlag::from_byte(f));
    match (flag, rest.get(fixed + 1), rest.get(fixed + 2)) {
        (Some(Some(flag)), Some(b'\r'), Some(b'\n')) => Candidate::EndLine(flag, fixed + 3),
        (None, ..) | (Some(Some(_)), None, _) | (Some(Some(_)), Some(b'\r'), None) => {
            Candidate::Partial
        }
        _ => mismatch,
    }
}

/// Finds the first exact end-line `CRLF "-------" tid flag CRLF` in body
/// bytes. Each CR is checked once against a pattern of bounded length, so
/// the scan is linear in the data.
///
/// At the very start of a body (`at_body_start`) the end-line may also
/// follow the blank line directly, without a CRLF of its own: an empty body
/// as some senders write it.
///
/// `line_starts` is set when a line of the body scanned (before what is
/// found) starts with `-------` without being the end-line: where
/// [`EndLineStarts::scan`](super::session::wire::EndLineStarts::scan) of the
/// body would find a candidate.
pub(crate) fn scan_end_line(
    data: &[u8],
    tid: &[u8],
    at_body_start: bool,
    line_starts: &mut bool,
) -> EndScan {
    if at_body_start {
        match candidate(data, &HYPHENS[2..], tid) {
            Candidate::EndLine(flag, len) => return EndScan::Found { at: 0, flag, len },
            Candidate::Partial => return EndScan::Partial { at: 0 },
            Candidate::LineStart => *line_starts = true,
            Candidate::No => {}
        }
    }
    for at in memchr::memchr_iter(b'\r', data) {
        match candidate(&data[at..], HYPHENS, tid) {
            Candidate::EndLine(flag, len) => return EndScan::Found { at, flag, len },
            Candidate::Partial => return EndScan::Partial { at },
            Candidate::LineStart => *line_starts = true,
            Candidate::No => {}
        }
    }
    EndScan::None
}

/// Parses one complete MSRP request or response (RFC 4975 §9) with the
/// default [`Limits`]; `input` must end right after the end-line.
///
/// See [`MsrpMessage`] for an example.
pub fn parse_message(input: &[u8]) -> Result<MsrpMessage<'_>, MsrpError> {
    parse_message_with(input, &Limits::default())
}

/// [`parse_message`] with the given limits.
pub fn parse_message_with<'a>(
    input: &'a [u8],
    limits: &Limits,
) -> Result<MsrpMessage<'a>, MsrpError> {
    let (msg, used) = parse_message_prefix(input, limits)?;
    if used != input.len() {
        return Err(MsrpError::new(MsrpErrorKind::TrailingData, used));
    }
    Ok(msg)
}
