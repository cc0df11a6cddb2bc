//! message/cpim (RFC 3862) against the RFC's own example, plus round-trip and
//! robustness properties.

use std::borrow::Cow;
use std::fs;
use std::path::Path;

use oma_im::body::cpim::{
    CpimAddress, CpimHeader, CpimMessage, CpimMessageBuf, CpimName, CpimNamespace, CpimParam,
    CpimSubject,
};
use oma_im::body::mime::{HeaderField, MimeErrorKind, MimeLimits};
use proptest::prelude::*;

fn rfc3862_example() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mime/rfc3862_example.cpim");
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn rfc3862_example_message() {
    let input = rfc3862_example();
    let msg = CpimMessage::parse(&input).unwrap();
    let from = msg.from.as_ref().unwrap();
    assert_eq!(from.display_name.as_deref(), Some("MR SANDERS"));
    assert_eq!(from.uri, "im:piglet@100akerwood.com");
    assert_eq!(msg.to.len(), 1);
    assert_eq!(msg.to[0].display_name.as_deref(), Some("Depressed Donkey"));
    assert_eq!(msg.to[0].uri, "im:eeyore@100akerwood.com");
    assert!(msg.cc.is_empty());
    assert_eq!(msg.date_time.as_deref(), Some("2000-12-13T13:40:00-08:00"));
    let dt = msg.date_time_fields().unwrap().unwrap();
    assert_eq!(
        (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second),
        (2000, 12, 13, 13, 40, 0)
    );
    assert_eq!(dt.offset_minutes, -8 * 60);
    assert_eq!(msg.subject.len(), 2);
    assert_eq!(msg.subject[0].lang, None);
    assert_eq!(msg.subject[0].text, "the weather will be fine today");
    assert_eq!(msg.subject[1].lang.as_deref(), Some("fr"));
    assert_eq!(msg.subject[1].text, "beau temps prevu pour aujourd'hui");
    assert_eq!(
        msg.namespace("MyFeatures"),
        Some("mid:MessageFeatures@id.foo.com")
    );
    assert_eq!(msg.require.len(), 1);
    assert_eq!(msg.require[0].prefix(), Some("MyFeatures"));
    assert_eq!(msg.require[0].local_name(), "VitalMessageOption");
    let vital = msg.extension("MyFeatures.VitalMessageOption").unwrap();
    assert_eq!(vital.value, "Confirmation-requested");
    assert_eq!(
        msg.extension("MyFeatures.WackyMessageOption")
            .unwrap()
            .value,
        "Use-silly-font"
    );
    let ct = msg.content_type().unwrap().unwrap();
    assert!(ct.is("text", "xml"));
    assert_eq!(ct.param("charset").unwrap().raw(), "utf-8");
    assert_eq!(
        msg.mime_headers.get("Content-ID"),
        Some("<1234567890@foo.com>")
    );
    assert_eq!(
        &msg.content[..],
        b"<body>\r\nHere is the text of my message.\r\n</body>\r\n"
    );
    assert!(matches!(msg.content, Cow::Borrowed(_)));

    // The RFC's example is already in canonical order and form.
    let mut out = Vec::new();
    msg.write(&mut out);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        String::from_utf8(input.clone()).unwrap()
    );
    assert_eq!(CpimMessage::parse(&out).unwrap(), msg);
}

#[test]
fn rfc3862_example_with_lf_only_line_ends_writes_crlf() {
    let input = rfc3862_example();
    let lf = String::from_utf8(input.clone())
        .unwrap()
        .replace("\r\n", "\n");
    let msg = CpimMessage::parse(lf.as_bytes()).unwrap();
    assert_eq!(msg.subject[1].lang.as_deref(), Some("fr"));
    // The content is kept as is, LF and all.
    assert_eq!(
        &msg.content[..],
        b"<body>\nHere is the text of my message.\n</body>\n"
    );
    let mut out = Vec::new();
    msg.write(&mut out);
    let expected_head = String::from_utf8(input).unwrap();
    let head_end = expected_head.find("<body>").unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out[..head_end]),
        &expected_head[..head_end]
    );
}

#[test]
fn history_function_keeps_original_metadata() {
    let input = rfc3862_example();
    let stored: CpimMessageBuf = CpimMessage::parse(&input).unwrap().into_owned();
    drop(input);
    assert_eq!(
        stored.from.as_ref().unwrap().uri,
        "im:piglet@100akerwood.com"
    );
    assert_eq!(stored.to[0].uri, "im:eeyore@100akerwood.com");
    assert_eq!(
        stored.date_time.as_deref(),
        Some("2000-12-13T13:40:00-08:00")
    );
    let mut out = Vec::new();
    stored.write(&mut out);
    assert_eq!(out, rfc3862_example());
}

