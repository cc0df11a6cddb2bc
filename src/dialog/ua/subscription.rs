//! Subscriptions (RFC 6665), for the conference event package (RFC 4575)
//! or any other: the subscriber and the notifier side, each subscription
//! in its own dialog, keyed by dialog and Event (type and `id`).
//!
//! * Subscriber: [`UserAgent::subscribe`] sends SUBSCRIBE with Event,
//!   Accept and Expires; the dialog comes from the 2xx or from a NOTIFY
//!   arriving first. The UA answers each NOTIFY with 200
//!   ([`Event::NotifyReceived`]), refreshes when 90 % of the granted
//!   duration has passed (a 10 % margin: 54 s of 60 s, 3240 s of 3600 s),
//!   and [`UserAgent::unsubscribe`] sends `Expires: 0`. A NOTIFY with
//!   `terminated`, a refresh that fails, or no answer in time end it.
//! * Notifier: a SUBSCRIBE comes to the application as
//!   [`Event::RequestReceived`]; it rejects it with
//!   [`respond`](UserAgent::respond) or takes it with
//!   [`UserAgent::accept_subscription`] (200 with Expires clamped to
//!   [`SubscriptionConfig`], then the first NOTIFY with the body it
//!   supplies). A SUBSCRIBE asking for less than the minimum gets 423
//!   before the application sees it. [`UserAgent::notify`] sends further
//!   state; refreshes are answered by the UA (with a NOTIFY of the last
//!   body); without refresh the subscription ends with
//!   `terminated;reason=timeout`; [`UserAgent::terminate_subscription`]
//!   ends it with a reason.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use smallvec::SmallVec;

use super::{
    ClientTxId, DeadlineReason, DialogRequestSpec, Event, RequestSpec, ResponseSpec, ServerTxId,
    TerminationReason, UaError, UserAgent,
};
use crate::dialog::{Dialog, DialogId};
use crate::sip::{HeaderName, Method, SipMessage, SubState};

/// Identifies a subscription inside one [`UserAgent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(pub(crate) u64);

/// The subscription settings of a user agent (RFC 6665).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionConfig {
    /// Notifier: the shortest subscription granted; a SUBSCRIBE asking for
    /// less (but not 0) gets 423 with this Min-Expires.
    pub min_expires: u32,
    /// Notifier: the longest subscription granted; longer requests are cut
    /// to it.
    pub max_expires: u32,
    /// Notifier: the duration granted to a SUBSCRIBE without Expires (the
    /// package's default, RFC 6665 §4.4.1).
    pub default_expires: u32,
}

impl Default for SubscriptionConfig {
    /// 60 s to 3600 s, 3600 s by default.
    fn default() -> Self {
        SubscriptionConfig {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
        }
    }
}

/// A subscription to send with [`UserAgent::subscribe`].
///
/// ```
/// use oma_im::dialog::SubscribeSpec;
///
/// let spec = SubscribeSpec::conference("sip:conf@example.com",
///     "<sip:alice@example.com>", 600);
/// assert_eq!(spec.event, "conference");
/// assert_eq!(spec.accept, "application/conference-info+xml");
///
/// // Header fields of the application's own (e.g. Accept-Contact) go in
/// // the SUBSCRIBE, its refreshes and the unsubscribe.
/// let spec = spec.with_header("User-Agent", "IM-client/OMA1.0 demo/1");
/// assert_eq!(spec.headers, [("User-Agent".into(), "IM-client/OMA1.0 demo/1".to_owned())]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeSpec {
    /// The Request-URI and To: the resource subscribed to.
    pub target: String,
    /// The From address, without tag.
    pub from: String,
    /// The Event value: package, and `;id=` when needed.
    pub event: String,
    /// The Accept value.
    pub accept: String,
    /// The duration asked for, seconds.
    pub expires: u32,
    /// More header fields (name, value), in every SUBSCRIBE of the
    /// subscription: the initial one, refreshes and the unsubscribe.
    pub headers: Vec<(Cow<'static, str>, String)>,
}

