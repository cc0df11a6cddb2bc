//! The conference-state subscription of a session (7.1.1.11, inferred
//! from RFC 4575 / RFC 6665): SUBSCRIBE to the IM Session Identity with
//! `Event: conference`, NOTIFYs merged into the roster (full and partial
//! conference-info), the participant list and its changes reported.

use std::time::{Duration, Instant};

use crate::body::conference_info::ConferenceInfo;
use crate::body::xml::XmlLimits;
use crate::dialog::{DialogId, DialogRequestSpec, ResponseSpec, ServerTxId};
use crate::sip::{HeaderName, Method, SipMessage, SubState};

use super::session::Subscription;
use super::{build, ClientError, DialogUse, Event, ImClient, ImSessionId, TxUse};

/// The subscription duration asked for, seconds.
const SUBSCRIPTION_EXPIRES: u32 = 3600;

impl ImClient {
    /// Subscribes to the conference state of `session` (7.1.1.11): a
    /// SUBSCRIBE to its IM Session Identity with `Event: conference`;
    /// NOTIFYs give [`Event::ParticipantsChanged`].
    pub fn subscribe_conference(
        &mut self,
        session: ImSessionId,
        now: Instant,
    ) -> Result<(), ClientError> {
        let s = self
            .sessions
            .get(&session)
            .ok_or(ClientError::UnknownSession)?;
        if s.subscription.is_some() {
            return Err(ClientError::WrongState);
        }
        let identity = s.identity.clone().ok_or(ClientError::NoSessionIdentity)?;
        let spec = build::initial_request(
            &self.config,
            &self.release,
            Method::Subscribe,
            &identity.uri,
        )
        .with_header("Event", "conference")
        .with_header("Accept", "application/conference-info+xml")
        .with_header("Expires", &SUBSCRIPTION_EXPIRES.to_string());
        let tx = self.ua.send_request(spec, now)?;
        self.client_txs.insert(tx, TxUse::Subscribe(session));
        if let Some(s) = self.sessions.get_mut(&session) {
            s.subscription = Some(Subscription {
                pending: Some(tx),
                dialog: None,
                roster: None,
                refresh_at: None,
            });
        }
        self.pump(now);
        Ok(())
    }

    pub(super) fn on_subscribe_response(
        &mut self,
        id: ImSessionId,
        dialog: Option<DialogId>,
        msg: &SipMessage<'_>,
        status: u16,
        now: Instant,
    ) {
        let Some(sub) = self
            .sessions
            .get_mut(&id)
            .and_then(|s| s.subscription.as_mut())
        else {
            return;
        };
        match status {
            200..=299 => {
                sub.pending = None;
                let expires = msg
                    .expires()
                    .and_then(Result::ok)
                    .map_or(SUBSCRIPTION_EXPIRES, |e| e.0);
                sub.refresh_at =
                    (expires > 0).then(|| now + Duration::from_secs(u64::from(expires.max(2) / 2)));
                if let Some(d) = dialog {
                    sub.dialog = Some(d);
                    self.dialogs.insert(d, DialogUse::Subscription(id));
                }
            }
            300..=699 => {
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.subscription = None;
                }
            }
            _ => {}
        }
    }

    /// Refreshes the subscription of `id` (a SUBSCRIBE in its dialog).
    pub(super) fn refresh_subscription(&mut self, id: ImSessionId, now: Instant) {
        let Some(sub) = self
            .sessions
            .get_mut(&id)
            .and_then(|s| s.subscription.as_mut())
        else {
            return;
        };
        sub.refresh_at = None;
        let Some(dialog) = sub.dialog else { return };
        let spec = DialogRequestSpec::new(Method::Subscribe)
            .with_header("Event", "conference")
            .with_header("Accept", "application/conference-info+xml")
            .with_header("Expires", &SUBSCRIPTION_EXPIRES.to_string());
        if let Ok(tx) = self.ua.send_in_dialog(dialog, spec, now) {
            self.client_txs.insert(tx, TxUse::Subscribe(id));
        }
    }

    /// Ends the subscription of `id` (`Expires: 0`), when there is one.
    pub(super) fn unsubscribe(&mut self, id: ImSessionId, now: Instant) {
        let Some(sub) = self
            .sessions
            .get_mut(&id)
            .and_then(|s| s.subscription.as_mut())
        else {
            return;
        };
        sub.refresh_at = None;
        if let Some(dialog) = sub.dialog {
            let spec = DialogRequestSpec::new(Method::Subscribe)
                .with_header("Event", "conference")
                .with_header("Expires", "0");
            if self.ua.send_in_dialog(dialog, spec, now).is_err() {
                let _ = self.ua.terminate_dialog(dialog);
            }
        }
    }

    /// A NOTIFY of the subscription of `id`: 200, then the body merged
    /// into the roster and the change reported.
    pub(super) fn on_notify(
        &mut self,
        id: ImSessionId,
        tx: ServerTxId,
        msg: &SipMessage<'_>,
        now: Instant,
    ) {
        let _ = self.ua.respond(tx, ResponseSpec::new(200), now);
        let terminated = msg
            .subscription_state()
            .and_then(Result::ok)
            .is_some_and(|s| s.state == SubState::Terminated);
        let limits = XmlLimits {
            max_users: self.config.limits.max_participants,
            ..XmlLimits::default()
        };
        let body = msg.body();
        let is_info = msg.header(HeaderName::ContentType).is_some_and(|ct| {
            ct.value
                .trim()
                .eq_ignore_ascii_case("application/conference-info+xml")
        });
        let Some(sub) = self
            .sessions
            .get_mut(&id)
            .and_then(|s| s.subscription.as_mut())
        else {
            return;
        };
        if terminated {
            sub.refresh_at = None;
        }
        if body.is_empty() || !is_info {
            return;
        }
        let parsed = if body.len() > self.config.limits.max_notify_body {
            None
        } else {
            ConferenceInfo::parse(body, &limits).ok()
        };
        let before: Vec<String> = sub
            .roster
            .as_ref()
            .map(|r| r.participants().map(|u| u.entity.clone()).collect())
            .unwrap_or_default();
        let applied = match (parsed, &mut sub.roster) {
            (Some(info), Some(roster)) => roster.apply(info).is_ok(),
            (Some(info), roster @ None) => {
                *roster = Some(info);
                true
            }
            (None, _) => false,
        };
        if !applied {
            self.event(Event::ConferenceStateError { session: id });
            return;
        }
        let after: Vec<String> = sub
            .roster
            .as_ref()
            .map(|r| r.participants().map(|u| u.entity.clone()).collect())
            .unwrap_or_default();
        let joined = after
            .iter()
            .filter(|p| !before.contains(p))
            .cloned()
            .collect();
        let left = before
            .iter()
            .filter(|p| !after.contains(p))
            .cloned()
            .collect();
        self.event(Event::ParticipantsChanged {
            session: id,
            participants: after,
            joined,
            left,
        });
    }
}
