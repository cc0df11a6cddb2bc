//! SDP codec and offer/answer tests: the RFC 4566, RFC 4975 and RFC 5118
//! examples (taken from the RFCs' text, in `tests/data/sdp/`), lenient input,
//! typed errors with offsets, limits, offer/answer cases and properties.

use std::fs;
use std::path::Path;

use oma_im::sdp::offer_answer::{
    answer, answer_body, answer_for_inviter, negotiate, offer, LocalParameters, NegotiationError,
    Side,
};
use oma_im::sdp::{
    AcceptTypes, Attribute, ConnectionAttribute, Direction, Limits, Media, MsrpTransport,
    SdpErrorKind, SessionDescription, SetupRole,
};

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sdp")
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn written(sdp: &SessionDescription<'_>) -> String {
    String::from_utf8(sdp.to_bytes()).expect("UTF-8")
}

fn kind_at(input: &[u8]) -> (SdpErrorKind, usize) {
    let e = SessionDescription::parse(input).expect_err("must be rejected");
    (e.kind, e.offset)
}

fn types(sdp: &AcceptTypes<'_>) -> Vec<String> {
    sdp.iter().map(str::to_owned).collect()
}

fn msrp(sdp: &SessionDescription<'_>) -> usize {
    sdp.msrp_media().expect("an accepted MSRP media line").0
}

// ---------------------------------------------------------------- RFC examples

#[test]
fn rfc4566_example_parses_and_writes_back_identically() {
    let input = data("rfc4566-5.sdp");
    let sdp = SessionDescription::parse(&input).expect("RFC 4566 §5 example");
    assert_eq!(sdp.origin.username, "jdoe");
    assert_eq!(sdp.origin.session_id, 2_890_844_526);
    assert_eq!(sdp.origin.session_version, 2_890_842_807);
    assert_eq!(sdp.origin.unicast_address, "10.47.16.5");
    assert_eq!(sdp.session_name, "SDP Seminar");
    assert_eq!(
        sdp.information.as_deref(),
        Some("A Seminar on the session description protocol")
    );
    assert_eq!(
        sdp.uri.as_deref(),
        Some("http://www.example.com/seminars/sdp.pdf")
    );
    assert_eq!(sdp.emails, ["j.doe@example.com (Jane Doe)"]);
    let c = sdp.connection.as_ref().expect("session c=");
    assert_eq!((&*c.addr_type, &*c.address), ("IP4", "224.2.17.12/127"));
    assert_eq!(
        (sdp.times[0].start, sdp.times[0].stop),
        (2_873_397_496, 2_873_404_696)
    );
    assert_eq!(sdp.direction(), Some(Direction::RecvOnly));
    assert_eq!(sdp.media.len(), 2);
    assert_eq!(
        (
            &*sdp.media[0].media,
            sdp.media[0].port,
            &*sdp.media[0].proto
        ),
        ("audio", 49170, "RTP/AVP")
    );
    assert_eq!(&sdp.media[1].formats[..], ["99"]);
    assert_eq!(
        sdp.media[1].attributes[0],
        Attribute::Other {
            name: "rtpmap".into(),
            value: Some("99 h263-1998/90000".into())
        }
    );
    // The session-level recvonly applies to both media.
    for media in &sdp.media {
        assert_eq!(media.direction(), None);
        assert_eq!(sdp.media_direction(media), Direction::RecvOnly);
        assert_eq!(media.msrp_transport(), None);
    }
    assert_eq!(sdp.to_bytes(), input, "the example is already canonical");
}

#[test]
fn rfc4975_basic_session_offer_and_answer() {
    let offer_bytes = data("rfc4975-7.1-offer.sdp");
    let answer_bytes = data("rfc4975-7.1-answer.sdp");
    let alice = SessionDescription::parse(&offer_bytes).expect("RFC 4975 §7.1 offer");
    let bob = SessionDescription::parse(&answer_bytes).expect("RFC 4975 §7.1 answer");

    assert_eq!(alice.session_name, "-");
    let media = &alice.media[0];
    assert_eq!(media.port, 7777);
    assert_eq!(media.msrp_transport(), Some(MsrpTransport::Tcp));
    assert_eq!(&media.formats[..], ["*"]);
    assert_eq!(
        types(media.accept_types().expect("accept-types")),
        ["text/plain"]
    );
    assert_eq!(
        media.path().expect("path"),
        ["msrp://alicepc.example.com:7777/iau39soe2843z;tcp"]
    );
    assert_eq!(media.setup(), None);

    // Written strictly: only "s= -" changes, to "s=-".
    let canonical = String::from_utf8(offer_bytes.clone())
        .expect("UTF-8")
        .replace("s= -", "s=-");
    assert_eq!(written(&alice), canonical);

    // Without a=setup the offerer is active (RFC 4145 §4.1, RFC 4975 §8.2.6).
    let summary = negotiate(&alice, &bob, Side::Offerer).expect("negotiated");
    assert_eq!(summary.setup, SetupRole::Active);
    assert!(summary.is_active());
    assert!(!summary.tls);
    assert_eq!(
        summary.local_path[0],
        "msrp://alicepc.example.com:7777/iau39soe2843z;tcp"
    );
    assert_eq!(
        summary.remote_path[0],
        "msrp://bob.example.com:8888/9di4eae923wzd;tcp"
    );
    assert!(summary.remote_accept_types.matches("text/plain"));
    assert!(!summary.remote_accept_types.matches("message/cpim"));
    assert_eq!(summary.direction, Direction::SendRecv);
    let bob_view = negotiate(&bob, &alice, Side::Answerer).expect("negotiated");
    assert_eq!(bob_view.setup, SetupRole::Passive);
}

