//! What the client does with the user agent's events: responses to its
//! INVITEs (9.1.1.1: store Allow and the IM Session Identity on every
//! provisional and final response, start the session timer on the 200),
//! received invitations (terminating side, 9.2.1), in-dialog requests, and
//! ended dialogs.

use std::time::Instant;

use crate::body::multipart::find_sdp;
use crate::dialog::{self, ClientTxId, DialogId, ServerTxId, TerminationReason};
use crate::im::{authenticated_originator, ImSessionIdentity};
use crate::sdp::{Direction, SessionDescription};
use crate::sip::{HeaderName, SipMessage};
use crate::transaction::OwnedMessage;

use super::session::{Origin, Session, State};
use super::{build, DialogUse, EndReason, Event, ImClient, ImSessionId, InvitationKind, TxUse};

impl ImClient {
    pub(super) fn on_ua_event(&mut self, event: dialog::Event, now: Instant) {
        match event {
            dialog::Event::ResponseReceived {
                transaction,
                dialog,
                response,
            } => self.on_response(transaction, dialog, &response, now),
            dialog::Event::RequestReceived {
                transaction,
                dialog,
                request,
            } => self.on_request(transaction, dialog, &request, now),
            dialog::Event::RequestCancelled { transaction } => {
                if let Some(id) = self.server_txs.remove(&transaction) {
                    self.end_session(id, EndReason::Cancelled, now);
                }
            }
            dialog::Event::InviteRetried {
                previous, retry, ..
            } => {
                // 422 (RFC 4028 §7.4): the INVITE went again under a new id.
                if let Some(TxUse::Invite(id)) = self.client_txs.get(&previous).copied() {
                    self.client_txs.remove(&previous);
                    self.client_txs.insert(retry, TxUse::Invite(id));
                    if let Some(s) = self.sessions.get_mut(&id) {
                        s.invite = Some(retry);
                    }
                }
            }
            dialog::Event::DialogEarly { dialog } | dialog::Event::DialogEstablished { dialog } => {
                self.on_dialog_created(dialog)
            }
            dialog::Event::DialogTerminated { dialog, reason, .. } => {
                self.on_dialog_terminated(dialog, reason, now)
            }
            dialog::Event::NotifyReceived {
                subscription,
                request,
                ..
            } => {
                if let Some(id) = self.subscriptions.get(&subscription).copied() {
                    self.on_notify(id, &request.message());
                }
            }
            dialog::Event::SubscriptionTerminated { subscription, .. } => {
                if let Some(id) = self.subscriptions.remove(&subscription) {
                    if let Some(s) = self.sessions.get_mut(&id) {
                        s.subscription = None;
                    }
                }
            }
            dialog::Event::TransactionTimedOut { transaction, .. }
            | dialog::Event::TransportError { transaction } => {
                if let dialog::TransactionId::Client(tx) = transaction {
                    match self.client_txs.remove(&tx) {
                        Some(TxUse::Invite(id))
                            if self
                                .sessions
                                .get(&id)
                                .is_some_and(|s| s.state == State::Inviting) =>
                        {
                            self.end_session(id, EndReason::Timeout, now);
                        }
                        Some(TxUse::Refer(id)) => self.refer_timed_out(id),
                        Some(TxUse::Referral(id)) => self.on_referral_response(id, tx, 408),
                        Some(TxUse::Pager(id)) => self.on_pager_answer(id, 408),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn on_response(
        &mut self,
        tx: ClientTxId,
        dialog: Option<DialogId>,
        response: &OwnedMessage,
        now: Instant,
    ) {
        let msg = response.message();
        let status = msg.status_code().unwrap_or(0);
        let Some(usage) = self.client_txs.get(&tx).copied() else {
            return;
        };
        if status >= 200 {
            self.client_txs.remove(&tx);
        }
        match usage {
            TxUse::Invite(id) => self.on_invite_response(id, dialog, &msg, status, now),
            TxUse::Refer(id) => self.on_refer_response(id, dialog, status, now),
            TxUse::Referral(id) => self.on_referral_response(id, tx, status),
            TxUse::Pager(id) if status >= 200 => self.on_pager_answer(id, status),
            TxUse::Pager(_) => {}
        }
    }

    /// 9.1.1.1: on every provisional and final response, store the Allow
    /// methods and the IM Session Identity; on the 200, start the session
    /// timer and interact with the User Plane.
    fn on_invite_response(
        &mut self,
        id: ImSessionId,
        dialog: Option<DialogId>,
        msg: &SipMessage<'_>,
        status: u16,
        now: Instant,
    ) {
        let max_allow = self.config.limits.max_allow_methods;
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        if s.state != State::Inviting {
            return;
        }
        store_allow(s, msg, max_allow);
        let identity = ImSessionIdentity::from_contact(msg);
        if status > 100 {
            if let Some(identity) = &identity {
                s.identity = Some(identity.clone());
            }
        }
        if let Some(identity) = identity.filter(|_| status > 100) {
            self.store_identity(id, &identity);
        }
        match status {
            101..=199 => self.event(Event::Progress {
                session: id,
                status,
            }),
            200..=299 => {
                let Some(s) = self.sessions.get_mut(&id) else {
                    return;
                };
                s.state = State::Established;
                s.dialog = dialog;
                s.invite = None;
                if let Some(d) = dialog {
                    self.dialogs.insert(d, DialogUse::Invite(id));
                }
                if s.cancelled {
                    // The 2xx crossed our CANCEL: end the session it made.
                    s.state = State::Ending;
                    if let Some(d) = dialog {
                        let _ = self.ua.bye(d, now);
                    }
                    return;
                }
                let answer = answer_sdp(msg, &self.config.limits.layers).map(<[u8]>::to_vec);
                let identity = s.identity.clone();
                match answer {
                    Some(answer) => {
                        s.remote_offer = answer;
                        self.start_msrp(id, now);
                    }
                    None => {
                        // No SDP answer: nothing to interact with.
                        let _ = dialog.map(|d| self.ua.bye(d, now));
                    }
                }
                self.event(Event::SessionEstablished {
                    session: id,
                    identity,
                });
            }
            300..=699 => self.end_session(id, EndReason::Rejected(status), now),
            _ => {}
        }
    }

    fn on_request(
        &mut self,
        tx: ServerTxId,
        dialog: Option<DialogId>,
        request: &OwnedMessage,
        now: Instant,
    ) {
        let msg = request.message();
        let method = msg.method().unwrap_or_default();
        let mut usage = dialog.and_then(|d| self.dialogs.get(&d).copied());
        if let (None, Some(d), "NOTIFY") = (usage, dialog, method) {
            usage = self.bind_early_refer_dialog(d).map(DialogUse::Refer);
        }
        match (method, usage) {
            ("INVITE", None) if dialog.is_none() => self.on_invitation(tx, &msg, now),
            ("INVITE" | "UPDATE", Some(DialogUse::Invite(id))) => {
                self.on_refresh_request(id, tx, method == "INVITE", now)
            }
            ("NOTIFY", Some(DialogUse::Refer(id))) => self.on_refer_notify(id, tx, request, now),
            ("NOTIFY", Some(DialogUse::Invite(id))) => {
                self.on_referral_notify(id, tx, request, now)
            }
            ("MESSAGE", None) if dialog.is_none() => self.on_pager_message(tx, &msg, now),
            ("OPTIONS", _) => {
                let spec = build::response(&self.config, &self.release, 200, true);
                let _ = self.ua.respond(tx, spec, now);
            }
            ("NOTIFY" | "INVITE" | "UPDATE", _) => {
                let _ = self.ua.respond(tx, dialog::ResponseSpec::new(481), now);
                if method == "NOTIFY" {
                    if let Some(d) = dialog {
                        self.end_unused_dialog(d);
                    }
                }
            }
            _ => {
                let spec = build::response(&self.config, &self.release, 501, true);
                let _ = self.ua.respond(tx, spec, now);
            }
        }
    }

    /// An initial INVITE (terminating side): store Allow and the Contact as
    /// the IM Session Identity (9.2.1 steps 2 and 3), recognise a group or
    /// Large Message invitation, refuse what cannot be handled, else send
    /// 180 and ask the user.
    fn on_invitation(&mut self, tx: ServerTxId, msg: &SipMessage<'_>, now: Instant) {
        let max_allow = self.config.limits.max_allow_methods;
        let layers = &self.config.limits.layers;
        let offer = answer_sdp(msg, layers).and_then(|sdp| {
            SessionDescription::parse_with_limits(sdp, &layers.sdp)
                .ok()
                .map(|d| (sdp, d))
        });
        let Some((offer_bytes, offer)) = offer else {
            let spec = build::response(&self.config, &self.release, 488, true);
            let _ = self.ua.respond(tx, spec, now);
            return;
        };
        if self.sessions.len() >= self.config.limits.max_sessions {
            let spec = build::response(&self.config, &self.release, 486, true);
            let _ = self.ua.respond(tx, spec, now);
            return;
        }
        let identity = ImSessionIdentity::from_contact(msg);
        let msrp = offer.msrp_media();
        let direction = msrp.map(|(_, m)| offer.media_direction(m));
        let kind = if direction == Some(Direction::SendOnly) {
            InvitationKind::LargeMessage {
                size: msrp.and_then(|(_, m)| m.max_size()),
            }
        } else if identity.as_ref().is_some_and(|i| i.is_focus) {
            InvitationKind::Group {
                referred_by: msg
                    .referred_by()
                    .and_then(Result::ok)
                    .map(|r| r.uri.to_string()),
            }
        } else {
            InvitationKind::OneToOne
        };
        // 9.2.1 step 1 a: not enough resources for the announced size.
        if let InvitationKind::LargeMessage { size: Some(size) } = kind {
            if size > self.config.max_large_message_size {
                let spec = build::response(&self.config, &self.release, 486, true);
                let _ = self.ua.respond(tx, spec, now);
                return;
            }
        }
        let originator = authenticated_originator(msg, self.config.profile).unwrap_or_default();
        let (path, host, sdp_id) = self.new_path();
        let answer = {
            let mut local = build::local_parameters(&self.config, sdp_id, &path, &host);
            if matches!(kind, InvitationKind::LargeMessage { .. }) {
                // 9.2.2: the invited client only receives.
                local.direction = Direction::RecvOnly;
                local.max_size = Some(self.config.max_large_message_size);
            }
            let bytes = crate::sdp::offer_answer::answer(&offer, &local).to_bytes();
            bytes
        };
        let id = self.fresh_id();
        let mut s = Session::new(
            Origin::Invited(kind.clone()),
            State::Invited,
            originator.clone(),
        );
        store_allow(&mut s, msg, max_allow);
        s.receive_only = matches!(kind, InvitationKind::LargeMessage { .. });
        s.identity = identity.clone();
        s.incoming = Some(tx);
        s.local_sdp = answer;
        s.remote_offer = offer_bytes.to_vec();
        s.incoming_key = incoming_key(msg);
        self.sessions.insert(id, s);
        self.server_txs.insert(tx, id);
        if let Some(identity) = &identity {
            self.store_identity(id, identity);
        }
        let ringing = build::response(&self.config, &self.release, 180, false);
        match self.ua.respond(tx, ringing, now) {
            Ok(()) => {
                self.event(Event::InvitationReceived {
                    session: id,
                    originator,
                    kind,
                    identity,
                });
            }
            Err(_) => {
                self.server_txs.remove(&tx);
                self.sessions.remove(&id);
            }
        }
    }

    /// Binds the dialog the user agent created for a received INVITE (its
    /// 180 or 200) to the session waiting for it.
    fn on_dialog_created(&mut self, dialog: DialogId) {
        if self.dialogs.contains_key(&dialog) {
            return;
        }
        let Some(d) = self.ua.dialog(dialog) else {
            return;
        };
        let key = (d.call_id().to_owned(), d.remote_tag().to_owned());
        let found = self
            .sessions
            .iter_mut()
            .find(|(_, s)| s.dialog.is_none() && s.incoming_key.as_ref() == Some(&key));
        if let Some((id, s)) = found {
            s.dialog = Some(dialog);
            let id = *id;
            self.dialogs.insert(dialog, DialogUse::Invite(id));
        }
    }

    /// A refresh from the peer (RFC 4028: re-INVITE or UPDATE): 200, with
    /// our SDP again for a re-INVITE; the user agent adds the session-timer
    /// headers and restarts the timer.
    fn on_refresh_request(
        &mut self,
        id: ImSessionId,
        tx: ServerTxId,
        reinvite: bool,
        now: Instant,
    ) {
        let mut spec = build::response(&self.config, &self.release, 200, false);
        if let (true, Some(s)) = (reinvite, self.sessions.get(&id)) {
            spec = spec.with_body("application/sdp", s.local_sdp.clone());
        }
        let _ = self.ua.respond(tx, spec, now);
    }

    fn on_dialog_terminated(&mut self, dialog: DialogId, reason: TerminationReason, now: Instant) {
        match self.dialogs.remove(&dialog) {
            // The subscription dialog ended under the request (e.g. a NOTIFY
            // failed): nothing more will come.
            Some(DialogUse::Refer(id)) if self.recording_requests.remove(&id).is_some() => {
                self.event(Event::RecordingRequestTimedOut { request: id });
            }
            Some(DialogUse::Invite(id)) => {
                let reason = match reason {
                    TerminationReason::ByeSent | TerminationReason::Local => EndReason::Local,
                    TerminationReason::ByeReceived => EndReason::Remote,
                    TerminationReason::FinalResponse(code) => EndReason::Declined(code),
                    _ => EndReason::Timeout,
                };
                let local_end = self
                    .sessions
                    .get(&id)
                    .is_some_and(|s| s.state == State::Ending);
                let reason = if local_end && reason != EndReason::Remote {
                    EndReason::Local
                } else {
                    reason
                };
                self.end_session(id, reason, now);
            }
            Some(DialogUse::Refer(_)) | None => {}
        }
    }
}

/// 9.1.1.1 / 9.2.1: keep the peer's Allow methods, if it sent an Allow.
fn store_allow(s: &mut Session, msg: &SipMessage<'_>, max: usize) {
    if let Some(Ok(allow)) = msg.allow() {
        s.peer_allow = allow.iter().take(max).map(|m| m.to_string()).collect();
    }
}

/// The SDP of a 2xx: the body itself or the `application/sdp` part.
fn answer_sdp<'a>(msg: &SipMessage<'a>, layers: &crate::Limits) -> Option<&'a [u8]> {
    let ct = msg.header(HeaderName::ContentType)?.value;
    find_sdp(ct, msg.body(), &layers.mime).ok().flatten()
}

/// The Call-ID and From tag of a received INVITE: how its dialog is found.
fn incoming_key(msg: &SipMessage<'_>) -> Option<(String, String)> {
    let call_id = msg.call_id()?.ok()?.id.to_owned();
    let from_tag = msg.from()?.ok()?.tag()?.to_owned();
    Some((call_id, from_tag))
}
