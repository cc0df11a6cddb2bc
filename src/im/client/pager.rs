//! Pager Mode (RFC 3428; OMA SIMPLE IM Pager Mode): a short message as one
//! SIP MESSAGE outside any session, its content wrapped in `message/cpim`
//! with the same CPIM headers a session message carries. To one user the
//! MESSAGE goes to the user; to several it goes once to the
//! Conference-factory-URI (or the configured exploder) with the URI list
//! (RFC 5365: `multipart/mixed`, `Content-Disposition: recipient-list`,
//! `Require: recipient-list-message`), and the server fans it out.
//!
//! A message larger than [`Limits::max_pager_message_size`] is sent in
//! Large Message mode instead ([`Sent::LargeMessage`]): a SIP MESSAGE is
//! not a bulk transport (RFC 3428 §9).
//!
//! [`Limits::max_pager_message_size`]: super::Limits::max_pager_message_size

use std::borrow::Cow;
use std::time::Instant;

use crate::body::cpim::{CpimAddress, CpimExtras, CpimMessage};
use crate::body::multipart::{Multipart, Part};
use crate::body::resource_lists::{Entry, ResourceLists};
use crate::dialog::ServerTxId;
use crate::sip::{Method, SipMessage};

use super::{build, ClientError, Event, ImClient, ImSessionId, LargeMessageGroupTarget, TxUse};

/// A Pager Mode message this client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PagerMessageId(pub(super) u64);

/// How [`ImClient::send_pager_message`] sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sent {
    /// As one SIP MESSAGE; its answer comes as
    /// [`Event::PagerMessageAnswered`].
    Pager(PagerMessageId),
    /// Over the Pager Mode size, in its own Large Message session (see
    /// [`ImClient::send_large_message`]).
    LargeMessage(ImSessionId),
}

/// What a Pager Mode MESSAGE adds to its CPIM wrapper.
#[derive(Debug, Clone, Copy)]
pub(super) struct PagerCpim<'a> {
    /// The `DateTime`, supplied by the application.
    pub date_time: Option<&'a str>,
    /// Further header fields (a disposition request or notification).
    pub extras: &'a CpimExtras,
}

impl ImClient {
    /// Sends `body` of `content_type` to `recipients` in Pager Mode: one SIP
    /// MESSAGE whose body is `message/cpim` (From: the user's IM Address,
    /// To: the recipient, or each recipient for a list). To several
    /// recipients it goes to the Conference-factory-URI (or the exploder of
    /// [`ClientConfig::large_message_group_target`]) with their URI list
    /// (RFC 5365). A body over [`Limits::max_pager_message_size`] goes in
    /// Large Message mode.
    ///
    /// [`ClientConfig::large_message_group_target`]: super::ClientConfig::large_message_group_target
    /// [`Limits::max_pager_message_size`]: super::Limits::max_pager_message_size
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::client::{ClientConfig, ImClient, Output, Sent};
    ///
    /// let config = ClientConfig::new(
    ///     "sip:alice@example.com",
    ///     "sip:conf-factory@im.example.com",
    ///     "192.0.2.1:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(),
    /// );
    /// let mut alice = ImClient::new(config);
    /// let sent = alice
    ///     .send_pager_message(&["sip:bob@example.com"], "text/plain", b"Hi Bob", Instant::now())
    ///     .unwrap();
    /// assert!(matches!(sent, Sent::Pager(_)));
    /// let Some(Output::Transmit(t)) = alice.poll_output() else { panic!() };
    /// let text = String::from_utf8(t.bytes).unwrap();
    /// assert!(text.starts_with("MESSAGE sip:bob@example.com SIP/2.0"));
    /// assert!(text.contains("Content-Type: message/cpim"));
    /// assert!(text.contains("From: <sip:alice@example.com>\r\nTo: <sip:bob@example.com>"));
    /// ```
    pub fn send_pager_message(
        &mut self,
        recipients: &[&str],
        content_type: &str,
        body: &[u8],
        now: Instant,
    ) -> Result<Sent, ClientError> {
        if recipients.is_empty() {
            return Err(ClientError::NoRecipient);
        }
        if body.len() > self.config.limits.max_pager_message_size {
            return self
                .send_large_message(recipients, content_type, body, now)
                .map(Sent::LargeMessage);
        }
        let cpim = PagerCpim {
            date_time: None,
            extras: &CpimExtras::default(),
        };
        self.send_pager(recipients, content_type, body, cpim, true, now)
    }