#[test]
fn rfc4975_overview_fragment_is_not_sdp_alone() {
    // RFC 4975 §4 shows only the c=, m= and a= lines of Alice's offer.
    let fragment = b"c=IN IP4 atlanta.example.com\r\n\
m=message 7654 TCP/MSRP *\r\n\
a=accept-types:text/plain\r\n\
a=path:msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\n";
    assert_eq!(kind_at(fragment), (SdpErrorKind::NotSdp, 0));
    let mut full = b"v=0\r\no=- 1 1 IN IP4 atlanta.example.com\r\ns=-\r\nt=0 0\r\n".to_vec();
    full.extend_from_slice(fragment);
    let sdp = SessionDescription::parse(&full).expect("with a session header");
    let media = &sdp.media[msrp(&sdp)];
    assert_eq!(media.port, 7654);
    assert_eq!(
        media.path().expect("path"),
        ["msrp://atlanta.example.com:7654/jshA7weztas;tcp"]
    );
}

#[test]
fn rfc5118_ipv6_in_sdp() {
    let input = data("rfc5118-ipv6-in-sdp.sdp");
    let sdp = SessionDescription::parse(&input).expect("RFC 5118 §4.6 SDP");
    assert_eq!(sdp.origin.session_id, 971_731_711_378_798_081);
    assert_eq!(&*sdp.origin.addr_type, "IP6");
    assert_eq!(&*sdp.origin.unicast_address, "2001:db8::20");
    let c = sdp.connection.as_ref().expect("c=");
    assert_eq!(
        (&*c.net_type, &*c.addr_type, &*c.address),
        ("IN", "IP6", "2001:db8::20")
    );
    assert_eq!(sdp.media.len(), 2);
    assert_eq!(sdp.to_bytes(), input);
}

#[test]
fn rfc5118_media_level_connections_ipv4_and_ipv6() {
    let input = data("rfc5118-mult-ip-in-sdp.sdp");
    let sdp = SessionDescription::parse(&input).expect("RFC 5118 §4.8 SDP");
    assert!(sdp.connection.is_none());
    assert_eq!(sdp.session_name, "");
    let audio = sdp.media_connection(&sdp.media[0]).expect("c=");
    let video = sdp.media_connection(&sdp.media[1]).expect("c=");
    assert_eq!((&*audio.addr_type, &*audio.address), ("IP4", "192.0.2.1"));
    assert_eq!((&*video.addr_type, &*video.address), ("IP6", "2001:db8::1"));
    // "s=" with nothing after it is written as RFC 4566's "s= ".
    let canonical = String::from_utf8(input.clone())
        .expect("UTF-8")
        .replace("s=\r\n", "s= \r\n");
    assert_eq!(written(&sdp), canonical);

    // Without the video c= the description has no connection for that media.
    let text = String::from_utf8(input.clone()).expect("UTF-8");
    let broken = text.replace("c=IN IP6 2001:db8::1\r\n", "");
    let m_video = broken.find("m=video").expect("m=video");
    assert_eq!(
        kind_at(broken.as_bytes()),
        (SdpErrorKind::MissingConnection, m_video)
    );
}

// ------------------------------------------------------------ lenient parsing

#[test]
fn oma_spaced_accept_types_and_lf_line_ends_are_accepted_and_written_strictly() {
    let input = b"v=0\no=- 1 2 IN IP4 192.0.2.4\ns=-\nc=IN IP4 192.0.2.4\nt=0 0\n\
m=message 2855 TCP/MSRP *\n\
a = accept-types : message/cpim\n\
a=Path:msrp://192.0.2.4:2855/x;tcp\n\
a=SETUP:Passive\n\n";
    let sdp = SessionDescription::parse(input).expect("lenient input");
    let media = &sdp.media[0];
    assert_eq!(
        types(media.accept_types().expect("accept-types")),
        ["message/cpim"]
    );
    assert_eq!(media.setup(), Some(SetupRole::Passive));
    assert_eq!(
        written(&sdp),
        "v=0\r\no=- 1 2 IN IP4 192.0.2.4\r\ns=-\r\nc=IN IP4 192.0.2.4\r\nt=0 0\r\n\
m=message 2855 TCP/MSRP *\r\n\
a=accept-types:message/cpim\r\n\
a=path:msrp://192.0.2.4:2855/x;tcp\r\n\
a=setup:passive\r\n"
    );
}

#[test]
fn msrp_attributes_are_typed_and_unknown_ones_kept_in_order() {
    let input = b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\n\
m=message 7394 TCP/TLS/MSRP *\r\n\
a=x-first:1\r\n\
a=accept-types:message/cpim text/plain text/html\r\n\
a=accept-wrapped-types:text/plain image/jpeg image/gif text/html\r\n\
a=max-size:131072\r\n\
a=path:msrps://relay.example.net:2855/r;tcp msrps://h:7394/e;tcp\r\n\
a=setup:actpass\r\n\
a=connection:existing\r\n\
a=sendonly\r\n\
a=x-flag\r\n\
a=x-last:a:b\r\n";
    let sdp = SessionDescription::parse(input).expect("MSRP attributes");
    let media = &sdp.media[0];
    assert_eq!(media.msrp_transport(), Some(MsrpTransport::Tls));
    assert_eq!(
        types(media.accept_wrapped_types().expect("wrapped")),
        ["text/plain", "image/jpeg", "image/gif", "text/html"]
    );
    assert_eq!(media.max_size(), Some(131_072));
    assert_eq!(media.path().expect("path").len(), 2);
    assert_eq!(
        media.connection_attribute(),
        Some(ConnectionAttribute::Existing)
    );
    assert_eq!(media.direction(), Some(Direction::SendOnly));
    let names: Vec<&str> = media.attributes.iter().map(Attribute::name).collect();
    assert_eq!(
        names,
        [
            "x-first",
            "accept-types",
            "accept-wrapped-types",
            "max-size",
            "path",
            "setup",
            "connection",
            "sendonly",
            "x-flag",
            "x-last"
        ]
    );
    assert_eq!(
        media.attributes[8],
        Attribute::Other {
            name: "x-flag".into(),
            value: None
        }
    );
    assert_eq!(
        media.attributes[9],
        Attribute::Other {
            name: "x-last".into(),
            value: Some("a:b".into())
        }
    );
    assert_eq!(sdp.to_bytes(), input.to_vec());
}

