//! Fuzz entry point for the SDP codec and the offer/answer helpers.

use crate::sdp::offer_answer::{
    answer, answer_for_inviter, negotiate, offer, LocalParameters, Side,
};
use crate::sdp::{Limits, SessionDescription};

/// Limits for re-parsing what the crate wrote: the canonical form may be
/// longer than the input (CRLF for LF) and an answer may hold more lines.
const UNBOUNDED: Limits = Limits {
    max_size: usize::MAX,
    max_lines: usize::MAX,
    max_media: usize::MAX,
    max_attributes: usize::MAX,
    max_path_uris: usize::MAX,
    max_accept_types: usize::MAX,
};

/// `sdp_parse`: parses `data`; on success checks that the canonical form
/// parses back to an equal description and is a fixed point of
/// write → parse → write, then answers the description as an offer (as an
/// endpoint and as the controlling server) and checks that every answer
/// parses back equal and negotiates without panicking.
pub fn sdp_parse(data: &[u8]) {
    let Ok(parsed) = SessionDescription::parse(data) else {
        return;
    };
    let written = parsed.to_bytes();
    let reparsed = match SessionDescription::parse_with_limits(&written, &UNBOUNDED) {
        Ok(reparsed) => reparsed,
        Err(e) => panic!("canonical form does not parse: {e}"),
    };
    // `SessionDescription` is invariant in its lifetime: compare owned copies.
    let parsed_owned = parsed.to_owned_description();
    assert_eq!(
        parsed_owned,
        reparsed.into_owned(),
        "write -> parse changed the description"
    );
    assert_eq!(
        written,
        parsed_owned.to_bytes(),
        "canonical form is not a fixed point"
    );

    let mut local =
        LocalParameters::new(7, 1, "2001:db8::7", 2855, "msrp://[2001:db8::7]:2855/s;tcp");
    local.accept_types = ["text/*", "message/cpim"].into_iter().collect();
    let answered = answer(&parsed, &local);
    check_round_trip(&answered);
    assert_eq!(
        answered.media.len(),
        parsed.media.len(),
        "one answer line per offered line"
    );
    let _ = negotiate(&answered, &parsed, Side::Answerer);
    let _ = negotiate(&parsed, &answered, Side::Offerer);

    let inviter_answer = answer_for_inviter(&parsed, &answered, &local);
    check_round_trip(&inviter_answer);
    assert_eq!(
        inviter_answer.media.len(),
        parsed.media.len(),
        "one answer line per offered line"
    );
    let _ = negotiate(&offer(&local), &parsed, Side::Offerer);
}

fn check_round_trip(description: &SessionDescription<'_>) {
    let bytes = description.to_bytes();
    let back = match SessionDescription::parse_with_limits(&bytes, &UNBOUNDED) {
        Ok(back) => back.into_owned(),
        Err(e) => panic!("built description does not parse: {e}"),
    };
    assert_eq!(
        back,
        description.to_owned_description(),
        "built description does not round-trip"
    );
}
