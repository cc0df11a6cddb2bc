//! Typed values of the MSRP start line, header fields and end-line.

use std::fmt;

use super::error::{MsrpError, MsrpErrorKind};
use super::syntax::{is_utf8text, parse_3digit, parse_u64, write_3digit};
use crate::decimal::push_decimal;

/// The method of a request: `SEND`, `REPORT` or another `1*UPALPHA` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// `SEND`: carries a message or a chunk of one.
    Send,
    /// `REPORT`: reports on the delivery of a message.
    Report,
    /// Any other method (answered with 501 by endpoints that do not know it).
    Other(&'a str),
}

impl<'a> Method<'a> {
    /// The method name as written.
    pub const fn as_str(&self) -> &'a str {
        match self {
            Method::Send => "SEND",
            Method::Report => "REPORT",
            Method::Other(name) => name,
        }
    }
}

impl<'a> From<&'a str> for Method<'a> {
    /// `SEND` and `REPORT` (exact, upper case) become their variants, any
    /// other name [`Method::Other`].
    fn from(name: &'a str) -> Self {
        match name {
            "SEND" => Method::Send,
            "REPORT" => Method::Report,
            other => Method::Other(other),
        }
    }
}

/// What the start line says: a request with its method, or a response with
/// its status code and comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartLine<'a> {
    /// `MSRP <transact-id> <method>`.
    Request(Method<'a>),
    /// `MSRP <transact-id> <status-code> [comment]`.
    Response {
        /// The three-digit status code.
        code: u16,
        /// The comment after the code (`OK` in `200 OK`).
        comment: Option<&'a str>,
    },
}

/// The continuation-flag of an end-line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContinuationFlag {
    /// `$`: this chunk ends the message.
    Complete,
    /// `+`: more chunks of this message follow.
    Continuation,
    /// `#`: the sender aborts the message; no more chunks follow.
    Aborted,
}

impl ContinuationFlag {
    /// The flag character.
    pub const fn as_byte(self) -> u8 {
        match self {
            ContinuationFlag::Complete => b'$',
            ContinuationFlag::Continuation => b'+',
            ContinuationFlag::Aborted => b'#',
        }
    }

    /// The flag for a character, if it is one.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'$' => Some(ContinuationFlag::Complete),
            b'+' => Some(ContinuationFlag::Continuation),
            b'#' => Some(ContinuationFlag::Aborted),
            _ => None,
        }
    }
}

/// A Byte-Range value, `range-start "-" range-end "/" total`, with `*`
/// (unknown) for the end or the total. Positions count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// Position of the chunk's first byte in the whole message (≥ 1).
    pub start: u64,
    /// Position of its last byte; `None` for `*`.
    pub end: Option<u64>,
    /// Size of the whole message; `None` for `*`.
    pub total: Option<u64>,
}

impl ByteRange {
    /// Parses and validates a Byte-Range value: start ≥ 1, end ≥ start - 1,
    /// end ≤ total and start - 1 ≤ total. Error offsets are relative to `s`.
    ///
    /// ```
    /// use oma_im::msrp::ByteRange;
    ///
    /// let r = ByteRange::parse("1-*/8191")?;
    /// assert_eq!((r.start, r.end, r.total), (1, None, Some(8191)));
    /// assert!(ByteRange::parse("0-5/5").is_err());
    /// # Ok::<(), oma_im::msrp::MsrpError>(())
    /// ```
    pub fn parse(s: &str) -> Result<Self, MsrpError> {
        const K: MsrpErrorKind = MsrpErrorKind::InvalidByteRange;
        let b = s.as_bytes();
        let dash = b
            .iter()
            .position(|&c| c == b'-')
            .ok_or(MsrpError::new(K, s.len()))?;
        let slash = b
            .iter()
            .position(|&c| c == b'/')
            .filter(|&i| i > dash)
            .ok_or(MsrpError::new(K, s.len()))?;
        // `*` or digits between `from` and `to`.
        let number = |from: usize, to: usize| match b.get(from..to) {
            Some(b"*") => Ok(None),
            _ => parse_u64(s.get(from..to).unwrap_or_default(), K, from).map(Some),
        };
        let start = parse_u64(s.get(..dash).unwrap_or_default(), K, 0)?;
        let range = ByteRange {
            start,
            end: number(dash + 1, slash)?,
            total: number(slash + 1, s.len())?,
        };
        if !range.is_consistent() {
            return Err(MsrpError::new(K, 0));
        }
        Ok(range)
    }

