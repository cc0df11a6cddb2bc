//! The SIP events of the user agent: responses of invitees (7.2.1.2),
//! requests inside a session (refresh, BYE), removal of Participants
//! (7.2.1.9), supervision (RFC 4028) and the end of a session.

use std::time::Instant;

use crate::dialog::{self, DialogId, ResponseSpec, ServerTxId, TerminationReason, TransactionId};
use crate::msrp::switch::LegId;
use crate::sdp::offer_answer::Side;
use crate::sdp::SessionDescription;
use crate::sip::{OptionTag, SipMessage};

use crate::body::conference_info::DisconnectionMethod;

use super::config::FailurePolicy;
use super::session::{Referral, State};
use super::{
    EndReason, Event, ImServer, InvitationFailure, LeaveReason, Output, ParticipantId, SessionId,
    Timer,
};

/// How a departure shows in the roster (RFC 4575 §5.7).
fn disconnection(reason: LeaveReason) -> (DisconnectionMethod, &'static str) {
    match reason {
        LeaveReason::Departed => (DisconnectionMethod::Departed, "left the session"),
        LeaveReason::Removed => (DisconnectionMethod::Booted, "removed by the focus"),
        LeaveReason::SessionExpired => (DisconnectionMethod::Failed, "session refresh failed"),
        LeaveReason::ConnectionLost => (DisconnectionMethod::Failed, "MSRP connection lost"),
        LeaveReason::Replaced => (DisconnectionMethod::Departed, "replaced by a new leg"),
        LeaveReason::BufferExceeded => (DisconnectionMethod::Booted, "MSRP buffer budget exceeded"),
        _ => (DisconnectionMethod::Failed, "dialog failed"),
    }
}

/// The `message/sipfrag` status line of a final response (RFC 3515 §2.4.5).
pub(super) fn sipfrag(code: u16) -> Vec<u8> {
    format!(
        "SIP/2.0 {code} {}\r\n",
        crate::transaction::reason_phrase(code)
    )
    .into_bytes()
}

/// What an out-of-dialog request's Request-URI names at this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ServedUri {
    /// A Conference-factory-URI.
    Factory,
    /// A pre-defined group, a public conference or an IM Session Identity.
    Conference,
    /// The server itself: no user part, the server's domain or address as
    /// host (an OPTIONS keep-alive or capability query).
    Server,
}

impl ImServer {
    /// What `request`'s Request-URI names here, `None` for a URI the server
    /// does not serve (404).
    fn served_uri(&self, request: &SipMessage<'_>) -> Option<ServedUri> {
        if let Some(target) = self.target_of(request) {
            return Some(match target {
                super::setup::Target::Factory(_) => ServedUri::Factory,
                _ => ServedUri::Conference,
            });
        }
        let uri = request.request_uri()?;
        let sip = uri.as_sip()?;
        if sip.user.is_some() {
            return None;
        }
        let host = sip.host.to_string();
        let local = self.config.local_addr;
        let is_local = host.eq_ignore_ascii_case(&self.config.domain)
            || (host == local.ip().to_string() && sip.port.unwrap_or(5060) == local.port());
        is_local.then_some(ServedUri::Server)
    }

    /// OPTIONS (RFC 3261 §11.2): 200 with the server's methods, extensions
    /// and body types; `recipient-list-invite` and `recipient-list-message`
    /// at a Conference-factory-URI (RFC 5366 §5, RFC 5365 §5).
    fn on_options(&mut self, transaction: ServerTxId, served: ServedUri, now: Instant) {
        let caps = &self.ua.config().capabilities;
        let allow = caps.allow.to_string();
        let mut supported = caps.supported.to_string();
        if served == ServedUri::Factory {
            if !supported.is_empty() {
                supported.push_str(", ");
            }
            supported.push_str("recipient-list-invite, recipient-list-message");
        }
        let accept = caps.accept.join(", ");
        let mut spec = ResponseSpec::new(200)
            .with_header("Server", &self.release)
            .with_header("Allow", &allow)
            .with_header("Accept", &accept);
        if !supported.is_empty() {
            spec = spec.with_header("Supported", &supported);
        }
        let _ = self.ua.respond(transaction, spec, now);
        self.collect();
    }

