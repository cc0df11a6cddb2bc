//! RFC 4475 (SIP torture test messages), section 3: every message, taken from
//! the RFC's text into `tests/data/rfc4475/<name>.dat` (CRLF line ends, the
//! non-printable octets of its `<hex>` blocks as raw octets), with the verdict
//! the RFC gives a receiver's parser.
//!
//! "Accept" means the RFC calls the message valid, or says a parser must not
//! fail on it (the 3.3 application-layer cases that a UA answers with a 4xx
//! above the parser — except those the crate's parser rejects on purpose, see
//! below). "Reject" names the cause the crate's typed error must give.
//!
//! Choices where the RFC lets an element be liberal or strict:
//! * 3.1.2.9 `lwsstart` and 3.1.2.10 `trws` (extra SP in the Request-Line) are
//!   rejected: the Request-Line grammar has exactly one SP between elements.
//! * 3.1.2.11 `escruri`, 3.1.2.12 `baddate` and 3.1.2.13 `regbadct` are
//!   accepted (liberal): the escaped headers are part of the URI, Date and
//!   Contact are not checked by the message parser.
//! * 3.1.2.16 `badvers`, 3.1.2.17/18 `mismatch01/02`, 3.3.1 `insuf`,
//!   3.3.8 `multi01` and 3.3.9 `mcl01` are rejected with a typed error, from
//!   which the transaction layer builds the answer the RFC names (505, 400).
//! * 3.4.1 `inv2543` (RFC 2543 syntax: no Max-Forwards, no branch) is
//!   accepted, so a missing Max-Forwards is not an error; a repeated one is.

use oma_im::sip::{parse_message, HeaderName, SipErrorKind, SipMessage};
use std::fs;
use std::path::Path;

enum Verdict {
    Accept,
    Reject(fn(&SipErrorKind) -> bool),
}
use Verdict::{Accept, Reject};

/// (file, RFC 4475 section, verdict)
const CASES: &[(&str, &str, Verdict)] = &[
    // 3.1.1 Valid messages
    ("wsinv", "3.1.1.1", Accept),
    ("intmeth", "3.1.1.2", Accept),
    ("esc01", "3.1.1.3", Accept),
    ("escnull", "3.1.1.4", Accept),
    ("esc02", "3.1.1.5", Accept),
    ("lwsdisp", "3.1.1.6", Accept),
    ("longreq", "3.1.1.7", Accept),
    ("dblreq", "3.1.1.8", Accept),
    ("semiuri", "3.1.1.9", Accept),
    ("transports", "3.1.1.10", Accept),
    ("mpart01", "3.1.1.11", Accept),
    ("unreason", "3.1.1.12", Accept),
    ("noreason", "3.1.1.13", Accept),
    // 3.1.2 Invalid messages
    (
        "badinv01",
        "3.1.2.1",
        Reject(|k| matches!(k, SipErrorKind::MalformedHeader(HeaderName::Via))),
    ),
    (
        "clerr",
        "3.1.2.2",
        Reject(|k| matches!(k, SipErrorKind::BodyTruncated)),
    ),
    (
        "ncl",
        "3.1.2.3",
        Reject(|k| matches!(k, SipErrorKind::InvalidContentLength)),
    ),
    (
        "scalar02",
        "3.1.2.4",
        Reject(|k| {
            matches!(
                k,
                SipErrorKind::ValueOutOfRange(HeaderName::CSeq | HeaderName::MaxForwards)
            )
        }),
    ),
    (
        "scalarlg",
        "3.1.2.5",
        Reject(|k| {
            matches!(
                k,
                SipErrorKind::ValueOutOfRange(HeaderName::CSeq | HeaderName::RetryAfter)
                    | SipErrorKind::MalformedHeader(HeaderName::Warning)
            )
        }),
    ),
    (
        "quotbal",
        "3.1.2.6",
        Reject(|k| matches!(k, SipErrorKind::MalformedHeader(HeaderName::To))),
    ),
    (
        "ltgtruri",
        "3.1.2.7",
        Reject(|k| matches!(k, SipErrorKind::InvalidRequestUri)),
    ),
    (
        "lwsruri",
        "3.1.2.8",
        Reject(|k| {
            matches!(
                k,
                SipErrorKind::InvalidRequestLine
                    | SipErrorKind::InvalidRequestUri
                    | SipErrorKind::InvalidVersion
            )
        }),
    ),
    (
        "lwsstart",
        "3.1.2.9",
        Reject(|k| {
            matches!(
                k,
                SipErrorKind::InvalidRequestLine | SipErrorKind::InvalidRequestUri
            )
        }),
    ),
    (
        "trws",
        "3.1.2.10",
        Reject(|k| {
            matches!(
                k,
                SipErrorKind::InvalidRequestLine | SipErrorKind::InvalidVersion
            )
        }),
    ),
    ("escruri", "3.1.2.11", Accept),
    ("baddate", "3.1.2.12", Accept),
    ("regbadct", "3.1.2.13", Accept),
    (
        "badaspec",
        "3.1.2.14",
        Reject(|k| matches!(k, SipErrorKind::MalformedHeader(HeaderName::To))),
    ),
    (
        "baddn",
        "3.1.2.15",
        Reject(|k| {
            matches!(
                k,
                SipErrorKind::MalformedHeader(HeaderName::From | HeaderName::To)
            )
        }),
    ),
    (
        "badvers",
        "3.1.2.16",
        Reject(|k| matches!(k, SipErrorKind::UnsupportedVersion)),
    ),
    (
        "mismatch01",
        "3.1.2.17",
        Reject(|k| matches!(k, SipErrorKind::CSeqMethodMismatch)),
    ),
    (
        "mismatch02",
        "3.1.2.18",
        Reject(|k| matches!(k, SipErrorKind::CSeqMethodMismatch)),
    ),
    (
        "bigcode",
        "3.1.2.19",
        Reject(|k| matches!(k, SipErrorKind::InvalidStatusCode)),
    ),
    // 3.2 Transaction layer semantics
    ("badbranch", "3.2.1", Accept),
    // 3.3 Application-layer semantics
    (
        "insuf",
        "3.3.1",
        Reject(|k| {
            matches!(
                k,
                SipErrorKind::MissingHeader(HeaderName::CallId | HeaderName::From | HeaderName::To)
            )
        }),
    ),
    ("unkscm", "3.3.2", Accept),
    ("novelsc", "3.3.3", Accept),
    ("unksm2", "3.3.4", Accept),
    ("bext01", "3.3.5", Accept),
    ("invut", "3.3.6", Accept),
    ("regaut01", "3.3.7", Accept),
    (
        "multi01",
        "3.3.8",
        Reject(|k| {
            matches!(
                k,
                SipErrorKind::DuplicateHeader(
                    HeaderName::CSeq
                        | HeaderName::CallId
                        | HeaderName::From
                        | HeaderName::To
                        | HeaderName::MaxForwards
                )
            )
        }),
    ),
    (
        "mcl01",
        "3.3.9",
        Reject(|k| matches!(k, SipErrorKind::DuplicateHeader(HeaderName::ContentLength))),
    ),
    ("bcast", "3.3.10", Accept),
    ("zeromf", "3.3.11", Accept),
    ("cparam01", "3.3.12", Accept),
    ("cparam02", "3.3.13", Accept),
    ("regescrt", "3.3.14", Accept),
    ("sdp01", "3.3.15", Accept),
    // 3.4 Backward compatibility
    ("inv2543", "3.4.1", Accept),
];

