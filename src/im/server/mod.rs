//! The controlling IM Server (OMA-TS-SIMPLE_IM 7.2.x): the conference focus
//! that hosts Conference-factory-URIs, pre-defined IM Groups and public
//! conferences, sets up the IM Sessions created through them (7.2.1.1,
//! 7.2.1.2), invites the listed users (7.2.2.2), removes Participants
//! (7.2.1.9), supervises every session (RFC 4028) and relays each message
//! of a Participant to every other one through the session's MSRP switch.
//!
//! # Who may do what: the authorization model
//!
//! Every request is taken to come from an attacker until a rule admits it.
//! The originator of a request is its `P-Asserted-Identity` only when the
//! request came from a peer of [`ServerConfig::trust`] (RFC 3325); from
//! anyone else that header is ignored and the originator is the `From` the
//! sender wrote, reported with `verified: false`
//! ([`Event::AuthorizationRequested`], [`Event::ParticipantJoined`]). The
//! rules, with their defaults ([`AccessPolicy`], [`AuthorizationPolicy`],
//! [`RecordingPolicy`], [`Limits`]):
//!
//! | action | path | who may (default) | refused with |
//! | --- | --- | --- | --- |
//! | create an ad-hoc session | INVITE to a Conference-factory-URI | whom the [`AuthorizationPolicy`] authorizes (all) | 403 |
//! | open a pre-defined group | INVITE to the IM Group Identity | its members ([`GroupAccess::MembersOnly`]), authorized, with `Privacy: id` only if the group allows anonymity | 403, nobody invited |
//! | join a group's running session | INVITE to the IM Group Identity or to its IM Session Identity | as opening it | 403 |
//! | join or rejoin an ad-hoc session | INVITE to its IM Session Identity (`rejoin`, `join_public_conference` with that URI) | its inviter, invitees and joiners, present or gone ([`SessionAccess::ParticipantsAndInvitees`]), authorized | 403 |
//! | join a public conference | INVITE to its URI (or its session's identity) | whom the [`AuthorizationPolicy`] authorizes | 403 |
//! | add a user by REFER (RFC 4579 §5.5) | REFER in its dialog with the focus, `Refer-To: <user>` | a Participant ([`ReferAddPolicy::Participants`]); the user is INVITEd with `Referred-By` and may rejoin later as an invitee | 403 (486 when full, 491 while being invited) |
//! | remove a Participant by REFER (RFC 4579 §5.6) | REFER in its dialog, `Refer-To: <user;method=BYE>` | the Participant itself ([`ReferRemovePolicy::OnlySelf`]) | 403 (404 when not in the session) |
//! | record a session | `a=recvonly` INVITE to the IM Session Identity (13.3.1.2) | a request from the trust domain ([`AccessPolicy::recording_needs_verified_identity`]) whose `From` is a Participant ([`RecordingPolicy::Participants`]) | 403 |
//! | read the roster | SUBSCRIBE `Event: conference` to the IM Session Identity | its Participants, and the recording History Function from the trust domain ([`RosterAccess::Participants`]), at most [`Limits::max_subscriptions_per_session`] at once | 403; 503 over the cap |
//! | speak and listen | the MSRP leg of the SDP exchange | the connection that first presents the leg's session-id; another gets 506 (RFC 4975 §5.4) | 506; a connection naming no leg is closed after [`Limits::max_unbound_msrp_bytes`] or [`Limits::unbound_msrp_timeout`] |
//! | retrieve history | INVITE to the History Function | see [`im::history`](crate::im::history): an identity asserted by its trust domain | 403 |
//!
//! Every join runs the same [`AuthorizationPolicy`] as a set-up, including
//! the application's decision under [`AuthorizationPolicy::Ask`], after
//! the access rules; the target and the rules are looked at again when the
//! application answers. The IM Session Identity and the MSRP session-ids
//! are unguessable ([`crate::rng`]) but are not relied on as the only
//! barrier.
//!
//! # The life of a session
//!
//! * **Invitations.** Each invitee is `pending` in the roster once
//!   INVITEd and `alerting` after its 180. An invitation the server no
//!   longer needs is CANCELled (RFC 3261 §9.1): when the session ends,
//!   when nobody is left in it but ringing invitees under the
//!   [`release_alone`](ServerConfig::release_alone) policy, and after
//!   [`ServerConfig::invitation_timeout`] without a final response. Every
//!   invitation that does not end in a Participant is reported
//!   ([`Event::InvitationFailed`], with the status code it failed with)
//!   and shown `disconnected` in the roster.
//! * **The roster** (RFC 4575) lists every IM Address once, as it stands
//!   now: `pending`, `alerting`, `dialing-in`, `connected`, or
//!   `disconnected` with its `disconnection-method` (`departed`, `booted`,
//!   `failed`, `busy`) and the reason in `disconnection-info`, in the
//!   full state and in a partial notification on every change.
//! * **Liveness.** A Participant whose MSRP connection closes or is reset
//!   ([`Input::MsrpClosed`]; after
//!   [`connection_loss_grace`](ServerConfig::connection_loss_grace) unless
//!   its BYE comes first), whose leg leaves a SEND unanswered for the
//!   MSRP response timeout (30 s, RFC 4975 §7.1) or answers 481, or
//!   sends what is not MSRP, is removed ([`LeaveReason::ConnectionLost`]:
//!   BYE while its dialog is up, NOTIFY to the subscribers, the release
//!   policy applied); so is one that does not refresh its session in time
//!   (RFC 4028, [`LeaveReason::SessionExpired`]). A user who joins again
//!   replaces its old leg ([`LeaveReason::Replaced`]): one roster entry,
//!   the old dialog ended with BYE.
//! * **Adding and removing by REFER** (RFC 4579 §5.5, §5.6): see the
//!   table above; the outcome goes to the referrer in `message/sipfrag`
//!   NOTIFYs in its dialog (RFC 3515).
//! * **Delivery.** [`Event::MessageRelayed`] comes once every recipient
//!   answered every chunk of the message, and counts those that answered
//!   200 to all; a SEND with `Success-Report: yes` gets the success REPORT
//!   from the server, the endpoint of the sender's leg (RFC 4975 §7.1.3).
//! * **The end.** A session with no Participant and no pending invitation
//!   is released. [`ImServer::is_idle`] becomes `true` once no session is
//!   left and the transactions of the last messages have ended.
//!
//! The SIP transaction layer keeps each transaction for as long as RFC
//! 3261 requires after its last message, so that retransmissions are
//! absorbed: with the default timers ([`TimerConfig`](crate::transaction::TimerConfig),
//! T1 = 500 ms, T4 = 5 s) that is at most 64×T1 = **32 s** after the last
//! SIP message over UDP (timers D, H and J; an answered INVITE is also kept
//! 64×T1 against late copies, RFC 6026), and T4 = 5 s (timers I and K) or
//! nothing over TCP. A CANCELled INVITE that is never answered is given up
//! 64×T1 after the CANCEL (RFC 3261 §9.1).
//! So the server is idle at most 32 s after the last BYE, CANCEL or
//! NOTIFY of its last session completes, over UDP.
//!
//! # The drain contract
//!
//! After **every** call that takes `now` ([`ImServer::handle_input`],
//! [`ImServer::handle_timeout`]), drain [`ImServer::poll_output`] until it
//! returns `None`: send each [`Output::Transmit`] (SIP), open each
//! [`Output::MsrpConnect`], write each [`Output::MsrpTransmit`], close each
//! [`Output::MsrpClose`], act on each [`Output::Event`] (answering
//! [`Event::AuthorizationRequested`] with [`Input::Authorization`]). Then
//! sleep until [`ImServer::poll_timeout`] or the next input, and call
//! [`ImServer::handle_timeout`] with the time it is then. A deadline at or
//! before `now` is handled by the call that receives `now`, so the loop
//! never spins; [`ImServer::next_deadline`] says why the next one exists.
//!
//! ```
//! use std::time::Instant;
//! use oma_im::im::server::{ImServer, Input, Output, ServerConfig};
//! use oma_im::transaction::Transport;
//!
//! let core = "192.0.2.1:5060".parse().unwrap();
//! let mut config = ServerConfig::new("192.0.2.10:5060".parse().unwrap(), core, "im.example.com");
//! config.conference_factory_uris.push("sip:conf-factory@im.example.com".into());
//! let mut server = ImServer::new(config);
//!
//! // An INVITE to a URI the server does not host: 404 (11.1).
//! let invite = b"INVITE sip:nobody@im.example.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n\
//! Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\n\
//! To: <sip:nobody@im.example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
//! Contact: <sip:alice@192.0.2.20>\r\nContent-Length: 0\r\n\r\n";
//! let mut now = Instant::now();
//! server.handle_input(Input::Sip { bytes: invite, source: core, transport: Transport::Udp }, now);
//!
//! // The run loop: drain, then sleep until the deadline.
//! let mut sent = Vec::new();
//! loop {
//!     while let Some(output) = server.poll_output() {
//!         match output {
//!             Output::Transmit(t) => sent.push(t), // udp.send_to(&t.bytes, t.destination)
//!             Output::MsrpConnect { .. }
//!             | Output::MsrpTransmit { .. }
//!             | Output::MsrpClose { .. } => {} // the MSRP sockets
//!             Output::Event(_) => {}           // answer AuthorizationRequested here
//!             _ => {}
//!         }
//!     }
//!     match server.poll_timeout() {
//!         Some(deadline) => {
//!             now = now.max(deadline); // sleep until then, or until input arrives
//!             server.handle_timeout(now);
//!         }
//!         None => break,
//!     }
//! }
//! // 100 Trying, then the 404 (retransmitted: nobody ACKs it here).
//! assert!(sent[1].bytes.starts_with(b"SIP/2.0 404 "));
//! assert!(server.is_idle());
//! ```

