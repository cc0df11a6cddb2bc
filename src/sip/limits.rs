//! Bounds on what the SIP parser and framer accept.

/// Bounds on a SIP message. Input over a bound is rejected with a typed
/// [`SipError`](super::SipError), found in time linear in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (start line, headers and body) in octets. Also bounds
    /// how far the stream framer looks for the end of a header section.
    /// Values above `u32::MAX` act as `u32::MAX`.
    pub max_message_size: usize,
    /// Largest number of header fields; counted while scanning, so a message
    /// with more is rejected as soon as the first extra field is seen.
    pub max_headers: usize,
    /// Largest header field (name, value and folded continuation lines) and
    /// largest start line, in octets.
    pub max_header_len: usize,
}

impl Default for Limits {
    /// 64 KiB messages, 128 header fields, 8 KiB per header field.
    fn default() -> Self {
        Limits {
            max_message_size: 64 * 1024,
            max_headers: 128,
            max_header_len: 8 * 1024,
        }
    }
}
