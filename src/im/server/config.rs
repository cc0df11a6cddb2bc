//! How an [`ImServer`](super::ImServer) is set up: what it hosts, its
//! local policies and its bounds.

use std::net::SocketAddr;
use std::time::Duration;

use crate::im::trust::TrustDomain;

use crate::dialog;
use crate::transaction::Transport;

/// Bounds on what the server keeps. Over a bound, a new INVITE is refused
/// (486 for too many invitees, 503 for too many sessions or pending
/// authorizations) and MSRP input is dropped; nothing grows without limit.
///
/// # Memory budget
///
/// What a server holds, whatever its peers send, is bounded by
///
/// ```text
///   sessions      max_sessions × (S + max_participants × P)
/// + held INVITEs  (max_sessions + max_pending_authorizations)
///                   × layers.sip.max_message_size
/// + transactions  2 × ua.max_transactions × T
/// + MSRP legs     max_sessions × max_participants
///                   × (max_msrp_queued_bytes_per_leg
///                      + layers.msrp.max_chunk_size + layers.msrp.max_header_size)
/// + connections   (MSRP connections the application accepted)
///                   × max_unbound_msrp_bytes
/// ```
///
/// where S ≈ 10 KiB is a session with one invitee and P ≈ 7 KiB each
/// further Participant (its dialog, SDP copies, leg) — upper bounds: the
/// figures `benches/im_server.rs` measures are lower (9 412 bytes per
/// never-answered session in a flood of 100 000 INVITEs; 9 700 bytes per
/// idle 5-party session, once the 64*T1 after its set-up is over) — and T
/// a transaction once it is answered: its state, its last response and the
/// request line and Via, From, To, Call-ID and CSeq of its request (the rest
/// of the request is released with the final response). The server answers
/// every request but an INVITE being set up in the call that delivers it, so
/// only the held INVITEs keep whole requests. A request the server refuses
/// (503 at the session or authorization cap, 403, 404, 486, 488, ...) is
/// answered and forgotten
/// ([`UserAgent::respond_and_forget`](crate::dialog::UserAgent::respond_and_forget)):
/// it keeps nothing, and a flood of them does not grow the server.
///
/// With the defaults the session and held-INVITE terms come to about
/// 0.44 GiB for a flood of small INVITEs (50 000 sessions, measured) and up
/// to about 3.5 GiB when each held INVITE is 64 KiB. The MSRP term is
/// bounded per leg (1 MiB queued + a 1 MiB chunk being read by default), not
/// by a role-wide budget. To keep a server under a figure (1 GiB, say), lower
/// `max_sessions`, `max_participants`, `layers.sip.max_message_size` and the
/// MSRP per-leg bounds until the sum fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The SIP user agent's bounds (transactions, dialogs, message size).
    pub ua: dialog::Limits,
    /// Most IM Sessions at once.
    pub max_sessions: usize,
    /// Most Participants of an Ad-hoc IM Group Session, the inviter
    /// included (7.2.1.2 step 5, `MAX-ADHOC-GROUP-SIZE` on the server side):
    /// a URI list with more entries is answered 486 "too many participants".
    pub max_adhoc_participants: usize,
    /// Most Participants of any IM Session (joins beyond it get 486).
    pub max_participants: usize,
    /// Most bytes received on an MSRP connection before it is known which
    /// leg it belongs to (its first To-Path). A connection over it that
    /// names no leg is closed; so is one refused with 506 that goes on
    /// sending (RFC 4975 §14: bound what a stranger can make the server
    /// keep).
    pub max_unbound_msrp_bytes: usize,
    /// How long an accepted MSRP connection may stay without naming a leg
    /// the server can bind it to; then it is closed. Counted from the
    /// first input about the connection.
    pub unbound_msrp_timeout: Duration,
    /// Most subscriptions to the conference state of one IM Session; a
    /// SUBSCRIBE over it is answered 503 and no NOTIFY is sent for it.
    pub max_subscriptions_per_session: usize,
    /// Most bytes of a SIP message body the server reads (SDP, URI list).
    pub max_body: usize,
    /// Most bytes queued for one MSRP leg of the switch (relayed chunks its
    /// connection has not taken yet); a chunk that does not fit is dropped
    /// for that leg with the rest of its message (backpressure, see
    /// [`crate::msrp::switch`]).
    pub max_msrp_queued_bytes_per_leg: usize,
    /// Most authorization questions
    /// ([`AuthorizationPolicy::Ask`]) waiting for the application's answer;
    /// a request that would ask one more is answered 503. Each holds its
    /// INVITE until answered.
    pub max_pending_authorizations: usize,
    /// The bounds of every layer the server parses with: SIP messages
    /// (`layers.sip` replaces `ua.sip`), SDP offers, `multipart/mixed`
    /// bodies, the URI list (its `max_list_entries` is replaced by
    /// [`max_adhoc_participants`](Self::max_adhoc_participants)), MSRP and
    /// the MSRP switch of every session (`layers.msrp` replaces the codec
    /// bounds inside `layers.msrp_switch`).
    pub layers: crate::Limits,
}