#[test]
fn exactly_one_blank_line_between_blocks_and_none_after_content() {
    let msg = CpimMessage::new(
        CpimAddress::new(Some("Alice"), "sip:alice@example.com"),
        CpimAddress::new(None, "sip:bob@example.com"),
        "text/plain",
        &b"hi"[..],
    )
    .unwrap();
    let mut out = Vec::new();
    msg.write(&mut out);
    assert_eq!(
        out,
        b"From: Alice <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhi"
    );
    let mut empty = msg.clone();
    empty.content = Cow::Borrowed(b"");
    empty.mime_headers = Default::default();
    out.clear();
    empty.write(&mut out);
    assert_eq!(
        out,
        b"From: Alice <sip:alice@example.com>\r\nTo: <sip:bob@example.com>\r\n\r\n\r\n"
    );
    assert_eq!(CpimMessage::parse(&out).unwrap(), empty);
}

#[test]
fn truncated_and_broken_messages_are_typed_errors() {
    let input = rfc3862_example();
    let head_end = String::from_utf8_lossy(&input).find("\r\n\r\n").unwrap();
    let err = CpimMessage::parse(&input[..head_end + 2]).unwrap_err();
    assert_eq!(err.kind, MimeErrorKind::MissingBlankLine);
    let mut bad = input.clone();
    bad.splice(0..0, b"From: <im:twice@example.com>\r\n".iter().copied());
    let err = CpimMessage::parse(&bad).unwrap_err();
    assert_eq!(err.kind, MimeErrorKind::DuplicateHeader);
    assert_eq!(err.offset, 30);
    let err = CpimMessage::parse(b"To: Bad \"name <im:x>\r\n\r\n\r\n").unwrap_err();
    assert_eq!(err.kind, MimeErrorKind::InvalidAddress);
    let err = CpimMessage::parse(b"NS: a b <im:x>\r\n\r\n\r\n").unwrap_err();
    assert_eq!(err.kind, MimeErrorKind::InvalidNamespace);
    let err = CpimMessage::parse(b"Subject: a\\zb\r\n\r\n\r\n").unwrap_err();
    assert_eq!((err.kind, err.offset), (MimeErrorKind::InvalidEscape, 10));
    let msg = CpimMessage::parse(b"DateTime: yesterday\r\n\r\n\r\n").unwrap();
    assert_eq!(
        msg.date_time_fields().unwrap().unwrap_err().kind,
        MimeErrorKind::InvalidDateTime
    );
}

#[test]
fn limits_apply_to_both_header_blocks() {
    let input = rfc3862_example();
    let few = MimeLimits {
        max_headers: 5,
        ..MimeLimits::default()
    };
    assert_eq!(
        CpimMessage::parse_with(&input, &few).unwrap_err().kind,
        MimeErrorKind::TooManyHeaders
    );
    let mut lots_of_mime = b"From: <im:a@b>\r\n\r\n".to_vec();
    for i in 0..10 {
        lots_of_mime.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    lots_of_mime.extend_from_slice(b"\r\nbody");
    let nine = MimeLimits {
        max_headers: 9,
        ..MimeLimits::default()
    };
    assert_eq!(
        CpimMessage::parse_with(&lots_of_mime, &nine)
            .unwrap_err()
            .kind,
        MimeErrorKind::TooManyHeaders
    );
    let ten = MimeLimits {
        max_headers: 10,
        ..MimeLimits::default()
    };
    assert!(CpimMessage::parse_with(&lots_of_mime, &ten).is_ok());
    let mut long = b"Subject: ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 100_000));
    long.extend_from_slice(b"\r\n\r\n\r\n");
    assert_eq!(
        CpimMessage::parse(&long).unwrap_err().kind,
        MimeErrorKind::HeaderTooLong
    );
}

fn any_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..16).prop_map(|v| v.into_iter().collect())
}

fn uri() -> impl Strategy<Value = String> {
    "[a-z]{1,5}:[!-;=?-~]{1,20}"
}

