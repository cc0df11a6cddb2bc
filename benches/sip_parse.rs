//! SIP parse/write benchmark on a realistic OMA SIMPLE IM INVITE: an ad-hoc
//! group session request to the Conference-factory-URI, multipart/mixed with an
//! MSRP SDP offer and a resource-lists body.
//!
//! Run with `cargo bench --bench sip_parse`. Figures are printed, not asserted.

mod support;

use std::hint::black_box;

use oma_im::sip::framing::Framer;
use oma_im::sip::{parse_message, Limits, Method, SipError, Uri};

#[global_allocator]
static A: support::Counting = support::Counting;

/// The INVITE (16 header fields before Content-Type and Content-Length).
const INVITE: &[u8] = include_bytes!("data/oma_im_invite.sip");

/// Parse, then read the start line and Via, From, To, CSeq, Call-ID and
/// Contact as typed values.
fn parse_typed(input: &[u8]) -> Result<usize, SipError> {
    let message = parse_message(input)?;
    let mut score = 0usize;
    if let Some(line) = message.request_line() {
        let method = Method::parse(line.method).map_err(|_| bad())?;
        let uri = Uri::parse(line.uri).map_err(|_| bad())?;
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

fn bad() -> SipError {
    SipError::new(oma_im::sip::SipErrorKind::InvalidHeaderValue, 0)
}

fn main() {
    if let Err(e) = parse_typed(INVITE) {
        panic!("the benchmark message must parse and type: {e}");
    }
    println!("message: {} octets", INVITE.len());
    support::measure("sip parse_message (INVITE)", 10, 20_000, || {
        parse_message(black_box(INVITE)).map(|m| m.header_count())
    });
    support::measure(
        "sip parse + typed start line, Via, From, To, CSeq, Call-ID, Contact",
        10,
        20_000,
        || parse_typed(black_box(INVITE)),
    );
    let message = parse_message(INVITE).expect("parses");
    let mut out = Vec::with_capacity(4096);
    support::measure(
        "sip SipMessage::write into a reused Vec",
        10,
        20_000,
        || {
            out.clear();
            black_box(&message).write(&mut out);
            out.len()
        },
    );
    let mut framer = Framer::new(Limits::default());
    support::measure(
        "sip Framer::advance (whole INVITE in one read)",
        10,
        20_000,
        || framer.advance(black_box(INVITE)),
    );
}
