//! An initial INVITE: 11.1 (unknown URI), 7.2.1.2 steps 1 to 6 (ad-hoc and
//! pre-defined group setup), and joins (rejoin to an IM Session Identity,
//! public conferences, a pre-defined group's running session).

use std::borrow::Cow;
use std::time::Instant;

use crate::body::multipart::{find_sdp, find_sdp_and_resource_lists};
use crate::body::resource_lists::ResourceLists;
use crate::body::xml::{XmlErrorKind, XmlLimits};
use crate::dialog::{RequestSpec, ResponseSpec, ServerTxId};
use crate::msrp::switch::{MsrpSwitch, SwitchConfig};
use crate::sdp::offer_answer::{answer, offer, LocalParameters};
use crate::sdp::{AcceptTypes, MsrpTransport, SessionDescription, SetupRole};
use crate::sip::{HeaderName, Method, PrivValue, SipMessage};
use crate::transaction::OwnedMessage;

use crate::im::trust::{originator, Originator};

use super::config::{AuthorizationPolicy, GroupAccess, SessionAccess};
use super::headers::{focus_contact, uri_key, TOO_MANY_PARTICIPANTS};
use super::session::{ImSession, Kind, Leg, SessionNames, State};
use super::{
    AuthorizationId, EndReason, Event, ImServer, ParticipantId, PendingSetup, ServerConfig,
    SessionId,
};

/// What an INVITE's Request-URI names.
pub(super) enum Target {
    Factory(String),
    Group(usize),
    Session(SessionId),
    Public(String),
}

/// What the server reads from an INVITE it accepts.
struct Joiner {
    address: String,
    verified: bool,
    call_id: String,
    allow: Option<String>,
    anonymous: bool,
    /// Its SDP offer, read once; `None` when the body is not one.
    offer: Option<Box<HeldOffer>>,
    interval: u32,
}

/// An SDP offer, parsed once when its INVITE arrives and kept, owned,
/// until the server answers it: the check against operator policy and the
/// answer read the same description.
#[derive(Debug, Clone)]
pub(crate) struct HeldOffer {
    pub(crate) sdp: SessionDescription<'static>,
    /// The octets of its text: about what its owned fields hold.
    pub(crate) len: usize,
}

impl HeldOffer {
    /// `offer`, parsed under `limits`; `None` when it is not SDP.
    fn read(offer: &[u8], limits: &super::Limits) -> Option<Box<HeldOffer>> {
        let sdp = SessionDescription::parse_with_limits(offer, &limits.layers.sdp).ok()?;
        Some(Box::new(HeldOffer {
            sdp: sdp.into_owned(),
            len: offer.len(),
        }))
    }

    /// The direction of its MSRP media.
    fn direction(&self) -> Option<crate::sdp::Direction> {
        let (_, media) = self.sdp.msrp_media()?;
        Some(self.sdp.media_direction(media))
    }

    /// What holding it costs, as the session budget counts it.
    pub(crate) fn held_bytes(&self) -> usize {
        std::mem::size_of::<HeldOffer>() + 2 * self.len
    }
}

impl ImServer {
    /// An INVITE (or a Pager Mode MESSAGE) outside any dialog. Every path in — a set-up through a
    /// Conference-factory-URI or an IM Group Identity, a join to a running
    /// group, public conference or IM Session Identity — runs the same
    /// checks: the access rules of the [`AccessPolicy`](super::AccessPolicy)
    /// (membership, the group's anonymity rule), then the
    /// [`AuthorizationPolicy`] (7.2.1.2 step 2). A recording leg (an
    /// `a=recvonly` offer to an IM Session Identity) is admitted by the
    /// [`RecordingPolicy`](super::RecordingPolicy) instead.
    pub(super) fn on_initial_invite(
        &mut self,
        transaction: ServerTxId,
        request: OwnedMessage,
        now: Instant,
    ) {
        let msg = request.message();
        let Some(target) = self.target_of(&msg) else {
            // 11.1: the Conference-factory-URI (or any URI) is not allocated.
            return self.reject(transaction, 404, None, now);
        };
        let Some(who) = originator(&msg, self.input_trusted) else {
            return self.reject(transaction, 400, None, now);
        };
        if let Target::Session(session) = target {
            let offer = self.read_offer(&msg);
            if is_recv_only(offer.as_deref()) {
                return self.join(session, transaction, &msg, &who, offer, now);
            }
        }
        if let Err(code) = self.admission(&target, &who, &msg) {
            return self.reject(transaction, code, None, now);
        }
        drop(msg);
        self.authorize(transaction, request, who, now);
    }

