//! Hostile inputs through the public API: each case is rejected with its
//! typed error (or reassembled within budget), and the bytes the crate holds
//! while doing so are bounded — measured with a counting allocator, never a
//! wall-clock time.
//!
//! The allocator counts per thread (each test runs on its own thread), so
//! tests running side by side do not see each other's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant;

use oma_im::body::conference_info::ConferenceInfo;
use oma_im::body::cpim::CpimMessage;
use oma_im::body::mime::{MimeErrorKind, MimeLimits};
use oma_im::body::multipart::Multipart;
use oma_im::body::resource_lists::ResourceLists;
use oma_im::body::xml::{XmlErrorKind, XmlLimits};
use oma_im::msrp::{ByteRange, ContinuationFlag, Limit, Limits, Progress, Reassembler};
use oma_im::msrp::{ReassemblyError, SEGMENT_OVERHEAD};
use oma_im::sip::{parse_message_with, SipErrorKind};

/// Counts the live bytes and their peak of the current thread.
struct Counting;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn add(delta: i64) {
    // `try_with`: the thread-locals may be gone while a thread ends.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are thread-local cells that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as i64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as i64);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the peak of bytes it held above
/// what was live when it started.
fn peak_held<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    let peak = PEAK.with(Cell::get) - base;
    (r, u64::try_from(peak).unwrap_or(0))
}

const MIB: u64 = 1024 * 1024;

// ---- XML --------------------------------------------------------------

/// Resource lists nested 100 000 deep, with the depth limit raised to the
/// largest value the API accepts, parsed on a thread with a 256 KiB stack:
/// rejected at the ceiling, no stack overflow.
#[test]
fn xml_nested_100_000_deep_with_the_depth_limit_at_its_maximum() {
    let depth = 100_000;
    let mut doc = String::from(
        "<?xml version=\"1.0\"?><resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">",
    );
    doc.push_str(&"<list>".repeat(depth));
    doc.push_str(&"</list>".repeat(depth));
    doc.push_str("</resource-lists>");
    let limits = XmlLimits {
        max_depth: usize::MAX,
        max_document_size: usize::MAX,
        ..XmlLimits::default()
    };
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            peak_held(|| {
                ResourceLists::parse(doc.as_bytes(), &limits)
                    .map(|_| ())
                    .map_err(|e| e.kind)
            })
        })
        .unwrap();
    let (result, held) = handle.join().expect("no stack overflow");
    assert_eq!(
        result,
        Err(XmlErrorKind::TooDeep {
            limit: XmlLimits::DEPTH_CEILING
        })
    );
    assert!(held < MIB, "held {held} bytes");
}

/// Nesting at the ceiling itself parses, writes and drops on a small stack.
#[test]
fn xml_nested_at_the_ceiling_parses_writes_and_drops_on_a_small_stack() {
    let lists = XmlLimits::DEPTH_CEILING - 2; // the root is depth 1, the entry the deepest
    let mut doc = String::from(
        "<?xml version=\"1.0\"?><resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">",
    );
    doc.push_str(&"<list>".repeat(lists));
    doc.push_str("<entry uri=\"sip:deep@example.com\"/>");
    doc.push_str(&"</list>".repeat(lists));
    doc.push_str("</resource-lists>");
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let limits = XmlLimits {
                max_depth: usize::MAX,
                ..XmlLimits::default()
            };
            let parsed = ResourceLists::parse(doc.as_bytes(), &limits).expect("parses");
            let mut out = Vec::new();
            parsed.write(&mut out);
            let again = ResourceLists::parse(&out, &limits).expect("written form parses");
            again.entries().count()
        })
        .unwrap();
    assert_eq!(handle.join().expect("no stack overflow"), 1);
}

// ---- MSRP reassembly ----------------------------------------------------

fn chunk_at(
    r: &mut Reassembler,
    id: &str,
    start: u64,
    total: u64,
    data: &[u8],
) -> Result<Progress, ReassemblyError> {
    r.push(
        id,
        ByteRange {
            start,
            end: None,
            total: Some(total),
        },
        data,
        ContinuationFlag::Continuation,
    )
}