impl Default for Limits {
    /// 100 000 dialogs and transactions, 50 000 sessions, 10 ad-hoc
    /// Participants, 64 per session, 8 KiB and 30 s before an MSRP binding,
    /// 16 conference-state subscriptions per session, 64 KiB bodies.
    fn default() -> Self {
        let ua = dialog::Limits {
            max_transactions: 100_000,
            max_dialogs: 100_000,
            ..dialog::Limits::default()
        };
        Limits {
            ua,
            max_sessions: 50_000,
            max_adhoc_participants: 10,
            max_participants: 64,
            max_unbound_msrp_bytes: 8 * 1024,
            unbound_msrp_timeout: Duration::from_secs(30),
            max_subscriptions_per_session: 16,
            max_body: 64 * 1024,
            max_pending_authorizations: 1024,
            max_msrp_queued_bytes_per_leg: 1024 * 1024,
            layers: crate::Limits::default(),
        }
    }
}

/// 7.2.1.2 step 2: how the Authenticated Originator is authorized, for a
/// set-up and for every join alike (after the [`AccessPolicy`] rules).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuthorizationPolicy {
    /// Every originator is authorized.
    #[default]
    AllowAll,
    /// Only these IM Addresses (URIs, compared as written) are authorized;
    /// the others get 403.
    AllowList(Vec<String>),
    /// Each setup is asked of the application
    /// ([`Event::AuthorizationRequested`](super::Event::AuthorizationRequested)),
    /// answered with [`Input::Authorization`](super::Input::Authorization).
    Ask,
}

/// 7.2.1.2: the final response sent to the inviter when every invitee failed
/// before any accepted ("chosen by local policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailurePolicy {
    /// The lowest status code received (the spec's example).
    #[default]
    LowestCode,
    /// Always this status code.
    Fixed(u16),
}

/// Who may join an IM Session with an `a=recvonly` SDP offer as a
/// recording leg: the IM History Function recording the session (13.3.1.2:
/// an INVITE to the IM Session Identity, `From` the SIP URI of the
/// initiator of the recording, an `a=recvonly` offer).
///
/// A recording leg receives every message the Participants send (the MSRP
/// switch fans out to it) and may SUBSCRIBE to the conference state, but it
/// is not a Participant of the roster (conference-info lists the users, not
/// their recorder), and it is released (BYE) once no Participant that can
/// send is left. **\[INFERRED\]** (clause notes §3, 13.3.1.1 / 13.3.3): the
/// seed names the History Function's INVITE but not how the server admits
/// it; this policy is the server's local choice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RecordingPolicy {
    /// The initiator the INVITE names in its `From` (13.3.1.2 step 2; a
    /// `P-Asserted-Identity` would be the History Function's own) must be
    /// the IM Address of a Participant in the session: only a Participant
    /// can have it recorded. Others get 403.
    #[default]
    Participants,
    /// Anyone who knows the IM Session Identity may record it.
    Anyone,
    /// No recording: a `recvonly` join gets 403.
    Refuse,
}