    /// 405 with Allow (RFC 3261 §8.2.1) for a method the server knows but
    /// does not take outside a dialog.
    fn reject_method(&mut self, transaction: ServerTxId, now: Instant) {
        let allow = self.ua.config().capabilities.allow.to_string();
        let spec = ResponseSpec::new(405)
            .with_header("Server", &self.release)
            .with_header("Allow", &allow);
        let _ = self.ua.respond(transaction, spec, now);
        self.collect();
    }

    pub(super) fn on_ua_event(&mut self, event: dialog::Event, now: Instant) {
        match event {
            dialog::Event::RequestReceived {
                transaction,
                dialog: None,
                request,
            } => {
                let msg = request.message();
                let method = msg.method().unwrap_or_default().to_owned();
                // RFC 3261 §8.2.2.1 before §8.2.2.3: a Request-URI the
                // server does not serve gets 404 whatever the request
                // requires; then its Require and body type are checked, with
                // `recipient-list-invite` supported at a Conference-factory-URI
                // (RFC 5366 §5).
                let Some(served) = self.served_uri(&msg) else {
                    drop(msg);
                    return self.reject(transaction, 404, None, now);
                };
                drop(msg);
                let extensions: &[OptionTag<'_>] = match served {
                    ServedUri::Factory => &[
                        OptionTag::RecipientListInvite,
                        OptionTag::RecipientListMessage,
                    ],
                    _ => &[],
                };
                if self
                    .ua
                    .check_extensions(transaction, extensions, now)
                    .is_err()
                {
                    return self.collect();
                }
                match method.as_str() {
                    "INVITE" | "MESSAGE" => self.on_initial_invite(transaction, request, now),
                    "SUBSCRIBE" => self.on_subscribe(transaction, &request, now),
                    "OPTIONS" => self.on_options(transaction, served, now),
                    _ => self.reject_method(transaction, now),
                }
            }
            dialog::Event::RequestReceived {
                transaction,
                dialog: Some(dialog),
                request,
            } => self.on_in_dialog(transaction, dialog, &request, now),
            dialog::Event::ResponseReceived {
                transaction,
                dialog,
                response,
            } => {
                // Parsed once for the code, the body and Session-Expires.
                let parsed = response.message();
                let code = parsed.status_code().unwrap_or(500);
                let Some(&(session, participant)) = self.by_client_tx.get(&transaction) else {
                    // A CANCELled INVITE: a 2xx that crossed the CANCEL
                    // is acknowledged by the user agent and released here.
                    if code >= 200 && self.cancelled_invites.remove(&transaction) {
                        if let (200..=299, Some(d)) = (code, dialog) {
                            let _ = self.ua.bye(d, now);
                            self.collect();
                        }
                    }
                    return;
                };
                if code >= 200 {
                    self.by_client_tx.remove(&transaction);
                }
                match code {
                    100 => {}
                    101..=199 => self.invitee_ringing(session, participant, code, now),
                    200..=299 => {
                        let body = parsed.body().to_vec();
                        let se = parsed
                            .session_expires()
                            .and_then(Result::ok)
                            .filter(|se| se.refresher() == Some(crate::sip::Refresher::Uas))
                            .map(|se| se.delta_seconds);
                        self.invitee_accepted(session, participant, dialog, &body, se, now)
                    }
                    _ => self.invitee_failed(session, participant, code, now),
                }
            }
            dialog::Event::DialogEarly { dialog } | dialog::Event::DialogEstablished { dialog } => {
                self.on_dialog_created(dialog, now)
            }
            dialog::Event::RequestCancelled { transaction } => {
                if let Some((session, _)) = self.by_server_tx.remove(&transaction) {
                    self.cancel_session(session, now);
                }
            }
            dialog::Event::DialogTerminated {
                dialog,
                reason,
                owner,
            } => {
                if let Some(session) = self.by_subscription.remove(&dialog) {
                    if let Some(s) = self.sessions.get_mut(&session) {
                        if let Some(i) = s.subscribers.iter().position(|x| x.dialog == dialog) {
                            let sub = s.subscribers.swap_remove(i);
                            self.by_call_id.remove(&sub.call_id, session);
                        }
                    }
                }
                if let Some((session, participant, _)) = owner.map(member_of) {
                    let why = match reason {
                        TerminationReason::ByeReceived => LeaveReason::Departed,
                        TerminationReason::ByeSent => LeaveReason::Removed,
                        _ => LeaveReason::Failed,
                    };
                    self.participant_gone(session, participant, why, now);
                }
            }
            dialog::Event::TransactionTimedOut {
                transaction: TransactionId::Client(tx),
                ..
            } => {
                self.cancelled_invites.remove(&tx);
                if let Some((session, participant)) = self.by_client_tx.remove(&tx) {
                    self.invitee_failed(session, participant, 408, now);
                }
            }
            dialog::Event::TransportError {
                transaction: TransactionId::Client(tx),
            } => {
                self.cancelled_invites.remove(&tx);
                if let Some((session, participant)) = self.by_client_tx.remove(&tx) {
                    self.invitee_failed(session, participant, 503, now);
                }
            }
            _ => {}
        }
    }