mod conference;
mod config;
mod headers;
mod hosts;
mod pager;
mod refer;
mod session;
mod sessions;
mod setup;
mod signalling;
mod types;
mod user_plane;
use user_plane::LegParams;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Instant;

pub use config::{
    AccessPolicy, AuthorizationPolicy, FailurePolicy, GroupAccess, Limits, PredefinedGroup,
    RecordingPolicy, ReferAddPolicy, ReferRemovePolicy, RosterAccess, ServerConfig, SessionAccess,
};
pub use headers::{
    release_version, IM_FEATURE_TAG, ISFOCUS, SERVER_RELEASE_TOKEN, TOO_MANY_PARTICIPANTS,
};
pub use types::{
    AuthorizationId, ConnectionId, Deadline, DeadlineReason, EndReason, Event, Input,
    InvitationFailure, LeaveReason, MemoryUse, Output, ParticipantId, SessionId,
};

use crate::dialog::{self, ClientTxId, DialogId, ServerTxId, UserAgent};
use crate::hash::IdMap;
use crate::im::trust::Originator;
use crate::keyed::KeyedIndex;
use crate::rng::Rng;
use crate::spare::Spare;
use crate::transaction::OwnedMessage;

/// How many transmit buffers [`ImServer::recycle`] keeps.
pub const MAX_SPARE_BUFFERS: usize = 64;
/// The largest transmit buffer [`ImServer::recycle`] keeps.
pub const MAX_SPARE_CAPACITY: usize = 64 * 1024;

