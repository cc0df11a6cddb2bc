//! Bounds on what a header value may make the parsers store.

/// Limits applied while parsing URIs, name-addrs and header values.
///
/// Parsing stops with [`ValueErrorKind::TooManyParams`](super::ValueErrorKind::TooManyParams),
/// [`ValueErrorKind::TooManyItems`](super::ValueErrorKind::TooManyItems) or
/// [`ValueErrorKind::CommentTooDeep`](super::ValueErrorKind::CommentTooDeep) as soon as a
/// limit is passed, before any more work is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueLimits {
    /// Most `;name=value` parameters in one URI or one header value element.
    pub max_params: usize,
    /// Most `?name=value&...` headers in one SIP URI.
    pub max_uri_headers: usize,
    /// Deepest nesting of `( ... )` comments.
    pub max_comment_depth: usize,
    /// Most products and comments in one Server or User-Agent value.
    pub max_products: usize,
}

impl ValueLimits {
    /// The default limits, usable in `const` context.
    pub const DEFAULT: Self = Self {
        max_params: 32,
        max_uri_headers: 16,
        max_comment_depth: 8,
        max_products: 32,
    };
}

impl Default for ValueLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
