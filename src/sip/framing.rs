//! Finding message boundaries in a stream (TCP, TLS): RFC 3261 §18.3.
//!
//! On a stream, a message ends `Content-Length` octets after the empty line
//! closing its header section; Content-Length is mandatory there. CRLFs before
//! a start line are keep-alives (RFC 3261 §7.5, RFC 5626 §3.5.1) and are
//! skipped.
//!
//! [`Framer`] is resumable: feed it the same growing buffer after each read and
//! it only looks at the octets it has not seen, so framing one message costs
//! time linear in its length however it is split across reads. [`frame`] is
//! the one-shot form.
//!
//! ```
//! use oma_im::sip::framing::{Framer, Framing};
//! use oma_im::sip::{parse_message, Limits};
//!
//! let stream: &[u8] = b"\r\nOPTIONS sip:bob@example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/TCP pc33.example.com;branch=z9hG4bKhjhs8ass877\r\n\
//!     To: <sip:bob@example.com>\r\n\
//!     From: <sip:alice@example.com>;tag=1928301774\r\n\
//!     Call-ID: a84b4c76e66710\r\n\
//!     CSeq: 63104 OPTIONS\r\n\
//!     Content-Length: 0\r\n\
//!     \r\n";
//! let mut framer = Framer::new(Limits::default());
//! let mut buffer = Vec::new();
//! let mut framed = None;
//! for read in stream.chunks(10) {
//!     buffer.extend_from_slice(read);
//!     if let Framing::Complete { skipped, len } = framer.advance(&buffer)? {
//!         framed = Some((skipped, len));
//!         break;
//!     }
//! }
//! let (skipped, len) = framed.expect("a whole message");
//! assert_eq!(skipped, 2);
//! let message = parse_message(&buffer[skipped..skipped + len])?;
//! assert_eq!(message.method(), Some("OPTIONS"));
//! // The caller now drops `skipped + len` octets from the front of `buffer`.
//! # Ok::<(), oma_im::sip::SipError>(())
//! ```

use super::parse::{content_length_of, field_parts};
use super::{HeaderName, Limits, SipError, SipErrorKind};

/// What the framer found at the front of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A whole message: `skipped` keep-alive octets (CRLFs), then the message
    /// in the next `len` octets (start line, headers and body).
    Complete {
        /// Leading CRLF octets to discard before the message.
        skipped: usize,
        /// Length of the message including its body.
        len: usize,
    },
    /// The buffer holds only `len` octets of CRLF keep-alives (RFC 5626
    /// §3.5.1) and nothing after them yet: drop them (and answer a
    /// double-CRLF ping with a CRLF pong if the application does RFC 5626).
    KeepAlive {
        /// Octets of CRLF to discard.
        len: usize,
    },
    /// More octets are needed: `Some(n)` when the header section is complete
    /// and exactly `n` more octets finish the body, `None` while the header
    /// section is still arriving.
    Incomplete {
        /// Octets still missing, once known.
        needed: Option<usize>,
    },
}

/// Frames the message at the front of `buf` in one pass (time linear in
/// `buf.len()`). Calling this again on a growing buffer rescans it from the
/// start each time; use a [`Framer`] to resume instead.
///
/// Errors are unrecoverable: the stream cannot be re-synchronised and the
/// connection should be closed.
pub fn frame(buf: &[u8], limits: &Limits) -> Result<Framing, SipError> {
    Framer::new(*limits).advance(buf)
}

/// Where the framer is in the message at the front of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Skipping CRLFs before the start line.
    Keepalives,
    /// In the start line.
    StartLine,
    /// In the header section; `field` is the start of the field being read
    /// (its end is known when the next line does not start with SP or HT).
    Headers { field: Option<usize> },
    /// Header section read: the message ends at `end`.
    Body { end: usize },
}

/// A resumable stream framer (RFC 3261 §18.3).
///
/// Call [`Framer::advance`] with the whole receive buffer each time octets
/// arrive. The framer remembers how far it scanned and scans each octet of
/// the header section once, so framing a message split over `k` reads costs
/// `O(len + k)`. After a [`Framing::Complete`], the caller removes
/// `skipped + len` octets from the front of its buffer (after a
/// [`Framing::KeepAlive`], `len` octets) and goes on calling `advance` with
/// what remains: the framer has reset itself for the next message. After an
/// error, the stream is unusable.
#[derive(Debug, Clone)]
pub struct Framer {
    limits: Limits,
    state: State,
    /// Octets of CRLF keep-alive skipped before the start line.
    skipped: usize,
    /// Start of the first line not fully scanned yet.
    line: usize,
    /// Header fields seen.
    fields: usize,
    /// Content-Length seen so far.
    content_length: Option<usize>,
}

impl Framer {
    /// A framer for a new stream.
    pub fn new(limits: Limits) -> Self {
        Framer {
            limits,
            state: State::Keepalives,
            skipped: 0,
            line: 0,
            fields: 0,
            content_length: None,
        }
    }

    /// Forgets the message in progress: the next `advance` starts a new one
    /// at the front of the buffer.
    pub fn reset(&mut self) {
        *self = Framer::new(self.limits);
    }

