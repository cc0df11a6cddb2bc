//! Property tests of the MSRP codec: writer → parser round trips, stream
//! parsing at arbitrary splits equals one-shot parsing, chunking then
//! reassembling in any order gives the message back, and arbitrary bytes
//! never panic.

use std::num::NonZeroUsize;

use oma_im::msrp::{
    chunks, end_line_in_body, parse_message, parse_message_prefix, ByteRange, ContinuationFlag,
    FailureReport, Header, Limits, Method, MsrpHead, MsrpMessage, MsrpStreamParser, MsrpUri,
    Progress, Reassembler, StartLine, Status, StreamEvent, SuccessReport, SEGMENT_OVERHEAD,
};
use proptest::prelude::*;

/// Text of one URI, built from grammar pieces.
fn uri_text() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("msrp"), Just("msrps")],
        proptest::option::of("[a-z0-9]{1,5}"),
        prop_oneof![
            "[a-z]{1,8}(\\.[a-z]{1,5}){0,2}",
            "\\[[0-9a-f]{1,4}(:[0-9a-f]{0,4}){1,4}\\]",
            "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}"
        ],
        proptest::option::of(any::<u16>()),
        proptest::option::of("[A-Za-z0-9+=/._~-]{1,12}"),
        prop_oneof![Just("tcp".to_owned()), "[A-Za-z0-9]{1,4}"],
        proptest::option::of("[a-z]{1,3}(=[a-z0-9]{1,3})?(;[a-z]{1,3})?"),
    )
        .prop_map(|(scheme, user, host, port, sid, transport, params)| {
            let mut s = format!("{scheme}://");
            if let Some(u) = user {
                s += &format!("{u}@");
            }
            s += &host;
            if let Some(p) = port {
                s += &format!(":{p}");
            }
            if let Some(id) = sid {
                s += &format!("/{id}");
            }
            s += &format!(";{transport}");
            if let Some(p) = params {
                s += &format!(";{p}");
            }
            s
        })
}

/// Owned material for one message.
#[derive(Debug, Clone)]
struct Spec {
    tid: String,
    request: Option<String>,
    code: u16,
    comment: Option<String>,
    to: Vec<String>,
    from: Vec<String>,
    message_id: Option<String>,
    range: Option<(u64, Option<u64>, Option<u64>)>,
    success: Option<bool>,
    failure: Option<u8>,
    status: Option<(u16, u16, Option<String>)>,
    ext: Vec<(String, String)>,
    mime: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    flag: u8,
}

fn spec() -> impl Strategy<Value = Spec> {
    let body = proptest::collection::vec(
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..40),
            1 => Just(b"\r\n-------zz9$\r\n".to_vec()),
            1 => Just(b"\r\n-------".to_vec()),
            1 => Just(b"\r\n".to_vec()),
        ],
        0..6,
    )
    .prop_map(|parts| parts.concat());
    (
        (
            "[A-Za-z0-9][A-Za-z0-9.+%=-]{3,20}",
            proptest::option::of(prop_oneof![
                Just("SEND".to_owned()),
                Just("REPORT".to_owned()),
                "[A-Z]{1,8}"
            ]),
            100u16..1000,
            proptest::option::of("[ -~]{0,20}"),
            proptest::collection::vec(uri_text(), 1..4),
            proptest::collection::vec(uri_text(), 1..4),
            proptest::option::of("[A-Za-z0-9][A-Za-z0-9.+%=-]{0,30}"),
        ),
        (
            proptest::option::of((
                1u64..1000,
                proptest::option::of(0u64..1000),
                proptest::option::of(0u64..3000),
            )),
            proptest::option::of(any::<bool>()),
            proptest::option::of(0u8..3),
            proptest::option::of((
                0u16..1000,
                100u16..1000,
                proptest::option::of("[!-~]([ -~]{0,10}[!-~])?"),
            )),
            proptest::collection::vec(("X-[A-Za-z]{1,8}", "[!-~]([ -~]{0,10}[!-~])?"), 0..3),
            proptest::collection::vec(
                ("Content-(ID|Description|Disposition)", "[!-~]{1,12}"),
                0..3,
            ),
            proptest::option::of(body),
            0u8..3,
        ),
    )
        .prop_map(
            |(
                (tid, request, code, comment, to, from, message_id),
                (range, success, failure, status, ext, mime, body, flag),
            )| {
                let range = range.map(|(start, end, total)| {
                    let end = end.map(|e| e.max(start - 1));
                    let total = total.map(|t| t.max(end.unwrap_or(start - 1)));
                    (start, end, total)
                });
                Spec {
                    tid,
                    request,
                    code,
                    comment,
                    to,
                    from,
                    message_id,
                    range,
                    success,
                    failure,
                    status,
                    ext,
                    mime,
                    body,
                    flag,
                }
            },
        )
}

