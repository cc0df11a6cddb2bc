//! The state of one IM Session and of its Participants.

use std::time::Instant;

use smallvec::SmallVec;

use crate::body::conference_info::DisconnectionMethod;
use crate::dialog::{ClientTxId, DialogId, ServerTxId};
use crate::msrp::switch::MsrpSwitch;

use super::{ConnectionId, ParticipantId};

/// How the session came to be, which fixes the Authenticated Originator's
/// IM Address of the server's messages (7.2.1.1 step 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An Ad-hoc IM Group Session (or 1-1) through a Conference-factory-URI.
    AdHoc,
    /// A pre-defined IM Group's session.
    Group,
    /// A public conference.
    Public,
}

/// Where a Participant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// The inviter or a joiner whose INVITE has not been answered with 2xx.
    Answering(ServerTxId),
    /// An invitee whose INVITE from the server awaits a final response.
    Inviting(ClientTxId),
    /// In the session (2xx sent or received).
    Joined,
    /// An invitee that answered with a failure.
    Failed,
    /// Gone (BYE sent or received).
    Left,
}

/// The MSRP leg of a Participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leg {
    /// The session-id of the server's MSRP URI on this leg.
    pub token: Box<str>,
    /// The connection carrying the leg, once known.
    pub connection: Option<ConnectionId>,
    /// Bytes that arrived on the connection before the leg joined the
    /// switch (its SDP exchange not complete yet), bounded by
    /// `Limits::max_unbound_msrp_bytes`.
    pub early: Vec<u8>,
}

/// The REFER that asked for an invitation (RFC 4579 §5.5): the outcome is
/// NOTIFYed to the referrer in its dialog (RFC 3515).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Referral {
    /// The referrer's dialog with the focus.
    pub dialog: DialogId,
    /// The CSeq number of the REFER (the `id` of `Event: refer`).
    pub id: u32,
}

/// One Participant.
#[derive(Debug, Clone)]
pub(crate) struct Participant {
    pub id: ParticipantId,
    /// Its IM Address.
    pub address: String,
    /// The Call-ID of its dialog with the server.
    pub call_id: Option<String>,
    pub dialog: Option<DialogId>,
    pub state: State,
    /// The server invited it (its SDP is the server's offer).
    pub invited: bool,
    /// It asked for anonymity (`Privacy: id`).
    pub anonymous: bool,
    /// Its address is vouched for: asserted by the trust domain, or the
    /// one the server invited.
    pub verified: bool,
    /// The methods of its Allow header (7.2.1.1, "store the supported
    /// methods").
    pub allow: Option<String>,
    /// The server's SDP answer to it (a joiner; an invitee's offer is made
    /// again from `sdp_id` when needed).
    pub local_sdp: Vec<u8>,
    /// The `o=` session id of the server's offer to an invitee.
    pub sdp_id: u64,
    /// A joiner's SDP offer, read once, until the server answers it.
    pub offer: Option<Box<super::setup::HeldOffer>>,
    /// The switch leg's parameters, when they were negotiated where both
    /// descriptions were parsed already (taken when the leg joins).
    pub leg_params: Option<Box<super::LegParams>>,
    /// RFC 4028 interval it refreshes with, when the server supervises it.
    pub interval: Option<u32>,
    pub leg: Option<Leg>,
    /// A recording leg (an `a=recvonly` join, 13.3.1.2): it only receives,
    /// is not in the roster, and does not keep the session alive.
    pub recorder: bool,
    /// An invitee that answered 180 (its roster status is `alerting`).
    pub alerting: bool,
    /// How it left the session or failed to join, and why (RFC 4575
    /// §5.7: `disconnection-method`, `disconnection-info`).
    pub disconnection: Option<Box<(DisconnectionMethod, String)>>,
    /// When an invitee's INVITE is CANCELled unless answered.
    pub invite_deadline: Option<Instant>,
    /// The REFER this invitation answers, if any.
    pub referral: Option<Box<Referral>>,
    /// When it is removed for the loss of its MSRP connection, unless it
    /// sent BYE by then.
    pub lost_at: Option<Instant>,
}