impl SubscribeSpec {
    /// A subscription to the conference event package (RFC 4575) of
    /// `target`.
    pub fn conference(target: &str, from: &str, expires: u32) -> Self {
        SubscribeSpec {
            target: target.to_owned(),
            from: from.to_owned(),
            event: "conference".to_owned(),
            accept: "application/conference-info+xml".to_owned(),
            expires,
            headers: Vec::new(),
        }
    }

    /// Adds a header field to every SUBSCRIBE of the subscription; the
    /// value is taken as is when it is already a `String`.
    pub fn with_header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Why a subscription ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscriptionEnd {
    /// Subscriber: a NOTIFY said `terminated`, with its `reason` if any.
    Terminated {
        /// The reason parameter.
        reason: Option<String>,
    },
    /// It expired: no refresh (notifier), or no answer or NOTIFY in time
    /// (subscriber).
    Timeout,
    /// Subscriber: a SUBSCRIBE got this final error status (408 for a
    /// timeout).
    Failed(u16),
    /// Notifier: the subscriber unsubscribed (`Expires: 0`).
    Unsubscribed,
    /// Notifier: [`UserAgent::terminate_subscription`] with this reason.
    Local(String),
    /// Its dialog ended first.
    DialogEnded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Subscriber,
    Notifier,
}

/// Which deadline a subscription has scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SubDeadline {
    Refresh,
    Expiry,
}

/// (Event type, `id` parameter): with the dialog, the key of a
/// subscription.
type EventKey = (String, Option<String>);

