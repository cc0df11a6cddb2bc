//! Transaction keys: how a message finds its transaction (RFC 3261 §17.1.3
//! for responses, §17.2.3 for requests, with the RFC 2543 fallback).

use crate::sip::{HeaderName, SipError, SipErrorKind, SipMessage};

/// The magic cookie that starts every RFC 3261 branch (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The key of a client transaction (§17.1.3): the branch of the top Via the
/// client sent and the method of the request (CANCEL and INVITE share a
/// branch but not a transaction). Held in one string (`METHOD branch`:
/// neither holds a space), so that making or copying a key costs one
/// allocation.
///
/// ```
/// use oma_im::transaction::ClientKey;
///
/// let key = ClientKey::new("z9hG4bK776asdhds", "INVITE");
/// assert_eq!(key.branch(), "z9hG4bK776asdhds");
/// assert_eq!(key.method(), "INVITE");
/// assert_ne!(key, ClientKey::new("z9hG4bK776asdhds", "CANCEL"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(String);

impl ClientKey {
    /// The key of the transaction of a request sent with `branch` (the
    /// magic cookie included) and `method`.
    pub fn new(branch: &str, method: &str) -> ClientKey {
        ClientKey([method, " ", branch].concat())
    }

    /// The key a response matches: its top Via branch and CSeq method.
    pub fn of_response(response: &SipMessage<'_>) -> Result<ClientKey, SipError> {
        let via = top_via(response)?;
        let branch = via.branch().ok_or(SipError::new(
            SipErrorKind::MalformedHeader(HeaderName::Via),
            0,
        ))?;
        let cseq = cseq(response)?;
        Ok(ClientKey::new(branch, cseq.method.as_str()))
    }

    /// The branch parameter, with the magic cookie.
    pub fn branch(&self) -> &str {
        self.0.split_once(' ').map_or("", |(_, b)| b)
    }

    /// The method of the request; from a response, the CSeq method.
    pub fn method(&self) -> &str {
        self.0.split_once(' ').map_or(&*self.0, |(m, _)| m)
    }
}

/// The key of a server transaction (§17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerKey {
    /// A request whose top Via branch starts with the magic cookie: the
    /// branch, the sent-by (host lower-cased, port) and the method, with ACK
    /// counted as INVITE.
    Branch(BranchKey),
    /// An RFC 2543 request (no magic cookie): Request-URI, From tag, Call-ID,
    /// CSeq number and method (INVITE for ACK) and the top Via; the To tag
    /// for requests other than INVITE and ACK (the ACK's To tag is the one
    /// the server added, checked separately).
    Rfc2543 {
        /// The Request-URI as written.
        request_uri: String,
        /// The To tag (empty for INVITE and ACK).
        to_tag: String,
        /// The From tag.
        from_tag: String,
        /// The Call-ID.
        call_id: String,
        /// The CSeq number.
        cseq: u32,
        /// The method (`INVITE` for ACK).
        method: String,
        /// The top Via in canonical form.
        top_via: String,
    },
}

impl ServerKey {
    /// The key of the transaction `request` belongs to; for ACK, the INVITE
    /// transaction it acknowledges.
    pub fn of_request(request: &SipMessage<'_>) -> Result<ServerKey, SipError> {
        let method = request.method().unwrap_or_default();
        let method = if method == "ACK" { "INVITE" } else { method };
        Self::with_method(request, method)
    }

    /// The key of the INVITE transaction a CANCEL cancels (§9.2): the
    /// CANCEL's key with method INVITE.
    pub fn of_cancelled_invite(cancel: &SipMessage<'_>) -> Result<ServerKey, SipError> {
        Self::with_method(cancel, "INVITE")
    }