    /// Frames the message at the front of `buf`, which must hold the octets
    /// of the previous call (if it returned [`Framing::Incomplete`]) followed
    /// by any new ones.
    pub fn advance(&mut self, buf: &[u8]) -> Result<Framing, SipError> {
        let framing = self.scan(buf)?;
        if matches!(
            framing,
            Framing::Complete { .. } | Framing::KeepAlive { .. }
        ) {
            self.reset();
        }
        Ok(framing)
    }

    fn scan(&mut self, buf: &[u8]) -> Result<Framing, SipError> {
        let max_size = self.limits.max_message_size.min(u32::MAX as usize);
        loop {
            match self.state {
                State::Keepalives => match buf.get(self.skipped..self.skipped + 2) {
                    Some(b"\r\n") => self.skipped += 2,
                    None if buf.len() == self.skipped && self.skipped > 0 => {
                        return Ok(Framing::KeepAlive { len: self.skipped })
                    }
                    None if buf.get(self.skipped..) == Some(b"\r") || buf.len() == self.skipped => {
                        return Ok(Framing::Incomplete { needed: None })
                    }
                    _ => {
                        self.line = self.skipped;
                        self.state = State::StartLine;
                    }
                },
                State::Body { end } => {
                    return Ok(if buf.len() >= end {
                        Framing::Complete {
                            skipped: self.skipped,
                            len: end - self.skipped,
                        }
                    } else {
                        Framing::Incomplete {
                            needed: Some(end - buf.len()),
                        }
                    });
                }
                State::StartLine | State::Headers { .. } => {
                    // The header section may not grow past the message limit,
                    // nor a single line or field past the field limit.
                    let head_limit = self.skipped.saturating_add(max_size);
                    // A line starting with SP or HT continues the pending field.
                    let continues = matches!(buf.get(self.line), Some(b' ' | b'\t'));
                    let field_start = match self.state {
                        State::Headers { field: Some(start) } if continues => start,
                        _ => self.line,
                    };
                    let line_limit = field_start.saturating_add(self.limits.max_header_len + 2);
                    let window_end = buf.len().min(head_limit).min(line_limit);
                    let window = buf.get(self.line..window_end).unwrap_or_default();
                    let Some(lf) = memchr::memchr(b'\n', window) else {
                        if buf.len() >= head_limit && head_limit <= line_limit {
                            return Err(SipError::new(SipErrorKind::MessageTooLarge, head_limit));
                        }
                        if buf.len() >= line_limit {
                            return Err(SipError::new(SipErrorKind::HeaderTooLong, field_start));
                        }
                        return Ok(Framing::Incomplete { needed: None });
                    };
                    let lf = self.line + lf;
                    if lf == self.line || buf.get(lf - 1) != Some(&b'\r') {
                        return Err(SipError::new(SipErrorKind::BareLineEnding, lf));
                    }
                    self.line_done(buf, lf)?;
                }
            }
        }
    }

    /// Handles the line ending with the LF at `lf`.
    fn line_done(&mut self, buf: &[u8], lf: usize) -> Result<(), SipError> {
        let line_start = self.line;
        let next = lf + 1;
        match self.state {
            State::StartLine => self.state = State::Headers { field: None },
            State::Headers { field } => {
                let continuation = matches!(buf.get(line_start), Some(b' ' | b'\t'));
                let blank = lf == line_start + 1;
                if continuation && field.is_some() {
                    self.line = next;
                    return Ok(());
                }
                if let Some(start) = field {
                    // The field ends at the CR before this line.
                    self.field_done(buf, start, line_start - 2)?;
                }
                if blank {
                    let length = self
                        .content_length
                        .ok_or(SipError::new(SipErrorKind::MissingContentLength, next))?;
                    let end = next
                        .checked_add(length)
                        .filter(|&end| end - self.skipped <= self.max_size())
                        .ok_or(SipError::new(SipErrorKind::MessageTooLarge, next))?;
                    self.state = State::Body { end };
                } else {
                    self.fields += 1;
                    if self.fields > self.limits.max_headers {
                        return Err(SipError::new(SipErrorKind::TooManyHeaders, line_start));
                    }
                    self.state = State::Headers {
                        field: Some(line_start),
                    };
                }
            }
            State::Keepalives | State::Body { .. } => {}
        }
        self.line = next;
        Ok(())
    }

    /// Looks at the complete header field `buf[start..end]`: only
    /// Content-Length matters for framing.
    fn field_done(&mut self, buf: &[u8], start: usize, end: usize) -> Result<(), SipError> {
        let field = buf.get(start..end).unwrap_or_default();
        let Ok(parts) = field_parts(field) else {
            // Not a header field: left for the parser to report.
            return Ok(());
        };
        if parts.id != HeaderName::ContentLength.id() {
            return Ok(());
        }
        let value_at = parts.value_start;
        let value = field
            .get(parts.value_start..parts.value_end)
            .unwrap_or_default();
        let length = content_length_of(value).ok_or(SipError::new(
            SipErrorKind::InvalidContentLength,
            start + value_at,
        ))?;
        if self
            .content_length
            .is_some_and(|previous| previous != length)
        {
            let kind = SipErrorKind::DuplicateHeader(HeaderName::ContentLength);
            return Err(SipError::new(kind, start + value_at));
        }
        self.content_length = Some(length);
        Ok(())
    }