#[test]
fn media_direction_overrides_session_direction() {
    let input = b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\na=recvonly\r\n\
m=message 1 TCP/MSRP *\r\na=accept-types:*\r\na=path:msrp://h:1/a;tcp\r\na=inactive\r\n\
m=message 2 TCP/MSRP *\r\na=accept-types:*\r\na=path:msrp://h:2/b;tcp\r\n";
    let sdp = SessionDescription::parse(input).expect("directions");
    assert_eq!(sdp.media_direction(&sdp.media[0]), Direction::Inactive);
    assert_eq!(sdp.media_direction(&sdp.media[1]), Direction::RecvOnly);
}

#[test]
fn accept_types_match_wildcards_and_ignore_parameters_and_case() {
    let list = AcceptTypes::from_iter(["message/cpim", "text/*"]);
    assert!(list.matches("message/CPIM"));
    assert!(list.matches("text/html;charset=UTF-8"));
    assert!(!list.matches("image/png"));
    assert!(!list.matches("message"));
    assert!(AcceptTypes::from_iter(["*"]).matches("application/octet-stream"));
    assert!(!AcceptTypes::new().matches("text/plain"));
}

#[test]
fn into_owned_outlives_the_input() {
    let kept = {
        let buffer = data("rfc4975-7.1-offer.sdp");
        SessionDescription::parse(&buffer)
            .expect("offer")
            .into_owned()
    };
    let again = data("rfc4975-7.1-offer.sdp");
    let reparsed = SessionDescription::parse(&again).expect("offer");
    assert_eq!(kept, reparsed.to_owned_description());
    assert_eq!(
        kept.media[0].path().expect("path")[0],
        "msrp://alicepc.example.com:7777/iau39soe2843z;tcp"
    );
}

// ------------------------------------------------------------------ errors

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\n";

fn with_head(tail: &str) -> Vec<u8> {
    format!("{HEAD}{tail}").into_bytes()
}

#[test]
fn missing_required_lines_are_typed_errors() {
    let no_o = b"v=0\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\n";
    assert_eq!(kind_at(no_o), (SdpErrorKind::MissingOrigin, no_o.len()));
    let no_s = b"v=0\r\no=- 1 1 IN IP4 h\r\nc=IN IP4 h\r\nt=0 0\r\n";
    assert_eq!(
        kind_at(no_s),
        (SdpErrorKind::MissingSessionName, no_s.len())
    );
    let no_t = b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\n";
    assert_eq!(kind_at(no_t), (SdpErrorKind::MissingTiming, no_t.len()));
    let no_c = b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=message 9 TCP/MSRP *\r\n";
    let m_line = no_c.windows(2).position(|w| w == b"m=").expect("m=");
    assert_eq!(kind_at(no_c), (SdpErrorKind::MissingConnection, m_line));
    assert_eq!(kind_at(b""), (SdpErrorKind::NotSdp, 0));
    assert_eq!(
        kind_at(b"INVITE sip:a@b SIP/2.0\r\n"),
        (SdpErrorKind::NotSdp, 0)
    );
    assert_eq!(
        kind_at(b"o=- 1 1 IN IP4 h\r\nv=0\r\n"),
        (SdpErrorKind::NotSdp, 0)
    );
}

#[test]
fn malformed_fields_report_their_offset() {
    let at = |tail: &str, needle: &str| HEAD.len() + tail.find(needle).expect("needle");

    let tail = "m=message 70000 TCP/MSRP *\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::InvalidMedia, at(tail, "70000"))
    );

    let tail = "m=message 9 TCP/MSRP\r\n";
    assert_eq!(kind_at(&with_head(tail)).0, SdpErrorKind::InvalidMedia);

    let tail = "m=message 9 TCP/MSRP *\r\na=max-size:99999999999999999999\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::InvalidAttribute, at(tail, "9999"))
    );

    let tail = "m=message 9 TCP/MSRP *\r\na=accept-types:message/cpim text\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::InvalidAcceptType, at(tail, "text\r"))
    );

    let tail = "m=message 9 TCP/MSRP *\r\na=setup:sometimes\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::InvalidAttribute, at(tail, "sometimes"))
    );

    let tail = "m=message 9 TCP/MSRP *\r\na=sendonly:yes\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::InvalidAttribute, at(tail, "yes"))
    );

    let tail = "m=message 9 TCP/MSRP *\r\na=path:\r\n";
    assert_eq!(kind_at(&with_head(tail)).0, SdpErrorKind::InvalidAttribute);

    let tail = "m=message 9 TCP/MSRP *\r\no=- 1 1 IN IP4 h\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::UnexpectedLine, at(tail, "o="))
    );

    let tail = "x=1\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::UnknownType, HEAD.len())
    );

    let tail = "c=IN IP4 other\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::Duplicate, HEAD.len())
    );

    let tail = "no equals sign\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::MalformedLine, HEAD.len())
    );

    let tail = "a=x-y:a\0b\r\n";
    assert_eq!(
        kind_at(&with_head(tail)),
        (SdpErrorKind::InvalidCharacter, at(tail, "\0"))
    );

    let bad_origin = b"v=0\r\no=- one 1 IN IP4 h\r\n";
    assert_eq!(
        kind_at(bad_origin),
        (SdpErrorKind::InvalidOrigin, "v=0\r\no=- ".len())
    );
    assert_eq!(kind_at(b"v=1\r\n"), (SdpErrorKind::UnsupportedVersion, 2));
    assert_eq!(
        kind_at(b"v=0\r\nr=7d 1h 0 25h\r\n"),
        (SdpErrorKind::UnexpectedLine, 5)
    );
    assert_eq!(kind_at(b"v=0\r\nt=0\r\n"), (SdpErrorKind::InvalidTiming, 7));
    assert_eq!(
        kind_at(b"v=0\r\ns=caf\xc3\r\n"),
        (SdpErrorKind::NotUtf8, 10)
    );
    let e = SessionDescription::parse(b"v=0\r\nb=AS\r\n").expect_err("b= without colon");
    assert_eq!((e.kind, e.offset), (SdpErrorKind::InvalidBandwidth, 7));
    assert_eq!(e.to_string(), "SDP: invalid b= line at byte 7");
}