/// A set-up or join waiting for the application's authorization.
#[derive(Debug)]
struct PendingSetup {
    transaction: ServerTxId,
    request: OwnedMessage,
    /// Who asked, as established when the request arrived.
    originator: Originator,
}

/// What a server timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Refresh(SessionId, ParticipantId),
    /// An invitee is CANCELled unless it answered by then.
    Invitation(SessionId, ParticipantId),
    /// A Participant whose MSRP connection closed is removed then.
    ConnectionLost(SessionId, ParticipantId),
    Switch(SessionId),
    Subscription(SessionId, DialogId),
    /// An accepted MSRP connection that must name its leg by then.
    Unbound(ConnectionId),
}

/// How an MSRP connection stands.
#[derive(Debug)]
enum Connection {
    /// Accepted; its leg is known from its first To-Path.
    Unbound(Unbound),
    /// Refused with 506 (its leg is carried by another connection, RFC
    /// 4975 §5.4): what it sends is counted and dropped until it closes,
    /// goes over the byte bound or its deadline passes.
    Refused(Unbound),
    /// Carrying the leg of a Participant.
    Bound(SessionId, ParticipantId),
}

/// An accepted MSRP connection that carries no leg (yet).
#[derive(Debug, Default)]
struct Unbound {
    /// What it sent so far (only while unbound).
    buffer: Vec<u8>,
    /// Every byte it sent, bounded by `Limits::max_unbound_msrp_bytes`.
    received: usize,
    /// When it is closed unless bound: `Limits::unbound_msrp_timeout`
    /// after the first input about it.
    deadline: Option<Instant>,
}

