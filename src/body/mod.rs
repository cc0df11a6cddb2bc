//! Message bodies, each a zero-copy parser and a writer into a caller's `Vec<u8>`.
//!
//! * [`multipart`]: `multipart/mixed` (RFC 2046 §5.1) — the INVITE of an Ad-hoc IM
//!   Group Session carries its SDP offer and its URI list in one; helpers find each.
//! * [`resource_lists`]: `application/resource-lists+xml` (RFC 4826), with the
//!   RFC 5364 copy-control attributes, as used by RFC 5366 to carry the invitees of
//!   an Ad-hoc IM Group Session in the INVITE.
//! * [`conference_info`]: `application/conference-info+xml` (RFC 4575): full and
//!   partial conference state, and the §4.6 merge of partial notifications.
//! * [`cpim`]: `message/cpim` (RFC 3862), the wrapper of every IM message on MSRP.
//! * [`imdn`]: `message/imdn+xml` (RFC 5438), disposition notifications.
//! * [`iscomposing`]: `application/im-iscomposing+xml` (RFC 3994), typing
//!   indications.
//! * [`mime`]: MIME header blocks and media types, shared by `multipart` and `cpim`;
//!   bounded by [`mime::MimeLimits`].
//! * [`xml`]: what the XML bodies share: [`xml::XmlLimits`], [`xml::XmlError`], and
//!   the reading rules (no DOCTYPE, no entity expansion, bounded input).

pub mod conference_info;
pub mod cpim;
pub mod imdn;
pub mod iscomposing;
pub mod mime;
pub mod multipart;
pub mod resource_lists;
pub mod xml;
