//! Reading the simulator's wire log ([`oma_im::sim::Sim::wire`]): SIP
//! requests and responses by method and status, parsed, and their header
//! values.

use oma_im::sim::{WireKind, WireRecord};
use oma_im::sip::{parse_message, HeaderName, SipMessage};

/// Whether a record is a SIP message (not MSRP, not a connection event).
pub fn is_sip(record: &WireRecord) -> bool {
    matches!(record.kind, WireKind::Sip(_))
}

/// The SIP requests (method `method`) on the wire log, each distinct
/// message once (retransmissions and duplicates left out), in order.
pub fn sip_requests<'w>(wire: &'w [WireRecord], method: &str) -> Vec<&'w WireRecord> {
    let prefix = format!("{method} ");
    distinct(wire, &prefix)
}

/// The SIP responses with `status` on the wire log (first copy of each).
pub fn sip_responses(wire: &[WireRecord], status: u16) -> Vec<&WireRecord> {
    let prefix = format!("SIP/2.0 {status} ");
    distinct(wire, &prefix)
}

fn distinct<'w>(wire: &'w [WireRecord], prefix: &str) -> Vec<&'w WireRecord> {
    let mut seen: Vec<&[u8]> = Vec::new();
    wire.iter()
        .filter(|r| is_sip(r) && r.bytes.starts_with(prefix.as_bytes()))
        .filter(|r| {
            if seen.contains(&r.bytes.as_slice()) {
                false
            } else {
                seen.push(&r.bytes);
                true
            }
        })
        .collect()
}

/// Parses a wire record as SIP (panics if it is not).
pub fn parsed(record: &WireRecord) -> SipMessage<'_> {
    parse_message(&record.bytes).expect("SIP on the wire parses")
}

/// The values of header `name` of `msg`.
pub fn values<'m>(msg: &'m SipMessage<'_>, name: &str) -> Vec<&'m str> {
    msg.header_values(HeaderName::parse(name))
        .map(|h| h.value)
        .collect()
}