impl Participant {
    pub fn new(id: ParticipantId, address: String, state: State) -> Self {
        Participant {
            id,
            address,
            call_id: None,
            dialog: None,
            state,
            invited: false,
            anonymous: false,
            verified: false,
            allow: None,
            local_sdp: Vec::new(),
            sdp_id: 0,
            offer: None,
            leg_params: None,
            interval: None,
            leg: None,
            recorder: false,
            alerting: false,
            disconnection: None,
            invite_deadline: None,
            referral: None,
            lost_at: None,
        }
    }

    /// Still in the session or on its way in.
    pub fn is_alive(&self) -> bool {
        !matches!(self.state, State::Failed | State::Left)
    }
}

/// A subscriber to the session's conference event package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subscriber {
    pub dialog: DialogId,
    pub call_id: String,
    pub expires_at: Instant,
    /// The conference-info version last sent on this subscription (RFC
    /// 4575 §4.6: each subscription counts its own notifications).
    pub version: u32,
}

/// A session's names, one after the other: the IM Session Identity
/// (`sip:<token>@<domain>`) and the URI hosting the session. A response on
/// the session's behalf reads both, so they are kept in the session itself
/// when they fit in [`INLINE_NAMES`] octets (they usually do: a
/// 16-character token, the server's domain, a factory or group URI), else
/// in one allocation.
#[derive(Debug)]
pub(crate) struct SessionNames {
    /// The identity, then the hosting URI.
    text: NamesText,
    /// Where the token ends in the identity (it starts after `sip:`).
    token_end: u32,
    /// Where the identity ends.
    identity_end: u32,
}

/// Octets of names kept in the session itself.
pub(crate) const INLINE_NAMES: usize = 120;

/// The text of [`SessionNames`]: in place, or boxed when longer.
#[derive(Debug)]
enum NamesText {
    Inline(arrayvec::ArrayString<INLINE_NAMES>),
    Boxed(Box<str>),
}

impl NamesText {
    fn new(parts: [&str; 5]) -> NamesText {
        let mut inline = arrayvec::ArrayString::new();
        for part in parts {
            if inline.try_push_str(part).is_err() {
                return NamesText::Boxed(parts.concat().into_boxed_str());
            }
        }
        NamesText::Inline(inline)
    }

    fn as_str(&self) -> &str {
        match self {
            NamesText::Inline(text) => text,
            NamesText::Boxed(text) => text,
        }
    }
}

impl SessionNames {
    /// The names of the session `sip:<token>@<domain>` hosted by
    /// `hosted_by`.
    pub fn new(token: &str, domain: &str, hosted_by: &str) -> Self {
        let text = NamesText::new(["sip:", token, "@", domain, hosted_by]);
        let len = text.as_str().len();
        // The texts are the server's own (its domain, a 16-character
        // token) and a configured or received URI under the message size
        // limit: the offsets fit in a u32.
        let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        SessionNames {
            token_end: at(4 + token.len()),
            identity_end: at(len - hosted_by.len()),
            text,
        }
    }

