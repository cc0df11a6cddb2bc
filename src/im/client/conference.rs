//! The conference-state subscription of a session (7.1.1.11, inferred
//! from RFC 4575 / RFC 6665): a subscription of the user agent to the IM
//! Session Identity with `Event: conference` (it answers NOTIFYs, refreshes
//! and ends the subscription); the NOTIFY bodies merged into the roster
//! (full and partial conference-info), the participant list and its changes
//! reported.

use std::time::Instant;

use crate::body::conference_info::ConferenceInfo;
use crate::body::xml::XmlLimits;
use crate::dialog::SubscribeSpec;
use crate::im::ACCEPT_CONTACT_IM;
use crate::sip::{HeaderName, SipMessage};

use super::session::Subscription;
use super::{ClientError, Event, ImClient, ImSessionId};

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
        let from = format!("<{}>", self.config.im_address);
        let mut spec = SubscribeSpec::conference(&identity.uri, &from, SUBSCRIPTION_EXPIRES)
            .with_header("Accept-Contact", ACCEPT_CONTACT_IM)
            .with_header("User-Agent", &self.release);
        // 7.1.1.2: over IMS, every request outside a dialog asks the
        // network to assert the user's identity (TS 24.229 §5.1.3).
        if self.config.profile == crate::im::SipIpCoreProfile::Ims {
            spec = spec.with_header(self.config.profile.originator_header(), &from);
        }
        let id = self.ua.subscribe(spec, now)?;
        self.subscriptions.insert(id, session);
        if let Some(s) = self.sessions.get_mut(&session) {
            s.subscription = Some(Subscription { id, roster: None });
        }
        self.pump(now);
        Ok(())
    }

    /// The conference state of `session` as last notified (7.1.1.11): the
    /// full document with every partial notification merged in, every
    /// user with its endpoint status (`pending`, `alerting`, `connected`,
    /// `disconnected` with its `disconnection-method` and reason, RFC 4575
    /// §5.7); `None` without a subscription or before its first NOTIFY.
    pub fn conference_state(&self, session: ImSessionId) -> Option<&ConferenceInfo> {
        self.sessions
            .get(&session)?
            .subscription
            .as_ref()?
            .roster
            .as_ref()
    }

    /// Ends the subscription of `id` (`Expires: 0`), when there is one.
    pub(super) fn unsubscribe(&mut self, id: ImSessionId, now: Instant) {
        if let Some(sub) = self.sessions.get(&id).and_then(|s| s.subscription.as_ref()) {
            let _ = self.ua.unsubscribe(sub.id, now);
        }
    }

    /// A NOTIFY of the subscription of `id` (the user agent answered it):
    /// the body merged into the roster and the change reported.
    pub(super) fn on_notify(&mut self, id: ImSessionId, msg: &SipMessage<'_>) {
        let limits = XmlLimits {
            max_users: self.config.limits.max_participants,
            ..self.config.limits.layers.xml
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
