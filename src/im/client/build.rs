//! What the client writes: the headers of every initial request (7.1.1.1 /
//! 9.1.1.1), SDP offers and answers, the URI-list bodies.

use std::borrow::Cow;

use crate::body::multipart::{Multipart, Part};
use crate::body::resource_lists::{Entry, ResourceLists};
use crate::dialog::{RequestSpec, ResponseSpec};
use crate::im::{SipIpCoreProfile, ACCEPT_CONTACT_IM};
use crate::sdp::offer_answer::LocalParameters;
use crate::sdp::{AcceptTypes, Direction};
use crate::sip::Method;

use super::ClientConfig;

/// The headers 7.1.1.1 / 9.1.1.1 add to every initial request: Accept-Contact
/// with `+g.oma.sip-im`, User-Agent with the release version, `Privacy: id`
/// when anonymity is asked for, and in IMS the user's P-Preferred-Identity.
/// Allow, `Supported: timer`, the Contact and (INVITE) Session-Expires with
/// `refresher=uac` come from the user agent's configuration.
pub(crate) fn initial_request(
    config: &ClientConfig,
    release: &str,
    method: Method<'static>,
    target: &str,
) -> RequestSpec {
    let from = format!("<{}>", config.im_address);
    let to = format!("<{target}>");
    let mut spec = RequestSpec::new(method, target, &from, &to)
        .with_header("Accept-Contact", ACCEPT_CONTACT_IM)
        .with_header("User-Agent", release);
    if config.anonymous {
        spec = spec.with_header("Privacy", "id");
    }
    if config.profile == SipIpCoreProfile::Ims {
        spec = spec.with_header(config.profile.originator_header(), &from);
    }
    spec
}

/// A response with the headers 9.2.1 names (User-Agent with the release
/// version, the user's IM Address as the Authenticated Originator's IM
/// Address) and, when `allow` (responses that create no dialog; the user
/// agent writes Allow in the others), the supported methods.
pub(crate) fn response(
    config: &ClientConfig,
    release: &str,
    status: u16,
    allow: bool,
) -> ResponseSpec {
    let mut spec = ResponseSpec::new(status)
        .with_header("User-Agent", release)
        .with_header(
            config.profile.originator_header(),
            format!("<{}>", config.im_address),
        );
    if allow {
        spec = spec.with_header("Allow", config.supported_methods.to_string());
    }
    spec
}

/// The local MSRP parameters of a session: `message/cpim` plus the
/// configured types (7.1.1.3 step 5), wrapped types, the local path URI.
pub(crate) fn local_parameters<'a>(
    config: &'a ClientConfig,
    session_id: u64,
    path: &'a str,
    host: &'a str,
) -> LocalParameters<'a> {
    let mut local = LocalParameters::new(session_id, 1, host, config.msrp_addr.port(), path);
    let mut types = AcceptTypes::from_iter(["message/cpim"]);
    for t in &config.extra_accept_types {
        types.push(Cow::Borrowed(t.as_str()));
    }
    local.accept_types = types;
    if !config.accept_wrapped_types.is_empty() {
        local.accept_wrapped_types = Some(AcceptTypes::from_iter(
            config
                .accept_wrapped_types
                .iter()
                .map(|t| Cow::Borrowed(t.as_str())),
        ));
    }
    local
}

/// The SDP offer of a session; a Large Message offer is `a=sendonly` and
/// announces the message size in `a=max-size` (9.2.2, inferred).
pub(crate) fn offer(local: &LocalParameters<'_>, large_message: Option<u64>) -> Vec<u8> {
    let mut local = local.clone();
    if let Some(size) = large_message {
        local.direction = Direction::SendOnly;
        local.max_size = Some(size);
    }
    let bytes = crate::sdp::offer_answer::offer(&local).to_bytes();
    bytes
}

/// A `multipart/mixed` body of the SDP offer and the URI list of the
/// invited users (`Content-Disposition: recipient-list`, RFC 5366); returns
/// the Content-Type and the body.
pub(crate) fn offer_with_list(sdp: &[u8], invited: &[String], seed: u64) -> (String, Vec<u8>) {
    let mut list = Vec::new();
    ResourceLists::from_entries(invited.iter().map(|u| Entry::new(u.as_str()))).write(&mut list);
    let mut body = Multipart::new();
    // Both content types are constant, valid header values.
    if let Ok(part) = Part::new("application/sdp", sdp) {
        body.parts.push(part);
    }
    if let Ok(part) = Part::new("application/resource-lists+xml", &list)
        .and_then(|p| p.with_header("Content-Disposition", "recipient-list"))
    {
        body.parts.push(part);
    }
    let mut out = Vec::new();
    let boundary = body.write(seed, &mut out);
    let mut content_type = Vec::new();
    boundary.write_content_type(&mut content_type);
    (String::from_utf8_lossy(&content_type).into_owned(), out)
}

/// The URI of the original peer with a `Replaces` header for the 1-1
/// dialog (RFC 3891), escaped as a URI header (RFC 3261 §19.1.1): the entry
/// of the original peer when a 1-1 session is extended to a conference.
pub(crate) fn with_replaces(uri: &str, call_id: &str, to_tag: &str, from_tag: &str) -> String {
    let mut out = String::with_capacity(uri.len() + call_id.len() + 48);
    out.push_str(uri);
    out.push_str("?Replaces=");
    escape_into(&mut out, call_id);
    out.push_str("%3Bto-tag%3D");
    escape_into(&mut out, to_tag);
    out.push_str("%3Bfrom-tag%3D");
    escape_into(&mut out, from_tag);
    out
}

fn escape_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
}