/// 16 one-byte chunks at the far end of 16 MiB messages (about 3 KB of
/// input once framed) hold about what arrived, not 16 × 16 MiB.
#[test]
fn msrp_sparse_far_end_chunks_hold_what_arrived() {
    let total = 16 * MIB;
    let ((), held) = peak_held(|| {
        let mut r = Reassembler::new(Limits::default());
        for i in 0..16 {
            let progress = chunk_at(&mut r, &format!("m{i}"), total, total, b"x").unwrap();
            assert_eq!(progress, Progress::Incomplete);
        }
        assert_eq!(r.partial_count(), 16);
        assert_eq!(r.buffered_bytes(), 16 * (1 + SEGMENT_OVERHEAD));
        std::hint::black_box(&r);
    });
    assert!(held < 64 * 1024, "held {held} bytes for 16 bytes received");
}

/// 1 000 000 one-byte chunks, none touching another, in one message: the
/// buffer budget stops it (413 at the receiver), and the memory held never
/// goes far past the budget.
#[test]
fn msrp_a_million_scattered_one_byte_chunks_hit_the_buffer_budget() {
    let limits = Limits {
        max_buffered_bytes: 4 * MIB,
        ..Limits::default()
    };
    let total = 2_000_000;
    let (outcome, held) = peak_held(|| {
        let mut r = Reassembler::new(limits);
        for i in 0..1_000_000u64 {
            if let Err(e) = chunk_at(&mut r, "m", 2 * i + 1, total, b"x") {
                return (i, e, r.partial_count(), r.buffered_bytes());
            }
        }
        panic!("the budget never stopped the chunks");
    });
    let (stopped_at, error, partial, buffered) = outcome;
    assert_eq!(error, ReassemblyError::LimitExceeded(Limit::BufferedBytes));
    assert_eq!(
        stopped_at,
        4 * MIB / (1 + SEGMENT_OVERHEAD),
        "runs that fit"
    );
    assert_eq!((partial, buffered), (0, 0), "the message was dropped");
    assert!(
        held < 3 * 4 * MIB,
        "held {held} bytes against a 4 MiB budget"
    );
}

/// A never-ending message fed in 64 KiB chunks (200 MB offered): stopped
/// at the message size limit, with at most that much held.
#[test]
fn msrp_a_never_ending_message_stops_at_the_message_size_limit() {
    let limits = Limits {
        max_message_size: 4 * MIB,
        ..Limits::default()
    };
    let piece = vec![b'a'; 64 * 1024];
    let (outcome, held) = peak_held(|| {
        let mut r = Reassembler::new(limits);
        let mut start = 1u64;
        for _ in 0..(200 * MIB / piece.len() as u64) {
            let range = ByteRange {
                start,
                end: None,
                total: None,
            };
            match r.push("m", range, &piece, ContinuationFlag::Continuation) {
                Ok(_) => start += piece.len() as u64,
                Err(e) => return (start, e, r.buffered_bytes()),
            }
        }
        panic!("never stopped");
    });
    let (start, error, buffered) = outcome;
    assert_eq!(error, ReassemblyError::LimitExceeded(Limit::MessageSize));
    assert_eq!(start - 1, 4 * MIB, "everything up to the limit was taken");
    assert_eq!(buffered, 0);
    assert!(held < 3 * 4 * MIB, "held {held} bytes");
}

// ---- SIP ------------------------------------------------------------------

