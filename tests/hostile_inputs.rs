//! Hostile inputs through the public API: each case is rejected with its
//! typed error (or reassembled within budget), and the bytes the crate holds
//! while doing so are bounded — measured with a counting allocator, never a
//! wall-clock time.
//!
//! The allocator counts per thread (each test runs on its own thread), so
//! tests running side by side do not see each other's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

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