    /// A dialog the user agent created as UAS: the inviter's or a joiner's
    /// (found by Call-ID), or one no session holds (a refused INVITE's).
    fn on_dialog_created(&mut self, dialog: DialogId, now: Instant) {
        let Some(call_id) = self.ua.dialog(dialog).map(|d| d.call_id().to_owned()) else {
            return;
        };
        if self.subscription_created(dialog, &call_id, now) {
            return;
        }
        let Some(session) = self.session_by_call_id(&call_id) else {
            let _ = self.ua.terminate_dialog(dialog);
            self.ua_drop_terminated();
            return;
        };
        let supervision = super::ServerConfig::supervision;
        let default_interval = self.config.session_expires;
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let host = s.host;
        let found = s
            .participants
            .iter_mut()
            .find(|p| p.call_id.as_deref() == Some(call_id.as_str()) && p.is_alive());
        let Some(p) = found else {
            // A refused INVITE's dialog, or one of a Participant gone.
            if self.ua.dialog_owner(dialog).is_none() {
                let _ = self.ua.terminate_dialog(dialog);
                self.ua_drop_terminated();
            }
            return;
        };
        if p.dialog.is_none() {
            p.dialog = Some(dialog);
        }
        // An invitee's early dialog is its own business until the 2xx; its
        // failure is handled from the final response.
        if p.dialog == Some(dialog) && !matches!(p.state, State::Inviting(_)) {
            let joined = p.state == State::Joined;
            let interval = p.interval.unwrap_or(default_interval);
            self.ua
                .set_dialog_owner(dialog, Some(owner_of(session, p.id, host)));
            // Answered before its dialog was known (the 2xx made it): the
            // supervision scheduled then starts on the dialog now.
            if joined && self.ua.dialog_deadline(dialog).is_none() {
                self.ua
                    .set_dialog_deadline(dialog, Some(now + supervision(interval)));
            }
        }
    }

    /// Drops the user agent's report of a dialog ended locally.
    fn ua_drop_terminated(&mut self) {
        while let Some(output) = self.ua.poll_output() {
            match output {
                dialog::Output::Transmit(t) => self.out.push_back(Output::Transmit(t)),
                dialog::Output::Event(dialog::Event::DialogTerminated { .. }) => {}
                dialog::Output::Event(e) => self.ua_events.push_back(e),
            }
        }
    }

    /// A request inside a Participant's dialog: a session refresh (re-INVITE
    /// or UPDATE, RFC 4028) restarts its supervision.
    fn on_in_dialog(
        &mut self,
        transaction: dialog::ServerTxId,
        dialog: DialogId,
        request: &crate::transaction::OwnedMessage,
        now: Instant,
    ) {
        let msg = request.message();
        if let Some(&session) = self.by_subscription.get(&dialog) {
            if msg.method() == Some("SUBSCRIBE") {
                return self.resubscribe(transaction, dialog, session, &msg, now);
            }
            let spec = self.focus_response(session, 200);
            let _ = self.ua.respond(transaction, spec, now);
            return self.collect();
        }
        let Some((session, participant, host)) = self.ua.dialog_owner(dialog).map(member_of) else {
            return self.reject(transaction, 481, None, now);
        };
        let method = msg.method().unwrap_or_default();
        if method == "REFER" {
            // RFC 4579 §5.5 and §5.6: adding and removing by REFER, under
            // the access policy.
            return self.on_refer(transaction, dialog, session, participant, &msg, now);
        }
        if !matches!(method, "INVITE" | "UPDATE") {
            let spec = self.focus_response(session, 200);
            let _ = self.ua.respond(transaction, spec, now);
            return self.collect();
        }
        let requested = msg
            .session_expires()
            .and_then(Result::ok)
            .map(|se| se.delta_seconds);
        let has_sdp = !msg.body().is_empty();
        let interval = requested
            .map_or(self.config.session_expires, |r| {
                r.min(self.config.session_expires)
            })
            .max(self.config.min_se);
        let refresh_at = now + super::ServerConfig::supervision(interval);
        // The deadline lives with the dialog, and the host comes with its
        // owner: a refresh reads and writes the dialog only, not the
        // session. One heap entry per Participant: a later deadline is
        // picked up when the pending entry fires (no growth however often
        // it refreshes).
        let scheduled = self.ua.dialog_deadline(dialog).is_some();
        self.ua.set_dialog_deadline(dialog, Some(refresh_at));
        let mut spec = self
            .focus_refresh_response(session, host, 200)
            .with_header("Session-Expires", format!("{interval};refresher=uac"));
        if has_sdp && method == "INVITE" {
            spec = spec.with_body("application/sdp", self.local_sdp(session, participant));
        }
        let _ = self.ua.respond(transaction, spec, now);
        self.collect();
        if !scheduled {
            self.schedule(refresh_at, Timer::Refresh(session, participant));
        }
    }

