//! The conference event package (RFC 4575 over RFC 6665) of an IM Session:
//! SUBSCRIBE to the IM Session Identity with `Event: conference`, a NOTIFY
//! with the full conference-info first, then a partial one on every change
//! of a Participant or invitee (invited: `pending`; ringing: `alerting`;
//! joining: `dialing-in`; in: `connected`; gone or failed: `disconnected`
//! with its `disconnection-method` and reason), and a terminating NOTIFY
//! when the subscription expires, is ended by the subscriber, or the
//! session ends.

use std::time::{Duration, Instant};

use crate::body::conference_info::{
    ConferenceInfo, ConferenceState, ElementState, Endpoint, EndpointStatus, ExecutionInfo,
    JoiningMethod, User, Users,
};
use crate::dialog::{DialogId, DialogRequestSpec, ServerTxId};
use crate::sip::{Method, SipMessage};
use crate::transaction::OwnedMessage;

use super::session::{State, Subscriber};
use super::{ImServer, ParticipantId, SessionId, Timer};

/// The longest subscription granted, in seconds.
const MAX_EXPIRES: u32 = 3600;

impl ImServer {
    /// A SUBSCRIBE outside any dialog: accepted for `Event: conference` on
    /// an IM Session Identity (489 for another package, 404 for another URI)
    /// from a Participant (else 403) while the session has room for another
    /// subscription (else 503).
    pub(super) fn on_subscribe(
        &mut self,
        transaction: ServerTxId,
        request: &OwnedMessage,
        now: Instant,
    ) {
        let msg = request.message();
        let conference = msg
            .event()
            .and_then(Result::ok)
            .is_some_and(|e| e.event_type.eq_ignore_ascii_case("conference"));
        if !conference {
            return self.reject(transaction, 489, None, now);
        }
        let session = msg
            .request_line()
            .map(|l| super::headers::uri_key(l.uri))
            .and_then(|key| {
                let (user, host) = key.split_once('@')?;
                host.eq_ignore_ascii_case(&self.config.domain)
                    .then(|| self.session_by_token(user))
                    .flatten()
            });
        let (Some(session), Some(call_id)) = (session, msg.call_id().and_then(Result::ok)) else {
            return self.reject(transaction, 404, None, now);
        };
        // The roster is the Participants' business: only they may read it
        // (the [`RosterAccess`](super::RosterAccess) policy), and each
        // session keeps at most `max_subscriptions_per_session`.
        let Some(who) = crate::im::trust::originator(&msg, self.input_trusted) else {
            return self.reject(transaction, 400, None, now);
        };
        if self.config.access.roster == super::RosterAccess::Participants {
            let me = super::headers::uri_key(&who.address);
            let trusted = self.input_trusted;
            let participant = self.sessions.get(&session).is_some_and(|s| {
                s.participants.iter().any(|p| {
                    p.is_alive()
                        && (super::headers::uri_key(&p.address) == me
                            // The History Function recording the session
                            // subscribes with its own identity (7.1.1.11),
                            // from the trust domain.
                            || (p.recorder && trusted))
                })
            });
            if !participant {
                return self.reject(transaction, 403, None, now);
            }
        }
        let pending = self
            .pending_subscriptions
            .values()
            .filter(|(s, _)| *s == session)
            .count();
        let active = self
            .sessions
            .get(&session)
            .map_or(0, |s| s.subscribers.len());
        if active.saturating_add(pending) >= self.config.limits.max_subscriptions_per_session
            || !self.session_room(msg.size())
        {
            return self.reject(transaction, 503, None, now);
        }
        let expires = expires_of(&msg);
        self.pending_subscriptions
            .insert(call_id.id.to_owned(), (session, expires));
        let spec = self
            .focus_response(session, 200)
            .with_header("Expires", expires.to_string());
        if self.ua.respond(transaction, spec, now).is_err() {
            self.pending_subscriptions.remove(call_id.id);
        }
        self.collect();
    }

