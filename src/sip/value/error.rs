//! The error every SIP header value parser returns.

use std::fmt;

/// Why a header value (or a URI, a name-addr, a method) was rejected, and where.
///
/// `offset` is the byte offset of the problem inside the parsed value (the
/// string given to `parse`), not inside the whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// What went wrong.
    pub kind: ValueErrorKind,
    /// Byte offset in the parsed value where it was found.
    pub offset: usize,
}

/// The cause of a [`ValueError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueErrorKind {
    /// The value (or a required part of it) is empty.
    Empty,
    /// A specific character was required here.
    Expected(char),
    /// A token (RFC 3261 §25.1) was required here.
    ExpectedToken,
    /// A character that the grammar does not allow here.
    UnexpectedCharacter,
    /// The value continues after a complete element.
    TrailingData,
    /// A quoted-string without its closing `"`.
    UnterminatedQuotedString,
    /// A comment without its closing `)`.
    UnterminatedComment,
    /// Comments nested deeper than [`ValueLimits::max_comment_depth`](super::ValueLimits::max_comment_depth).
    CommentTooDeep,
    /// A `<` without its `>`.
    UnterminatedAngleBracket,
    /// A `%` not followed by two hexadecimal digits.
    InvalidEscape,
    /// A URI scheme that is missing or malformed.
    InvalidScheme,
    /// A malformed userinfo (user or password) in a SIP URI.
    InvalidUserinfo,
    /// A malformed host name or IPv4 address.
    InvalidHost,
    /// A malformed IPv6 reference (RFC 5118).
    InvalidIpv6,
    /// A port that is missing or not in `0..=65535`.
    InvalidPort,
    /// Digits were required here.
    ExpectedDigits,
    /// A number larger than the field allows.
    NumberOutOfRange,
    /// A URI parameter name that appears twice (RFC 3261 §19.1.1).
    DuplicateParam,
    /// More parameters than [`ValueLimits::max_params`](super::ValueLimits::max_params).
    TooManyParams,
    /// More items than the value's limit in [`ValueLimits`](super::ValueLimits).
    TooManyItems,
    /// A parameter whose value does not fit its definition.
    InvalidParamValue,
    /// A Via sent-protocol that is not `name/version/transport`.
    InvalidProtocol,
}

impl ValueError {
    /// An error of `kind` at `offset`.
    pub const fn new(kind: ValueErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// The same error, with its offset moved by `base` bytes (for an error found
    /// in a part of a larger value). Saturates rather than overflowing.
    #[must_use]
    pub const fn shifted(self, base: usize) -> Self {
        Self {
            kind: self.kind,
            offset: self.offset.saturating_add(base),
        }
    }
}

impl fmt::Display for ValueErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::Empty => "empty value",
            Self::Expected(c) => return write!(f, "expected '{}'", c.escape_default()),
            Self::ExpectedToken => "expected a token",
            Self::UnexpectedCharacter => "unexpected character",
            Self::TrailingData => "trailing data after the value",
            Self::UnterminatedQuotedString => "unterminated quoted-string",
            Self::UnterminatedComment => "unterminated comment",
            Self::CommentTooDeep => "comments nested too deep",
            Self::UnterminatedAngleBracket => "'<' without '>'",
            Self::InvalidEscape => "'%' not followed by two hex digits",
            Self::InvalidScheme => "missing or invalid URI scheme",
            Self::InvalidUserinfo => "invalid user or password",
            Self::InvalidHost => "invalid host",
            Self::InvalidIpv6 => "invalid IPv6 reference",
            Self::InvalidPort => "invalid port",
            Self::ExpectedDigits => "expected digits",
            Self::NumberOutOfRange => "number out of range",
            Self::DuplicateParam => "parameter name appears twice",
            Self::TooManyParams => "too many parameters",
            Self::TooManyItems => "too many items",
            Self::InvalidParamValue => "invalid parameter value",
            Self::InvalidProtocol => "invalid sent-protocol",
        };
        f.write_str(text)
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for ValueError {}
