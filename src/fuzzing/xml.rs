//! Fuzz entry points for the XML bodies: parse, and when the input parses,
//! check that write → parse gives the same value.

use crate::body::conference_info::{ConferenceInfo, ElementState};
use crate::body::imdn::Imdn;
use crate::body::iscomposing::IsComposing;
use crate::body::resource_lists::ResourceLists;
use crate::body::xml::XmlLimits;

/// `resource_lists_parse`: parses a resource-lists document; a parsed document
/// must survive write → parse unchanged, and its flattened entries must be within
/// the entry limit.
pub fn resource_lists_parse(data: &[u8]) {
    let limits = XmlLimits::default();
    let Ok(lists) = ResourceLists::parse(data, &limits) else {
        return;
    };
    assert!(lists.entry_count() <= limits.max_list_entries);
    let mut out = Vec::new();
    lists.write(&mut out);
    let again =
        ResourceLists::parse(&out, &escaped(limits)).expect("written resource-lists must parse");
    assert_eq!(again, lists, "resource-lists round trip");
}

/// The limits a written document is read back under: the writer escapes
/// characters the input may have carried raw (`"` becomes `&quot;`), so a
/// text or attribute at the length limit may be up to six times longer
/// written (found by `resource_lists_parse`: a 4 096-byte text written as
/// 5 161 bytes; by `imdn_parse` again: a 4 096-byte text written as 6 965).
fn escaped(limits: XmlLimits) -> XmlLimits {
    XmlLimits {
        max_text_len: limits.max_text_len.saturating_mul(6),
        max_document_size: limits.max_document_size.saturating_mul(6),
        ..limits
    }
}

/// `conference_info_parse`: parses a conference-info document; a parsed document
/// must survive write → parse unchanged, and must merge into itself when re-sent as
/// the next partial notification.
pub fn conference_info_parse(data: &[u8]) {
    let limits = XmlLimits::default();
    let Ok(info) = ConferenceInfo::parse(data, &limits) else {
        return;
    };
    let mut out = Vec::new();
    info.write(&mut out);
    let again =
        ConferenceInfo::parse(&out, &escaped(limits)).expect("written conference-info must parse");
    assert_eq!(again, info, "conference-info round trip");

    // Re-sent as the next partial notification, the document must be accepted.
    let Some(next) = info.version.and_then(|v| v.checked_add(1)) else {
        return;
    };
    let mut local = info.clone();
    local.state = ElementState::Full;
    let mut notification = info;
    notification.state = ElementState::Partial;
    notification.version = Some(next);
    local
        .apply(notification)
        .expect("the next version merges into its predecessor");
    assert_eq!(local.version, Some(next));
}

/// `imdn_parse`: parses a `message/imdn+xml` document; a parsed document must
/// survive write → parse unchanged.
pub fn imdn_parse(data: &[u8]) {
    let limits = XmlLimits::default();
    let Ok(imdn) = Imdn::parse(data, &limits) else {
        return;
    };
    let mut out = Vec::new();
    imdn.write(&mut out);
    let again = Imdn::parse(&out, &escaped(limits)).expect("written imdn must parse");
    assert_eq!(again, imdn, "imdn round trip");
}

/// `iscomposing_parse`: parses an `application/im-iscomposing+xml` document;
/// a parsed document must survive write → parse unchanged.
pub fn iscomposing_parse(data: &[u8]) {
    let limits = XmlLimits::default();
    let Ok(c) = IsComposing::parse(data, &limits) else {
        return;
    };
    let mut out = Vec::new();
    c.write(&mut out);
    let again = IsComposing::parse(&out, &escaped(limits)).expect("written isComposing must parse");
    assert_eq!(again, c, "isComposing round trip");
}