/// One subscription.
#[derive(Debug, Clone)]
pub(super) struct Subscription {
    role: Role,
    dialog: Option<DialogId>,
    event: String,
    event_key: EventKey,
    accept: String,
    /// Subscriber: the application's extra header fields of every SUBSCRIBE.
    headers: Vec<(Cow<'static, str>, String)>,
    /// Subscriber: the duration it asks for; notifier: the one granted.
    expires: u32,
    /// When it expires.
    expires_at: Instant,
    deadline: Option<(Instant, SubDeadline)>,
    /// Notifier: the last body notified.
    body: Option<(String, Vec<u8>)>,
    /// Subscriber: the (Call-ID, From tag) of the initial SUBSCRIBE, and
    /// its CSeq, until the dialog exists.
    pending: Option<((String, String), u32)>,
    /// Ending: an unsubscribe sent (subscriber) or the final NOTIFY sent
    /// (notifier).
    closing: bool,
    /// Subscriber: a 2xx to the SUBSCRIBE came.
    active: bool,
    /// Already reported ended.
    ended: bool,
}

/// A SUBSCRIBE in the subscription's dialog (refresh, or `expires` 0 to
/// end it) with the subscription's Event, Accept and extra header fields.
fn subscribe_in_dialog(sub: &Subscription, expires: u32) -> DialogRequestSpec {
    let mut spec = DialogRequestSpec::new(Method::Subscribe)
        .with_header("Event", &sub.event)
        .with_header("Accept", &sub.accept)
        .with_header("Expires", expires.to_string());
    for (name, value) in &sub.headers {
        spec = spec.with_header(name.clone(), value);
    }
    spec
}

fn event_key(message: &SipMessage<'_>) -> Option<EventKey> {
    let e = message.event()?.ok()?;
    Some((e.event_type.to_ascii_lowercase(), e.id().map(str::to_owned)))
}

/// When a subscriber refreshes: after 90 % of `granted`.
fn refresh_after(granted: u32) -> Duration {
    Duration::from_secs(u64::from(granted - granted / 10))
}

impl UserAgent {
    /// Sends SUBSCRIBE (Event, Accept, Expires) outside any dialog.
    ///
    /// A subscriber and a notifier on a direct link: the notifier accepts
    /// with the full state, the subscriber gets it in a NOTIFY.
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::dialog::{Config, Event, Input, Output, SubscribeSpec, UserAgent};
    /// use oma_im::transaction::Transport;
    ///
    /// let addrs = ["192.0.2.1:5060".parse().unwrap(), "192.0.2.2:5060".parse().unwrap()];
    /// let mut uas = [
    ///     UserAgent::new(Config::new(addrs[0], addrs[1], Transport::Udp, 1)),
    ///     UserAgent::new(Config::new(addrs[1], addrs[0], Transport::Udp, 2)),
    /// ];
    /// let now = Instant::now();
    /// let spec = SubscribeSpec::conference("sip:conf@192.0.2.2", "<sip:alice@192.0.2.1>", 600);
    /// let subscription = uas[0].subscribe(spec, now)?;
    /// let mut state = None;
    /// let mut progress = true;
    /// while progress {
    ///     progress = false;
    ///     for me in 0..2 {
    ///         while let Some(output) = uas[me].poll_output() {
    ///             progress = true;
    ///             match output {
    ///                 Output::Transmit(t) => uas[1 - me].handle_input(Input::Datagram {
    ///                     bytes: &t.bytes, source: addrs[me], transport: t.transport }, now),
    ///                 Output::Event(Event::RequestReceived { transaction, .. }) => {
    ///                     let full = b"<conference-info/>".to_vec();
    ///                     uas[me].accept_subscription(transaction,
    ///                         "application/conference-info+xml", full, now)?;
    ///                 }
    ///                 Output::Event(Event::NotifyReceived { subscription: s, request, .. }) => {
    ///                     assert_eq!(s, subscription);
    ///                     state = Some(request.message().body().to_vec());
    ///                 }
    ///                 Output::Event(_) => {}
    ///             }
    ///         }
    ///     }
    /// }
    /// assert_eq!(state.as_deref(), Some(&b"<conference-info/>"[..]));
    /// assert_eq!(uas[1].subscription_count(), 1);
    /// # Ok::<(), oma_im::dialog::UaError>(())
    /// ```
    pub fn subscribe(
        &mut self,
        spec: SubscribeSpec,
        now: Instant,
    ) -> Result<SubscriptionId, UaError> {
        if self.dialogs.len() >= self.config.limits.max_dialogs {
            return Err(UaError::TooManyDialogs);
        }
        let mut request =
            RequestSpec::new(Method::Subscribe, &spec.target, &spec.from, &spec.target)
                .with_header("Event", &spec.event)
                .with_header("Accept", &spec.accept)
                .with_header("Expires", spec.expires.to_string());
        for (name, value) in &spec.headers {
            request = request.with_header(name.clone(), value);
        }
        let parsed = crate::sip::Event::parse(&spec.event).map_err(|_| UaError::NotAllowed)?;
        let event_key: EventKey = (
            parsed.event_type.to_ascii_lowercase(),
            parsed.id().map(str::to_owned),
        );
        let tx = self.send_request(request, now)?;
        let pending = self.clients.get(&tx).and_then(|e| {
            let msg = e.tx.request().message();
            let call_id = msg.call_id()?.ok()?.to_string();
            let tag = msg.from()?.ok()?.tag()?.to_owned();
            let seq = msg.cseq()?.ok()?.seq;
            Some(((call_id, tag), seq))
        });
        let id = SubscriptionId(self.fresh_id());
        if let Some((key, _)) = &pending {
            self.pending_subscriptions.insert(key.clone(), id);
        }
        self.subscription_txs.insert(tx, id);
        let expires_at = now + Duration::from_secs(u64::from(spec.expires));
        self.subscriptions.insert(
            id,
            Subscription {
                role: Role::Subscriber,
                dialog: None,
                event: spec.event,
                event_key,
                accept: spec.accept,
                headers: spec.headers,
                expires: spec.expires,
                expires_at,
                deadline: None,
                body: None,
                pending,
                closing: false,
                active: false,
                ended: false,
            },
        );
        Ok(id)
    }

