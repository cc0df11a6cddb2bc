//! Instant Message Disposition Notifications (RFC 5438) in the IM Client,
//! for Session Mode (inside the MSRP session) and Pager Mode (SIP
//! MESSAGE).
//!
//! * **Asking.** [`ImClient::send_message_with_imdn`] and
//!   [`ImClient::send_pager_message_with_imdn`] send a message whose CPIM
//!   wrapper declares `NS: imdn <urn:ietf:params:imdn>` and carries an
//!   `imdn.Message-ID` (16 characters from the client's generator: not
//!   guessable by a third party, RFC 5438 §6.3), an
//!   `imdn.Disposition-Notification` with the dispositions asked for, and
//!   the `DateTime` the application supplies (RFC 5438 §6.3 requires it
//!   with a request; the client reads no clock).
//! * **Answering.** A received message that asks for `positive-delivery`
//!   is answered at once with a `delivered` notification; one that asks for
//!   `display` is reported with [`Event::DisplayNotificationRequested`] and
//!   kept (at most [`Limits::max_pending_display_notifications`], the
//!   oldest forgotten first) until the application calls
//!   [`ImClient::send_display_notification`] once the user saw it. A
//!   notification is `message/imdn+xml` in CPIM to the sender of the
//!   message, `Content-Disposition: notification`, with its own
//!   `imdn.Message-ID`: in the MSRP session the message came on (in a
//!   conference the CPIM `To` names the sender and the IM Server's switch
//!   routes it to that participant only, RFC 5438 §7), or as a Pager Mode
//!   MESSAGE to the sender.
//! * **Receiving.** A notification is never a [`Event::MessageReceived`] or
//!   [`Event::PagerMessageReceived`]: it is reported as
//!   [`Event::NotificationReceived`], keyed by the `imdn.Message-ID` of the
//!   message it is about.
//! * **Privacy.** RFC 5438 leaves sending notifications to the recipient's
//!   policy and lets a recipient that does not want to disclose anything
//!   send none (its security considerations). A `forbidden` status would
//!   still tell the sender that the message reached a device, and in Pager
//!   Mode its MESSAGE would carry the user's address, so a client whose
//!   user asked for anonymity ([`ClientConfig::anonymous`]) sends **no**
//!   notification at all: no automatic delivery notification, no
//!   [`Event::DisplayNotificationRequested`], and
//!   [`ImClient::send_display_notification`] fails with
//!   [`ClientError::Anonymous`]. A notification names its recipient
//!   (`<recipient-uri>`) only with the user's own IM Address, never anyone
//!   else's.
//!
//! [`Limits::max_pending_display_notifications`]: super::Limits::max_pending_display_notifications
//! [`ClientConfig::anonymous`]: super::ClientConfig::anonymous

use std::collections::VecDeque;
use std::time::Instant;

use crate::body::cpim::{CpimDateTime, CpimExtras, CpimMessage};
use crate::body::imdn::{self, DeliveryStatus, DisplayStatus, Imdn, Notification};
use crate::body::xml::XmlLimits;
use crate::msrp::session::{self as msrp, MsrpSession, SendOptions};
use crate::rng::Rng;

use super::composing::Composing;
use super::pager::PagerCpim;
use super::{ClientConfig, ClientError, Event, ImClient, ImSessionId, Sent};

/// The CPIM namespace of the IMDN header fields (RFC 5438 §10.1).
pub const IMDN_NAMESPACE: &str = "urn:ietf:params:imdn";

/// The prefix this client declares for [`IMDN_NAMESPACE`].
const PREFIX: &str = "imdn";

/// Length of the `imdn.Message-ID`s this client makes.
const MESSAGE_ID_LEN: usize = 16;

/// Most Message-IDs of MSRP messages the client sent on its own
/// (notifications, is-composing) whose MSRP events are not reported.
const MAX_OWN_MESSAGES: usize = 64;

