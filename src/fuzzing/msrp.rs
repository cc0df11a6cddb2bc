//! Fuzz entry points for the MSRP codec.

use crate::msrp::{
    parse_message, parse_message_prefix, ContinuationFlag, Limits, MsrpErrorKind, MsrpStreamParser,
    Reassembler, StreamEvent,
};

/// `msrp_parse_message`: parses `data` as one message; on success, writing
/// it and parsing the output must give an equal message, and writing that
/// must give the same bytes (the written form is canonical).
pub fn msrp_parse_message(data: &[u8]) {
    let Ok(msg) = parse_message(data) else {
        return;
    };
    let mut out = Vec::new();
    msg.write(&mut out);
    let again = parse_message(&out).expect("written message parses");
    assert_eq!(again, msg, "parse -> write -> parse changed the message");
    let mut out2 = Vec::new();
    again.write(&mut out2);
    assert_eq!(out, out2, "writing is not canonical");
    let mut reassembler = Reassembler::new(Limits::default());
    let _ = reassembler.push_message(&msg);
}

/// One message as seen by a parser: written head, body, flag.
type Seen = (Vec<u8>, Option<Vec<u8>>, ContinuationFlag);
/// Messages seen, then the error that stopped parsing (kind and stream offset).
type Outcome = (Vec<Seen>, Option<(MsrpErrorKind, usize)>);

fn one_shot(wire: &[u8]) -> Outcome {
    let mut seen = Vec::new();
    let mut at = 0;
    while let Some(rest) = wire.get(at..).filter(|r| !r.is_empty()) {
        match parse_message_prefix(rest, &Limits::default()) {
            Ok((msg, used)) => {
                let mut head = Vec::new();
                msg.head.write(&mut head);
                seen.push((head, msg.body.map(<[u8]>::to_vec), msg.flag));
                at += used;
            }
            Err(e) if e.kind == MsrpErrorKind::Incomplete => break,
            Err(e) => return (seen, Some((e.kind, e.offset + at))),
        }
    }
    (seen, None)
}

fn streamed(wire: &[u8], cuts: &[usize]) -> Outcome {
    let mut parser = MsrpStreamParser::new(Limits::default());
    let mut seen = Vec::new();
    let mut current: Option<(Vec<u8>, Option<Vec<u8>>)> = None;
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&wire.len())) {
        let to = cut.clamp(from, wire.len());
        parser.feed(&wire[from..to]);
        from = to;
        loop {
            match parser.next_event() {
                Ok(None) => break,
                Ok(Some(StreamEvent::Head { head, has_body })) => {
                    assert!(current.is_none(), "head inside a message");
                    let mut h = Vec::new();
                    head.write(&mut h);
                    current = Some((h, has_body.then(Vec::new)));
                }
                Ok(Some(StreamEvent::BodyData(data))) => {
                    assert!(!data.is_empty(), "empty body data event");
                    let body = current.as_mut().and_then(|c| c.1.as_mut());
                    body.expect("body data without a body")
                        .extend_from_slice(data);
                }
                Ok(Some(StreamEvent::End(flag))) => {
                    let (head, body) = current.take().expect("end without head");
                    seen.push((head, body, flag));
                }
                Err(e) => return (seen, Some((e.kind, e.offset))),
            }
        }
    }
    (seen, None)
}

/// `msrp_stream`: the first byte chooses how to split the rest; the stream
/// parser fed those pieces must yield exactly the messages (and the error)
/// of parsing the same bytes one message at a time.
pub fn msrp_stream(data: &[u8]) {
    let Some((&seed, wire)) = data.split_first() else {
        return;
    };
    let step = usize::from(seed % 64) + 1;
    let cuts: Vec<usize> = (1..)
        .map(|i| i * step)
        .take_while(|&c| c < wire.len())
        .collect();
    let expected = one_shot(wire);
    assert_eq!(streamed(wire, &cuts), expected, "split every {step} bytes");
    assert_eq!(streamed(wire, &[]), expected, "fed at once");
}
