//! Fuzz entry points for the SIP message parser and the stream framer.

use crate::sip::{frame, parse_message, Framer, Framing, HeaderName, Limits};

/// `sip_parse_message`: parses `data` as a datagram; a message that parses
/// is written, parsed again, and must come back equal, and written again
/// identically.
pub fn sip_parse_message(data: &[u8]) {
    let Ok(message) = parse_message(data) else {
        return;
    };
    let mut written = Vec::new();
    message.write(&mut written);
    let again = match parse_message(&written) {
        Ok(again) => again,
        Err(e) => panic!("rewritten message does not parse: {e}"),
    };
    assert_eq!(again, message, "rewritten message differs");
    let mut rewritten = Vec::new();
    again.write(&mut rewritten);
    assert_eq!(rewritten, written, "writing is not idempotent");
}

/// `sip_stream_framing`: the first byte seeds read sizes; the rest is a
/// stream. Feeding the stream in reads of those sizes to one [`Framer`] must
/// give, at every read, what one-shot [`frame`] gives on the same octets;
/// each complete message must parse (when it does) with its body ending the
/// framed octets and its Content-Length equal to the body length.
pub fn sip_stream_framing(data: &[u8]) {
    let Some((&seed, mut stream)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_message_size: 4096,
        max_headers: 32,
        max_header_len: 1024,
        ..Limits::default()
    };
    let mut framer = Framer::new(limits);
    let mut read = 0usize;
    let mut step = 0u32;
    while !stream.is_empty() {
        // Read sizes cycle through 1..=16 driven by the seed.
        let size = 1 + ((usize::from(seed) >> (step % 4)) + step as usize) % 16;
        step = step.wrapping_add(1);
        read = (read + size).min(stream.len());
        let buffer = &stream[..read];
        let resumed = framer.advance(buffer);
        let one_shot = frame(buffer, &limits);
        assert_eq!(
            resumed, one_shot,
            "resumed framing differs from one-shot framing"
        );
        let consumed = match resumed {
            Err(_) => return,
            Ok(Framing::Incomplete { needed }) => {
                if read == stream.len() {
                    return;
                }
                if let Some(needed) = needed {
                    assert!(needed > 0, "incomplete with nothing needed");
                }
                continue;
            }
            Ok(Framing::KeepAlive { len }) => len,
            Ok(Framing::Complete { skipped, len }) => {
                check_framed(&stream[skipped..skipped + len]);
                skipped + len
            }
        };
        stream = &stream[consumed..];
        read = 0;
    }
}

fn check_framed(message: &[u8]) {
    let Ok(parsed) = parse_message(message) else {
        return;
    };
    assert!(
        message.ends_with(parsed.body()),
        "body is not the end of the framed message"
    );
    let length = parsed
        .header(HeaderName::ContentLength)
        .map(|v| v.value.parse::<usize>());
    match length {
        Some(Ok(length)) => assert_eq!(length, parsed.body().len(), "Content-Length"),
        other => panic!("framed message without a usable Content-Length: {other:?}"),
    }
}
