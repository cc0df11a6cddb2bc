//! Setting the CPIM `From` of a relayed message in its first chunk.

use memchr::memmem;

/// Writes into `out` the chunk with its CPIM message header block's `From`
/// lines replaced by one `From: <identity>` line, first. `None` when the
/// chunk does not hold the whole header block (no empty line).
///
/// ```text
/// From: Alice <sip:alice@example.com>\r\n      From: <sip:anonymous@anonymous.invalid>\r\n
/// To: <sip:conf@example.com>\r\n           ->  To: <sip:conf@example.com>\r\n
/// \r\n                                         \r\n
/// Content-Type: text/plain ...                 Content-Type: text/plain ...
/// ```
pub(crate) fn rewrite_from(chunk: &[u8], identity: &str, out: &mut Vec<u8>) -> Option<()> {
    let block_end = if chunk.starts_with(b"\r\n") {
        0
    } else {
        memmem::find(chunk, b"\r\n\r\n")? + 2
    };
    out.clear();
    out.reserve(chunk.len() + identity.len() + 16);
    out.extend_from_slice(b"From: <");
    out.extend_from_slice(identity.as_bytes());
    out.extend_from_slice(b">\r\n");
    let block = chunk.get(..block_end)?;
    for line in block.split_inclusive(|&b| b == b'\n') {
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        if !name.trim_ascii().eq_ignore_ascii_case(b"From") {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(chunk.get(block_end..)?);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::rewrite_from;
    use crate::body::cpim::CpimMessage;

    #[test]
    fn replaces_from_and_keeps_the_rest() {
        let chunk = b"From: Alice <sip:alice@example.com>\r\nTo: <sip:conf@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhi";
        let mut out = Vec::new();
        rewrite_from(chunk, "sip:anonymous@anonymous.invalid", &mut out).expect("block");
        let msg = CpimMessage::parse(&out).expect("CPIM");
        assert_eq!(
            msg.from.expect("From").uri,
            "sip:anonymous@anonymous.invalid"
        );
        assert_eq!(msg.to[0].uri, "sip:conf@example.com");
        assert_eq!(&msg.content[..], b"hi");
    }

    #[test]
    fn inserts_from_and_needs_the_whole_block() {
        let mut out = Vec::new();
        rewrite_from(
            b"\r\nContent-Type: text/plain\r\n\r\nx",
            "sip:b@x",
            &mut out,
        )
        .expect("empty block");
        assert!(out.starts_with(b"From: <sip:b@x>\r\n\r\n"));
        assert_eq!(
            rewrite_from(b"To: <sip:a@x>\r\nSubj", "sip:b@x", &mut out),
            None
        );
    }
}
