//! Writing SIP messages the transaction layer and the UA core produce:
//! responses copied from their request (§8.2.6.2), the ACK for a non-2xx
//! final response (§17.1.1.3) and CANCEL (§9.1).
//!
//! A small private writer: header fields are appended as text and the
//! Content-Length is added by [`MessageWriter::finish`].

use crate::decimal::{push_decimal, push_ipv4};
use std::net::SocketAddr;

use smallvec::SmallVec;

use crate::sip::{HeaderEntry, HeaderName, SipMessage, Via};

/// Appends a SIP message, field by field, into a `Vec<u8>`.
#[derive(Debug)]
pub(crate) struct MessageWriter {
    out: Vec<u8>,
    /// Header fields written so far.
    fields: usize,
    /// Where the fields written with [`known_with`](Self::known_with) are.
    known: SmallVec<[HeaderEntry; 6]>,
}

impl MessageWriter {
    /// Starts a request: `METHOD uri SIP/2.0`.
    pub(crate) fn request(method: &str, uri: &str) -> Self {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(uri.as_bytes());
        out.extend_from_slice(b" SIP/2.0\r\n");
        MessageWriter {
            out,
            fields: 0,
            known: SmallVec::new(),
        }
    }

    /// Starts a response: `SIP/2.0 code reason`.
    pub(crate) fn response(code: u16, reason: &str) -> Self {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"SIP/2.0 ");
        push_decimal(&mut out, u64::from(code));
        out.push(b' ');
        out.extend_from_slice(reason.as_bytes());
        out.extend_from_slice(b"\r\n");
        MessageWriter {
            out,
            fields: 0,
            known: SmallVec::new(),
        }
    }

    /// Appends `name: value`.
    pub(crate) fn header(&mut self, name: &str, value: &str) -> &mut Self {
        self.header_with(name, |out| out.extend_from_slice(value.as_bytes()))
    }

    /// Appends `name: ` and whatever `value` writes.
    pub(crate) fn header_with(
        &mut self,
        name: &str,
        value: impl FnOnce(&mut Vec<u8>),
    ) -> &mut Self {
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b": ");
        value(&mut self.out);
        self.out.extend_from_slice(b"\r\n");
        self.fields += 1;
        self
    }

    /// Appends `name: ` and whatever `value` writes, noting where the
    /// field is, for a layout made without parsing the message
    /// ([`finish_known`](Self::finish_known)).
    pub(crate) fn known_with(
        &mut self,
        name: HeaderName<'static>,
        value: impl FnOnce(&mut Vec<u8>),
    ) -> &mut Self {
        // Offsets fit in u32: the messages written are far smaller.
        let field = self.out.len() as u32;
        self.out.extend_from_slice(name.as_str().as_bytes());
        self.out.extend_from_slice(b": ");
        let start = self.out.len() as u32;
        value(&mut self.out);
        let end = self.out.len() as u32;
        self.out.extend_from_slice(b"\r\n");
        self.fields += 1;
        self.known.push(HeaderEntry {
            id: name.id(),
            field,
            start,
            end,
        });
        self
    }

    /// Octets written so far.
    pub(crate) fn len(&self) -> usize {
        self.out.len()
    }

    /// Header fields written so far (Content-Length is added by
    /// [`finish`](Self::finish)).
    pub(crate) fn fields(&self) -> usize {
        self.fields
    }

    /// Appends every value of `name` in `from`, one field each, in order.
    pub(crate) fn copy_all(&mut self, from: &SipMessage<'_>, name: HeaderName<'_>) -> &mut Self {
        let field = name.as_str();
        for value in from.header_values(name) {
            self.header(field, value.value);
        }
        self
    }

    /// Appends the first value of `name` in `from`, if any.
    pub(crate) fn copy_first(&mut self, from: &SipMessage<'_>, name: HeaderName<'_>) -> &mut Self {
        if let Some(value) = from.header(name) {
            self.header(name.as_str(), value.value);
        }
        self
    }

    /// [`finish`](Self::finish), noting Content-Length with the fields
    /// written by [`known_with`](Self::known_with): the message and where
    /// those fields are.
    pub(crate) fn finish_known(mut self, body: &[u8]) -> (Vec<u8>, SmallVec<[HeaderEntry; 6]>) {
        self.known_with(HeaderName::ContentLength, |out| {
            push_decimal(out, body.len() as u64)
        });
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body);
        (self.out, self.known)
    }

    /// Appends Content-Length, the empty line and `body`; the message.
    pub(crate) fn finish(mut self, body: &[u8]) -> Vec<u8> {
        self.out.extend_from_slice(b"Content-Length: ");
        push_decimal(&mut self.out, body.len() as u64);
        self.out.extend_from_slice(b"\r\n\r\n");
        self.out.extend_from_slice(body);
        self.out
    }
}