// ------------------------------------------------------------------ limits

#[test]
fn input_over_the_size_limit_is_rejected_before_parsing() {
    let limits = Limits::default();
    let mut big = with_head("m=message 9 TCP/MSRP *\r\n");
    while big.len() <= 8 * 1024 * 1024 {
        big.extend_from_slice(b"a=x-filler:0123456789abcdef\r\n");
    }
    let e = SessionDescription::parse(&big).expect_err("over max_size");
    assert_eq!(
        (e.kind, e.offset),
        (SdpErrorKind::TooLarge, limits.max_size)
    );
}

#[test]
fn every_limit_is_a_typed_error() {
    let tight = Limits {
        max_size: 4096,
        max_lines: 12,
        max_media: 2,
        max_attributes: 3,
        max_path_uris: 2,
        max_accept_types: 2,
    };
    let parse =
        |tail: &str| SessionDescription::parse_with_limits(&with_head(tail), &tight).map(|_| ());
    let m = "m=message 9 TCP/MSRP *\r\n";
    assert!(parse(&format!("{m}a=x:1\r\na=x:2\r\na=x:3\r\n")).is_ok());
    assert_eq!(
        parse(&format!("{m}a=x:1\r\na=x:2\r\na=x:3\r\na=x:4\r\n")).map_err(|e| e.kind),
        Err(SdpErrorKind::TooManyAttributes)
    );
    assert_eq!(
        parse(&m.repeat(3)).map_err(|e| e.kind),
        Err(SdpErrorKind::TooManyMedia)
    );
    assert_eq!(
        parse(&format!(
            "{m}a=path:msrp://a:1/x;tcp msrp://b:1/x;tcp msrp://c:1/x;tcp\r\n"
        ))
        .map_err(|e| e.kind),
        Err(SdpErrorKind::TooManyPathUris)
    );
    assert_eq!(
        parse(&format!("{m}a=accept-types:a/b c/d e/f\r\n")).map_err(|e| e.kind),
        Err(SdpErrorKind::TooManyAcceptTypes)
    );
    assert_eq!(
        parse(&format!(
            "{m}a=x:1\r\na=x:2\r\na=x:3\r\n{m}a=x:1\r\na=x:2\r\na=x:3\r\n"
        ))
        .map_err(|e| e.kind),
        Err(SdpErrorKind::TooManyLines)
    );
    let many_lines = "e=a@b\r\n".repeat(8);
    assert_eq!(
        parse(&many_lines).map_err(|e| (e.kind, e.offset)),
        Err((SdpErrorKind::TooManyLines, HEAD.len() + 7 * 7))
    );
}

// ------------------------------------------------------------ offer/answer

fn local<'a>(address: &'a str, port: u16, path: &'a str) -> LocalParameters<'a> {
    LocalParameters::new(2_890_844_526, 1, address, port, path)
}

#[test]
fn default_offer_is_the_oma_im_offer() {
    let params = local("192.0.2.1", 7777, "msrp://192.0.2.1:7777/s1;tcp");
    assert_eq!(
        written(&offer(&params)),
        "v=0\r\no=- 2890844526 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=message 7777 TCP/MSRP *\r\n\
a=accept-types:message/cpim\r\n\
a=path:msrp://192.0.2.1:7777/s1;tcp\r\n\
a=setup:actpass\r\n\
a=sendrecv\r\n"
    );
}

#[test]
fn configured_offer_over_tls_and_ipv6() {
    let mut params = local("2001:db8::1", 2855, "msrps://[2001:db8::1]:2855/s2;tcp");
    params.transport = MsrpTransport::Tls;
    params.accept_types = AcceptTypes::from_iter(["message/cpim", "*"]);
    params.accept_wrapped_types = Some(AcceptTypes::from_iter(["text/plain", "image/*"]));
    params.max_size = Some(65_536);
    params.setup = SetupRole::Passive;
    params.direction = Direction::RecvOnly;
    params.connection = Some(ConnectionAttribute::New);
    params.username = "history".into();
    assert_eq!(
        written(&offer(&params)),
        "v=0\r\no=history 2890844526 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n\
m=message 2855 TCP/TLS/MSRP *\r\n\
a=accept-types:message/cpim *\r\n\
a=accept-wrapped-types:text/plain image/*\r\n\
a=max-size:65536\r\n\
a=path:msrps://[2001:db8::1]:2855/s2;tcp\r\n\
a=setup:passive\r\n\
a=connection:new\r\n\
a=recvonly\r\n"
    );
}

fn offer_with(media_lines: &str) -> Vec<u8> {
    format!("v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n{media_lines}")
        .into_bytes()
}

fn msrp_line(accept: &str, extra: &str) -> String {
    format!("m=message 7777 TCP/MSRP *\r\na=accept-types:{accept}\r\na=path:msrp://192.0.2.1:7777/o;tcp\r\n{extra}")
}

#[test]
fn answer_accepts_the_intersection_of_accept_types() {
    let bob = {
        let mut p = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
        p.accept_types = AcceptTypes::from_iter(["text/plain", "message/cpim", "image/png"]);
        p
    };
    let cases: [(&str, &[&str]); 5] = [
        (
            "message/cpim text/html text/plain",
            &["message/cpim", "text/plain"],
        ),
        ("*", &["text/plain", "message/cpim", "image/png"]),
        ("text/* message/cpim", &["text/plain", "message/cpim"]),
        ("image/*", &["image/png"]),
        ("Message/CPIM", &["Message/CPIM"]),
    ];
    for (offered, expected) in cases {
        let body = offer_with(&msrp_line(offered, ""));
        let offer = SessionDescription::parse(&body).expect("offer");
        let answer = answer(&offer, &bob);
        let media = &answer.media[0];
        assert_eq!(media.port, 8888, "{offered}");
        assert_eq!(
            types(media.accept_types().expect("accept-types")),
            expected,
            "{offered}"
        );
        assert_eq!(media.path().expect("path"), ["msrp://192.0.2.2:8888/b;tcp"]);
    }
}