/// Who may join a pre-defined IM Group's session (by the IM Group Identity
/// or by the running session's IM Session Identity), and set it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupAccess {
    /// Only the group's members ([`PredefinedGroup::members`]); anyone else
    /// gets 403 and nobody is invited.
    #[default]
    MembersOnly,
    /// Anyone the [`AuthorizationPolicy`] authorizes (an open group).
    Anyone,
}

/// Who may join a running Ad-hoc IM Group Session by INVITEing its IM
/// Session Identity (a rejoin, 7.1.1.x; or `join_public_conference` with
/// the session's URI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionAccess {
    /// The session's Participants and invitees, present or gone: the
    /// inviter, every IM Address the server invited, every address that
    /// joined. Anyone else gets 403.
    #[default]
    ParticipantsAndInvitees,
    /// Anyone the [`AuthorizationPolicy`] authorizes.
    Anyone,
}

/// Who may SUBSCRIBE to an IM Session's conference state (its roster).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RosterAccess {
    /// The IM Addresses of the session's Participants that are in it or on
    /// their way in (a recording leg's initiator included), and, while a
    /// recording leg is in the session, a SUBSCRIBE from the trust domain
    /// (the History Function subscribes with its own identity, 7.1.1.11);
    /// anyone else gets 403 and no NOTIFY.
    #[default]
    Participants,
    /// Anyone who knows the IM Session Identity.
    Anyone,
}

/// Who may add a user to a running IM Session by REFER (RFC 4579 §5.5: a
/// REFER in the referrer's dialog with the focus, `Refer-To: <user>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReferAddPolicy {
    /// Any Participant of the session (it is in the session: the REFER
    /// comes in its dialog with the focus).
    #[default]
    Participants,
    /// The inviter of the session only (the user that set it up).
    Inviter,
    /// Nobody: a REFER to add gets 403.
    Nobody,
}

/// Who may have a Participant removed by REFER (RFC 4579 §5.6: `Refer-To:
/// <user;method=BYE>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReferRemovePolicy {
    /// A Participant may remove itself only (the `Refer-To` is its own IM
    /// Address); other requests get 403.
    #[default]
    OnlySelf,
    /// The inviter may remove anyone; the others themselves only.
    Inviter,
    /// Any Participant may remove any other.
    Participants,
    /// Nobody: 403.
    Nobody,
}

/// The server's access rules beyond 7.2.1.2 step 2's [`AuthorizationPolicy`]:
/// who may join each kind of session and who may read its roster. The
/// defaults are meant for a public deployment; each is a local policy the
/// specification leaves open **\[INFERRED\]**.
///
/// ```
/// use oma_im::im::server::{
///     AccessPolicy, GroupAccess, ReferAddPolicy, ReferRemovePolicy, RosterAccess, SessionAccess,
/// };
///
/// let policy = AccessPolicy::default();
/// assert_eq!(policy.groups, GroupAccess::MembersOnly);
/// assert_eq!(policy.ad_hoc_sessions, SessionAccess::ParticipantsAndInvitees);
/// assert_eq!(policy.roster, RosterAccess::Participants);
/// assert!(policy.recording_needs_verified_identity);
/// assert_eq!(policy.refer_add, ReferAddPolicy::Participants);
/// assert_eq!(policy.refer_remove, ReferRemovePolicy::OnlySelf);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    /// Pre-defined IM Groups: members only by default.
    pub groups: GroupAccess,
    /// Running ad-hoc sessions: their Participants and invitees by default.
    pub ad_hoc_sessions: SessionAccess,
    /// Conference-state subscriptions: Participants only by default.
    pub roster: RosterAccess,
    /// A recording leg (an `a=recvonly` join, 13.3.1.2) is admitted only
    /// when its INVITE came from the trust domain ([`ServerConfig::trust`]):
    /// its `From` names the initiator of the recording, which only a
    /// trusted History Function (or the core it sends through) can vouch
    /// for. `true` by default.
    pub recording_needs_verified_identity: bool,
    /// Adding users by REFER (RFC 4579 §5.5): any Participant by default.
    pub refer_add: ReferAddPolicy,
    /// Removing Participants by REFER with `method=BYE` (RFC 4579 §5.6):
    /// each one itself only by default.
    pub refer_remove: ReferRemovePolicy,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        AccessPolicy {
            groups: GroupAccess::MembersOnly,
            ad_hoc_sessions: SessionAccess::ParticipantsAndInvitees,
            roster: RosterAccess::Participants,
            recording_needs_verified_identity: true,
            refer_add: ReferAddPolicy::Participants,
            refer_remove: ReferRemovePolicy::OnlySelf,
        }
    }
}