/// The controlling IM Server. See the [module docs](self) for the drain
/// contract and a run loop.
#[derive(Debug)]
pub struct ImServer {
    config: ServerConfig,
    ua: UserAgent,
    rng: Rng,
    release: String,
    next_id: u64,
    sessions: sessions::Sessions,
    /// Sessions by the user part of their IM Session Identity.
    by_token: KeyedIndex<SessionId>,
    /// Sessions by the Call-ID of a Participant's dialog.
    by_call_id: KeyedIndex<SessionId>,
    by_client_tx: IdMap<ClientTxId, (SessionId, ParticipantId)>,
    /// INVITEs CANCELled and not yet answered with a final response: a
    /// 2xx that crosses the CANCEL gets ACK and BYE (RFC 3261 §9.1).
    cancelled_invites: std::collections::HashSet<ClientTxId>,
    by_server_tx: IdMap<ServerTxId, (SessionId, ParticipantId)>,
    /// Participants by the session-id of the server's MSRP URI on their leg.
    by_leg_token: KeyedIndex<(SessionId, ParticipantId)>,
    /// Conference-factory-URIs (URI keys) to the URI as configured.
    factories: HashMap<String, String>,
    /// IM Group Identities (URI keys) to the group's index in the config.
    groups: HashMap<String, usize>,
    /// Public conference URIs (URI keys) to the URI as configured.
    publics: HashMap<String, String>,
    /// The configured hosting URIs, numbered (a session's and its
    /// dialogs' `host`).
    hosts: hosts::Hosts,
    /// The live session of a group or public conference (by URI key).
    hosted_sessions: HashMap<String, SessionId>,
    pending_auth: HashMap<AuthorizationId, PendingSetup>,
    /// Accepted SUBSCRIBEs whose dialog is not known yet, by Call-ID, with
    /// their session and granted expiry.
    pending_subscriptions: HashMap<String, (SessionId, u32)>,
    /// Conference event package subscriptions, by dialog.
    by_subscription: IdMap<DialogId, SessionId>,
    connections: IdMap<ConnectionId, Connection>,
    /// Connections accepted that carry no leg yet (or were refused 506).
    unbound: usize,
    /// The bytes every session's MSRP switch held when last drained: what
    /// `Limits::max_msrp_buffered_bytes` bounds.
    msrp_buffered: usize,
    /// Whether the SIP message being handled came from the trust domain
    /// (RFC 3325): its `P-Asserted-Identity` is believed.
    input_trusted: bool,
    timers: BinaryHeap<Reverse<(Instant, u64, Timer)>>,
    timer_seq: u64,
    /// Events of the user agent not yet handled.
    ua_events: VecDeque<dialog::Event>,
    /// Transmit buffers given back with [`ImServer::recycle`], lent to a
    /// session's switch for the chunks it relays (at most
    /// [`MAX_SPARE_BUFFERS`], each of at most [`MAX_SPARE_CAPACITY`] bytes).
    buffers: Vec<Vec<u8>>,
    out: VecDeque<Output>,
}

