//! How the History Function reacts to what its user agent and its MSRP
//! sessions report.

use std::time::Instant;

use super::session::{Item, Kind, RecordingState, RetrievalState};
use super::{
    DialogUse, EndReason, Event, HistorySessionId, ImHistoryFunction, Output, RecordedMessage,
    RecordingInfo, TxUse,
};
use crate::body::multipart::find_sdp;
use crate::dialog::{
    ClientTxId, DialogId, DialogRequestSpec, SubscribeSpec, SubscriptionId, TerminationReason,
    UaError,
};
use crate::im::{ImSessionIdentity, ACCEPT_CONTACT_IM};
use crate::msrp::session::{self as msrp_session, MsrpSession, SendErrorKind, SendOptions};
use crate::sdp::offer_answer::{negotiate, Side};
use crate::sdp::SessionDescription;
use crate::sip::{HeaderName, Method, SipMessage};
use crate::transaction::OwnedMessage;

impl ImHistoryFunction {
    pub(super) fn on_ack(&mut self, dialog: DialogId, now: Instant) {
        let Some(DialogUse::Invite(session)) = self.dialogs.get(&dialog).copied() else {
            return;
        };
        let completing = match self.sessions.get_mut(&session).map(|s| &mut s.kind) {
            Some(Kind::Retrieval(r)) => {
                r.acked = true;
                r.state == RetrievalState::Completing
            }
            _ => false,
        };
        if completing {
            self.release(session, now);
        }
    }

    pub(super) fn on_response(
        &mut self,
        tx: ClientTxId,
        dialog: Option<DialogId>,
        response: &OwnedMessage,
        now: Instant,
    ) {
        let msg = response.message();
        let status = msg.status_code().unwrap_or(500);
        if status < 200 {
            return;
        }
        let Some(usage) = self.transactions.remove(&tx) else {
            return;
        };
        match usage {
            TxUse::Invite(session) if (200..300).contains(&status) => {
                self.on_invite_ok(session, dialog, &msg, now)
            }
            TxUse::Invite(session) => self.recording_failed(session, status, now),
            TxUse::ReferNotify(d) => self.drop_dialog(d),
            TxUse::Bye => {}
        }
    }

    /// 13.3.1.2 "On receiving a SIP 200 OK": store Allow, the IM Session
    /// Identity and every header field; SUBSCRIBE to the conference state;
    /// set up the User Plane.
    fn on_invite_ok(
        &mut self,
        session: HistorySessionId,
        dialog: Option<DialogId>,
        msg: &SipMessage<'_>,
        now: Instant,
    ) {
        let Some(dialog) = dialog else { return };
        if !self.sessions.contains_key(&session) {
            // The recording ended while its INVITE was pending.
            if let Ok(tx) = self.ua.bye(dialog, now) {
                self.transactions.insert(tx, TxUse::Bye);
            }
            return;
        }
        self.dialogs.insert(dialog, DialogUse::Invite(session));
        let allow = match msg.allow() {
            Some(Ok(set)) => set.iter().map(|m| m.as_str().to_owned()).collect(),
            _ => Vec::new(),
        };
        let im_session_identity = ImSessionIdentity::from_contact(msg);
        let headers = msg
            .headers()
            .take(self.config.limits.max_stored_headers)
            .map(|(name, value)| (name.as_str().to_owned(), value.value.to_owned()))
            .collect();
        let info = RecordingInfo {
            allow,
            im_session_identity,
            headers,
        };
        let content_type = msg
            .header(HeaderName::ContentType)
            .map(|h| h.value)
            .unwrap_or_default();
        let config = self.msrp_config(session);
        let limits = self.config.limits;
        let Ok(r) = self.recording_mut(session) else {
            return;
        };
        let offer_bytes = std::mem::take(&mut r.offer);
        let msrp = find_sdp(content_type, msg.body(), &limits.layers.mime)
            .ok()
            .flatten()
            .and_then(|body| {
                let answered =
                    SessionDescription::parse_with_limits(body, &limits.layers.sdp).ok()?;
                let offered =
                    SessionDescription::parse_with_limits(&offer_bytes, &limits.layers.sdp).ok()?;
                let n = negotiate(&offered, &answered, Side::Offerer).ok()?;
                MsrpSession::from_negotiated(&n, config).ok()
            });
        r.state = RecordingState::Recording;
        r.info = Some(info.clone());
        let target = info
            .im_session_identity
            .as_ref()
            .map_or_else(|| r.target.clone(), |i| i.uri.clone());
        let refer_dialog = r.refer_dialog.take();
        if let Some(d) = refer_dialog {
            self.notify_refer(d, "SIP/2.0 200 OK", now);
        }
        let Some(msrp) = msrp else {
            self.end_with_bye(session, EndReason::MediaFailed, now);
            return;
        };
        let (active, destination) = (msrp.params().active, msrp.destination().clone());
        if let Some(s) = self.sessions.get_mut(&session) {
            s.dialog = Some(dialog);
            s.msrp = Some(msrp);
        }
        if active {
            self.out.push_back(Output::MsrpConnect {
                session,
                destination,
            });
        }
        self.event(Event::RecordingStarted { session, info });
        // 7.1.1.11: the conference state of the session, through the
        // user agent's subscription (it refreshes before expiry).
        let from = format!("<{}>", self.config.identity);
        let spec = SubscribeSpec::conference(&target, &from, self.config.subscription_expires)
            .with_header("Accept-Contact", ACCEPT_CONTACT_IM)
            .with_header("User-Agent", &self.release);
        if let Ok(id) = self.ua.subscribe(spec, now) {
            self.subscriptions.insert(id, session);
            if let Ok(r) = self.recording_mut(session) {
                r.subscription = Some(id);
            }
        }
    }