/// The dispositions a sender asks for (`imdn.Disposition-Notification`,
/// RFC 5438 §6.2).
///
/// ```
/// use oma_im::im::client::DispositionRequest;
///
/// assert!(DispositionRequest::ALL.display);
/// assert!(DispositionRequest::default().is_empty());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispositionRequest {
    /// `positive-delivery`: tell me when it was delivered.
    pub positive_delivery: bool,
    /// `negative-delivery`: tell me when it could not be delivered.
    pub negative_delivery: bool,
    /// `display`: tell me when the user saw it.
    pub display: bool,
}

impl DispositionRequest {
    /// All three.
    pub const ALL: DispositionRequest = DispositionRequest {
        positive_delivery: true,
        negative_delivery: true,
        display: true,
    };

    /// Whether nothing is asked for.
    pub fn is_empty(self) -> bool {
        !(self.positive_delivery || self.negative_delivery || self.display)
    }

    fn header_value(self) -> String {
        let names = [
            (self.positive_delivery, "positive-delivery"),
            (self.negative_delivery, "negative-delivery"),
            (self.display, "display"),
        ];
        let asked: Vec<&str> = names.iter().filter(|(on, _)| *on).map(|n| n.1).collect();
        asked.join(", ")
    }

    /// The dispositions of a header value; unknown ones are ignored.
    fn parse(value: &str) -> Self {
        let mut out = DispositionRequest::default();
        for token in value.split(',').map(str::trim) {
            if token.eq_ignore_ascii_case("positive-delivery") {
                out.positive_delivery = true;
            } else if token.eq_ignore_ascii_case("negative-delivery") {
                out.negative_delivery = true;
            } else if token.eq_ignore_ascii_case("display") {
                out.display = true;
            }
        }
        out
    }
}

/// A message sent in a session with a disposition request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImdnSent {
    /// Its MSRP Message-ID ([`Event::MessageSent`] and the MSRP reports).
    pub message_id: String,
    /// Its `imdn.Message-ID`: the key of the
    /// [`Event::NotificationReceived`]s about it.
    pub imdn_message_id: String,
}

/// A disposition request found on a received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Request {
    imdn_message_id: String,
    date_time: String,
    /// Who to notify: the CPIM `From`.
    sender: String,
    disposition: DispositionRequest,
}

/// A received message whose sender asked for a display notification.
#[derive(Debug, Clone)]
struct PendingDisplay {
    request: Request,
    /// The session it came on; `None` in Pager Mode.
    session: Option<ImSessionId>,
}

/// What the client keeps for notifications: bounded.
#[derive(Debug, Default)]
pub(super) struct Notifications {
    /// Messages waiting for the user to see them, oldest first.
    displays: VecDeque<PendingDisplay>,
    /// MSRP Message-IDs of notifications and indications the client sent
    /// on its own, newest last.
    own: VecDeque<String>,
}

impl Notifications {
    /// Keeps `message_id` as one of the client's own messages.
    pub(super) fn own(&mut self, message_id: String) {
        if self.own.len() >= MAX_OWN_MESSAGES {
            self.own.pop_front();
        }
        self.own.push_back(message_id);
    }

    fn is_own(&self, message_id: &str) -> bool {
        self.own.iter().any(|m| m == message_id)
    }

    fn keep_display(&mut self, pending: PendingDisplay, max: usize) {
        if max == 0 {
            return;
        }
        self.displays
            .retain(|p| p.request.imdn_message_id != pending.request.imdn_message_id);
        while self.displays.len() >= max {
            self.displays.pop_front();
        }
        self.displays.push_back(pending);
    }
}

/// The value of the IMDN header `name` (without prefix) of `cpim`, under
/// whatever prefix the sender declared for [`IMDN_NAMESPACE`].
fn imdn_header<'c>(cpim: &'c CpimMessage<'_>, name: &str) -> Option<&'c str> {
    cpim.ns
        .iter()
        .filter(|ns| ns.uri == IMDN_NAMESPACE)
        .filter_map(|ns| ns.prefix.as_ref())
        .find_map(|prefix| {
            cpim.extensions
                .iter()
                .find(|h| {
                    h.name.prefix() == Some(prefix.as_str())
                        && h.name.local_name().eq_ignore_ascii_case(name)
                })
                .map(|h| &*h.value)
        })
}