fn request_with(extra_headers: &str, uri: &str) -> Vec<u8> {
    format!(
        "INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
         From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
         Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra_headers}\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Parses with the message size limit raised to 64 MiB, so that the limits
/// on one field and on the field count are what stop the input.
fn sip_kind(bytes: &[u8]) -> (Result<(), SipErrorKind>, u64) {
    let limits = oma_im::sip::Limits {
        max_message_size: 64 * 1024 * 1024,
        ..oma_im::sip::Limits::default()
    };
    peak_held(|| {
        parse_message_with(bytes, &limits)
            .map(|_| ())
            .map_err(|e| e.kind)
    })
}

/// A 10 MB header field, 100 000 header fields, 10 000 Via values and a
/// 1 MB Request-URI, with the message size limit out of the way: each the
/// typed error of the limit it breaks, with nothing held.
#[test]
fn sip_oversized_fields_counts_and_uris_are_typed_errors_holding_nothing() {
    use SipErrorKind::{HeaderTooLong, TooManyHeaders};
    let cases: Vec<(&str, Vec<u8>, SipErrorKind)> = vec![
        (
            "10 MB header field",
            request_with(
                &format!("Subject: {}\r\n", "x".repeat(10_000_000)),
                "sip:b@example.com",
            ),
            HeaderTooLong,
        ),
        (
            "100 000 header fields",
            request_with(&"X-A: 1\r\n".repeat(100_000), "sip:b@example.com"),
            TooManyHeaders,
        ),
        (
            "10 000 Via values",
            request_with(
                &format!(
                    "Via: {}\r\n",
                    vec!["SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK2"; 10_000].join(",")
                ),
                "sip:b@example.com",
            ),
            HeaderTooLong,
        ),
        (
            "1 MB Request-URI",
            request_with("", &format!("sip:{}@example.com", "b".repeat(1_000_000))),
            HeaderTooLong,
        ),
    ];
    for (name, bytes, expected) in cases {
        let (result, held) = sip_kind(&bytes);
        assert_eq!(result, Err(expected), "{name}");
        assert!(held < 64 * 1024, "{name}: held {held} bytes");
    }
}

// ---- Multipart ------------------------------------------------------------

/// `multipart/mixed` bodies nested 10 000 deep, each level one part holding
/// the next: the walk stops at the nesting ceiling with `TooDeep`, whatever
/// `max_nesting` says, after reading each of the (at most 32) levels once,
/// on a small stack, holding a few kilobytes.
#[test]
fn multipart_nested_10_000_deep_stops_at_the_nesting_ceiling() {
    let depth = 10_000;
    let mut body = Vec::new();
    for level in 0..depth {
        body.extend_from_slice(
            format!(
                "--b{level}\r\nContent-Type: multipart/mixed;boundary=b{}\r\n\r\n",
                level + 1
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--b{depth}\r\nContent-Type: text/plain\r\n\r\ninnermost\r\n--b{depth}--\r\n")
            .as_bytes(),
    );
    for level in (0..depth).rev() {
        body.extend_from_slice(format!("--b{level}--\r\n").as_bytes());
    }
    let unlimited = MimeLimits {
        max_nesting: usize::MAX,
        ..MimeLimits::default()
    };
    let body = std::sync::Arc::new(body);
    let (walked, held) = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn({
            let body = body.clone();
            move || {
                peak_held(|| {
                    let default = Multipart::walk(&body, "b0", &MimeLimits::default())
                        .map(|parts| parts.len())
                        .map_err(|e| e.kind);
                    let raised = Multipart::walk(&body, "b0", &unlimited)
                        .map(|parts| parts.len())
                        .map_err(|e| e.kind);
                    (default, raised)
                })
            }
        })
        .expect("thread")
        .join()
        .expect("no stack overflow");
    assert_eq!(walked.0, Err(MimeErrorKind::TooDeep));
    assert_eq!(walked.1, Err(MimeErrorKind::TooDeep));
    assert!(held < 256 * 1024, "held {held} bytes");
}

/// A multipart body of 100 000 parts: `TooManyParts` after the limit with
/// the default bounds, holding next to nothing; with the part limit lifted,
/// every part is parsed and what is held is a fixed size per part.
#[test]
fn multipart_with_100_000_parts() {
    let parts = 100_000;
    let mut body = Vec::new();
    for i in 0..parts {
        body.extend_from_slice(
            format!("--b\r\nContent-Type: text/plain\r\n\r\n{i}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(b"--b--\r\n");
    let (result, held) = peak_held(|| {
        Multipart::parse(&body, "b", &MimeLimits::default())
            .map(|m| m.parts.len())
            .map_err(|e| e.kind)
    });
    assert_eq!(result, Err(MimeErrorKind::TooManyParts));
    assert!(held < 64 * 1024, "held {held} bytes");

    let lifted = MimeLimits {
        max_parts: usize::MAX,
        ..MimeLimits::default()
    };
    let (result, held) = peak_held(|| {
        Multipart::walk(&body, "b", &lifted)
            .map(|all| all.len())
            .map_err(|e| e.kind)
    });
    assert_eq!(result, Ok(parts));
    let per_part = held / parts as u64;
    assert!(per_part < 1024, "{per_part} bytes held per part");
}

// ---- XML: a million entries, an entity bomb --------------------------------

/// A resource-lists document of 1 000 000 entries: over the default
/// document size it is refused before parsing; with the size limit lifted
/// the entry limit stops it at the 101st entry. Nothing proportional to the
/// document is held either way.
#[test]
fn resource_lists_with_1_000_000_entries() {
    let mut doc = String::from(
        "<?xml version=\"1.0\"?><resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>",
    );
    for i in 0..1_000_000 {
        doc.push_str(&format!("<entry uri=\"sip:u{i}@example.com\"/>"));
    }
    doc.push_str("</list></resource-lists>");
    let (result, held) = peak_held(|| {
        ResourceLists::parse(doc.as_bytes(), &XmlLimits::default())
            .map(|_| ())
            .map_err(|e| e.kind)
    });
    assert!(
        matches!(result, Err(XmlErrorKind::TooLarge { .. })),
        "{result:?}"
    );
    assert!(held < 4 * 1024, "held {held} bytes");

    let lifted = XmlLimits {
        max_document_size: usize::MAX,
        ..XmlLimits::default()
    };
    let (result, held) = peak_held(|| {
        ResourceLists::parse(doc.as_bytes(), &lifted)
            .map(|_| ())
            .map_err(|e| e.kind)
    });
    assert!(
        matches!(result, Err(XmlErrorKind::TooManyEntries { .. })),
        "{result:?}"
    );
    assert!(held < 256 * 1024, "held {held} bytes");
}

/// The "billion laughs" entity bomb, as a resource-lists and as a
/// conference-info document: the DOCTYPE is refused before any entity is
/// declared, let alone expanded.
#[test]
fn xml_entity_bomb_is_refused_at_the_doctype() {
    let mut dtd = String::from("<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for level in 1..10 {
        let refs = format!("&lol{};", level - 1).replace("&lol0;", "&lol;");
        dtd.push_str(&format!("<!ENTITY lol{level} \"{}\">", refs.repeat(10)));
    }
    dtd.push(']');
    dtd.push('>');
    let lists = format!(
        "<?xml version=\"1.0\"?>{dtd}<resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\">\
         <list><entry uri=\"sip:a@example.com\"><display-name>&lol9;</display-name></entry></list>\
         </resource-lists>"
    );
    let info = format!(
        "<?xml version=\"1.0\"?>{dtd}<conference-info xmlns=\"urn:ietf:params:xml:ns:conference-info\" \
         entity=\"sip:conf@example.com\" state=\"full\" version=\"1\"><conference-description>\
         <subject>&lol9;</subject></conference-description></conference-info>"
    );
    let (result, held) = peak_held(|| {
        ResourceLists::parse(lists.as_bytes(), &XmlLimits::default())
            .map(|_| ())
            .map_err(|e| e.kind)
    });
    assert_eq!(result, Err(XmlErrorKind::DoctypeNotAllowed));
    assert!(held < 4 * 1024, "held {held} bytes");
    let (result, held) = peak_held(|| {
        ConferenceInfo::parse(info.as_bytes(), &XmlLimits::default())
            .map(|_| ())
            .map_err(|e| e.kind)
    });
    assert_eq!(result, Err(XmlErrorKind::DoctypeNotAllowed));
    assert!(held < 4 * 1024, "held {held} bytes");
}

// ---- CPIM, SDP --------------------------------------------------------------

/// A CPIM message with 1 000 000 header lines: `TooManyHeaders` at the
/// limit, holding what 64 headers take.
#[test]
fn cpim_with_1_000_000_headers() {
    let mut msg = b"From: <sip:a@example.com>\r\nTo: <sip:b@example.com>\r\n".to_vec();
    for i in 0..1_000_000 {
        msg.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    msg.extend_from_slice(b"\r\nContent-Type: text/plain\r\n\r\nhi");
    let (result, held) = peak_held(|| {
        CpimMessage::parse_with(&msg, &MimeLimits::default())
            .map(|_| ())
            .map_err(|e| e.kind)
    });
    assert_eq!(result, Err(MimeErrorKind::TooManyHeaders));
    assert!(held < 64 * 1024, "held {held} bytes");
}

/// An SDP body with 100 000 attributes: too large for the default size
/// limit; with it lifted, `TooManyAttributes` at the attribute limit. Little
/// is held either way.
#[test]
fn sdp_with_100_000_attributes() {
    use oma_im::sdp::{Limits as SdpLimits, SdpErrorKind, SessionDescription};
    let mut sdp = String::from(
        "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
         m=message 7000 TCP/MSRP *\r\na=path:msrp://192.0.2.1:7000/a;tcp\r\n",
    );
    for i in 0..100_000 {
        sdp.push_str(&format!("a=x-{i}\r\n"));
    }
    let (result, held) = peak_held(|| {
        SessionDescription::parse_with_limits(sdp.as_bytes(), &SdpLimits::default())
            .map(|_| ())
            .map_err(|e| e.kind)
    });
    assert_eq!(result, Err(SdpErrorKind::TooLarge));
    assert!(held < 4 * 1024, "held {held} bytes");
    let lifted = SdpLimits {
        max_size: usize::MAX,
        max_lines: usize::MAX,
        ..SdpLimits::default()
    };
    let (result, held) = peak_held(|| {
        SessionDescription::parse_with_limits(sdp.as_bytes(), &lifted)
            .map(|_| ())
            .map_err(|e| e.kind)
    });
    assert_eq!(result, Err(SdpErrorKind::TooManyAttributes));
    assert!(held < 64 * 1024, "held {held} bytes");
}

// ---- An INVITE flood at an IM Server ------------------------------------------

mod flood {
    use std::net::SocketAddr;
    use std::time::Instant;

    use oma_im::im::server::{ImServer, Input, Output, ServerConfig};
    use oma_im::transaction::Transport;

    pub const FACTORY: &str = "sip:conf@im.example.com";

    /// An ad-hoc session request to the factory, with one invitee.
    pub fn invite(call: u32) -> Vec<u8> {
        let sdp = format!(
            "v=0\r\no=a 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n\
             m=message 7000 TCP/MSRP *\r\na=accept-types:message/cpim\r\n\
             a=path:msrp://192.0.2.20:7000/a{call};tcp\r\na=setup:actpass\r\n"
        );
        let body = format!(
            "--b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b\r\n\
             Content-Type: application/resource-lists+xml\r\n\r\n\
             <resource-lists xmlns=\"urn:ietf:params:xml:ns:resource-lists\"><list>\
             <entry uri=\"sip:bob{call}@example.com\"/></list></resource-lists>\r\n--b--\r\n"
        );
        format!(
            "INVITE {FACTORY} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-{call}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice{call}@example.com>;tag=f{call}\r\nTo: <{FACTORY}>\r\n\
             Call-ID: flood-{call}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.20>\r\n\
             Content-Type: multipart/mixed;boundary=b\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    pub fn server(max_sessions: usize) -> (ImServer, SocketAddr) {
        server_with(|config| config.limits.max_sessions = max_sessions)
    }

    pub fn server_with(tweak: impl FnOnce(&mut ServerConfig)) -> (ImServer, SocketAddr) {
        let core: SocketAddr = "192.0.2.1:5060".parse().expect("address");
        let mut config = ServerConfig::new(
            "192.0.2.10:5060".parse().expect("address"),
            core,
            "im.example.com",
        );
        config.conference_factory_uris.push(FACTORY.to_owned());
        tweak(&mut config);
        (ImServer::new(config), core)
    }

    /// Feeds INVITE `call` and returns the status of the final response the
    /// server sent back to the inviter, if any.
    pub fn feed(server: &mut ImServer, core: SocketAddr, call: u32, now: Instant) -> Option<u16> {
        let bytes = invite(call);
        server.handle_input(
            Input::Sip {
                bytes: &bytes,
                source: core,
                transport: Transport::Udp,
            },
            now,
        );
        // One request in flight at a time: a final response sent now answers it.
        let mut status = None;
        while let Some(output) = server.poll_output() {
            if let Output::Transmit(t) = output {
                let code = t.bytes.strip_prefix(b"SIP/2.0 ").and_then(|rest| {
                    let digits = std::str::from_utf8(rest.get(..3)?).ok()?;
                    digits.parse::<u16>().ok()
                });
                if code.is_some_and(|c| c >= 200) {
                    status = code;
                }
            }
        }
        status
    }
}

/// 100 000 never-answered session requests to the factory of an IM Server
/// capped at 1 000 sessions: the first 1 000 each create a session (and its
/// INVITE to the invitee), every later one is answered 503 at once. An
/// INVITE answered 100 Trying cannot be refused statelessly (RFC 3261
/// §8.2.7, §17.2.1): each refusal keeps its request's identifying fields
/// and its response, to retransmit until the ACK, for 64*T1 at most — a
/// few kilobytes each, within the user agent's byte budget — and then
/// nothing but the capacity its indexes keep below a quarter full. An unoptimized build (the default `cargo test`) sends 20 000,
/// 19 000 of them refused, which shows the same at a fifth of the cost;
/// `cargo test --release` and `benches/im_server.rs` send all 100 000.
#[test]
fn invite_flood_of_100_000_gets_503_at_the_cap_and_holds_only_the_sessions() {
    const CAP: usize = 1_000;
    const FLOOD: u32 = if cfg!(debug_assertions) {
        20_000
    } else {
        100_000
    };
    let now = Instant::now();
    let base = LIVE.with(Cell::get);
    let (mut server, core) = flood::server(CAP);
    let mut first_503 = None;
    let mut held_at_cap = 0;
    for call in 0..FLOOD {
        if call as usize == CAP {
            held_at_cap = LIVE.with(Cell::get) - base;
        }
        let status = flood::feed(&mut server, core, call, now);
        if (call as usize) < CAP {
            assert_eq!(status, None, "INVITE {call} is being set up, not answered");
        } else {
            assert_eq!(status, Some(503), "INVITE {call} over the cap");
            first_503.get_or_insert(call);
        }
    }
    let held = LIVE.with(Cell::get) - base;
    assert_eq!(first_503, Some(CAP as u32));
    assert_eq!(server.session_count(), CAP);
    let per_session = held_at_cap as usize / CAP;
    assert!(per_session < 64 * 1024, "{per_session} bytes per session");
    let refused = FLOOD as usize - CAP;
    let per_refusal = (held - held_at_cap) as usize / refused;
    assert!(per_refusal < 4 * 1024, "{per_refusal} bytes per refusal");
    // 64*T1 later the refusals are gone; the sessions' invitations time out
    // too (their invitees never answer), and then their own refusals.
    for later in [33, 70] {
        server.handle_timeout(now + std::time::Duration::from_secs(later));
        while server.poll_output().is_some() {}
    }
    let after = LIVE.with(Cell::get) - base;
    assert_eq!(server.session_count(), 0);
    // What is left is the capacity the indexes keep below a quarter full.
    assert!(
        after * 16 < held_at_cap,
        "{after} bytes held once every timer ran, {held_at_cap} by the sessions"
    );
    assert_eq!(server.memory(), oma_im::im::server::MemoryUse::default());
    println!(
        "flood: {held} bytes held, {per_session} per session, {per_refusal} per refusal, \
         {after} once every timer ran"
    );
}

/// Authorization questions the application does not answer are capped: with
/// `AuthorizationPolicy::Ask` and room for 100 pending questions, 10 000
/// requests get 100 questions and 9 900 answers 503; the refused INVITEs
/// (answered 100 Trying first, so kept until their 503 needs no more
/// retransmission: RFC 3261 §17.2.1) are gone 64*T1 later, when the
/// server holds what the 100 questions hold to within 256 KiB (index
/// capacity kept below a quarter full).
#[test]
fn unanswered_authorization_questions_are_capped() {
    use oma_im::im::server::AuthorizationPolicy;
    let now = Instant::now();
    let (mut server, core) = flood::server_with(|config| {
        config.authorization = AuthorizationPolicy::Ask;
        config.limits.max_pending_authorizations = 100;
    });
    let mut refused = 0;
    let mut held_at_100 = 0;
    let base = LIVE.with(Cell::get);
    for call in 0..10_000u32 {
        if call == 100 {
            held_at_100 = LIVE.with(Cell::get) - base;
        }
        if flood::feed(&mut server, core, call, now) == Some(503) {
            refused += 1;
        }
    }
    assert_eq!(refused, 9_900);
    assert_eq!(server.session_count(), 0);
    server.handle_timeout(now + std::time::Duration::from_secs(33));
    while server.poll_output().is_some() {}
    let after = LIVE.with(Cell::get) - base;
    assert!(
        (after - held_at_100).abs() < 256 * 1024,
        "{after} bytes held after the refusals' timers, {held_at_100} with the questions alone"
    );
}