    pub(super) fn target_of(&self, msg: &SipMessage<'_>) -> Option<Target> {
        let key = uri_key(msg.request_line()?.uri);
        if let Some(uri) = self.factories.get(&key) {
            return Some(Target::Factory(uri.clone()));
        }
        if let Some(&index) = self.groups.get(&key) {
            return Some(Target::Group(index));
        }
        if let Some(uri) = self.publics.get(&key) {
            return Some(Target::Public(uri.clone()));
        }
        let (user, host) = key.split_once('@')?;
        if host.eq_ignore_ascii_case(&self.config.domain) {
            return self.session_by_token(user).map(Target::Session);
        }
        None
    }

    /// The pre-defined group a session belongs to, if any.
    fn group_of(&self, session: SessionId) -> Option<usize> {
        let s = self.sessions.get(&session)?;
        self.groups.get(&uri_key(s.names.hosted_by())).copied()
    }

    /// The access rules of the [`AccessPolicy`](super::AccessPolicy) for
    /// `who` at `target`: `Err(403)` when they refuse.
    fn admission(
        &self,
        target: &Target,
        who: &Originator,
        msg: &SipMessage<'_>,
    ) -> Result<(), u16> {
        let anonymous = msg
            .privacy()
            .and_then(Result::ok)
            .is_some_and(|p| p.contains(PrivValue::Id));
        let me = uri_key(&who.address);
        let group_rules = |index: usize| {
            let group = &self.config.groups[index];
            let member = group.members.iter().any(|m| uri_key(m) == me);
            if self.config.access.groups == GroupAccess::MembersOnly && !member {
                return Err(403);
            }
            // 9.1.1.1 NOTE: the group's rules on anonymity, at set-up and
            // on every join.
            if anonymous && !group.allow_anonymity {
                return Err(403);
            }
            Ok(())
        };
        match target {
            Target::Factory(_) | Target::Public(_) => Ok(()),
            Target::Group(index) => group_rules(*index),
            Target::Session(session) => {
                if let Some(index) = self.group_of(*session) {
                    return group_rules(index);
                }
                let Some(s) = self.sessions.get(session) else {
                    return Err(404);
                };
                let ad_hoc = self.factories.contains_key(&uri_key(s.names.hosted_by()));
                if !ad_hoc || self.config.access.ad_hoc_sessions == SessionAccess::Anyone {
                    return Ok(());
                }
                // The inviter, the invitees and the joiners, present or
                // gone; not a recording leg's initiator.
                let known = s
                    .participants
                    .iter()
                    .any(|p| !p.recorder && uri_key(&p.address) == me);
                if known {
                    Ok(())
                } else {
                    Err(403)
                }
            }
        }
    }

    /// 7.2.1.2 step 2: the Authenticated Originator's IM Address is
    /// authorized by policy, or the application is asked; for a set-up and
    /// for every join alike.
    fn authorize(
        &mut self,
        transaction: ServerTxId,
        request: OwnedMessage,
        who: Originator,
        now: Instant,
    ) {
        let target = request
            .message()
            .request_line()
            .map(|l| l.uri.to_owned())
            .unwrap_or_default();
        match &self.config.authorization {
            AuthorizationPolicy::AllowAll => self.admit(transaction, request, who, now),
            AuthorizationPolicy::AllowList(list) => {
                let key = uri_key(&who.address);
                if list.iter().any(|a| uri_key(a) == key) {
                    self.admit(transaction, request, who, now);
                } else {
                    self.reject(transaction, 403, None, now);
                }
            }
            AuthorizationPolicy::Ask => {
                if self.pending_auth.len() >= self.config.limits.max_pending_authorizations {
                    return self.reject(transaction, 503, None, now);
                }
                let id = AuthorizationId(self.fresh_id());
                let (originator, verified) = (who.address.clone(), who.verified);
                self.pending_auth.insert(
                    id,
                    PendingSetup {
                        transaction,
                        request,
                        originator: who,
                    },
                );
                self.event(Event::AuthorizationRequested {
                    request: id,
                    originator,
                    verified,
                    target,
                });
            }
        }
    }

