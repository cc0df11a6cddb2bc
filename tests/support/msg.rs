//! Message helpers for flow tests: RFC test messages from `tests/data`,
//! responses built by hand from a request, outputs split by kind.

use std::path::Path;

use oma_im::dialog::{Event, Output, UserAgent};
use oma_im::sip::{parse_message, HeaderName, SipMessage};
use oma_im::transaction::Transmit;

/// A message of RFC 4475 §3, as stored in `tests/data/rfc4475/<name>.dat`.
pub fn rfc4475(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/rfc4475")
        .join(format!("{name}.dat"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A response to `request` as a peer would write it: its Via, From,
/// Call-ID and CSeq, its To with `to_tag`, then `extra` header lines.
pub fn response_for(
    request: &SipMessage<'_>,
    code: u16,
    to_tag: Option<&str>,
    extra: &[&str],
) -> Vec<u8> {
    let mut text = format!("SIP/2.0 {code} Reason\r\n");
    for via in request.header_values(HeaderName::Via) {
        text.push_str(&format!("Via: {}\r\n", via.value));
    }
    text.push_str(&format!(
        "From: {}\r\n",
        request.header(HeaderName::From).unwrap().value
    ));
    let to = request.header(HeaderName::To).unwrap().value;
    match to_tag {
        Some(tag) => text.push_str(&format!("To: {to};tag={tag}\r\n")),
        None => text.push_str(&format!("To: {to}\r\n")),
    }
    text.push_str(&format!(
        "Call-ID: {}\r\n",
        request.header(HeaderName::CallId).unwrap().value
    ));
    text.push_str(&format!(
        "CSeq: {}\r\n",
        request.header(HeaderName::CSeq).unwrap().value
    ));
    for line in extra {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    text.into_bytes()
}

/// Drains `ua`: its transmissions and its events.
pub fn drain(ua: &mut UserAgent) -> (Vec<Transmit>, Vec<Event>) {
    let (mut transmits, mut events) = (Vec::new(), Vec::new());
    while let Some(o) = ua.poll_output() {
        match o {
            Output::Transmit(t) => transmits.push(t),
            Output::Event(e) => events.push(e),
        }
    }
    (transmits, events)
}

/// The start line of a transmission.
pub fn start_line(t: &Transmit) -> String {
    let msg = parse_message(&t.bytes).unwrap();
    match (msg.method(), msg.status_code()) {
        (Some(m), _) => format!("{m} {}", msg.request_line().unwrap().uri),
        (_, Some(c)) => format!("{c} {}", msg.cseq().unwrap().unwrap().method),
        _ => unreachable!(),
    }
}
