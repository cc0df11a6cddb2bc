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
    write_identifiers(&mut w, request, to_has_tag(request), to_tag);
    w
}

/// What every response to one request shares and [`response_to`] would
/// parse the request again for: its Via fields (the top one stamped for
/// the source, §18.2.1) and whether its To has a tag. A server
/// transaction makes it once, from the request as parsed on arrival,
/// whose top Via and To the parser has read already.
#[derive(Debug, Clone)]
pub(crate) struct ResponseBasis {
    /// The Via fields of a response, each with its name and CRLF.
    vias: Vec<u8>,
    /// How many fields `vias` holds.
    via_fields: usize,
    /// The request's To has a tag.
    to_tagged: bool,
}

impl ResponseBasis {
    /// The basis of the responses to `request`, received from `source`.
    pub(crate) fn of(request: &SipMessage<'_>, source: SocketAddr) -> Self {
        // Room for the fields as written, and for what the stamp adds
        // (`;received=` an IPv6 address, an `rport` value): one
        // allocation.
        let room = request
            .header_values(HeaderName::Via)
            .map(|v| v.value.len() + "Via: \r\n".len())
            .sum::<usize>()
            + 64;
        let mut w = MessageWriter {
            out: Vec::with_capacity(room),
            fields: 0,
            known: SmallVec::new(),
        };
        write_vias(&mut w, request, Some(source));
        ResponseBasis {
            vias: w.out,
            via_fields: w.fields,
            to_tagged: to_has_tag(request),
        }
    }

    /// The bytes it holds.
    pub(crate) fn held_bytes(&self) -> usize {
        self.vias.capacity()
    }

    /// Whether the request's To has a tag.
    pub(crate) fn to_tagged(&self) -> bool {
        self.to_tagged
    }

    /// [`response_to`] with this basis, made from `request`.
    pub(crate) fn response(
        &self,
        request: &SipMessage<'_>,
        code: u16,
        reason: &str,
        to_tag: Option<&str>,
    ) -> MessageWriter {
        let mut w = MessageWriter::response(code, reason);
        w.out.extend_from_slice(&self.vias);
        w.fields += self.via_fields;
        write_identifiers(&mut w, request, self.to_tagged, to_tag);
        w
    }
}

/// Whether the To of `request` has a tag.
fn to_has_tag(request: &SipMessage<'_>) -> bool {
    request
        .to()
        .and_then(Result::ok)
        .is_some_and(|to| to.tag().is_some())
}

/// Appends From, To (with `to_tag` added when it has none), Call-ID and
/// CSeq of `request`, as written.
fn write_identifiers(
    w: &mut MessageWriter,
    request: &SipMessage<'_>,
    to_tagged: bool,
    to_tag: Option<&str>,
) {
    w.copy_first(request, HeaderName::From);
    if let Some(to) = request.header(HeaderName::To) {
        w.header_with("To", |out| {
            out.extend_from_slice(to.value.as_bytes());
            if let (Some(tag), false) = (to_tag, to_tagged) {
                out.extend_from_slice(b";tag=");
                out.extend_from_slice(tag.as_bytes());
            }
        });
    }
    w.copy_first(request, HeaderName::CallId);
    w.copy_first(request, HeaderName::CSeq);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_message;
    use crate::transaction::OwnedMessage;

    /// Requests whose responses differ in every way the basis covers: one
    /// Via or several (in one field and in two), a sent-by the source
    /// matches or not, an empty `rport`, a stale `received`, a To with a
    /// tag or without, compact names.
    const REQUESTS: [&str; 4] = [
        "MESSAGE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
         Call-ID: c1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
        "UPDATE sip:b@192.0.2.9 SIP/2.0\r\nv: SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2;received=1.2.3.4, \
         SIP/2.0/TCP 192.0.2.7;branch=z9hG4bK3\r\nVia: SIP/2.0/UDP [2001:db8::7]:5070;branch=z9hG4bK4\r\n\
         f: <sip:a@example.com>;tag=2\r\nt: \"B\" <sip:b@example.com>;tag=9\r\n\
         i: c2\r\nCSeq: 7 UPDATE\r\nl: 0\r\n\r\n",
        "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.4;branch=z9hG4bK5\r\n\
         From: sip:a@example.com;tag=3\r\nTo: sip:b@example.com\r\nCall-ID: c3\r\n\
         CSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n",
        "BYE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TLS h.example.com:5061;branch=z9hG4bK6;rport=1;received=9.9.9.9\r\n\
         From: <sip:a@example.com>;tag=4\r\nTo: <sip:b@example.com>;tag=5\r\nCall-ID: c4\r\n\
         CSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n",
    ];

    #[test]
    fn a_basis_gives_the_response_response_to_writes() {
        let sources: [SocketAddr; 3] = [
            "192.0.2.1:5060".parse().unwrap(),
            "203.0.113.8:40000".parse().unwrap(),
            "[2001:db8::7]:5070".parse().unwrap(),
        ];
        for text in REQUESTS {
            let request = parse_message(text.as_bytes()).unwrap();
            let owned = OwnedMessage::new(text.as_bytes().to_vec()).unwrap();
            let view = owned.message();
            for source in sources {
                // Made from the request as parsed, used with a view of the
                // kept bytes, as a server transaction does.
                let basis = ResponseBasis::of(&request, source);
                for (code, tag) in [(100, None), (180, Some("t1")), (486, Some("t2"))] {
                    let expected =
                        response_to(&request, code, reason_phrase(code), tag, Some(source))
                            .finish(b"");
                    let made = basis
                        .response(&view, code, reason_phrase(code), tag)
                        .finish(b"");
                    assert_eq!(
                        String::from_utf8_lossy(&made),
                        String::from_utf8_lossy(&expected)
                    );
                    assert!(
                        parse_message(&made).is_ok(),
                        "{}",
                        String::from_utf8_lossy(&made)
                    );
                }
            }
        }
        // The stamp was exercised: a received and an rport value appear.
        let request = parse_message(REQUESTS[0].as_bytes()).unwrap();
        let source = "203.0.113.8:40000".parse().unwrap();
        let made = ResponseBasis::of(&request, source)
            .response(&request, 200, "OK", Some("x"))
            .finish(b"");
        let made = String::from_utf8(made).unwrap();
        assert!(
            made.contains(";rport=40000;received=203.0.113.8\r\n"),
            "{made}"
        );
        assert!(made.contains("To: <sip:b@example.com>;tag=x\r\n"), "{made}");
    }
}
