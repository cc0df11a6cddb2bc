//! The checks of 13.2.1.1 on an initial INVITE asking for history, in the
//! order of the clause.

use crate::body::multipart::{find_resource_lists, find_sdp};
use crate::body::resource_lists::ResourceLists;
use crate::body::xml::XmlErrorKind;
use crate::im::trust::Originator;
use crate::sdp::{Direction, SessionDescription};
use crate::sip::{HeaderName, SipMessage};

use super::{Limits, RejectReason};

/// What an initial INVITE that passed the checks asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RetrievalRequest {
    /// The P-Asserted-Identity URI (or, accepted unverified, the From).
    pub(super) requester: String,
    /// Whether `requester` was asserted by the trust domain.
    pub(super) verified: bool,
    /// The Allow methods, empty without the header.
    pub(super) allow: Vec<String>,
    /// The history references, in order.
    pub(super) references: Vec<String>,
    /// The SDP offer.
    pub(super) offer: Vec<u8>,
}

/// Applies 13.2.1.1 steps 1 to 4 to `invite`.
///
/// 1. no P-Asserted-Identity from the trust domain (`requester` is `None`):
///    [`RejectReason::NoAssertedIdentity`];
/// 2. the Allow methods are kept;
/// 3. no SDP, or a media direction other than `a=recvonly`:
///    [`RejectReason::NotRecvOnly`];
/// 4. no URI-list: [`RejectReason::NoUriList`]; one over
///    [`Limits::max_history_references`]: [`RejectReason::TooManyReferences`].
pub(super) fn check_invite(
    invite: &SipMessage<'_>,
    limits: &Limits,
    requester: Option<&Originator>,
) -> Result<RetrievalRequest, RejectReason> {
    let Some(who) = requester else {
        return Err(RejectReason::NoAssertedIdentity);
    };
    let (requester, verified) = (who.address.clone(), who.verified);
    let allow = match invite.allow() {
        Some(Ok(set)) => set.iter().map(|m| m.as_str().to_owned()).collect(),
        Some(Err(_)) | None => Vec::new(),
    };
    let content_type = invite
        .header(HeaderName::ContentType)
        .map(|h| h.value)
        .unwrap_or_default();
    let body = invite.body();
    let sdp = find_sdp(content_type, body, &limits.layers.mime)
        .map_err(|_| RejectReason::MalformedBody)?
        .ok_or(RejectReason::NotRecvOnly)?;
    let description = SessionDescription::parse_with_limits(sdp, &limits.layers.sdp)
        .map_err(|_| RejectReason::NotRecvOnly)?;
    let recvonly = description
        .msrp_media()
        .is_some_and(|(_, media)| description.media_direction(media) == Direction::RecvOnly);
    if !recvonly {
        return Err(RejectReason::NotRecvOnly);
    }
    let list = find_resource_lists(content_type, body, &limits.layers.mime)
        .map_err(|_| RejectReason::MalformedBody)?
        .ok_or(RejectReason::NoUriList)?;
    let mut xml = limits.layers.xml;
    xml.max_list_entries = limits.max_history_references;
    let lists = ResourceLists::parse(list, &xml).map_err(|e| match e.kind {
        XmlErrorKind::TooManyEntries { .. } => RejectReason::TooManyReferences,
        _ => RejectReason::MalformedBody,
    })?;
    let references: Vec<String> = lists.entries().map(|e| e.uri.to_string()).collect();
    if references.is_empty() {
        return Err(RejectReason::NoUriList);
    }
    Ok(RetrievalRequest {
        requester,
        verified,
        allow,
        references,
        offer: sdp.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_message;

    fn invite(extra: &str, content_type: &str, body: &str) -> Vec<u8> {
        format!(
            "INVITE sip:history@im.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:alice@example.com>;tag=1\r\nTo: <sip:history@im.example.com>\r\n\
             Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra}\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    const SDP_RECVONLY: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
        m=message 7777 TCP/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrp://192.0.2.1:7777/s1;tcp\r\na=recvonly\r\n";

    fn multipart(sdp: &str, list: &str) -> String {
        format!(
            "--b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b\r\n\
             Content-Type: application/resource-lists+xml\r\nContent-Disposition: recipient-list\r\n\r\n{list}\r\n--b--\r\n"
        )
    }

    fn list(n: usize) -> String {
        let entries: String = (0..n)
            .map(|i| format!("<entry uri=\"sip:h{i}@history.example.com\"/>"))
            .collect();
        format!("<?xml version=\"1.0\"?><resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>{entries}</list></resource-lists>")
    }

    const PAI: &str = "P-Asserted-Identity: <sip:alice@example.com>\r\n";

    /// The checks of a request from the trust domain, unverified refused.
    fn check(msg: &SipMessage<'_>, limits: &Limits) -> Result<RetrievalRequest, RejectReason> {
        let who = crate::im::trust::originator(msg, true).filter(|o| o.verified);
        check_invite(msg, limits, who.as_ref())
    }

    #[test]
    fn references_in_order_and_allow_kept() {
        let bytes = invite(
            &format!("{PAI}Allow: INVITE, ACK, BYE\r\n"),
            "multipart/mixed;boundary=b",
            &multipart(SDP_RECVONLY, &list(3)),
        );
        let msg = parse_message(&bytes).unwrap();
        let req = check(&msg, &Limits::default()).unwrap();
        assert_eq!(req.requester, "sip:alice@example.com");
        assert_eq!(req.allow, ["INVITE", "ACK", "BYE"]);
        assert_eq!(
            req.references,
            [
                "sip:h0@history.example.com",
                "sip:h1@history.example.com",
                "sip:h2@history.example.com"
            ]
        );
    }

    #[test]
    fn each_check_has_its_reason() {
        let limits = Limits {
            max_history_references: 2,
            ..Limits::default()
        };
        let cases = [
            (
                "",
                multipart(SDP_RECVONLY, &list(1)),
                RejectReason::NoAssertedIdentity,
            ),
            (
                PAI,
                multipart(&SDP_RECVONLY.replace("recvonly", "sendrecv"), &list(1)),
                RejectReason::NotRecvOnly,
            ),
            (
                PAI,
                multipart(SDP_RECVONLY, &list(3)),
                RejectReason::TooManyReferences,
            ),
            (
                PAI,
                multipart(SDP_RECVONLY, &list(0)),
                RejectReason::NoUriList,
            ),
            (
                PAI,
                multipart(SDP_RECVONLY, "<nope"),
                RejectReason::MalformedBody,
            ),
        ];
        for (extra, body, reason) in cases {
            let bytes = invite(extra, "multipart/mixed;boundary=b", &body);
            let msg = parse_message(&bytes).unwrap();
            assert_eq!(check(&msg, &limits), Err(reason), "{body}");
        }
        let bytes = invite(PAI, "application/sdp", SDP_RECVONLY);
        let msg = parse_message(&bytes).unwrap();
        assert_eq!(check(&msg, &limits), Err(RejectReason::NoUriList));
    }
}
