//! Is-composing indications (RFC 3994) in the IM Client.
//!
//! * **Sending.** [`ImClient::set_composing`] with `active: true` whenever
//!   the user types in a session: the first call sends an `active`
//!   indication (`application/im-iscomposing+xml` in CPIM, announcing a
//!   refresh interval of [`DEFAULT_REFRESH`], 90 s); while the user keeps
//!   typing the client sends the `active` state again
//!   [`REFRESH_MARGIN`] before that interval ends; after [`IDLE_TIMEOUT`]
//!   (15 s) without a call it sends `idle` on its own (RFC 3994 §3.2).
//!   `active: false` (the user cleared the draft) sends `idle` at once;
//!   sending a message ends the active state without an `idle` (the
//!   message itself tells the receiver, §3.3). Both timers are deadlines
//!   ([`DeadlineReason::ComposingIdle`], [`DeadlineReason::ComposingRefresh`]).
//! * **Receiving.** An indication is never a message event: a change of a
//!   sender's state is [`Event::ComposingChanged`]. An `active` state
//!   lapses to idle when its refresh interval passes without a refresh (or
//!   [`DEFAULT_RECEIVER_TIMEOUT`], 120 s, when it named none; never more
//!   than [`MAX_RECEIVED_REFRESH`]), or when a
//!   message from that sender arrives (RFC 3994 §3.3); the lapse is a
//!   deadline ([`DeadlineReason::ComposingExpiry`]). At most
//!   [`Limits::max_composing_peers`] active senders are kept; over it the
//!   one that would lapse first is taken as idle at once. Indications that
//!   arrive as Pager Mode MESSAGEs are reported with no session.
//!
//! [`Limits::max_composing_peers`]: super::Limits::max_composing_peers

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::body::cpim::CpimMessage;
use crate::body::iscomposing::{
    ComposingState, IsComposing, CONTENT_TYPE, DEFAULT_RECEIVER_TIMEOUT, DEFAULT_REFRESH,
    IDLE_TIMEOUT,
};
use crate::msrp::session::SendOptions;

use super::session::Session;
use super::{ClientError, DeadlineReason, Event, ImClient, ImSessionId};

/// How long before the announced refresh interval ends an `active` state
/// is sent again.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(10);

/// The longest a received `active` state is believed without a refresh,
/// whatever refresh interval it announced.
pub const MAX_RECEIVED_REFRESH: Duration = Duration::from_secs(3600);

/// The user's own `active` state in a session.
#[derive(Debug, Clone, Copy)]
struct Active {
    /// When it turns idle without more typing.
    idle_at: Instant,
    /// When it is sent again.
    refresh_at: Instant,
}

/// The is-composing state of the client: its own per session, and the
/// senders it heard `active` from.
#[derive(Debug, Default)]
pub(super) struct Composing {
    outgoing: BTreeMap<ImSessionId, Active>,
    /// (session, sender) -> when the `active` state lapses.
    incoming: BTreeMap<(Option<ImSessionId>, String), Instant>,
}

impl Composing {
    /// Nothing kept.
    pub(super) fn is_empty(&self) -> bool {
        self.outgoing.is_empty() && self.incoming.is_empty()
    }

    /// An indication from `from` arrived (in `session`, or in Pager Mode).
    pub(super) fn on_indication(
        &mut self,
        session: Option<ImSessionId>,
        from: &str,
        cpim: &CpimMessage<'_>,
        limits: &super::Limits,
        events: &mut Vec<Event>,
        now: Instant,
    ) {
        let Ok(doc) = IsComposing::parse(&cpim.content, &limits.layers.xml) else {
            return;
        };
        let max = limits.max_composing_peers;
        let key = (session, from.to_owned());
        let content_type = doc.content_type.as_ref().map(|c| c.to_string());
        match doc.state {
            ComposingState::Active => {
                let lapse = doc
                    .refresh
                    .map_or(DEFAULT_RECEIVER_TIMEOUT, |r| Duration::from_secs(r.into()))
                    .min(MAX_RECEIVED_REFRESH);
                let at = now + lapse;
                if let Some(existing) = self.incoming.get_mut(&key) {
                    *existing = at;
                    return;
                }
                if max == 0 {
                    return;
                }
                while self.incoming.len() >= max {
                    let Some(first) = self
                        .incoming
                        .iter()
                        .min_by_key(|(_, at)| **at)
                        .map(|(k, _)| k.clone())
                    else {
                        break;
                    };
                    self.incoming.remove(&first);
                    events.push(changed(first, false, None));
                }
                self.incoming.insert(key.clone(), at);
                events.push(changed(key, true, content_type));
            }
            ComposingState::Idle => {
                if self.incoming.remove(&key).is_some() {
                    events.push(changed(key, false, content_type));
                }
            }
        }
    }

    /// A message from `from` arrived: its sender is no longer composing.
    pub(super) fn message_from(
        &mut self,
        session: Option<ImSessionId>,
        from: &str,
        events: &mut Vec<Event>,
    ) {
        let key = (session, from.to_owned());
        if self.incoming.remove(&key).is_some() {
            events.push(changed(key, false, None));
        }
    }

    /// The user sent a message in `session`: the active state ends without
    /// an `idle` indication.
    pub(super) fn message_sent(&mut self, session: ImSessionId) {
        self.outgoing.remove(&session);
    }

