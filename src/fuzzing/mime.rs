//! Fuzz entry points for the MIME bodies of [`crate::body`].

use crate::body::cpim::CpimMessage;
use crate::body::mime::MimeLimits;
use crate::body::multipart::{find_resource_lists, find_sdp, Multipart};

/// `multipart_parse`: the first line of `data` (up to LF) is the boundary, the
/// rest the body. Besides not panicking, a body that parses must write back
/// (under a boundary chosen by the writer, which must occur in no part) and
/// parse again into equal parts.
pub fn multipart_parse(data: &[u8]) {
    let limits = MimeLimits::default();
    let (boundary, body) = match memchr::memchr(b'\n', data) {
        Some(nl) => (&data[..nl], &data[nl + 1..]),
        None => (&b"b"[..], data),
    };
    let Ok(boundary) = std::str::from_utf8(boundary) else {
        return;
    };
    let mut content_type = String::from("multipart/mixed;boundary=\"");
    for c in boundary.chars() {
        if c == '"' || c == '\\' {
            content_type.push('\\');
        }
        content_type.push(c);
    }
    content_type.push('"');
    let sdp = find_sdp(&content_type, body, &limits);
    let lists = find_resource_lists(&content_type, body, &limits);
    let Ok(parsed) = Multipart::parse(body, boundary, &limits) else {
        assert!(sdp.is_err() && lists.is_err());
        return;
    };
    assert!(sdp.is_ok() && lists.is_ok());
    for part in &parsed.parts {
        let _ = part.content_type();
        let _ = part.headers.content_disposition();
        let _ = part.content_id();
        let _ = part.as_multipart(&limits);
    }
    let seed = data.len() as u64;
    let mut out = Vec::new();
    let chosen = parsed.write(seed, &mut out);
    for part in &parsed.parts {
        assert!(memchr::memmem::find(part.body, chosen.as_str().as_bytes()).is_none());
    }
    // Writing may add the space after a header's colon: allow one more byte.
    let relaxed = MimeLimits {
        max_header_len: limits.max_header_len + 1,
        ..limits
    };
    let again = Multipart::parse(&out, chosen.as_str(), &relaxed).expect("written body parses");
    assert_eq!(again, parsed);
}

/// `cpim_parse`: besides not panicking, a message that parses must write, parse
/// again into an equal message, and write again into the same bytes.
pub fn cpim_parse(data: &[u8]) {
    let limits = MimeLimits::default();
    let Ok(msg) = CpimMessage::parse_with(data, &limits) else {
        return;
    };
    let _ = msg.date_time_fields();
    let _ = msg.content_type();
    let mut out = Vec::new();
    msg.write(&mut out);
    // Escapes, quotes and the space after the colon may lengthen a header line.
    let relaxed = MimeLimits {
        max_header_len: limits.max_header_len * 6 + 16,
        ..limits
    };
    let again = CpimMessage::parse_with(&out, &relaxed).expect("written message parses");
    assert_eq!(again, msg);
    let mut out2 = Vec::new();
    again.write(&mut out2);
    assert_eq!(out2, out);
    assert_eq!(again.into_owned(), msg);
}