    /// An authorized INVITE: 7.2.1.2 steps 3 to 6 for a set-up, or the
    /// join of a running session. The target and the access rules are
    /// looked at again: the application may have taken its time to answer.
    pub(super) fn admit(
        &mut self,
        transaction: ServerTxId,
        request: OwnedMessage,
        who: Originator,
        now: Instant,
    ) {
        let msg = request.message();
        let Some(target) = self.target_of(&msg) else {
            return self.reject(transaction, 404, None, now);
        };
        if let Err(code) = self.admission(&target, &who, &msg) {
            return self.reject(transaction, code, None, now);
        }
        if msg.method() == Some("MESSAGE") {
            return self.pager_admitted(transaction, &msg, &who, target, now);
        }
        match target {
            Target::Factory(uri) => self.set_up(transaction, &msg, &who, Kind::AdHoc, uri, now),
            Target::Group(index) => {
                let identity = self.config.groups[index].identity.clone();
                match self.hosted_sessions.get(&uri_key(&identity)).copied() {
                    Some(session) => {
                        self.join(session, transaction, &msg, &who, self.read_offer(&msg), now)
                    }
                    None => self.set_up(transaction, &msg, &who, Kind::Group, identity, now),
                }
            }
            Target::Session(session) => {
                self.join(session, transaction, &msg, &who, self.read_offer(&msg), now)
            }
            Target::Public(uri) => match self.hosted_sessions.get(&uri_key(&uri)).copied() {
                Some(session) => {
                    self.join(session, transaction, &msg, &who, self.read_offer(&msg), now)
                }
                None => match self.create_session(Kind::Public, &uri) {
                    Some(session) => {
                        self.join(session, transaction, &msg, &who, self.read_offer(&msg), now)
                    }
                    None => self.reject(transaction, 503, None, now),
                },
            },
        }
    }

    /// 7.2.1.2 steps 3 to 6: a new ad-hoc or pre-defined group session.
    fn set_up(
        &mut self,
        transaction: ServerTxId,
        msg: &SipMessage<'_>,
        who: &Originator,
        kind: Kind,
        hosted_by: String,
        now: Instant,
    ) {
        // At the session cap, or without room for the request's bytes, the
        // answer is 503 whatever the request holds: refused before its
        // bodies are read.
        if self.sessions.len() >= self.config.limits.max_sessions || !self.session_room(msg.size())
        {
            return self.reject(transaction, 503, None, now);
        }
        let group = match kind {
            Kind::Group => self.groups.get(&uri_key(&hosted_by)).copied(),
            _ => None,
        };
        // The offer and the URI list, from one reading of the body.
        let (offer, list) = bodies_of(msg, &self.config.limits);
        let offer = HeldOffer::read(offer, &self.config.limits);
        let Some(inviter) = self.joiner(msg, who, offer) else {
            return self.reject(transaction, 400, None, now);
        };
        // Step 3: the IM Session and its IM Session Identity.
        let Some(session) = self.create_session(kind, &hosted_by) else {
            return self.reject(transaction, 503, None, now);
        };
        // Step 4: the SDP offer against operator policy (RFC 3264: 488),
        // parsed once.
        let Some(direction) = self.offer_allowed(inviter.offer.as_deref()) else {
            self.drop_session(session, EndReason::Rejected(488), now);
            return self.reject(transaction, 488, None, now);
        };
        // Large Message mode to several recipients (9.x): a `sendonly` offer.
        let large_message = direction == crate::sdp::Direction::SendOnly;
        if let Some(s) = self.sessions.get_mut(&session) {
            s.large_message = large_message;
        }
        // Step 5: the invitees, at most the Participant maximum.
        let invitees = match group {
            Some(index) => {
                let me = uri_key(&inviter.address);
                let members: Vec<String> = self.config.groups[index]
                    .members
                    .iter()
                    .filter(|m| uri_key(m) != me)
                    .cloned()
                    .collect();
                if members.len() >= self.config.limits.max_participants {
                    Err(486)
                } else {
                    Ok(members)
                }
            }
            None => self.invitees_of(list, &inviter.address),
        };
        let invitees = match invitees {
            Ok(list) => list,
            Err(code) => {
                self.drop_session(session, EndReason::Rejected(code), now);
                let warning = (code == 486).then_some(TOO_MANY_PARTICIPANTS);
                return self.reject(transaction, code, warning, now);
            }
        };
        let inviter_id = self.add_joiner(session, transaction, inviter);
        if let Some(s) = self.sessions.get_mut(&session) {
            s.inviter = Some(inviter_id);
        }
        // Step 6: invite every listed user (7.2.2.2).
        for uri in invitees {
            self.invite(session, &uri, now);
        }
        if self.config.early_answer {
            self.accept_joiner(session, inviter_id, None, now);
        }
        self.check_invitees(session, now);
    }

    /// The SDP offer of an INVITE, read once.
    fn read_offer(&self, msg: &SipMessage<'_>) -> Option<Box<HeldOffer>> {
        HeldOffer::read(offer_of(msg, &self.config.limits), &self.config.limits)
    }