    /// 7.2.1.2: the first 180 of an invitee goes to the inviter, once and
    /// only before its final response; the invitee is `alerting` in the
    /// roster.
    fn invitee_ringing(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        code: u16,
        now: Instant,
    ) {
        if code != 180 {
            return;
        }
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        if let Some(p) = s
            .participant_mut(participant)
            .filter(|p| matches!(p.state, State::Inviting(_)) && !p.alerting)
        {
            p.alerting = true;
            self.notify_change(session, participant, now);
        }
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        if s.ringing_sent || s.final_sent {
            return;
        }
        let Some(State::Answering(transaction)) =
            s.inviter.and_then(|i| s.participant(i)).map(|p| p.state)
        else {
            return;
        };
        s.ringing_sent = true;
        let spec = self.focus_response(session, 180);
        let _ = self.ua.respond(transaction, spec, now);
        self.collect();
    }

    /// The server's SDP towards a Participant: the offer it sent an
    /// invitee (made again), or its answer to a joiner.
    fn local_sdp(&self, session: SessionId, participant: ParticipantId) -> Vec<u8> {
        let Some(s) = self.sessions.get(&session) else {
            return Vec::new();
        };
        match s.participant(participant) {
            Some(p) if p.invited => {
                let leg_uri = self.leg_uri(p.leg.as_ref().map_or("", |l| &*l.token));
                ImServer::with_invitee_offer(
                    &self.config,
                    p.sdp_id,
                    &leg_uri,
                    s.large_message,
                    |offer| offer.to_bytes(),
                )
            }
            Some(p) => p.local_sdp.clone(),
            None => Vec::new(),
        }
    }

    /// An invitee's 2xx: it joins; the first one answers the inviter
    /// (7.2.1.2 steps 1 to 4).
    fn invitee_accepted(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        dialog: Option<DialogId>,
        answer: &[u8],
        interval: Option<u32>,
        now: Instant,
    ) {
        let Some(s) = self.sessions.get(&session) else {
            // A session ended meanwhile: release the late invitee.
            if let Some(d) = dialog {
                let _ = self.ua.bye(d, now);
                self.collect();
            }
            return;
        };
        let Some(p) = s.participant(participant) else {
            return;
        };
        if !matches!(p.state, State::Inviting(_)) {
            return;
        }
        // Its answer, parsed once: the switch leg's parameters (against the
        // offer, made again), and the inviter's answer below.
        let sdp_limits = self.config.limits.layers.sdp;
        let parsed = SessionDescription::parse_with_limits(answer, &sdp_limits).ok();
        let leg_uri = p.leg.as_ref().map(|l| self.leg_uri(&l.token));
        let leg_params = match (&parsed, leg_uri) {
            (Some(theirs), Some(leg_uri)) => ImServer::with_invitee_offer(
                &self.config,
                p.sdp_id,
                &leg_uri,
                s.large_message,
                |ours| super::LegParams::negotiate(ours, theirs, Side::Offerer),
            ),
            _ => None,
        };
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let Some(p) = s.participant_mut(participant) else {
            return;
        };
        p.state = State::Joined;
        p.invite_deadline = None;
        p.leg_params = leg_params.map(Box::new);
        let referral = p.referral.take().map(|r| *r);
        // The address is the one the server invited.
        p.verified = true;
        let dialog = dialog.or(p.dialog);
        p.dialog = dialog;
        let address = p.address.clone();
        let refresh_at = interval.map(|i| now + super::ServerConfig::supervision(i));
        p.interval = interval;
        let host = s.host;
        let inviter = s.inviter;
        let mut answer_inviter = !s.final_sent;
        // A Large Message goes once, to the recipients in the session when
        // it is sent: the inviter is answered when every invitee has.
        if answer_inviter && s.large_message {
            if s.deferred_answer.is_none() {
                s.deferred_answer = Some(answer.to_vec());
            }
            answer_inviter = false;
        }
        if let Some(d) = dialog {
            self.ua
                .set_dialog_owner(d, Some(owner_of(session, participant, host)));
            self.ua.set_dialog_deadline(d, refresh_at);
        }
        if let Some(at) = refresh_at {
            self.schedule(at, Timer::Refresh(session, participant));
        }
        self.event(Event::ParticipantJoined {
            session,
            participant,
            address,
            verified: true,
        });
        self.notify_change(session, participant, now);
        self.referral_outcome(referral, 200, now);
        if let (true, Some(inviter)) = (answer_inviter, inviter) {
            self.accept_joiner(session, inviter, parsed.as_ref(), now);
        }
        self.join_switch(session, participant, now);
        self.answer_deferred(session, now);
    }