#[test]
fn answer_keeps_wildcards_when_both_sides_use_them() {
    let mut p = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
    p.accept_types = AcceptTypes::from_iter(["message/*", "*"]);
    let body = offer_with(&msrp_line("message/* text/*", ""));
    let offer = SessionDescription::parse(&body).expect("offer");
    let answer = answer(&offer, &p);
    assert_eq!(
        types(answer.media[0].accept_types().expect("accept-types")),
        ["message/*", "text/*"]
    );
}

#[test]
fn answer_rejects_with_port_zero_in_order() {
    let bob = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
    let body = offer_with(&format!(
        "m=audio 49170 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n\
{}\
m=message 7000 TCP/TLS/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrps://192.0.2.1:7000/t;tcp\r\n\
{}\
m=message 7002 TCP/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrp://192.0.2.1:7002/s;tcp\r\n",
        msrp_line("text/plain", ""),
        msrp_line("message/cpim", ""),
    ));
    let offer = SessionDescription::parse(&body).expect("offer");
    let answer = answer(&offer, &bob);
    let text = written(&answer);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(
        lines,
        [
            "m=audio 0 RTP/AVP 0 8",      // not MSRP
            "m=message 0 TCP/MSRP *",     // no common accept-type
            "m=message 0 TCP/TLS/MSRP *", // unsupported proto (TLS not configured)
            "m=message 8888 TCP/MSRP *",  // accepted
            "m=message 0 TCP/MSRP *",     // one MSRP stream is enough
        ]
    );
    for (i, media) in answer.media.iter().enumerate() {
        if i != 3 {
            assert!(
                media.attributes.is_empty(),
                "rejected line {i} has no attributes"
            );
        }
    }
    let reparsed = SessionDescription::parse(text.as_bytes()).expect("answer parses");
    assert_eq!(reparsed.media.len(), 5);
    let summary = negotiate(&answer, &offer, Side::Answerer).expect("negotiated");
    assert_eq!(summary.media_index, 3);
    assert_eq!(summary.remote_path[0], "msrp://192.0.2.1:7777/o;tcp");
}

#[test]
fn answer_with_nothing_in_common_rejects_every_line() {
    let bob = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
    let body = offer_with(&msrp_line("text/plain", ""));
    let offer = SessionDescription::parse(&body).expect("offer");
    let answer = answer(&offer, &bob);
    assert!(answer.msrp_media().is_none());
    assert_eq!(answer.media[0].port, 0);
    assert_eq!(
        negotiate(&answer, &offer, Side::Answerer).map(|_| ()),
        Err(NegotiationError::Rejected)
    );
}

#[test]
fn answer_body_rejects_a_body_that_is_not_sdp() {
    let bob = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
    let mut out = b"kept".to_vec();
    let e = answer_body(
        b"<?xml version=\"1.0\"?><resource-lists/>",
        &bob,
        &Limits::default(),
        &mut out,
    )
    .expect_err("not SDP");
    assert_eq!((e.kind, e.offset), (SdpErrorKind::NotSdp, 0));
    assert_eq!(out, b"kept");

    answer_body(
        &offer_with(&msrp_line("*", "")),
        &bob,
        &Limits::default(),
        &mut out,
    )
    .expect("SDP offer");
    let answer = SessionDescription::parse(&out[4..]).expect("answer written after");
    assert_eq!(answer.media[0].port, 8888);
}

/// OMA SIMPLE IM §5.8.1: the answers allowed for each offered a=setup.
fn allowed_answers(offer: SetupRole) -> &'static [SetupRole] {
    use SetupRole::*;
    match offer {
        Active => &[Passive, HoldConn],
        Passive => &[Active, HoldConn],
        ActPass => &[Active, Passive, HoldConn],
        HoldConn => &[HoldConn],
    }
}

#[test]
fn setup_negotiation_follows_the_oma_table() {
    use SetupRole::*;
    let roles = [Active, Passive, ActPass, HoldConn];
    for offered in roles {
        for preference in roles {
            let mut bob = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
            bob.setup = preference;
            let body = offer_with(&msrp_line(
                "*",
                &format!("a=setup:{}\r\n", offered.as_str()),
            ));
            let offer = SessionDescription::parse(&body).expect("offer");
            let answer = answer(&offer, &bob);
            let chosen = answer.media[0].setup().expect("a=setup in the answer");
            assert!(
                allowed_answers(offered).contains(&chosen),
                "offer {offered:?}, preference {preference:?}: answered {chosen:?}"
            );
            // Both ends agree on who opens the connection.
            if chosen != HoldConn {
                let answerer = negotiate(&answer, &offer, Side::Answerer).expect("answerer");
                let offerer = negotiate(&offer, &answer, Side::Offerer).expect("offerer");
                assert_ne!(
                    answerer.is_active(),
                    offerer.is_active(),
                    "{offered:?}/{preference:?}"
                );
            }
        }
    }
    // Specific choices: the RFC 6135 default answers actpass with active.
    assert_eq!(SetupRole::answer(Some(ActPass), ActPass), Active);
    assert_eq!(SetupRole::answer(Some(ActPass), Passive), Passive);
    assert_eq!(SetupRole::answer(Some(Active), ActPass), Passive);
    assert_eq!(SetupRole::answer(Some(Passive), ActPass), Active);
    assert_eq!(SetupRole::answer(Some(HoldConn), Active), HoldConn);
    // No a=setup in the offer means active (RFC 4145).
    assert_eq!(SetupRole::answer(None, ActPass), Passive);
}