    /// A NOTIFY of a conference-state subscription (answered 200 by the
    /// user agent): reported while its recording lives.
    pub(super) fn on_conference_notify(
        &mut self,
        subscription: SubscriptionId,
        request: &OwnedMessage,
    ) {
        let Some(&session) = self.subscriptions.get(&subscription) else {
            return;
        };
        if self.sessions.contains_key(&session) {
            self.event(Event::ConferenceState {
                session,
                body: request.message().body().to_vec(),
            });
        }
    }

    /// The SUBSCRIBE got its 2xx: a subscription whose recording ended
    /// meanwhile is ended now.
    pub(super) fn on_subscription_active(&mut self, subscription: SubscriptionId, now: Instant) {
        let orphan = self
            .subscriptions
            .get(&subscription)
            .is_some_and(|s| !self.sessions.contains_key(s));
        if orphan {
            self.unsubscribe(subscription, now);
        }
    }

    /// A conference-state subscription ended (terminated, expired, failed,
    /// unsubscribed).
    pub(super) fn on_subscription_terminated(&mut self, subscription: SubscriptionId) {
        if let Some(session) = self.subscriptions.remove(&subscription) {
            if let Ok(r) = self.recording_mut(session) {
                r.subscription = None;
            }
        }
    }

    /// The INVITE of a recording failed with `status`.
    pub(super) fn recording_failed(
        &mut self,
        session: HistorySessionId,
        status: u16,
        now: Instant,
    ) {
        let refer_dialog = self
            .recording_mut(session)
            .ok()
            .and_then(|r| r.refer_dialog.take());
        if let Some(d) = refer_dialog {
            let reason = crate::transaction::reason_phrase(status);
            self.notify_refer(d, &format!("SIP/2.0 {status} {reason}"), now);
        }
        self.end_session(session, EndReason::InviteFailed(status), now);
    }

    /// The earliest deadline of a recording's INVITE still unanswered.
    pub(super) fn invitation_deadline(&self) -> Option<(Instant, HistorySessionId)> {
        self.sessions
            .iter()
            .filter_map(|(id, s)| match &s.kind {
                Kind::Recording(r) if r.state == RecordingState::Inviting => {
                    Some((r.invite_deadline?, *id))
                }
                _ => None,
            })
            .min()
    }

    /// CANCELs the recording INVITEs whose deadline passed with no final
    /// response (RFC 3261 §9.1): a 2xx lost and the IM Session gone
    /// leaves one in Proceeding, where no timer of its transaction runs.
    /// The CANCEL's 487 ends the recording, or 64*T1 without a final
    /// response does (408).
    pub(super) fn expire_invitations(&mut self, now: Instant) {
        let mut due = Vec::new();
        for s in self.sessions.values_mut() {
            if let Kind::Recording(r) = &mut s.kind {
                if r.invite_deadline.is_some_and(|at| at <= now) {
                    r.invite_deadline = None;
                    if r.state == RecordingState::Inviting {
                        due.extend(r.invite_tx);
                    }
                }
            }
        }
        for tx in due {
            // Before a provisional response the CANCEL waits for one, and
            // timer B still runs.
            let _ = self.ua.cancel(tx, now);
        }
        self.settle(now);
    }

