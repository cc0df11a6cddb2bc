//! MSRP codec: the RFC 4975 example messages, the writer and response/REPORT
//! builders against them, error cases with offsets, and the stream parser.

use std::fs;
use std::num::NonZeroUsize;
use std::path::Path;

use oma_im::msrp::{
    chunks, end_line_in_body, failure_report_owed, parse_message, parse_message_prefix,
    parse_message_with, report, response, response_owed, success_report_owed, ByteRange,
    ContinuationFlag, FailureReport, Limit, Limits, Method, MsrpErrorKind, MsrpHead, MsrpMessage,
    MsrpStreamParser, MsrpUri, Progress, Reassembler, Scheme, StartLine, Status, StreamEvent,
    SuccessReport,
};

fn data(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/msrp")
        .join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rewrite(msg: &MsrpMessage<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    msg.write(&mut out);
    out
}

#[test]
fn rfc4975_overview_send_parses_and_rewrites_identically() {
    let wire = data("rfc4975_s4_send.msrp");
    let msg = parse_message(&wire).expect("parse");
    let h = &msg.head;
    assert_eq!(h.transact_id, "a786hjs2");
    assert_eq!(h.start, StartLine::Request(Method::Send));
    assert_eq!(h.to_path.len(), 1);
    let to = h.to_path[0];
    assert_eq!(to.scheme, Scheme::Msrp);
    assert_eq!(to.host, "biloxi.example.com");
    assert_eq!(to.port, Some(12763));
    assert_eq!(to.session_id, Some("kjhd37s2s20w2a"));
    assert_eq!(to.transport, "tcp");
    assert_eq!(h.from_path[0].session_id, Some("jshA7weztas"));
    assert_eq!(h.message_id, Some("87652491"));
    assert_eq!(
        h.byte_range,
        Some(ByteRange {
            start: 1,
            end: Some(25),
            total: Some(25)
        })
    );
    assert_eq!(h.content_type, Some("text/plain"));
    assert_eq!(msg.body, Some(&b"Hey Bob, are you there?"[..]));
    assert_eq!(msg.flag, ContinuationFlag::Complete);
    assert_eq!(rewrite(&msg), wire);
}

#[test]
fn rfc4975_responses_are_what_the_builder_produces() {
    for (send, ok) in [
        ("rfc4975_s4_send.msrp", "rfc4975_s4_200.msrp"),
        ("rfc4975_s10_1_send.msrp", "rfc4975_s10_1_200.msrp"),
    ] {
        let send_wire = data(send);
        let send = parse_message(&send_wire).expect("send");
        assert!(response_owed(&send.head, 200));
        let expected = data(ok);
        let built = response(&send.head, 200);
        assert_eq!(
            String::from_utf8_lossy(&rewrite(&built)),
            String::from_utf8_lossy(&expected)
        );
        let parsed = parse_message(&expected).expect("200");
        assert_eq!(parsed, built);
        assert_eq!(
            parsed.head.start,
            StartLine::Response {
                code: 200,
                comment: Some("OK")
            }
        );
        assert_eq!(parsed.body, None);
    }
}

#[test]
fn rfc4975_success_report_is_what_the_builder_produces() {
    let send_wire = data("rfc4975_s10_1_send.msrp");
    let mut send = parse_message(&send_wire).expect("send");
    assert!(
        !success_report_owed(&send.head, true),
        "no Success-Report header"
    );
    send.head.success_report = Some(SuccessReport::Yes);
    assert!(success_report_owed(&send.head, true));
    assert!(!success_report_owed(&send.head, false));
    let whole = ByteRange {
        start: 1,
        end: Some(106),
        total: Some(106),
    };
    let built = report(&send.head, "dkei38sd", whole, 200);
    let expected = data("rfc4975_report.msrp");
    assert_eq!(
        String::from_utf8_lossy(&rewrite(&built)),
        String::from_utf8_lossy(&expected)
    );
    let parsed = parse_message(&expected).expect("report");
    assert_eq!(
        parsed.head.status,
        Some(Status {
            namespace: 0,
            code: 200,
            reason: Some("OK")
        })
    );
    assert!(!response_owed(&parsed.head, 200), "REPORTs get no response");
}

#[test]
fn failure_report_values_decide_the_response() {
    let wire = data("rfc4975_s4_send.msrp");
    let mut send = parse_message(&wire).expect("send").head;
    assert!(response_owed(&send, 200), "absent Failure-Report means yes");
    assert!(failure_report_owed(&send));
    send.failure_report = Some(FailureReport::Partial);
    assert!(!response_owed(&send, 200));
    assert!(response_owed(&send, 413));
    assert!(failure_report_owed(&send));
    send.failure_report = Some(FailureReport::No);
    assert!(!response_owed(&send, 413));
    assert!(!failure_report_owed(&send));
    let mut out = Vec::new();
    response(&send, 413).write(&mut out);
    assert!(out.starts_with(b"MSRP a786hjs2 413 Stop-sending-message\r\n"));
}

#[test]
fn every_header_kind_round_trips() {
    let wire = b"MSRP tr4ns SEND\r\n\
To-Path: msrps://bob@[2001:db8::7]:2855/s3ss;tcp msrp://relay.example.net/r;tcp;x=1\r\n\
From-Path: msrp://alice.example.com:7777/iau39;tcp\r\n\
Message-ID: m.1-2+3%4=5\r\n\
Success-Report: yes\r\n\
Failure-Report: partial\r\n\
Byte-Range: 3-*/*\r\n\
Status: 000 408 Timeout\r\n\
Use-Nickname: \"bob\"\r\n\
Content-ID: <x@y>\r\n\
Content-Disposition: inline\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
binary \x00\xff body\r\n-------other$\r\n with a look-alike end-line\r\n\
-------tr4ns+\r\n";
    let msg = parse_message(wire).expect("parse");
    let h = &msg.head;
    assert_eq!(h.to_path.len(), 2);
    assert_eq!(h.to_path[0].userinfo, Some("bob"));
    assert_eq!(h.to_path[0].host, "[2001:db8::7]");
    assert_eq!(h.to_path[1].params, Some("x=1"));
    assert_eq!(h.failure_report, Some(FailureReport::Partial));
    assert_eq!(
        h.byte_range,
        Some(ByteRange {
            start: 3,
            end: None,
            total: None
        })
    );
    assert_eq!(h.ext_headers.len(), 1);
    assert_eq!(h.ext_headers[0].name, "Use-Nickname");
    assert_eq!(
        h.mime_headers.iter().map(|m| m.name).collect::<Vec<_>>(),
        ["Content-ID", "Content-Disposition"]
    );
    assert_eq!(
        msg.body,
        Some(&b"binary \x00\xff body\r\n-------other$\r\n with a look-alike end-line"[..])
    );
    assert_eq!(msg.flag, ContinuationFlag::Continuation);
    assert_eq!(rewrite(&msg), wire.to_vec(), "already canonical");
}

#[test]
fn lenient_input_is_written_canonically() {
    let wire = b"MSRP abcd SEND\r\nto-path:msrp://B.example.com:1/s;TCP\r\nfrom-path:   msrp://a.example.com/s;tcp  \r\n\
content-type:text/plain\r\n\r\nhi\r\n-------abcd#\r\n";
    let msg = parse_message(wire).expect("parse");
    assert_eq!(msg.flag, ContinuationFlag::Aborted);
    let out = rewrite(&msg);
    assert_eq!(
        out,
        b"MSRP abcd SEND\r\nTo-Path: msrp://B.example.com:1/s;TCP\r\nFrom-Path: msrp://a.example.com/s;tcp\r\n\
Content-Type: text/plain\r\n\r\nhi\r\n-------abcd#\r\n"
            .to_vec()
    );
    assert_eq!(parse_message(&out).expect("reparse"), msg);
}

#[test]
fn an_end_line_right_after_the_blank_line_is_an_empty_body() {
    let wire = format!("MSRP abcd SEND\r\n{TP}{FP}Content-Type: a/b\r\n\r\n-------abcd$\r\n");
    let msg = parse_message(wire.as_bytes()).expect("parse");
    assert_eq!(msg.body, Some(&b""[..]));
    let canonical = rewrite(&msg);
    assert!(canonical.ends_with(b"Content-Type: a/b\r\n\r\n\r\n-------abcd$\r\n"));
    assert_eq!(parse_message(&canonical).expect("reparse"), msg);
    let pieces: Vec<&[u8]> = wire.as_bytes().chunks(1).collect();
    let streamed = run_stream(&pieces);
    assert_eq!(streamed.len(), 1);
    assert_eq!(streamed[0].1.as_deref(), Some(&b""[..]));
}

#[test]
fn uri_comparison_follows_rfc4975_6_1() {
    let a = MsrpUri::parse("msrp://Alice@Example.COM:7777/Sess1;TCP").unwrap();
    let b = MsrpUri::parse("MSRP://bob@example.com:7777/Sess1;tcp;p=q").unwrap();
    assert!(a.matches(&b));
    assert_ne!(a, b, "exact equality still sees the differences");
    for other in [
        "msrps://example.com:7777/Sess1;tcp",
        "msrp://example.com:7778/Sess1;tcp",
        "msrp://example.com/Sess1;tcp",
        "msrp://example.com:7777/sess1;tcp",
        "msrp://example.com:7777/Sess1;udp",
        "msrp://example.org:7777/Sess1;tcp",
    ] {
        assert!(!a.matches(&MsrpUri::parse(other).unwrap()), "{other}");
    }
}

#[test]
fn malformed_uris_are_rejected_with_offsets() {
    for (uri, offset) in [
        ("sip://a.example.com/s;tcp", 0),
        ("msrp://a.example.com/s", 22),
        ("msrp://a.example.com:99999/s;tcp", 21),
        ("msrp://[zz]/s;tcp", 8),
        ("msrp:///s;tcp", 7),
        ("msrp://a.example.com/;tcp", 21),
        ("msrp://a.example.com/s;t-p", 23),
        ("msrp://a.example.com/s;tcp;=x", 27),
        ("msrp://a b@h/s;tcp", 8),
    ] {
        let e = MsrpUri::parse(uri).expect_err(uri);
        assert_eq!(
            (e.kind, e.offset),
            (MsrpErrorKind::InvalidUri, offset),
            "{uri}"
        );
    }
}

const TP: &str = "To-Path: msrp://b.example.com:1/s;tcp\r\n";
const FP: &str = "From-Path: msrp://a.example.com:2/s;tcp\r\n";

#[test]
fn errors_name_their_cause_and_offset() {
    let head = format!("MSRP abcd SEND\r\n{TP}{FP}");
    let h = head.len();
    let cases: Vec<(String, MsrpErrorKind, usize)> = vec![
        (
            "HTTP/1.1 200 OK\r\n-------x$\r\n".into(),
            MsrpErrorKind::NotMsrp,
            0,
        ),
        (
            format!("MSRP a_b SEND\r\n{TP}{FP}-------a_b$\r\n"),
            MsrpErrorKind::InvalidTransactId,
            5,
        ),
        (
            format!("MSRP abcd Send\r\n{TP}{FP}-------abcd$\r\n"),
            MsrpErrorKind::InvalidMethod,
            10,
        ),
        (
            format!("MSRP abcd 20 OK\r\n{TP}{FP}-------abcd$\r\n"),
            MsrpErrorKind::InvalidStatusCode,
            10,
        ),
        (
            format!("MSRP abcd SEND\r\n{FP}{TP}-------abcd$\r\n"),
            MsrpErrorKind::MissingToPath,
            16,
        ),
        (
            format!("MSRP abcd SEND\r\n{TP}Message-ID: x1\r\n-------abcd$\r\n"),
            MsrpErrorKind::MissingFromPath,
            16 + TP.len(),
        ),
        (
            format!("{head}Byte-Range: 0-1/1\r\n-------abcd$\r\n"),
            MsrpErrorKind::InvalidByteRange,
            h + 12,
        ),
        (
            format!("{head}Byte-Range: 5-3/9\r\n-------abcd$\r\n"),
            MsrpErrorKind::InvalidByteRange,
            h + 12,
        ),
        (
            format!("{head}Byte-Range: 1-9/8\r\n-------abcd$\r\n"),
            MsrpErrorKind::InvalidByteRange,
            h + 12,
        ),
        (
            format!("{head}Byte-Range: 1-99999999999999999999/*\r\n-------abcd$\r\n"),
            MsrpErrorKind::InvalidByteRange,
            h + 14,
        ),
        (
            format!("{head}Success-Report: partial\r\n-------abcd$\r\n"),
            MsrpErrorKind::InvalidReportValue,
            h + 16,
        ),
        (
            format!("{head}Status: 00 200\r\n-------abcd$\r\n"),
            MsrpErrorKind::InvalidStatus,
            h + 8,
        ),
        (
            format!("{head}Message-ID: -x\r\n-------abcd$\r\n"),
            MsrpErrorKind::InvalidMessageId,
            h + 12,
        ),
        (
            format!("{head}Message-ID: a1\r\nMessage-ID: a2\r\n-------abcd$\r\n"),
            MsrpErrorKind::DuplicateHeader,
            h + 16,
        ),
        (
            format!("{head}No colon here\r\n-------abcd$\r\n"),
            MsrpErrorKind::InvalidHeader,
            h,
        ),
        (
            format!("{head}Content-Type: text\r\n\r\nx\r\n-------abcd$\r\n"),
            MsrpErrorKind::InvalidContentType,
            h + 14,
        ),
        (
            format!("{head}\r\nbody\r\n-------abcd$\r\n"),
            MsrpErrorKind::BodyWithoutContentType,
            h,
        ),
        (
            format!("{head}-------abce$\r\n"),
            MsrpErrorKind::TransactIdMismatch,
            h + 7,
        ),
        (
            format!("{head}-------abcd!\r\n"),
            MsrpErrorKind::InvalidEndLine,
            h + 11,
        ),
        (
            format!("{head}-------abcd$\r\nMSRP"),
            MsrpErrorKind::TrailingData,
            h + 14,
        ),
        (
            format!("{head}Content-Type: a/b\r\n\r\nbody\r\n-------abce$\r\n"),
            MsrpErrorKind::Incomplete,
            h + 41,
        ),
        (
            format!("MSRP abcd SEND\n{TP}"),
            MsrpErrorKind::InvalidLineEnding,
            14,
        ),
    ];
    for (input, kind, offset) in cases {
        let e = parse_message(input.as_bytes()).expect_err(&input);
        assert_eq!((e.kind, e.offset), (kind, offset), "{input:?}");
    }
    let bad_utf8 = [head.as_bytes(), b"X-A: \xff\r\n-------abcd$\r\n"].concat();
    let e = parse_message(&bad_utf8).unwrap_err();
    assert_eq!((e.kind, e.offset), (MsrpErrorKind::InvalidUtf8, h + 5));
}

#[test]
fn limits_are_typed_errors() {
    let small = Limits {
        max_header_size: 128,
        max_headers: 3,
        max_path_uris: 1,
        max_transact_id_len: 4,
        max_chunk_size: 3,
        ..Limits::default()
    };
    let cases: Vec<(String, Limit)> = vec![
        (format!("MSRP abcd SEND\r\n{TP}{FP}X-Long: {}\r\n-------abcd$\r\n", "x".repeat(100)), Limit::HeaderSize),
        ("MSRP abcde SEND\r\n-------abcde$\r\n".into(), Limit::TransactIdLength),
        ("MSRP a SEND\r\nTo-Path: msrp://b/s;tcp msrp://c/s;tcp\r\n-------a$\r\n".into(), Limit::PathUris),
        ("MSRP a SEND\r\nTo-Path: msrp://b/s;tcp\r\nFrom-Path: msrp://c/s;tcp\r\nA: 1\r\nB: 2\r\n-------a$\r\n".into(), Limit::Headers),
        ("MSRP a SEND\r\nTo-Path: msrp://b/s;tcp\r\nFrom-Path: msrp://c/s;tcp\r\nContent-Type: a/b\r\n\r\nabcd\r\n-------a$\r\n".into(), Limit::ChunkSize),
    ];
    for (input, limit) in cases {
        let e = parse_message_with(input.as_bytes(), &small).expect_err(&input);
        assert_eq!(e.kind, MsrpErrorKind::LimitExceeded(limit), "{input:?}");
    }
    // A header section without end is refused once it passes the limit,
    // before its end arrives.
    let endless = vec![b'a'; 129];
    let e = parse_message_with(&endless, &small).unwrap_err();
    assert_eq!(
        (e.kind, e.offset),
        (MsrpErrorKind::LimitExceeded(Limit::HeaderSize), 128)
    );
    let e = parse_message_with(&endless[..128], &small).unwrap_err();
    assert_eq!(e.kind, MsrpErrorKind::Incomplete);
}

fn all_rfc_messages() -> Vec<u8> {
    [
        "rfc4975_s4_send.msrp",
        "rfc4975_s4_200.msrp",
        "rfc4975_s10_1_send.msrp",
        "rfc4975_s10_1_200.msrp",
        "rfc4975_report.msrp",
    ]
    .iter()
    .flat_map(|n| data(n))
    .collect()
}

/// (head rewritten, body, flag) for every message of a stream fed in pieces.
fn run_stream(pieces: &[&[u8]]) -> Vec<(Vec<u8>, Option<Vec<u8>>, ContinuationFlag)> {
    let mut parser = MsrpStreamParser::new(Limits::default());
    let mut out = Vec::new();
    let mut current: Option<(Vec<u8>, Option<Vec<u8>>)> = None;
    for piece in pieces {
        parser.feed(piece);
        while let Some(ev) = parser.next_event().expect("stream") {
            match ev {
                StreamEvent::Head { head, has_body } => {
                    assert!(current.is_none());
                    let mut h = Vec::new();
                    head.write(&mut h);
                    current = Some((h, has_body.then(Vec::new)));
                }
                StreamEvent::BodyData(d) => {
                    assert!(!d.is_empty());
                    current
                        .as_mut()
                        .and_then(|c| c.1.as_mut())
                        .expect("body expected")
                        .extend_from_slice(d);
                }
                StreamEvent::End(flag) => {
                    let (h, b) = current.take().expect("head before end");
                    out.push((h, b, flag));
                }
            }
        }
    }
    assert!(parser.is_idle());
    out
}

fn one_shot(wire: &[u8]) -> Vec<(Vec<u8>, Option<Vec<u8>>, ContinuationFlag)> {
    let mut out = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let (msg, used) = parse_message_prefix(rest, &Limits::default()).expect("prefix");
        let mut h = Vec::new();
        msg.head.write(&mut h);
        out.push((h, msg.body.map(<[u8]>::to_vec), msg.flag));
        rest = &rest[used..];
    }
    out
}