    /// The dialog of an accepted SUBSCRIBE: the subscriber gets the full
    /// state.
    pub(super) fn subscription_created(
        &mut self,
        dialog: DialogId,
        call_id: &str,
        now: Instant,
    ) -> bool {
        let Some((session, expires)) = self.pending_subscriptions.remove(call_id) else {
            return false;
        };
        let Some(s) = self.sessions.get_mut(&session) else {
            return true;
        };
        let at = now + Duration::from_secs(u64::from(expires));
        s.subscribers.push(Subscriber {
            dialog,
            call_id: call_id.to_owned(),
            expires_at: at,
            version: 0,
        });
        self.by_subscription.insert(dialog, session);
        self.schedule(at, Timer::Subscription(session, dialog));
        let body = self.full_state(session, dialog);
        self.notify(dialog, &format!("active;expires={expires}"), body, now);
        true
    }

    /// A SUBSCRIBE inside a subscription: refresh, or end with `Expires: 0`.
    pub(super) fn resubscribe(
        &mut self,
        transaction: ServerTxId,
        dialog: DialogId,
        session: SessionId,
        msg: &SipMessage<'_>,
        now: Instant,
    ) {
        let expires = expires_of(msg);
        let spec = self
            .focus_response(session, 200)
            .with_header("Expires", expires.to_string());
        let _ = self.ua.respond(transaction, spec, now);
        self.collect();
        if expires == 0 {
            return self.end_subscription(session, dialog, "terminated;reason=timeout", now);
        }
        let at = now + Duration::from_secs(u64::from(expires));
        if let Some(sub) = self
            .sessions
            .get_mut(&session)
            .and_then(|s| s.subscribers.iter_mut().find(|x| x.dialog == dialog))
        {
            sub.expires_at = at;
        }
        let body = self.full_state(session, dialog);
        self.notify(dialog, &format!("active;expires={expires}"), body, now);
    }

    /// A subscription's heap entry fired: it expired, or it was refreshed
    /// since (the entry picks the later expiry up) and waits on.
    pub(super) fn subscription_expired(
        &mut self,
        session: SessionId,
        dialog: DialogId,
        now: Instant,
    ) {
        let later = self
            .sessions
            .get(&session)
            .and_then(|s| s.subscribers.iter().find(|x| x.dialog == dialog))
            .map(|x| x.expires_at)
            .filter(|at| *at > now);
        match later {
            Some(at) => self.schedule(at, Timer::Subscription(session, dialog)),
            None => self.end_subscription(session, dialog, "terminated;reason=timeout", now),
        }
    }