/// The disposition request of a received message: `None` without one, or
/// when it lacks what a notification must name (`imdn.Message-ID`,
/// `DateTime`, a sender).
pub(super) fn request_of(cpim: &CpimMessage<'_>) -> Option<Request> {
    let disposition = DispositionRequest::parse(imdn_header(cpim, "Disposition-Notification")?);
    if disposition.is_empty() {
        return None;
    }
    Some(Request {
        imdn_message_id: imdn_header(cpim, "Message-ID")?.to_owned(),
        date_time: cpim.date_time.as_deref()?.to_owned(),
        sender: cpim.from.as_ref()?.uri.to_string(),
        disposition,
    })
}

fn is_type(cpim: &CpimMessage<'_>, top: &str, sub: &str) -> bool {
    cpim.content_type()
        .and_then(Result::ok)
        .is_some_and(|ct| ct.is(top, sub))
}

/// The CPIM additions of a message that asks for `disposition`.
fn request_extras(imdn_message_id: &str, disposition: DispositionRequest) -> CpimExtras {
    let mut headers = vec![(format!("{PREFIX}.Message-ID"), imdn_message_id.to_owned())];
    if !disposition.is_empty() {
        headers.push((
            format!("{PREFIX}.Disposition-Notification"),
            disposition.header_value(),
        ));
    }
    CpimExtras {
        namespaces: vec![(PREFIX.to_owned(), IMDN_NAMESPACE.to_owned())],
        headers,
        ..CpimExtras::default()
    }
}

/// The body and CPIM additions of a notification about `request`.
fn notification(
    request: &Request,
    notification: Notification,
    own_address: &str,
    rng: &mut Rng,
) -> (Vec<u8>, CpimExtras) {
    let mut doc = Imdn::new(
        request.imdn_message_id.as_str(),
        request.date_time.as_str(),
        notification,
    );
    doc.recipient_uri = Some(own_address.into());
    let mut body = Vec::with_capacity(256);
    doc.write(&mut body);
    let mut extras = request_extras(&rng.token(MESSAGE_ID_LEN), DispositionRequest::default());
    extras.to = Some(request.sender.clone());
    extras
        .mime_headers
        .push(("Content-Disposition".to_owned(), "notification".to_owned()));
    (body, extras)
}

/// The parts of the client the handling of a session's MSRP events needs,
/// borrowed apart from its sessions.
pub(super) struct Parts<'a> {
    pub notes: &'a mut Notifications,
    pub composing: &'a mut Composing,
    pub rng: &'a mut Rng,
    pub config: &'a ClientConfig,
}

impl Parts<'_> {
    /// Handles an event of the MSRP session of `session` (peer `peer`)
    /// for notifications and is-composing, pushing what the application
    /// must know to `events`; gives back the events left for the ordinary
    /// handling. A `receive_only` session (a history retrieval, a received
    /// Large Message) carries no notification back: its requests are not
    /// answered.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_msrp_event(
        &mut self,
        session: ImSessionId,
        peer: &str,
        receive_only: bool,
        m: &mut MsrpSession,
        event: msrp::Event,
        events: &mut Vec<Event>,
        now: Instant,
    ) -> Option<msrp::Event> {
        let received = match event {
            msrp::Event::MessageSent { message_id }
            | msrp::Event::ReportReceived { message_id, .. }
            | msrp::Event::DeliveryFailed { message_id, .. }
                if self.notes.is_own(&message_id) =>
            {
                return None
            }
            msrp::Event::MessageReceived(received) => received,
            other => return Some(other),
        };
        let Some(Ok(cpim)) = &received.cpim else {
            self.composing.message_from(Some(session), peer, events);
            return Some(msrp::Event::MessageReceived(received));
        };
        let from = cpim
            .from
            .as_ref()
            .map_or_else(|| peer.to_owned(), |f| f.uri.to_string());
        if is_type(cpim, "message", "imdn+xml") {
            if let Some(e) = notification_event(Some(session), cpim, &self.config.limits.layers.xml)
            {
                events.push(e);
            }
            return None;
        }
        if is_type(cpim, "application", "im-iscomposing+xml") {
            self.composing.on_indication(
                Some(session),
                &from,
                cpim,
                &self.config.limits,
                events,
                now,
            );
            return None;
        }
        self.composing.message_from(Some(session), &from, events);
        let Some(request) = request_of(cpim) else {
            return Some(msrp::Event::MessageReceived(received));
        };
        events.push(super::user_plane::received(session, *received, peer));
        if self.config.anonymous || receive_only {
            return None;
        }
        if request.disposition.positive_delivery {
            let (body, cpim_extras) = notification(
                &request,
                Notification::Delivery(DeliveryStatus::Delivered),
                &self.config.im_address,
                self.rng,
            );
            let options = SendOptions {
                cpim_extras,
                ..SendOptions::default()
            };
            if let Ok(id) = m.send_message(imdn::CONTENT_TYPE, &body, options, now) {
                self.notes.own(id);
            }
        }
        if request.disposition.display {
            events.push(Event::DisplayNotificationRequested {
                session: Some(session),
                imdn_message_id: request.imdn_message_id.clone(),
                from: request.sender.clone(),
            });
            let max = self.config.limits.max_pending_display_notifications;
            self.notes.keep_display(
                PendingDisplay {
                    request,
                    session: Some(session),
                },
                max,
            );
        }
        None
    }
}

