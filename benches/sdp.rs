//! SDP benchmarks: parsing a realistic OMA IM offer, writing it, and
//! building the answer (as an IM Client and as the controlling IM Server).

mod support;

use std::hint::black_box;

use oma_im::sdp::offer_answer::{answer, answer_for_inviter, negotiate, LocalParameters, Side};
use oma_im::sdp::{AcceptTypes, SessionDescription};

#[global_allocator]
static A: support::Counting = support::Counting;

/// An ad-hoc IM conference offer as an OMA IM Client sends it (7.1.1.3).
const OFFER: &[u8] = b"v=0\r\n\
o=- 3890844526 3890844526 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=message 2855 TCP/MSRP *\r\n\
a=accept-types:message/cpim text/plain\r\n\
a=accept-wrapped-types:text/plain image/jpeg image/gif text/html\r\n\
a=max-size:131072\r\n\
a=path:msrp://192.0.2.10:2855/kx8s0ZyD;tcp\r\n\
a=setup:actpass\r\n\
a=connection:new\r\n\
a=sendrecv\r\n";

/// An invitee's answer as the controlling IM Server receives it.
const INVITEE_ANSWER: &[u8] = b"v=0\r\n\
o=- 771 1 IN IP6 2001:db8::2\r\n\
s=-\r\n\
c=IN IP6 2001:db8::2\r\n\
t=0 0\r\n\
m=message 8888 TCP/MSRP *\r\n\
a=accept-types:message/cpim\r\n\
a=accept-wrapped-types:text/*\r\n\
a=path:msrp://[2001:db8::2]:8888/b0b;tcp\r\n\
a=setup:active\r\n\
a=sendrecv\r\n";

/// Iterations per round: `SDP_BENCH_ITERS` (for a profile under
/// callgrind), else `full`.
fn iters(full: u64) -> u64 {
    std::env::var("SDP_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(full)
}

/// [`SessionDescription::parse`] as a function of its own, for a profile.
#[inline(never)]
fn parse_offer(offer: &[u8]) -> usize {
    SessionDescription::parse(offer).map_or(0, |s| s.media.len())
}

fn main() {
    let mut local = LocalParameters::new(
        42,
        1,
        "198.51.100.7",
        2855,
        "msrp://198.51.100.7:2855/c0nf;tcp",
    );
    local.accept_types = AcceptTypes::from_iter(["message/cpim", "text/*"]);
    local.accept_wrapped_types = Some(AcceptTypes::from_iter(["*"]));
    local.max_size = Some(65_536);

    support::measure("sdp parse OMA IM offer", 10, iters(200_000), || {
        parse_offer(black_box(OFFER))
    });

    let parsed = SessionDescription::parse(OFFER).expect("offer");
    let mut out = Vec::with_capacity(1024);
    support::measure(
        "sdp write OMA IM offer (reused buffer)",
        10,
        iters(200_000),
        || {
            out.clear();
            black_box(&parsed).write(&mut out);
            out.len()
        },
    );

    support::measure("sdp parse + answer + write", 10, iters(100_000), || {
        out.clear();
        let offer = SessionDescription::parse(black_box(OFFER)).expect("offer");
        answer(&offer, &local).write(&mut out);
        out.len()
    });

    support::measure("sdp answer only (parsed offer)", 10, iters(200_000), || {
        answer(black_box(&parsed), &local).media.len()
    });

    let invitee = SessionDescription::parse(INVITEE_ANSWER).expect("invitee answer");
    support::measure(
        "sdp answer_for_inviter (parsed inputs)",
        10,
        iters(200_000),
        || {
            answer_for_inviter(black_box(&parsed), black_box(&invitee), &local)
                .media
                .len()
        },
    );

    let built = answer(&parsed, &local);
    support::measure("sdp negotiate", 10, iters(200_000), || {
        negotiate(black_box(&built), black_box(&parsed), Side::Answerer).map(|n| n.is_active())
    });
}