    /// Reads the inviter's or joiner's INVITE, whose SDP offer is `offer`.
    fn joiner(
        &self,
        msg: &SipMessage<'_>,
        who: &Originator,
        offer: Option<Box<HeldOffer>>,
    ) -> Option<Joiner> {
        if msg.body().len() > self.config.limits.max_body {
            return None;
        }
        let requested = msg
            .session_expires()
            .and_then(Result::ok)
            .map(|se| se.delta_seconds);
        let interval = requested
            .map_or(self.config.session_expires, |r| {
                r.min(self.config.session_expires)
            })
            .max(self.config.min_se);
        Some(Joiner {
            address: who.address.clone(),
            verified: who.verified,
            call_id: msg.call_id()?.ok()?.id.to_owned(),
            allow: msg
                .header(crate::sip::HeaderName::Allow)
                .map(|a| a.value.to_owned()),
            anonymous: msg
                .privacy()
                .and_then(Result::ok)
                .is_some_and(|p| p.contains(PrivValue::Id)),
            offer,
            interval,
        })
    }

    /// 7.2.1.2 step 4: an MSRP line over TCP whose accept-types meet the
    /// types operator policy allows.
    /// Whether an SDP offer is one the server takes (MSRP over TCP, a
    /// content type in common), and then the direction of its MSRP media.
    fn offer_allowed(&self, offer: Option<&HeldOffer>) -> Option<crate::sdp::Direction> {
        let sdp = &offer?.sdp;
        let (_, media) = sdp.msrp_media()?;
        let allowed = self.allowed_types();
        let takes = media.msrp_transport() == Some(MsrpTransport::Tcp)
            && media
                .accept_types()
                .is_some_and(|t| !t.intersection(&allowed).is_empty());
        takes.then(|| sdp.media_direction(media))
    }

