//! SIP value parsers: URIs, name-addrs, Via and Contact lists, and the typed
//! accessors over a parsed OMA SIMPLE IM INVITE. Each figure is one parse (or
//! one write into a reused buffer); allocations are counted.
//!
//! Run with `cargo bench --bench sip_values`. Figures are printed, not asserted.

mod support;

use std::hint::black_box;

use oma_im::sip::value;
use oma_im::sip::{
    parse_message, AcceptContact, Contact, ContentType, NameAddr, SipMessage, Uri, Via,
};

#[global_allocator]
static A: support::Counting = support::Counting;

const URI: &str = "sip:alice@atlanta.example.com:5061;transport=tls;lr;maddr=192.0.2.1";
const URI_V6: &str = "sips:bob@[2001:db8::10]:5061;transport=tcp?subject=project%20x";
const FROM: &str = "\"Alice \\\"A\\\" Smith\" <sip:alice@example.com;user=phone>;tag=1928301774";
const VIA: &str = "SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.1;rport=5060, SIP/2.0/TCP [2001:db8::9:1];branch=z9hG4bKnashds8";
const CONTACT: &str =
    "<sip:conf-1@im.example.com;gr>;isfocus;+g.oma.sip-im;+g.oma.sip-im.large-message;expires=3600";
const ACCEPT_CONTACT: &str = "*;+g.oma.sip-im;require;explicit";
const CONTENT_TYPE: &str = "multipart/mixed;boundary=\"boundary1\"";

const INVITE: &[u8] = b"INVITE sip:conference-factory@im.example.com SIP/2.0\r\n\
Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2,\r\n SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK1;received=192.0.2.4\r\n\
Max-Forwards: 69\r\n\
Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n\
To: <sip:conference-factory@im.example.com>\r\n\
From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@192.0.2.4;gr>;+g.oma.sip-im;+g.oma.sip-im.large-message\r\n\
Accept-Contact: *;+g.oma.sip-im;require;explicit\r\n\
Allow: INVITE, ACK, BYE, CANCEL, MESSAGE\r\n\
Supported: timer, 100rel, recipient-list-invite\r\n\
Session-Expires: 1800;refresher=uac\r\n\
P-Preferred-Identity: <sip:alice@example.com>\r\n\
User-Agent: IM-client/OMA1.0 (bench)\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 0\r\n\r\n";

/// Reads every typed header the accessors offer for this INVITE.
fn read_all(msg: &SipMessage<'_>) -> usize {
    let mut n = 0;
    n += msg.via().filter(Result::is_ok).count();
    n += usize::from(msg.from().is_some_and(|f| f.is_ok()));
    n += usize::from(msg.to().is_some_and(|f| f.is_ok()));
    n += usize::from(msg.cseq().is_some_and(|f| f.is_ok()));
    n += usize::from(msg.call_id().is_some_and(|f| f.is_ok()));
    n += msg.route().filter(Result::is_ok).count();
    n += msg.contact().filter(Result::is_ok).count();
    n += msg.accept_contact().filter(Result::is_ok).count();
    n += msg.allow().and_then(Result::ok).map_or(0, |a| a.len());
    n += msg.supported().and_then(Result::ok).map_or(0, |s| s.len());
    n += usize::from(msg.session_expires().is_some_and(|f| f.is_ok()));
    n += msg.p_preferred_identity().filter(Result::is_ok).count();
    n += usize::from(msg.user_agent().is_some_and(|f| f.is_ok()));
    n += usize::from(msg.content_type().is_some_and(|f| f.is_ok()));
    n
}

/// Iterations per round: `SIP_BENCH_ITERS` (default 200 000). A small count
/// makes the binary cheap to run under `valgrind --tool=callgrind`.
fn iterations() -> u64 {
    std::env::var("SIP_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000)
}

/// Runs `op` as the row `name` when `SIP_BENCH_ONLY` (a substring) selects
/// it, or when it is unset.
fn measure<R>(name: &str, rounds: u32, iters: u64, op: impl FnMut() -> R) {
    if std::env::var("SIP_BENCH_ONLY").map_or(true, |only| name.contains(&only)) {
        support::measure(name, rounds, iters, op);
    }
}

fn main() {
    const ROUNDS: u32 = 5;
    let iters = iterations();
    measure("Uri::parse (sip, 3 params)", ROUNDS, iters, || {
        Uri::parse(black_box(URI)).is_ok()
    });
    measure("Uri::parse (sips, IPv6, header)", ROUNDS, iters, || {
        Uri::parse(black_box(URI_V6)).is_ok()
    });
    let uri = Uri::parse(URI).expect("bench URI");
    let mut out = Vec::with_capacity(256);
    measure("Uri::write (reused buffer)", ROUNDS, iters, || {
        out.clear();
        uri.write(&mut out);
        out.len()
    });
    let u1 = Uri::parse(URI).expect("bench URI");
    let u2 = Uri::parse("SIP:alice@ATLANTA.example.com:5061;lr;maddr=192.0.2.1;transport=TLS")
        .expect("bench URI");
    measure("Uri::uri_eq (§19.1.4)", ROUNDS, iters, || {
        black_box(&u1).uri_eq(black_box(&u2))
    });
    measure("NameAddr::parse (quoted name, tag)", ROUNDS, iters, || {
        NameAddr::parse(black_box(FROM)).is_ok()
    });
    measure("value::list::<Via> (2 vias)", ROUNDS, iters, || {
        value::list::<Via>(black_box(VIA))
            .filter(Result::is_ok)
            .count()
    });
    measure(
        "Contact::parse (focus, 3 feature tags)",
        ROUNDS,
        iters,
        || Contact::parse(black_box(CONTACT)).is_ok(),
    );
    measure("AcceptContact::parse", ROUNDS, iters, || {
        AcceptContact::parse(black_box(ACCEPT_CONTACT)).is_ok()
    });
    measure(
        "ContentType::parse (quoted boundary)",
        ROUNDS,
        iters,
        || ContentType::parse(black_box(CONTENT_TYPE)).is_ok(),
    );
    let msg = parse_message(INVITE).expect("bench INVITE");
    assert_eq!(read_all(&msg), 22, "every accessor reads its header");
    measure(
        "accessors: 14 typed headers of an INVITE",
        ROUNDS,
        iters / 10,
        || read_all(black_box(&msg)),
    );
}
