//! The answers a receiver owes, without a transaction, for requests it
//! cannot or will not process: 400 for a malformed request (the reason
//! phrase names the cause), 505 for another SIP version (§8.2.2), 501 with
//! Allow for an unknown method (§8.2.1), 416 for an unsupported Request-URI
//! scheme (§8.2.2.1), 420 with Unsupported for a Require of an unknown option
//! tag (§8.2.2.3) and 415 with Accept for an unsupported body (§8.2.3).

use std::net::SocketAddr;

use super::build::{response_to, MessageWriter};
use crate::sip::{
    CommaSplit, HeaderName, Method, MethodSet, OptionTag, OptionTags, SipError, SipErrorKind,
    SipMessage, ValueLimits, Via,
};

/// What a user agent supports: the basis of the checks of [`check_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The methods it accepts (Allow of a 501 or 405).
    pub allow: MethodSet<'static>,
    /// The option tags it supports; a Require of any other gets 420.
    pub supported: OptionTags<'static>,
    /// The body media types it accepts, `type/subtype` (Accept of a 415).
    pub accept: Vec<&'static str>,
    /// The Request-URI schemes it serves (lower case); others get 416.
    pub uri_schemes: Vec<&'static str>,
}

impl Default for Capabilities {
    /// INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REFER,
    /// SUBSCRIBE and NOTIFY; no option tag; `application/sdp`, `text/plain`,
    /// `message/cpim`, `multipart/mixed` and, for NOTIFYs,
    /// `application/conference-info+xml` (the conference event package) and
    /// `message/sipfrag` (a REFER's implicit subscription, RFC 3515)
    /// bodies; `sip`, `sips` and `tel`.
    fn default() -> Self {
        let mut allow = MethodSet::new();
        for m in [
            Method::Invite,
            Method::Ack,
            Method::Bye,
            Method::Cancel,
            Method::Options,
            Method::Message,
            Method::Info,
            Method::Update,
            Method::Refer,
            Method::Subscribe,
            Method::Notify,
        ] {
            allow.insert(m);
        }
        Capabilities {
            allow,
            supported: OptionTags::new(),
            accept: vec![
                "application/sdp",
                "text/plain",
                "message/cpim",
                "multipart/mixed",
                "application/conference-info+xml",
                "message/sipfrag",
            ],
            uri_schemes: vec!["sip", "sips", "tel"],
        }
    }
}

/// Why a request is refused, and the response that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The Status-Code.
    pub status: u16,
    /// The Reason-Phrase, naming the cause for a 400.
    pub reason: String,
    /// The header field the response must carry (Allow, Unsupported, Accept).
    pub header: Option<(&'static str, String)>,
}

impl Rejection {
    fn new(status: u16, reason: impl Into<String>) -> Self {
        Rejection {
            status,
            reason: reason.into(),
            header: None,
        }
    }

    fn with(mut self, name: &'static str, value: String) -> Self {
        self.header = Some((name, value));
        self
    }

    /// The 400 or 505 for a request the parser rejected with `error`.
    pub fn of_error(error: &SipError) -> Self {
        match error.kind {
            SipErrorKind::UnsupportedVersion => Rejection::new(505, "Version Not Supported"),
            ref kind => Rejection::new(400, format!("Bad Request ({kind})")),
        }
    }
}

/// Checks a parsed request against what the receiver supports, in the order
/// of §8.2: method (501 with Allow), Request-URI scheme (416), the header
/// fields the transaction layer needs (400), Require (420 with Unsupported,
/// not for ACK and CANCEL), body type (415 with Accept). ACK is never
/// refused (it gets no response).
///
/// It is [`check_request_head`] then [`check_extensions`]; a receiver that
/// decides whether it serves the Request-URI (404, §8.2.2.1) does so
/// between the two.
pub fn check_request(request: &SipMessage<'_>, caps: &Capabilities) -> Result<(), Rejection> {
    check_request_head(request, caps)?;
    check_extensions(request, caps, &[])
}

/// The checks of §8.2 that come before the Request-URI is looked at:
/// method (501 with Allow), Request-URI scheme (416) and the header fields
/// the transaction layer needs (400). ACK is never refused.
pub fn check_request_head(request: &SipMessage<'_>, caps: &Capabilities) -> Result<(), Rejection> {
    let Some(line) = request.request_line() else {
        return Ok(());
    };
    let method = Method::parse(line.method).unwrap_or(Method::Extension(line.method));
    if method == Method::Ack {
        return Ok(());
    }
    if !caps.allow.contains(method) {
        return Err(Rejection::new(501, "Not Implemented").with("Allow", caps.allow.to_string()));
    }
    let scheme = line.uri.split(':').next().unwrap_or_default();
    if !caps
        .uri_schemes
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return Err(Rejection::new(416, "Unsupported URI Scheme"));
    }
    if let Some(Err(e)) = request.top_via() {
        return Err(Rejection::of_error(&e));
    }
    for accessor in [SipMessage::from, SipMessage::to] {
        if let Some(Err(e)) = accessor(request) {
            return Err(Rejection::of_error(&e));
        }
    }
    Ok(())
}