    /// The final NOTIFY of a REFER (RFC 3515 §2.4.5): the INVITE's outcome.
    fn notify_refer(&mut self, dialog: DialogId, sipfrag: &str, now: Instant) {
        let spec = DialogRequestSpec::new(Method::Notify)
            .with_header("Event", "refer")
            .with_header("Subscription-State", "terminated;reason=noresource")
            .with_body("message/sipfrag", sipfrag.as_bytes().to_vec());
        match self.ua.send_in_dialog(dialog, spec, now) {
            Ok(tx) => {
                self.transactions.insert(tx, TxUse::ReferNotify(dialog));
            }
            Err(_) => self.drop_dialog(dialog),
        }
    }

    /// Ends a conference-state subscription (`Expires: 0`). Before its
    /// 2xx it has no dialog yet: it is ended on
    /// [`SubscriptionActive`](crate::dialog::Event::SubscriptionActive).
    fn unsubscribe(&mut self, subscription: SubscriptionId, now: Instant) {
        match self.ua.unsubscribe(subscription, now) {
            Err(UaError::NotAllowed) => {}
            Ok(()) | Err(_) => {
                // Ends with SubscriptionTerminated, or is gone already.
                if !self.ua_has_subscription(subscription) {
                    self.subscriptions.remove(&subscription);
                }
            }
        }
    }

    fn ua_has_subscription(&self, subscription: SubscriptionId) -> bool {
        self.ua.dialog_of_subscription(subscription).is_some()
    }

    /// Forgets a dialog whose usage is over (REFER, subscription).
    pub(super) fn drop_dialog(&mut self, dialog: DialogId) {
        self.dialogs.remove(&dialog);
        let _ = self.ua.terminate_dialog(dialog);
    }

    pub(super) fn on_dialog_terminated(
        &mut self,
        dialog: DialogId,
        reason: TerminationReason,
        now: Instant,
    ) {
        let Some(usage) = self.dialogs.remove(&dialog) else {
            return;
        };
        if let DialogUse::Invite(session) = usage {
            let ending = self.sessions.get(&session).and_then(|s| s.ending);
            let reason = match (reason, ending) {
                (TerminationReason::ByeReceived, _) => EndReason::ByeReceived,
                (_, Some(r)) => r,
                _ => EndReason::DialogFailed,
            };
            self.end_session(session, reason, now);
        }
    }

    /// Removes a session: closes its MSRP, ends its subscription, reports.
    pub(super) fn end_session(
        &mut self,
        session: HistorySessionId,
        reason: EndReason,
        now: Instant,
    ) {
        let Some(mut s) = self.sessions.remove(&session) else {
            return;
        };
        if let Some(c) = s.connection.take() {
            self.accepted.remove(&c);
        }
        if let Some(mut msrp) = s.msrp.take() {
            msrp.close();
            self.out.push_back(Output::MsrpClose { session });
        }
        if let Some(d) = s.dialog {
            self.dialogs.remove(&d);
        }
        match s.kind {
            Kind::Retrieval(_) => {}
            Kind::Recording(r) => {
                if let Some(id) = r.subscription {
                    self.unsubscribe(id, now);
                }
                if let Some(d) = r.refer_dialog {
                    self.drop_dialog(d);
                }
            }
        }
        self.event(Event::SessionEnded { session, reason });
    }

    /// Sends BYE on the session's dialog; the session ends when it
    /// completes. Without a dialog it ends at once.
    fn end_with_bye(&mut self, session: HistorySessionId, reason: EndReason, now: Instant) {
        let dialog = self.sessions.get_mut(&session).and_then(|s| {
            s.ending = Some(reason);
            s.dialog
        });
        match dialog.map(|d| self.ua.bye(d, now)) {
            Some(Ok(tx)) => {
                self.transactions.insert(tx, TxUse::Bye);
            }
            _ => self.end_session(session, reason, now),
        }
    }