    /// An invitee failed (4xx to 6xx, a timeout, 3xx — no redirect is
    /// followed).
    fn invitee_failed(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        code: u16,
        now: Instant,
    ) {
        let Some(p) = self
            .sessions
            .get_mut(&session)
            .and_then(|s| s.participant_mut(participant))
        else {
            return;
        };
        if !matches!(p.state, State::Inviting(_)) {
            return;
        }
        let method = if matches!(code, 486 | 600) {
            DisconnectionMethod::Busy
        } else {
            DisconnectionMethod::Failed
        };
        let reason = format!("{code} {}", crate::transaction::reason_phrase(code));
        self.invitation_over(
            session,
            participant,
            InvitationFailure::Status(code),
            (method, reason),
            code,
            now,
        );
        self.note_failure(session, code);
        self.answer_deferred(session, now);
        self.check_invitees(session, now);
        self.end_if_empty(session, now);
    }

    /// Answers the inviter of a Large Message session once no invitee is
    /// left to answer, with the first accepting invitee's answer.
    fn answer_deferred(&mut self, session: SessionId, now: Instant) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let waiting = s
            .participants
            .iter()
            .any(|p| matches!(p.state, State::Inviting(_)));
        if waiting || s.final_sent {
            return;
        }
        let (Some(answer), Some(inviter)) = (s.deferred_answer.take(), s.inviter) else {
            return;
        };
        let sdp_limits = self.config.limits.layers.sdp;
        let parsed = SessionDescription::parse_with_limits(&answer, &sdp_limits).ok();
        self.accept_joiner(session, inviter, parsed.as_ref(), now);
    }

    /// An invitation ended without a Participant: the invitee is
    /// `disconnected` in the roster, the failure reported, and a referrer
    /// told the outcome (`status` in the sipfrag).
    pub(super) fn invitation_over(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        reason: InvitationFailure,
        shown: (DisconnectionMethod, String),
        status: u16,
        now: Instant,
    ) {
        let Some(p) = self
            .sessions
            .get_mut(&session)
            .and_then(|s| s.participant_mut(participant))
        else {
            return;
        };
        p.state = State::Failed;
        p.invite_deadline = None;
        p.disconnection = Some(Box::new(shown));
        let referral = p.referral.take().map(|r| *r);
        let address = p.address.clone();
        if let Some(leg) = p.leg.take() {
            self.by_leg_token.remove(&leg.token, (session, participant));
        }
        self.event(Event::InvitationFailed {
            session,
            participant,
            address,
            reason,
        });
        self.notify_change(session, participant, now);
        self.referral_outcome(referral, status, now);
    }

    /// The final NOTIFY of a REFER's implicit subscription (RFC 3515
    /// §2.4.5): the sipfrag of the invitation's outcome.
    pub(super) fn referral_outcome(
        &mut self,
        referral: Option<Referral>,
        status: u16,
        now: Instant,
    ) {
        let Some(r) = referral else {
            return;
        };
        let spec = dialog::DialogRequestSpec::new(crate::sip::Method::Notify)
            .with_header("Event", format!("refer;id={}", r.id))
            .with_header("Subscription-State", "terminated;reason=noresource")
            .with_body("message/sipfrag", sipfrag(status));
        let _ = self.ua.send_in_dialog(r.dialog, spec, now);
        self.collect();
    }

    /// An invitee did not answer in time: its INVITE is CANCELled (RFC
    /// 3261 §9.1) and it is reported failed.
    pub(super) fn invitation_expired(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        now: Instant,
    ) {
        let Some(State::Inviting(tx)) = self
            .sessions
            .get(&session)
            .and_then(|s| s.participant(participant))
            .map(|p| p.state)
        else {
            return;
        };
        self.by_client_tx.remove(&tx);
        if self.ua.cancel(tx, now).is_ok() {
            self.cancelled_invites.insert(tx);
        }
        self.collect();
        self.invitation_over(
            session,
            participant,
            InvitationFailure::NoAnswer,
            (DisconnectionMethod::Failed, "no answer".to_owned()),
            480,
            now,
        );
        self.note_failure(session, 480);
        self.answer_deferred(session, now);
        self.check_invitees(session, now);
        self.end_if_empty(session, now);
    }

    pub(super) fn note_failure(&mut self, session: SessionId, code: u16) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.lowest_failure = Some(s.lowest_failure.map_or(code, |c| c.min(code)));
        }
    }

    /// 7.2.1.2, on a failure: when every invitee has failed, the inviter
    /// gets the final response chosen by local policy (no 200 sent yet), or
    /// is removed (7.2.1.9, the 200 already sent).
    pub(super) fn check_invitees(&mut self, session: SessionId, now: Instant) {
        let Some(s) = self.sessions.get(&session) else {
            return;
        };
        let Some(inviter) = s.inviter else {
            return;
        };
        // Only the server's invitations count: a leg that joined by itself
        // meanwhile (a recording leg, 13.3.1.2, from the identity an
        // invitee passed on) neither keeps the inviter waiting nor answers
        // it, and is released with the session.
        let all_failed = s
            .participants
            .iter()
            .filter(|p| p.id != inviter && p.invited)
            .all(|p| p.state == State::Failed);
        if !all_failed {
            return;
        }
        if s.ok_sent {
            return self.remove_participant(session, inviter, LeaveReason::Removed, now);
        }
        let Some(State::Answering(transaction)) = s.participant(inviter).map(|p| p.state) else {
            return;
        };
        let code = match self.config.failure_policy {
            FailurePolicy::LowestCode => s.lowest_failure.unwrap_or(480),
            FailurePolicy::Fixed(code) => code,
        };
        let code = if (300..=699).contains(&code) {
            code
        } else {
            480
        };
        let spec = self.focus_response(session, code);
        let _ = self.ua.respond(transaction, spec, now);
        self.collect();
        self.by_server_tx.remove(&transaction);
        // Legs that joined meanwhile are released with BYE.
        self.release_all(session, now);
        self.drop_session(session, EndReason::Rejected(code), now);
    }

    /// The inviter cancelled: CANCEL every pending invitation, end the
    /// session.
    fn cancel_session(&mut self, session: SessionId, now: Instant) {
        self.release_all(session, now);
        self.drop_session(session, EndReason::Cancelled, now);
    }

    /// The Participant's session was not refreshed in time (RFC 4028 §10):
    /// released with BYE (7.2.1.9).
    pub(super) fn session_expired(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        now: Instant,
    ) {
        let dialog = self
            .sessions
            .get(&session)
            .and_then(|s| s.participant(participant))
            .and_then(|p| p.dialog);
        if let Some(d) = dialog {
            // Refreshed since this entry was scheduled: wait for the new
            // deadline.
            if let Some(at) = self.ua.dialog_deadline(d).filter(|at| *at > now) {
                return self.schedule(at, Timer::Refresh(session, participant));
            }
            self.ua.set_dialog_deadline(d, None);
        }
        self.remove_participant(session, participant, LeaveReason::SessionExpired, now);
    }

    /// 7.2.1.9: BYE on the Participant's dialog, off the MSRP switch; the
    /// session ends with its last Participant.
    pub(super) fn remove_participant(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        reason: LeaveReason,
        now: Instant,
    ) {
        let dialog = self
            .sessions
            .get(&session)
            .and_then(|s| s.participant(participant))
            .and_then(|p| p.dialog);
        if let Some(d) = dialog {
            self.ua.set_dialog_owner(d, None);
            let _ = self.ua.bye(d, now);
            self.collect();
        }
        self.participant_gone(session, participant, reason, now);
    }

    /// The Participant is out: its leg leaves the switch, its connection
    /// closes; the session ends when nobody is left.
    pub(super) fn participant_gone(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        reason: LeaveReason,
        now: Instant,
    ) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let Some(p) = s.participant_mut(participant) else {
            return;
        };
        if !p.is_alive() {
            return;
        }
        let was_joined = p.state == State::Joined;
        // RFC 3261 §9.1: an invitee that goes (its connection lost, or
        // removed by REFER) before its 2xx reached the server still has an
        // INVITE pending; it is CANCELled, or its client transaction would
        // wait in Proceeding, where no timer runs, for ever.
        let inviting = match p.state {
            State::Inviting(tx) => Some((tx, p.address.clone(), p.referral.take())),
            _ => None,
        };
        // An invitee gone before it joined is an invitation that failed
        // (7.2.1.2): the inviter still waiting is answered once no invitee
        // is left to join.
        p.state = if inviting.is_some() {
            State::Failed
        } else {
            State::Left
        };
        if let Some(d) = p.dialog {
            self.ua.set_dialog_deadline(d, None);
        }
        let (method, why) = disconnection(reason);
        p.disconnection = Some(Box::new((method, why.to_owned())));
        let leg = p.leg.take();
        s.switch.leave(LegId(participant.0));
        if let Some(leg) = leg {
            self.by_leg_token.remove(&leg.token, (session, participant));
            if let Some(c) = leg.connection {
                self.connections.remove(&c);
                self.out.push_back(Output::MsrpClose { connection: c });
            }
        }
        self.drain_switch(session, now);
        let was_inviting = inviting.is_some();
        if let Some((tx, address, referral)) = inviting {
            self.cancel_invitation(session, participant, tx, address, referral.map(|r| *r), now);
        }
        if was_joined {
            self.event(Event::ParticipantLeft {
                session,
                participant,
                reason,
            });
        }
        self.notify_change(session, participant, now);
        if was_inviting {
            self.answer_deferred(session, now);
            self.check_invitees(session, now);
        }
        if self.config.release_alone {
            let Some(s) = self.sessions.get(&session) else {
                return;
            };
            let alive: Vec<&super::session::Participant> = s
                .participants
                .iter()
                .filter(|p| p.is_alive() && !p.recorder)
                .collect();
            let pending = alive
                .iter()
                .filter(|p| matches!(p.state, State::Inviting(_)))
                .count();
            let present: Vec<&&super::session::Participant> = alive
                .iter()
                .filter(|p| !matches!(p.state, State::Inviting(_)))
                .collect();
            // Nobody left to talk to: the invitations still ringing are no
            // longer needed (RFC 3261 §9.1).
            if present.is_empty() && pending > 0 {
                self.release_all(session, now);
                return self.drop_session(session, EndReason::Empty, now);
            }
            if let ([last], 0) = (present.as_slice(), pending) {
                if last.state == State::Joined {
                    let last = last.id;
                    return self.remove_participant(session, last, LeaveReason::Removed, now);
                }
            }
        }
        self.end_if_empty(session, now);
    }

    /// Ends the session when no Participant is in it or on its way.
    pub(super) fn end_if_empty(&mut self, session: SessionId, now: Instant) {
        let Some(s) = self.sessions.get(&session) else {
            return;
        };
        // Recording legs only receive: without a Participant they have
        // nothing left to record and are released with the session.
        if s.alive_participants() == 0 {
            self.release_all(session, now);
            self.drop_session(session, EndReason::Empty, now);
        }
    }

    /// Cancels pending invitations and sends BYE on every dialog left.
    pub(super) fn release_all(&mut self, session: SessionId, now: Instant) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let mut cancels = Vec::new();
        let mut byes = Vec::new();
        for p in &mut s.participants {
            match p.state {
                State::Inviting(tx) => {
                    cancels.push((tx, p.id, p.address.clone(), p.referral.take().map(|r| *r)));
                    p.disconnection = Some(Box::new((
                        DisconnectionMethod::Failed,
                        "cancelled".to_owned(),
                    )));
                }
                State::Joined => {
                    byes.extend(p.dialog);
                    p.disconnection = Some(Box::new((
                        DisconnectionMethod::Booted,
                        "session ended".to_owned(),
                    )));
                }
                _ => {}
            }
            p.state = State::Left;
            p.invite_deadline = None;
        }
        for (tx, participant, address, referral) in cancels {
            self.cancel_invitation(session, participant, tx, address, referral, now);
        }
        for d in byes {
            self.ua.set_dialog_owner(d, None);
            let _ = self.ua.bye(d, now);
        }
        self.collect();
    }

    /// CANCELs an invitation no longer needed (RFC 3261 §9.1) and reports
    /// it failed; a 2xx that crosses the CANCEL is acknowledged and
    /// released with BYE.
    fn cancel_invitation(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        tx: dialog::ClientTxId,
        address: String,
        referral: Option<Referral>,
        now: Instant,
    ) {
        self.by_client_tx.remove(&tx);
        if self.ua.cancel(tx, now).is_ok() {
            self.cancelled_invites.insert(tx);
        }
        self.collect();
        self.event(Event::InvitationFailed {
            session,
            participant,
            address,
            reason: InvitationFailure::Cancelled,
        });
        self.referral_outcome(referral, 487, now);
    }

    /// Forgets a session and everything that points at it.
    pub(super) fn drop_session(&mut self, session: SessionId, reason: EndReason, now: Instant) {
        let subscribers: Vec<DialogId> = self
            .sessions
            .get(&session)
            .map(|s| s.subscribers.iter().map(|x| x.dialog).collect())
            .unwrap_or_default();
        for dialog in subscribers {
            self.end_subscription(session, dialog, "terminated;reason=noresource", now);
        }
        let Some(s) = self.sessions.remove(&session) else {
            return;
        };
        self.msrp_buffered = self.msrp_buffered.saturating_sub(s.msrp_charged);
        self.by_token.remove(s.names.token(), session);
        if self
            .hosted_sessions
            .get(&super::headers::uri_key(s.names.hosted_by()))
            == Some(&session)
        {
            self.hosted_sessions
                .remove(&super::headers::uri_key(s.names.hosted_by()));
        }
        for p in &s.participants {
            if let Some(c) = &p.call_id {
                self.by_call_id.remove(c, session);
            }
            if let Some(d) = p.dialog {
                self.ua.set_dialog_owner(d, None);
            }
            match p.state {
                State::Inviting(tx) => {
                    self.by_client_tx.remove(&tx);
                }
                State::Answering(tx) => {
                    self.by_server_tx.remove(&tx);
                }
                _ => {}
            }
            if let Some(leg) = &p.leg {
                self.by_leg_token.remove(&leg.token, (session, p.id));
                if let Some(c) = leg.connection {
                    self.connections.remove(&c);
                    self.out.push_back(Output::MsrpClose { connection: c });
                }
            }
        }
        self.event(Event::SessionEnded { session, reason });
    }
}