#[test]
fn stream_parser_matches_one_shot_at_every_split_point() {
    let wire = all_rfc_messages();
    let expected = one_shot(&wire);
    assert_eq!(expected.len(), 5);
    for split in 0..=wire.len() {
        let (a, b) = wire.split_at(split);
        assert_eq!(run_stream(&[a, b]), expected, "split at {split}");
    }
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(run_stream(&bytes), expected, "byte by byte");
}

#[test]
fn stream_parser_ignores_other_transactions_end_lines_in_a_body() {
    let body = b"line\r\n-------abcd$\r\n-------abc+\r\n-------abcde$\r\nend";
    let mut head = MsrpHead::request(
        "abc",
        Method::Send,
        [MsrpUri::parse("msrp://b/s;tcp").unwrap()]
            .into_iter()
            .collect(),
        [MsrpUri::parse("msrp://a/s;tcp").unwrap()]
            .into_iter()
            .collect(),
    );
    head.content_type = Some("application/octet-stream");
    // "abc" is unusable: the body holds its exact end-line "\r\n-------abc+\r\n".
    assert!(end_line_in_body(body, "abc"));
    head.transact_id = "abcdef";
    assert!(!end_line_in_body(body, "abcdef"));
    let msg = MsrpMessage {
        head,
        body: Some(body),
        flag: ContinuationFlag::Complete,
    };
    let wire = rewrite(&msg);
    let bytes: Vec<&[u8]> = wire.chunks(3).collect();
    let got = run_stream(&bytes);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.as_deref(), Some(&body[..]));
    assert_eq!(parse_message(&wire).unwrap(), msg);
}

