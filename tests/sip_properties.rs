//! Properties of the SIP message parser and writer: what the builders write
//! parses back to what was built; a parsed message re-written parses back
//! equal; folding and white space around the colon are read as LWS; and no
//! input, arbitrary or a mutated valid message, makes the parser or the
//! framer panic.

use std::fs;
use std::path::Path;

use oma_im::sip::writer::{RequestBuilder, ResponseBuilder};
use oma_im::sip::{
    frame, parse_message, value, CSeq, CallId, Framer, HeaderName, Limits, NameAddr, SipMessage,
    Uri, Via,
};
use proptest::prelude::*;

/// Header names the parser does not check eagerly, known and unknown.
fn free_header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Subject",
            "Accept",
            "User-Agent",
            "Organization",
            "Supported",
            "Allow",
            "Contact",
            "Accept-Contact",
            "Privacy",
            "Session-Expires",
            "Record-Route",
        ])
        .prop_map(str::to_owned),
        "X-[A-Za-z0-9-]{1,12}",
        "[a-zA-Z][a-zA-Z0-9!%*_+`'~.-]{1,15}",
    ]
    .prop_filter("a header the parser checks", |name| {
        !matches!(
            HeaderName::parse(name),
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::MaxForwards
                | HeaderName::ContentLength
                | HeaderName::ContentType
                | HeaderName::Expires
                | HeaderName::RetryAfter
                | HeaderName::Warning
        )
    })
}