    /// Ends a subscription this UA made: SUBSCRIBE with `Expires: 0`; it
    /// ends with the notifier's final NOTIFY (or after 64*T1 without it).
    pub fn unsubscribe(
        &mut self,
        subscription: SubscriptionId,
        now: Instant,
    ) -> Result<(), UaError> {
        let sub = self
            .subscriptions
            .get(&subscription)
            .filter(|s| s.role == Role::Subscriber && !s.closing)
            .ok_or(UaError::UnknownSubscription)?;
        let dialog = sub.dialog.ok_or(UaError::NotAllowed)?;
        let spec = subscribe_in_dialog(sub, 0);
        let tx = self.request_in_dialog(dialog, &spec, now)?;
        self.subscription_txs.insert(tx, subscription);
        let guard = now + self.config.timers.timeout();
        if let Some(sub) = self.subscriptions.get_mut(&subscription) {
            sub.closing = true;
        }
        self.set_sub_deadline(subscription, guard, SubDeadline::Expiry);
        self.process_due(now);
        Ok(())
    }

    /// Accepts the SUBSCRIBE of server transaction `transaction`: 200 with
    /// the Expires granted (the request's, or the default, clamped to
    /// [`SubscriptionConfig`]), then the first NOTIFY at once with
    /// `content_type` and `body` (for the conference package, the full
    /// conference-info document).
    pub fn accept_subscription(
        &mut self,
        transaction: ServerTxId,
        content_type: &str,
        body: Vec<u8>,
        now: Instant,
    ) -> Result<SubscriptionId, UaError> {
        let entry = self
            .servers
            .get(&transaction)
            .ok_or(UaError::UnknownTransaction)?;
        let request = entry.tx.request().clone();
        let msg = request.message();
        if msg.method() != Some("SUBSCRIBE") || entry.dialog.is_some() {
            return Err(UaError::NotAllowed);
        }
        let event_key = event_key(&msg).ok_or(UaError::NotAllowed)?;
        let event = msg
            .header(crate::sip::HeaderName::Event)
            .map(|h| h.value.to_owned())
            .ok_or(UaError::NotAllowed)?;
        let cfg = self.config.subscriptions;
        let asked = msg
            .expires()
            .and_then(Result::ok)
            .map_or(cfg.default_expires, |e| e.0);
        let granted = asked.clamp(cfg.min_expires, cfg.max_expires.max(cfg.min_expires));
        let ok = ResponseSpec::new(200).with_header("Expires", granted.to_string());
        self.respond(transaction, ok, now)?;
        let dialog = self
            .servers
            .get(&transaction)
            .and_then(|e| e.dialog)
            .ok_or(UaError::NotAllowed)?;
        let id = SubscriptionId(self.fresh_id());
        let expires_at = now + Duration::from_secs(u64::from(granted));
        self.subscriptions.insert(
            id,
            Subscription {
                role: Role::Notifier,
                dialog: Some(dialog),
                event,
                event_key: event_key.clone(),
                accept: String::new(),
                headers: Vec::new(),
                expires: granted,
                expires_at,
                deadline: None,
                body: None,
                pending: None,
                closing: false,
                active: false,
                ended: false,
            },
        );
        self.attach_subscription(id, dialog, event_key);
        self.set_sub_deadline(id, expires_at, SubDeadline::Expiry);
        self.event(Event::SubscriptionActive {
            subscription: id,
            dialog,
            expires: granted,
        });
        self.notify(id, content_type, body, now)?;
        Ok(id)
    }

    /// Sends a NOTIFY with the current state (`active;expires=` the time
    /// left) and `body`.
    pub fn notify(
        &mut self,
        subscription: SubscriptionId,
        content_type: &str,
        body: Vec<u8>,
        now: Instant,
    ) -> Result<ClientTxId, UaError> {
        let sub = self
            .subscriptions
            .get_mut(&subscription)
            .filter(|s| s.role == Role::Notifier && !s.closing)
            .ok_or(UaError::UnknownSubscription)?;
        sub.body = Some((content_type.to_owned(), body.clone()));
        let left = sub.expires_at.saturating_duration_since(now).as_secs();
        let state = format!("active;expires={left}");
        let body = Some((content_type.to_owned(), body));
        let tx = self.send_notify(subscription, &state, body, now)?;
        self.process_due(now);
        Ok(tx)
    }

