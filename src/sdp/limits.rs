//! Bounds on everything in a session description that grows with input.

/// Limits applied while parsing a session description. Input over a limit is
/// rejected with a typed [`SdpError`](super::SdpError) before more work is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_size: usize,
    /// Most non-blank lines.
    pub max_lines: usize,
    /// Most media descriptions (`m=` lines).
    pub max_media: usize,
    /// Most attributes (`a=` lines) at the session level, and in each media
    /// description.
    pub max_attributes: usize,
    /// Most URIs in one `a=path`.
    pub max_path_uris: usize,
    /// Most media types in one `a=accept-types` or `a=accept-wrapped-types`.
    pub max_accept_types: usize,
}

impl Default for Limits {
    /// 16 KiB, 256 lines, 16 media descriptions, 64 attributes per level,
    /// 16 path URIs, 32 accepted media types.
    fn default() -> Self {
        Self {
            max_size: 16 * 1024,
            max_lines: 256,
            max_media: 16,
            max_attributes: 64,
            max_path_uris: 16,
            max_accept_types: 32,
        }
    }
}