    fn part(&self, start: u32, end: u32) -> &str {
        self.text
            .as_str()
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// The user part of the IM Session Identity.
    pub fn token(&self) -> &str {
        self.part(4, self.token_end)
    }

    /// The IM Session Identity (`sip:<token>@<domain>`).
    pub fn identity(&self) -> &str {
        self.part(0, self.identity_end)
    }

    /// The URI hosting the session (the key of `group_sessions` /
    /// `public_sessions`). It is also the Authenticated Originator's IM
    /// Address of the server's messages: the Conference-factory-URI, IM
    /// Group Identity or public conference URI (7.2.1.1 step 4).
    pub fn hosted_by(&self) -> &str {
        self.text
            .as_str()
            .get(self.identity_end as usize..)
            .unwrap_or_default()
    }

    /// The octets the names hold beyond their own size.
    pub fn held_bytes(&self) -> usize {
        match &self.text {
            NamesText::Inline(_) => 0,
            NamesText::Boxed(text) => text.len(),
        }
    }
}

/// The Participants a session holds in place: a session is sized for five
/// (an inviter and four invitees, the size issue 16 sizes sessions for),
/// where they cost what a vector of five would; a session of two leaves
/// three places unused (about 900 B); a sixth moves them all to one
/// allocation.
pub(crate) const INLINE_PARTICIPANTS: usize = 5;

/// One IM Session.
#[derive(Debug)]
pub(crate) struct ImSession {
    /// Its identity and the URI hosting it.
    pub names: SessionNames,
    /// In place up to [`INLINE_PARTICIPANTS`]: a refresh or a message
    /// finds its Participant without one more allocation to follow.
    pub participants: SmallVec<[Participant; INLINE_PARTICIPANTS]>,
    /// The last Participant id given (ids fit in 32 bits: the server keeps
    /// one with each Participant's dialog next to the session's host).
    pub next_participant: u32,
    /// The index of the URI hosting it among the configured ones
    /// (`ImServer::hosts`).
    pub host: u32,
    /// The inviter of an ad-hoc or group setup.
    pub inviter: Option<ParticipantId>,
    /// A 180 went to the inviter.
    pub ringing_sent: bool,
    /// A final response went to the inviter.
    pub final_sent: bool,
    /// The 200 went to the inviter.
    pub ok_sent: bool,
    /// The lowest failure status received from the invitees.
    pub lowest_failure: Option<u16>,
    pub switch: MsrpSwitch,
    pub switch_deadline: Option<Instant>,
    /// What the switch held when last drained, counted in the server's
    /// MSRP buffer total.
    pub msrp_charged: usize,
    /// A Large Message session (the inviter's offer is `sendonly`): torn
    /// down once its single message has reached every recipient.
    pub large_message: bool,
    /// The Large Message has been relayed.
    pub large_message_relayed: bool,
    /// The first invitee's SDP answer of a Large Message session, kept
    /// until no invitee is left to answer: the inviter sends its single
    /// message once, to every recipient that accepted.
    pub deferred_answer: Option<Vec<u8>>,
    /// Subscribers to the conference event package.
    pub subscribers: Vec<Subscriber>,
    /// Changed since its bytes were last counted.
    pub dirty: bool,
    /// Its bytes as last counted (`Limits::max_session_bytes`).
    pub counted: usize,
}

impl ImSession {
    /// The Participant `id`.
    pub fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.get(self.position(id)?)
    }

    /// The Participant `id`, to change.
    pub fn participant_mut(&mut self, id: ParticipantId) -> Option<&mut Participant> {
        let i = self.position(id)?;
        self.participants.get_mut(i)
    }

    /// Where Participant `id` is. Participants are kept in the order they
    /// were added, with ids one above the last: `id` is at most as many
    /// places after the first as its id is above the first's (exactly
    /// that many when none was forgotten), and is looked for from there
    /// back, reading the first and usually only the one sought.
    fn position(&self, id: ParticipantId) -> Option<usize> {
        let first = self.participants.first()?.id;
        let above = usize::try_from(id.0.checked_sub(first.0)?).unwrap_or(usize::MAX);
        let mut i = above.min(self.participants.len() - 1);
        loop {
            let here = self.participants.get(i)?.id;
            if here == id {
                return Some(i);
            }
            if here < id {
                return None;
            }
            i = i.checked_sub(1)?;
        }
    }

    /// Adds a Participant. Earlier entries of the same IM Address that are
    /// gone are forgotten (the roster lists an address once, the newest
    /// entry), and so are the oldest gone entries beyond `max_gone`.
    pub fn add(&mut self, address: String, state: State, max_gone: usize) -> ParticipantId {
        // The address's comparison form is made only when there is an
        // entry it could replace.
        if self
            .participants
            .iter()
            .any(|p| !p.is_alive() && !p.recorder)
        {
            let key = super::headers::uri_key(&address);
            self.participants.retain(|p| {
                p.is_alive() || p.recorder || super::headers::uri_key(&p.address) != key
            });
        }
        let gone = self.participants.iter().filter(|p| !p.is_alive()).count();
        let mut excess = gone.saturating_sub(max_gone.saturating_sub(1));
        self.participants.retain(|p| {
            if excess > 0 && !p.is_alive() {
                excess -= 1;
                false
            } else {
                true
            }
        });
        // The next id in 32 bits, none of a Participant still kept (after
        // 2^32 additions the numbers come round again).
        loop {
            self.next_participant = self.next_participant.checked_add(1).unwrap_or(1);
            let taken = u64::from(self.next_participant);
            if !self.participants.iter().any(|p| p.id.0 == taken) {
                break;
            }
        }
        let id = ParticipantId(u64::from(self.next_participant));
        // A session gains participants one by one, a few in all: no spare
        // capacity kept for the whole session's life.
        self.participants.reserve_exact(1);
        self.participants.push(Participant::new(id, address, state));
        id
    }

