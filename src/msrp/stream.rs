//! Incremental parsing of an MSRP byte stream (a TCP or TLS connection).

use super::error::{Limit, MsrpError, MsrpErrorKind};
use super::fields::ContinuationFlag;
use super::message::MsrpHead;
use super::message::MsrpMessage;
use super::parse::{
    check_end_line, parse_head_memo, parse_prefix, scan_end_line, EndScan, HeadEnd, HeadScanner,
    PathMemos,
};
use super::Limits;

/// What the stream parser found next.
// The head is large but short-lived; boxing it would cost an allocation per
// message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent<'a> {
    /// The start line and headers of a message. `has_body` says whether body
    /// bytes follow (possibly none) before the end.
    Head {
        /// The parsed head, borrowing the parser's buffer.
        head: MsrpHead<'a>,
        /// Whether the message has a body.
        has_body: bool,
    },
    /// The next bytes of the current message's body.
    BodyData(&'a [u8]),
    /// The end-line of the current message was found.
    End(ContinuationFlag),
}

#[derive(Debug, Clone)]
enum State {
    Head(HeadScanner),
    Body { body_len: usize, body_offset: usize },
    End(ContinuationFlag),
    Failed(MsrpError),
}

/// Parses MSRP messages from a byte stream split anywhere, handing body
/// bytes out as they arrive so that a large chunk is never buffered whole.
///
/// The end of a body is the first exact `CRLF "-------" transact-id flag
/// CRLF` of the message's own transact-id (RFC 4975 §7.1.1); look-alike lines
/// with other ids are body bytes. Scanning is linear: no byte is searched
/// more than a few times, whatever the split.
///
/// Contract: after each [`feed`](Self::feed), call
/// [`next_event`](Self::next_event) until it returns `Ok(None)`. An error is
/// final (the connection cannot be resynchronised); it is returned again by
/// every later call.
///
/// ```
/// use oma_im::msrp::{MsrpStreamParser, StreamEvent, ContinuationFlag, Limits};
///
/// let wire = b"MSRP a786hjs2 SEND\r\n\
/// To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n\
/// From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n\
/// Message-ID: 87652491\r\n\
/// Byte-Range: 1-25/25\r\n\
/// Content-Type: text/plain\r\n\
/// \r\n\
/// Hey Bob, are you there?\r\n\
/// -------a786hjs2$\r\n";
/// let mut parser = MsrpStreamParser::new(Limits::default());
/// let mut body = Vec::new();
/// let mut ends = Vec::new();
/// for piece in wire.chunks(7) {
///     parser.feed(piece);
///     while let Some(event) = parser.next_event()? {
///         match event {
///             StreamEvent::Head { head, .. } => assert_eq!(head.transact_id, "a786hjs2"),
///             StreamEvent::BodyData(data) => body.extend_from_slice(data),
///             StreamEvent::End(flag) => ends.push(flag),
///         }
///     }
/// }
/// assert_eq!(body, b"Hey Bob, are you there?");
/// assert_eq!(ends, [ContinuationFlag::Complete]);
/// # Ok::<(), oma_im::msrp::MsrpError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MsrpStreamParser {
    limits: Limits,
    buf: Vec<u8>,
    /// First byte of `buf` not yet handed out.
    pos: usize,
    /// Stream offset of `buf[0]`.
    base: usize,
    /// The transact-id of the current message.
    tid: Vec<u8>,
    state: State,
    /// The last To-Path and From-Path values, parsed (made with the first
    /// head, so that a connection that carries nothing costs nothing).
    memos: Option<Box<PathMemos>>,
    /// A line of the current (or last) message's body starts with `-------`
    /// without being its end-line.
    line_starts: bool,
}

