//! The IM Client (OMA-TS-SIMPLE_IM clauses 7.1.1.x and 9.x, and its side
//! of clause 13): sessions, conferences, Large Messages and the IM History
//! Function (recording requests, history retrieval), sans-IO.
//!
//! [`ImClient`] is built on the SIP [`UserAgent`]
//! and one [`MsrpSession`](crate::msrp::session::MsrpSession) per IM
//! session. SIP datagrams, MSRP connection events and bytes, and timer
//! expiries go in ([`ImClient::handle_input`], [`ImClient::handle_timeout`]);
//! user requests are methods ([`ImClient::start_one_to_one`],
//! [`ImClient::start_ad_hoc`], [`ImClient::accept`], ..., and towards the IM
//! History Function [`ImClient::request_recording`] and
//! [`ImClient::retrieve_history`]); SIP transmits,
//! MSRP connection requests and bytes, and [`Event`]s come out of
//! [`ImClient::poll_output`].
//!
//! Beyond the change request: Pager Mode ([`ImClient::send_pager_message`]),
//! delivery and display notifications (RFC 5438, [`imdn`]) and
//! is-composing indications (RFC 3994, [`composing`]).
//!
//! # When it is idle
//!
//! [`ImClient::is_idle`] becomes `true` once nothing is left pending (no
//! session, recording request, subscription, Pager Mode message or other
//! deadline of its own) and the transactions of the last messages have
//! ended.
//!
//! The SIP transaction layer keeps each transaction for as long as RFC
//! 3261 requires after its last message, so that retransmissions are
//! absorbed: with the default timers ([`TimerConfig`](crate::transaction::TimerConfig),
//! T1 = 500 ms, T4 = 5 s) that is at most 64×T1 = **32 s** after the last
//! SIP message over UDP (timers D, H and J; an answered INVITE is also kept
//! 64×T1 against late copies, RFC 6026), and T4 = 5 s (timers I and K) or
//! nothing over TCP. A CANCELled INVITE that is never answered is given up
//! 64×T1 after the CANCEL (RFC 3261 §9.1).
//! A session the user leaves is gone when its BYE (or CANCEL) completes;
//! so the client is idle at most 32 s after it left its last session,
//! over UDP.
//!
//! # The drain contract
//!
//! After **every** call that takes `now` — `handle_input`, `handle_timeout`
//! and every command — drain [`poll_output`](ImClient::poll_output) until it
//! returns `None`: send each [`Output::Transmit`] to its destination, open
//! the TCP connection of each [`Output::MsrpConnect`] (then report
//! [`Input::MsrpConnected`]), write each [`Output::MsrpTransmit`] on the
//! session's connection, close on [`Output::MsrpClose`], and act on each
//! [`Output::Event`]. Connections the peers open to
//! [`ClientConfig::msrp_addr`] are named with
//! [`msrp_accepted_at`](ImClient::msrp_accepted_at) and their bytes handed in
//! as [`Input::MsrpAcceptedBytes`]: the client finds their session itself
//! ([`Output::MsrpAccepted`]). Then sleep until [`poll_timeout`](ImClient::poll_timeout)
//! (or the next input) and call [`handle_timeout`](ImClient::handle_timeout)
//! with the time it is then. A deadline at or before `now` is handled by the
//! call that receives `now`, so the loop never spins;
//! [`next_deadline`](ImClient::next_deadline) says why the next one exists.
//!
//! ```
//! use std::time::Instant;
//! use oma_im::im::client::{ClientConfig, Event, ImClient, Input, Output};
//!
//! let mut alice = ImClient::new(ClientConfig::new(
//!     "sip:alice@example.com",
//!     "sip:conference-factory@im.example.com",
//!     "192.0.2.1:5060".parse().unwrap(),
//!     "192.0.2.100:5060".parse().unwrap(),
//! ));
//! let mut now = Instant::now();
//! let session = alice.start_one_to_one("sip:bob@example.com", now)?;
//!
//! // The run loop (one turn shown): drain, then sleep until the deadline.
//! let mut sent = Vec::new();
//! loop {
//!     while let Some(output) = alice.poll_output() {
//!         match output {
//!             Output::Transmit(t) => sent.push(t), // udp.send_to(&t.bytes, t.destination)
//!             Output::MsrpConnect { .. } => {}     // connect, then Input::MsrpConnected
//!             Output::MsrpTransmit { .. } => {}    // write on the session's connection
//!             Output::MsrpClose { .. } => {}       // close it
//!             // A connection accepted on msrp_addr (msrp_accepted_at, its
//!             // bytes as Input::MsrpAcceptedBytes): it now carries a session,
//!             // or gets these bytes (a 506), or is closed.
//!             Output::MsrpAccepted { .. } => {}
//!             Output::MsrpConnectionTransmit { .. } => {}
//!             Output::MsrpConnectionClose { .. } => {}
//!             Output::Event(event) => println!("{event:?}"),
//!         }
//!     }
//!     // Here a real loop waits for a datagram (-> handle_input) or the
//!     // deadline; this one stops after the first retransmission.
//!     match alice.poll_timeout() {
//!         Some(deadline) if sent.len() < 2 => {
//!             now = deadline;
//!             alice.handle_timeout(now);
//!         }
//!         _ => break,
//!     }
//! }
//! // The INVITE, then its retransmission by timer A.
//! assert!(sent.iter().all(|t| t.bytes.starts_with(b"INVITE sip:bob@example.com SIP/2.0")));
//! assert_eq!(sent.len(), 2);
//! assert!(alice.poll_timeout().is_some_and(|t| t > now));
//! # let _ = session;
//! # Ok::<(), oma_im::im::client::ClientError>(())
//! ```