fn uris(v: &[String]) -> Vec<MsrpUri<'_>> {
    v.iter()
        .map(|s| MsrpUri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
        .collect()
}

fn build(spec: &Spec) -> MsrpMessage<'_> {
    let to = uris(&spec.to).into_iter().collect();
    let from = uris(&spec.from).into_iter().collect();
    let mut head = match &spec.request {
        Some(m) => MsrpHead::request(&spec.tid, Method::from(m.as_str()), to, from),
        None => MsrpHead::response(&spec.tid, spec.code, spec.comment.as_deref(), to, from),
    };
    head.message_id = spec.message_id.as_deref();
    head.byte_range = spec
        .range
        .map(|(start, end, total)| ByteRange { start, end, total });
    head.success_report = spec.success.map(|y| {
        if y {
            SuccessReport::Yes
        } else {
            SuccessReport::No
        }
    });
    head.failure_report = spec.failure.map(|f| {
        [
            FailureReport::Yes,
            FailureReport::No,
            FailureReport::Partial,
        ][f as usize]
    });
    head.status = spec.status.as_ref().map(|(ns, code, r)| Status {
        namespace: *ns,
        code: *code,
        reason: r.as_deref(),
    });
    head.ext_headers = spec
        .ext
        .iter()
        .map(|(n, v)| Header { name: n, value: v })
        .collect();
    head.mime_headers = spec
        .mime
        .iter()
        .map(|(n, v)| Header { name: n, value: v })
        .collect();
    if spec.body.is_some() || !spec.mime.is_empty() {
        head.content_type = Some("application/octet-stream; x=\"y\"");
    }
    let flag = [
        ContinuationFlag::Complete,
        ContinuationFlag::Continuation,
        ContinuationFlag::Aborted,
    ][spec.flag as usize];
    MsrpMessage {
        head,
        body: spec.body.as_deref(),
        flag,
    }
}

fn usable(spec: &Spec) -> bool {
    spec.body
        .as_deref()
        .is_none_or(|b| !end_line_in_body(b, &spec.tid))
}

type Seen = (Vec<u8>, Option<Vec<u8>>, ContinuationFlag);

fn one_shot(wire: &[u8]) -> (Vec<Seen>, Option<(oma_im::msrp::MsrpErrorKind, usize)>) {
    let mut out = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        match parse_message_prefix(&wire[at..], &Limits::default()) {
            Ok((msg, used)) => {
                let mut h = Vec::new();
                msg.head.write(&mut h);
                out.push((h, msg.body.map(<[u8]>::to_vec), msg.flag));
                at += used;
            }
            Err(e) if e.kind == oma_im::msrp::MsrpErrorKind::Incomplete => return (out, None),
            Err(e) => return (out, Some((e.kind, e.offset + at))),
        }
    }
    (out, None)
}