    /// The earliest deadline of a live session's state, or of a Pager Mode
    /// sender's.
    pub(super) fn next_deadline(
        &self,
        sessions: &BTreeMap<ImSessionId, Session>,
    ) -> Option<(Instant, DeadlineReason)> {
        let own = self
            .outgoing
            .iter()
            .filter(|(id, _)| sessions.contains_key(id))
            .flat_map(|(id, a)| {
                [
                    (a.idle_at, DeadlineReason::ComposingIdle(*id)),
                    (a.refresh_at, DeadlineReason::ComposingRefresh(*id)),
                ]
            });
        let heard = self
            .incoming
            .iter()
            .filter(|((s, _), _)| s.is_none_or(|s| sessions.contains_key(&s)))
            .map(|((s, _), at)| (*at, DeadlineReason::ComposingExpiry(*s)));
        own.chain(heard).min_by_key(|(at, _)| *at)
    }
}

fn changed(
    key: (Option<ImSessionId>, String),
    active: bool,
    content_type: Option<String>,
) -> Event {
    Event::ComposingChanged {
        session: key.0,
        from: key.1,
        active,
        content_type,
    }
}

impl ImClient {
    /// Tells the client whether the user is composing a message in
    /// `session` (see the [module documentation](crate::im::client::composing)): call it with
    /// `true` on every keystroke (only the first of a run sends anything)
    /// and with `false` when the user clears the draft.
    ///
    /// Fails like [`send_message`](Self::send_message) when the session
    /// cannot carry messages; the state is then left as it was.
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::client::{ClientConfig, ClientError, ImClient};
    ///
    /// let mut alice = ImClient::new(ClientConfig::new(
    ///     "sip:alice@example.com",
    ///     "sip:conf-factory@im.example.com",
    ///     "192.0.2.1:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(),
    /// ));
    /// let now = Instant::now();
    /// let session = alice.start_one_to_one("sip:bob@example.com", now).unwrap();
    /// // Not established yet: nothing to carry the indication.
    /// assert_eq!(alice.set_composing(session, true, now), Err(ClientError::WrongState));
    /// assert!(alice.composing_peers(Some(session)).is_empty());
    /// ```
    pub fn set_composing(
        &mut self,
        session: ImSessionId,
        active: bool,
        now: Instant,
    ) -> Result<(), ClientError> {
        if !self.sessions.contains_key(&session) {
            return Err(ClientError::UnknownSession);
        }
        let current = self.composing.outgoing.get(&session).copied();
        match (active, current) {
            (true, Some(mut a)) => {
                a.idle_at = now + IDLE_TIMEOUT;
                self.composing.outgoing.insert(session, a);
            }
            (true, None) => {
                self.indicate(session, ComposingState::Active, now)?;
                self.composing.outgoing.insert(
                    session,
                    Active {
                        idle_at: now + IDLE_TIMEOUT,
                        refresh_at: now + DEFAULT_REFRESH.saturating_sub(REFRESH_MARGIN),
                    },
                );
            }
            (false, Some(_)) => {
                self.composing.outgoing.remove(&session);
                self.indicate(session, ComposingState::Idle, now)?;
            }
            (false, None) => {}
        }
        Ok(())
    }

    /// The senders heard composing in `session` (`None`: in Pager Mode).
    pub fn composing_peers(&self, session: Option<ImSessionId>) -> Vec<String> {
        self.composing
            .incoming
            .keys()
            .filter(|(s, _)| *s == session)
            .map(|(_, from)| from.clone())
            .collect()
    }

    /// Sends an indication of `state` in `session`.
    fn indicate(
        &mut self,
        session: ImSessionId,
        state: ComposingState,
        now: Instant,
    ) -> Result<(), ClientError> {
        let mut doc = IsComposing::new(state);
        doc.content_type = Some("text/plain".into());
        if state == ComposingState::Active {
            doc.refresh = u32::try_from(DEFAULT_REFRESH.as_secs()).ok();
        }
        let mut body = Vec::with_capacity(192);
        doc.write(&mut body);
        let id = self.send_with(session, CONTENT_TYPE, &body, SendOptions::default(), now)?;
        self.notifications.own(id);
        Ok(())
    }

    /// The is-composing deadlines due at `now`: idle and refresh of the
    /// user's own states, lapses of the senders'; the states of ended
    /// sessions are dropped.
    pub(super) fn composing_timeout(&mut self, now: Instant) {
        let sessions = &self.sessions;
        self.composing
            .outgoing
            .retain(|id, _| sessions.contains_key(id));
        self.composing
            .incoming
            .retain(|(s, _), _| s.is_none_or(|s| sessions.contains_key(&s)));
        let due: Vec<(ImSessionId, Active)> = self
            .composing
            .outgoing
            .iter()
            .filter(|(_, a)| a.idle_at <= now || a.refresh_at <= now)
            .map(|(id, a)| (*id, *a))
            .collect();
        for (id, a) in due {
            if a.idle_at <= now {
                self.composing.outgoing.remove(&id);
                let _ = self.indicate(id, ComposingState::Idle, now);
            } else {
                let resent = self.indicate(id, ComposingState::Active, now);
                match (resent, self.composing.outgoing.get_mut(&id)) {
                    (Ok(()), Some(a)) => {
                        a.refresh_at = now + DEFAULT_REFRESH.saturating_sub(REFRESH_MARGIN)
                    }
                    // The session cannot carry it any more: forget it.
                    _ => {
                        self.composing.outgoing.remove(&id);
                    }
                }
            }
        }
        let lapsed: Vec<(Option<ImSessionId>, String)> = self
            .composing
            .incoming
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in lapsed {
            self.composing.incoming.remove(&key);
            self.event(changed(key, false, None));
        }
    }
}