mod accept;
mod build;
pub mod composing;
mod conference;
mod config;
mod history;
pub mod imdn;
mod pager;
mod referral;
mod session;
mod sip_events;
mod types;
mod user_plane;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

pub use composing::{MAX_RECEIVED_REFRESH, REFRESH_MARGIN};
pub use config::{ClientConfig, LargeMessageGroupTarget, Limits, SessionTimerPreferences};
pub use imdn::{DispositionRequest, ImdnSent, IMDN_NAMESPACE};
pub use pager::{PagerMessageId, Sent};
pub use types::{
    ClientError, Deadline, DeadlineReason, EndReason, Event, ImSessionId, Input, InvitationKind,
    Output, RecordingRequestId, SessionKind, SessionState,
};

use crate::dialog::{
    self, ClientTxId, DialogId, ServerTxId, SessionTimerConfig, SubscriptionId, UserAgent,
};
use crate::im::{client_release_version, ImSessionIdentity, IM_FEATURE_TAG};
use crate::rng::Rng;
use crate::sip::{Method, OptionTag, Refresher, SipUri, Uri};
use session::{Origin, RecordingRequest, Session, State};

/// What a dialog of the user agent is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DialogUse {
    /// The INVITE dialog of a session.
    Invite(ImSessionId),
    /// The implicit subscription of a recording request's REFER.
    Refer(RecordingRequestId),
}

/// What a client transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxUse {
    /// A session's initial INVITE.
    Invite(ImSessionId),
    /// The REFER of a recording request.
    Refer(RecordingRequestId),
    /// A REFER asking the focus of a conference to add or remove a user.
    Referral(ImSessionId),
    /// A Pager Mode MESSAGE.
    Pager(PagerMessageId),
}

/// An IM Client: see the [module documentation](self) for the drain
/// contract and a run loop.
#[derive(Debug)]
pub struct ImClient {
    config: ClientConfig,
    ua: UserAgent,
    /// The User-Agent value (Appendix F).
    release: String,
    rng: Rng,
    next_id: u64,
    sessions: BTreeMap<ImSessionId, Session>,
    client_txs: HashMap<ClientTxId, TxUse>,
    server_txs: HashMap<ServerTxId, ImSessionId>,
    dialogs: HashMap<DialogId, DialogUse>,
    /// The user agent's conference subscriptions, by session.
    subscriptions: HashMap<SubscriptionId, ImSessionId>,
    /// IM Session Identities of conferences, kept for rejoin (7.1.1.9),
    /// oldest first.
    stored_identities: VecDeque<(ImSessionId, ImSessionIdentity)>,
    /// Recording requests to the IM History Function (13.3.1.2).
    recording_requests: BTreeMap<RecordingRequestId, RecordingRequest>,
    /// Disposition notifications (RFC 5438) owed and sent.
    notifications: imdn::Notifications,
    /// Is-composing states (RFC 3994).
    composing: composing::Composing,
    /// MSRP connections the application accepted (passive end).
    accepted: BTreeMap<crate::im::ConnectionId, accept::Accepted>,
    next_connection: u64,
    out: VecDeque<Output>,
}