    /// Ends a subscription this UA serves: a final NOTIFY with
    /// `terminated;reason=<reason>` (e.g. `noresource`, `deactivated`,
    /// `rejected`); the dialog ends when it completes.
    pub fn terminate_subscription(
        &mut self,
        subscription: SubscriptionId,
        reason: &str,
        now: Instant,
    ) -> Result<(), UaError> {
        match self.subscriptions.get(&subscription) {
            Some(s) if s.role == Role::Notifier && !s.closing => {}
            _ => return Err(UaError::UnknownSubscription),
        }
        self.close_notifier(
            subscription,
            reason,
            SubscriptionEnd::Local(reason.to_owned()),
            now,
        );
        self.process_due(now);
        Ok(())
    }

    /// How many subscriptions are alive.
    pub fn subscription_count(&self) -> usize {
        self.subscriptions.len()
    }

    /// The dialog of a subscription, once it has one.
    pub fn dialog_of_subscription(&self, subscription: SubscriptionId) -> Option<DialogId> {
        self.subscriptions.get(&subscription)?.dialog
    }

    // ----- internals -----

    fn attach_subscription(&mut self, id: SubscriptionId, dialog: DialogId, key: EventKey) {
        self.subscription_keys.insert((dialog, key), id);
        if let Some(e) = self.dialogs.get_mut(&dialog) {
            e.subscriptions.push(id);
        }
    }

    fn set_sub_deadline(&mut self, id: SubscriptionId, at: Instant, kind: SubDeadline) {
        let Some(sub) = self.subscriptions.get_mut(&id) else {
            return;
        };
        sub.deadline = Some((at, kind));
        let reason = match kind {
            SubDeadline::Refresh => DeadlineReason::SubscriptionRefresh { subscription: id },
            SubDeadline::Expiry => DeadlineReason::SubscriptionExpiry { subscription: id },
        };
        self.schedule(at, reason);
    }

    pub(super) fn sub_deadline_live(
        &self,
        id: SubscriptionId,
        at: Instant,
        kind: SubDeadline,
    ) -> bool {
        self.subscriptions
            .get(&id)
            .is_some_and(|s| s.deadline == Some((at, kind)))
    }

    fn send_notify(
        &mut self,
        id: SubscriptionId,
        state: &str,
        body: Option<(String, Vec<u8>)>,
        now: Instant,
    ) -> Result<ClientTxId, UaError> {
        let sub = self
            .subscriptions
            .get(&id)
            .ok_or(UaError::UnknownSubscription)?;
        let dialog = sub.dialog.ok_or(UaError::UnknownDialog)?;
        let mut spec = DialogRequestSpec::new(Method::Notify)
            .with_header("Event", &sub.event)
            .with_header("Subscription-State", state);
        if let Some((ct, body)) = body {
            spec = spec.with_body(&ct, body);
        }
        self.request_in_dialog(dialog, &spec, now)
    }

    /// Notifier: the final NOTIFY; the subscription and its dialog go when
    /// it completes.
    fn close_notifier(
        &mut self,
        id: SubscriptionId,
        reason: &str,
        end: SubscriptionEnd,
        now: Instant,
    ) {
        let state = format!("terminated;reason={reason}");
        let sent = self.send_notify(id, &state, None, now);
        if let Some(sub) = self.subscriptions.get_mut(&id) {
            sub.closing = true;
            sub.deadline = None;
        }
        self.report_end(id, end);
        match sent {
            Ok(tx) => {
                self.subscription_txs.insert(tx, id);
            }
            Err(_) => self.drop_subscription(id, true),
        }
    }

    fn report_end(&mut self, id: SubscriptionId, reason: SubscriptionEnd) {
        let Some(sub) = self.subscriptions.get_mut(&id) else {
            return;
        };
        if !sub.ended {
            sub.ended = true;
            self.event(Event::SubscriptionTerminated {
                subscription: id,
                reason,
            });
        }
    }

