//! The error type of the MSRP codec.

use std::fmt;

/// Which [`Limits`](super::Limits) value an input went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_header_size`](super::Limits::max_header_size).
    HeaderSize,
    /// [`Limits::max_headers`](super::Limits::max_headers).
    Headers,
    /// [`Limits::max_path_uris`](super::Limits::max_path_uris).
    PathUris,
    /// [`Limits::max_transact_id_len`](super::Limits::max_transact_id_len).
    TransactIdLength,
    /// [`Limits::max_message_id_len`](super::Limits::max_message_id_len).
    MessageIdLength,
    /// [`Limits::max_chunk_size`](super::Limits::max_chunk_size).
    ChunkSize,
    /// [`Limits::max_message_size`](super::Limits::max_message_size).
    MessageSize,
    /// [`Limits::max_partial_messages`](super::Limits::max_partial_messages).
    PartialMessages,
    /// [`Limits::max_buffered_bytes`](super::Limits::max_buffered_bytes).
    BufferedBytes,
}

/// What was wrong with an MSRP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MsrpErrorKind {
    /// The input ended before the message was complete.
    Incomplete,
    /// A line ended in a bare LF instead of CRLF.
    InvalidLineEnding,
    /// The header section is not valid UTF-8.
    InvalidUtf8,
    /// The start line does not begin with `MSRP` and a space.
    NotMsrp,
    /// The transact-id is not an `ident`.
    InvalidTransactId,
    /// The method is not `1*UPALPHA`.
    InvalidMethod,
    /// The status code of a response is not three digits from 100 up, or
    /// its comment holds control characters.
    InvalidStatusCode,
    /// A header line has no colon, an invalid name or an invalid value.
    InvalidHeader,
    /// The first header is not To-Path.
    MissingToPath,
    /// The second header is not From-Path.
    MissingFromPath,
    /// A header that may appear once appears twice.
    DuplicateHeader,
    /// An MSRP URI (RFC 4975 §9) is malformed.
    InvalidUri,
    /// The Message-ID value is not an `ident`.
    InvalidMessageId,
    /// The Byte-Range value is malformed or inconsistent
    /// (start < 1, end < start - 1, end > total, ...).
    InvalidByteRange,
    /// A Success-Report or Failure-Report value is not one the RFC allows.
    InvalidReportValue,
    /// The Status value is not `namespace SP status-code [SP text-reason]`.
    InvalidStatus,
    /// The Content-Type value is not a media type.
    InvalidContentType,
    /// The message has a body but no Content-Type.
    BodyWithoutContentType,
    /// The end-line is not `-------` transact-id flag CRLF.
    InvalidEndLine,
    /// The end-line's transact-id differs from the start line's.
    TransactIdMismatch,
    /// Bytes follow the end-line of a message parsed on its own.
    TrailingData,
    /// The input went over a configured limit.
    LimitExceeded(Limit),
}

/// A malformed or over-limit MSRP message: what was wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsrpError {
    /// The cause.
    pub kind: MsrpErrorKind,
    /// Byte offset in the input where it was found.
    pub offset: usize,
}

impl MsrpError {
    pub(crate) const fn new(kind: MsrpErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// The same error, `base` bytes further into a larger input.
    pub(crate) fn shifted(self, base: usize) -> Self {
        Self {
            kind: self.kind,
            offset: self.offset.saturating_add(base),
        }
    }
}

impl fmt::Display for MsrpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MSRP: {:?} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for MsrpError {}