    fn allowed_types(&self) -> AcceptTypes<'_> {
        self.config
            .allowed_accept_types
            .iter()
            .map(|t| Cow::Borrowed(t.as_str()))
            .collect()
    }

    /// 7.2.1.2 step 5: the URI list (the INVITE's `list`), deduplicated,
    /// without the inviter; `Err(486)` over the maximum, `Err(400)` without
    /// a readable list.
    fn invitees_of(&self, list: Option<&[u8]>, inviter: &str) -> Result<Vec<String>, u16> {
        let layers = &self.config.limits.layers;
        let list = list.ok_or(400u16)?;
        let max = self.config.limits.max_adhoc_participants;
        let limits = XmlLimits {
            // The inviter is a Participant too; one entry more than the
            // room left is enough to know the list is too long.
            max_list_entries: max,
            ..layers.xml
        };
        let lists = ResourceLists::parse(list, &limits).map_err(|e| match e.kind {
            XmlErrorKind::TooManyEntries { .. } => 486u16,
            _ => 400,
        })?;
        let me = uri_key(inviter);
        // A set: linear in the list however large the configured maximum.
        let mut keys: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut uris = Vec::new();
        for entry in lists.entries() {
            let key = uri_key(&entry.uri);
            if key != me && keys.insert(key) {
                uris.push(entry.uri.to_string());
            }
        }
        if uris.is_empty() {
            return Err(400);
        }
        if uris.len().saturating_add(1) > max {
            return Err(486);
        }
        Ok(uris)
    }

    /// A new session named `sip:<token>@<domain>`, hosted by `hosted_by`.
    fn create_session(&mut self, kind: Kind, hosted_by: &str) -> Option<SessionId> {
        if self.sessions.len() >= self.config.limits.max_sessions {
            return None;
        }
        let id = self.sessions.vacant_id()?;
        let token = loop {
            let t = self.rng.token(16);
            if self.session_by_token(&t).is_none() {
                break t;
            }
        };
        let switch = MsrpSwitch::new(SwitchConfig {
            rng_seed: self.rng.fork_seed(),
            limits: self.config.limits.layers.switch_limits(),
            ..SwitchConfig::default()
        });
        if kind != Kind::AdHoc {
            self.hosted_sessions.insert(uri_key(hosted_by), id);
        }
        let sessions = &self.sessions;
        self.by_token.insert(&token, id, |s, t| {
            sessions.get(&s).is_some_and(|s| s.names.token() == t)
        });
        let host = self.hosts.number(hosted_by);
        let names = SessionNames::new(&token, &self.config.domain, hosted_by);
        let identity = names.identity().to_owned();
        let stored = self.sessions.insert(ImSession {
            names,
            participants: smallvec::SmallVec::new(),
            next_participant: 0,
            host,
            inviter: None,
            ringing_sent: false,
            final_sent: false,
            ok_sent: false,
            lowest_failure: None,
            switch,
            switch_deadline: None,
            msrp_charged: 0,
            large_message: false,
            large_message_relayed: false,
            deferred_answer: None,
            subscribers: Vec::new(),
            dirty: false,
            counted: 0,
        });
        debug_assert_eq!(stored, Some(id), "the id is the table's next key");
        self.event(Event::SessionCreated {
            session: id,
            identity,
        });
        Some(id)
    }

    /// Adds the inviter or a joiner, waiting for its answer.
    fn add_joiner(
        &mut self,
        session: SessionId,
        transaction: ServerTxId,
        j: Joiner,
    ) -> ParticipantId {
        let token = self.leg_token();
        let Some(s) = self.sessions.get_mut(&session) else {
            return ParticipantId(0);
        };
        let id = s.add(
            j.address,
            State::Answering(transaction),
            self.config.limits.max_participants,
        );
        if let Some(p) = s.participant_mut(id) {
            p.call_id = Some(j.call_id.clone());
            p.allow = j.allow;
            p.anonymous = j.anonymous;
            p.verified = j.verified;
            p.offer = j.offer;
            p.interval = Some(j.interval);
            p.leg = Some(Leg {
                token: token.as_str().into(),
                connection: None,
                early: Vec::new(),
            });
        }
        let sessions = &self.sessions;
        self.by_leg_token.insert(&token, (session, id), |sp, t| {
            super::has_leg_token(sessions, sp, t)
        });
        self.by_call_id.insert(&j.call_id, session, |s, c| {
            super::has_call_id(sessions, s, c)
        });
        self.by_server_tx.insert(transaction, (session, id));
        id
    }

    fn leg_token(&mut self) -> String {
        loop {
            let t = self.rng.token(20);
            if self.leg_by_token(&t).is_none() {
                return t;
            }
        }
    }

    /// The server's MSRP URI for a leg.
    pub(super) fn leg_uri(&self, token: &str) -> String {
        Self::leg_uri_of(&self.config, token)
    }

    /// [`leg_uri`](Self::leg_uri) with the configuration borrowed apart
    /// from the rest of the server.
    pub(super) fn leg_uri_of(config: &ServerConfig, token: &str) -> String {
        ["msrp://", &config.msrp_authority, "/", token, ";tcp"].concat()
    }

    /// The server's SDP parameters on a leg.
    fn local_parameters<'a>(
        config: &'a ServerConfig,
        session_id: u64,
        path: &'a str,
    ) -> LocalParameters<'a> {
        let (host, port) = config
            .msrp_authority
            .rsplit_once(':')
            .unwrap_or((config.msrp_authority.as_str(), "2855"));
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let mut local =
            LocalParameters::new(session_id, 1, host, port.parse().unwrap_or(2855), path);
        local.accept_types = config
            .allowed_accept_types
            .iter()
            .map(|t| Cow::Borrowed(t.as_str()))
            .collect();
        local.setup = SetupRole::Passive;
        local
    }

    /// The server's SDP offer to an invitee (its answer to the invitee's
    /// refreshes too): made again from its numbers when needed rather than
    /// kept.
    pub(super) fn with_invitee_offer<R>(
        config: &ServerConfig,
        sdp_id: u64,
        leg_uri: &str,
        large_message: bool,
        then: impl FnOnce(&SessionDescription<'_>) -> R,
    ) -> R {
        let mut local = Self::local_parameters(config, sdp_id, leg_uri);
        local.setup = SetupRole::ActPass;
        if large_message {
            // The server only delivers the Large Message to the invitee.
            local.direction = crate::sdp::Direction::SendOnly;
        }
        let description = offer(&local);
        then(&description)
    }

    /// 7.2.2.2: an INVITE from the server to one invitee, on the
    /// inviter's behalf.
    fn invite(&mut self, session: SessionId, uri: &str, now: Instant) {
        let inviter = self.sessions.get(&session).and_then(|s| {
            s.inviter
                .and_then(|i| s.participant(i))
                .map(|p| (p.address.clone(), p.anonymous))
        });
        self.invite_as(session, uri, inviter, None, now);
    }

    /// An INVITE from the server to one invitee, naming `referred_by` (the
    /// IM Address and whether it asked for anonymity) in `Referred-By`;
    /// the outcome goes to `referral`, if any (RFC 4579 §5.5). The
    /// invitee is `pending` in the roster and is CANCELled after
    /// [`ServerConfig::invitation_timeout`] unless it answers.
    pub(super) fn invite_as(
        &mut self,
        session: SessionId,
        uri: &str,
        referred_by: Option<(String, bool)>,
        referral: Option<super::session::Referral>,
        now: Instant,
    ) -> Option<ParticipantId> {
        let token = self.leg_token();
        let leg_uri = self.leg_uri(&token);
        let max_gone = self.config.limits.max_participants;
        let s = self.sessions.get_mut(&session)?;
        let inviter = referred_by;
        let originator = s.names.hosted_by().to_owned();
        let contact = focus_contact(s.names.identity());
        let pid = s.add(uri.to_owned(), State::Failed, max_gone);
        let large_message = s.large_message;
        let sessions = &self.sessions;
        self.by_leg_token.insert(&token, (session, pid), |sp, t| {
            super::has_leg_token(sessions, sp, t)
        });
        let sdp_id = self.rng.next_u64() >> 1;
        let body = Self::with_invitee_offer(&self.config, sdp_id, &leg_uri, large_message, |o| {
            o.to_bytes()
        });
        let mut spec = RequestSpec::new(
            Method::Invite,
            uri,
            ["<", &originator, ">"].concat(),
            ["<", uri, ">"].concat(),
        )
        .with_contact(&contact)
        .with_header("Accept-Contact", "*;+g.oma.sip-im")
        .with_header("User-Agent", &self.release)
        .with_header("P-Asserted-Identity", ["<", &originator, ">"].concat());
        if let Some((address, anonymous)) = inviter {
            // RFC 3892 / RFC 5366: the inviter, unless it asked for anonymity.
            if !anonymous {
                spec = spec.with_header("Referred-By", ["<", &address, ">"].concat());
            }
        }
        let spec = spec
            .with_header(
                "Session-Expires",
                format!("{};refresher=uas", self.config.session_expires),
            )
            .with_body("application/sdp", body);
        let sent = self.ua.send_request(spec, now);
        // The Call-ID the invitee's dialog will be found by.
        let call_id = sent.as_ref().ok().and_then(|tx| {
            let request = self.ua.client_request(*tx)?;
            Some(request.header_value(HeaderName::CallId)?.to_owned())
        });
        if let Some(c) = &call_id {
            let sessions = &self.sessions;
            self.by_call_id
                .insert(c, session, |s, c| super::has_call_id(sessions, s, c));
        }
        self.collect();
        let deadline = now + self.config.invitation_timeout;
        let p = self
            .sessions
            .get_mut(&session)
            .and_then(|s| s.participant_mut(pid))?;
        p.sdp_id = sdp_id;
        p.invited = true;
        p.call_id = call_id;
        p.referral = referral.map(Box::new);
        p.leg = Some(Leg {
            token: token.into(),
            connection: None,
            early: Vec::new(),
        });
        let code = match sent {
            Ok(tx) => {
                p.state = State::Inviting(tx);
                p.invite_deadline = Some(deadline);
                self.by_client_tx.insert(tx, (session, pid));
                self.schedule(deadline, super::Timer::Invitation(session, pid));
                self.notify_change(session, pid, now);
                return Some(pid);
            }
            // No address for the invitee's next hop (a host name without
            // an outbound proxy): as a transport failure (RFC 3261
            // §8.1.3.1).
            Err(crate::dialog::UaError::Unroutable(_)) => 503,
            // A URI the server cannot even write an INVITE to.
            Err(_) => 400,
        };
        let reason = format!("{code} {}", crate::transaction::reason_phrase(code));
        self.invitation_over(
            session,
            pid,
            super::InvitationFailure::Status(code),
            (
                crate::body::conference_info::DisconnectionMethod::Failed,
                reason,
            ),
            code,
            now,
        );
        self.note_failure(session, code);
        Some(pid)
    }

    /// A join: rejoin to an IM Session Identity, a public conference, a
    /// pre-defined group's running session, or a recording leg. Answered at
    /// once.
    fn join(
        &mut self,
        session: SessionId,
        transaction: ServerTxId,
        msg: &SipMessage<'_>,
        who: &Originator,
        offer: Option<Box<HeldOffer>>,
        now: Instant,
    ) {
        let Some(joiner) = self.joiner(msg, who, offer) else {
            return self.reject(transaction, 400, None, now);
        };
        // 13.3.1.2: an `a=recvonly` offer is a recording leg (the IM
        // History Function), admitted by the recording policy: the From
        // names the initiator of the recording, believed only from the
        // trust domain (a P-Asserted-Identity, if any, is the History
        // Function's own).
        let recorder = is_recv_only(joiner.offer.as_deref());
        if recorder {
            let initiator = msg
                .from()
                .and_then(Result::ok)
                .map(|f| f.uri.to_string())
                .unwrap_or_default();
            // The From is believed when the INVITE came from the trust
            // domain (the History Function, or the core it sends through).
            let trusted = self.input_trusted
                || who.verified
                || !self.config.access.recording_needs_verified_identity;
            if !trusted || !self.may_record(session, &initiator) {
                return self.reject(transaction, 403, None, now);
            }
        }
        let full = self
            .sessions
            .get(&session)
            .is_none_or(|s| s.alive() >= self.config.limits.max_participants);
        if full {
            return self.reject(transaction, 486, Some(TOO_MANY_PARTICIPANTS), now);
        }
        if !self.session_room(msg.size()) {
            return self.reject(transaction, 503, None, now);
        }
        if self.offer_allowed(joiner.offer.as_deref()).is_none() {
            self.reject(transaction, 488, None, now);
            return self.end_if_empty(session, now);
        }
        // A user who joins again (a rejoin after losing connectivity)
        // replaces its old leg: one roster entry, the old dialog ended.
        let key = uri_key(&joiner.address);
        let old: Vec<ParticipantId> = self
            .sessions
            .get(&session)
            .map(|s| {
                s.participants
                    .iter()
                    .filter(|p| {
                        !recorder
                            && !p.recorder
                            && p.state == State::Joined
                            && uri_key(&p.address) == key
                    })
                    .map(|p| p.id)
                    .collect()
            })
            .unwrap_or_default();
        let id = self.add_joiner(session, transaction, joiner);
        if let Some(p) = self
            .sessions
            .get_mut(&session)
            .and_then(|s| s.participant_mut(id))
        {
            p.recorder = recorder;
        }
        for participant in old {
            self.remove_participant(session, participant, super::LeaveReason::Replaced, now);
        }
        self.accept_joiner(session, id, None, now);
    }

    /// Whether `initiator` may have `session` recorded under the
    /// [`RecordingPolicy`](super::RecordingPolicy).
    fn may_record(&self, session: SessionId, initiator: &str) -> bool {
        match self.config.recording {
            super::RecordingPolicy::Anyone => true,
            super::RecordingPolicy::Refuse => false,
            super::RecordingPolicy::Participants => {
                let key = uri_key(initiator);
                self.sessions.get(&session).is_some_and(|s| {
                    s.participants
                        .iter()
                        .any(|p| p.is_alive() && !p.recorder && uri_key(&p.address) == key)
                })
            }
        }
    }

    /// The 200 to an inviter or joiner (7.2.1.1) with the SDP answer: built
    /// from its offer and `invitee_answer` (7.2.1.2 step 2) when given, else
    /// from its offer alone.
    pub(super) fn accept_joiner(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        invitee_answer: Option<&SessionDescription<'_>>,
        now: Instant,
    ) {
        let Some(p) = self
            .sessions
            .get(&session)
            .and_then(|s| s.participant(participant))
        else {
            return;
        };
        let State::Answering(transaction) = p.state else {
            return;
        };
        let token = p.leg.as_ref().map(|l| l.token.clone()).unwrap_or_default();
        let interval = p.interval.unwrap_or(self.config.session_expires);
        let path = self.leg_uri(&token);
        let sdp_id = self.rng.next_u64() >> 1;
        let local = Self::local_parameters(&self.config, sdp_id, &path);
        // The offer as read when the INVITE arrived: not parsed again.
        let Some(their_offer) = self
            .sessions
            .get(&session)
            .and_then(|s| s.participant(participant))
            .and_then(|p| p.offer.as_deref())
            .map(|o| &o.sdp)
        else {
            return;
        };
        let ours = match invitee_answer {
            Some(a) => crate::sdp::offer_answer::answer_for_inviter(their_offer, a, &local),
            None => answer(their_offer, &local),
        };
        let body = ours.to_bytes();
        // The switch leg's parameters, while both descriptions are parsed
        // (the joiner offered: the server answers).
        let leg_params = super::LegParams::negotiate(
            &ours,
            their_offer,
            crate::sdp::offer_answer::Side::Answerer,
        );
        drop(ours);
        drop(local);
        let spec = self
            .focus_response(session, 200)
            .with_header("Session-Expires", format!("{interval};refresher=uac"))
            .with_body("application/sdp", body.clone());
        let _ = self.ua.respond(transaction, spec, now);
        self.collect();
        self.by_server_tx.remove(&transaction);
        let refresh_at = now + super::ServerConfig::supervision(interval);
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        if s.inviter == Some(participant) {
            s.final_sent = true;
            s.ok_sent = true;
        }
        let Some(p) = s.participant_mut(participant) else {
            return;
        };
        p.state = State::Joined;
        p.local_sdp = body;
        p.leg_params = leg_params.map(Box::new);
        // The dialog the 200 made is found when the user agent reports it
        // (`on_dialog_created` starts its supervision then); one known
        // already (an early one) starts it now.
        let dialog = p.dialog;
        let (address, verified) = (p.address.clone(), p.verified);
        if let Some(d) = dialog {
            self.ua.set_dialog_deadline(d, Some(refresh_at));
        }
        self.schedule(refresh_at, super::Timer::Refresh(session, participant));
        self.event(Event::ParticipantJoined {
            session,
            participant,
            address,
            verified,
        });
        self.notify_change(session, participant, now);
        self.join_switch(session, participant, now);
    }

    /// The headers of every response on a session's behalf (7.2.1.1 steps
    /// 2 to 4): Server, and the Authenticated Originator's IM Address.
    pub(super) fn focus_response(&self, session: SessionId, code: u16) -> ResponseSpec {
        let mut spec = ResponseSpec::new(code).with_header("Server", &self.release);
        if let Some(s) = self.sessions.get(&session) {
            // 7.2.1.1 step 5: the IM Session Identity in an isfocus Contact;
            // the dialog keeps it for its refreshes and NOTIFYs.
            spec = spec
                .with_contact(focus_contact(s.names.identity()))
                .with_header(
                    "P-Asserted-Identity",
                    ["<", s.names.hosted_by(), ">"].concat(),
                );
        }
        spec
    }

    /// [`focus_response`](Self::focus_response) to a target refresh inside
    /// a Participant's dialog: its Contact is the one the dialog keeps
    /// (the isfocus Contact it was created with), written by the user
    /// agent, so it is neither made again nor compared with the kept one.
    ///
    /// The session is not read: its host comes with the dialog's owner
    /// (`owner_of`), so a refresh reads the dialog and nothing else.
    pub(super) fn focus_refresh_response(
        &self,
        session: SessionId,
        host: u32,
        code: u16,
    ) -> ResponseSpec {
        let spec = ResponseSpec::new(code).with_header("Server", &self.release);
        if let Some(asserted) = self.hosts.asserted(host) {
            return spec.with_header("P-Asserted-Identity", asserted);
        }
        // Hosted at a URI not configured (none is): read from the session.
        match self.sessions.get(&session) {
            Some(s) => spec.with_header(
                "P-Asserted-Identity",
                ["<", s.names.hosted_by(), ">"].concat(),
            ),
            None => spec,
        }
    }

    /// A final failure to an INVITE no session holds (any more): Server,
    /// and a Warning for 486. The transaction is forgotten once answered.
    pub(super) fn reject(
        &mut self,
        transaction: ServerTxId,
        code: u16,
        warning: Option<&str>,
        now: Instant,
    ) {
        let mut spec = ResponseSpec::new(code).with_header("Server", &self.release);
        if let Some(text) = warning {
            spec = spec.with_header("Warning", format!("399 {} \"{text}\"", self.config.domain));
        }
        // A refused request keeps nothing (RFC 3261 §8.2.7): under a flood
        // of requests the server cannot take, each is answered and
        // forgotten rather than held for Timer J; an INVITE, answered 100
        // Trying already, keeps its response until the ACK (§17.2.1).
        let _ = self.ua.respond_and_forget(transaction, spec, now);
        self.collect();
    }
}