    /// Forgets subscription `id`, and its dialog when `with_dialog`.
    fn drop_subscription(&mut self, id: SubscriptionId, with_dialog: bool) {
        self.report_end(id, SubscriptionEnd::DialogEnded);
        let Some(sub) = self.subscriptions.remove(&id) else {
            return;
        };
        if let Some((key, _)) = &sub.pending {
            self.pending_subscriptions.remove(key);
        }
        if let Some(dialog) = sub.dialog {
            self.subscription_keys.remove(&(dialog, sub.event_key));
            if let Some(e) = self.dialogs.get_mut(&dialog) {
                e.subscriptions.retain(|s| *s != id);
            }
            if with_dialog {
                self.remove_dialog(dialog, TerminationReason::SubscriptionEnded);
            }
        }
    }

    /// Ends a subscription at once: reported, forgotten with its dialog.
    fn end_subscription(&mut self, id: SubscriptionId, reason: SubscriptionEnd) {
        self.report_end(id, reason);
        self.drop_subscription(id, true);
    }

    /// The subscriptions of a dialog being removed.
    pub(super) fn dialog_subscriptions_gone(&mut self, subs: SmallVec<[SubscriptionId; 1]>) {
        for id in subs {
            self.drop_subscription(id, false);
        }
    }

    /// A subscription deadline fired.
    pub(super) fn on_subscription_deadline(
        &mut self,
        id: SubscriptionId,
        kind: SubDeadline,
        now: Instant,
    ) {
        let Some(sub) = self.subscriptions.get_mut(&id) else {
            return;
        };
        sub.deadline = None;
        match (sub.role, kind) {
            (Role::Subscriber, SubDeadline::Refresh) => {
                let (Some(dialog), expires_at) = (sub.dialog, sub.expires_at) else {
                    return;
                };
                let spec = subscribe_in_dialog(sub, sub.expires);
                match self.request_in_dialog(dialog, &spec, now) {
                    Ok(tx) => {
                        self.subscription_txs.insert(tx, id);
                        self.set_sub_deadline(id, expires_at.max(now), SubDeadline::Expiry);
                    }
                    Err(_) => self.end_subscription(id, SubscriptionEnd::Failed(503)),
                }
            }
            (Role::Subscriber, _) => self.end_subscription(id, SubscriptionEnd::Timeout),
            (Role::Notifier, _) => {
                self.close_notifier(id, "timeout", SubscriptionEnd::Timeout, now)
            }
        }
    }

    /// A final response (or a timeout, as 408) to a SUBSCRIBE or final
    /// NOTIFY of subscription `id`.
    pub(super) fn on_subscription_answer(
        &mut self,
        id: SubscriptionId,
        dialog: Option<DialogId>,
        code: u16,
        response: Option<&SipMessage<'_>>,
        now: Instant,
    ) {
        let Some(sub) = self.subscriptions.get_mut(&id) else {
            return;
        };
        if sub.role == Role::Notifier || sub.closing {
            // The final NOTIFY, or the answer to an unsubscribe: a NOTIFY
            // ends it (or the guard deadline); an error ends it now.
            if sub.role == Role::Notifier || code >= 300 {
                self.drop_subscription(id, true);
            }
            return;
        }
        if code >= 300 {
            return self.end_subscription(id, SubscriptionEnd::Failed(code));
        }
        let granted = response
            .and_then(|r| r.expires())
            .and_then(Result::ok)
            .map_or(sub.expires, |e| e.0.min(sub.expires));
        let first = !sub.active;
        sub.active = true;
        if sub.dialog.is_none() {
            let Some(dialog) = dialog else {
                return self.end_subscription(id, SubscriptionEnd::Failed(code));
            };
            self.bind_subscriber(id, dialog);
        }
        self.subscriber_granted(id, granted, now);
        let dialog = self.subscriptions.get(&id).and_then(|s| s.dialog);
        if let (true, Some(dialog)) = (first, dialog) {
            self.event(Event::SubscriptionActive {
                subscription: id,
                dialog,
                expires: granted,
            });
        } else {
            self.event(Event::SubscriptionRefreshed {
                subscription: id,
                expires: granted,
            });
        }
    }

