//! Stream framing (RFC 3261 §18.3) against the one-shot parser: however a
//! stream of messages is cut into reads, the resumable framer finds the same
//! messages, and each framed message parses to what was sent.

use std::fs;
use std::path::Path;

use oma_im::sip::writer::{RequestBuilder, ResponseBuilder};
use oma_im::sip::{
    frame, parse_message, Framer, Framing, HeaderName, Limits, SipError, SipErrorKind,
};
use proptest::prelude::*;

/// Three messages as an IM client would see them on one TCP connection.
fn messages() -> Vec<Vec<u8>> {
    let mut message = Vec::new();
    RequestBuilder::new("MESSAGE", "sip:bob@example.com")
        .header(
            HeaderName::Via,
            "SIP/2.0/TCP pc33.example.com;branch=z9hG4bK776sgdkse",
        )
        .header(HeaderName::MaxForwards, "70")
        .header(HeaderName::From, "<sip:alice@example.com>;tag=49583")
        .header(HeaderName::To, "<sip:bob@example.com>")
        .header(HeaderName::CallId, "asd88asd77a@192.0.2.10")
        .header(HeaderName::CSeq, "1 MESSAGE")
        .header(HeaderName::AcceptContact, "*;+g.oma.sip-im")
        .body(
            "text/plain;charset=UTF-8",
            "Watson, come here.\r\n\r\n".as_bytes(),
        )
        .write(&mut message);
    let mut ok = Vec::new();
    {
        let request = parse_message(&message).expect("the MESSAGE parses");
        ResponseBuilder::for_request(&request, 200, "OK")
            .to_tag("1234")
            .write(&mut ok);
    }
    let mut bye = Vec::new();
    RequestBuilder::new("BYE", "sip:conf77@im.example.com;transport=tcp")
        .header(
            HeaderName::Via,
            "SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKnashds10",
        )
        .header(HeaderName::MaxForwards, "70")
        .header(HeaderName::From, "<sip:alice@example.com>;tag=9fxced76sl")
        .header(HeaderName::To, "<sip:conf77@im.example.com>;tag=8321234356")
        .header(HeaderName::CallId, "3848276298220188511@192.0.2.10")
        .header(HeaderName::CSeq, "2 BYE")
        .write(&mut bye);
    vec![message, ok, bye]
}

/// `messages()` on one stream, with keep-alive CRLFs before two of them.
fn stream() -> Vec<u8> {
    let mut stream = b"\r\n\r\n".to_vec();
    let all = messages();
    stream.extend_from_slice(&all[0]);
    stream.extend_from_slice(&all[1]);
    stream.extend_from_slice(b"\r\n");
    stream.extend_from_slice(&all[2]);
    stream
}

/// Feeds `stream` to a framer in reads ending at `cuts` (then at the end),
/// like a socket would, and returns every complete message.
fn frame_in_reads(stream: &[u8], cuts: &[usize]) -> Result<Vec<Vec<u8>>, SipError> {
    let mut framer = Framer::new(Limits::default());
    let mut buffer = Vec::new();
    let mut framed = Vec::new();
    let mut fed = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        let cut = cut.clamp(fed, stream.len());
        buffer.extend_from_slice(&stream[fed..cut]);
        fed = cut;
        loop {
            match framer.advance(&buffer)? {
                Framing::Complete { skipped, len } => {
                    framed.push(buffer[skipped..skipped + len].to_vec());
                    buffer.drain(..skipped + len);
                }
                Framing::KeepAlive { len } => {
                    buffer.drain(..len);
                }
                Framing::Incomplete { .. } => break,
            }
        }
    }
    assert!(
        buffer.is_empty(),
        "octets left over: {:?}",
        String::from_utf8_lossy(&buffer)
    );
    Ok(framed)
}