    /// Every item of a retrieval is done: BYE (once the ACK is in).
    fn release(&mut self, session: HistorySessionId, now: Instant) {
        if let Some(Kind::Retrieval(r)) = self.sessions.get_mut(&session).map(|s| &mut s.kind) {
            r.state = RetrievalState::Releasing;
        }
        if let Some(mut msrp) = self.sessions.get_mut(&session).and_then(|s| s.msrp.take()) {
            msrp.close();
            self.out.push_back(Output::MsrpClose { session });
        }
        self.end_with_bye(session, EndReason::Completed, now);
    }

    /// Hands the ready items to MSRP in URI-list order; when every item is
    /// done, reports and releases the session.
    pub(super) fn flush(&mut self, session: HistorySessionId, now: Instant) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let (Kind::Retrieval(r), Some(msrp)) = (&mut s.kind, s.msrp.as_mut()) else {
            return;
        };
        if r.state != RetrievalState::Delivering {
            return;
        }
        while let Some(item) = r.items.get_mut(r.next) {
            match item {
                Item::Ready(bytes) => {
                    match msrp.send_message("message/cpim", bytes, SendOptions::default(), now) {
                        Ok(id) => *item = Item::Sending(id),
                        Err(e) if e.kind == SendErrorKind::WouldBlock => break,
                        Err(_) => *item = Item::Failed,
                    }
                }
                Item::Missing | Item::Delivered | Item::Failed | Item::Sending(_) => {}
                Item::Pending => break,
            }
            r.next += 1;
        }
        if !r.is_done() {
            return;
        }
        let (delivered, missing, failed) = r.tally();
        r.state = RetrievalState::Completing;
        let acked = r.acked;
        self.event(Event::RetrievalCompleted {
            session,
            delivered,
            missing,
            failed,
        });
        if acked {
            self.release(session, now);
        }
    }

    pub(super) fn on_msrp_event(
        &mut self,
        session: HistorySessionId,
        event: msrp_session::Event,
        now: Instant,
    ) {
        match event {
            msrp_session::Event::MessageReceived(m) => {
                let recording = matches!(
                    self.sessions.get(&session).map(|s| &s.kind),
                    Some(Kind::Recording(_))
                );
                if recording && !is_signal(&m, &self.config.limits.layers.mime) {
                    let m = *m;
                    self.event(Event::MessageRecorded {
                        session,
                        message: Box::new(RecordedMessage {
                            message_id: m.message_id,
                            content_type: m.content_type,
                            body: m.body,
                            cpim: m.cpim.and_then(Result::ok),
                        }),
                    });
                }
            }
            msrp_session::Event::MessageSent { message_id } => {
                self.item_outcome(session, &message_id, Item::Delivered, now)
            }
            msrp_session::Event::DeliveryFailed { message_id, .. } => {
                self.item_outcome(session, &message_id, Item::Failed, now)
            }
            msrp_session::Event::BufferExceeded => {
                if let Some(mut msrp) = self.sessions.get_mut(&session).and_then(|s| s.msrp.take())
                {
                    // The 413 leaves before the connection closes.
                    while let Some(output) = msrp.poll_output() {
                        if let msrp_session::Output::Transmit(t) = output {
                            self.out.push_back(Output::MsrpTransmit {
                                session,
                                data: t.data,
                            });
                        }
                    }
                    self.out.push_back(Output::MsrpClose { session });
                }
                self.end_with_bye(session, EndReason::BufferExceeded, now);
            }
            _ => {}
        }
    }

    fn item_outcome(&mut self, session: HistorySessionId, id: &str, outcome: Item, now: Instant) {
        if let Some(Kind::Retrieval(r)) = self.sessions.get_mut(&session).map(|s| &mut s.kind) {
            if let Some(item) = r
                .items
                .iter_mut()
                .find(|i| matches!(i, Item::Sending(m) if m == id))
            {
                *item = outcome;
            }
        }
        self.flush(session, now);
    }
}

/// Whether a received message is a disposition notification (RFC 5438) or
/// an is-composing indication (RFC 3994), bare or in CPIM: signals about
/// messages, not messages, and never recorded.
fn is_signal(m: &msrp_session::ReceivedMessage, limits: &crate::body::mime::MimeLimits) -> bool {
    let signal = |ct: &str| {
        crate::body::mime::MediaType::parse_with(ct, limits)
            .is_ok_and(|t| t.is("message", "imdn+xml") || t.is("application", "im-iscomposing+xml"))
    };
    match &m.cpim {
        Some(Ok(cpim)) => cpim.mime_headers.get("Content-Type").is_some_and(signal),
        _ => signal(&m.content_type),
    }
}