impl ImServer {
    /// A server hosting what `config` lists, with no session yet.
    pub fn new(config: ServerConfig) -> Self {
        let mut ua_config = dialog::Config::new(
            config.local_addr,
            config.outbound_proxy,
            config.transport,
            config.seed,
        );
        ua_config.timers = config.timers;
        ua_config.limits = config.limits.ua;
        ua_config.limits.sip = config.limits.layers.sip;
        ua_config.routing = config.routing;
        let caps = &mut ua_config.capabilities;
        caps.allow = crate::sip::MethodSet::new();
        for m in [
            crate::sip::Method::Invite,
            crate::sip::Method::Ack,
            crate::sip::Method::Bye,
            crate::sip::Method::Cancel,
            crate::sip::Method::Options,
            crate::sip::Method::Message,
            crate::sip::Method::Update,
            crate::sip::Method::Subscribe,
            crate::sip::Method::Notify,
            crate::sip::Method::Refer,
        ] {
            caps.allow.insert(m);
        }
        caps.supported
            .insert(crate::sip::OptionTag::from_token("timer"));
        // 404 for an unknown Request-URI before 420 (RFC 3261 §8.2.2).
        ua_config.core_screens_request_uri = true;
        caps.accept.push("application/resource-lists+xml");
        let key_map = |uris: &[String]| {
            uris.iter()
                .map(|u| (headers::uri_key(u), u.clone()))
                .collect::<HashMap<_, _>>()
        };
        let factories = key_map(&config.conference_factory_uris);
        let publics = key_map(&config.public_conferences);
        let groups = config
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (headers::uri_key(&g.identity), i))
            .collect();
        let hosts = hosts::Hosts::of(&config);
        ImServer {
            rng: Rng::with_stream(config.seed, 0x5eed_1a5e),
            ua: UserAgent::new(ua_config),
            release: release_version(&config.product),
            config,
            next_id: 0,
            sessions: sessions::Sessions::default(),
            by_token: KeyedIndex::default(),
            by_call_id: KeyedIndex::default(),
            by_client_tx: IdMap::default(),
            cancelled_invites: std::collections::HashSet::new(),
            by_server_tx: IdMap::default(),
            by_leg_token: KeyedIndex::default(),
            factories,
            groups,
            publics,
            hosts,
            hosted_sessions: HashMap::new(),
            pending_auth: HashMap::new(),
            pending_subscriptions: HashMap::new(),
            by_subscription: IdMap::default(),
            connections: IdMap::default(),
            msrp_buffered: 0,
            unbound: 0,
            input_trusted: false,
            timers: BinaryHeap::new(),
            timer_seq: 0,
            ua_events: VecDeque::new(),
            buffers: Vec::new(),
            out: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Handles one input: a SIP message, an MSRP connection event or bytes,
    /// or the application's answer to a question.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) {
        match input {
            Input::Sip {
                bytes,
                source,
                transport,
            } => {
                // RFC 3325: a P-Asserted-Identity is believed only from the
                // trust domain; the requests of this message are handled
                // (by `pump` below) knowing where they came from.
                self.input_trusted = self.config.trust.trusts(source, transport);
                self.ua.handle_input(
                    dialog::Input::Datagram {
                        bytes,
                        source,
                        transport,
                    },
                    now,
                );
                self.collect();
                self.pump(now);
                self.input_trusted = false;
            }
            Input::Authorization { request, allowed } => {
                if let Some(pending) = self.pending_auth.remove(&request) {
                    if allowed {
                        self.admit(
                            pending.transaction,
                            pending.request,
                            pending.originator,
                            now,
                        );
                    } else {
                        self.reject(pending.transaction, 403, None, now);
                    }
                }
            }
            Input::MsrpConnected { connection } => self.msrp_connected(connection, now),
            Input::MsrpBytes { connection, bytes } => self.msrp_bytes(connection, bytes, now),
            Input::MsrpClosed { connection } => self.msrp_closed(connection, now),
        }
        self.pump(now);
    }