#[test]
fn every_read_size_frames_the_same_messages() {
    let stream = stream();
    let expected = messages();
    for size in [1, 2, 3, 5, 7, 16, 64, 333, stream.len()] {
        let cuts: Vec<usize> = (size..stream.len()).step_by(size).collect();
        let framed = frame_in_reads(&stream, &cuts).unwrap();
        assert_eq!(framed, expected, "reads of {size} octets");
        for (framed, sent) in framed.iter().zip(&expected) {
            assert_eq!(parse_message(framed).unwrap(), parse_message(sent).unwrap());
        }
    }
}

#[test]
fn incomplete_says_how_much_body_is_missing() {
    let message = &messages()[0];
    let body_len = parse_message(message).unwrap().body().len();
    let head_len = message.len() - body_len;
    let limits = Limits::default();
    assert_eq!(
        frame(&message[..head_len - 1], &limits),
        Ok(Framing::Incomplete { needed: None })
    );
    assert_eq!(
        frame(&message[..head_len], &limits),
        Ok(Framing::Incomplete {
            needed: Some(body_len)
        })
    );
    assert_eq!(
        frame(&message[..head_len + 3], &limits),
        Ok(Framing::Incomplete {
            needed: Some(body_len - 3)
        })
    );
}

#[test]
fn a_stream_message_needs_content_length() {
    // RFC 4475 §3.4.1 (an RFC 2543 INVITE) has no Content-Length: fine in a
    // datagram, unframeable on a stream.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475/inv2543.dat");
    let data = fs::read(path).expect("inv2543.dat");
    assert!(parse_message(&data).is_ok());
    let err = frame(&data, &Limits::default()).unwrap_err();
    assert_eq!(err.kind, SipErrorKind::MissingContentLength);
}

#[test]
fn framing_rfc4475_messages_agrees_with_datagram_parsing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475");
    let mut checked = 0;
    for entry in fs::read_dir(dir).expect("tests/data/rfc4475") {
        let data = fs::read(entry.expect("entry").path()).expect("file");
        let Ok(datagram) = parse_message(&data) else {
            continue;
        };
        if datagram.header(HeaderName::ContentLength).is_none() {
            continue;
        }
        match frame(&data, &Limits::default()).expect("a parseable message frames") {
            Framing::Complete { skipped, len } => {
                let framed = parse_message(&data[skipped..skipped + len]).unwrap();
                assert_eq!(framed, datagram);
                checked += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(checked >= 20, "only {checked} messages checked");
}

#[test]
fn conflicting_content_lengths_break_the_stream() {
    // RFC 4475 §3.3.9: two different Content-Length values.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc4475/mcl01.dat");
    let data = fs::read(path).expect("mcl01.dat");
    let err = frame(&data, &Limits::default()).unwrap_err();
    assert_eq!(
        err.kind,
        SipErrorKind::DuplicateHeader(HeaderName::ContentLength)
    );
}

proptest! {
    #[test]
    fn any_cuts_frame_the_same_messages(mut cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..20)) {
        let stream = stream();
        let mut cuts: Vec<usize> = cuts.drain(..).map(|i| i.index(stream.len())).collect();
        cuts.sort_unstable();
        prop_assert_eq!(frame_in_reads(&stream, &cuts).unwrap(), messages());
    }

    #[test]
    fn resumed_framing_equals_one_shot_framing(
        data in prop::collection::vec(prop::sample::select(b"l: 5\r\n \tSIP/2.0 Content-Length:0a".to_vec()), 0..200),
        cut in any::<prop::sample::Index>(),
    ) {
        let limits = Limits { max_message_size: 150, max_headers: 6, max_header_len: 40, ..Limits::default() };
        let cut = cut.index(data.len() + 1);
        let mut framer = Framer::new(limits);
        let first = framer.advance(&data[..cut]);
        prop_assert_eq!(&first, &frame(&data[..cut], &limits));
        if let Ok(Framing::Incomplete { .. }) = first {
            prop_assert_eq!(framer.advance(&data), frame(&data, &limits));
        }
    }
}