/// A header value: printable text and some UTF-8, no surrounding LWS.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[!-~]",
        "[!-~\u{e9}\u{4e2d}][ -~\u{e9}\u{4e2d}]{0,40}[!-~\u{e9}\u{4e2d}]",
    ]
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9!%*_+`'~.-]{0,11}"
}

fn sip_uri() -> impl Strategy<Value = String> {
    ("[a-z0-9._-]{1,10}", "[a-z]{1,10}", "(com|net|org|example)")
        .prop_map(|(user, host, tld)| format!("sip:{user}@{host}.{tld}"))
}

/// The fields every message needs, with valid values.
#[derive(Debug, Clone)]
struct Mandatory {
    via: String,
    from: String,
    to: String,
    call_id: String,
    cseq: u32,
    max_forwards: u8,
}

fn mandatory() -> impl Strategy<Value = Mandatory> {
    (
        sip_uri(),
        sip_uri(),
        "[a-zA-Z0-9]{1,12}",
        "[a-zA-Z0-9.-]{1,20}(@[a-z0-9.]{1,12})?",
    )
        .prop_flat_map(|(from, to, tag, call_id)| {
            (0u32..(1 << 31), any::<u8>(), "[a-z0-9]{1,10}").prop_map(move |(cseq, mf, b)| {
                Mandatory {
                    via: format!("SIP/2.0/UDP host.example.com:5060;branch=z9hG4bK{b}"),
                    from: format!("<{from}>;tag={tag}"),
                    to: format!("<{to}>"),
                    call_id: call_id.clone(),
                    cseq,
                    max_forwards: mf,
                }
            })
        })
}

/// Names and values of a parsed message, in order, as text.
fn fields(message: &SipMessage<'_>) -> Vec<(String, String)> {
    message
        .headers()
        .map(|(n, v)| (n.as_str().to_owned(), v.value.to_owned()))
        .collect()
}

fn rewritten_parses_equal(message: &SipMessage<'_>) {
    let mut out = Vec::new();
    message.write(&mut out);
    let again =
        parse_message(&out).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&out)));
    assert_eq!(&again, message);
    kept_values_match_a_fresh_parse(message);
    kept_values_match_a_fresh_parse(&again);
    let mut out2 = Vec::new();
    again.write(&mut out2);
    assert_eq!(out, out2, "writing a parsed message is idempotent");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn built_requests_parse_back_to_what_was_built(
        method in token(),
        uri in sip_uri(),
        m in mandatory(),
        extra in prop::collection::vec((free_header_name(), header_value()), 0..12),
        body in prop::option::of(prop::collection::vec(any::<u8>(), 0..300)),
    ) {
        let max_forwards = m.max_forwards.to_string();
        let cseq = format!("{} {method}", m.cseq);
        let mut builder = RequestBuilder::new(&method, &uri)
            .header(HeaderName::Via, &m.via)
            .header(HeaderName::MaxForwards, &max_forwards)
            .header(HeaderName::From, &m.from)
            .header(HeaderName::To, &m.to)
            .header(HeaderName::CallId, &m.call_id)
            .header(HeaderName::CSeq, &cseq);
        for (name, value) in &extra {
            builder = builder.header(HeaderName::parse(name), value);
        }
        if let Some(body) = &body {
            builder = builder.body("application/octet-stream", body);
        }
        let mut out = Vec::new();
        builder.write(&mut out);
        let message = parse_message(&out).map_err(|e| {
            TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&out)))
        })?;
        prop_assert_eq!(message.method(), Some(method.as_str()));
        prop_assert_eq!(message.request_line().unwrap().uri, uri.as_str());
        let mut expected: Vec<(String, String)> = vec![
            ("Via".into(), m.via.clone()),
            ("Max-Forwards".into(), max_forwards.clone()),
            ("From".into(), m.from.clone()),
            ("To".into(), m.to.clone()),
            ("Call-ID".into(), m.call_id.clone()),
            ("CSeq".into(), cseq.clone()),
        ];
        for (name, value) in &extra {
            expected.push((HeaderName::parse(name).as_str().to_owned(), value.clone()));
        }
        if body.is_some() {
            expected.push(("Content-Type".into(), "application/octet-stream".into()));
        }
        let body: &[u8] = body.as_deref().unwrap_or_default();
        expected.push(("Content-Length".into(), body.len().to_string()));
        prop_assert_eq!(fields(&message), expected);
        prop_assert_eq!(message.body(), body);
        rewritten_parses_equal(&message);
    }

    #[test]
    fn built_responses_parse_back_to_what_was_built(
        code in 100u16..=699,
        reason in "([!-~\u{e9}]([ -~\u{e9}]{0,20}[!-~\u{e9}])?)?",
        m in mandatory(),
        method in token(),
        extra in prop::collection::vec((free_header_name(), header_value()), 0..8),
        body in prop::collection::vec(any::<u8>(), 1..200),
    ) {
        let cseq = format!("{} {method}", m.cseq);
        let mut builder = ResponseBuilder::new(code, &reason)
            .header(HeaderName::Via, &m.via)
            .header(HeaderName::From, &m.from)
            .header(HeaderName::To, &m.to)
            .header(HeaderName::CallId, &m.call_id)
            .header(HeaderName::CSeq, &cseq)
            .to_tag("uas-tag")
            .body("text/plain", &body);
        for (name, value) in &extra {
            builder = builder.header(HeaderName::parse(name), value);
        }
        let mut out = Vec::new();
        builder.write(&mut out);
        let message = parse_message(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(message.status_code(), Some(code));
        prop_assert_eq!(message.status_line().unwrap().reason, reason.as_str());
        let to = format!("{};tag=uas-tag", m.to);
        prop_assert_eq!(message.header(HeaderName::To).unwrap().value, to.as_str());
        prop_assert_eq!(message.header_values(HeaderName::Via).count(), 1);
        prop_assert_eq!(message.body(), &body[..]);
        prop_assert_eq!(message.header_count(), 5 + extra.len() + 2);
        rewritten_parses_equal(&message);
    }

    #[test]
    fn folding_and_whitespace_around_the_colon_are_lws(
        before in "[ \t]{0,3}",
        after in "[ \t]{0,3}",
        first in "[!-~]{1,10}",
        fold in "(\r\n)?[ \t]{1,3}",
        second in "[!-~]{1,10}",
        compact in any::<bool>(),
    ) {
        let name = if compact { "s" } else { "sUbJeCt" };
        let text = format!(
            "OPTIONS sip:a@example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
             From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n\
             Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\
             {name}{before}:{after}{first}{fold}{second}{after}\r\nl: 0\r\n\r\n"
        );
        let message = parse_message(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let subject = message.header(HeaderName::Subject).unwrap();
        prop_assert_eq!(subject.value, format!("{first}{fold}{second}"));
        prop_assert_eq!(&text.as_bytes()[subject.offset..subject.offset + subject.value.len()], subject.value.as_bytes());
        rewritten_parses_equal(&message);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600), cut in any::<prop::sample::Index>()) {
        let limits = Limits::default();
        if let Ok(message) = parse_message(&data) {
            rewritten_parses_equal(&message);
        }
        let one_shot = frame(&data, &limits);
        let mut framer = Framer::new(limits);
        let split = cut.index(data.len() + 1);
        if let Ok(oma_im::sip::Framing::Incomplete { .. }) = framer.advance(&data[..split]) {
            prop_assert_eq!(framer.advance(&data), one_shot);
        }
    }

    #[test]
    fn mutated_valid_messages_never_panic(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..8),
    ) {
        let seeds = seed_messages();
        let mut data = seeds[seed.index(seeds.len())].clone();
        for (at, op, byte) in edits {
            let i = at.index(data.len() + 1);
            match op {
                0 => data.insert(i, byte),
                1 if i < data.len() => { data.remove(i); }
                _ if i < data.len() => data[i] = byte,
                _ => data.push(byte),
            }
        }
        if let Ok(message) = parse_message(&data) {
            rewritten_parses_equal(&message);
        }
        let _ = frame(&data, &Limits::default());
    }
}

/// The values the parser keeps parsed (Request-URI, Via, From, To, Call-ID,
/// CSeq) are those a fresh parse of the raw values gives.
fn kept_values_match_a_fresh_parse(message: &SipMessage<'_>) {
    let raw = |name| message.header(name).expect("mandatory field").value;
    assert_eq!(
        message.request_uri().cloned(),
        message.request_line().map(|l| Uri::parse(l.uri).unwrap())
    );
    let vias: Vec<Via<'_>> = message
        .header_values(HeaderName::Via)
        .flat_map(|v| value::list::<Via>(v.value))
        .map(Result::unwrap)
        .collect();
    let kept: Vec<Via<'_>> = message.via().map(Result::unwrap).collect();
    assert_eq!(kept, vias);
    assert_eq!(message.top_via().map(Result::unwrap), vias.first().cloned());
    let from = NameAddr::parse(raw(HeaderName::From)).unwrap();
    assert_eq!(message.from().unwrap().unwrap(), from);
    let to = NameAddr::parse(raw(HeaderName::To)).unwrap();
    assert_eq!(message.to().unwrap().unwrap(), to);
    let call_id = CallId::parse(raw(HeaderName::CallId)).unwrap();
    assert_eq!(message.call_id().unwrap().unwrap(), call_id);
    let cseq = CSeq::parse(raw(HeaderName::CSeq)).unwrap();
    assert_eq!(message.cseq().unwrap().unwrap(), cseq);
}

/// The realistic messages of the parser's fuzz corpus.
fn seed_messages() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/sip_parse_message");
    let mut seeds: Vec<Vec<u8>> = fs::read_dir(&dir)
        .expect("fuzz/corpus/sip_parse_message")
        .map(|e| fs::read(e.expect("entry").path()).expect("corpus file"))
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty());
    seeds
}

#[test]
fn every_seed_message_parses_and_round_trips() {
    let mut parsed = 0;
    for seed in seed_messages() {
        if let Ok(message) = parse_message(&seed) {
            rewritten_parses_equal(&message);
            parsed += 1;
        }
    }
    assert!(parsed >= 8, "the realistic seeds parse ({parsed})");
}
