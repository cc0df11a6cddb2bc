//! Session timers (RFC 4028): Session-Expires and Min-SE on INVITE and
//! UPDATE, 422 and the retry at the larger interval, the refresh by the
//! refresher at half the interval, and the BYE of the other side before
//! expiry.
//!
//! Roles: `refresher=uac` names the sender of the request that negotiated
//! the interval, `uas` its receiver; each side turns it into "this UA
//! refreshes" or "the peer refreshes" ([`SessionTimer::local_refresher`]).

use std::borrow::Cow;
use std::time::{Duration, Instant};

use super::{
    outgoing, ClientTxId, DeadlineReason, DialogRequestSpec, Event, InviteSetKey, RequestSpec,
    ServerTxId, TerminationReason, UserAgent,
};
use crate::dialog::DialogId;
use crate::sip::{Method, OptionTag, Refresher, SipMessage};

/// How this UA refreshes a session it is the refresher of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshMethod {
    /// A re-INVITE carrying the last session description this UA sent
    /// (unchanged, RFC 4028 §7.4).
    Invite,
    /// An UPDATE without body (RFC 3311).
    Update,
}

/// The session timer settings of a user agent (RFC 4028).
///
/// ```
/// use oma_im::dialog::{Config, RefreshMethod, SessionTimerConfig};
/// use oma_im::sip::Refresher;
/// use oma_im::transaction::Transport;
///
/// let config = Config::new("192.0.2.1:5060".parse().unwrap(),
///         "192.0.2.100:5060".parse().unwrap(), Transport::Udp, 1)
///     .with_session_timer(SessionTimerConfig {
///         refresher: Some(Refresher::Uac),
///         refresh_method: RefreshMethod::Invite,
///         ..SessionTimerConfig::default()
///     });
/// assert_eq!(config.session_timer.unwrap().session_expires, 1800);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// The session interval, in seconds, this UA asks for in its INVITEs
    /// (UAC), or puts in a 2xx when the request had none but the UAC
    /// supports `timer` (UAS).
    pub session_expires: u32,
    /// The smallest session interval this UA accepts (its Min-SE): a
    /// request asking for less gets 422. RFC 4028 forbids less than 90.
    pub min_se: u32,
    /// UAC: the `refresher` it asks for in its INVITEs (`None`: leave the
    /// choice to the UAS). UAS: the refresher it chooses when the request
    /// names none and the UAC supports `timer` (`None`: `uac`).
    pub refresher: Option<Refresher>,
    /// How this UA refreshes.
    pub refresh_method: RefreshMethod,
}

impl Default for SessionTimerConfig {
    /// 1800 s asked, Min-SE 90 s, no refresher preference, refresh by UPDATE.
    fn default() -> Self {
        SessionTimerConfig {
            session_expires: 1800,
            min_se: 90,
            refresher: None,
            refresh_method: RefreshMethod::Update,
        }
    }
}

/// Which deadline a session timer has scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SessionDeadline {
    Refresh,
    Expiry,
}

/// The session timer of one dialog.
#[derive(Debug, Clone)]
pub(super) struct SessionTimer {
    /// The negotiated interval, seconds.
    pub(super) interval: u32,
    /// The largest Min-SE seen: the floor of every refresh.
    pub(super) min_se: u32,
    /// Whether this UA sends the refreshes.
    pub(super) local_refresher: bool,
    /// The scheduled deadline, none while a refresh is pending.
    pub(super) deadline: Option<(Instant, SessionDeadline)>,
    /// The refresh this UA has sent and awaits the answer of.
    pub(super) refresh_tx: Option<ClientTxId>,
}

/// The last session description this UA sent in a dialog, resent by a
/// re-INVITE refresh: (Content-Type, body).
pub(super) type SessionBody = Option<(String, Vec<u8>)>;