    fn bind_subscriber(&mut self, id: SubscriptionId, dialog: DialogId) {
        let Some(sub) = self.subscriptions.get_mut(&id) else {
            return;
        };
        if sub.dialog.is_some() {
            return;
        }
        sub.dialog = Some(dialog);
        let key = sub.event_key.clone();
        if let Some((pending, _)) = sub.pending.take() {
            self.pending_subscriptions.remove(&pending);
        }
        self.attach_subscription(id, dialog, key);
    }

    fn subscriber_granted(&mut self, id: SubscriptionId, granted: u32, now: Instant) {
        let Some(sub) = self.subscriptions.get_mut(&id) else {
            return;
        };
        if sub.closing {
            return;
        }
        sub.expires_at = now + Duration::from_secs(u64::from(granted));
        if granted == 0 {
            // A fetch, or a notifier ending it: wait 64*T1 for its final
            // NOTIFY, never refresh.
            let guard = now + self.config.timers.timeout();
            self.set_sub_deadline(id, guard, SubDeadline::Expiry);
        } else {
            self.set_sub_deadline(id, now + refresh_after(granted), SubDeadline::Refresh);
        }
    }

    /// A NOTIFY whose dialog does not exist yet: the dialog of a pending
    /// subscription, created by the NOTIFY (RFC 6665 §4.1.2.4).
    pub(super) fn dialog_from_notify(
        &mut self,
        request: &SipMessage<'_>,
        to_tag: &str,
    ) -> Option<DialogId> {
        if request.method() != Some("NOTIFY") || !self.dialog_room() {
            return None;
        }
        let call_id = request.call_id()?.ok()?.to_string();
        let key = (call_id, to_tag.to_owned());
        let Some(&sid) = self.pending_subscriptions.get(&key) else {
            return self.refer_dialog_from_notify(request, &key);
        };
        let sub = self.subscriptions.get(&sid)?;
        if event_key(request).as_ref() != Some(&sub.event_key) {
            return None;
        }
        let seq = sub.pending.as_ref().map_or(1, |(_, seq)| *seq);
        let id = self.new_dialog_id()?;
        let mut dialog = Dialog::from_request(
            id,
            request,
            to_tag,
            None,
            true,
            self.config.limits.max_route_set,
        )?;
        dialog.local_seq = seq;
        dialog.remote_seq = None;
        self.insert_dialog(dialog, None);
        self.event(Event::DialogEstablished { dialog: id });
        self.bind_subscriber(sid, id);
        Some(id)
    }

    /// A NOTIFY of the implicit subscription of an out-of-dialog REFER in
    /// flight (`key`: its Call-ID and From tag) that overtook the REFER's
    /// 2xx: the NOTIFY creates the dialog (RFC 6665 §4.1.2.4, RFC 3515
    /// §2.4.4); the 2xx finds it.
    fn refer_dialog_from_notify(
        &mut self,
        request: &SipMessage<'_>,
        key: &(String, String),
    ) -> Option<DialogId> {
        let refer = *self.pending_refers.get(key)?;
        let is_refer_event = request
            .event()
            .and_then(Result::ok)
            .is_some_and(|e| e.event_type.eq_ignore_ascii_case("refer"));
        if !is_refer_event {
            return None;
        }
        let sent = self.clients.get(&refer)?.tx.request().clone();
        let sent = sent.message();
        let seq = sent.cseq()?.ok()?.seq;
        let contact = sent.header(HeaderName::Contact).map(|h| h.value);
        let id = self.new_dialog_id()?;
        let mut dialog = Dialog::from_request(
            id,
            request,
            &key.1,
            contact,
            true,
            self.config.limits.max_route_set,
        )?;
        dialog.local_seq = seq;
        dialog.remote_seq = None;
        self.insert_dialog(dialog, None);
        self.refer_dialogs.insert(refer, id);
        self.pending_refers.remove(key);
        self.event(Event::DialogEstablished { dialog: id });
        Some(id)
    }

