//! MIME body benchmarks: parsing an OMA IM ad-hoc group INVITE body
//! (multipart/mixed with an MSRP SDP offer and a 10-entry resource-lists), and
//! parsing and writing a short CPIM text message.

mod support;

#[global_allocator]
static A: support::Counting = support::Counting;

use oma_im::body::cpim::CpimMessage;
use oma_im::body::mime::MimeLimits;
use oma_im::body::multipart::{find_resource_lists, find_sdp, Multipart};
use oma_im::body::resource_lists::ResourceLists;
use oma_im::body::xml::XmlLimits;
use oma_im::sdp::SessionDescription;

const CONTENT_TYPE: &str = "multipart/mixed;boundary=\"oma-im-4b1d2c3e\"";

fn invite_body() -> Vec<u8> {
    let mut body = String::new();
    body.push_str("--oma-im-4b1d2c3e\r\nContent-Type: application/sdp\r\n\r\n");
    body.push_str(
        "v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 198.51.100.1\r\n\
s=-\r\n\
c=IN IP4 198.51.100.1\r\n\
t=0 0\r\n\
m=message 7394 TCP/MSRP *\r\n\
a=accept-types:message/cpim text/plain\r\n\
a=accept-wrapped-types:*\r\n\
a=path:msrp://198.51.100.1:7394/iau39soe2843z;tcp\r\n\
a=setup:active\r\n\
a=sendrecv\r\n",
    );
    body.push_str(
        "\r\n--oma-im-4b1d2c3e\r\n\
Content-Type: application/resource-lists+xml\r\n\
Content-Disposition: recipient-list\r\n\r\n\
<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\r\n<list>\r\n",
    );
    for i in 0..10 {
        body.push_str(&format!("<entry uri=\"sip:user{i}@example.com\"/>\r\n"));
    }
    body.push_str("</list>\r\n</resource-lists>\r\n--oma-im-4b1d2c3e--\r\n");
    body.into_bytes()
}

const CPIM: &[u8] = b"From: Alice <sip:alice@example.com>\r\n\
To: <sip:conf-4711@im.example.com>\r\n\
DateTime: 2026-11-25T14:15:00Z\r\n\
\r\n\
Content-Type: text/plain;charset=utf-8\r\n\
\r\n\
See you at the meeting!";

fn main() {
    let limits = MimeLimits::default();
    let body = invite_body();
    let parsed = Multipart::parse_content_type(&body, CONTENT_TYPE, &limits).unwrap();
    assert_eq!(parsed.parts.len(), 2);

    support::measure(
        "multipart: parse INVITE body (SDP + 10-entry list)",
        10,
        20_000,
        || {
            Multipart::parse_content_type(&body, CONTENT_TYPE, &limits)
                .unwrap()
                .parts
                .len()
        },
    );
    support::measure(
        "multipart: find_sdp + find_resource_lists",
        10,
        20_000,
        || {
            let sdp = find_sdp(CONTENT_TYPE, &body, &limits)
                .unwrap()
                .unwrap()
                .len();
            let list = find_resource_lists(CONTENT_TYPE, &body, &limits)
                .unwrap()
                .unwrap()
                .len();
            sdp + list
        },
    );
    let mut out = Vec::with_capacity(2048);
    support::measure(
        "multipart: write INVITE body (reused buffer)",
        10,
        20_000,
        || {
            out.clear();
            parsed.write(1, &mut out);
            out.len()
        },
    );

    support::measure("cpim: parse short text message", 10, 50_000, || {
        CpimMessage::parse(CPIM).unwrap().content.len()
    });
    let msg = CpimMessage::parse(CPIM).unwrap();
    let mut out = Vec::with_capacity(512);
    support::measure(
        "cpim: write short text message (reused buffer)",
        10,
        50_000,
        || {
            out.clear();
            msg.write(&mut out);
            out.len()
        },
    );
    support::measure("cpim: parse + write short text message", 10, 50_000, || {
        out.clear();
        CpimMessage::parse(CPIM).unwrap().write(&mut out);
        out.len()
    });
    let xml_limits = XmlLimits::default();
    support::measure(
        "INVITE body: multipart + SDP + resource-lists",
        10,
        20_000,
        || {
            let parts = Multipart::parse_content_type(&body, CONTENT_TYPE, &limits).unwrap();
            let sdp = SessionDescription::parse(parts.parts[0].body).unwrap();
            let list = ResourceLists::parse(parts.parts[1].body, &xml_limits).unwrap();
            (sdp.media.len(), list.entry_count())
        },
    );
}