/// The Reason-Phrase RFC 3261 §21 gives `code`, or a generic one for its class.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "Version Not Supported",
        603 => "Decline",
        _ => match code / 100 {
            1 => "Provisional",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

/// A response to `request` (§8.2.6.2): every Via, From, To (with `to_tag`
/// added when the request's To has none), Call-ID and CSeq copied. The
/// caller appends further fields and finishes it.
pub(crate) fn response_to(
    request: &SipMessage<'_>,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    source: Option<SocketAddr>,
) -> MessageWriter {
    let mut w = MessageWriter::response(code, reason);
    write_vias(&mut w, request, source);
    w.copy_first(request, HeaderName::From);
    if let Some(to) = request.header(HeaderName::To) {
        let has_tag = request
            .to()
            .and_then(Result::ok)
            .is_some_and(|to| to.tag().is_some());
        w.header_with("To", |out| {
            out.extend_from_slice(to.value.as_bytes());
            if let (Some(tag), false) = (to_tag, has_tag) {
                out.extend_from_slice(b";tag=");
                out.extend_from_slice(tag.as_bytes());
            }
        });
    }
    w.copy_first(request, HeaderName::CallId);
    w.copy_first(request, HeaderName::CSeq);
    w
}

/// The ACK a client INVITE transaction sends for a non-2xx final response
/// (§17.1.1.3): Request-URI, Call-ID, From and the top Via of the INVITE, the
/// CSeq number with method ACK, To from the response, the INVITE's Route.
pub(crate) fn ack_for_non_2xx(invite: &SipMessage<'_>, response: &SipMessage<'_>) -> Vec<u8> {
    derived_request(invite, "ACK", Some(response))
}

/// The CANCEL for `request` (§9.1): same Request-URI, Call-ID, To, From, top
/// Via and Route, CSeq number with method CANCEL.
pub(crate) fn cancel_for(request: &SipMessage<'_>) -> Vec<u8> {
    derived_request(request, "CANCEL", None)
}

/// A request derived from `request` with `method`; To from `to_from` when given.
fn derived_request(
    request: &SipMessage<'_>,
    method: &str,
    to_from: Option<&SipMessage<'_>>,
) -> Vec<u8> {
    let uri = request.request_line().map_or("", |line| line.uri);
    let mut w = MessageWriter::request(method, uri);
    w.copy_first(request, HeaderName::Via);
    w.copy_all(request, HeaderName::Route);
    w.header("Max-Forwards", "70");
    w.copy_first(request, HeaderName::From);
    match to_from {
        Some(response) => w.copy_first(response, HeaderName::To),
        None => w.copy_first(request, HeaderName::To),
    };
    w.copy_first(request, HeaderName::CallId);
    let seq = request.cseq().and_then(Result::ok).map_or(0, |c| c.seq);
    w.header_with("CSeq", |out| {
        push_decimal(out, u64::from(seq));
        out.push(b' ');
        out.extend_from_slice(method.as_bytes());
    });
    w.finish(b"")
}

/// Appends the Via fields of `request` to its response. With the `source`
/// the request came from, the top Via gets `received` when its sent-by host
/// differs from the source address (§18.2.1) and a value for an empty
/// `rport` (RFC 3581 §4). When a Via does not parse, every Via is copied as
/// written.
fn write_vias(w: &mut MessageWriter, request: &SipMessage<'_>, source: Option<SocketAddr>) {
    let Some(source) = source else {
        w.copy_all(request, HeaderName::Via);
        return;
    };
    // Each Via parsed once, written as it is read; one that does not
    // parse takes back what was written and every Via goes as written.
    let mark = w.out.len();
    let mut first = true;
    // Under the limits the request was parsed with.
    for via in request.via() {
        let Ok(via) = via else {
            w.out.truncate(mark);
            w.copy_all(request, HeaderName::Via);
            return;
        };
        if first {
            first = false;
            w.header_with("Via", |out| write_stamped(&via, source, out));
        } else {
            w.header_with("Via", |out| via.write(out));
        }
    }
}

/// Appends a top Via with `received` added and `rport` filled in
/// (§18.2.1, RFC 3581 §4), both from `source`.
fn write_stamped(via: &Via<'_>, source: SocketAddr, out: &mut Vec<u8>) {
    let same_host = match via.host {
        crate::sip::Host::Ipv4(a) => std::net::IpAddr::V4(a) == source.ip(),
        crate::sip::Host::Ipv6(a) => std::net::IpAddr::V6(a) == source.ip(),
        crate::sip::Host::Domain(_) => false,
    };
    let wants_rport = via.rport() == Some(None);
    let bare = Via {
        params: crate::sip::Params::new(),
        ..via.clone()
    };
    bare.write(out);
    for p in &via.params {
        if p.name.eq_ignore_ascii_case("received") {
            continue;
        }
        if p.name.eq_ignore_ascii_case("rport") && wants_rport {
            out.push(b';');
            out.extend_from_slice(p.name.as_bytes());
            out.push(b'=');
            push_decimal(out, u64::from(source.port()));
        } else {
            p.write(out);
        }
    }
    if !same_host || wants_rport {
        out.extend_from_slice(b";received=");
        match source.ip() {
            std::net::IpAddr::V4(a) => push_ipv4(out, a),
            std::net::IpAddr::V6(a) => {
                use std::io::Write;
                // Writing into a Vec cannot fail.
                let _ = write!(out, "{a}");
            }
        }
    }
}