#[test]
fn direction_is_mirrored() {
    use Direction::*;
    let cases = [
        (RecvOnly, SendRecv, SendOnly),
        (SendOnly, SendRecv, RecvOnly),
        (Inactive, SendRecv, Inactive),
        (SendRecv, SendRecv, SendRecv),
        (SendRecv, RecvOnly, RecvOnly),
        (SendRecv, SendOnly, SendOnly),
        (RecvOnly, RecvOnly, Inactive),
    ];
    for (offered, preference, expected) in cases {
        let mut bob = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
        bob.direction = preference;
        let body = offer_with(&msrp_line("*", &format!("a={}\r\n", offered.as_str())));
        let offer = SessionDescription::parse(&body).expect("offer");
        let answer = answer(&offer, &bob);
        assert_eq!(
            answer.media[0].direction(),
            Some(expected),
            "{offered:?}/{preference:?}"
        );
    }
}

#[test]
fn history_function_answers_a_recvonly_request_with_sendonly() {
    // OMA SIMPLE IM §13.2.1.1: the history request offers a=recvonly; the
    // History Function delivers, so it answers a=sendonly.
    let mut client = local("192.0.2.1", 7777, "msrp://192.0.2.1:7777/c;tcp");
    client.direction = Direction::RecvOnly;
    let request = offer(&client).to_bytes();
    let history = local("192.0.2.9", 9999, "msrp://192.0.2.9:9999/h;tcp");
    let received = SessionDescription::parse(&request).expect("request");
    assert_eq!(received.media[0].direction(), Some(Direction::RecvOnly));
    let answer = answer(&received, &history);
    assert_eq!(answer.media[0].direction(), Some(Direction::SendOnly));
    let history_view = negotiate(&answer, &received, Side::Answerer).expect("negotiated");
    assert_eq!(history_view.direction, Direction::SendOnly);
    let client_view = negotiate(&received, &answer, Side::Offerer).expect("negotiated");
    assert_eq!(client_view.direction, Direction::RecvOnly);
}

#[test]
fn session_level_direction_of_the_offer_is_honoured() {
    let bob = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
    let body = format!(
        "v=0\r\no=- 1 1 IN IP4 a\r\ns=-\r\nc=IN IP4 a\r\nt=0 0\r\na=sendonly\r\n{}",
        msrp_line("*", "")
    );
    let offer = SessionDescription::parse(body.as_bytes()).expect("offer");
    let answer = answer(&offer, &bob);
    assert_eq!(answer.media[0].direction(), Some(Direction::RecvOnly));
}

#[test]
fn answer_wrapped_types_max_size_and_connection() {
    let mut bob = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
    bob.accept_types = AcceptTypes::from_iter(["message/cpim"]);
    bob.accept_wrapped_types = Some(AcceptTypes::from_iter(["text/*", "image/jpeg"]));
    bob.max_size = Some(4096);
    let body = offer_with(&msrp_line(
        "message/cpim",
        "a=accept-wrapped-types:text/plain image/gif\r\na=max-size:1000000\r\na=connection:new\r\n",
    ));
    let offer = SessionDescription::parse(&body).expect("offer");
    let answer = answer(&offer, &bob);
    let media = &answer.media[0];
    assert_eq!(
        types(media.accept_wrapped_types().expect("wrapped")),
        ["text/plain"]
    );
    assert_eq!(media.max_size(), Some(4096));
    assert_eq!(media.connection_attribute(), Some(ConnectionAttribute::New));
    // The answer's t= is the offer's.
    let times = |sdp: &SessionDescription<'_>| -> Vec<(u64, u64)> {
        sdp.times.iter().map(|t| (t.start, t.stop)).collect()
    };
    assert_eq!(times(&answer), times(&offer));
}

// ------------------------------------------------ controlling server, 7.2.1.2

#[test]
fn answer_for_inviter_merges_offer_and_invitee_answer() {
    let inviter_offer =
        b"v=0\r\no=alice 10 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=audio 49170 RTP/AVP 0\r\n\
m=message 7777 TCP/MSRP *\r\n\
a=accept-types:message/cpim text/plain text/html\r\n\
a=accept-wrapped-types:text/plain image/*\r\n\
a=path:msrp://192.0.2.1:7777/alice;tcp\r\n\
a=setup:actpass\r\n\
a=x-chat-topic:lunch\r\n\
a=x-shared:1\r\n";
    let invitee_answer =
        b"v=0\r\no=bob 20 1 IN IP6 2001:db8::2\r\ns=-\r\nc=IN IP6 2001:db8::2\r\nt=0 0\r\n\
m=message 8888 TCP/MSRP *\r\n\
a=accept-types:message/cpim text/*\r\n\
a=accept-wrapped-types:image/png text/plain\r\n\
a=max-size:2048\r\n\
a=path:msrp://[2001:db8::2]:8888/bob;tcp\r\n\
a=setup:active\r\n\
a=x-shared:1\r\n\
a=x-client:bob-phone\r\n\
a=sendonly\r\n";
    let inviter = SessionDescription::parse(inviter_offer).expect("inviter offer");
    let invitee = SessionDescription::parse(invitee_answer).expect("invitee answer");
    let mut server = local("198.51.100.7", 2855, "msrp://198.51.100.7:2855/conf1;tcp");
    server.accept_types = AcceptTypes::from_iter(["*"]);
    server.max_size = Some(65_536);

    let answer = answer_for_inviter(&inviter, &invitee, &server);
    let text = written(&answer);
    assert_eq!(
        text,
        "v=0\r\no=- 2890844526 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n\
m=audio 0 RTP/AVP 0\r\n\
m=message 2855 TCP/MSRP *\r\n\
a=accept-types:message/cpim text/plain text/html\r\n\
a=accept-wrapped-types:text/plain image/png\r\n\
a=max-size:2048\r\n\
a=path:msrp://198.51.100.7:2855/conf1;tcp\r\n\
a=setup:active\r\n\
a=sendonly\r\n\
a=x-chat-topic:lunch\r\n\
a=x-shared:1\r\n\
a=x-client:bob-phone\r\n"
    );
    // The invitee's path never reaches the inviter.
    assert!(!text.contains("2001:db8::2"));
    let for_inviter = SessionDescription::parse(text.as_bytes()).expect("answer parses");
    let summary = negotiate(&inviter, &for_inviter, Side::Offerer).expect("inviter's view");
    assert_eq!(summary.remote_path[0], "msrp://198.51.100.7:2855/conf1;tcp");
    assert_eq!(summary.setup, SetupRole::Passive);
    assert_eq!(summary.remote_max_size, Some(2048));
    // The invitee only sends, so the inviter only receives.
    assert_eq!(summary.direction, Direction::RecvOnly);
}