/// A pre-defined IM Group hosted by the server: its IM Group Identity and
/// members, supplied by the application (in a deployment, from the group's
/// XDM document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredefinedGroup {
    /// The IM Group Identity (a SIP URI).
    pub identity: String,
    /// The members' IM Addresses. Under [`GroupAccess::MembersOnly`] only
    /// they may set up or join the group's session.
    pub members: Vec<String>,
    /// Whether the group's rules allow anonymity; when not, an INVITE with
    /// `Privacy: id` gets 403 (9.1.1.1 NOTE), at set-up and on every later
    /// join.
    pub allow_anonymity: bool,
}

/// The configuration of an [`ImServer`](super::ImServer).
///
/// ```
/// use oma_im::im::server::ServerConfig;
///
/// let mut config = ServerConfig::new("192.0.2.10:5060".parse().unwrap(),
///     "192.0.2.1:5060".parse().unwrap(), "im.example.com");
/// config.conference_factory_uris.push("sip:conf-factory@im.example.com".into());
/// assert_eq!(config.session_expires, 1800);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The SIP address the server sends from and receives on.
    pub local_addr: SocketAddr,
    /// The next hop of every request (the SIP/IP Core), unless
    /// [`routing`](Self::routing) is
    /// [`Routing::RequestTarget`](crate::dialog::Routing::RequestTarget).
    pub outbound_proxy: SocketAddr,
    /// The SIP transport.
    pub transport: Transport,
    /// Where requests go ([`dialog::Config::routing`]):
    /// [`Routing::OutboundProxy`](crate::dialog::Routing::OutboundProxy) by
    /// default.
    ///
    /// [`dialog::Config::routing`]: crate::dialog::Config::routing
    pub routing: crate::dialog::Routing,
    /// The host part of every IM Session Identity
    /// (`sip:<token>@<domain>`).
    pub domain: String,
    /// Where the server's MSRP listens: the host and port of its MSRP URIs.
    pub msrp_authority: String,
    /// The Conference-factory-URIs allocated on this server (7.2.1.2 step 1).
    pub conference_factory_uris: Vec<String>,
    /// The pre-defined IM Groups hosted here.
    pub groups: Vec<PredefinedGroup>,
    /// Public conference URIs: anyone the [`AuthorizationPolicy`]
    /// authorizes may join them by INVITE.
    pub public_conferences: Vec<String>,
    /// Product tokens after `IM-serv/OMA1.0` in the `Server` header
    /// (Appendix F); may be empty.
    pub product: String,
    /// 7.2.1.2 step 2, applied to every set-up and every join.
    pub authorization: AuthorizationPolicy,
    /// Who may join and read the roster, beyond `authorization`.
    pub access: AccessPolicy,
    /// The peers whose `P-Asserted-Identity` is believed (RFC 3325); empty
    /// by default, so every originator is its unverified `From`. List the
    /// S-CSCF or outbound proxy that asserts identities.
    pub trust: TrustDomain,
    /// 7.2.1.2, every invitee failed before the 200.
    pub failure_policy: FailurePolicy,
    /// Local policy: answer the inviter with 200 as soon as the invitations
    /// are sent, instead of on the first invitee's 200. When every invitee
    /// then fails, the inviter is removed with BYE (7.2.1.2, 7.2.1.9).
    pub early_answer: bool,
    /// Local policy (7.2.1.9): when a Participant leaves and a single one
    /// is left (no invitation pending), release that one too, ending the
    /// session.
    pub release_alone: bool,
    /// The media types operator policy allows on MSRP (7.2.1.2 step 4);
    /// an offer without any of them is answered 488. `*` allows all.
    pub allowed_accept_types: Vec<String>,
    /// Who may join an IM Session with an `a=recvonly` offer to record it
    /// (13.3.1.2); [`RecordingPolicy::Participants`] by default.
    pub recording: RecordingPolicy,
    /// The Session-Expires interval of the 200 (RFC 4028), in seconds; a
    /// smaller one asked by the inviter (not below [`min_se`](Self::min_se))
    /// is used instead.
    pub session_expires: u32,
    /// The smallest session interval accepted (RFC 4028 Min-SE).
    pub min_se: u32,
    /// How long an invitee may take to answer the server's INVITE with a
    /// final response; then the INVITE is CANCELled (RFC 3261 §9.1) and
    /// the invitee reported failed ([`InvitationFailure::NoAnswer`]).
    /// 120 s by default.
    ///
    /// [`InvitationFailure::NoAnswer`]: super::InvitationFailure::NoAnswer
    pub invitation_timeout: Duration,
    /// How long a Participant whose MSRP connection closed may take to
    /// send its BYE (a client that leaves closes the connection and sends
    /// BYE at about the same time); then it is removed
    /// ([`LeaveReason::ConnectionLost`]: BYE while its dialog is up).
    /// 5 s by default.
    ///
    /// [`LeaveReason::ConnectionLost`]: super::LeaveReason::ConnectionLost
    pub connection_loss_grace: Duration,
    /// The URI put in the CPIM `From` and withheld identities when a
    /// Participant asked for anonymity (`Privacy: id`).
    pub anonymous_uri: String,
    /// Seed of every identifier (tags, Call-IDs, IM Session Identities,
    /// MSRP session-ids): 256 bits from the operating system's entropy in
    /// production; the default (all zero) is for tests only (see
    /// [`crate::rng`]).
    pub seed: crate::rng::Seed,
    /// Bounds.
    pub limits: Limits,
    /// The SIP timers.
    pub timers: crate::transaction::TimerConfig,
}