#[test]
fn stream_errors_are_final_and_offset_in_the_stream() {
    let mut wire = data("rfc4975_s4_200.msrp");
    let first = wire.len();
    wire.extend_from_slice(b"MSRP abcd SEND\r\nFrom-Path: msrp://a/s;tcp\r\n-------abcd$\r\n");
    let mut parser = MsrpStreamParser::new(Limits::default());
    parser.feed(&wire);
    let mut ends = 0;
    let err = loop {
        match parser.next_event() {
            Ok(Some(StreamEvent::End(_))) => ends += 1,
            Ok(Some(_)) => {}
            Ok(None) => panic!("expected an error"),
            Err(e) => break e,
        }
    };
    assert_eq!(ends, 1);
    assert_eq!(
        (err.kind, err.offset),
        (MsrpErrorKind::MissingToPath, first + 16)
    );
    parser.feed(b"more");
    assert_eq!(parser.next_event().unwrap_err(), err);
}

#[test]
fn stream_hands_out_a_large_body_without_buffering_it_whole() {
    let limits = Limits {
        max_chunk_size: 64 * 1024,
        ..Limits::default()
    };
    let body = vec![b'x'; 60 * 1024];
    let mut head = MsrpHead::request(
        "big1",
        Method::Send,
        [MsrpUri::parse("msrp://b/s;tcp").unwrap()]
            .into_iter()
            .collect(),
        [MsrpUri::parse("msrp://a/s;tcp").unwrap()]
            .into_iter()
            .collect(),
    );
    head.content_type = Some("text/plain");
    let wire = rewrite(&MsrpMessage {
        head,
        body: Some(&body),
        flag: ContinuationFlag::Complete,
    });
    let mut parser = MsrpStreamParser::new(limits);
    let mut received = 0;
    let mut max_piece = 0;
    for piece in wire.chunks(1000) {
        parser.feed(piece);
        while let Some(ev) = parser.next_event().unwrap() {
            if let StreamEvent::BodyData(d) = ev {
                received += d.len();
                max_piece = max_piece.max(d.len());
            }
        }
    }
    assert_eq!(received, body.len());
    assert!(
        max_piece <= 1000,
        "body handed out as it arrives, not at the end"
    );
    // Over the chunk limit: refused before the end-line arrives.
    let mut parser = MsrpStreamParser::new(Limits {
        max_chunk_size: 10_000,
        ..limits
    });
    parser.feed(&wire[..20_000]);
    let err = loop {
        match parser.next_event() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("expected the chunk limit"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind, MsrpErrorKind::LimitExceeded(Limit::ChunkSize));
}

#[test]
fn chunked_send_flow_round_trips_through_the_wire() {
    let send_wire = data("rfc4975_s10_1_send.msrp");
    let template = parse_message(&send_wire).unwrap().head;
    let body: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let tids = ["tid0a", "tid1a", "tid2a", "tid3a", "tid4a", "tid5a"];
    let mut wire = Vec::new();
    let parts: Vec<_> = chunks(&body, NonZeroUsize::new(1024).unwrap()).collect();
    assert_eq!(parts.len(), 5);
    for (chunk, tid) in parts.iter().zip(tids) {
        assert!(!end_line_in_body(chunk.data, tid));
        chunk.message(&template, tid).write(&mut wire);
    }
    let text = String::from_utf8_lossy(&wire);
    assert!(text.contains("Byte-Range: 1-1024/5000\r\n"));
    assert!(text.contains("Byte-Range: 4097-5000/5000\r\n"));
    assert_eq!(text.matches("+\r\n").count(), 4);
    assert!(text.ends_with("-------tid4a$\r\n"));
    let mut r = Reassembler::new(Limits::default());
    let mut rest = &wire[..];
    let mut done = None;
    while !rest.is_empty() {
        let (msg, used) = parse_message_prefix(rest, &Limits::default()).unwrap();
        assert_eq!(msg.head.message_id, Some("12339sdqwer"));
        if let Progress::Complete(m) = r.push_message(&msg).unwrap() {
            done = Some(m);
        }
        rest = &rest[used..];
    }
    let done = done.expect("complete");
    assert_eq!(done.message_id, "12339sdqwer");
    assert_eq!(done.data, body);
    assert_eq!(r.partial_count(), 0);
}
