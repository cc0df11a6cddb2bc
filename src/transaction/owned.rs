//! [`OwnedMessage`]: a validated SIP message that owns its bytes.

use std::fmt;

use crate::sip::{
    parse_message_with, HeaderEntry, HeaderName, Layout, Limits, SipError, SipMessage,
};

/// A SIP message that owns its bytes, validated by the parser once.
///
/// Events carry these, so the application can keep them after the call that
/// produced them; [`OwnedMessage::message`] gives the zero-copy
/// [`SipMessage`] view back without parsing again: the message keeps, next
/// to its bytes, where the parser found its start line, header fields and
/// body. The values the parser checked (From, To, Call-ID, CSeq, the top
/// Via, the Request-URI) are parsed again only when a view asks for them.
///
/// ```
/// use oma_im::transaction::OwnedMessage;
///
/// let bytes = b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
///     Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKhjhs8ass877\r\n\
///     To: <sip:bob@example.com>\r\n\
///     From: <sip:alice@example.com>;tag=1928301774\r\n\
///     Call-ID: a84b4c76e66710\r\n\
///     CSeq: 63104 OPTIONS\r\n\
///     Content-Length: 0\r\n\r\n".to_vec();
/// let owned = OwnedMessage::new(bytes)?;
/// assert_eq!(owned.message().method(), Some("OPTIONS"));
/// assert_eq!(owned.request_method(), Some("OPTIONS"));
/// # Ok::<(), oma_im::sip::SipError>(())
/// ```
#[derive(Clone)]
pub struct OwnedMessage {
    bytes: Vec<u8>,
    layout: Layout,
}

impl PartialEq for OwnedMessage {
    /// Messages with the same bytes (their layouts then agree).
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for OwnedMessage {}

impl OwnedMessage {
    /// Validates `bytes` as one SIP message under the default [`Limits`].
    pub fn new(bytes: Vec<u8>) -> Result<Self, SipError> {
        Self::with_limits(bytes, Limits::default())
    }

    /// Validates `bytes` as one SIP message under `limits`.
    pub fn with_limits(mut bytes: Vec<u8>, limits: Limits) -> Result<Self, SipError> {
        let layout = Layout::of(&parse_message_with(&bytes, &limits)?);
        // Kept for as long as a transaction or dialog needs it: without the
        // spare capacity the writer grew it with.
        bytes.shrink_to_fit();
        Ok(OwnedMessage { bytes, layout })
    }

    /// Copies a parsed message (with [`SipMessage::write`]): its start line,
    /// header fields as parsed, and body.
    pub fn from_message(message: &SipMessage<'_>, limits: Limits) -> Result<Self, SipError> {
        let mut bytes = Vec::with_capacity(512 + message.body().len());
        message.write(&mut bytes);
        Self::with_limits(bytes, limits)
    }

    /// Keeps `bytes`, a copy of the input `message` was parsed from (the
    /// whole input, from its first octet).
    pub(crate) fn parsed(bytes: Vec<u8>, message: &SipMessage<'_>) -> Self {
        OwnedMessage {
            layout: Layout::of(message),
            bytes,
        }
    }

    /// Keeps `bytes`, a message the crate wrote and checked, with its
    /// `layout`, made from where it wrote each part.
    pub(crate) fn laid_out(mut bytes: Vec<u8>, layout: Layout) -> Self {
        bytes.shrink_to_fit();
        let owned = OwnedMessage { bytes, layout };
        // Every test run checks the written layout against the parser's.
        #[cfg(debug_assertions)]
        {
            let parsed = parse_message_with(&owned.bytes, &owned.unbounded())
                .expect("a checked message parses");
            assert_eq!(
                format!("{:?}", Layout::of(&parsed)),
                format!("{:?}", owned.layout),
                "the written layout of {:?}",
                String::from_utf8_lossy(&owned.bytes)
            );
        }
        owned
    }

    /// The zero-copy view of the message, rebuilt from the layout kept with
    /// the bytes (no parsing).
    pub fn message(&self) -> SipMessage<'_> {
        // The layout was made by parsing exactly these (immutable) bytes,
        // so the view is always rebuilt; parsing again is the fallback
        // that cannot be reached, and the bytes were accepted once.
        self.layout
            .view(&self.bytes)
            .or_else(|| parse_message_with(&self.bytes, &self.unbounded()).ok())
            .expect("an OwnedMessage holds bytes its constructor validated")
    }

    /// Changes octets of the message in place, keeping its length: `edit`
    /// must leave a message the parser accepts with the same layout (a
    /// token replaced by another of the same length).
    pub(crate) fn patch(&mut self, edit: impl FnOnce(&mut [u8])) {
        edit(&mut self.bytes);
    }

    /// Limits that every part of these bytes is within, with the value
    /// limits the message was parsed with.
    fn unbounded(&self) -> Limits {
        Limits {
            max_message_size: self.bytes.len(),
            max_headers: self.layout.header_count() + 1,
            max_header_len: self.bytes.len(),
            values: self.layout.value_limits(),
        }
    }

