//! Bounds on what a header value may make the parsers store.

/// Limits applied while parsing URIs, name-addrs and header values.
///
/// Parsing stops with [`ValueErrorKind::TooManyParams`](super::ValueErrorKind::TooManyParams),
/// [`ValueErrorKind::TooManyItems`](super::ValueErrorKind::TooManyItems) or
/// [`ValueErrorKind::CommentTooDeep`](super::ValueErrorKind::CommentTooDeep) as soon as a
/// limit is passed, before any more work is done.
///
/// A message is parsed under the value limits of its
/// [`Limits::values`](crate::sip::Limits::values), which its typed accessors
/// then apply; the `parse_with` functions of the value types take them
/// directly.
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

/// [`ValueLimits`] as a parsed message keeps them, in 16 octets: each bound
/// saturated to `u32::MAX`, which changes nothing, since a message is at
/// most `u32::MAX` octets long and every parameter, URI header, comment
/// level and product takes at least one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeptValueLimits {
    max_params: u32,
    max_uri_headers: u32,
    max_comment_depth: u32,
    max_products: u32,
}

impl KeptValueLimits {
    /// `limits`, kept.
    pub(crate) const fn new(limits: &ValueLimits) -> Self {
        const fn saturated(n: usize) -> u32 {
            if n > u32::MAX as usize {
                u32::MAX
            } else {
                n as u32
            }
        }
        KeptValueLimits {
            max_params: saturated(limits.max_params),
            max_uri_headers: saturated(limits.max_uri_headers),
            max_comment_depth: saturated(limits.max_comment_depth),
            max_products: saturated(limits.max_products),
        }
    }

    /// The limits kept.
    pub(crate) const fn get(&self) -> ValueLimits {
        ValueLimits {
            max_params: self.max_params as usize,
            max_uri_headers: self.max_uri_headers as usize,
            max_comment_depth: self.max_comment_depth as usize,
            max_products: self.max_products as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_limits_give_back_what_a_message_can_reach() {
        let tight = ValueLimits {
            max_params: 4,
            max_uri_headers: 0,
            max_comment_depth: 1,
            max_products: 2,
        };
        assert_eq!(KeptValueLimits::new(&tight).get(), tight);
        let default = ValueLimits::DEFAULT;
        assert_eq!(KeptValueLimits::new(&default).get(), default);
        let huge = ValueLimits {
            max_params: usize::MAX,
            ..tight
        };
        assert_eq!(
            KeptValueLimits::new(&huge).get().max_params,
            u32::MAX as usize
        );
    }
}