impl ServerConfig {
    /// A server at `local_addr` sending through `outbound_proxy` over UDP,
    /// naming its sessions in `domain`, with no hosted URI yet, MSRP on
    /// `local_addr`'s host at port 2855, `message/cpim` allowed, 1800 s
    /// sessions (Min-SE 90), every originator authorized, the
    /// [`AccessPolicy`] defaults (groups members-only, ad-hoc sessions
    /// joinable by their Participants and invitees, rosters for
    /// Participants), an empty trust domain, and recording by a
    /// Participant's request only, from the trust domain.
    pub fn new(local_addr: SocketAddr, outbound_proxy: SocketAddr, domain: &str) -> Self {
        ServerConfig {
            local_addr,
            outbound_proxy,
            transport: Transport::Udp,
            routing: crate::dialog::Routing::OutboundProxy,
            domain: domain.to_owned(),
            msrp_authority: format!("{}:2855", local_addr.ip()),
            conference_factory_uris: Vec::new(),
            groups: Vec::new(),
            public_conferences: Vec::new(),
            product: String::new(),
            authorization: AuthorizationPolicy::AllowAll,
            access: AccessPolicy::default(),
            trust: TrustDomain::new(),
            failure_policy: FailurePolicy::LowestCode,
            early_answer: false,
            release_alone: false,
            allowed_accept_types: vec!["message/cpim".to_owned()],
            recording: RecordingPolicy::Participants,
            session_expires: 1800,
            min_se: 90,
            invitation_timeout: Duration::from_secs(120),
            connection_loss_grace: Duration::from_secs(5),
            anonymous_uri: "sip:anonymous@anonymous.invalid".to_owned(),
            seed: crate::rng::Seed::default(),
            limits: Limits::default(),
            timers: crate::transaction::TimerConfig::default(),
        }
    }

    /// The supervision margin of RFC 4028 §10 for an interval: the server
    /// releases an unrefreshed Participant `interval - min(32, interval/3)`
    /// seconds after the last refresh.
    pub(crate) fn supervision(interval: u32) -> Duration {
        let margin = (interval / 3).min(32);
        Duration::from_secs(u64::from(interval.saturating_sub(margin).max(1)))
    }
}