    /// The request reduced to what a transaction that has sent its final
    /// response still needs: the request line and the `Via`, `From`, `To`,
    /// `Call-ID` and `CSeq` fields, without a body. A rejected request then
    /// keeps a few hundred bytes, not the whole message, while its
    /// transaction waits (for the ACK, or to absorb retransmissions).
    /// Leaves the message unchanged when it is not a request, or already
    /// small.
    pub(crate) fn shrink_to_skeleton(&mut self) {
        use crate::sip::HeaderName;
        let offset = |out: &Vec<u8>| u32::try_from(out.len()).unwrap_or(u32::MAX);
        let (skeleton, layout) = {
            let msg = self.message();
            let Some(line) = msg.request_line() else {
                return;
            };
            let mut out = Vec::with_capacity(256);
            let mut headers = Vec::with_capacity(8);
            out.extend_from_slice(line.method.as_bytes());
            let method = (0, offset(&out));
            out.push(b' ');
            let uri_start = offset(&out);
            out.extend_from_slice(line.uri.as_bytes());
            let uri = (uri_start, offset(&out));
            out.extend_from_slice(b" SIP/2.0\r\n");
            let mut field = |out: &mut Vec<u8>, name: HeaderName<'_>, value: &str| {
                let start = offset(out);
                out.extend_from_slice(name.as_str().as_bytes());
                out.extend_from_slice(b": ");
                let value_start = offset(out);
                out.extend_from_slice(value.as_bytes());
                headers.push(HeaderEntry {
                    id: name.id(),
                    field: start,
                    start: value_start,
                    end: offset(out),
                });
                out.extend_from_slice(b"\r\n");
            };
            for (name, value) in msg.headers() {
                let keep = matches!(
                    name,
                    HeaderName::Via
                        | HeaderName::From
                        | HeaderName::To
                        | HeaderName::CallId
                        | HeaderName::CSeq
                );
                if keep {
                    field(&mut out, name, value.value);
                }
            }
            field(&mut out, HeaderName::ContentLength, "0");
            out.extend_from_slice(b"\r\n");
            // The fields of a message the parser accepted, fewer, written
            // as it found them: their offsets are the layout, no parsing
            // needed.
            let layout = Layout::written_request(
                method,
                uri,
                headers.into_boxed_slice(),
                offset(&out),
                self.layout.more_vias(),
                &msg.value_limits(),
            );
            (out, layout)
        };
        if skeleton.len() < self.bytes.len() {
            self.bytes = skeleton;
            self.bytes.shrink_to_fit();
            self.layout = layout;
        }
    }

    /// The method of a request, read from its Request-Line without parsing
    /// the message again (`None` for a response).
    pub fn request_method(&self) -> Option<&str> {
        self.layout.method(&self.bytes)
    }

    /// The value of the first `name` header field (a name the crate knows,
    /// not [`HeaderName::Other`](crate::sip::HeaderName::Other)), as
    /// [`SipMessage::header`] gives it, read without rebuilding the whole
    /// view.
    ///
    /// ```
    /// use oma_im::sip::HeaderName;
    /// use oma_im::transaction::OwnedMessage;
    ///
    /// let m = OwnedMessage::new(
    ///     b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
    ///       Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n\
    ///       From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
    ///       Call-ID: a84b4c76e66710\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ///         .to_vec(),
    /// )?;
    /// assert_eq!(m.header_value(HeaderName::CallId), Some("a84b4c76e66710"));
    /// assert_eq!(m.header_value(HeaderName::Contact), None);
    /// # Ok::<(), oma_im::sip::SipError>(())
    /// ```
    pub fn header_value(&self, name: HeaderName<'_>) -> Option<&str> {
        self.layout.first_value(name.id(), &self.bytes)
    }

    /// The message as sent or received on the wire.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Gives the bytes back.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

impl fmt::Debug for OwnedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedMessage")
            .field(&String::from_utf8_lossy(&self.bytes))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeleton_layout_is_the_one_a_parse_finds() {
        let bytes = b"INVITE sip:conf@im.example.com SIP/2.0\r\n\
            v: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-a\r\n\
            Via: SIP/2.0/TCP 192.0.2.2:5060;branch=z9hG4bK-b\r\n\
            Max-Forwards: 70\r\n\
            From: <sip:a@example.com>;tag=f\r\n\
            To: <sip:conf@im.example.com>\r\n\
            Call-ID: c1\r\n\
            CSeq: 1 INVITE\r\n\
            Subject: x\r\n\
            Content-Type: text/plain\r\n\
            Content-Length: 5\r\n\r\nhello"
            .to_vec();
        let mut owned = OwnedMessage::new(bytes).unwrap();
        owned.shrink_to_skeleton();
        let text = std::str::from_utf8(owned.bytes()).unwrap();
        assert_eq!(
            text,
            "INVITE sip:conf@im.example.com SIP/2.0\r\n\
             Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-a\r\n\
             Via: SIP/2.0/TCP 192.0.2.2:5060;branch=z9hG4bK-b\r\n\
             From: <sip:a@example.com>;tag=f\r\n\
             To: <sip:conf@im.example.com>\r\n\
             Call-ID: c1\r\n\
             CSeq: 1 INVITE\r\n\
             Content-Length: 0\r\n\r\n"
        );
        let parsed = parse_message_with(owned.bytes(), &Limits::default()).unwrap();
        let kept = owned.message();
        assert_eq!(kept, parsed);
        assert_eq!(kept.request_line(), parsed.request_line());
        assert_eq!(kept.top_via(), parsed.top_via());
        assert_eq!(kept.body(), b"");
        assert_eq!(owned.request_method(), Some("INVITE"));
    }
}