    fn with_method(request: &SipMessage<'_>, method: &str) -> Result<ServerKey, SipError> {
        let via = top_via(request)?;
        if let Some(branch) = via.branch().filter(|b| b.starts_with(MAGIC_COOKIE)) {
            return Ok(ServerKey::Branch(BranchKey::new(
                branch,
                &via.host,
                via.port.unwrap_or(0),
                method,
            )));
        }
        let tag =
            |r: Option<Result<crate::sip::NameAddr<'_>, SipError>>| -> Result<String, SipError> {
                match r {
                    Some(Ok(a)) => Ok(a.tag().unwrap_or_default().to_owned()),
                    Some(Err(e)) => Err(e),
                    None => Ok(String::new()),
                }
            };
        let to_tag = if method == "INVITE" {
            String::new()
        } else {
            tag(request.to())?
        };
        let call_id = match request.call_id() {
            Some(Ok(c)) => c.to_string(),
            Some(Err(e)) => return Err(e),
            None => String::new(),
        };
        Ok(ServerKey::Rfc2543 {
            request_uri: request.request_line().map_or("", |l| l.uri).to_owned(),
            to_tag,
            from_tag: tag(request.from())?,
            call_id,
            cseq: cseq(request)?.seq,
            method: method.to_owned(),
            top_via: via.to_string(),
        })
    }
}

/// The §17.2.3 key of a request with an RFC 3261 branch, held in one
/// string (`METHOD sent-by branch`: none of the three holds a space), so
/// that making or copying a key costs one allocation.
///
/// ```
/// use oma_im::sip::parse_message;
/// use oma_im::transaction::ServerKey;
///
/// let ack = parse_message(
///     b"ACK sip:bob@example.com SIP/2.0\r\n\
///       Via: SIP/2.0/UDP PC33.Example.COM;branch=z9hG4bK776asdhds\r\n\
///       From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\n\
///       Call-ID: a84b4c76e66710\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
/// )
/// .unwrap();
/// let ServerKey::Branch(key) = ServerKey::of_request(&ack).unwrap() else {
///     panic!("an RFC 3261 branch")
/// };
/// assert_eq!(key.method(), "INVITE");
/// assert_eq!(key.sent_by(), "pc33.example.com:0");
/// assert_eq!(key.branch(), "z9hG4bK776asdhds");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BranchKey(String);

impl BranchKey {
    fn new(branch: &str, host: &crate::sip::Host<'_>, port: u16, method: &str) -> BranchKey {
        let mut text = Vec::with_capacity(method.len() + branch.len() + 32);
        text.extend_from_slice(method.as_bytes());
        text.push(b' ');
        let host_at = text.len();
        host.write(&mut text);
        text[host_at..].make_ascii_lowercase();
        text.push(b':');
        crate::decimal::push_decimal(&mut text, u64::from(port));
        text.push(b' ');
        text.extend_from_slice(branch.as_bytes());
        // Every part is text: the method and the branch are `str`, a host
        // writes as text.
        BranchKey(
            String::from_utf8(text)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }

    fn parts(&self) -> (&str, &str, &str) {
        let mut parts = self.0.splitn(3, ' ');
        let mut next = || parts.next().unwrap_or_default();
        (next(), next(), next())
    }

    /// The method (`INVITE` for ACK).
    pub fn method(&self) -> &str {
        self.parts().0
    }

    /// The sent-by of the top Via, `host:port`, host in lower case (port 0
    /// when the Via has none).
    pub fn sent_by(&self) -> &str {
        self.parts().1
    }

    /// The branch parameter, with the magic cookie.
    pub fn branch(&self) -> &str {
        self.parts().2
    }
}

fn top_via<'a>(msg: &SipMessage<'a>) -> Result<crate::sip::Via<'a>, SipError> {
    msg.top_via().unwrap_or(Err(SipError::new(
        SipErrorKind::MissingHeader(HeaderName::Via),
        0,
    )))
}

fn cseq<'a>(msg: &SipMessage<'a>) -> Result<crate::sip::CSeq<'a>, SipError> {
    msg.cseq().unwrap_or(Err(SipError::new(
        SipErrorKind::MissingHeader(HeaderName::CSeq),
        0,
    )))
}