    /// Ends a subscription with a last NOTIFY.
    pub(super) fn end_subscription(
        &mut self,
        session: SessionId,
        dialog: DialogId,
        state: &str,
        now: Instant,
    ) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        if !s.subscribers.iter().any(|x| x.dialog == dialog) {
            return;
        }
        let body = self.full_state(session, dialog);
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let Some(index) = s.subscribers.iter().position(|x| x.dialog == dialog) else {
            return;
        };
        let sub = s.subscribers.swap_remove(index);
        self.by_subscription.remove(&dialog);
        self.by_call_id.remove(&sub.call_id, session);
        self.notify(dialog, state, body, now);
        let _ = self.ua.terminate_dialog(dialog);
        self.collect();
    }

    /// Tells every subscriber how a Participant or invitee stands now (a
    /// partial notification with its `<user>`), unless a newer entry of
    /// its IM Address replaced it.
    pub(super) fn notify_change(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        now: Instant,
    ) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        if s.subscribers.is_empty() {
            return;
        }
        let Some(p) = s.participant(participant).filter(|p| !p.recorder) else {
            return;
        };
        if s.superseded(p) {
            return;
        }
        let user = roster_user(p, &self.config.anonymous_uri);
        let identity = s.names.identity().to_owned();
        // Each subscription has its own version sequence (RFC 4575 §4.6).
        let targets: Vec<(DialogId, u64, u32)> = s
            .subscribers
            .iter_mut()
            .map(|x| {
                x.version = x.version.wrapping_add(1);
                (
                    x.dialog,
                    x.expires_at.saturating_duration_since(now).as_secs(),
                    x.version,
                )
            })
            .collect();
        for (dialog, left, version) in targets {
            let mut info = ConferenceInfo::new(&*identity, ElementState::Partial, Some(version));
            info.users = Some(Users {
                state: ElementState::Partial,
                users: vec![user.clone()],
            });
            let mut body = Vec::new();
            info.write(&mut body);
            self.notify(dialog, &format!("active;expires={left}"), body, now);
        }
    }

    /// The full conference-info of a session as the next version of the
    /// subscription `dialog` (each subscription has its own sequence, RFC
    /// 4575 §4.6): every IM Address once, as its newest entry stands; the
    /// user count is the connected ones.
    fn full_state(&mut self, session: SessionId, dialog: DialogId) -> Vec<u8> {
        let mut body = Vec::new();
        if let Some(s) = self.sessions.get_mut(&session) {
            let version = match s.subscribers.iter_mut().find(|x| x.dialog == dialog) {
                Some(sub) => {
                    sub.version = sub.version.wrapping_add(1);
                    sub.version
                }
                None => 1,
            };
            let users: Vec<User> = s
                .participants
                .iter()
                .filter(|p| !p.recorder && !s.superseded(p))
                .map(|p| roster_user(p, &self.config.anonymous_uri))
                .collect();
            let connected = s
                .participants
                .iter()
                .filter(|p| !p.recorder && p.state == State::Joined)
                .count();
            let mut info =
                ConferenceInfo::new(s.names.identity(), ElementState::Full, Some(version));
            info.conference_state = Some(ConferenceState {
                user_count: u32::try_from(connected).ok(),
                active: Some(true),
                locked: None,
            });
            info.users = Some(Users {
                state: ElementState::Full,
                users,
            });
            info.write(&mut body);
        }
        body
    }

    fn notify(&mut self, dialog: DialogId, state: &str, body: Vec<u8>, now: Instant) {
        let spec = DialogRequestSpec::new(Method::Notify)
            .with_header("Event", "conference")
            .with_header("Subscription-State", state)
            .with_body("application/conference-info+xml", body);
        let _ = self.ua.send_in_dialog(dialog, spec, now);
        self.collect();
    }
}

/// A Participant or invitee as the roster shows it (RFC 4575 §5.6, §5.7):
/// the anonymous URI when it asked for anonymity, one endpoint with its
/// status, how it joined, and how and why it left or failed.
fn roster_user(p: &super::session::Participant, anonymous_uri: &str) -> User {
    let entity = if p.anonymous {
        anonymous_uri
    } else {
        p.address.as_str()
    };
    let mut endpoint = Endpoint::new(entity, ElementState::Full);
    endpoint.status = Some(match p.state {
        State::Inviting(_) if p.alerting => EndpointStatus::Alerting,
        State::Inviting(_) => EndpointStatus::Pending,
        State::Answering(_) => EndpointStatus::DialingIn,
        State::Joined => EndpointStatus::Connected,
        State::Failed | State::Left => EndpointStatus::Disconnected,
    });
    endpoint.joining_method = Some(if p.invited {
        JoiningMethod::DialedOut
    } else {
        JoiningMethod::DialedIn
    });
    if let (false, Some((method, reason))) = (p.is_alive(), p.disconnection.as_deref()) {
        endpoint.disconnection_method = Some(*method);
        endpoint.disconnection_info = Some(ExecutionInfo {
            when: None,
            reason: Some(reason.clone()),
            by: None,
        });
    }
    let mut user = User::new(entity, ElementState::Full);
    user.endpoints.push(endpoint);
    user
}

fn expires_of(msg: &SipMessage<'_>) -> u32 {
    msg.expires()
        .and_then(Result::ok)
        .map_or(MAX_EXPIRES, |e| e.0.min(MAX_EXPIRES))
}