/// The event of a received notification; `None` when its document does
/// not parse.
fn notification_event(
    session: Option<ImSessionId>,
    cpim: &CpimMessage<'_>,
    limits: &XmlLimits,
) -> Option<Event> {
    let doc = Imdn::parse(&cpim.content, limits).ok()?;
    Some(Event::NotificationReceived {
        session,
        imdn_message_id: doc.message_id.into_owned(),
        from: cpim.from.as_ref().map(|f| f.uri.to_string()),
        recipient: doc.recipient_uri.map(|r| r.into_owned()),
        notification: doc.notification,
    })
}

/// What a Pager Mode MESSAGE turned out to be.
pub(super) enum PagerIncoming {
    /// A notification or an is-composing indication: reported, answer 200.
    Handled,
    /// A message to report, with its disposition request if any.
    Message(Option<Request>),
}

impl ImClient {
    /// Sends `body` of `content_type` on the MSRP session of `session`,
    /// wrapped in CPIM with a disposition request (RFC 5438 §6): the
    /// `imdn` namespace, a fresh `imdn.Message-ID`,
    /// `imdn.Disposition-Notification` with `disposition`, and `DateTime:
    /// date_time` (an RFC 3339 date-time the application supplies; without
    /// a valid one, [`ClientError::DateTimeRequired`] and nothing is sent).
    /// The notifications come as [`Event::NotificationReceived`] keyed by
    /// the returned [`imdn_message_id`](ImdnSent::imdn_message_id).
    pub fn send_message_with_imdn(
        &mut self,
        session: ImSessionId,
        content_type: &str,
        body: &[u8],
        disposition: DispositionRequest,
        date_time: &str,
        now: Instant,
    ) -> Result<ImdnSent, ClientError> {
        check_date_time(date_time)?;
        let imdn_message_id = self.rng.token(MESSAGE_ID_LEN);
        let options = SendOptions {
            date_time: Some(date_time.to_owned()),
            cpim_extras: request_extras(&imdn_message_id, disposition),
            ..SendOptions::default()
        };
        let message_id = self.send_with(session, content_type, body, options, now)?;
        self.composing.message_sent(session);
        Ok(ImdnSent {
            message_id,
            imdn_message_id,
        })
    }