#[test]
fn answer_for_inviter_rejects_when_invitee_types_do_not_meet() {
    let inviter_body = offer_with(&msrp_line("message/cpim", ""));
    let inviter = SessionDescription::parse(&inviter_body).expect("inviter offer");
    let invitee_body = offer_with(
        "m=message 8888 TCP/MSRP *\r\na=accept-types:text/plain\r\na=path:msrp://b:8888/b;tcp\r\n",
    );
    let invitee = SessionDescription::parse(&invitee_body).expect("invitee answer");
    let server = local("198.51.100.7", 2855, "msrp://198.51.100.7:2855/c;tcp");
    let answer = answer_for_inviter(&inviter, &invitee, &server);
    assert_eq!(answer.media[0].port, 0);
    assert!(answer.msrp_media().is_none());

    // An invitee that rejected the MSRP stream: nothing to offer either.
    let rejected_body = offer_with("m=message 0 TCP/MSRP *\r\n");
    let rejected = SessionDescription::parse(&rejected_body).expect("rejecting answer");
    assert!(answer_for_inviter(&inviter, &rejected, &server)
        .msrp_media()
        .is_none());
}

// --------------------------------------------------------------- negotiation

#[test]
fn negotiated_session_over_tls_with_explicit_roles() {
    let mut alice = local("192.0.2.1", 7777, "msrps://192.0.2.1:7777/a;tcp");
    alice.transport = MsrpTransport::Tls;
    alice.max_size = Some(10_000);
    alice.accept_wrapped_types = Some(AcceptTypes::from_iter(["text/plain"]));
    let mut bob = local("192.0.2.2", 8888, "msrps://192.0.2.2:8888/b;tcp");
    bob.transport = MsrpTransport::Tls;
    bob.setup = SetupRole::Passive;
    bob.accept_types = AcceptTypes::from_iter(["message/cpim", "text/plain"]);

    let offer_sdp = offer(&alice);
    let answer_sdp = answer(&offer_sdp, &bob);
    let a = negotiate(&offer_sdp, &answer_sdp, Side::Offerer).expect("alice");
    assert!(a.tls);
    assert_eq!(a.setup, SetupRole::Active);
    assert_eq!(a.media_index, 0);
    assert_eq!(a.local_max_size, Some(10_000));
    assert_eq!(a.remote_max_size, None);
    assert_eq!(types(&a.remote_accept_types), ["message/cpim"]);
    assert_eq!(types(&a.local_accept_types), ["message/cpim"]);
    assert!(a.local_accept_wrapped_types.is_some());
    assert!(a.remote_accept_wrapped_types.is_none());
    let owned = a.clone().into_owned();
    assert_eq!(owned.remote_path[0], "msrps://192.0.2.2:8888/b;tcp");
    let b = negotiate(&answer_sdp, &offer_sdp, Side::Answerer).expect("bob");
    assert_eq!(b.setup, SetupRole::Passive);
    assert_eq!(b.remote_max_size, Some(10_000));
}

#[test]
fn negotiation_errors() {
    let alice = local("192.0.2.1", 7777, "msrp://192.0.2.1:7777/a;tcp");
    let offer_sdp = offer(&alice);
    let audio_body = offer_with("m=audio 4000 RTP/AVP 0\r\n");
    let audio = SessionDescription::parse(&audio_body).expect("audio");
    assert_eq!(
        negotiate(&offer_sdp, &audio, Side::Offerer).map(|_| ()),
        Err(NegotiationError::NoMsrpMedia)
    );
    let tls_body = offer_with(
        "m=message 1 TCP/TLS/MSRP *\r\na=accept-types:*\r\na=path:msrps://b:1/b;tcp\r\n",
    );
    let tls = SessionDescription::parse(&tls_body).expect("tls");
    assert_eq!(
        negotiate(&offer_sdp, &tls, Side::Offerer).map(|_| ()),
        Err(NegotiationError::TransportMismatch)
    );
    let no_path_body =
        offer_with("m=message 1 TCP/MSRP *\r\na=accept-types:*\r\na=setup:active\r\n");
    let no_path = SessionDescription::parse(&no_path_body).expect("no path");
    assert_eq!(
        negotiate(&offer_sdp, &no_path, Side::Offerer).map(|_| ()),
        Err(NegotiationError::MissingPath)
    );
    let mut passive = alice.clone();
    passive.setup = SetupRole::Passive;
    let both_passive = offer(&passive);
    assert_eq!(
        negotiate(&both_passive, &both_passive, Side::Offerer).map(|_| ()),
        Err(NegotiationError::SetupConflict)
    );
}

// ----------------------------------------------------------------- properties

mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::borrow::Cow;

    fn token() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9][a-zA-Z0-9._-]{0,8}"
    }

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9]([a-zA-Z0-9 .,_-]{0,14}[a-zA-Z0-9])?"
    }

    fn owned(s: String) -> Cow<'static, str> {
        Cow::Owned(s)
    }

    fn media_range() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_owned()),
            "[a-z]{1,6}/\\*",
            "[a-z]{1,6}/[a-z0-9.+-]{1,8}",
        ]
    }

    fn accept_types() -> impl Strategy<Value = AcceptTypes<'static>> {
        prop::collection::vec(media_range(), 1..4).prop_map(AcceptTypes::from_iter)
    }

    fn direction() -> impl Strategy<Value = Direction> {
        prop_oneof![
            Just(Direction::SendRecv),
            Just(Direction::SendOnly),
            Just(Direction::RecvOnly),
            Just(Direction::Inactive),
        ]
    }

    fn attribute() -> impl Strategy<Value = Attribute<'static>> {
        prop_oneof![
            accept_types().prop_map(Attribute::AcceptTypes),
            accept_types().prop_map(Attribute::AcceptWrappedTypes),
            any::<u64>().prop_map(Attribute::MaxSize),
            prop::collection::vec(
                "msrps?://[a-z0-9.]{1,10}:[0-9]{1,5}/[a-zA-Z0-9]{1,8};tcp",
                1..3
            )
            .prop_map(|v| Attribute::Path(v.into_iter().map(owned).collect())),
            prop_oneof![
                Just(SetupRole::Active),
                Just(SetupRole::Passive),
                Just(SetupRole::ActPass),
                Just(SetupRole::HoldConn)
            ]
            .prop_map(Attribute::Setup),
            prop_oneof![
                Just(ConnectionAttribute::New),
                Just(ConnectionAttribute::Existing)
            ]
            .prop_map(Attribute::Connection),
            direction().prop_map(Attribute::Direction),
            (
                "x-[a-z0-9-]{1,8}",
                prop::option::of(prop_oneof![
                    Just(String::new()),
                    "[a-zA-Z0-9:/=._-]([a-zA-Z0-9:/ =._-]{0,10}[a-zA-Z0-9:/=._-])?"
                ])
            )
                .prop_map(|(name, value)| Attribute::Other {
                    name: owned(name),
                    value: value.map(owned),
                }),
        ]
    }

    fn connection() -> impl Strategy<Value = oma_im::sdp::Connection<'static>> {
        prop_oneof![
            "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(/[0-9]{1,3})?",
            "2001:db8(:[0-9a-f]{1,4}){1,3}",
            "[a-z]{1,8}\\.example\\.com",
        ]
        .prop_map(oma_im::sdp::Connection::internet)
    }

    fn media(needs_connection: bool) -> impl Strategy<Value = Media<'static>> {
        (
            token(),
            any::<u16>(),
            prop::option::of(any::<u16>()),
            "[A-Z]{1,4}(/[A-Z]{1,4}){0,2}",
            prop::collection::vec(token(), 1..3),
            prop::option::of(text()),
            connection(),
            any::<bool>(),
            prop::collection::vec("[A-Z]{1,3}:[0-9]{1,6}", 0..2),
            prop::collection::vec(attribute(), 0..7),
        )
            .prop_map(
                move |(
                    media,
                    port,
                    port_count,
                    proto,
                    formats,
                    information,
                    c,
                    with_c,
                    bandwidths,
                    attributes,
                )| {
                    Media {
                        media: owned(media),
                        port,
                        port_count,
                        proto: owned(proto),
                        formats: formats.into_iter().map(owned).collect(),
                        information: information.map(owned),
                        connection: (needs_connection || with_c).then_some(c),
                        bandwidths: bandwidths.into_iter().map(owned).collect(),
                        key: None,
                        attributes: attributes.into_iter().collect(),
                    }
                },
            )
    }

    fn description() -> impl Strategy<Value = SessionDescription<'static>> {
        (any::<bool>(), connection()).prop_flat_map(|(session_c, c)| {
            (
                (token(), any::<u64>(), any::<u64>(), connection()),
                prop_oneof![Just(String::new()), text()],
                prop::option::of(text()),
                prop::collection::vec((any::<u64>(), any::<u64>(), any::<bool>()), 1..3),
                prop::option::of(token()),
                prop::collection::vec(attribute(), 0..3),
                prop::collection::vec(media(!session_c), 0..4),
                Just((session_c, c)),
            )
                .prop_map(
                    |(
                        (user, id, version, origin_c),
                        name,
                        info,
                        times,
                        key,
                        attributes,
                        media,
                        (session_c, c),
                    )| {
                        let mut sdp = SessionDescription::new(oma_im::sdp::Origin {
                            username: owned(user),
                            session_id: id,
                            session_version: version,
                            net_type: origin_c.net_type,
                            addr_type: origin_c.addr_type,
                            unicast_address: origin_c.address,
                        });
                        sdp.session_name = owned(name);
                        sdp.information = info.map(owned);
                        sdp.times = times
                            .into_iter()
                            .map(|(start, stop, repeat)| oma_im::sdp::Timing {
                                start,
                                stop,
                                repeats: if repeat {
                                    vec!["7d 1h 0 25h".into()]
                                } else {
                                    Vec::new()
                                },
                            })
                            .collect();
                        sdp.key = key.map(|k| owned(format!("clear:{k}")));
                        sdp.connection = session_c.then_some(c);
                        sdp.attributes = attributes.into_iter().collect();
                        sdp.media = media.into_iter().collect();
                        sdp
                    },
                )
        })
    }

    proptest! {
        #[test]
        fn write_then_parse_gives_an_equal_description(sdp in description()) {
            let bytes = sdp.to_bytes();
            let parsed = SessionDescription::parse(&bytes)
                .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&bytes))))?;
            prop_assert_eq!(parsed.to_owned_description(), sdp);
            prop_assert_eq!(parsed.to_bytes(), bytes.clone());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = SessionDescription::parse(&bytes);
        }

        #[test]
        fn arbitrary_sdp_like_lines_never_panic(
            lines in prop::collection::vec("[vosicbtrzkam ]{1,2}[ =]{0,2}[ -~]{0,30}", 0..24)
        ) {
            let text = format!("v=0\r\n{}", lines.join("\r\n"));
            if let Ok(sdp) = SessionDescription::parse(text.as_bytes()) {
                let again = sdp.to_bytes();
                let reparsed = SessionDescription::parse(&again).expect("canonical form parses");
                prop_assert_eq!(reparsed.to_owned_description(), sdp.to_owned_description());
            };
        }

        #[test]
        fn answers_to_generated_offers_parse_back(sdp in description()) {
            let bob = local("192.0.2.2", 8888, "msrp://192.0.2.2:8888/b;tcp");
            let answer = answer(&sdp, &bob);
            prop_assert_eq!(answer.media.len(), sdp.media.len());
            let bytes = answer.to_bytes();
            let parsed = SessionDescription::parse(&bytes)
                .map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(parsed.to_owned_description(), answer.to_owned_description());
        }
    }
}