    /// Handles every deadline due at `now`; leaves none at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ua.handle_timeout(now);
        self.collect();
        self.pump(now);
        while let Some(Reverse((at, _, timer))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if !self.is_live(at, timer) {
                continue;
            }
            match timer {
                Timer::Refresh(session, participant) => {
                    self.session_expired(session, participant, now)
                }
                Timer::Invitation(session, participant) => {
                    self.invitation_expired(session, participant, now)
                }
                Timer::ConnectionLost(session, participant) => {
                    self.remove_participant(session, participant, LeaveReason::ConnectionLost, now)
                }
                Timer::Subscription(session, dialog) => {
                    self.subscription_expired(session, dialog, now)
                }
                Timer::Switch(session) => {
                    if let Some(s) = self.sessions.get_mut(&session) {
                        s.switch_deadline = None;
                        s.switch.handle_timeout(now);
                    }
                    self.drain_switch(session, now);
                }
                Timer::Unbound(connection) => self.close_unbound(connection),
            }
            self.pump(now);
        }
        self.cleanup_timers();
    }

    /// The next output; drain until `None` after every call.
    pub fn poll_output(&mut self) -> Option<Output> {
        let output = self.out.pop_front();
        // A large batch (a flood's timers firing at once) does not keep
        // its queue's memory once drained.
        if output.is_none() && self.out.capacity() > 1024 {
            self.out = VecDeque::new();
        }
        output
    }

    /// The earliest deadline: call [`handle_timeout`](Self::handle_timeout)
    /// then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_deadline().map(|d| d.at)
    }

    /// The earliest deadline and why it exists.
    pub fn next_deadline(&self) -> Option<Deadline> {
        let mine = self.timers.peek().map(|Reverse((at, _, timer))| Deadline {
            at: *at,
            reason: match *timer {
                Timer::Refresh(session, participant) => DeadlineReason::SessionRefresh {
                    session,
                    participant,
                },
                Timer::Invitation(session, participant) => DeadlineReason::InvitationTimeout {
                    session,
                    participant,
                },
                Timer::ConnectionLost(session, participant) => DeadlineReason::ConnectionLost {
                    session,
                    participant,
                },
                Timer::Switch(session) => DeadlineReason::MsrpSwitch { session },
                Timer::Subscription(session, _) => DeadlineReason::Subscription { session },
                Timer::Unbound(connection) => DeadlineReason::UnboundMsrp { connection },
            },
        });
        let sip = self.ua.next_deadline().map(|d| Deadline {
            at: d.at,
            reason: DeadlineReason::Sip(d.reason),
        });
        match (mine, sip) {
            (Some(a), Some(b)) => Some(if b.at < a.at { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// Gives back the bytes of an [`Output::MsrpTransmit`] once they are
    /// written, so that the MSRP switches relay into them instead of
    /// allocating: a server fed its buffers back relays chunks without
    /// allocating per recipient. Optional; at most [`MAX_SPARE_BUFFERS`]
    /// buffers of at most [`MAX_SPARE_CAPACITY`] bytes are kept, server-wide
    /// (none stays with a session).
    ///
    /// ```
    /// use oma_im::im::server::{ImServer, Output, ServerConfig};
    ///
    /// let config = ServerConfig::new(
    ///     "192.0.2.10:5060".parse().unwrap(),
    ///     "192.0.2.1:5060".parse().unwrap(),
    ///     "im.example.com",
    /// );
    /// let mut server = ImServer::new(config);
    /// while let Some(output) = server.poll_output() {
    ///     if let Output::MsrpTransmit { bytes, .. } = output {
    ///         // ... write `bytes` to the connection, then:
    ///         server.recycle(bytes);
    ///     }
    /// }
    /// ```
    pub fn recycle(&mut self, mut buffer: Vec<u8>) {
        if self.buffers.len() < MAX_SPARE_BUFFERS && buffer.capacity() <= MAX_SPARE_CAPACITY {
            buffer.clear();
            self.buffers.push(buffer);
        }
    }

    /// A name for an MSRP connection the application accepted on the
    /// server's MSRP port; report its bytes with [`Input::MsrpBytes`]. The
    /// leg it carries is found from the To-Path of its first message.
    ///
    /// The connection must name a leg (its first To-Path) within
    /// [`Limits::max_unbound_msrp_bytes`] and
    /// [`Limits::unbound_msrp_timeout`], counted from the first input about
    /// it; else it is closed ([`Output::MsrpClose`]). Prefer
    /// [`msrp_accepted_at`](Self::msrp_accepted_at), which starts the clock
    /// at once, so that a connection that never sends is closed too.
    pub fn msrp_accepted(&mut self) -> ConnectionId {
        let id = ConnectionId(self.fresh_id());
        // Strangers' connections are bounded in number too: over
        // `Limits::max_unbound_msrp_connections` one is closed at once.
        if self.unbound >= self.config.limits.max_unbound_msrp_connections {
            self.out.push_back(Output::MsrpClose { connection: id });
            return id;
        }
        self.unbound += 1;
        self.connections
            .insert(id, Connection::Unbound(Unbound::default()));
        id
    }

    /// [`msrp_accepted`](Self::msrp_accepted), accepted at `now`: the
    /// connection is closed at `now +`
    /// [`Limits::unbound_msrp_timeout`] unless it names a leg by then.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use oma_im::im::server::{ImServer, Output, ServerConfig};
    ///
    /// let config = ServerConfig::new("192.0.2.10:5060".parse().unwrap(),
    ///     "192.0.2.1:5060".parse().unwrap(), "im.example.com");
    /// let timeout = config.limits.unbound_msrp_timeout;
    /// let mut server = ImServer::new(config);
    /// let now = Instant::now();
    /// let silent = server.msrp_accepted_at(now);
    /// assert_eq!(server.poll_timeout(), Some(now + timeout));
    /// server.handle_timeout(now + timeout);
    /// assert_eq!(server.poll_output(), Some(Output::MsrpClose { connection: silent }));
    /// ```
    pub fn msrp_accepted_at(&mut self, now: Instant) -> ConnectionId {
        let id = self.msrp_accepted();
        self.arm_unbound(id, now);
        id
    }

    /// What the server holds against each counted budget (see the
    /// [memory budget](Limits#memory-budget)).
    ///
    /// ```
    /// use oma_im::im::server::{ImServer, ServerConfig};
    ///
    /// let server = ImServer::new(ServerConfig::new("192.0.2.10:5060".parse().unwrap(),
    ///     "192.0.2.1:5060".parse().unwrap(), "im.example.com"));
    /// let memory = server.memory();
    /// assert_eq!((memory.sip, memory.sessions, memory.msrp), (0, 0, 0));
    /// ```
    pub fn memory(&self) -> MemoryUse {
        MemoryUse {
            sip: self.ua.held_bytes(),
            sessions: self.sessions.held_bytes(),
            msrp: self.msrp_buffered,
        }
    }

    /// Whether a set-up, join or subscription of `size` bytes may be
    /// admitted: four times its size still fits in
    /// `Limits::max_session_bytes`.
    fn session_room(&self, size: usize) -> bool {
        self.sessions
            .held_bytes()
            .saturating_add(size.saturating_mul(4))
            <= self.config.limits.max_session_bytes
    }

    /// How many IM Sessions are hosted.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The IM Session Identity of a session.
    pub fn identity(&self, session: SessionId) -> Option<&str> {
        self.sessions.get(&session).map(|s| s.names.identity())
    }

    /// The methods a Participant listed in its Allow header (7.2.1.1: "store
    /// the supported SIP methods"), as received.
    pub fn participant_allow(
        &self,
        session: SessionId,
        participant: ParticipantId,
    ) -> Option<&str> {
        self.sessions
            .get(&session)?
            .participant(participant)?
            .allow
            .as_deref()
    }

    /// The IM Addresses of the Participants in a session (joined ones).
    pub fn participants(&self, session: SessionId) -> Vec<(ParticipantId, &str)> {
        self.sessions
            .get(&session)
            .map(|s| {
                s.participants
                    .iter()
                    .filter(|p| p.state == session::State::Joined)
                    .map(|p| (p.id, p.address.as_str()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `true` when nothing is alive: no session, no transaction, no dialog,
    /// no deadline, no output waiting.
    pub fn is_idle(&self) -> bool {
        self.sessions.is_empty()
            && self.pending_auth.is_empty()
            && self.timers.is_empty()
            && self.out.is_empty()
            && self.ua.is_idle()
    }

    // ----- plumbing -----

    fn fresh_id(&mut self) -> u64 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    fn event(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    /// Moves the user agent's outputs out: transmits to the output queue,
    /// events to `ua_events`.
    fn collect(&mut self) {
        while let Some(output) = self.ua.poll_output() {
            match output {
                dialog::Output::Transmit(t) => self.out.push_back(Output::Transmit(t)),
                dialog::Output::Event(e) => self.ua_events.push_back(e),
            }
        }
    }

    /// Handles the user agent's events until none is left.
    fn pump(&mut self, now: Instant) {
        while let Some(event) = self.ua_events.pop_front() {
            self.on_ua_event(event, now);
        }
        if self.ua_events.capacity() > 1024 {
            self.ua_events = VecDeque::new();
        }
        self.cleanup_timers();
        self.sessions
            .recount(self.config.limits.layers.sdp.max_size);
        self.release_spare();
    }

    /// The session whose IM Session Identity has user part `token`.
    fn session_by_token(&self, token: &str) -> Option<SessionId> {
        let sessions = &self.sessions;
        self.by_token.get(token, |s, token| {
            sessions.get(&s).is_some_and(|s| s.names.token() == token)
        })
    }

    /// The session a Participant's dialog with Call-ID `call_id` is in.
    fn session_by_call_id(&self, call_id: &str) -> Option<SessionId> {
        self.by_call_id
            .get(call_id, |s, c| has_call_id(&self.sessions, s, c))
    }

    /// The Participant whose leg has the MSRP session-id `token`.
    fn leg_by_token(&self, token: &str) -> Option<(SessionId, ParticipantId)> {
        self.by_leg_token
            .get(token, |sp, t| has_leg_token(&self.sessions, sp, t))
    }

    /// Gives back the capacity of tables a burst left mostly empty.
    fn release_spare(&mut self) {
        self.sessions.release_spare();
        self.by_token.release_spare();
        self.by_call_id.release_spare();
        self.by_client_tx.release_spare();
        self.by_server_tx.release_spare();
        self.by_leg_token.release_spare();
        self.connections.release_spare();
        self.pending_auth.release_spare();
        self.pending_subscriptions.release_spare();
        self.by_subscription.release_spare();
        self.cancelled_invites.release_spare();
        self.timers.release_spare();
        self.ua_events.release_spare();
        self.out.release_spare();
    }

    fn schedule(&mut self, at: Instant, timer: Timer) {
        self.timer_seq = self.timer_seq.wrapping_add(1);
        self.timers.push(Reverse((at, self.timer_seq, timer)));
    }

    fn is_live(&self, at: Instant, timer: Timer) -> bool {
        match timer {
            // A refresh moves the dialog's deadline later without a new
            // entry.
            Timer::Refresh(s, p) => self
                .sessions
                .get(&s)
                .and_then(|s| s.participant(p))
                .and_then(|p| p.dialog)
                .and_then(|d| self.ua.dialog_deadline(d))
                .is_some_and(|r| r >= at),
            Timer::Invitation(s, p) => self
                .sessions
                .get(&s)
                .and_then(|s| s.participant(p))
                .is_some_and(|p| {
                    matches!(p.state, session::State::Inviting(_)) && p.invite_deadline == Some(at)
                }),
            Timer::ConnectionLost(s, p) => self
                .sessions
                .get(&s)
                .and_then(|s| s.participant(p))
                .is_some_and(|p| p.is_alive() && p.lost_at == Some(at)),
            Timer::Switch(s) => self
                .sessions
                .get(&s)
                .is_some_and(|s| s.switch_deadline == Some(at)),
            Timer::Subscription(s, d) => self.sessions.get(&s).is_some_and(|s| {
                s.subscribers
                    .iter()
                    .any(|x| x.dialog == d && x.expires_at >= at)
            }),
            Timer::Unbound(c) => matches!(
                self.connections.get(&c),
                Some(Connection::Unbound(u) | Connection::Refused(u)) if u.deadline == Some(at)
            ),
        }
    }

    fn cleanup_timers(&mut self) {
        while let Some(Reverse((at, _, timer))) = self.timers.peek().copied() {
            if self.is_live(at, timer) {
                break;
            }
            self.timers.pop();
        }
    }
}

/// Whether a Participant of session `s` has a dialog with Call-ID `call_id`.
fn has_call_id(sessions: &sessions::Sessions, s: SessionId, call_id: &str) -> bool {
    sessions.get(&s).is_some_and(|s| {
        s.participants
            .iter()
            .any(|p| p.call_id.as_deref() == Some(call_id))
    })
}

/// Whether Participant `p` of session `s` has a leg with session-id `token`.
fn has_leg_token(
    sessions: &sessions::Sessions,
    (s, p): (SessionId, ParticipantId),
    token: &str,
) -> bool {
    sessions
        .get(&s)
        .and_then(|s| s.participant(p))
        .and_then(|p| p.leg.as_ref())
        .is_some_and(|l| *l.token == *token)
}