    /// Sends one Pager Mode MESSAGE within the size (checked by the
    /// caller) with `cpim`'s additions; its answer is reported when
    /// `report`.
    pub(super) fn send_pager(
        &mut self,
        recipients: &[&str],
        content_type: &str,
        body: &[u8],
        cpim_fields: PagerCpim<'_>,
        report: bool,
        now: Instant,
    ) -> Result<Sent, ClientError> {
        if recipients.is_empty() {
            return Err(ClientError::NoRecipient);
        }
        if recipients.len() > 1 {
            self.check_group_size(recipients.len())?;
        }
        let own = self.config.im_address.clone();
        let mut cpim = CpimMessage::new(
            CpimAddress::new(None, &own),
            CpimAddress::new(None, recipients[0]),
            content_type,
            body,
        )
        .map_err(|_| ClientError::InvalidUri)?;
        for extra in &recipients[1..] {
            cpim.to.push(CpimAddress::new(None, extra));
        }
        cpim.date_time = cpim_fields.date_time.map(Cow::Borrowed);
        cpim_fields
            .extras
            .apply(&mut cpim)
            .map_err(|_| ClientError::InvalidUri)?;
        let mut wrapped = Vec::with_capacity(body.len() + 128);
        cpim.write(&mut wrapped);
        let spec = match recipients {
            [one] => build::initial_request(&self.config, &self.release, Method::Message, one)
                .with_body("message/cpim", wrapped),
            several => {
                let target = match &self.config.large_message_group_target {
                    LargeMessageGroupTarget::ConferenceFactory => {
                        self.config.conference_factory_uri.clone()
                    }
                    LargeMessageGroupTarget::Exploder(uri) => uri.clone(),
                };
                let (content_type, body) = list_body(&wrapped, several, self.rng.next_u64());
                build::initial_request(&self.config, &self.release, Method::Message, &target)
                    // RFC 5365 §4: the URI-list MESSAGE requires the extension.
                    .with_header("Require", "recipient-list-message")
                    .with_body(&content_type, body)
            }
        };
        let tx = self.ua.send_request(spec, now)?;
        let id = PagerMessageId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        if report {
            self.client_txs.insert(tx, TxUse::Pager(id));
        }
        self.pump(now);
        Ok(Sent::Pager(id))
    }

    /// The final answer to a Pager Mode MESSAGE (a timeout is 408).
    pub(super) fn on_pager_answer(&mut self, message: PagerMessageId, status: u16) {
        self.event(Event::PagerMessageAnswered { message, status });
    }

    /// A MESSAGE outside any dialog: reported with its CPIM headers (or the
    /// SIP From when not wrapped) and answered 200; a CPIM body that does
    /// not parse is answered 400.
    pub(super) fn on_pager_message(&mut self, tx: ServerTxId, msg: &SipMessage<'_>, now: Instant) {
        let wrapped = msg
            .content_type()
            .and_then(Result::ok)
            .is_some_and(|ct| ct.is("message", "cpim"));
        let sip_from = msg.from().and_then(Result::ok).map(|f| f.uri.to_string());
        let mut request = None;
        let event = if wrapped {
            match CpimMessage::parse_with(msg.body(), &self.config.limits.layers.mime) {
                Ok(cpim) => {
                    match self.pager_incoming(&cpim, sip_from.as_deref(), now) {
                        super::imdn::PagerIncoming::Handled => {
                            let spec = build::response(&self.config, &self.release, 200, true);
                            let _ = self.ua.respond(tx, spec, now);
                            return;
                        }
                        super::imdn::PagerIncoming::Message(r) => request = r,
                    }
                    Event::PagerMessageReceived {
                        from: cpim.from.as_ref().map(|f| f.uri.to_string()).or(sip_from),
                        to: cpim.to.iter().map(|t| t.uri.to_string()).collect(),
                        date_time: cpim.date_time.as_ref().map(|d| d.to_string()),
                        content_type: cpim
                            .mime_headers
                            .get("Content-Type")
                            .unwrap_or("text/plain")
                            .to_owned(),
                        body: cpim.content.into_owned(),
                    }
                }
                Err(_) => {
                    let spec = build::response(&self.config, &self.release, 400, true);
                    let _ = self.ua.respond(tx, spec, now);
                    return;
                }
            }
        } else {
            Event::PagerMessageReceived {
                from: sip_from,
                to: Vec::new(),
                date_time: None,
                content_type: msg
                    .content_type()
                    .and_then(Result::ok)
                    .map_or_else(|| "text/plain".to_owned(), |ct| ct.to_string()),
                body: msg.body().to_vec(),
            }
        };
        let spec = build::response(&self.config, &self.release, 200, true);
        let _ = self.ua.respond(tx, spec, now);
        self.event(event);
        if let Some(request) = request {
            self.on_disposition_request(None, request, now);
        }
    }
}

/// A `multipart/mixed` body of the CPIM message and the URI list of its
/// recipients (`Content-Disposition: recipient-list`, RFC 5365 §4).
fn list_body(cpim: &[u8], recipients: &[&str], seed: u64) -> (String, Vec<u8>) {
    let mut list = Vec::new();
    ResourceLists::from_entries(recipients.iter().map(|u| Entry::new(*u))).write(&mut list);
    let mut body = Multipart::new();
    if let Ok(part) = Part::new("message/cpim", cpim) {
        body.parts.push(part);
    }
    if let Ok(part) = Part::new(crate::body::resource_lists::CONTENT_TYPE, &list)
        .and_then(|p| p.with_header("Content-Disposition", "recipient-list"))
    {
        body.parts.push(part);
    }
    let mut out = Vec::new();
    let boundary = body.write(seed, &mut out);
    let mut content_type = Vec::new();
    boundary.write_content_type(&mut content_type);
    (String::from_utf8_lossy(&content_type).into_owned(), out)
}
