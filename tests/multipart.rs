//! multipart/mixed (RFC 2046 §5.1) against the RFCs' own examples, plus
//! round-trip, boundary and robustness properties.

use std::fs;
use std::path::Path;

use oma_im::body::mime::{HeaderBlock, HeaderField, MimeErrorKind, MimeLimits};
use oma_im::body::multipart::{find_resource_lists, find_sdp, Multipart, Part};
use proptest::prelude::*;

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mime")
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Splits a message (SIP request line or none, then headers, an empty line and
/// the body) into its headers and body.
fn split_message(msg: &[u8], has_start_line: bool) -> (HeaderBlock<'_>, &[u8]) {
    let start = if has_start_line {
        msg.iter().position(|&b| b == b'\n').unwrap() + 1
    } else {
        0
    };
    let (headers, used, ended) = HeaderBlock::parse(&msg[start..], &MimeLimits::default()).unwrap();
    assert!(ended);
    (headers, &msg[start + used..])
}

fn rewrite_and_compare(m: &Multipart<'_>, seed: u64) {
    let mut out = Vec::new();
    let boundary = m.write(seed, &mut out);
    let again = Multipart::parse(&out, boundary.as_str(), &MimeLimits::default()).unwrap();
    assert_eq!(&again, m);
}

#[test]
fn rfc2046_simple_boundary_example() {
    let msg = data("rfc2046_simple_boundary.eml");
    let (headers, body) = split_message(&msg, false);
    let ct = headers.get("Content-Type").unwrap();
    let m = Multipart::parse_content_type(body, ct, &MimeLimits::default()).unwrap();
    assert_eq!(m.parts.len(), 2);
    assert!(m.parts[0].headers.is_empty());
    assert_eq!(
        m.parts[0].body,
        b"This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak."
    );
    let ct1 = m.parts[1].content_type().unwrap().unwrap();
    assert!(ct1.is("text", "plain"));
    assert_eq!(ct1.param("charset").unwrap().raw(), "us-ascii");
    assert_eq!(
        m.parts[1].body,
        b"This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n"
    );
    rewrite_and_compare(&m, 0);
}

#[test]
fn rfc2046_example_with_lf_only_line_ends() {
    let msg = data("rfc2046_simple_boundary.eml");
    let lf: Vec<u8> = String::from_utf8(msg)
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes();
    let (headers, body) = split_message(&lf, false);
    let m = Multipart::parse_content_type(
        body,
        headers.get("content-type").unwrap(),
        &MimeLimits::default(),
    )
    .unwrap();
    assert_eq!(m.parts.len(), 2);
    assert_eq!(
        m.parts[0].body,
        b"This is implicitly typed plain US-ASCII text.\nIt does NOT end with a linebreak."
    );
    assert!(m.parts[1].is_type("TEXT", "Plain"));
    assert_eq!(
        m.parts[1].body,
        b"This is explicitly typed plain US-ASCII text.\nIt DOES end with a linebreak.\n"
    );
}

#[test]
fn rfc5366_invite_body() {
    let msg = data("rfc5366_invite.sip");
    let (headers, body) = split_message(&msg, true);
    let ct = headers.get("Content-Type").unwrap();
    let limits = MimeLimits::default();

    let sdp = find_sdp(ct, body, &limits).unwrap().unwrap();
    assert!(sdp.starts_with(b"v=0\r\no=alice 2890844526"));
    assert!(sdp.ends_with(b"a=rtpmap:31 H261/90000\r\n"));

    let list = find_resource_lists(ct, body, &limits).unwrap().unwrap();
    assert!(list.starts_with(b"<?xml version=\"1.0\""));
    assert!(list.ends_with(b"</resource-lists>"));
    assert_eq!(String::from_utf8_lossy(list).matches("<entry ").count(), 7);

    let m = Multipart::parse_content_type(body, ct, &limits).unwrap();
    assert_eq!(m.parts.len(), 2);
    assert!(m.parts[1].has_disposition("recipient-list"));
    assert!(!m.parts[0].has_disposition("recipient-list"));
    rewrite_and_compare(&m, 1234);
}

#[test]
fn rfc5366_body_without_close_delimiter() {
    let msg = data("rfc5366_invite.sip");
    let (headers, body) = split_message(&msg, true);
    let cut = String::from_utf8_lossy(body)
        .rfind("--boundary1--")
        .unwrap();
    let truncated = &body[..cut];
    let err = Multipart::parse_content_type(
        truncated,
        headers.get("Content-Type").unwrap(),
        &MimeLimits::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind, MimeErrorKind::MissingCloseDelimiter);
    assert_eq!(err.offset, truncated.len());
    let err = find_sdp(
        headers.get("Content-Type").unwrap(),
        truncated,
        &MimeLimits::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind, MimeErrorKind::MissingCloseDelimiter);
}

#[test]
fn rfc5366_body_over_limits() {
    let msg = data("rfc5366_invite.sip");
    let (headers, body) = split_message(&msg, true);
    let ct = headers.get("Content-Type").unwrap();
    let one_part = MimeLimits {
        max_parts: 1,
        ..MimeLimits::default()
    };
    let err = Multipart::parse_content_type(body, ct, &one_part).unwrap_err();
    assert_eq!(err.kind, MimeErrorKind::TooManyParts);
    let one_header = MimeLimits {
        max_headers: 1,
        ..MimeLimits::default()
    };
    let err = Multipart::parse_content_type(body, ct, &one_header).unwrap_err();
    assert_eq!(err.kind, MimeErrorKind::TooManyHeaders);
    let short_headers = MimeLimits {
        max_header_len: 20,
        ..MimeLimits::default()
    };
    let err = Multipart::parse_content_type(body, ct, &short_headers).unwrap_err();
    assert_eq!(err.kind, MimeErrorKind::HeaderTooLong);
}

#[test]
fn direct_bodies_of_the_searched_type() {
    let limits = MimeLimits::default();
    assert_eq!(
        find_sdp("Application/SDP", b"v=0\r\n", &limits).unwrap(),
        Some(&b"v=0\r\n"[..])
    );
    assert_eq!(
        find_resource_lists("application/resource-lists+xml", b"<x/>", &limits).unwrap(),
        Some(&b"<x/>"[..])
    );
    assert_eq!(
        find_resource_lists("application/sdp", b"v=0", &limits).unwrap(),
        None
    );
    assert_eq!(
        find_sdp("no type", b"", &limits).unwrap_err().kind,
        MimeErrorKind::InvalidMediaType
    );
}

fn header_strategy() -> impl Strategy<Value = (String, String)> {
    ("[A-Za-z][A-Za-z0-9-]{0,15}", "[ -~]{0,30}")
}

/// A part's header fields (name, value) and body.
type PartSpec = (Vec<(String, String)>, Vec<u8>);

fn parts_strategy() -> impl Strategy<Value = Vec<PartSpec>> {
    proptest::collection::vec(
        (
            proptest::collection::vec(header_strategy(), 0..4),
            proptest::collection::vec(any::<u8>(), 0..200),
        ),
        1..6,
    )
}

fn build(parts: &[PartSpec]) -> Multipart<'_> {
    let mut m = Multipart::new();
    for (headers, body) in parts {
        let mut block = HeaderBlock::new();
        for (name, value) in headers {
            block.push(HeaderField::new(name.as_str(), value.as_str()).unwrap());
        }
        m.parts.push(Part {
            headers: block,
            body,
        });
    }
    m
}

