//! The typed error every SDP parse failure returns.

use std::fmt;

/// Why a session description was rejected, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpError {
    /// What was wrong.
    pub kind: SdpErrorKind,
    /// Byte offset in the input where it was found.
    pub offset: usize,
}

impl SdpError {
    pub(crate) fn new(kind: SdpErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }
}

/// The cause of an [`SdpError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpErrorKind {
    /// The input is longer than [`Limits::max_size`](super::Limits::max_size).
    TooLarge,
    /// More lines than [`Limits::max_lines`](super::Limits::max_lines).
    TooManyLines,
    /// More `m=` lines than [`Limits::max_media`](super::Limits::max_media).
    TooManyMedia,
    /// More `a=` lines at one level than
    /// [`Limits::max_attributes`](super::Limits::max_attributes).
    TooManyAttributes,
    /// More URIs in one `a=path` than
    /// [`Limits::max_path_uris`](super::Limits::max_path_uris).
    TooManyPathUris,
    /// More media types in one `a=accept-types` or `a=accept-wrapped-types`
    /// than [`Limits::max_accept_types`](super::Limits::max_accept_types).
    TooManyAcceptTypes,
    /// The input is not UTF-8.
    NotUtf8,
    /// The body is not a session description: it does not start with `v=`.
    NotSdp,
    /// A line holds a NUL or a bare CR.
    InvalidCharacter,
    /// A line is not `<type>=<value>`.
    MalformedLine,
    /// A line type letter RFC 4566 does not define.
    UnknownType,
    /// A line type that is not allowed where it appears (for example `o=`
    /// inside a media description, or `r=` before any `t=`).
    UnexpectedLine,
    /// A line that may appear once per level appears twice.
    Duplicate,
    /// `v=` is not `0`.
    UnsupportedVersion,
    /// The `o=` line is not `<username> <sess-id> <sess-version> <nettype>
    /// <addrtype> <unicast-address>`.
    InvalidOrigin,
    /// A `c=` line is not `<nettype> <addrtype> <connection-address>`.
    InvalidConnection,
    /// A `t=` line is not `<start-time> <stop-time>`.
    InvalidTiming,
    /// A `b=` line is not `<bwtype>:<bandwidth>`.
    InvalidBandwidth,
    /// An `m=` line is not `<media> <port>[/<number>] <proto> <fmt> ...`.
    InvalidMedia,
    /// An attribute RFC 4975, RFC 4145 or RFC 4566 defines has a malformed
    /// value, or an attribute line has no name.
    InvalidAttribute,
    /// An entry of `a=accept-types` or `a=accept-wrapped-types` is not `*`,
    /// `type/*` or `type/subtype`.
    InvalidAcceptType,
    /// No `o=` line.
    MissingOrigin,
    /// No `s=` line.
    MissingSessionName,
    /// No `t=` line.
    MissingTiming,
    /// A media description has no `c=` line and the session level has none.
    MissingConnection,
}

impl SdpErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "session description too large",
            Self::TooManyLines => "too many lines",
            Self::TooManyMedia => "too many media descriptions",
            Self::TooManyAttributes => "too many attributes",
            Self::TooManyPathUris => "too many URIs in a=path",
            Self::TooManyAcceptTypes => "too many media types in an accept-types list",
            Self::NotUtf8 => "not UTF-8",
            Self::NotSdp => "not a session description (no leading v=)",
            Self::InvalidCharacter => "NUL or bare CR in a line",
            Self::MalformedLine => "line is not <type>=<value>",
            Self::UnknownType => "unknown line type",
            Self::UnexpectedLine => "line type not allowed here",
            Self::Duplicate => "line appears twice",
            Self::UnsupportedVersion => "unsupported SDP version",
            Self::InvalidOrigin => "invalid o= line",
            Self::InvalidConnection => "invalid c= line",
            Self::InvalidTiming => "invalid t= line",
            Self::InvalidBandwidth => "invalid b= line",
            Self::InvalidMedia => "invalid m= line",
            Self::InvalidAttribute => "invalid attribute",
            Self::InvalidAcceptType => "invalid media type in an accept-types list",
            Self::MissingOrigin => "missing o= line",
            Self::MissingSessionName => "missing s= line",
            Self::MissingTiming => "missing t= line",
            Self::MissingConnection => "missing c= line",
        }
    }
}

impl fmt::Display for SdpErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SDP: {} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for SdpError {}
