//! Message bodies: MIME header blocks and media types ([`mime`]),
//! `multipart/mixed` (RFC 2046 §5.1, [`multipart`]) and `message/cpim`
//! (RFC 3862, [`cpim`]).
//!
//! Every parser borrows its input and is bounded by [`mime::MimeLimits`]; every
//! writer appends to a caller's `Vec<u8>`.

pub mod cpim;
pub mod mime;
pub mod multipart;
