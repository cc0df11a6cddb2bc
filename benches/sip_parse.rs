//! SIP parse/write benchmark on a realistic OMA SIMPLE IM INVITE: an ad-hoc
//! group session request to the Conference-factory-URI, multipart/mixed with an
//! MSRP SDP offer and a resource-lists body.
//!
//! Run with `cargo bench --bench sip_parse`. Figures are printed, not asserted.

mod support;

use std::hint::black_box;

use oma_im::sip::framing::Framer;
use oma_im::sip::{parse_message, Limits, Method, SipError};

#[global_allocator]
static A: support::Counting = support::Counting;

/// The INVITE (16 header fields before Content-Type and Content-Length).
const INVITE: &[u8] = include_bytes!("data/oma_im_invite.sip");

/// [`parse_typed`], as a function of its own for `benches/instructions.sh`.
#[inline(never)]
fn parse_typed_row(input: &[u8]) -> Result<usize, SipError> {
    parse_typed(input)
}

/// Parse, then read the start line and Via, From, To, CSeq, Call-ID and
/// Contact as typed values.
fn parse_typed(input: &[u8]) -> Result<usize, SipError> {
    let message = parse_message(input)?;
    let mut score = 0usize;
    if let Some(line) = message.request_line() {
        let method = Method::parse(line.method).map_err(|_| bad())?;
        let uri = message.request_uri().ok_or_else(bad)?;
        score += method.as_str().len() + uri.scheme().len();
    }
    for via in message.via() {
        score += via?.transport.len();
    }
    score += message.from().ok_or_else(bad)??.tag().map_or(0, str::len);
    score += message.to().ok_or_else(bad)??.tag().map_or(0, str::len);
    score += message.cseq().ok_or_else(bad)??.seq as usize;
    score += message.call_id().ok_or_else(bad)??.id.len();
    for contact in message.contact() {
        score += usize::from(contact.is_ok());
    }
    Ok(score)
}

/// The floor of the typed parse, in the manner of httparse: the start line
/// split at its two spaces, and each header line split into a name and a
/// trimmed value slice; nothing checked beyond that, nothing typed.
#[inline(never)]
fn framing_floor<'a>(input: &'a [u8], headers: &mut Vec<(&'a [u8], &'a [u8])>) -> usize {
    headers.clear();
    let mut rest = input;
    let line_end = |s: &[u8]| memchr::memchr(b'\n', s);
    let Some(end) = line_end(rest) else { return 0 };
    let line = &rest[..end];
    let mut parts = line.splitn(3, |&b| b == b' ');
    let score = parts.next().map_or(0, <[u8]>::len) + parts.next().map_or(0, <[u8]>::len);
    rest = &rest[end + 1..];
    while let Some(end) = line_end(rest) {
        let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        rest = &rest[end + 1..];
        if line.is_empty() {
            break;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            return 0;
        };
        let name = line[..colon].trim_ascii_end();
        let value = line[colon + 1..].trim_ascii();
        headers.push((name, value));
    }
    score + headers.len()
}

fn bad() -> SipError {
    SipError::new(oma_im::sip::SipErrorKind::InvalidHeaderValue, 0)
}

/// Iterations per round: `SIP_BENCH_ITERS` (default 20 000). A small count
/// makes the binary cheap to run under `valgrind --tool=callgrind`.
fn iterations() -> u64 {
    std::env::var("SIP_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

/// `true` when the row `name` is selected by `SIP_BENCH_ONLY` (a substring;
/// every row when unset).
fn selected(name: &str) -> bool {
    std::env::var("SIP_BENCH_ONLY").map_or(true, |only| name.contains(&only))
}

fn main() {
    if let Err(e) = parse_typed(INVITE) {
        panic!("the benchmark message must parse and type: {e}");
    }
    println!("message: {} octets", INVITE.len());
    println!(
        "size_of: SipMessage {} B, NameAddr {} B, Uri {} B, Via {} B",
        std::mem::size_of::<oma_im::sip::SipMessage<'_>>(),
        std::mem::size_of::<oma_im::sip::NameAddr<'_>>(),
        std::mem::size_of::<oma_im::sip::Uri<'_>>(),
        std::mem::size_of::<oma_im::sip::Via<'_>>(),
    );
    let iters = iterations();
    let name = "sip parse_message (INVITE)";
    if selected(name) {
        support::measure(name, 10, iters, || {
            parse_message(black_box(INVITE)).map(|m| m.header_count())
        });
    }
    let name = "sip parse + typed start line, Via, From, To, CSeq, Call-ID, Contact";
    let typed = selected(name)
        .then(|| support::measure(name, 10, iters, || parse_typed_row(black_box(INVITE))));
    let name = "  floor: httparse-like framing (start line + header slices)";
    let mut headers = Vec::with_capacity(32);
    let floor = selected(name).then(|| {
        support::measure(name, 10, iters, || {
            framing_floor(black_box(INVITE), &mut headers)
        })
    });
    if let (Some(typed), Some(floor)) = (typed, floor) {
        println!(
            "row typed parse: {:.0} ns vs floor {:.0} ns = {:.1}x (goal <= 2x)",
            typed.ns_per_op,
            floor.ns_per_op,
            typed.ns_per_op / floor.ns_per_op
        );
    }
    let message = parse_message(INVITE).expect("parses");
    let mut out = Vec::with_capacity(4096);
    let name = "sip SipMessage::write into a reused Vec";
    if selected(name) {
        support::measure(name, 10, iters, || {
            out.clear();
            black_box(&message).write(&mut out);
            out.len()
        });
    }
    let mut framer = Framer::new(Limits::default());
    let name = "sip Framer::advance (whole INVITE in one read)";
    if selected(name) {
        support::measure(name, 10, iters, || framer.advance(black_box(INVITE)));
    }
}
