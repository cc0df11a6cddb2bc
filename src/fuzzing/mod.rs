//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`).
//!
//! Each target in `fuzz/fuzz_targets/<name>.rs` calls the function registered
//! under `<name>` in [`TARGETS`] directly (not through [`run`], which reaches
//! every target and would link them all into each binary); `tests/fuzz_corpus.rs` replays every file of
//! `fuzz/corpus/<name>/` through the same function on stable Rust. A target
//! must never panic, whatever its input.

pub mod group;
pub mod im_client;
pub mod im_history;
pub mod im_server;
pub mod mime;
pub mod msrp;
pub mod msrp_session;
pub mod msrp_switch;
pub mod sdp;
pub mod sip;
pub mod sip_values;
pub mod ua;
pub mod xml;

/// Most operations one input of a role target (`ua_events`,
/// `im_client_events`, `im_server_events`, `im_history_events`) drives; the
/// rest of a longer input is ignored. Each operation moves whole SIP
/// exchanges, so this bound keeps a run short (the role targets run at
/// thousands of inputs a second on one core) while a sequence is still long
/// enough to set up, use and tear down several sessions.
pub const ROLE_STEPS: usize = 48;

/// A fuzz entry point: takes arbitrary bytes, must not panic.
pub type Target = fn(&[u8]);

/// Every fuzz target, by the name of its file in `fuzz/fuzz_targets/` and of its
/// corpus directory in `fuzz/corpus/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("conference_info_parse", xml::conference_info_parse),
    ("cpim_parse", mime::cpim_parse),
    ("group_session", group::group_session),
    ("im_client_events", im_client::im_client_events),
    ("im_history_events", im_history::im_history_events),
    ("im_server_events", im_server::im_server_events),
    ("imdn_parse", xml::imdn_parse),
    ("iscomposing_parse", xml::iscomposing_parse),
    ("msrp_parse_message", msrp::msrp_parse_message),
    ("msrp_session_events", msrp_session::msrp_session_events),
    ("msrp_stream", msrp::msrp_stream),
    ("msrp_switch_events", msrp_switch::msrp_switch_events),
    ("multipart_parse", mime::multipart_parse),
    ("resource_lists_parse", xml::resource_lists_parse),
    ("sdp_parse", sdp::sdp_parse),
    ("sip_parse_message", sip::sip_parse_message),
    ("sip_stream_framing", sip::sip_stream_framing),
    ("sip_uri", sip_values::sip_uri),
    ("sip_values", sip_values::sip_values),
    ("ua_events", ua::ua_events),
];

/// Runs the target registered under `name` on `data`.
///
/// # Panics
///
/// When no target has that name: a wiring mistake in `fuzz/`, never a reaction
/// to the data.
pub fn run(name: &str, data: &[u8]) {
    let (_, target) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target named {name}"));
    target(data);
}

/// Checks a transmitted SIP message that does not parse: it must be a
/// stateless 400 or 505 answer to a malformed request, which echoes the
/// request's From, To, Call-ID and CSeq as found, or lacks them as the
/// request did (RFC 4475 §3.3.1), sent along a top Via that parses.
fn check_stateless_answer(bytes: &[u8], error: &crate::sip::SipError) {
    use crate::sip::{CommaSplit, HeaderName, ValueLimits, Via};
    let text = String::from_utf8_lossy(bytes);
    assert!(
        text.starts_with("SIP/2.0 400 ") || text.starts_with("SIP/2.0 505 "),
        "an unparsable SIP message was sent ({error}):\n{text}"
    );
    let top = text.lines().skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (HeaderName::parse(name.trim()) == HeaderName::Via)
            .then(|| CommaSplit::new(value.trim()).next().map(|(_, v)| v))
            .flatten()
    });
    assert!(
        top.is_some_and(|v| Via::parse_with(v, &ValueLimits::default()).is_ok()),
        "a stateless answer without a top Via that parses:\n{text}"
    );
}
