//! What the roles share about MSRP connections they accept (the passive
//! end): the session named by the first To-Path (RFC 4975 §9) and the
//! `506` owed to a second connection for a session already carried
//! (RFC 4975 §5.4).

/// What the first To-Path of an accepted connection names so far.
pub(crate) enum Lookup<'a> {
    /// The head of the first message is not complete yet.
    Incomplete,
    /// The session-id of the last URI of the first To-Path.
    Found(&'a str),
    /// The connection does not start with an MSRP request naming one.
    Invalid,
}

/// The session-id of the last URI of the first `To-Path` header in
/// `buffer` (RFC 4975 §9 session matching).
pub(crate) fn to_path_session_id(buffer: &[u8]) -> Lookup<'_> {
    let Some(start) = memchr::memmem::find(buffer, b"\r\nTo-Path:") else {
        return if memchr::memmem::find(buffer, b"\r\n\r\n").is_some() {
            Lookup::Invalid
        } else {
            Lookup::Incomplete
        };
    };
    let value_start = start + b"\r\nTo-Path:".len();
    let Some(rest) = buffer.get(value_start..) else {
        return Lookup::Incomplete;
    };
    let Some(end) = memchr::memmem::find(rest, b"\r\n") else {
        return Lookup::Incomplete;
    };
    let Ok(value) = std::str::from_utf8(&rest[..end]) else {
        return Lookup::Invalid;
    };
    let Some(last) = value.split_ascii_whitespace().last() else {
        return Lookup::Invalid;
    };
    match crate::msrp::MsrpUri::parse(last) {
        Ok(uri) => uri.session_id.map_or(Lookup::Invalid, Lookup::Found),
        Err(_) => Lookup::Invalid,
    }
}

/// How a second connection for a carried session is answered.
pub(crate) enum Refusal {
    /// The head of its first message is not complete yet.
    Incomplete,
    /// Write these bytes (a `506`, or nothing when no response is owed),
    /// then drop whatever else it sends.
    Reply(Vec<u8>),
    /// It does not start with an MSRP message: close it.
    Invalid,
}

/// RFC 4975 §5.4: the `506` owed to the first request of `buffer` (none to
/// a REPORT or a request with `Failure-Report: no`).
pub(crate) fn refusal(buffer: &[u8], limits: &crate::msrp::Limits) -> Refusal {
    let head_len = match crate::msrp::parse::HeadScanner::default().scan(buffer, limits) {
        Ok(None) => return Refusal::Incomplete,
        Ok(Some(crate::msrp::parse::HeadEnd::Body { head_len, .. }))
        | Ok(Some(crate::msrp::parse::HeadEnd::EndLine { head_len, .. })) => head_len,
        Err(_) => return Refusal::Invalid,
    };
    let has_body = buffer
        .get(head_len..)
        .is_some_and(|r| !r.starts_with(b"-------"));
    let Some(head) = buffer.get(..head_len) else {
        return Refusal::Invalid;
    };
    match crate::msrp::parse::parse_head(head, has_body, limits) {
        Ok(head) => {
            let mut reply = Vec::new();
            if crate::msrp::response_owed(&head, 506) {
                crate::msrp::response(&head, 506).write(&mut reply);
            }
            Refusal::Reply(reply)
        }
        Err(_) => Refusal::Invalid,
    }
}

/// The session-id of the last URI of the `a=path` of an SDP body, parsed
/// under the role's SDP `limits`.
pub(crate) fn local_path_session_id(sdp: &[u8], limits: &crate::sdp::Limits) -> Option<String> {
    let last = msrp_path(sdp, limits)?.pop()?;
    let uri = crate::msrp::MsrpUri::parse(&last).ok()?;
    uri.session_id.map(str::to_owned)
}

/// The URIs of the `a=path` of the MSRP media line of an SDP body, parsed
/// under the role's SDP `limits`.
pub(crate) fn msrp_path(sdp: &[u8], limits: &crate::sdp::Limits) -> Option<Vec<String>> {
    let sdp = crate::sdp::SessionDescription::parse_with_limits(sdp, limits).ok()?;
    let (_, media) = sdp.msrp_media()?;
    Some(media.path()?.iter().map(|p| p.to_string()).collect())
}
