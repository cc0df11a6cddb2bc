//! Session matching and the per-request checks of RFC 4975 §7.2/§7.3, on a
//! received head, into reused owned fields.

use crate::msrp::{ByteRange, FailureReport, Method, MsrpHead, MsrpUri, StartLine, SuccessReport};
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
    pub(crate) to_first: String,
    pub(crate) from_first: String,
    pub(crate) byte_range: Option<ByteRange>,
    pub(crate) success_report: Option<SuccessReport>,
    pub(crate) failure_report: Option<FailureReport>,
    /// Whether the request got past session matching (binds the connection).
    pub(crate) matched: bool,
}

impl Incoming {
    pub(crate) fn empty() -> Self {
        Self {
            verdict: Verdict::Ignore,
            transact_id: String::new(),
            message_id: String::new(),
            content_type: String::new(),
            to_first: String::new(),
            from_first: String::new(),
            byte_range: None,
            success_report: None,
            failure_report: None,
            matched: false,
        }
    }
}

/// What session matching needs, apart from the parser.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    pub(crate) local_uri: String,
    pub(crate) remote_uri: String,
    pub(crate) accept_types: AcceptTypes<'static>,
    pub(crate) max_size: u64,
}

fn set(dst: &mut String, src: &str) {
    dst.clear();
    dst.push_str(src);
}

fn set_uri(dst: &mut String, uri: Option<&MsrpUri<'_>>) {
    dst.clear();
    if let Some(uri) = uri {
        let mut bytes = std::mem::take(dst).into_bytes();
        uri.write(&mut bytes);
        *dst = String::from_utf8(bytes).unwrap_or_default();
    }
}

/// Session matching and the checks of RFC 4975 §7.2/§7.3 on a head.
pub(crate) fn classify(head: &MsrpHead<'_>, has_body: bool, local: &Local, inc: &mut Incoming) {
    set(&mut inc.transact_id, head.transact_id);
    set(&mut inc.message_id, head.message_id.unwrap_or(""));
    set(&mut inc.content_type, head.content_type.unwrap_or(""));
    set_uri(&mut inc.to_first, head.to_path.first());
    set_uri(&mut inc.from_first, head.from_path.first());
    inc.byte_range = head.byte_range;
    inc.success_report = head.success_report;
    inc.failure_report = head.failure_report;
    let to_matches = match (MsrpUri::parse(&local.local_uri), head.to_path.first()) {
        (Ok(mine), Some(to)) => mine.matches(to),
        _ => false,
    };
    let from_matches = match (MsrpUri::parse(&local.remote_uri), head.from_path.last()) {
        (Ok(theirs), Some(from)) => theirs.matches(from),
        _ => false,
    };
    inc.matched = to_matches && from_matches;
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