fn read(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/rfc4475")
        .join(format!("{name}.dat"));
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(data: &[u8]) -> SipMessage<'_> {
    parse_message(data).unwrap_or_else(|e| panic!("{e}"))
}

fn values<'a>(msg: &SipMessage<'a>, name: HeaderName<'_>) -> Vec<&'a str> {
    msg.header_values(name).map(|v| v.value).collect()
}

#[test]
fn every_message_of_section_3_gets_the_rfc_verdict() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475");
    let files = fs::read_dir(&dir).expect("tests/data/rfc4475").count();
    let data: Vec<Vec<u8>> = CASES.iter().map(|(name, _, _)| read(name)).collect();
    assert_eq!(files, CASES.len(), "one case per message file");
    let mut failures = Vec::new();
    for ((name, section, verdict), data) in CASES.iter().zip(&data) {
        match (parse_message(data), verdict) {
            (Ok(_), Accept) => {}
            (Err(e), Reject(cause)) if cause(&e.kind) => {
                assert!(
                    e.offset <= data.len(),
                    "{name}: offset {} beyond the input",
                    e.offset
                );
            }
            (Err(e), Reject(_)) => {
                failures.push(format!("{section} {name}: rejected for another cause: {e}"))
            }
            (Err(e), Accept) => failures.push(format!("{section} {name}: must parse, got {e}")),
            (Ok(_), Reject(_)) => failures.push(format!("{section} {name}: must be rejected")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn wsinv_reads_through_folding_compact_names_and_odd_whitespace() {
    let data = read("wsinv");
    let msg = parse(&data);
    assert_eq!(msg.method(), Some("INVITE"));
    assert_eq!(
        msg.request_line().unwrap().uri,
        "sip:vivekg@chair-dnrc.example.com;unknownparam"
    );
    // `v:` (compact) and `Via  :` are the same header; one holds two values.
    assert_eq!(values(&msg, HeaderName::Via).len(), 2);
    assert_eq!(values(&msg, HeaderName::MaxForwards), ["0068"]);
    assert_eq!(
        values(&msg, HeaderName::Subject),
        [""],
        "`s :` is an empty Subject"
    );
    let newfangled = values(&msg, HeaderName::Other("newfangledheader"));
    assert_eq!(newfangled.len(), 1);
    assert!(newfangled[0].starts_with("newfangled value"));
    assert!(newfangled[0].ends_with("continued newfangled value"));
    assert_eq!(
        values(&msg, HeaderName::Other("UnknownHeaderWithUnusualValue")),
        [";;,,;;,;"]
    );
    assert_eq!(
        values(&msg, HeaderName::Contact).len(),
        1,
        "`m:` is Contact"
    );
    assert_eq!(msg.body().len(), 150);
}

#[test]
fn intmeth_keeps_the_unusual_method_and_the_utf8_extension_header() {
    let data = read("intmeth");
    let msg = parse(&data);
    assert_eq!(
        msg.method(),
        Some("!interesting-Method0123456789_*+`.%indeed'~")
    );
    assert_eq!(
        values(&msg, HeaderName::CSeq),
        ["139122385 !interesting-Method0123456789_*+`.%indeed'~"]
    );
    assert_eq!(values(&msg, HeaderName::MaxForwards), ["255"]);
    let ext = values(&msg, HeaderName::Other("extensionHeader-!.%*+_`'~"));
    assert_eq!(ext, ["\u{feff}大停電"]);
    assert_eq!(
        values(&msg, HeaderName::CallId),
        ["intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"]
    );
}

#[test]
fn esc02_method_is_an_extension_not_register() {
    let data = read("esc02");
    let msg = parse(&data);
    assert_eq!(msg.method(), Some("RE%47IST%45R"));
    assert_eq!(
        values(&msg, HeaderName::Contact).len(),
        2,
        "C%6Fntact is another header"
    );
    assert_eq!(values(&msg, HeaderName::Other("C%6Fntact")).len(), 1);
}

#[test]
fn longreq_counts_all_34_vias_in_every_spelling() {
    let data = read("longreq");
    let msg = parse(&data);
    assert_eq!(values(&msg, HeaderName::Via).len(), 34);
    assert_eq!(msg.body().len(), 150);
}

#[test]
fn accepted_messages_are_written_back_and_parse_to_the_same_message() {
    for (name, section, verdict) in CASES {
        if !matches!(verdict, Accept) {
            continue;
        }
        let data = read(name);
        let msg = parse(&data);
        let mut out = Vec::new();
        msg.write(&mut out);
        let again = parse_message(&out)
            .unwrap_or_else(|e| panic!("{section} {name}: rewritten message: {e}"));
        assert_eq!(msg.start_line(), again.start_line(), "{section} {name}");
        assert_eq!(msg.body(), again.body(), "{section} {name}");
        let a: Vec<_> = msg
            .headers()
            .map(|(n, _)| n.as_str().to_ascii_lowercase())
            .collect();
        let b: Vec<_> = again
            .headers()
            .map(|(n, _)| n.as_str().to_ascii_lowercase())
            .collect();
        assert_eq!(a, b, "{section} {name}: header names");
    }
}

#[test]
fn dblreq_ignores_the_octets_after_content_length() {
    let data = read("dblreq");
    let msg = parse(&data);
    assert_eq!(msg.method(), Some("REGISTER"));
    assert!(msg.body().is_empty());
    let mut out = Vec::new();
    msg.write(&mut out);
    assert!(
        !out.windows(6).any(|w| w == b"INVITE"),
        "the trailing INVITE is not part of the message"
    );
}

#[test]
fn mpart01_keeps_the_binary_body_octet_for_octet() {
    let data = read("mpart01");
    let msg = parse(&data);
    assert_eq!(msg.body().len(), 553);
    assert!(data.ends_with(msg.body()));
    assert!(msg.body().contains(&0x00), "binary octets survive");
}

#[test]
fn unreason_and_noreason_keep_their_reason_phrases() {
    let data = read("unreason");
    let msg = parse(&data);
    let status = msg.status_line().unwrap();
    assert_eq!(status.code, 200);
    assert_eq!(
        status.reason,
        "= 2**3 * 5**2 но сто девяносто девять - простое"
    );

    let data = read("noreason");
    let msg = parse(&data);
    let status = msg.status_line().unwrap();
    assert_eq!((status.code, status.reason), (100, ""));
}

#[test]
fn rejections_name_the_offending_header_line() {
    for (name, needle) in [
        ("clerr", "Content-Length: 9999"),
        ("ncl", "Content-Length: -999"),
        ("quotbal", "To: "),
    ] {
        let data = read(name);
        let err = parse_message(&data).expect_err(name);
        let line_start = data
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
            .expect(needle);
        let line_end = line_start + data[line_start..].iter().position(|&b| b == b'\r').unwrap();
        assert!(
            (line_start..=line_end).contains(&err.offset),
            "{name}: offset {} is not on the line {needle:?} ({line_start}..{line_end})",
            err.offset
        );
    }
}