    /// Sends `body` of `content_type` to `recipients` in Pager Mode (see
    /// [`send_pager_message`](Self::send_pager_message)) with a disposition
    /// request, as
    /// [`send_message_with_imdn`](Self::send_message_with_imdn) does in a
    /// session; returns how it was sent and its `imdn.Message-ID`. Each
    /// recipient of a list message notifies the sender with its own
    /// MESSAGE. A body over
    /// [`Limits::max_pager_message_size`](super::Limits::max_pager_message_size)
    /// is refused with [`ClientError::PagerTooLarge`] (Large Message mode
    /// carries no disposition request here).
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::client::{ClientConfig, DispositionRequest, ImClient, Output};
    ///
    /// let mut alice = ImClient::new(ClientConfig::new(
    ///     "sip:alice@example.com",
    ///     "sip:conf-factory@im.example.com",
    ///     "192.0.2.1:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(),
    /// ));
    /// let (_, imdn_id) = alice
    ///     .send_pager_message_with_imdn(
    ///         &["sip:bob@example.com"],
    ///         "text/plain",
    ///         b"Hi Bob",
    ///         DispositionRequest::ALL,
    ///         "2026-12-07T10:00:00Z",
    ///         Instant::now(),
    ///     )
    ///     .unwrap();
    /// let Some(Output::Transmit(t)) = alice.poll_output() else { panic!() };
    /// let text = String::from_utf8(t.bytes).unwrap();
    /// assert!(text.contains("DateTime: 2026-12-07T10:00:00Z\r\nNS: imdn <urn:ietf:params:imdn>"));
    /// assert!(text.contains(&format!("imdn.Message-ID: {imdn_id}\r\n")));
    /// assert!(text.contains(
    ///     "imdn.Disposition-Notification: positive-delivery, negative-delivery, display"
    /// ));
    /// ```
    pub fn send_pager_message_with_imdn(
        &mut self,
        recipients: &[&str],
        content_type: &str,
        body: &[u8],
        disposition: DispositionRequest,
        date_time: &str,
        now: Instant,
    ) -> Result<(Sent, String), ClientError> {
        check_date_time(date_time)?;
        let max = self.config.limits.max_pager_message_size;
        if body.len() > max {
            return Err(ClientError::PagerTooLarge {
                size: body.len(),
                max,
            });
        }
        let imdn_message_id = self.rng.token(MESSAGE_ID_LEN);
        let extras = request_extras(&imdn_message_id, disposition);
        let cpim = PagerCpim {
            date_time: Some(date_time),
            extras: &extras,
        };
        let sent = self.send_pager(recipients, content_type, body, cpim, true, now)?;
        Ok((sent, imdn_message_id))
    }

    /// Tells the sender of the message `imdn_message_id` (as given by
    /// [`Event::DisplayNotificationRequested`]) that the user saw it: a
    /// `displayed` notification, in the session the message came on or as
    /// a Pager Mode MESSAGE. Sent once: the message is forgotten then.
    /// [`ClientError::UnknownMessage`] when no such request is kept (never
    /// made, already answered, or forgotten as the oldest over
    /// [`Limits::max_pending_display_notifications`](super::Limits::max_pending_display_notifications));
    /// [`ClientError::Anonymous`] for an anonymous user (see the
    /// [module documentation](crate::im::client::imdn)).
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::client::{ClientConfig, ClientError, ImClient};
    ///
    /// let mut config = ClientConfig::new(
    ///     "sip:bob@example.com",
    ///     "sip:conf-factory@im.example.com",
    ///     "192.0.2.2:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(),
    /// );
    /// let mut bob = ImClient::new(config.clone());
    /// let now = Instant::now();
    /// assert_eq!(bob.send_display_notification("34jk324j", now), Err(ClientError::UnknownMessage));
    /// config.anonymous = true;
    /// let mut anonymous = ImClient::new(config);
    /// assert_eq!(anonymous.send_display_notification("34jk324j", now), Err(ClientError::Anonymous));
    /// ```
    pub fn send_display_notification(
        &mut self,
        imdn_message_id: &str,
        now: Instant,
    ) -> Result<(), ClientError> {
        if self.config.anonymous {
            return Err(ClientError::Anonymous);
        }
        let at = self
            .notifications
            .displays
            .iter()
            .position(|p| p.request.imdn_message_id == imdn_message_id)
            .ok_or(ClientError::UnknownMessage)?;
        let pending = self.notifications.displays[at].clone();
        self.notify(
            pending.session,
            &pending.request,
            Notification::Display(DisplayStatus::Displayed),
            now,
        )?;
        self.notifications.displays.remove(at);
        Ok(())
    }