    /// A request in `dialog` for one of its subscriptions: NOTIFY at the
    /// subscriber, SUBSCRIBE (refresh, unsubscribe) at the notifier.
    /// Answered here; `false` when it is not for a subscription.
    pub(super) fn subscription_request(
        &mut self,
        dialog: DialogId,
        transaction: ServerTxId,
        request: &SipMessage<'_>,
        now: Instant,
    ) -> bool {
        let Some(key) = event_key(request) else {
            return false;
        };
        let Some(&id) = self.subscription_keys.get(&(dialog, key)) else {
            return false;
        };
        let Some(sub) = self.subscriptions.get(&id) else {
            return false;
        };
        match (sub.role, request.method()) {
            (Role::Subscriber, Some("NOTIFY")) => {
                // Taken before the 200: over a reliable transport the
                // transaction ends with it (timer J is zero).
                let owned = self
                    .servers
                    .get(&transaction)
                    .map(|e| e.tx.request().clone());
                let _ = self.respond(transaction, ResponseSpec::new(200), now);
                if let Some(request) = owned {
                    self.event(Event::NotifyReceived {
                        subscription: id,
                        dialog,
                        request,
                    });
                }
                let state = request.subscription_state().and_then(Result::ok);
                match state {
                    Some(s) if s.state == SubState::Terminated => {
                        let reason = s.reason().map(str::to_owned);
                        self.end_subscription(id, SubscriptionEnd::Terminated { reason });
                    }
                    Some(s) => {
                        if let Some(expires) = s.expires() {
                            self.subscriber_granted(id, expires, now);
                        }
                    }
                    None => {}
                }
                true
            }
            (Role::Notifier, Some("SUBSCRIBE")) if sub.closing => {
                // Its final NOTIFY is on the way: the subscription is gone.
                let _ = self.respond(transaction, ResponseSpec::new(481), now);
                true
            }
            (Role::Notifier, Some("SUBSCRIBE")) => {
                let cfg = self.config.subscriptions;
                let asked = request
                    .expires()
                    .and_then(Result::ok)
                    .map_or(cfg.default_expires, |e| e.0);
                if asked == 0 {
                    let ok = ResponseSpec::new(200).with_header("Expires", "0");
                    let _ = self.respond(transaction, ok, now);
                    self.close_notifier(id, "timeout", SubscriptionEnd::Unsubscribed, now);
                    return true;
                }
                let granted = asked.clamp(cfg.min_expires, cfg.max_expires.max(cfg.min_expires));
                let ok = ResponseSpec::new(200).with_header("Expires", granted.to_string());
                let _ = self.respond(transaction, ok, now);
                let expires_at = now + Duration::from_secs(u64::from(granted));
                let body = match self.subscriptions.get_mut(&id) {
                    Some(sub) => {
                        sub.expires = granted;
                        sub.expires_at = expires_at;
                        sub.body.clone()
                    }
                    None => None,
                };
                self.set_sub_deadline(id, expires_at, SubDeadline::Expiry);
                self.event(Event::SubscriptionRefreshed {
                    subscription: id,
                    expires: granted,
                });
                let state = format!("active;expires={granted}");
                let _ = self.send_notify(id, &state, body, now);
                true
            }
            _ => false,
        }
    }

    /// The Min-Expires to answer with 423 when a SUBSCRIBE asks for less
    /// than this notifier grants (RFC 6665 §4.2.1.1).
    pub(super) fn subscription_too_brief(&self, request: &SipMessage<'_>) -> Option<u32> {
        if request.method() != Some("SUBSCRIBE") {
            return None;
        }
        let asked = request.expires()?.ok()?.0;
        let min = self.config.subscriptions.min_expires;
        (asked != 0 && asked < min).then_some(min)
    }

    /// The subscription of client transaction `tx`, forgotten.
    pub(super) fn take_subscription_tx(&mut self, tx: ClientTxId) -> Option<SubscriptionId> {
        self.subscription_txs.remove(&tx)
    }
}

#[cfg(test)]
mod tests {
    use super::refresh_after;

    #[test]
    fn refresh_at_ninety_percent() {
        assert_eq!(refresh_after(60).as_secs(), 54);
        assert_eq!(refresh_after(3600).as_secs(), 3240);
        assert_eq!(refresh_after(1).as_secs(), 1);
    }
}