impl ImClient {
    /// A client with no session.
    pub fn new(config: ClientConfig) -> Self {
        let mut ua_config = dialog::Config::new(
            config.local_sip_addr,
            config.outbound_proxy,
            config.transport,
            config.seed,
        );
        ua_config.limits = config.limits.ua;
        ua_config.limits.sip = config.limits.layers.sip;
        ua_config.routing = config.routing;
        // 9.1.1.1 steps 6 and 7, and the timer of the 200 (RFC 4028): the
        // user agent's session timer writes `Session-Expires:
        // <n>;refresher=uac` and Min-SE, refreshes and supervises expiry.
        if config.session_timer.include_session_expires {
            ua_config.session_timer = Some(SessionTimerConfig {
                session_expires: config.session_timer.session_expires,
                refresher: Some(Refresher::Uac),
                ..SessionTimerConfig::default()
            });
        }
        ua_config.capabilities.allow = config.supported_methods.clone();
        ua_config
            .capabilities
            .supported
            .insert(OptionTag::from_token("timer"));
        ua_config.capabilities.accept.extend([
            "application/conference-info+xml",
            "application/resource-lists+xml",
        ]);
        ua_config.contact_user = match Uri::parse(&config.im_address) {
            Ok(Uri::Sip(SipUri {
                user: Some(user), ..
            })) => Some(user.to_owned()),
            _ => None,
        };
        // 7.1.1.1 / 9.1.1.1 step 4: every Contact carries the IM feature tag.
        ua_config.contact_params = format!(";{IM_FEATURE_TAG}");
        ImClient {
            release: client_release_version(&config.product),
            rng: Rng::with_stream(config.seed, 0x1a5e_55ed),
            ua: UserAgent::new(ua_config),
            config,
            next_id: 1,
            sessions: BTreeMap::new(),
            client_txs: HashMap::new(),
            server_txs: HashMap::new(),
            dialogs: HashMap::new(),
            subscriptions: HashMap::new(),
            stored_identities: VecDeque::new(),
            recording_requests: BTreeMap::new(),
            notifications: imdn::Notifications::default(),
            composing: composing::Composing::default(),
            accepted: BTreeMap::new(),
            next_connection: 0,
            out: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Handles a SIP message or an MSRP connection event.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) {
        match input {
            Input::Sip {
                bytes,
                source,
                transport,
            } => self.ua.handle_input(
                dialog::Input::Datagram {
                    bytes,
                    source,
                    transport,
                },
                now,
            ),
            Input::MsrpConnected { session } => {
                self.msrp_input(session, crate::msrp::session::Input::Connected, now)
            }
            Input::MsrpBytes { session, bytes } => {
                self.msrp_input(session, crate::msrp::session::Input::Bytes(bytes), now)
            }
            Input::MsrpClosed { session } => {
                self.msrp_input(session, crate::msrp::session::Input::Closed, now)
            }
            Input::MsrpAcceptedBytes { connection, bytes } => {
                self.accepted_bytes(connection, bytes, now)
            }
            Input::MsrpAcceptedClosed { connection } => self.accepted_closed(connection, now),
        }
        self.pump(now);
    }

    /// Handles the deadlines due at `now`; leaves none at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ua.handle_timeout(now);
        for session in self.sessions.values_mut() {
            if let Some(msrp) = &mut session.msrp {
                msrp.handle_timeout(now);
            }
        }
        self.pump(now);
        self.expire_recording_requests(now);
        self.composing_timeout(now);
        self.expire_accepted(now);
        self.pump(now);
    }