/// What the UAS puts in a 2xx to INVITE or UPDATE (RFC 4028 §9).
pub(super) struct UasAnswer {
    pub(super) interval: u32,
    pub(super) min_se: u32,
    pub(super) refresher: Refresher,
    /// The UAC supports `timer`: `Require: timer` goes in the 2xx.
    pub(super) require: bool,
}

/// The instant the side that does not refresh sends BYE: the interval
/// minus the smaller of 32 s and a third of it (RFC 4028 §10).
fn expiry_after(interval: u32) -> Duration {
    let margin = (interval / 3).min(32);
    Duration::from_secs(u64::from(interval - margin))
}

fn refresher_str(r: Refresher) -> &'static str {
    match r {
        Refresher::Uac => "uac",
        Refresher::Uas => "uas",
    }
}

fn has_header(headers: &[(Cow<'static, str>, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// `spec` with Session-Expires (and this UA's refresher wish) and Min-SE
/// added, unless the application wrote its own Session-Expires.
pub(super) fn with_session_headers(
    mut spec: RequestSpec,
    config: &SessionTimerConfig,
    interval: u32,
    min_se: u32,
) -> RequestSpec {
    if has_header(&spec.headers, "Session-Expires") {
        return spec;
    }
    let value = match config.refresher {
        Some(r) => format!("{interval};refresher={}", refresher_str(r)),
        None => interval.to_string(),
    };
    spec.headers.push(("Session-Expires".into(), value));
    spec.headers.push(("Min-SE".into(), min_se.to_string()));
    spec
}

fn supports_timer(message: &SipMessage<'_>) -> bool {
    message
        .supported()
        .and_then(Result::ok)
        .is_some_and(|s| s.contains(OptionTag::Timer))
        || message
            .require()
            .and_then(Result::ok)
            .is_some_and(|s| s.contains(OptionTag::Timer))
}

fn min_se_of(message: &SipMessage<'_>) -> u32 {
    message
        .min_se()
        .and_then(Result::ok)
        .map_or(0, |m| m.delta_seconds)
}

impl UserAgent {
    /// The session timer of `dialog`, when one runs: the interval in
    /// seconds and whether this UA is the refresher.
    pub fn session_timer(&self, dialog: DialogId) -> Option<(u32, bool)> {
        let s = self.dialogs.get(&dialog)?.session.as_ref()?;
        Some((s.interval, s.local_refresher))
    }

    /// The Min-SE to answer with 422 when `request` (INVITE or UPDATE) asks
    /// for a session interval below ours (RFC 4028 §9).
    pub(super) fn session_too_brief(&self, request: &SipMessage<'_>) -> Option<u32> {
        let st = self.config.session_timer.as_ref()?;
        if !matches!(request.method(), Some("INVITE" | "UPDATE")) {
            return None;
        }
        let se = request.session_expires()?.ok()?;
        (se.delta_seconds < st.min_se).then_some(st.min_se.max(min_se_of(request)))
    }

    /// What the UAS answers to `request` in its 2xx, if a session timer
    /// applies (RFC 4028 §9): the request's interval, or ours when it has
    /// none and the UAC supports `timer`; its refresher, or ours when it
    /// names none (`uas` when the UAC does not support `timer`).
    pub(super) fn session_uas_answer(
        &self,
        request: &SipMessage<'_>,
        headers: &[(Cow<'static, str>, String)],
    ) -> Option<UasAnswer> {
        let st = self.config.session_timer.as_ref()?;
        if !matches!(request.method(), Some("INVITE" | "UPDATE"))
            || has_header(headers, "Session-Expires")
        {
            return None;
        }
        let supports = supports_timer(request);
        let asked = request.session_expires().and_then(Result::ok);
        let min_se = st.min_se.max(min_se_of(request));
        let interval = match &asked {
            Some(se) => se.delta_seconds,
            None if supports => st.session_expires.max(min_se),
            None => return None,
        };
        let refresher = if supports {
            asked
                .and_then(|se| se.refresher())
                .or(st.refresher)
                .unwrap_or(Refresher::Uac)
        } else {
            Refresher::Uas
        };
        Some(UasAnswer {
            interval,
            min_se,
            refresher,
            require: supports,
        })
    }

    /// Writes the Session-Expires (and Require) of a UAS answer.
    pub(super) fn session_answer_headers(answer: &UasAnswer) -> [(String, String); 2] {
        [
            (
                "Session-Expires".to_owned(),
                format!(
                    "{};refresher={}",
                    answer.interval,
                    refresher_str(answer.refresher)
                ),
            ),
            ("Require".to_owned(), "timer".to_owned()),
        ]
    }

    /// The UAS sent a 2xx carrying `answer` in `dialog`.
    pub(super) fn session_uas_started(
        &mut self,
        dialog: DialogId,
        answer: &UasAnswer,
        body: SessionBody,
        now: Instant,
    ) {
        let local = answer.refresher == Refresher::Uas;
        self.start_session(dialog, answer.interval, answer.min_se, local, body, now);
    }

    /// The UAC got a 2xx to an INVITE or UPDATE in `dialog` (RFC 4028
    /// §7.2): its Session-Expires sets the interval and the refresher
    /// (`uac`, or none named, is this UA); none turns the timer off.
    pub(super) fn session_uac_answer(
        &mut self,
        dialog: DialogId,
        response: &SipMessage<'_>,
        min_se: u32,
        body: SessionBody,
        now: Instant,
    ) {
        if self.config.session_timer.is_none() {
            return;
        }
        match response.session_expires().and_then(Result::ok) {
            Some(se) => {
                let local = se.refresher() != Some(Refresher::Uas);
                self.start_session(dialog, se.delta_seconds, min_se, local, body, now);
            }
            // A peer without `timer` answers refreshes without
            // Session-Expires: the timer goes on as it was (RFC 4028 §9's
            // `refresher=uas` for such a UAC: this UA keeps refreshing). A
            // peer with `timer` that leaves it out turns the timer off
            // (§7.2).
            None if !supports_timer(response) => {
                let current = self.dialogs.get(&dialog).and_then(|e| e.session.as_ref());
                let kept = current.map(|s| (s.interval, s.min_se, s.local_refresher));
                if let Some((interval, min, local)) = kept {
                    self.start_session(dialog, interval, min, local, body, now);
                }
            }
            None => {
                if let Some(e) = self.dialogs.get_mut(&dialog) {
                    e.session = None;
                }
            }
        }
    }

    fn start_session(
        &mut self,
        dialog: DialogId,
        interval: u32,
        min_se: u32,
        local_refresher: bool,
        body: SessionBody,
        now: Instant,
    ) {
        let Some(entry) = self.dialogs.get_mut(&dialog) else {
            return;
        };
        let interval = interval.max(1);
        let (at, kind) = if local_refresher {
            (
                now + Duration::from_secs(u64::from(interval / 2)),
                SessionDeadline::Refresh,
            )
        } else {
            (now + expiry_after(interval), SessionDeadline::Expiry)
        };
        let refreshed = entry.session.is_some();
        let min_se = min_se.max(entry.session.as_ref().map_or(0, |s| s.min_se));
        entry.session = Some(SessionTimer {
            interval,
            min_se,
            local_refresher,
            deadline: Some((at, kind)),
            refresh_tx: None,
        });
        // The timer's fields change no size; a new session body does.
        if let Some(body) = body {
            entry.session_body = Some(Box::new(body));
            self.recount_dialog(dialog);
        }
        let reason = match kind {
            SessionDeadline::Refresh => DeadlineReason::SessionRefresh { dialog },
            SessionDeadline::Expiry => DeadlineReason::SessionExpiry { dialog },
        };
        self.schedule(at, reason);
        let event = if refreshed {
            Event::SessionRefreshed {
                dialog,
                interval,
                local_refresher,
            }
        } else {
            Event::SessionTimerStarted {
                dialog,
                interval,
                local_refresher,
            }
        };
        self.event(event);
    }

    /// Whether the session deadline `kind` at `at` of `dialog` is live.
    pub(super) fn session_deadline_live(
        &self,
        dialog: DialogId,
        at: Instant,
        kind: SessionDeadline,
    ) -> bool {
        self.dialogs
            .get(&dialog)
            .and_then(|e| e.session.as_ref())
            .is_some_and(|s| s.deadline == Some((at, kind)))
    }

    /// Half the interval passed: this UA refreshes (RFC 4028 §7.4).
    pub(super) fn on_session_refresh(&mut self, dialog: DialogId, now: Instant) {
        let Some(interval) = self
            .dialogs
            .get(&dialog)
            .and_then(|e| e.session.as_ref())
            .map(|s| s.interval)
        else {
            return;
        };
        self.send_refresh(dialog, interval, now);
    }

    fn send_refresh(&mut self, dialog: DialogId, interval: u32, now: Instant) {
        let Some(method) = self.config.session_timer.map(|s| s.refresh_method) else {
            return;
        };
        let mut supported = Vec::new();
        self.config.capabilities.supported.write(&mut supported);
        let Some(entry) = self.dialogs.get_mut(&dialog) else {
            return;
        };
        let Some(session) = entry.session.as_mut() else {
            return;
        };
        session.deadline = None;
        let min_se = session.min_se;
        let mut spec = DialogRequestSpec::new(match method {
            RefreshMethod::Invite => Method::Invite,
            RefreshMethod::Update => Method::Update,
        })
        .with_header("Session-Expires", format!("{interval};refresher=uac"))
        .with_header("Min-SE", min_se.to_string());
        // The peer must see `timer` supported, or it names itself refresher.
        spec = spec.with_header(
            "Supported",
            String::from_utf8_lossy(&supported).into_owned(),
        );
        if let (RefreshMethod::Invite, Some((ct, body))) = (method, entry.session_body.as_deref()) {
            spec = spec.with_body(ct, body.clone());
        }
        match self.request_in_dialog(dialog, &spec, now) {
            Ok(tx) => {
                if let Some(s) = self
                    .dialogs
                    .get_mut(&dialog)
                    .and_then(|e| e.session.as_mut())
                {
                    s.refresh_tx = Some(tx);
                    s.interval = interval;
                }
            }
            Err(_) => self.end_session(dialog, TerminationReason::SessionRefreshFailed(503), now),
        }
    }

    /// The session expired without refresh: BYE (RFC 4028 §10).
    pub(super) fn on_session_expiry(&mut self, dialog: DialogId, now: Instant) {
        self.event(Event::SessionExpired { dialog });
        self.end_session(dialog, TerminationReason::SessionExpired, now);
    }

    /// Ends the session of `dialog` with a BYE, reporting `reason` when it
    /// completes.
    fn end_session(&mut self, dialog: DialogId, reason: TerminationReason, now: Instant) {
        let Some(entry) = self.dialogs.get_mut(&dialog) else {
            return;
        };
        entry.session = None;
        entry.bye_reason = Some(reason);
        let bye = DialogRequestSpec::new(Method::Bye);
        if self.request_in_dialog(dialog, &bye, now).is_err() {
            self.remove_dialog(dialog, reason);
        }
    }

    /// The refresh of `dialog` sent as `tx`, if `tx` is one.
    pub(super) fn is_session_refresh(&self, dialog: DialogId, tx: ClientTxId) -> bool {
        self.dialogs
            .get(&dialog)
            .and_then(|e| e.session.as_ref())
            .is_some_and(|s| s.refresh_tx == Some(tx))
    }

    /// A final non-2xx answer (or a timeout, as 408) to this UA's refresh:
    /// 422 retries at the peer's Min-SE; anything else ends the session
    /// with a BYE (RFC 4028 §10).
    pub(super) fn on_refresh_failed(
        &mut self,
        dialog: DialogId,
        code: u16,
        response: Option<&SipMessage<'_>>,
        now: Instant,
    ) {
        if code == 422 {
            let floor = response.map_or(0, min_se_of);
            let current = self
                .dialogs
                .get(&dialog)
                .and_then(|e| e.session.as_ref())
                .map_or(0, |s| s.interval);
            if floor > current {
                if let Some(s) = self
                    .dialogs
                    .get_mut(&dialog)
                    .and_then(|e| e.session.as_mut())
                {
                    s.min_se = s.min_se.max(floor);
                }
                return self.send_refresh(dialog, floor, now);
            }
        }
        self.end_session(dialog, TerminationReason::SessionRefreshFailed(code), now);
    }

    /// The INVITE `previous` got 422: sends it again with Session-Expires
    /// and Min-SE raised to the 422's Min-SE, same Call-ID and From tag,
    /// next CSeq (RFC 4028 §7.4). A 422 that raises nothing stands.
    pub(super) fn retry_invite(
        &mut self,
        previous: ClientTxId,
        key: &InviteSetKey,
        response: &SipMessage<'_>,
        now: Instant,
    ) {
        let Some(st) = self.config.session_timer else {
            return;
        };
        let floor = min_se_of(response);
        let Some(set) = self.invite_sets.get(key) else {
            return;
        };
        let Some((spec, asked, _)) = set.session.clone() else {
            return;
        };
        if floor <= asked || set.tx != Some(previous) || self.check_client_room().is_err() {
            return;
        }
        let Some(seq) = set.seq.checked_add(1) else {
            return;
        };
        let branch = outgoing::new_branch(&mut self.rng);
        let sent = with_session_headers(spec.clone(), &st, floor, floor);
        let Ok(request) = outgoing::request(
            &self.config,
            &self.allow_text,
            &sent,
            (&branch, key.local_tag(), key.call_id()),
            seq,
        ) else {
            return;
        };
        // The first INVITE was routed, so its retry (same target and
        // Route) is too.
        let Ok((request, hop)) = self.route(request, false) else {
            return;
        };
        let retry = self.start_client(
            (request.clone(), hop),
            branch,
            None,
            Some(key.clone()),
            false,
            now,
        );
        if let Some(set) = self.invite_sets.get_mut(key) {
            set.request = request;
            set.seq = seq;
            set.tx = Some(retry);
            set.session = Some((spec, floor, floor));
        }
        self.recount_invite_set(key);
        self.event(Event::InviteRetried {
            previous,
            retry,
            session_expires: floor,
        });
    }

    /// Answers server transaction `id` with `status` and one header field
    /// (422 with Min-SE, 423 with Min-Expires), outside the application and
    /// without dialog effects.
    pub(super) fn reject_too_brief(
        &mut self,
        id: ServerTxId,
        status: u16,
        header: (&str, u32),
        now: Instant,
    ) {
        let Some(entry) = self.servers.get_mut(&id) else {
            return;
        };
        let reason = crate::transaction::reason_phrase(status);
        let mut w = entry.tx.response(status, reason, Some(&entry.to_tag));
        w.header(header.0, &header.1.to_string());
        let bytes = w.finish(b"");
        // The transaction was just created: it has sent no final response.
        let _ = entry.tx.respond(bytes, now);
        self.drive_server(id);
    }
}

#[cfg(test)]
mod tests {
    use super::expiry_after;

    #[test]
    fn expiry_margin_is_the_smaller_of_32_s_and_a_third() {
        assert_eq!(expiry_after(1800).as_secs(), 1768);
        assert_eq!(expiry_after(90).as_secs(), 60);
        assert_eq!(expiry_after(96).as_secs(), 64);
        assert_eq!(expiry_after(1).as_secs(), 1);
    }
}
