//! Writing the requests and responses a session or the switch sends, from
//! pre-serialized path header lines, into a caller's buffer.

use crate::msrp::{
    end_line_in_body, reason_phrase, write_end_line, ByteRange, ContinuationFlag, FailureReport,
    SuccessReport,
};
use crate::rng::Rng;

/// Length of the transact-ids and Message-IDs this crate draws.
pub(crate) const ID_LEN: usize = 16;

/// How many fresh transact-ids are drawn before giving up on a body that
/// holds every one of them (it cannot happen by chance).
const ID_ATTEMPTS: usize = 64;

/// `name: uri SP uri ... CRLF`.
pub(crate) fn path_line(name: &str, uris: &[String]) -> Vec<u8> {
    path_line_text(name, uris).into_bytes()
}

/// [`path_line`] as text.
pub(crate) fn path_line_text(name: &str, uris: &[String]) -> String {
    let mut out = String::with_capacity(64);
    out.push_str(name);
    out.push_str(": ");
    for (i, uri) in uris.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(uri);
    }
    out.push_str("\r\n");
    out
}

/// Where an end-line's transact-id could start in a body: just past each
/// `-------` that begins a line of it (RFC 4975 §7.1.1). Found with one scan
/// of the body, then checked against any number of transact-ids without
/// scanning it again (the switch draws one per leg for the same chunk).
#[derive(Debug, Clone, Default)]
pub(crate) struct EndLineStarts {
    starts: smallvec::SmallVec<[usize; 4]>,
}

impl EndLineStarts {
    /// The candidate positions in `body`.
    pub(crate) fn scan(body: &[u8]) -> Self {
        let mut starts = smallvec::SmallVec::new();
        if body.starts_with(b"-------") {
            starts.push(7);
        }
        // Each hyphen is looked at (one byte search), and only where it
        // follows CRLF is the rest compared.
        for at in memchr::memchr_iter(b'-', body) {
            let after_crlf = at
                .checked_sub(2)
                .and_then(|crlf| body.get(crlf..at))
                .is_some_and(|crlf| crlf == b"\r\n");
            if after_crlf
                && body
                    .get(at..)
                    .is_some_and(|rest| rest.starts_with(b"-------"))
            {
                starts.push(at + 7);
            }
        }
        Self { starts }
    }

    /// Whether `transact_id` would end `body` early, as
    /// [`end_line_in_body`] says.
    pub(crate) fn ends_body(&self, body: &[u8], transact_id: &[u8]) -> bool {
        self.starts.iter().any(|&at| {
            body.get(at..)
                .is_some_and(|rest| rest.starts_with(transact_id))
        })
    }
}

/// Puts into `out` a fresh transact-id that does not end `body` early
/// (RFC 4975 §7.1.1). `false` when none was found.
pub(crate) fn fresh_transact_id(rng: &mut Rng, body: &[u8], out: &mut String) -> bool {
    let starts = if body.is_empty() {
        EndLineStarts::default()
    } else {
        EndLineStarts::scan(body)
    };
    for _ in 0..ID_ATTEMPTS {
        out.clear();
        rng.fill_token(out, ID_LEN);
        if !starts.ends_body(body, out.as_bytes()) {
            debug_assert!(!end_line_in_body(body, out));
            return true;
        }
    }
    false
}

/// [`fresh_transact_id`] as bytes (the same characters from the same
/// draws), with the end-line candidates of `body` found already: what the
/// switch draws for each leg's copy of a chunk.
pub(crate) fn fresh_transact_id_in(
    rng: &mut Rng,
    body: &[u8],
    starts: &EndLineStarts,
    out: &mut [u8; ID_LEN],
) -> bool {
    for _ in 0..ID_ATTEMPTS {
        rng.fill_token_bytes(out);
        if !starts.ends_body(body, out) {
            debug_assert!(std::str::from_utf8(out).is_ok_and(|id| !end_line_in_body(body, id)));
            return true;
        }
    }
    false
}

/// The headers of a SEND besides its paths.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SendFields<'a> {
    pub message_id: &'a str,
    pub success_report: Option<SuccessReport>,
    pub failure_report: Option<FailureReport>,
    pub byte_range: Option<ByteRange>,
    pub content_type: Option<&'a str>,
}