    /// The next output; drain until `None` after every call.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The earliest deadline: call [`handle_timeout`](Self::handle_timeout)
    /// then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_deadline().map(|d| d.at)
    }

    /// The earliest deadline and why it exists.
    pub fn next_deadline(&self) -> Option<Deadline> {
        let mut best = self.ua.next_deadline().map(|d| Deadline {
            at: d.at,
            reason: DeadlineReason::Sip(d.reason),
        });
        let mut consider = |at: Instant, reason: DeadlineReason| {
            if best.as_ref().is_none_or(|b| at < b.at) {
                best = Some(Deadline { at, reason });
            }
        };
        for (id, s) in &self.sessions {
            if let Some(at) = s.msrp.as_ref().and_then(|m| m.poll_timeout()) {
                consider(at, DeadlineReason::Msrp(*id));
            }
        }
        for (id, r) in &self.recording_requests {
            if let Some(at) = r.guard {
                consider(at, DeadlineReason::RecordingRequest(*id));
            }
        }
        if let Some((at, reason)) = self.composing.next_deadline(&self.sessions) {
            consider(at, reason);
        }
        if let Some((at, connection)) = self.accepted_deadline() {
            consider(at, DeadlineReason::UnboundMsrp(connection));
        }
        best
    }

    /// `true` when no session, recording request, transaction, dialog,
    /// deadline or output is left.
    pub fn is_idle(&self) -> bool {
        self.sessions.is_empty()
            && self.recording_requests.is_empty()
            && self.composing.is_empty()
            && self.accepted.is_empty()
            && self.out.is_empty()
            && self.ua.is_idle()
    }

    /// The SIP user agent underneath (read only).
    pub fn user_agent(&self) -> &UserAgent {
        &self.ua
    }

    /// The IM Session Identity stored for `session`: of the live session,
    /// else the one kept after it ended (for rejoin).
    pub fn session_identity(&self, session: ImSessionId) -> Option<&ImSessionIdentity> {
        self.sessions
            .get(&session)
            .and_then(|s| s.identity.as_ref())
            .or_else(|| {
                self.stored_identities
                    .iter()
                    .find(|(id, _)| *id == session)
                    .map(|(_, identity)| identity)
            })
    }

    /// The methods the peer of `session` supports, as stored from its
    /// Allow header (empty when it sent none).
    pub fn peer_allow(&self, session: ImSessionId) -> Option<&[String]> {
        self.sessions.get(&session).map(|s| s.peer_allow.as_slice())
    }

    /// The session interval (RFC 4028) running for `session`, seconds.
    pub fn session_expires(&self, session: ImSessionId) -> Option<u32> {
        let dialog = self.sessions.get(&session)?.dialog?;
        self.ua.session_timer(dialog).map(|(interval, _)| interval)
    }

    /// The live sessions, oldest first.
    pub fn sessions(&self) -> impl Iterator<Item = ImSessionId> + '_ {
        self.sessions.keys().copied()
    }

    /// The peer of `session`: the Request-URI this client invited (a user,
    /// a Conference-factory-URI, a group, an IM Session Identity), or the
    /// originator of a received invitation.
    pub fn session_peer(&self, session: ImSessionId) -> Option<&str> {
        self.sessions.get(&session).map(|s| s.peer.as_str())
    }

    /// How `session` came to be.
    pub fn session_kind(&self, session: ImSessionId) -> Option<&SessionKind> {
        self.sessions.get(&session).map(|s| &s.origin)
    }

    /// Where the INVITE of `session` stands.
    pub fn session_state(&self, session: ImSessionId) -> Option<SessionState> {
        self.sessions.get(&session).map(|s| s.state)
    }

    /// The Call-ID of the dialog of `session` (or of the INVITE received),
    /// once known.
    pub fn call_id(&self, session: ImSessionId) -> Option<&str> {
        let s = self.sessions.get(&session)?;
        if let Some(d) = s.dialog.and_then(|d| self.ua.dialog(d)) {
            return Some(d.call_id());
        }
        s.incoming_key.as_ref().map(|(call_id, _)| call_id.as_str())
    }

    /// The local MSRP URI of `session` (the `a=path` of this client's SDP).
    pub fn local_msrp_path(&self, session: ImSessionId) -> Option<String> {
        let s = self.sessions.get(&session)?;
        crate::im::accept::msrp_path(&s.local_sdp, &self.config.limits.layers.sdp)?.pop()
    }

    /// The peer's MSRP path of `session` (the `a=path` of its SDP), once
    /// the offer or answer arrived.
    pub fn remote_msrp_path(&self, session: ImSessionId) -> Option<Vec<String>> {
        let s = self.sessions.get(&session)?;
        crate::im::accept::msrp_path(&s.remote_offer, &self.config.limits.layers.sdp)
    }

    /// Whether `session` is established.
    pub fn is_established(&self, session: ImSessionId) -> bool {
        self.sessions
            .get(&session)
            .is_some_and(|s| s.state == State::Established)
    }

    /// The participants of the conference of `session`, as last notified.
    pub fn participants(&self, session: ImSessionId) -> Vec<String> {
        self.sessions
            .get(&session)
            .and_then(|s| s.subscription.as_ref())
            .and_then(|sub| sub.roster.as_ref())
            .map(|roster| roster.participants().map(|u| u.entity.clone()).collect())
            .unwrap_or_default()
    }

    // ----- commands: originating (7.1.1.x, 9.1.x) -----

    /// Establishes a One-to-One IM session with `recipient` (7.1.1.2): an
    /// INVITE to the recipient's address with an SDP offer.
    pub fn start_one_to_one(
        &mut self,
        recipient: &str,
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        self.invite(Origin::OneToOne, recipient, &[], None, now)
    }

    /// Initiates an Ad-hoc IM Conference with `invited` (7.1.1.3): an
    /// INVITE to the Conference-factory-URI with the SDP offer and the URI
    /// list in `multipart/mixed`. A list longer than MAX-ADHOC-GROUP-SIZE
    /// sends nothing: [`Event::AdHocGroupTooLarge`] and
    /// [`ClientError::TooManyInvited`].
    pub fn start_ad_hoc(
        &mut self,
        invited: &[&str],
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        self.check_group_size(invited.len())?;
        let invited: Vec<String> = invited.iter().map(|s| (*s).to_owned()).collect();
        let factory = self.config.conference_factory_uri.clone();
        self.invite(Origin::AdHoc, &factory, &invited, None, now)
    }

    /// Initiates a Pre-Defined IM Conference (7.1.1.4): an INVITE to the
    /// group's identity with an SDP offer.
    pub fn start_pre_defined(
        &mut self,
        group: &str,
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        self.invite(Origin::PreDefined, group, &[], None, now)
    }

    /// Joins the Public Conference `conference` (7.1.1.10): an INVITE to it
    /// with `Content-Type: application/sdp`.
    pub fn join_public_conference(
        &mut self,
        conference: &str,
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        self.invite(Origin::PublicConference, conference, &[], None, now)
    }

    /// Rejoins the conference `session` was in (7.1.1.9): an INVITE to its
    /// stored IM Session Identity. Without one, nothing is sent:
    /// [`Event::RejoinImpossible`] and [`ClientError::NoSessionIdentity`].
    pub fn rejoin(
        &mut self,
        session: ImSessionId,
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        let Some(identity) = self.session_identity(session).cloned() else {
            self.out
                .push_back(Output::Event(Event::RejoinImpossible { session }));
            return Err(ClientError::NoSessionIdentity);
        };
        self.invite(Origin::Rejoin, &identity.uri, &[], None, now)
    }

    /// Rejoins the conference of the IM Session Identity `identity` (7.1.1.9):
    /// an INVITE to it, as [`rejoin`](Self::rejoin) does for a session this
    /// client still remembers. For a new client after a restart, with the
    /// URI the application stored from
    /// [`session_identity`](Self::session_identity) or
    /// [`Event::SessionEstablished`].
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::client::{ClientConfig, ImClient, Output, SessionKind};
    ///
    /// let mut alice = ImClient::new(ClientConfig::new(
    ///     "sip:alice@example.com",
    ///     "sip:conference-factory@im.example.com",
    ///     "192.0.2.1:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(),
    /// ));
    /// let session = alice.rejoin_identity("sip:conf-1@im.example.com", Instant::now())?;
    /// assert_eq!(alice.session_kind(session), Some(&SessionKind::Rejoin));
    /// let Some(Output::Transmit(invite)) = alice.poll_output() else { panic!() };
    /// assert!(invite.bytes.starts_with(b"INVITE sip:conf-1@im.example.com SIP/2.0"));
    /// # Ok::<(), oma_im::im::client::ClientError>(())
    /// ```
    pub fn rejoin_identity(
        &mut self,
        identity: &str,
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        if identity.is_empty() || identity.contains(['\r', '\n', '<', '>']) {
            return Err(ClientError::InvalidUri);
        }
        self.invite(Origin::Rejoin, identity, &[], None, now)
    }

    /// Extends the established One-to-One `session` to an Ad-hoc IM
    /// Conference with `invited` (clause notes §3): an INVITE to the
    /// Conference-factory-URI whose URI list holds the original peer, with a
    /// `Replaces` header for the 1-1 dialog (RFC 3891), and the new invitees.
    pub fn extend_to_conference(
        &mut self,
        session: ImSessionId,
        invited: &[&str],
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        let s = self
            .sessions
            .get(&session)
            .ok_or(ClientError::UnknownSession)?;
        let dialog = match (s.state, &s.origin, s.dialog) {
            (State::Established, Origin::OneToOne, Some(d)) => d,
            _ => return Err(ClientError::WrongState),
        };
        let d = self.ua.dialog(dialog).ok_or(ClientError::WrongState)?;
        let peer = build::with_replaces(&s.peer, d.call_id(), d.remote_tag(), d.local_tag());
        self.check_group_size(invited.len().saturating_add(1))?;
        let mut list = vec![peer];
        list.extend(invited.iter().map(|s| (*s).to_owned()));
        let factory = self.config.conference_factory_uri.clone();
        self.invite(Origin::AdHoc, &factory, &list, None, now)
    }

    /// Sends one Large Message (9.1.x) in its own MSRP session: to the
    /// recipient, or for several to the Conference-factory-URI or the
    /// exploder with the URI list. The session is released (BYE) once the
    /// message is delivered or failed.
    ///
    /// The offer's `a=max-size` is the size of the MSRP message that is
    /// sent: `body` wrapped in `message/cpim`, whose `From` is the user's IM
    /// Address and whose `To` is the URI the INVITE goes to (the recipient,
    /// or the Conference-factory-URI or exploder). A recipient's limit
    /// ([`ClientConfig::max_large_message_size`]) is compared with that
    /// size.
    pub fn send_large_message(
        &mut self,
        recipients: &[&str],
        content_type: &str,
        body: &[u8],
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        let large = Some((content_type.to_owned(), body.to_vec()));
        match recipients {
            [] => Err(ClientError::NoRecipient),
            [one] => {
                let size = self.wrapped_size(one, content_type, body)?;
                self.invite(
                    Origin::LargeMessage,
                    one,
                    &[],
                    large.map(|l| (l, size)),
                    now,
                )
            }
            several => {
                let target = match &self.config.large_message_group_target {
                    LargeMessageGroupTarget::ConferenceFactory => {
                        self.config.conference_factory_uri.clone()
                    }
                    LargeMessageGroupTarget::Exploder(uri) => uri.clone(),
                };
                let list: Vec<String> = several.iter().map(|s| (*s).to_owned()).collect();
                let size = self.wrapped_size(&target, content_type, body)?;
                self.invite(
                    Origin::LargeMessage,
                    &target,
                    &list,
                    large.map(|l| (l, size)),
                    now,
                )
            }
        }
    }

    /// The size of the `message/cpim` message a Large Message of
    /// `content_type` and `body` is sent as, addressed (CPIM `To`) to `to`:
    /// what `a=max-size` announces.
    fn wrapped_size(&self, to: &str, content_type: &str, body: &[u8]) -> Result<u64, ClientError> {
        let message = crate::body::cpim::CpimMessage::new(
            crate::body::cpim::CpimAddress::new(None, &self.config.im_address),
            crate::body::cpim::CpimAddress::new(None, to),
            content_type,
            body,
        )
        .map_err(|_| {
            ClientError::Msrp(crate::msrp::session::SendError::new(
                crate::msrp::session::SendErrorKind::InvalidContentType,
            ))
        })?;
        let mut out = Vec::with_capacity(body.len() + 128);
        message.write(&mut out);
        Ok(u64::try_from(out.len()).unwrap_or(u64::MAX))
    }

    /// Leaves `session`: CANCEL when it is not answered yet, else BYE; the
    /// MSRP connection is closed and the conference subscription ended.
    pub fn leave(&mut self, session: ImSessionId, now: Instant) -> Result<(), ClientError> {
        let s = self
            .sessions
            .get_mut(&session)
            .ok_or(ClientError::UnknownSession)?;
        match s.state {
            State::Inviting => {
                let tx = s.invite.ok_or(ClientError::WrongState)?;
                s.cancelled = true;
                self.ua.cancel(tx, now)?;
            }
            State::Established => {
                let dialog = s.dialog.ok_or(ClientError::WrongState)?;
                s.state = State::Ending;
                self.close_msrp(session);
                self.unsubscribe(session, now);
                self.ua.bye(dialog, now)?;
            }
            State::Invited => return self.reject(session, 603, now),
            State::Ending => return Err(ClientError::WrongState),
        }
        self.pump(now);
        Ok(())
    }

    // ----- commands: terminating -----

    /// Accepts the invitation `session`: 200 with the SDP answer (for a
    /// Large Message `a=recvonly`, 9.2.2), User-Agent and the user's
    /// Authenticated Originator's IM Address.
    pub fn accept(&mut self, session: ImSessionId, now: Instant) -> Result<(), ClientError> {
        let s = self
            .sessions
            .get_mut(&session)
            .ok_or(ClientError::UnknownSession)?;
        let (State::Invited, Some(tx)) = (s.state, s.incoming) else {
            return Err(ClientError::WrongState);
        };
        // The user agent adds Session-Expires and Require (RFC 4028 §9).
        let spec = build::response(&self.config, &self.release, 200, false)
            .with_body("application/sdp", s.local_sdp.clone());
        self.ua.respond(tx, spec, now)?;
        self.server_txs.remove(&tx);
        if let Some(s) = self.sessions.get_mut(&session) {
            s.incoming = None;
            s.state = State::Established;
        }
        self.start_msrp(session, now);
        let identity = self.sessions.get(&session).and_then(|s| s.identity.clone());
        self.event(Event::SessionEstablished { session, identity });
        self.pump(now);
        Ok(())
    }

    /// Rejects the invitation `session` with `status` (e.g. 486 or 603;
    /// 9.2.1 step 1 b), with User-Agent, Allow and the user's address.
    pub fn reject(
        &mut self,
        session: ImSessionId,
        status: u16,
        now: Instant,
    ) -> Result<(), ClientError> {
        if !(300..=699).contains(&status) {
            return Err(ClientError::WrongState);
        }
        let s = self
            .sessions
            .get(&session)
            .ok_or(ClientError::UnknownSession)?;
        let (State::Invited, Some(tx)) = (s.state, s.incoming) else {
            return Err(ClientError::WrongState);
        };
        let spec = build::response(&self.config, &self.release, status, true);
        self.ua.respond(tx, spec, now)?;
        self.server_txs.remove(&tx);
        self.end_session(session, EndReason::Declined(status), now);
        self.pump(now);
        Ok(())
    }

    // ----- plumbing -----

    fn fresh_id(&mut self) -> ImSessionId {
        let id = ImSessionId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    fn event(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    fn check_group_size(&mut self, invited: usize) -> Result<(), ClientError> {
        let max = self.config.max_adhoc_group_size;
        if invited == 0 {
            return Err(ClientError::NoRecipient);
        }
        if invited > max {
            self.event(Event::AdHocGroupTooLarge { invited, max });
            return Err(ClientError::TooManyInvited { invited, max });
        }
        Ok(())
    }

    /// Sends the initial INVITE of a new session (7.1.1.1 and the clause of
    /// `origin`): to `target`, with the SDP offer alone
    /// (`application/sdp`) or with the URI list `invited`.
    fn invite(
        &mut self,
        origin: Origin,
        target: &str,
        invited: &[String],
        large: Option<((String, Vec<u8>), u64)>,
        now: Instant,
    ) -> Result<ImSessionId, ClientError> {
        if self.sessions.len() >= self.config.limits.max_sessions {
            return Err(ClientError::TooManySessions);
        }
        let receive_only = origin == Origin::HistoryRetrieval;
        let sdp = self.new_offer(large.as_ref().map(|(_, size)| *size), receive_only);
        let spec = build::initial_request(&self.config, &self.release, Method::Invite, target);
        let spec = if invited.is_empty() {
            spec.with_body("application/sdp", sdp.clone())
        } else {
            let (content_type, body) = build::offer_with_list(&sdp, invited, self.rng.next_u64());
            // RFC 5366 §3: a URI-list INVITE requires the extension.
            spec.with_header("Require", "recipient-list-invite")
                .with_body(&content_type, body)
        };
        let tx = self.ua.send_request(spec, now)?;
        let id = self.fresh_id();
        let mut s = Session::new(origin, State::Inviting, target.to_owned());
        s.invite = Some(tx);
        s.local_sdp = sdp;
        if large.is_some() {
            s.large_message_to = Some(target.to_owned());
        }
        s.large_message = large.map(|(l, _)| l);
        s.receive_only = receive_only;
        self.sessions.insert(id, s);
        self.client_txs.insert(tx, TxUse::Invite(id));
        self.pump(now);
        Ok(id)
    }

    /// A fresh SDP offer with a new MSRP session id in the path;
    /// `a=recvonly` when `receive_only` (a history retrieval, 13.2.1.1).
    fn new_offer(&mut self, large_message: Option<u64>, receive_only: bool) -> Vec<u8> {
        let (path, host, sdp_id) = self.new_path();
        let mut local = build::local_parameters(&self.config, sdp_id, &path, &host);
        if receive_only {
            local.direction = crate::sdp::Direction::RecvOnly;
        }
        build::offer(&local, large_message)
    }

    /// A new local MSRP URI, the host, and an SDP session id.
    fn new_path(&mut self) -> (String, String, u64) {
        let token = self.rng.token(12);
        let path = format!("msrp://{}/{token};tcp", self.config.msrp_addr);
        let host = self.config.msrp_addr.ip().to_string();
        (path, host, self.rng.below(1 << 40))
    }

    /// Moves the user agent's output out, handling its events, then the
    /// MSRP sessions' output, until nothing is left.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut moved = false;
            while let Some(output) = self.ua.poll_output() {
                moved = true;
                match output {
                    dialog::Output::Transmit(t) => self.out.push_back(Output::Transmit(t)),
                    dialog::Output::Event(e) => self.on_ua_event(e, now),
                }
            }
            moved |= self.drain_msrp(now);
            if !moved {
                break;
            }
        }
        if !self.accepted.is_empty() {
            self.bind_waiting(now);
            self.drain_msrp(now);
        }
    }

    /// Forgets session `id` and reports why it ended.
    fn end_session(&mut self, id: ImSessionId, reason: EndReason, now: Instant) {
        self.close_msrp(id);
        if let Some(s) = self.sessions.remove(&id) {
            if let Some(tx) = s.incoming {
                self.server_txs.remove(&tx);
            }
            if let Some(sub) = &s.subscription {
                // Ends with the user agent's SubscriptionTerminated, or
                // already ended.
                let _ = self.ua.unsubscribe(sub.id, now);
                self.subscriptions.remove(&sub.id);
            }
            if let Some(d) = s.dialog {
                self.dialogs.remove(&d);
            }
            self.client_txs.retain(|_, u| match u {
                TxUse::Invite(s) | TxUse::Referral(s) => *s != id,
                TxUse::Refer(_) | TxUse::Pager(_) => true,
            });
            self.event(Event::SessionEnded {
                session: id,
                reason,
            });
        }
    }

    /// Keeps the IM Session Identity of a conference for rejoin.
    fn store_identity(&mut self, id: ImSessionId, identity: &ImSessionIdentity) {
        if !identity.is_focus || self.config.limits.max_stored_identities == 0 {
            return;
        }
        self.stored_identities.retain(|(s, _)| *s != id);
        if self.stored_identities.len() >= self.config.limits.max_stored_identities {
            self.stored_identities.pop_front();
        }
        self.stored_identities.push_back((id, identity.clone()));
    }
}