/// The checks of §8.2 that come after the Request-URI is accepted: Require
/// (§8.2.2.3: 420 with Unsupported listing every option tag supported
/// neither in `caps` nor in `also_supported`; not for ACK and CANCEL) and
/// the body type (§8.2.3: 415 with Accept).
///
/// `also_supported` names extensions the receiver supports only at some of
/// its URIs, such as `recipient-list-invite` at a Conference-factory-URI
/// (RFC 5366 §5).
///
/// ```
/// use oma_im::sip::{parse_message, OptionTag};
/// use oma_im::transaction::{check_extensions, Capabilities};
///
/// let invite = parse_message(b"INVITE sip:conf-factory@example.com SIP/2.0\r\n\
/// Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
/// From: <sip:alice@example.com>;tag=1\r\nTo: <sip:conf-factory@example.com>\r\n\
/// Call-ID: c1\r\nCSeq: 1 INVITE\r\nRequire: recipient-list-invite\r\n\
/// Content-Length: 0\r\n\r\n").unwrap();
/// let caps = Capabilities::default();
/// assert_eq!(check_extensions(&invite, &caps, &[]).unwrap_err().status, 420);
/// assert!(check_extensions(&invite, &caps, &[OptionTag::RecipientListInvite]).is_ok());
/// ```
pub fn check_extensions(
    request: &SipMessage<'_>,
    caps: &Capabilities,
    also_supported: &[OptionTag<'_>],
) -> Result<(), Rejection> {
    let Some(line) = request.request_line() else {
        return Ok(());
    };
    let method = Method::parse(line.method).unwrap_or(Method::Extension(line.method));
    if method == Method::Ack {
        return Ok(());
    }
    if method != Method::Cancel {
        match request.require() {
            Some(Ok(require)) => {
                let mut unsupported = String::new();
                for tag in require
                    .iter()
                    .filter(|t| !caps.supported.contains(*t) && !also_supported.contains(t))
                {
                    if !unsupported.is_empty() {
                        unsupported.push_str(", ");
                    }
                    unsupported.push_str(OptionTag::as_str(&tag));
                }
                if !unsupported.is_empty() {
                    return Err(
                        Rejection::new(420, "Bad Extension").with("Unsupported", unsupported)
                    );
                }
            }
            Some(Err(e)) => return Err(Rejection::of_error(&e)),
            None => {}
        }
    }
    if !request.body().is_empty() {
        let acceptable = match request.content_type() {
            Some(Ok(ct)) => caps.accept.iter().any(|a| {
                let (t, s) = a.split_once('/').unwrap_or((a, ""));
                ct.is(t, s)
            }),
            Some(Err(e)) => return Err(Rejection::of_error(&e)),
            // §7.4.1: a body without Content-Type is malformed.
            None => {
                return Err(Rejection::of_error(&SipError::new(
                    SipErrorKind::MissingHeader(HeaderName::ContentType),
                    0,
                )))
            }
        };
        if !acceptable {
            return Err(Rejection::new(415, "Unsupported Media Type")
                .with("Accept", caps.accept.join(", ")));
        }
    }
    Ok(())
}

/// The response to `request` that carries `rejection`, with `to_tag` added
/// to a To without a tag and the top Via stamped for `source`.
pub(crate) fn reject_bytes(
    request: &SipMessage<'_>,
    rejection: &Rejection,
    to_tag: &str,
    source: SocketAddr,
) -> Vec<u8> {
    let mut w = response_to(
        request,
        rejection.status,
        &rejection.reason,
        Some(to_tag),
        Some(source),
    );
    if let Some((name, value)) = &rejection.header {
        w.header(name, value);
    }
    w.finish(b"")
}

/// The 400 or 505 owed to a datagram the parser rejected with `error`, when
/// it is recognisably a request: its Via, From, To, Call-ID and CSeq lines
/// are copied as found (compact forms included). `None` when it is not a
/// request or has no Via to answer along: none, or a top Via value that
/// does not parse as a Via. A field the request lacks is
/// absent from the answer too — RFC 4475 §3.3.1 (`insuf`) still wants the 400 sent
/// — so such an answer is not a complete response for a strict parser
/// (ours included): the sender learns its request failed either way.
///
/// ```
/// use oma_im::sip::parse_message;
/// use oma_im::transaction::stateless_answer;
///
/// let bad = b"OPTIONS sip:bob@example.com SIP/7.0\r\n\
///     Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKcbad\r\n\
///     To: <sip:bob@example.com>\r\n\
///     From: <sip:alice@example.com>;tag=1\r\n\
///     Call-ID: b7\r\n\
///     CSeq: 1 OPTIONS\r\n\r\n";
/// let error = parse_message(bad).unwrap_err();
/// let answer = stateless_answer(bad, &error).unwrap();
/// assert!(answer.starts_with(b"SIP/2.0 505 Version Not Supported\r\n"));
/// ```
pub fn stateless_answer(input: &[u8], error: &SipError) -> Option<Vec<u8>> {
    let text = input.get(..input.len().min(64 * 1024))?;
    let mut lines = text
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .skip_while(|l| l.is_empty());
    let first = lines.next()?;
    if first.starts_with(b"SIP/") || !first.contains(&b' ') {
        return None;
    }
    let rejection = Rejection::of_error(error);
    let mut w = MessageWriter::response(rejection.status, &rejection.reason);
    let mut has_via = false;
    for line in lines.take_while(|l| !l.is_empty()) {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(line.get(..colon).unwrap_or_default()) else {
            continue;
        };
        let name = name.trim();
        let value = line.get(colon + 1..).unwrap_or_default();
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() || value.chars().any(char::is_control) {
            continue;
        }
        let field = match HeaderName::parse(name) {
            HeaderName::Via => {
                // The answer goes back along the top Via (§18.2.2): one
                // that does not parse is not echoed, and without it there
                // is no answer.
                let top = CommaSplit::new(value).next().map(|(_, v)| v);
                if !has_via
                    && top.is_none_or(|v| Via::parse_with(v, &ValueLimits::default()).is_err())
                {
                    return None;
                }
                has_via = true;
                "Via"
            }
            HeaderName::From => "From",
            HeaderName::To => "To",
            HeaderName::CallId => "Call-ID",
            HeaderName::CSeq => "CSeq",
            _ => continue,
        };
        w.header(field, value);
    }
    has_via.then(|| w.finish(b""))
}