fn address() -> impl Strategy<Value = (Option<String>, String)> {
    (proptest::option::of(any_text()), uri())
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+^_`|~-]{1,8}"
}

fn ext_name() -> impl Strategy<Value = String> {
    (name(), name()).prop_map(|(p, n)| format!("{p}.{n}"))
}

/// An extension header: name, parameters (name, value), value.
type ExtensionSpec = (String, Vec<(String, String)>, String);

#[derive(Debug, Clone)]
struct Spec {
    from: Option<(Option<String>, String)>,
    to: Vec<(Option<String>, String)>,
    cc: Vec<(Option<String>, String)>,
    date_time: Option<String>,
    subject: Vec<(Option<String>, String)>,
    ns: Vec<(Option<String>, String)>,
    require: Vec<String>,
    extensions: Vec<ExtensionSpec>,
    mime: Vec<(String, String)>,
    content: Vec<u8>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (
            proptest::option::of(address()),
            proptest::collection::vec(address(), 0..3),
            proptest::collection::vec(address(), 0..3),
        ),
        (
            proptest::option::of(any_text()),
            proptest::collection::vec((proptest::option::of(any_text()), any_text()), 0..3),
            proptest::collection::vec((proptest::option::of(name()), uri()), 0..3),
            proptest::collection::vec(ext_name(), 0..3),
        ),
        proptest::collection::vec(
            (
                ext_name(),
                proptest::collection::vec((name(), any_text()), 0..3),
                any_text(),
            ),
            0..3,
        ),
        proptest::collection::vec(
            ("[A-Za-z][A-Za-z0-9-]{0,12}", "[!-~]([ -~]{0,20}[!-~])?"),
            0..3,
        ),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |((from, to, cc), (date_time, subject, ns, require), extensions, mime, content)| Spec {
                from,
                to,
                cc,
                date_time,
                subject,
                ns,
                require,
                extensions,
                mime,
                content,
            },
        )
}

fn address_of(a: &(Option<String>, String)) -> CpimAddress<'_> {
    CpimAddress::new(a.0.as_deref(), &a.1)
}

fn build(spec: &Spec) -> CpimMessage<'_> {
    let mut msg = CpimMessage {
        from: spec.from.as_ref().map(address_of),
        ..CpimMessage::default()
    };
    msg.to = spec.to.iter().map(address_of).collect();
    msg.cc = spec.cc.iter().map(address_of).collect();
    msg.date_time = spec.date_time.as_deref().map(Cow::Borrowed);
    msg.subject = spec
        .subject
        .iter()
        .map(|(lang, text)| CpimSubject {
            lang: lang.as_deref().map(Cow::Borrowed),
            text: Cow::Borrowed(text),
        })
        .collect();
    msg.ns = spec
        .ns
        .iter()
        .map(|(prefix, uri)| CpimNamespace {
            prefix: prefix.as_deref().map(|p| CpimName::new(p).unwrap()),
            uri: Cow::Borrowed(uri),
        })
        .collect();
    msg.require = spec
        .require
        .iter()
        .map(|n| CpimName::new(n.as_str()).unwrap())
        .collect();
    msg.extensions = spec
        .extensions
        .iter()
        .map(|(name, params, value)| CpimHeader {
            name: CpimName::new(name.as_str()).unwrap(),
            params: params
                .iter()
                .map(|(n, v)| CpimParam {
                    name: CpimName::new(n.as_str()).unwrap(),
                    value: Cow::Borrowed(v),
                })
                .collect(),
            value: Cow::Borrowed(value),
        })
        .collect();
    for (n, v) in &spec.mime {
        msg.mime_headers
            .push(HeaderField::new(n.as_str(), v.as_str()).unwrap());
    }
    msg.content = Cow::Borrowed(&spec.content);
    msg
}

proptest! {
    #[test]
    fn write_then_parse_gives_an_equal_message(spec in spec()) {
        let msg = build(&spec);
        let mut out = Vec::new();
        msg.write(&mut out);
        let again = CpimMessage::parse(&out).unwrap();
        prop_assert_eq!(&again, &msg);
        let mut out2 = Vec::new();
        again.write(&mut out2);
        prop_assert_eq!(&out2, &out);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(msg) = CpimMessage::parse(&data) {
            let _ = msg.date_time_fields();
            let mut out = Vec::new();
            msg.write(&mut out);
        }
    }

    #[test]
    fn arbitrary_header_lines_never_panic(lines in proptest::collection::vec("[ -~\t\\\\\"<>;=:.é]{0,40}", 0..8)) {
        let mut text = lines.join("\r\n");
        text.push_str("\r\n\r\nContent-Type: text/plain\r\n\r\nx");
        if let Ok(msg) = CpimMessage::parse(text.as_bytes()) {
            let mut out = Vec::new();
            msg.write(&mut out);
            let again = CpimMessage::parse_with(&out, &MimeLimits { max_header_len: 1 << 20, ..MimeLimits::default() });
            prop_assert_eq!(again.unwrap(), msg);
        };
    }
}