fn streamed(
    wire: &[u8],
    cuts: &[usize],
) -> (Vec<Seen>, Option<(oma_im::msrp::MsrpErrorKind, usize)>) {
    let mut parser = MsrpStreamParser::new(Limits::default());
    let mut out = Vec::new();
    let mut current: Option<(Vec<u8>, Option<Vec<u8>>)> = None;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.push(0);
    points.push(wire.len());
    points.sort_unstable();
    for pair in points.windows(2) {
        parser.feed(&wire[pair[0]..pair[1]]);
        loop {
            match parser.next_event() {
                Ok(None) => break,
                Ok(Some(StreamEvent::Head { head, has_body })) => {
                    let mut h = Vec::new();
                    head.write(&mut h);
                    current = Some((h, has_body.then(Vec::new)));
                }
                Ok(Some(StreamEvent::BodyData(d))) => current
                    .as_mut()
                    .and_then(|c| c.1.as_mut())
                    .expect("body")
                    .extend_from_slice(d),
                Ok(Some(StreamEvent::End(flag))) => {
                    let (h, b) = current.take().expect("head");
                    out.push((h, b, flag));
                }
                Err(e) => return (out, Some((e.kind, e.offset))),
            }
        }
    }
    (out, None)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn writer_then_parser_gives_the_same_message(spec in spec()) {
        prop_assume!(usable(&spec));
        let msg = build(&spec);
        let mut wire = Vec::new();
        msg.write(&mut wire);
        let parsed = parse_message(&wire).map_err(|e| TestCaseError::fail(format!("{e} in {:?}", String::from_utf8_lossy(&wire))))?;
        prop_assert_eq!(&parsed, &msg);
        let mut again = Vec::new();
        parsed.write(&mut again);
        prop_assert_eq!(&again, &wire);
    }

    #[test]
    fn stream_at_arbitrary_splits_equals_one_shot(specs in proptest::collection::vec(spec(), 1..4), cuts in proptest::collection::vec(any::<usize>(), 0..12), garbage in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut wire = Vec::new();
        for s in specs.iter().filter(|s| usable(s)) {
            build(s).write(&mut wire);
        }
        wire.extend_from_slice(&garbage);
        let expected = one_shot(&wire);
        prop_assert_eq!(streamed(&wire, &cuts), expected);
    }

    #[test]
    fn chunk_then_reassemble_in_any_order_gives_the_message_back(
        body in proptest::collection::vec(any::<u8>(), 0..3000),
        size in 1usize..700,
        order in any::<u64>(),
        extra in proptest::collection::vec((any::<usize>(), any::<usize>()), 0..6),
    ) {
        let parts: Vec<_> = chunks(&body, NonZeroUsize::new(size).unwrap()).collect();
        prop_assert_eq!(parts.len(), body.len().div_ceil(size).max(1));
        for (i, p) in parts.iter().enumerate() {
            prop_assert_eq!(p.flag == ContinuationFlag::Complete, i + 1 == parts.len());
            prop_assert_eq!(p.byte_range.total, Some(body.len() as u64));
        }
        // Arrivals: every chunk, plus duplicates and overlapping ranges.
        let mut arrivals: Vec<(ByteRange, &[u8], ContinuationFlag)> =
            parts.iter().map(|p| (p.byte_range, p.data, p.flag)).collect();
        for (a, b) in extra {
            if body.is_empty() { break; }
            let (a, b) = (a % body.len(), b % body.len());
            let (lo, hi) = (a.min(b), a.max(b) + 1);
            let range = ByteRange { start: lo as u64 + 1, end: Some(hi as u64), total: Some(body.len() as u64) };
            arrivals.push((range, &body[lo..hi], ContinuationFlag::Continuation));
            arrivals.push(arrivals[a % parts.len()]);
        }
        // A deterministic shuffle from `order`.
        let mut seed = order | 1;
        for i in (1..arrivals.len()).rev() {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
            arrivals.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        let mut r = Reassembler::new(Limits::default());
        let mut complete = None;
        for (range, data, flag) in arrivals {
            match r.push("m1", range, data, flag) {
                Ok(Progress::Complete(m)) => { complete = Some(m); break; }
                Ok(Progress::Incomplete) => {}
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
        }
        let m = complete.ok_or_else(|| TestCaseError::fail("never complete"))?;
        prop_assert_eq!(m.data, body);
        prop_assert_eq!(r.partial_count(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
        if let Ok(msg) = parse_message(&data) {
            let mut out = Vec::new();
            msg.write(&mut out);
            prop_assert_eq!(parse_message(&out).ok(), Some(msg));
        }
        let _ = streamed(&data, &cuts);
        if let Ok(s) = std::str::from_utf8(&data) {
            let _ = MsrpUri::parse(s);
            let _ = ByteRange::parse(s);
            let _ = Status::parse(s);
        }
    }

    #[test]
    fn mutated_messages_parse_write_parse_equal(spec in spec(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        prop_assume!(usable(&spec));
        let mut wire = Vec::new();
        build(&spec).write(&mut wire);
        for (at, b) in flips {
            let i = at % wire.len();
            wire[i] = b;
        }
        if let Ok(msg) = parse_message(&wire) {
            let mut out = Vec::new();
            msg.write(&mut out);
            prop_assert_eq!(parse_message(&out).ok(), Some(msg));
        }
        let (one, err) = one_shot(&wire);
        let wire = &wire;
        prop_assert_eq!(streamed(wire, &[wire.len() / 2, wire.len() / 3]), (one, err));
    }

    #[test]
    fn reassembler_stays_bounded_under_arbitrary_chunks(
        pushes in proptest::collection::vec((0u8..40, 0u64..5000, proptest::option::of(0u64..5000), 0usize..300, 0u8..3), 0..60),
    ) {
        let limits = Limits { max_message_size: 4096, max_partial_messages: 4, max_chunk_size: 256, ..Limits::default() };
        let mut r = Reassembler::new(limits);
        let data = [7u8; 300];
        for (id, start, total, len, flag) in pushes {
            let flag = [ContinuationFlag::Complete, ContinuationFlag::Continuation, ContinuationFlag::Aborted][flag as usize];
            let range = ByteRange { start, end: None, total };
            let _ = r.push(&format!("id{id}"), range, &data[..len], flag);
            prop_assert!(r.partial_count() <= 4);
        }
    }
}

proptest! {
    /// Chunks in any order, overlapping, with later bytes overwriting
    /// earlier ones, reassemble to what a byte-by-byte model of the same
    /// pushes holds; what is buffered is what arrived (plus the per-run
    /// charge) and nothing once the message is out.
    #[test]
    fn reassembly_matches_a_byte_model_and_holds_only_what_arrived(
        size in 1usize..600,
        cuts in proptest::collection::vec(1usize..600, 0..8),
        extra in proptest::collection::vec((0usize..600, 1usize..100, any::<u8>()), 0..12),
        order in proptest::collection::vec(any::<u16>(), 0..24),
    ) {
        // A cover of [0, size) from the cuts, then extra overlapping chunks.
        let mut bounds: Vec<usize> = cuts.into_iter().filter(|&c| c < size).collect();
        bounds.push(0);
        bounds.push(size);
        bounds.sort_unstable();
        bounds.dedup();
        let mut pushes: Vec<(usize, Vec<u8>)> = bounds
            .windows(2)
            .map(|w| (w[0], (w[0]..w[1]).map(|i| i as u8).collect()))
            .collect();
        for (at, len, fill) in extra {
            let at = at % size;
            let len = len.min(size - at);
            pushes.push((at, vec![fill; len]));
        }
        for (i, k) in order.iter().enumerate() {
            let n = pushes.len();
            pushes.swap(i % n, usize::from(*k) % n);
        }
        let mut model: Vec<Option<u8>> = vec![None; size];
        let mut r = Reassembler::new(Limits::default());
        let mut done = None;
        for (at, data) in &pushes {
            for (i, b) in data.iter().enumerate() {
                model[at + i] = Some(*b);
            }
            let range = ByteRange { start: *at as u64 + 1, end: None, total: Some(size as u64) };
            let progress = r.push("m", range, data, ContinuationFlag::Continuation).unwrap();
            let held: u64 = model.iter().filter(|b| b.is_some()).count() as u64;
            if let Progress::Complete(m) = progress {
                done = Some(m.data);
                break;
            }
            prop_assert!(r.buffered_bytes() >= held);
            prop_assert!(r.buffered_bytes() <= held + SEGMENT_OVERHEAD * pushes.len() as u64);
        }
        let data = done.expect("the cover completes the message");
        let expected: Vec<u8> = model.into_iter().map(|b| b.unwrap()).collect();
        prop_assert_eq!(data, expected);
        prop_assert_eq!(r.buffered_bytes(), 0);
        prop_assert_eq!(r.partial_count(), 0);
    }
}

#[test]
fn start_line_kinds_survive_the_round_trip() {
    let spec_msg = b"MSRP x1y2 NICKNAME\r\nTo-Path: msrp://a/s;tcp\r\nFrom-Path: msrp://b/s;tcp\r\n-------x1y2$\r\n";
    let msg = parse_message(spec_msg).unwrap();
    assert_eq!(
        msg.head.start,
        StartLine::Request(Method::Other("NICKNAME"))
    );
}