    /// `1-total/total`: the whole of a message of `total` bytes (the range a
    /// success REPORT carries).
    pub const fn whole(total: u64) -> Self {
        ByteRange {
            start: 1,
            end: Some(total),
            total: Some(total),
        }
    }

    /// Whether start ≥ 1, end ≥ start - 1, end ≤ total and start - 1 ≤ total.
    pub fn is_consistent(&self) -> bool {
        let before = match self.start.checked_sub(1) {
            Some(before) => before,
            None => return false,
        };
        self.end.is_none_or(|end| end >= before)
            && self
                .total
                .is_none_or(|total| before <= total && self.end.is_none_or(|end| end <= total))
    }

    /// Appends the value in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        push_decimal(out, self.start);
        out.push(b'-');
        match self.end {
            Some(end) => push_decimal(out, end),
            None => out.push(b'*'),
        }
        out.push(b'/');
        match self.total {
            Some(total) => push_decimal(out, total),
            None => out.push(b'*'),
        }
    }
}

impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(24);
        self.write(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

/// The Success-Report value: whether the sender wants a REPORT on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuccessReport {
    /// `yes`.
    Yes,
    /// `no` (the default when the header is absent).
    No,
}

/// The Failure-Report value: which failures the sender wants to hear of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReport {
    /// `yes` (the default when the header is absent).
    Yes,
    /// `no`: no transaction responses and no failure REPORTs.
    No,
    /// `partial`: failure REPORTs and negative responses only, no 200.
    Partial,
}

impl SuccessReport {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("yes") {
            Some(SuccessReport::Yes)
        } else if s.eq_ignore_ascii_case("no") {
            Some(SuccessReport::No)
        } else {
            None
        }
    }

    /// The value as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            SuccessReport::Yes => "yes",
            SuccessReport::No => "no",
        }
    }
}

impl FailureReport {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("yes") {
            Some(FailureReport::Yes)
        } else if s.eq_ignore_ascii_case("no") {
            Some(FailureReport::No)
        } else if s.eq_ignore_ascii_case("partial") {
            Some(FailureReport::Partial)
        } else {
            None
        }
    }

    /// The value as written.
    pub const fn as_str(self) -> &'static str {
        match self {
            FailureReport::Yes => "yes",
            FailureReport::No => "no",
            FailureReport::Partial => "partial",
        }
    }
}

/// The Status header of a REPORT: `namespace SP status-code [SP text-reason]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status<'a> {
    /// The namespace, `000` for the codes of RFC 4975.
    pub namespace: u16,
    /// The status code (100..=999).
    pub code: u16,
    /// The reason text (never empty when parsed).
    pub reason: Option<&'a str>,
}

impl<'a> Status<'a> {
    /// Parses a Status value. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<Self, MsrpError> {
        let bad = |at| MsrpError::new(MsrpErrorKind::InvalidStatus, at);
        let namespace = s.get(..3).and_then(parse_3digit).ok_or(bad(0))?;
        if s.as_bytes().get(3) != Some(&b' ') {
            return Err(bad(3));
        }
        let code = s.get(4..7).and_then(parse_3digit).ok_or(bad(4))?;
        let reason = match s.as_bytes().get(7) {
            None => None,
            Some(b' ') => Some(&s[8..]).filter(|r| !r.is_empty()),
            Some(_) => return Err(bad(7)),
        };
        if reason.is_some_and(|r| !is_utf8text(r)) {
            return Err(bad(8));
        }
        Ok(Status {
            namespace,
            code,
            reason,
        })
    }

    /// Appends the value in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        write_3digit(out, self.namespace);
        out.push(b' ');
        write_3digit(out, self.code);
        if let Some(reason) = self.reason {
            out.push(b' ');
            out.extend_from_slice(reason.as_bytes());
        }
    }
}

/// A header field kept by name and value: a MIME header other than
/// Content-Type, or an extension header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header<'a> {
    /// The name as received.
    pub name: &'a str,
    /// The value, without surrounding whitespace.
    pub value: &'a str,
}