    fn max_size(&self) -> usize {
        self.limits.max_message_size.min(u32::MAX as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"MESSAGE sip:bob@example.com SIP/2.0\r\n\
        Via: SIP/2.0/TCP pc33.example.com;branch=z9hG4bK776sgdkse\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:alice@example.com>;tag=49583\r\n\
        To: <sip:bob@example.com>\r\n\
        Call-ID: asd88asd77a@1.2.3.4\r\n\
        CSeq: 1 MESSAGE\r\n\
        Content-Type: text/plain\r\n\
        l:\r\n 5\r\n\
        \r\n\
        Hello";

    #[test]
    fn frames_a_message_fed_byte_by_byte() {
        let mut framer = Framer::new(Limits::default());
        let mut results = Vec::new();
        for end in 0..=MESSAGE.len() {
            results.push(framer.advance(&MESSAGE[..end]).unwrap());
        }
        let last = *results.last().unwrap();
        assert_eq!(
            last,
            Framing::Complete {
                skipped: 0,
                len: MESSAGE.len()
            }
        );
        assert_eq!(
            results[MESSAGE.len() - 2],
            Framing::Incomplete { needed: Some(2) }
        );
        assert_eq!(results[10], Framing::Incomplete { needed: None });
        assert_eq!(frame(MESSAGE, &Limits::default()).unwrap(), last);
    }

    #[test]
    fn skips_keepalives_and_frames_back_to_back_messages() {
        let mut stream = b"\r\n\r\n".to_vec();
        stream.extend_from_slice(MESSAGE);
        stream.extend_from_slice(b"\r\n");
        stream.extend_from_slice(MESSAGE);
        let mut framer = Framer::new(Limits::default());
        let first = framer.advance(&stream).unwrap();
        assert_eq!(
            first,
            Framing::Complete {
                skipped: 4,
                len: MESSAGE.len()
            }
        );
        let rest = &stream[4 + MESSAGE.len()..];
        let second = framer.advance(rest).unwrap();
        assert_eq!(
            second,
            Framing::Complete {
                skipped: 2,
                len: MESSAGE.len()
            }
        );
        assert_eq!(
            framer.advance(b"\r").unwrap(),
            Framing::Incomplete { needed: None }
        );
        assert_eq!(
            framer.advance(b"\r\n\r\n").unwrap(),
            Framing::KeepAlive { len: 4 }
        );
        assert_eq!(
            framer.advance(b"\r\n\r").unwrap(),
            Framing::Incomplete { needed: None }
        );
        assert_eq!(
            framer.advance(b"\r\n\r\n").unwrap(),
            Framing::KeepAlive { len: 4 }
        );
    }

    #[test]
    fn content_length_is_mandatory_and_consistent() {
        let kind = |m: &[u8]| frame(m, &Limits::default()).unwrap_err().kind;
        let no_length = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n";
        assert_eq!(kind(no_length), SipErrorKind::MissingContentLength);
        let two = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab";
        assert_eq!(
            kind(two),
            SipErrorKind::DuplicateHeader(HeaderName::ContentLength)
        );
        let negative = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n";
        assert_eq!(kind(negative), SipErrorKind::InvalidContentLength);
        let same = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 02\r\n\r\nab";
        assert_eq!(
            frame(same, &Limits::default()).unwrap(),
            Framing::Complete {
                skipped: 0,
                len: same.len()
            }
        );
        let bare = b"OPTIONS sip:a@b SIP/2.0\nl: 0\n\n";
        assert_eq!(kind(bare), SipErrorKind::BareLineEnding);
    }

    #[test]
    fn limits_stop_runaway_headers() {
        let limits = Limits {
            max_message_size: 100,
            max_headers: 2,
            max_header_len: 30,
            ..Limits::default()
        };
        let long_line = [b'a'; 64];
        let err = frame(&long_line, &limits).unwrap_err();
        assert_eq!(err.kind, SipErrorKind::HeaderTooLong);
        let many = b"OPTIONS sip:a SIP/2.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n";
        assert_eq!(
            frame(many, &limits).unwrap_err().kind,
            SipErrorKind::TooManyHeaders
        );
        let big_body = b"OPTIONS sip:a SIP/2.0\r\nl: 100\r\n\r\n";
        assert_eq!(
            frame(big_body, &limits).unwrap_err().kind,
            SipErrorKind::MessageTooLarge
        );
        let mut head = b"OPTIONS sip:a SIP/2.0\r\n".to_vec();
        for _ in 0..6 {
            head.extend_from_slice(b"X: 0123456789abc\r\n");
        }
        let roomy = Limits {
            max_headers: 100,
            ..limits
        };
        assert_eq!(
            frame(&head, &roomy).unwrap_err().kind,
            SipErrorKind::MessageTooLarge
        );
    }
}
