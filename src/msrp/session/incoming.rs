//! Session matching and the per-request checks of RFC 4975 §7.2/§7.3, on a
//! received head, into reused owned fields.

use crate::msrp::{
    ByteRange, FailureReport, Method, MsrpError, MsrpHead, MsrpUri, Scheme, StartLine,
    SuccessReport,
};
use crate::sdp::AcceptTypes;

/// What to do with the request or response being received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A SEND to reassemble.
    Accept,
    /// A SEND without body (binding or keep-alive): answer 200, no message.
    Empty,
    /// Answer with this code.
    Reject(u16),
    /// A response to one of our transactions.
    Response(u16),
    /// A REPORT about one of our messages.
    Report(u16),
    /// Nothing to do (a request we ignore silently).
    Ignore,
}

/// The owned parts of the head being received.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) verdict: Verdict,
    pub(crate) transact_id: String,
    pub(crate) message_id: String,
    pub(crate) content_type: String,
    /// The To-Path and From-Path lines of a response to it (the first URI
    /// of its From-Path, the first of its To-Path): empty when the
    /// receiver's own path lines say the same ([`Incoming::own_paths`]).
    pub(crate) to_line: Vec<u8>,
    pub(crate) from_line: Vec<u8>,
    /// It came from the receiver's one-URI remote path to its local URI: a
    /// response goes back on the receiver's own path lines.
    pub(crate) own_paths: bool,
    pub(crate) byte_range: Option<ByteRange>,
    pub(crate) success_report: Option<SuccessReport>,
    pub(crate) failure_report: Option<FailureReport>,
    /// Whether the request got past session matching (binds the connection).
    pub(crate) matched: bool,
}

impl Incoming {
    /// The bytes of its texts.
    pub(crate) fn held_bytes(&self) -> usize {
        self.transact_id.capacity()
            + self.message_id.capacity()
            + self.content_type.capacity()
            + self.to_line.capacity()
            + self.from_line.capacity()
    }

    pub(crate) fn empty() -> Self {
        Self {
            verdict: Verdict::Ignore,
            transact_id: String::new(),
            message_id: String::new(),
            content_type: String::new(),
            to_line: Vec::new(),
            from_line: Vec::new(),
            own_paths: false,
            byte_range: None,
            success_report: None,
            failure_report: None,
            matched: false,
        }
    }

    /// The To-Path and From-Path lines of a response to it, given the
    /// receiver's own (`to_line` towards its remote path, `from_line` with
    /// its local URI).
    pub(crate) fn response_lines<'s>(
        &'s self,
        to_line: &'s [u8],
        from_line: &'s [u8],
    ) -> (&'s [u8], &'s [u8]) {
        if self.own_paths {
            (to_line, from_line)
        } else {
            (&self.to_line, &self.from_line)
        }
    }
}

/// What session matching needs, apart from the parser.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    pub(crate) local_uri: UriKey,
    pub(crate) remote_uri: UriKey,
    pub(crate) accept_types: std::sync::Arc<AcceptTypes<'static>>,
    pub(crate) max_size: u64,
}

fn set(dst: &mut String, src: &str) {
    dst.clear();
    dst.push_str(src);
}

/// Sets `dst` to the path line `name: uri CRLF`, or empties it without a
/// URI.
fn set_line(dst: &mut Vec<u8>, name: &[u8], uri: Option<&MsrpUri<'_>>) {
    dst.clear();
    if let Some(uri) = uri {
        dst.extend_from_slice(name);
        dst.extend_from_slice(b": ");
        uri.write(dst);
        dst.extend_from_slice(b"\r\n");
    }
}