/// What the server keeps with a Participant's dialog in its user agent:
/// the session, and the Participant (its id fits in 32 bits) with the
/// number of the URI hosting the session (`ImServer::hosts`), so that a
/// refresh is answered without reading the session.
fn owner_of(session: SessionId, participant: ParticipantId, host: u32) -> dialog::DialogOwner {
    debug_assert!(participant.0 <= u64::from(u32::MAX), "ids fit in 32 bits");
    dialog::DialogOwner(
        session.0,
        u64::from(host) << 32 | (participant.0 & 0xffff_ffff),
    )
}

/// The session, Participant and host of a dialog's [`owner_of`].
fn member_of(owner: dialog::DialogOwner) -> (SessionId, ParticipantId, u32) {
    (
        SessionId(owner.0),
        ParticipantId(owner.1 & 0xffff_ffff),
        (owner.1 >> 32) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialogs_owner_gives_back_its_session_participant_and_host() {
        for (session, participant, host) in [
            (0, 1, 0),
            (u64::MAX, u64::from(u32::MAX), u32::MAX),
            (7 << 32 | 3, 2, 5),
        ] {
            let owner = owner_of(SessionId(session), ParticipantId(participant), host);
            assert_eq!(
                member_of(owner),
                (SessionId(session), ParticipantId(participant), host)
            );
        }
    }
}
