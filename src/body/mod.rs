//! Message bodies: the XML bodies of URI-list conferencing and the conference
//! event package.
//!
//! * [`resource_lists`]: `application/resource-lists+xml` (RFC 4826), with the
//!   RFC 5364 copy-control attributes, as used by RFC 5366 to carry the invitees of
//!   an Ad-hoc IM Group Session in the INVITE.
//! * [`conference_info`]: `application/conference-info+xml` (RFC 4575): full and
//!   partial conference state, and the §4.6 merge of partial notifications.
//! * [`xml`]: what both share: [`xml::XmlLimits`], [`xml::XmlError`], and the
//!   reading rules (no DOCTYPE, no entity expansion, bounded input).

pub mod conference_info;
pub mod resource_lists;
pub mod xml;