/// Session matching and the checks of RFC 4975 §7.2/§7.3 on a head, for a
/// receiver whose remote path is one URI when `one_uri_remote` (a request
/// from it, a one-URI From-Path matching it, is then answered on the
/// receiver's own path lines).
pub(crate) fn classify(
    head: &MsrpHead<'_>,
    has_body: bool,
    local: &Local,
    one_uri_remote: bool,
    inc: &mut Incoming,
) {
    set(&mut inc.transact_id, head.transact_id);
    set(&mut inc.message_id, head.message_id.unwrap_or(""));
    set(&mut inc.content_type, head.content_type.unwrap_or(""));
    inc.byte_range = head.byte_range;
    inc.success_report = head.success_report;
    inc.failure_report = head.failure_report;
    let to_matches = head
        .to_path
        .first()
        .is_some_and(|to| local.local_uri.matches(to));
    let from_matches = head
        .from_path
        .last()
        .is_some_and(|from| local.remote_uri.matches(from));
    inc.matched = to_matches && from_matches;
    let response = matches!(head.start, StartLine::Response { .. });
    // A response goes to the first URI of the From-Path, from the first of
    // the To-Path (RFC 4975 §7.2): the receiver's own remote and local
    // URIs when the request matched them on one-URI paths.
    inc.own_paths = !response && inc.matched && one_uri_remote && head.from_path.len() == 1;
    if response || inc.own_paths {
        // Nothing answers a response; the receiver's own lines answer the
        // rest.
        inc.to_line.clear();
        inc.from_line.clear();
    } else {
        set_line(&mut inc.to_line, b"To-Path", head.from_path.first());
        set_line(&mut inc.from_line, b"From-Path", head.to_path.first());
    }
    inc.verdict = match head.start {
        StartLine::Response { code, .. } => Verdict::Response(code),
        _ if !inc.matched => match head.method() {
            Some(Method::Report) => Verdict::Ignore,
            _ => Verdict::Reject(481),
        },
        StartLine::Request(Method::Report) => Verdict::Report(head.status.map_or(200, |s| s.code)),
        StartLine::Request(Method::Other(_)) => Verdict::Reject(501),
        StartLine::Request(Method::Send) => {
            let total = head.byte_range.and_then(|r| r.total).unwrap_or(0);
            if head.message_id.is_none() {
                Verdict::Reject(400)
            } else if !has_body {
                if head.byte_range.is_some_and(|r| r.start > 1) {
                    // A body-less chunk of a longer message (e.g. an abort).
                    Verdict::Accept
                } else {
                    Verdict::Empty
                }
            } else if !head
                .content_type
                .is_some_and(|ct| local.accept_types.matches(ct))
            {
                Verdict::Reject(415)
            } else if total > local.max_size {
                Verdict::Reject(413)
            } else {
                Verdict::Accept
            }
        }
    };
}

/// The parts of an MSRP URI that the comparison of RFC 4975 §6.1 looks at,
/// owned, so that a session compares received URIs without parsing its own
/// again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UriKey {
    scheme: Scheme,
    port: Option<u16>,
    /// The host, the session-id (if any) and the transport, one after the
    /// other (one allocation: a switch keeps two keys per leg).
    text: Box<str>,
    host_len: u32,
    /// The session-id's length, `None` without one.
    session_len: Option<u32>,
}

impl UriKey {
    /// The bytes of its text (its one allocation).
    pub(crate) fn held_bytes(&self) -> usize {
        self.text.len()
    }

    /// The key of `uri`, or why it is not an MSRP URI.
    pub(crate) fn parse(uri: &str) -> Result<Self, MsrpError> {
        let uri = MsrpUri::parse(uri)?;
        let session = uri.session_id.unwrap_or_default();
        let mut text = String::with_capacity(uri.host.len() + session.len() + uri.transport.len());
        text.push_str(uri.host);
        text.push_str(session);
        text.push_str(uri.transport);
        // A parsed URI is shorter than its input, which fits in memory:
        // lengths over `u32::MAX` cannot come from a URI a limit let in.
        let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(Self {
            scheme: uri.scheme,
            port: uri.port,
            text: text.into_boxed_str(),
            host_len: len(uri.host.len()),
            session_len: uri.session_id.map(|s| len(s.len())),
        })
    }

    fn parts(&self) -> (&str, Option<&str>, &str) {
        let host_end = self.host_len as usize;
        let session_end = host_end + self.session_len.unwrap_or(0) as usize;
        let part = |range: std::ops::Range<usize>| self.text.get(range).unwrap_or_default();
        (
            part(0..host_end),
            self.session_len.map(|_| part(host_end..session_end)),
            part(session_end..self.text.len()),
        )
    }

    /// [`MsrpUri::matches`] against this key.
    pub(crate) fn matches(&self, other: &MsrpUri<'_>) -> bool {
        let (host, session_id, transport) = self.parts();
        // Usually written as the key was: compared as bytes first.
        let same = |a: &str, b: &str| a == b || a.eq_ignore_ascii_case(b);
        self.scheme == other.scheme
            && self.port == other.port
            && session_id == other.session_id
            && same(host, other.host)
            && same(transport, other.transport)
    }
}

#[cfg(test)]
mod tests {
    use super::UriKey;
    use crate::msrp::MsrpUri;

    #[test]
    fn key_matches_as_msrp_uri_matches() {
        let mine = "msrp://Bob.example.com:8888/9di4eae923wzd;tcp";
        let key = UriKey::parse(mine).expect("valid");
        for other in [
            "msrp://bob.EXAMPLE.com:8888/9di4eae923wzd;TCP;x=1",
            "msrp://bob.example.com:8888/9DI4eae923wzd;tcp",
            "msrps://bob.example.com:8888/9di4eae923wzd;tcp",
            "msrp://bob.example.com:8889/9di4eae923wzd;tcp",
            "msrp://bob.example.com:8888;tcp",
        ] {
            let other = MsrpUri::parse(other).expect("valid");
            let reference = MsrpUri::parse(mine).expect("valid").matches(&other);
            assert_eq!(key.matches(&other), reference, "{other}");
        }
    }
}
