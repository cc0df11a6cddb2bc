//! RFC 5118 (SIP torture test messages for IPv6), section 4: every message of
//! `tests/data/rfc5118/` (copied from the project's shared test data; see its
//! INDEX.tsv) with the verdict the RFC gives, and the IPv6 references read back
//! through the typed URI and Via parsers.

use oma_im::sip::{parse_message, Host, SipErrorKind, SipMessage, Uri, Via};
use std::fs;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

fn read(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/rfc5118")
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(data: &[u8]) -> SipMessage<'_> {
    parse_message(data).unwrap_or_else(|e| panic!("{e}"))
}

fn request_uri<'a>(msg: &SipMessage<'a>) -> Uri<'a> {
    Uri::parse(msg.request_line().expect("a request").uri).expect("Request-URI")
}

fn vias<'a>(msg: &SipMessage<'a>) -> Vec<Via<'a>> {
    msg.via()
        .map(|v| v.unwrap_or_else(|e| panic!("Via: {e}")))
        .collect()
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// §4.6's Content-Length (268) exceeds the 251 octets the RFC prints; a
/// receiver must reject that (RFC 4475 §3.1.2.2). With the length corrected, the
/// message is what §4.6 calls valid.
fn with_content_length_corrected(data: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(data).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let head: Vec<String> = head
        .split("\r\n")
        .map(|l| {
            if l.starts_with("Content-Length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

#[test]
fn s4_6_ipv6_in_sdp_is_valid_once_its_length_is_right() {
    let data = read("ipv6-in-sdp.dat");
    let err = parse_message(&data).expect_err("the printed Content-Length is too large");
    assert_eq!(err.kind, SipErrorKind::BodyTruncated);
    let fixed = with_content_length_corrected(&data);
    let msg = parse(&fixed);
    assert_eq!(msg.body().len(), 251);
    let body = std::str::from_utf8(msg.body()).unwrap();
    assert!(body.contains("c=IN IP6 2001:db8::20"));
}

#[test]
fn s4_8_mult_ip_in_sdp_takes_content_length_octets_of_body() {
    // Content-Length 181 is shorter than the 189 octets printed: the rest of
    // the datagram is ignored (RFC 4475 §3.1.1.8).
    let data = read("mult-ip-in-sdp.dat");
    let msg = parse(&data);
    assert_eq!(msg.body().len(), 181);
    let body = std::str::from_utf8(msg.body()).unwrap();
    assert!(body.contains("c=IN IP4 192.0.2.1") || body.contains("IN IP6"));
}

#[test]
fn s4_7_mixed_ipv4_and_ipv6_vias() {
    let data = read("mult-ip-in-header.dat");
    let msg = parse(&data);
    let vias = vias(&msg);
    assert!(vias.iter().any(|v| matches!(v.host, Host::Ipv6(_))));
    assert!(vias.iter().any(|v| matches!(v.host, Host::Ipv4(_))));
    assert!(vias
        .iter()
        .any(|v| matches!(v.host, Host::Ipv6(_)) && matches!(v.received(), Some(IpAddr::V4(_)))));
}

#[test]
fn s4_9_ipv4_mapped_ipv6_is_accepted() {
    let data = read("ipv4-mapped-ipv6.dat");
    let msg = parse(&data);
    let mapped = vias(&msg).iter().any(|v| match v.host {
        Host::Ipv6(a) => a.to_ipv4_mapped().is_some(),
        _ => false,
    });
    assert!(mapped, "a Via names an IPv4-mapped IPv6 address");
}

#[test]
fn s4_10_three_colon_and_two_colon_forms_are_the_same_address() {
    let three = read("ipv6-bug-abnf-3-colons.dat");
    let two = read("ipv6-correct-abnf-2-colons.dat");
    let (a, b) = (parse(&three), parse(&two));
    let (ua, ub) = (request_uri(&a), request_uri(&b));
    assert_eq!(
        ua.as_sip().unwrap().host,
        Host::Ipv6(v6("2001:db8::192.0.2.1"))
    );
    assert!(ua.uri_eq(&ub));
}