/// Whether an SDP offer's MSRP media is `recvonly` (a recording leg).
fn is_recv_only(offer: Option<&HeldOffer>) -> bool {
    offer.and_then(HeldOffer::direction) == Some(crate::sdp::Direction::RecvOnly)
}

/// The SDP offer of an INVITE (empty when none) and its URI list, read
/// with one parse of its body: neither when the body is over `max_body` or
/// not readable.
fn bodies_of<'a>(msg: &SipMessage<'a>, limits: &super::Limits) -> (&'a [u8], Option<&'a [u8]>) {
    let body = msg.body();
    if body.len() > limits.max_body {
        return (&[], None);
    }
    let content_type = msg
        .header(crate::sip::HeaderName::ContentType)
        .map_or("", |h| h.value);
    match find_sdp_and_resource_lists(content_type, body, &limits.layers.mime) {
        Ok(found) => (found.sdp.unwrap_or_default(), found.resource_lists),
        Err(_) => (&[], None),
    }
}

/// The SDP offer of an INVITE (alone or in a `multipart/mixed` body), empty
/// when there is none or the body is over `max_body`.
fn offer_of<'a>(msg: &SipMessage<'a>, limits: &super::Limits) -> &'a [u8] {
    let body = msg.body();
    if body.len() > limits.max_body {
        return &[];
    }
    let content_type = msg
        .header(crate::sip::HeaderName::ContentType)
        .map_or("", |h| h.value);
    find_sdp(content_type, body, &limits.layers.mime)
        .ok()
        .flatten()
        .unwrap_or_default()
}