proptest! {
    #[test]
    fn write_then_parse_gives_equal_parts(parts in parts_strategy(), seed in any::<u64>()) {
        let m = build(&parts);
        let mut out = Vec::new();
        let boundary = m.write(seed, &mut out);
        let again = Multipart::parse(&out, boundary.as_str(), &MimeLimits::default()).unwrap();
        prop_assert_eq!(again, m);
    }

    #[test]
    fn boundary_never_occurs_in_parts(
        parts in parts_strategy(),
        seed in any::<u64>(),
        at in any::<prop::sample::Index>(),
    ) {
        // Plant the first candidate for this seed in one of the parts.
        let first = Multipart::new().choose_boundary(seed);
        let mut parts = parts;
        let i = at.index(parts.len());
        parts[i].1.extend_from_slice(format!("\r\n--{}\r\n", first.as_str()).as_bytes());
        let m = build(&parts);
        let chosen = m.choose_boundary(seed);
        prop_assert_ne!(&chosen, &first);
        for part in &m.parts {
            let body = String::from_utf8_lossy(part.body);
            prop_assert!(!body.contains(chosen.as_str()));
            for f in part.headers.fields() {
                prop_assert!(!f.value().contains(chosen.as_str()));
            }
        }
        let mut out = Vec::new();
        m.write_with_boundary(&chosen, &mut out);
        let again = Multipart::parse(&out, chosen.as_str(), &MimeLimits::default()).unwrap();
        prop_assert_eq!(again, m);
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), boundary in "[ -~]{0,72}") {
        let limits = MimeLimits::default();
        let _ = Multipart::parse(&body, &boundary, &limits);
        let ct = format!("multipart/mixed;boundary=\"{}\"", boundary.replace('\\', "\\\\").replace('"', "\\\""));
        let _ = find_sdp(&ct, &body, &limits);
        let _ = find_resource_lists(&ct, &body, &limits);
    }

    #[test]
    fn mutated_delimiters_never_panic(
        parts in parts_strategy(),
        cut in any::<prop::sample::Index>(),
        noise in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let m = build(&parts);
        let mut out = Vec::new();
        let boundary = m.write(3, &mut out);
        let at = cut.index(out.len());
        let mut mutated = out[..at].to_vec();
        mutated.extend_from_slice(&noise);
        mutated.extend_from_slice(&out[at..]);
        let _ = Multipart::parse(&mutated, boundary.as_str(), &MimeLimits::default());
        let truncated = &out[..at];
        // A body cut before its close delimiter must be refused.
        let parsed = Multipart::parse(truncated, boundary.as_str(), &MimeLimits::default());
        let close = format!("--{}--", boundary.as_str());
        prop_assert_eq!(parsed.is_ok(), String::from_utf8_lossy(truncated).contains(&close));
    }
}