impl MsrpStreamParser {
    /// A parser at the start of a stream.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buf: Vec::new(),
            pos: 0,
            base: 0,
            tid: Vec::new(),
            state: State::Head(HeadScanner::default()),
            memos: None,
            line_starts: false,
        }
    }

    /// Appends received bytes. Bytes already handed out are dropped first.
    pub fn feed(&mut self, data: &[u8]) {
        if matches!(self.state, State::Failed(_)) {
            return;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base = self.base.saturating_add(self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The bytes the parser holds: its buffer and the paths it remembers
    /// (counted at a fixed size).
    pub(crate) fn held_bytes(&self) -> usize {
        const MEMOS: usize = 512;
        self.buf.capacity() + self.tid.capacity() + self.memos.as_ref().map_or(0, |_| MEMOS)
    }

    /// Gives back the buffer's memory once every byte fed was handed out
    /// (it keeps the capacity of the largest input otherwise), or keeps only
    /// what is left to parse when that is much less than the capacity. A
    /// buffer of at most 8 KiB is kept as it is: a common chunk (4 KiB) with
    /// its head fits, so a stream of such chunks is received without
    /// allocating, and what an idle connection holds stays bounded.
    pub(crate) fn release_consumed(&mut self) {
        const RETAIN: usize = 8 * 1024;
        if self.buf.capacity() <= RETAIN {
            return;
        }
        let left = self.buf.len() - self.pos;
        if left == 0 {
            self.base = self.base.saturating_add(self.pos);
            self.pos = 0;
            self.buf = Vec::new();
        } else if left.saturating_mul(4) < self.buf.capacity() {
            self.buf.drain(..self.pos);
            self.base = self.base.saturating_add(self.pos);
            self.pos = 0;
            self.buf.shrink_to(left.max(RETAIN));
        }
    }

    /// Counts `len` bytes of the stream handled without the parser while it
    /// was [idle](Self::is_idle) (whole messages), so that the offsets of
    /// later errors stay those of the stream.
    pub(crate) fn skip(&mut self, len: usize) {
        self.base = self.base.saturating_add(self.buf.len()).saturating_add(len);
        self.buf.clear();
        self.pos = 0;
    }

    /// Whether a line of the body of the message being received, or of the
    /// last one received, starts with `-------` without being its end-line
    /// (RFC 4975 §7.1.1): `false` tells a relay that no transact-id can end
    /// that body early, without scanning it again.
    pub(crate) fn body_has_line_starts(&self) -> bool {
        self.line_starts
    }

    /// The message at the front of `data`, parsed where it lies, when the
    /// parser stands [idle](Self::is_idle) and `data` holds that message
    /// whole: it ends with the end-line of the start line's transact-id (a
    /// cheap look at both ends comes first, so that a message cut by the
    /// transport costs next to nothing here). The parser then counts the
    /// message's bytes as handled, as [`skip`](Self::skip) does, and
    /// [`body_has_line_starts`](Self::body_has_line_starts) speaks of its
    /// body. `None` for anything else (not idle, not whole, not valid):
    /// nothing changed, [`feed`](Self::feed) the bytes, and the events and
    /// errors are those the parser finds.
    pub(crate) fn parse_whole<'d>(&mut self, data: &'d [u8]) -> Option<(MsrpMessage<'d>, usize)> {
        if !self.is_idle() || matches!(self.state, State::Failed(_)) {
            return None;
        }
        let after = data.strip_prefix(b"MSRP ")?;
        let longest = self.limits.max_transact_id_len.min(after.len());
        let tid = after.get(..after.get(..=longest)?.iter().position(|&b| b == b' ')?)?;
        let end_line = data.len().checked_sub(tid.len() + 10)?;
        let tail = data.get(end_line..)?;
        let whole = tail.starts_with(b"-------")
            && tail.get(7..7 + tid.len()) == Some(tid)
            && matches!(
                tail.get(7 + tid.len()..),
                Some([b'$' | b'+' | b'#', b'\r', b'\n'])
            );
        if !whole {
            return None;
        }
        let mut line_starts = false;
        let memos = Some(&mut **self.memos.get_or_insert_with(Box::default));
        let (message, used) = parse_prefix(data, &self.limits, memos, &mut line_starts).ok()?;
        self.skip(used);
        self.state = State::Head(HeadScanner::default());
        self.line_starts = line_starts;
        Some((message, used))
    }

    /// Whether the parser stands between two messages with nothing buffered
    /// (a good moment for the connection to close).
    pub fn is_idle(&self) -> bool {
        matches!(&self.state, State::Head(_)) && self.pos == self.buf.len()
    }

    /// The next event, `Ok(None)` when more bytes are needed.
    pub fn next_event(&mut self) -> Result<Option<StreamEvent<'_>>, MsrpError> {
        match &mut self.state {
            State::Failed(e) => Err(e.clone()),
            State::End(flag) => {
                let flag = *flag;
                self.state = State::Head(HeadScanner::default());
                Ok(Some(StreamEvent::End(flag)))
            }
            State::Head(_) => self.head_event(),
            State::Body { .. } => self.body_event(),
        }
    }

    fn fail<T>(&mut self, e: MsrpError) -> Result<T, MsrpError> {
        self.state = State::Failed(e.clone());
        Err(e)
    }

    fn head_event(&mut self) -> Result<Option<StreamEvent<'_>>, MsrpError> {
        let start = self.pos;
        let offset = self.base.saturating_add(start);
        let State::Head(scanner) = &mut self.state else {
            return Ok(None);
        };
        let end = match scanner.scan(&self.buf[start..], &self.limits) {
            Ok(Some(end)) => end,
            Ok(None) => return Ok(None),
            Err(e) => return self.fail(e.shifted(offset)),
        };
        self.line_starts = false;
        let (head_len, has_body) = match end {
            HeadEnd::Body {
                head_len,
                body_start,
            } => {
                self.pos = start + body_start;
                self.state = State::Body {
                    body_len: 0,
                    body_offset: offset.saturating_add(body_start),
                };
                (head_len, true)
            }
            HeadEnd::EndLine { head_len, line_end } => {
                self.pos = start + line_end;
                (head_len, false)
            }
        };
        // Field-level borrows: the head borrows `buf` while `state` and
        // `tid` are updated.
        let buf = &self.buf;
        let head = match parse_head_memo(
            &buf[start..start + head_len],
            has_body,
            &self.limits,
            Some(self.memos.get_or_insert_with(Box::default)),
            &[],
        ) {
            Ok(head) => head,
            Err(e) => {
                let e = e.shifted(offset);
                self.state = State::Failed(e.clone());
                return Err(e);
            }
        };
        if has_body {
            self.tid.clear();
            self.tid.extend_from_slice(head.transact_id.as_bytes());
        } else {
            match check_end_line(&buf[start + head_len..self.pos], head.transact_id, head_len) {
                Ok(flag) => self.state = State::End(flag),
                Err(e) => {
                    let e = e.shifted(offset);
                    self.state = State::Failed(e.clone());
                    return Err(e);
                }
            }
        }
        Ok(Some(StreamEvent::Head { head, has_body }))
    }

    fn body_event(&mut self) -> Result<Option<StreamEvent<'_>>, MsrpError> {
        let State::Body {
            body_len,
            body_offset,
        } = self.state
        else {
            return Ok(None);
        };
        let data = &self.buf[self.pos..];
        let (safe, end) = match scan_end_line(data, &self.tid, body_len == 0, &mut self.line_starts)
        {
            EndScan::Found { at, flag, len } => (at, Some((flag, len))),
            EndScan::Partial { at } => (at, None),
            EndScan::None => (data.len(), None),
        };
        let total = body_len.saturating_add(safe);
        if total > self.limits.max_chunk_size {
            let at = body_offset.saturating_add(self.limits.max_chunk_size);
            return self.fail(MsrpError::new(
                MsrpErrorKind::LimitExceeded(Limit::ChunkSize),
                at,
            ));
        }
        if safe > 0 {
            self.state = State::Body {
                body_len: total,
                body_offset,
            };
            let from = self.pos;
            self.pos += safe;
            return Ok(Some(StreamEvent::BodyData(&self.buf[from..from + safe])));
        }
        match end {
            Some((flag, len)) => {
                self.pos += len;
                self.state = State::Head(HeadScanner::default());
                Ok(Some(StreamEvent::End(flag)))
            }
            None => Ok(None),
        }
    }
}