fn header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// A SEND in the header order of [`MsrpHead::write`](crate::msrp::MsrpHead::write).
pub(crate) fn write_send(
    out: &mut Vec<u8>,
    transact_id: &str,
    to_line: &[u8],
    from_line: &[u8],
    fields: &SendFields<'_>,
    body: Option<&[u8]>,
    flag: ContinuationFlag,
) {
    out.extend_from_slice(b"MSRP ");
    out.extend_from_slice(transact_id.as_bytes());
    out.extend_from_slice(b" SEND\r\n");
    out.extend_from_slice(to_line);
    out.extend_from_slice(from_line);
    let body = body.filter(|_| fields.content_type.is_some());
    write_send_fields(out, fields, body.is_some());
    if let Some(body) = body {
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    write_end_line(out, transact_id, flag);
}

/// The headers of a SEND after its paths, as [`write_send`] writes them:
/// with `has_body` (and a content type), the Content-Type and the blank
/// line before the body. The switch writes them once for the copies of a
/// chunk to every leg.
pub(crate) fn write_send_fields(out: &mut Vec<u8>, fields: &SendFields<'_>, has_body: bool) {
    header(out, b"Message-ID", fields.message_id.as_bytes());
    if let Some(report) = fields.success_report {
        header(out, b"Success-Report", report.as_str().as_bytes());
    }
    if let Some(report) = fields.failure_report {
        header(out, b"Failure-Report", report.as_str().as_bytes());
    }
    if let Some(range) = fields.byte_range {
        out.extend_from_slice(b"Byte-Range: ");
        range.write(out);
        out.extend_from_slice(b"\r\n");
    }
    if let (true, Some(ct)) = (has_body, fields.content_type) {
        header(out, b"Content-Type", ct.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// The transaction response of RFC 4975 §7.2: To-Path the first URI of the
/// request's From-Path, From-Path the first URI of its To-Path, given as the
/// two path lines (CRLF included).
pub(crate) fn write_response(
    out: &mut Vec<u8>,
    transact_id: &str,
    code: u16,
    to_line: &[u8],
    from_line: &[u8],
) {
    out.extend_from_slice(b"MSRP ");
    out.extend_from_slice(transact_id.as_bytes());
    out.push(b' ');
    write_code(out, code);
    if let Some(phrase) = reason_phrase(code) {
        out.push(b' ');
        out.extend_from_slice(phrase.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(to_line);
    out.extend_from_slice(from_line);
    write_end_line(out, transact_id, ContinuationFlag::Complete);
}

/// A REPORT (RFC 4975 §7.1.2) with `Status: 000 <code> <reason>`.
pub(crate) fn write_report(
    out: &mut Vec<u8>,
    transact_id: &str,
    to_line: &[u8],
    from_line: &[u8],
    message_id: &str,
    byte_range: ByteRange,
    code: u16,
) {
    out.extend_from_slice(b"MSRP ");
    out.extend_from_slice(transact_id.as_bytes());
    out.extend_from_slice(b" REPORT\r\n");
    out.extend_from_slice(to_line);
    out.extend_from_slice(from_line);
    header(out, b"Message-ID", message_id.as_bytes());
    out.extend_from_slice(b"Byte-Range: ");
    byte_range.write(out);
    out.extend_from_slice(b"\r\nStatus: 000 ");
    write_code(out, code);
    if let Some(phrase) = reason_phrase(code) {
        out.push(b' ');
        out.extend_from_slice(phrase.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    write_end_line(out, transact_id, ContinuationFlag::Complete);
}

fn write_code(out: &mut Vec<u8>, code: u16) {
    let code = code.min(999);
    out.extend_from_slice(&[
        b'0' + (code / 100) as u8,
        b'0' + (code / 10 % 10) as u8,
        b'0' + (code % 10) as u8,
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msrp::{parse_message, Method, StartLine};

    /// Every position just past `CRLF "-------"`, or past a leading
    /// `"-------"`, found by comparing at every offset.
    fn reference_starts(body: &[u8]) -> Vec<usize> {
        let mut starts: Vec<usize> = body
            .windows(9)
            .enumerate()
            .filter(|(_, w)| *w == b"\r\n-------")
            .map(|(at, _)| at + 9)
            .collect();
        if body.starts_with(b"-------") {
            starts.insert(0, 7);
        }
        starts
    }

    #[test]
    fn end_line_candidates_are_every_hyphen_run_after_crlf() {
        let bodies: [&[u8]; 9] = [
            b"",
            b"-------abc",
            b"------",
            b"x\r\n-------id$\r\n",
            b"\r\n------ six only\r\n--------- nine\r\n-------",
            b"--\r\n-\r\r\n-------\n-------\r-------",
            b"\r\n-----",
            b"a-b-c\r\n-------\r\n-------",
            b"-------\r\n-------",
        ];
        for body in bodies {
            let found = EndLineStarts::scan(body);
            assert_eq!(found.starts.to_vec(), reference_starts(body), "{body:?}");
        }
        let mut long = vec![b'-'; 300];
        long.extend_from_slice(b"\r\n");
        long.extend(std::iter::repeat_n(b'-', 300));
        assert_eq!(
            EndLineStarts::scan(&long).starts.to_vec(),
            reference_starts(&long)
        );
    }

    /// The pieces a body is made of, look-alike end-lines among them.
    const PIECES: [&[u8]; 8] = [b"a", b"\r\n", b"-------", b"-", b"\r", b"\n", b"tid1", b"$"];

    proptest::proptest! {
        /// The stream parser says a body has a line starting with hyphens
        /// exactly when the scan a relay would otherwise make finds an
        /// end-line candidate in it, however the message is split.
        #[test]
        fn the_receiving_scan_sees_the_candidates_the_relay_scan_finds(
            pieces in proptest::collection::vec(0..PIECES.len(), 0..40),
            cuts in proptest::collection::vec(1usize..40, 1..8),
        ) {
            let body: Vec<u8> = pieces.iter().flat_map(|&p| PIECES[p].iter().copied()).collect();
            let mut wire = b"MSRP tid1 SEND\r\nTo-Path: msrp://b.example.com:1/s;tcp\r\n\
                From-Path: msrp://a.example.com:2/t;tcp\r\nMessage-ID: m1\r\n\
                Content-Type: text/plain\r\n\r\n".to_vec();
            wire.extend_from_slice(&body);
            wire.extend_from_slice(b"\r\n-------tid1$\r\n");
            let mut parser = crate::msrp::MsrpStreamParser::new(crate::msrp::Limits::default());
            let (mut delivered, mut ended) = (Vec::new(), false);
            let mut rest = &wire[..];
            let mut cut = cuts.iter().cycle();
            while !rest.is_empty() && !ended {
                let n = (*cut.next().unwrap_or(&1)).min(rest.len());
                parser.feed(&rest[..n]);
                rest = &rest[n..];
                while let Some(event) = parser.next_event().expect("parses") {
                    match event {
                        crate::msrp::StreamEvent::BodyData(d) => delivered.extend_from_slice(d),
                        crate::msrp::StreamEvent::End(_) => ended = true,
                        crate::msrp::StreamEvent::Head { .. } => {}
                    }
                    if ended {
                        break;
                    }
                }
            }
            proptest::prop_assert!(ended);
            proptest::prop_assert_eq!(
                parser.body_has_line_starts(),
                !EndLineStarts::scan(&delivered).starts.is_empty(),
                "{:?}", String::from_utf8_lossy(&delivered)
            );
        }
    }

    #[test]
    fn written_send_and_response_parse_back() {
        let to = path_line("To-Path", &["msrp://b.example.com:1/s;tcp".to_owned()]);
        let from = path_line("From-Path", &["msrp://a.example.com:2/t;tcp".to_owned()]);
        let fields = SendFields {
            message_id: "m1",
            success_report: Some(SuccessReport::Yes),
            failure_report: None,
            byte_range: Some(ByteRange {
                start: 1,
                end: Some(2),
                total: Some(2),
            }),
            content_type: Some("text/plain"),
        };
        let mut out = Vec::new();
        write_send(
            &mut out,
            "tid1",
            &to,
            &from,
            &fields,
            Some(b"hi"),
            ContinuationFlag::Complete,
        );
        let msg = parse_message(&out).expect("SEND parses");
        assert_eq!(msg.head.start, StartLine::Request(Method::Send));
        assert_eq!(msg.body, Some(&b"hi"[..]));
        assert_eq!(msg.head.success_report, Some(SuccessReport::Yes));

        let mut out = Vec::new();
        write_response(
            &mut out,
            "tid1",
            415,
            b"To-Path: msrp://a.example.com:2/t;tcp\r\n",
            b"From-Path: msrp://b.example.com:1/s;tcp\r\n",
        );
        let msg = parse_message(&out).expect("response parses");
        assert!(matches!(
            msg.head.start,
            StartLine::Response { code: 415, .. }
        ));
    }
}