    /// Sends a notification about `request`: in `session`, or in Pager
    /// Mode.
    fn notify(
        &mut self,
        session: Option<ImSessionId>,
        request: &Request,
        status: Notification,
        now: Instant,
    ) -> Result<(), ClientError> {
        let (body, extras) = notification(request, status, &self.config.im_address, &mut self.rng);
        match session {
            Some(session) => {
                let options = SendOptions {
                    cpim_extras: extras,
                    ..SendOptions::default()
                };
                let id = self.send_with(session, imdn::CONTENT_TYPE, &body, options, now)?;
                self.notifications.own(id);
            }
            None => {
                let cpim = PagerCpim {
                    date_time: None,
                    extras: &extras,
                };
                let sender = request.sender.clone();
                self.send_pager(&[&sender], imdn::CONTENT_TYPE, &body, cpim, false, now)?;
            }
        }
        Ok(())
    }

    /// Classifies a Pager Mode message: a notification or an indication is
    /// reported here; a message comes back with its disposition request.
    pub(super) fn pager_incoming(
        &mut self,
        cpim: &CpimMessage<'_>,
        sip_from: Option<&str>,
        now: Instant,
    ) -> PagerIncoming {
        let from = cpim
            .from
            .as_ref()
            .map(|f| f.uri.to_string())
            .or_else(|| sip_from.map(str::to_owned))
            .unwrap_or_default();
        let mut events = Vec::new();
        let outcome = if is_type(cpim, "message", "imdn+xml") {
            events.extend(notification_event(
                None,
                cpim,
                &self.config.limits.layers.xml,
            ));
            PagerIncoming::Handled
        } else if is_type(cpim, "application", "im-iscomposing+xml") {
            self.composing
                .on_indication(None, &from, cpim, &self.config.limits, &mut events, now);
            PagerIncoming::Handled
        } else {
            self.composing.message_from(None, &from, &mut events);
            PagerIncoming::Message(request_of(cpim))
        };
        for e in events {
            self.event(e);
        }
        outcome
    }

    /// A Pager Mode message asked for notifications: the delivery one now,
    /// the display one kept for the application.
    pub(super) fn on_disposition_request(
        &mut self,
        session: Option<ImSessionId>,
        request: Request,
        now: Instant,
    ) {
        if self.config.anonymous {
            return;
        }
        if request.disposition.positive_delivery {
            let delivered = Notification::Delivery(DeliveryStatus::Delivered);
            // A refusal (the sender's address unusable) leaves nothing to do.
            let _ = self.notify(session, &request, delivered, now);
        }
        if request.disposition.display {
            self.event(Event::DisplayNotificationRequested {
                session,
                imdn_message_id: request.imdn_message_id.clone(),
                from: request.sender.clone(),
            });
            let max = self.config.limits.max_pending_display_notifications;
            self.notifications
                .keep_display(PendingDisplay { request, session }, max);
        }
        self.pump(now);
    }
}

/// `Ok` for an RFC 3339 date-time.
fn check_date_time(date_time: &str) -> Result<(), ClientError> {
    CpimDateTime::parse(date_time)
        .map(|_| ())
        .map_err(|_| ClientError::DateTimeRequired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_values_round_trip() {
        let all = DispositionRequest::ALL;
        assert_eq!(
            all.header_value(),
            "positive-delivery, negative-delivery, display"
        );
        assert_eq!(DispositionRequest::parse(&all.header_value()), all);
        let display = DispositionRequest::parse(" Display , x-unknown");
        assert!(display.display && !display.positive_delivery);
    }

    #[test]
    fn a_request_needs_an_id_a_date_and_a_sender() {
        let with = |extra: &str| {
            format!(
                "From: <sip:a@x>\r\nTo: <sip:b@x>\r\n{extra}NS: i <urn:ietf:params:imdn>\r\n\
                 i.Message-ID: abc\r\ni.Disposition-Notification: display\r\n\r\n\
                 Content-Type: text/plain\r\n\r\nhi"
            )
        };
        let dated = with("DateTime: 2026-01-01T00:00:00Z\r\n");
        let cpim = CpimMessage::parse(dated.as_bytes()).unwrap();
        let request = request_of(&cpim).unwrap();
        assert_eq!(request.imdn_message_id, "abc");
        assert_eq!(request.sender, "sip:a@x");
        assert!(request.disposition.display);
        let undated = with("");
        assert_eq!(
            request_of(&CpimMessage::parse(undated.as_bytes()).unwrap()),
            None
        );
    }
}
