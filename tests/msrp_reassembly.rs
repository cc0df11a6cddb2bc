//! Reassembly: limits, inconsistent ranges, aborted messages, unknown totals.

use oma_im::msrp::{
    ByteRange, ContinuationFlag, Limit, Limits, Progress, ReassembledMessage, Reassembler,
    ReassemblyError,
};

const MORE: ContinuationFlag = ContinuationFlag::Continuation;
const LAST: ContinuationFlag = ContinuationFlag::Complete;

fn range(start: u64, end: Option<u64>, total: Option<u64>) -> ByteRange {
    ByteRange { start, end, total }
}

fn complete(id: &str, data: &[u8]) -> Progress {
    Progress::Complete(ReassembledMessage {
        message_id: id.to_owned(),
        data: data.to_vec(),
    })
}

#[test]
fn unknown_total_completes_when_the_last_chunk_and_every_gap_arrive() {
    let mut r = Reassembler::new(Limits::default());
    assert_eq!(
        r.push("m", range(6, None, None), b"world", LAST),
        Ok(Progress::Incomplete)
    );
    assert_eq!(
        r.push("m", range(1, Some(3), None), b"hel", MORE),
        Ok(Progress::Incomplete)
    );
    assert_eq!(r.partial_count(), 1);
    assert_eq!(
        r.push("m", range(3, None, None), b"llo", MORE),
        Ok(complete("m", b"helloworld"))
    );
    assert_eq!(r.partial_count(), 0);
}

#[test]
fn messages_are_kept_apart_by_message_id() {
    let mut r = Reassembler::new(Limits::default());
    assert_eq!(
        r.push("a", range(1, None, Some(4)), b"aa", MORE),
        Ok(Progress::Incomplete)
    );
    assert_eq!(
        r.push("b", range(1, None, Some(4)), b"bb", MORE),
        Ok(Progress::Incomplete)
    );
    assert_eq!(
        r.push("b", range(3, None, Some(4)), b"BB", LAST),
        Ok(complete("b", b"bbBB"))
    );
    assert_eq!(
        r.push("a", range(3, None, Some(4)), b"AA", LAST),
        Ok(complete("a", b"aaAA"))
    );
}

#[test]
fn aborted_messages_are_discarded_and_reported() {
    let mut r = Reassembler::new(Limits::default());
    r.push("m", range(1, None, Some(10)), b"12345", MORE)
        .unwrap();
    let aborted = r.push(
        "m",
        range(6, None, Some(10)),
        b"67",
        ContinuationFlag::Aborted,
    );
    assert_eq!(
        aborted,
        Ok(Progress::Aborted {
            message_id: "m".into()
        })
    );
    assert_eq!(r.partial_count(), 0);
    // A new message with the same id starts from nothing.
    assert_eq!(
        r.push("m", range(6, None, Some(10)), b"67890", LAST),
        Ok(Progress::Incomplete)
    );
}

#[test]
fn a_claimed_total_over_the_limit_is_refused_before_any_allocation() {
    let limits = Limits {
        max_message_size: 1000,
        ..Limits::default()
    };
    let mut r = Reassembler::new(limits);
    let big = r.push("m", range(1, None, Some(u64::MAX)), b"x", MORE);
    assert_eq!(big, Err(ReassemblyError::LimitExceeded(Limit::MessageSize)));
    let far = r.push("m", range(1000, None, None), b"xy", MORE);
    assert_eq!(far, Err(ReassemblyError::LimitExceeded(Limit::MessageSize)));
    let overflow = r.push("m", range(u64::MAX, None, None), b"xy", MORE);
    assert!(overflow.is_err());
    assert_eq!(r.partial_count(), 0);
}

#[test]
fn chunk_size_and_partial_message_limits_hold() {
    let limits = Limits {
        max_chunk_size: 4,
        max_partial_messages: 2,
        ..Limits::default()
    };
    let mut r = Reassembler::new(limits);
    let big = r.push("m", range(1, None, None), b"12345", LAST);
    assert_eq!(big, Err(ReassemblyError::LimitExceeded(Limit::ChunkSize)));
    r.push("a", range(1, None, None), b"1", MORE).unwrap();
    r.push("b", range(1, None, None), b"1", MORE).unwrap();
    let third = r.push("c", range(1, None, None), b"1", MORE);
    assert_eq!(
        third,
        Err(ReassemblyError::LimitExceeded(Limit::PartialMessages))
    );
    // Known messages still progress; a finished one frees its place.
    assert_eq!(
        r.push("a", range(2, None, Some(2)), b"2", LAST),
        Ok(complete("a", b"12"))
    );
    assert_eq!(
        r.push("c", range(1, None, None), b"1", MORE),
        Ok(Progress::Incomplete)
    );
}

#[test]
fn inconsistent_chunks_are_errors_that_drop_the_message() {
    let mut r = Reassembler::new(Limits::default());
    r.push("m", range(1, None, Some(10)), b"12", MORE).unwrap();
    assert_eq!(
        r.push("m", range(3, None, Some(11)), b"34", MORE),
        Err(ReassemblyError::InconsistentTotal)
    );
    assert_eq!(r.partial_count(), 0);

    r.push("m", range(1, None, Some(4)), b"12", MORE).unwrap();
    assert_eq!(
        r.push("m", range(3, None, Some(4)), b"345", MORE),
        Err(ReassemblyError::ChunkBeyondTotal)
    );

    r.push("m", range(1, None, Some(10)), b"12", MORE).unwrap();
    assert_eq!(
        r.push("m", range(3, None, None), b"34", LAST),
        Err(ReassemblyError::InconsistentTotal)
    );

    r.push("m", range(5, None, None), b"5678", MORE).unwrap();
    assert_eq!(
        r.push("m", range(1, None, None), b"1", LAST),
        Err(ReassemblyError::ChunkBeyondTotal)
    );

    assert_eq!(
        r.push("m", range(0, None, None), b"1", LAST),
        Err(ReassemblyError::InvalidByteRange)
    );
    assert_eq!(r.partial_count(), 0);
}

#[test]
fn overlapping_and_repeated_chunks_are_merged() {
    let mut r = Reassembler::new(Limits::default());
    let body = b"0123456789abcdef";
    let arrivals: [(u64, usize, usize); 6] = [
        (9, 8, 12),
        (1, 0, 4),
        (3, 2, 10),
        (1, 0, 4),
        (13, 12, 15),
        (14, 13, 16),
    ];
    let mut last = Ok(Progress::Incomplete);
    for (start, lo, hi) in arrivals {
        last = r.push("m", range(start, None, Some(16)), &body[lo..hi], MORE);
    }
    assert_eq!(last, Ok(complete("m", body)));
}