    /// Whether a newer entry of the same IM Address than `p` exists (a
    /// rejoin replaced it): `p` is no longer what the roster shows.
    pub fn superseded(&self, p: &Participant) -> bool {
        let mut newer = self
            .participants
            .iter()
            .filter(|q| q.id > p.id && !q.recorder)
            .peekable();
        if newer.peek().is_none() {
            return false;
        }
        let key = super::headers::uri_key(&p.address);
        newer.any(|q| super::headers::uri_key(&q.address) == key)
    }

    /// How many Participants are in the session or on their way in.
    pub fn alive(&self) -> usize {
        self.participants.iter().filter(|p| p.is_alive()).count()
    }

    /// How many Participants, recording legs left out, are in the session
    /// or on their way.
    pub fn alive_participants(&self) -> usize {
        self.participants
            .iter()
            .filter(|p| p.is_alive() && !p.recorder)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msrp::switch::SwitchConfig;

    fn session() -> ImSession {
        ImSession {
            names: SessionNames::new("t0k3n", "im.example.com", "sip:conf@im.example.com"),
            participants: SmallVec::new(),
            next_participant: 0,
            host: 0,
            inviter: None,
            ringing_sent: false,
            final_sent: false,
            ok_sent: false,
            lowest_failure: None,
            switch: MsrpSwitch::new(SwitchConfig::default()),
            switch_deadline: None,
            msrp_charged: 0,
            large_message: false,
            large_message_relayed: false,
            deferred_answer: None,
            subscribers: Vec::new(),
            dirty: false,
            counted: 0,
        }
    }

    #[test]
    fn names_share_one_buffer_in_place_when_they_fit() {
        let s = session();
        assert_eq!(s.names.token(), "t0k3n");
        assert_eq!(s.names.identity(), "sip:t0k3n@im.example.com");
        assert_eq!(s.names.hosted_by(), "sip:conf@im.example.com");
        assert_eq!(s.names.held_bytes(), 0, "in place");
        // Longer names go to one allocation, read the same.
        let domain = "d".repeat(INLINE_NAMES);
        let long = SessionNames::new("t0k3n", &domain, "sip:conf@im.example.com");
        assert_eq!(long.token(), "t0k3n");
        assert_eq!(long.identity(), format!("sip:t0k3n@{domain}"));
        assert_eq!(long.hosted_by(), "sip:conf@im.example.com");
        assert_eq!(
            long.held_bytes(),
            format!("sip:t0k3n@{domain}sip:conf@im.example.com").len()
        );
        // Exactly full still fits.
        let fit = "d".repeat(INLINE_NAMES - "sip:t0k3n@".len() - "sip:c".len());
        let full = SessionNames::new("t0k3n", &fit, "sip:c");
        assert_eq!((full.held_bytes(), full.hosted_by()), (0, "sip:c"));
    }

    #[test]
    fn participant_ids_stay_in_32_bits_and_skip_the_ones_kept() {
        let mut s = session();
        s.next_participant = u32::MAX - 1;
        let last = s.add("sip:a@example.com".into(), State::Joined, 100);
        assert_eq!(last.0, u64::from(u32::MAX));
        // Round again: 1 is taken by nobody, then 2 is.
        let first = s.add("sip:b@example.com".into(), State::Joined, 100);
        assert_eq!(first.0, 1);
        s.next_participant = u32::MAX;
        let next = s.add("sip:c@example.com".into(), State::Joined, 100);
        assert_eq!(next.0, 2, "1 is still a Participant's");
    }

    #[test]
    fn participants_are_found_after_some_were_forgotten() {
        let mut s = session();
        let ids: Vec<ParticipantId> = (0..8)
            .map(|i| s.add(format!("sip:u{i}@example.com"), State::Left, 100))
            .collect();
        for &id in &ids {
            assert_eq!(s.participant(id).map(|p| p.id), Some(id));
        }
        // Forget every other one, the first among them: positions no longer
        // follow the ids.
        s.participants.retain(|p| p.id.0 % 2 == 0);
        for &id in &ids {
            let found = s.participant_mut(id).map(|p| p.id);
            assert_eq!(found, (id.0 % 2 == 0).then_some(id), "{id:?}");
        }
        assert!(s.participant(ParticipantId(0)).is_none());
        assert!(s.participant(ParticipantId(99)).is_none());
        s.participants.clear();
        assert!(s.participant(ids[0]).is_none());
    }
}
