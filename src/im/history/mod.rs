//! The IM History Function (OMA-TS-SIMPLE_IM clause 13), sans-IO.
//!
//! [`ImHistoryFunction`] is built on the SIP [`UserAgent`] and one
//! [`MsrpSession`] per session. It plays both sides of clause 13:
//!
//! * **Retrieval, terminating side (13.2.1.1).** An initial INVITE whose
//!   body holds an SDP offer (`a=recvonly`) and a URI-list of history
//!   references is checked in the clause's order: no P-Asserted-Identity
//!   from the trust domain ([`HistoryConfig::trust`], RFC 3325) is refused
//!   with [`HistoryConfig::missing_identity_status`] (403 by default), or
//!   passed on marked `verified: false` under
//!   [`UnverifiedRequests::AcceptMarked`]; the Allow methods are kept, an SDP whose direction is not
//!   `a=recvonly` gets `403 Forbidden`, a body without a URI-list gets
//!   `400 Bad Request` with a Warning naming the reason, and a URI-list
//!   over [`Limits::max_history_references`] gets `413` with a Warning.
//!   Then the application decides, from the asserted identity, whose
//!   history may be read ([`Event::RetrievalRequested`],
//!   [`accept_retrieval`](ImHistoryFunction::accept_retrieval) /
//!   [`reject_retrieval`](ImHistoryFunction::reject_retrieval)). Every
//!   response carries `Server: IM-serv/OMA1.0 ...` and Allow; the 200 OK
//!   carries a Contact with the session's IM Session Identity and an SDP
//!   answer with `a=sendonly`. Each history reference is then asked of the
//!   application ([`Event::HistoryItemRequested`], answered with
//!   [`provide_history_item`](ImHistoryFunction::provide_history_item)) and
//!   its stored message is sent in its own MSRP SEND (13.3.3):
//!   `message/cpim` with the stored message's original `From`, `To` and
//!   `DateTime`, chunked when large, in URI-list order. Once every item is
//!   delivered or reported missing, the History Function sends BYE.
//! * **Recording, originating side (13.3.1.2).** A REFER from an IM Client
//!   whose identity the trust domain asserted (else refused or marked, as
//!   for retrieval) ([`Event::RecordingRequested`], then
//!   [`accept_recording`](ImHistoryFunction::accept_recording)) or the
//!   application itself with an identity from the controlling IM Server's
//!   200 OK ([`start_recording`](ImHistoryFunction::start_recording)) makes
//!   the History Function INVITE the IM Session Identity, with the
//!   initiator's SIP URI in `From` and an SDP offer (`a=recvonly`). On the
//!   200 OK it stores the Allow methods, the IM Session Identity and every
//!   header field ([`Event::RecordingStarted`]), SUBSCRIBEs to the
//!   conference state (7.1.1.11; the user agent's subscription answers the
//!   NOTIFYs, [`Event::ConferenceState`], and refreshes it before it
//!   expires), and reports every message that arrives
//!   over MSRP, with its CPIM headers ([`Event::MessageRecorded`]), until
//!   the session ends.
//!
//! # When it is idle
//!
//! [`ImHistoryFunction::is_idle`] becomes `true` once no recording or
//! retrieval session is left and the transactions of the last messages
//! have ended.
//!
//! The SIP transaction layer keeps each transaction for as long as RFC
//! 3261 requires after its last message, so that retransmissions are
//! absorbed: with the default timers ([`TimerConfig`](crate::transaction::TimerConfig),
//! T1 = 500 ms, T4 = 5 s) that is at most 64×T1 = **32 s** after the last
//! SIP message over UDP (timers D, H and J; an answered INVITE is also kept
//! 64×T1 against late copies, RFC 6026), and T4 = 5 s (timers I and K) or
//! nothing over TCP. A CANCELled INVITE that is never answered is given up
//! 64×T1 after the CANCEL (RFC 3261 §9.1).
//! A recording ends with the recorded session (the IM Server's BYE) and a
//! retrieval once its messages are delivered; the History Function is
//! idle at most 32 s after that, over UDP.
//!
//! # The drain contract
//!
//! After **every** call that takes `now` — `handle_input`, `handle_timeout`
//! and every command — drain [`poll_output`](ImHistoryFunction::poll_output)
//! until it returns `None`: send each [`Output::Transmit`], open the TCP
//! connection of each [`Output::MsrpConnect`] (then report
//! [`Input::MsrpConnected`]), write each [`Output::MsrpTransmit`] on the
//! session's connection, close on [`Output::MsrpClose`], and act on each
//! [`Output::Event`]. A connection a peer opens to
//! [`HistoryConfig::msrp_addr`] is named with
//! [`msrp_accepted_at`](ImHistoryFunction::msrp_accepted_at) and its bytes
//! handed in with [`Input::MsrpAcceptedBytes`]: the History Function binds
//! it to its session ([`Output::MsrpAccepted`]: the session's connection
//! from then on), or answers and closes it itself
//! ([`Output::MsrpConnectionTransmit`], [`Output::MsrpConnectionClose`]). Then sleep until
//! [`poll_timeout`](ImHistoryFunction::poll_timeout) (or the next input) and
//! call [`handle_timeout`](ImHistoryFunction::handle_timeout) with the time
//! it is then. A deadline at or before `now` is handled by the call that
//! receives `now`, so the loop never spins;
//! [`next_deadline`](ImHistoryFunction::next_deadline) says why the next one
//! exists.
//!
//! ```
//! use std::time::Instant;
//! use oma_im::im::history::{Event, HistoryConfig, ImHistoryFunction, Input, Output};
//!
//! let mut history = ImHistoryFunction::new(HistoryConfig::new(
//!     "sip:history@im.example.com",
//!     "192.0.2.50:5060".parse().unwrap(),
//!     "192.0.2.100:5060".parse().unwrap(),
//! ));
//! let mut now = Instant::now();
//! // Record the IM Session an IM Client named (its REFER would do the same).
//! history.start_recording("sip:conf-7@im.example.com", "sip:alice@example.com", now)?;
//!
//! // The run loop (one turn shown): drain, then sleep until the deadline.
//! let mut sent = Vec::new();
//! loop {
//!     while let Some(output) = history.poll_output() {
//!         match output {
//!             Output::Transmit(t) => sent.push(t),  // udp.send_to(&t.bytes, t.destination)
//!             Output::MsrpConnect { .. } => {}      // connect, then Input::MsrpConnected
//!             Output::MsrpTransmit { .. } => {}     // write on the session's connection
//!             Output::MsrpClose { .. } => {}        // close it
//!             Output::MsrpAccepted { .. } => {}     // the session's connection now
//!             Output::MsrpConnectionTransmit { .. } | Output::MsrpConnectionClose { .. } => {}
//!             Output::Event(Event::MessageRecorded { message, .. }) => drop(message), // store it
//!             Output::Event(_) => {}
//!         }
//!     }
//!     // A real loop waits here for input (-> handle_input) or the deadline;
//!     // this one stops after the first retransmission.
//!     match history.poll_timeout() {
//!         Some(deadline) if sent.len() < 2 => {
//!             now = deadline;
//!             history.handle_timeout(now);
//!         }
//!         _ => break,
//!     }
//! }
//! // The INVITE to the IM Session Identity, then its retransmission.
//! assert!(sent.iter().all(|t| t.bytes.starts_with(b"INVITE sip:conf-7@im.example.com SIP/2.0")));
//! assert_eq!(sent.len(), 2);
//! assert!(history.poll_timeout().is_some_and(|t| t > now));
//! # let _ = Input::MsrpClosed { session: history.sessions().next().unwrap() };
//! # Ok::<(), oma_im::im::history::HistoryError>(())
//! ```

mod accept;
mod config;
mod events;
mod retrieval;
mod session;
mod types;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::time::Instant;

pub use config::{HistoryConfig, Limits, UnverifiedRequests};
pub use types::{
    Deadline, DeadlineReason, EndReason, Event, HistoryError, HistorySessionId, Input, Output,
    RecordedMessage, RecordingInfo, RejectReason,
};

use crate::body::cpim::CpimMessageBuf;
use crate::dialog::{
    self, ClientTxId, DialogId, RequestSpec, ResponseSpec, ServerTxId, SubscriptionId,
    TransactionId, UserAgent,
};
use crate::im::trust::{originator, Originator};
use crate::im::{server_release_version, ACCEPT_CONTACT_IM, IM_FEATURE_TAG};
use crate::msrp::session::{self as msrp_session, MsrpSession};
use crate::rng::Rng;
use crate::sdp::offer_answer::{answer, negotiate, offer, LocalParameters, Side};
use crate::sdp::{AcceptTypes, Direction, SessionDescription};
use crate::sip::{Method, MethodSet, SipMessage};
use crate::transaction::OwnedMessage;
use session::{Item, Kind, Recording, RecordingState, Retrieval, RetrievalState, Session};

/// The media type of a conference-state body (RFC 4575).
const CONFERENCE_INFO: &str = "application/conference-info+xml";

/// What a dialog of the user agent is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DialogUse {
    /// The INVITE dialog of a session.
    Invite(HistorySessionId),
    /// The implicit subscription of a REFER (RFC 3515).
    Refer,
}

/// What a client transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxUse {
    /// The INVITE of a recording.
    Invite(HistorySessionId),
    /// The final NOTIFY of this REFER dialog.
    ReferNotify(DialogId),
    /// A BYE.
    Bye,
}

/// An IM History Function: see the [module documentation](self) for what it
/// does, the drain contract and a run loop.
#[derive(Debug)]
pub struct ImHistoryFunction {
    config: HistoryConfig,
    ua: UserAgent,
    rng: Rng,
    /// `Server` / `User-Agent` value.
    release: String,
    /// The Allow value of responses that the user agent does not complete.
    allow: String,
    sessions: BTreeMap<HistorySessionId, Session>,
    dialogs: HashMap<DialogId, DialogUse>,
    transactions: HashMap<ClientTxId, TxUse>,
    /// The conference-state subscriptions of the user agent, by the
    /// recording they serve (the recording may have ended already: the
    /// subscription is ended once the user agent can).
    subscriptions: HashMap<SubscriptionId, HistorySessionId>,
    /// Whether the SIP message being handled came from the trust domain.
    input_trusted: bool,
    next_id: u64,
    /// The MSRP connections accepted on the MSRP address, by name.
    accepted: BTreeMap<crate::im::ConnectionId, accept::Accepted>,
    next_connection: u64,
    out: VecDeque<Output>,
}

impl ImHistoryFunction {
    /// A History Function with no session.
    pub fn new(config: HistoryConfig) -> Self {
        let mut ua_config = dialog::Config::new(
            config.sip_addr,
            config.outbound_proxy,
            config.transport,
            config.seed,
        );
        ua_config.limits = config.limits.ua;
        ua_config.limits.sip = config.limits.layers.sip;
        ua_config.routing = config.routing;
        if let Some(timer) = config.session_timer {
            ua_config = ua_config.with_session_timer(timer);
        }
        let mut allow = MethodSet::new();
        for m in [
            Method::Invite,
            Method::Ack,
            Method::Bye,
            Method::Cancel,
            Method::Options,
            Method::Update,
            Method::Refer,
            Method::Subscribe,
            Method::Notify,
        ] {
            allow.insert(m);
        }
        ua_config.capabilities.allow = allow;
        ua_config
            .capabilities
            .accept
            .extend([crate::body::resource_lists::CONTENT_TYPE, CONFERENCE_INFO]);
        // History retrieval is a URI-list INVITE (RFC 5366 §3).
        ua_config
            .capabilities
            .supported
            .insert(crate::sip::OptionTag::RecipientListInvite);
        // Every Contact carries the IM feature tag.
        ua_config.contact_params = format!(";{IM_FEATURE_TAG}");
        let mut allow_text = Vec::new();
        ua_config.capabilities.allow.write(&mut allow_text);
        let release = server_release_version(&config.product);
        ImHistoryFunction {
            ua: UserAgent::new(ua_config),
            rng: Rng::with_stream(config.seed, 0x6869_7374_6f72_7921),
            release,
            allow: String::from_utf8_lossy(&allow_text).into_owned(),
            config,
            sessions: BTreeMap::new(),
            dialogs: HashMap::new(),
            transactions: HashMap::new(),
            subscriptions: HashMap::new(),
            input_trusted: false,
            next_id: 1,
            accepted: BTreeMap::new(),
            next_connection: 0,
            out: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HistoryConfig {
        &self.config
    }

    /// The live sessions, in creation order.
    pub fn sessions(&self) -> impl Iterator<Item = HistorySessionId> + '_ {
        self.sessions.keys().copied()
    }

    /// What the 200 OK of a recording carried (13.3.1.2 steps 1 to 3).
    pub fn recording_info(&self, session: HistorySessionId) -> Option<&RecordingInfo> {
        match &self.sessions.get(&session)?.kind {
            Kind::Recording(r) => r.info.as_ref(),
            Kind::Retrieval(_) => None,
        }
    }

    /// The local MSRP URI of `session` (the last URI of its `a=path`), once
    /// its MSRP endpoint exists: the URI the first `To-Path` of a
    /// connection the peer opens for the session names.
    pub fn local_msrp_path(&self, session: HistorySessionId) -> Option<&str> {
        let msrp = self.sessions.get(&session)?.msrp.as_ref()?;
        msrp.params().local_path.last().map(String::as_str)
    }

    /// `true` when nothing is alive: no session, no SIP transaction or
    /// dialog, no accepted connection, no deadline, no output waiting.
    pub fn is_idle(&self) -> bool {
        self.sessions.is_empty()
            && self.accepted.is_empty()
            && self.ua.is_idle()
            && self.out.is_empty()
    }

    /// Handles a message from the network or the MSRP connections.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) {
        match input {
            Input::Sip {
                bytes,
                source,
                transport,
            } => {
                // RFC 3325: the requests of this message are handled (by
                // `settle` below) knowing whether it came from the trust
                // domain.
                self.input_trusted = self.config.trust.trusts(source, transport);
                self.ua.handle_input(
                    dialog::Input::Datagram {
                        bytes,
                        source,
                        transport,
                    },
                    now,
                );
                self.settle(now);
                self.input_trusted = false;
            }
            Input::MsrpConnected { session } => {
                self.msrp_input(session, msrp_session::Input::Connected, now)
            }
            Input::MsrpBytes { session, bytes } => {
                self.msrp_input(session, msrp_session::Input::Bytes(bytes), now)
            }
            Input::MsrpClosed { session } => {
                self.msrp_input(session, msrp_session::Input::Closed, now)
            }
            Input::MsrpAcceptedBytes { connection, bytes } => {
                self.accepted_bytes(connection, bytes, now)
            }
            Input::MsrpAcceptedClosed { connection } => self.accepted_closed(connection, now),
        }
        self.settle(now);
    }

    /// Handles the deadlines due at `now`; leaves none at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ua.handle_timeout(now);
        for s in self.sessions.values_mut() {
            if let Some(m) = s.msrp.as_mut() {
                m.handle_timeout(now);
            }
        }
        self.settle(now);
        self.expire_invitations(now);
        self.expire_accepted(now);
    }

    /// The next output; drain until `None` after every call.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The earliest deadline: call [`handle_timeout`](Self::handle_timeout)
    /// then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let msrp = self
            .sessions
            .values()
            .filter_map(|s| s.msrp.as_ref()?.poll_timeout())
            .min();
        let accepted = self.accepted_deadline().map(|(at, _)| at);
        let invitation = self.invitation_deadline().map(|(at, _)| at);
        self.ua
            .poll_timeout()
            .into_iter()
            .chain(msrp)
            .chain(accepted)
            .chain(invitation)
            .min()
    }

    /// The earliest deadline and why it exists.
    pub fn next_deadline(&self) -> Option<Deadline> {
        let sip = self.ua.next_deadline().map(|d| Deadline {
            at: d.at,
            reason: DeadlineReason::Sip(d.reason),
        });
        let msrp = self
            .sessions
            .iter()
            .filter_map(|(id, s)| {
                let d = s.msrp.as_ref()?.poll_deadline()?;
                Some(Deadline {
                    at: d.at,
                    reason: DeadlineReason::Msrp {
                        session: *id,
                        reason: d.reason,
                    },
                })
            })
            .min_by_key(|d| d.at);
        let accepted = self.accepted_deadline().map(|(at, c)| Deadline {
            at,
            reason: DeadlineReason::UnboundMsrp(c),
        });
        let invitation = self.invitation_deadline().map(|(at, s)| Deadline {
            at,
            reason: DeadlineReason::Invitation(s),
        });
        [sip, msrp, accepted, invitation]
            .into_iter()
            .flatten()
            .reduce(|best, d| if d.at < best.at { d } else { best })
    }

    // ----- retrieval commands -----

    /// Accepts a retrieval ([`Event::RetrievalRequested`]): sends the 200 OK
    /// with the `a=sendonly` SDP answer, then asks for every item
    /// ([`Event::HistoryItemRequested`]). An offer that cannot be answered
    /// gets `488` instead ([`Event::RetrievalRefused`]).
    pub fn accept_retrieval(
        &mut self,
        session: HistorySessionId,
        now: Instant,
    ) -> Result<(), HistoryError> {
        let r = self.retrieval(session)?;
        if r.state != RetrievalState::Authorizing {
            return Err(HistoryError::WrongState);
        }
        let (tx, offer_bytes, call_id) = (r.invite_tx, r.offer.clone(), r.call_id.clone());
        let path = self.msrp_path();
        let host = self.config.msrp_addr.ip().to_string();
        let mut local = LocalParameters::new(
            session.0,
            1,
            host.as_str(),
            self.config.msrp_addr.port(),
            path.as_str(),
        );
        local.direction = Direction::SendOnly;
        let parsed =
            SessionDescription::parse_with_limits(&offer_bytes, &self.config.limits.layers.sdp);
        let built = parsed.ok().and_then(|offered| {
            let answered = answer(&offered, &local);
            let params = negotiate(&answered, &offered, Side::Answerer)
                .ok()
                .map(|n| msrp_session::SessionParams::from_negotiated(&n))?;
            Some((answered.to_bytes(), params))
        });
        let msrp = built.and_then(|(body, params)| {
            MsrpSession::new(params, self.msrp_config(session))
                .ok()
                .map(|m| (body, m))
        });
        let Some((body, msrp)) = msrp else {
            self.refuse(tx, &call_id, RejectReason::MediaNotAcceptable, now)?;
            self.sessions.remove(&session);
            self.settle(now);
            return Ok(());
        };
        let identity = format!(
            "sip:history-{}@{}",
            self.rng.token(12),
            self.config.sip_addr
        );
        // 13.2.1.1 step 4: a Contact with the IM Session Identity, which the
        // dialog keeps for its refreshes.
        let spec = ResponseSpec::new(200)
            .with_contact(format!("<{identity}>;{IM_FEATURE_TAG}"))
            .with_header("Server", &self.release)
            .with_body("application/sdp", body);
        self.ua.respond(tx, spec, now)?;
        let dialog = self
            .ua
            .dialogs()
            .find(|d| d.call_id() == call_id && d.role() == dialog::DialogRole::Uas)
            .map(|d| d.id());
        let active = msrp.params().active;
        let destination = msrp.destination().clone();
        let mut requests = Vec::new();
        if let Some(s) = self.sessions.get_mut(&session) {
            s.dialog = dialog;
            s.msrp = Some(msrp);
            if let Kind::Retrieval(r) = &mut s.kind {
                r.state = RetrievalState::Delivering;
                requests = r.references.clone();
            }
        }
        if let Some(d) = dialog {
            self.dialogs.insert(d, DialogUse::Invite(session));
        }
        if active {
            self.out.push_back(Output::MsrpConnect {
                session,
                destination,
            });
        }
        for (index, reference) in requests.into_iter().enumerate() {
            self.event(Event::HistoryItemRequested {
                session,
                index,
                reference,
            });
        }
        self.settle(now);
        Ok(())
    }

    /// Refuses a retrieval ([`Event::RetrievalRequested`]): the requester
    /// may not read that history; `403 Forbidden`.
    pub fn reject_retrieval(
        &mut self,
        session: HistorySessionId,
        now: Instant,
    ) -> Result<(), HistoryError> {
        let r = self.retrieval(session)?;
        if r.state != RetrievalState::Authorizing {
            return Err(HistoryError::WrongState);
        }
        let (tx, call_id) = (r.invite_tx, r.call_id.clone());
        self.refuse(tx, &call_id, RejectReason::NotAuthorized, now)?;
        self.sessions.remove(&session);
        self.settle(now);
        Ok(())
    }

    /// Answers [`Event::HistoryItemRequested`]: the stored message of
    /// reference `index` (with its original `From`, `To` and `DateTime`),
    /// or `None` when there is no such item. Items go out over MSRP in
    /// URI-list order, each in its own message.
    pub fn provide_history_item(
        &mut self,
        session: HistorySessionId,
        index: usize,
        item: Option<CpimMessageBuf>,
        now: Instant,
    ) -> Result<(), HistoryError> {
        let s = self
            .sessions
            .get_mut(&session)
            .ok_or(HistoryError::UnknownSession)?;
        let Kind::Retrieval(r) = &mut s.kind else {
            return Err(HistoryError::WrongState);
        };
        let slot = r.items.get_mut(index).ok_or(HistoryError::UnknownItem)?;
        if *slot != Item::Pending {
            return Err(HistoryError::UnknownItem);
        }
        *slot = match item {
            Some(message) => {
                let mut bytes = Vec::new();
                message.write(&mut bytes);
                Item::Ready(bytes)
            }
            None => Item::Missing,
        };
        self.flush(session, now);
        self.settle(now);
        Ok(())
    }

    // ----- recording commands -----

    /// Accepts a recording asked by REFER ([`Event::RecordingRequested`]):
    /// `202 Accepted`, then the INVITE of 13.3.1.2.
    pub fn accept_recording(
        &mut self,
        session: HistorySessionId,
        now: Instant,
    ) -> Result<(), HistoryError> {
        let r = self.recording(session)?;
        let (Some(tx), RecordingState::Requested) = (r.refer_tx, r.state) else {
            return Err(HistoryError::WrongState);
        };
        let call_id = Some(r.refer_call_id.clone());
        let spec = ResponseSpec::new(202).with_header("Server", &self.release);
        self.ua.respond(tx, spec, now)?;
        let refer_dialog = call_id.and_then(|c| {
            self.ua
                .dialogs()
                .find(|d| d.call_id() == c && d.role() == dialog::DialogRole::Uas)
                .map(|d| d.id())
        });
        if let Some(d) = refer_dialog {
            self.dialogs.insert(d, DialogUse::Refer);
        }
        if let Ok(r) = self.recording_mut(session) {
            r.refer_tx = None;
            r.refer_dialog = refer_dialog;
        }
        self.invite(session, now)?;
        self.settle(now);
        Ok(())
    }

    /// Refuses a recording asked by REFER: `403 Forbidden`.
    pub fn reject_recording(
        &mut self,
        session: HistorySessionId,
        now: Instant,
    ) -> Result<(), HistoryError> {
        let r = self.recording(session)?;
        let (Some(tx), RecordingState::Requested) = (r.refer_tx, r.state) else {
            return Err(HistoryError::WrongState);
        };
        let spec = ResponseSpec::new(403)
            .with_header("Server", &self.release)
            .with_header("Allow", &self.allow);
        self.ua.respond(tx, spec, now)?;
        self.sessions.remove(&session);
        self.settle(now);
        Ok(())
    }

    /// Records the IM Session `im_session_identity` (13.3.1.2) — taken
    /// from a REFER's Refer-To or the controlling IM Server's 200 OK —
    /// with `initiator` (a SIP URI) in the `From` of the INVITE.
    pub fn start_recording(
        &mut self,
        im_session_identity: &str,
        initiator: &str,
        now: Instant,
    ) -> Result<HistorySessionId, HistoryError> {
        if self.sessions.len() >= self.config.limits.max_sessions {
            return Err(HistoryError::TooManySessions);
        }
        if [im_session_identity, initiator]
            .iter()
            .any(|u| u.is_empty() || u.contains(['\r', '\n', '<', '>']))
        {
            return Err(HistoryError::InvalidUri);
        }
        let id = self.new_session(Kind::Recording(Recording {
            state: RecordingState::Requested,
            refer_tx: None,
            refer_call_id: String::new(),
            refer_dialog: None,
            target: im_session_identity.to_owned(),
            initiator: initiator.to_owned(),
            invite_tx: None,
            invite_deadline: None,
            offer: Vec::new(),
            info: None,
            subscription: None,
        }));
        if let Err(e) = self.invite(id, now) {
            self.sessions.remove(&id);
            return Err(e);
        }
        self.settle(now);
        Ok(id)
    }

    /// Stops recording: BYE, and the conference-state subscription ends.
    pub fn stop_recording(
        &mut self,
        session: HistorySessionId,
        now: Instant,
    ) -> Result<(), HistoryError> {
        let s = self
            .sessions
            .get_mut(&session)
            .ok_or(HistoryError::UnknownSession)?;
        let (Kind::Recording(_), Some(dialog), None) = (&s.kind, s.dialog, s.ending) else {
            return Err(HistoryError::WrongState);
        };
        s.ending = Some(EndReason::Local);
        let tx = self.ua.bye(dialog, now)?;
        self.transactions.insert(tx, TxUse::Bye);
        self.settle(now);
        Ok(())
    }

    // ----- plumbing -----

    fn new_session(&mut self, kind: Kind) -> HistorySessionId {
        let id = HistorySessionId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        self.sessions.insert(
            id,
            Session {
                kind,
                msrp: None,
                connection: None,
                dialog: None,
                ending: None,
            },
        );
        id
    }

    fn retrieval(&self, session: HistorySessionId) -> Result<&Retrieval, HistoryError> {
        match &self
            .sessions
            .get(&session)
            .ok_or(HistoryError::UnknownSession)?
            .kind
        {
            Kind::Retrieval(r) => Ok(r),
            Kind::Recording(_) => Err(HistoryError::WrongState),
        }
    }

    fn recording(&self, session: HistorySessionId) -> Result<&Recording, HistoryError> {
        match &self
            .sessions
            .get(&session)
            .ok_or(HistoryError::UnknownSession)?
            .kind
        {
            Kind::Recording(r) => Ok(r),
            Kind::Retrieval(_) => Err(HistoryError::WrongState),
        }
    }

    fn recording_mut(&mut self, session: HistorySessionId) -> Result<&mut Recording, HistoryError> {
        match &mut self
            .sessions
            .get_mut(&session)
            .ok_or(HistoryError::UnknownSession)?
            .kind
        {
            Kind::Recording(r) => Ok(r),
            Kind::Retrieval(_) => Err(HistoryError::WrongState),
        }
    }

    fn event(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    /// A fresh local MSRP URI.
    fn msrp_path(&mut self) -> String {
        format!(
            "msrp://{}/{};tcp",
            self.config.msrp_addr,
            self.rng.token(16)
        )
    }

    fn msrp_config(&self, session: HistorySessionId) -> msrp_session::SessionConfig {
        msrp_session::SessionConfig {
            chunk_size: NonZeroUsize::new(self.config.chunk_size).unwrap_or(NonZeroUsize::MIN),
            limits: self.config.limits.layers.session_limits(),
            // One independent stream of the History Function's seed per session.
            rng_seed: Rng::with_stream(self.config.seed, 0x6d73_7270 ^ session.0.rotate_left(32))
                .fork_seed(),
            cpim: None,
            ..msrp_session::SessionConfig::default()
        }
    }

    fn msrp_input(
        &mut self,
        session: HistorySessionId,
        input: msrp_session::Input<'_>,
        now: Instant,
    ) {
        // The sessions share `Limits::max_msrp_buffered_bytes`: this one
        // may take what the others leave.
        let others: usize = self
            .sessions
            .iter()
            .filter(|(id, _)| **id != session)
            .filter_map(|(_, s)| s.msrp.as_ref())
            .map(MsrpSession::buffered_bytes)
            .sum();
        let budget = self.config.limits.max_msrp_buffered_bytes;
        if let Some(m) = self
            .sessions
            .get_mut(&session)
            .and_then(|s| s.msrp.as_mut())
        {
            m.set_buffer_allowance(budget.saturating_sub(others));
            m.handle_input(input, now);
        }
    }

    /// Refuses the initial INVITE on `tx` (13.2.1.1) with the status of
    /// `reason`, `Server`, Allow and, for a body problem, a Warning.
    fn refuse(
        &mut self,
        tx: ServerTxId,
        call_id: &str,
        reason: RejectReason,
        now: Instant,
    ) -> Result<(), HistoryError> {
        let status = match reason {
            RejectReason::NoAssertedIdentity => self.config.missing_identity_status,
            RejectReason::NotRecvOnly | RejectReason::NotAuthorized => 403,
            RejectReason::NoUriList | RejectReason::MalformedBody => 400,
            RejectReason::TooManyReferences => 413,
            RejectReason::MediaNotAcceptable => 488,
            RejectReason::Busy => 486,
        };
        // The user agent adds Allow (and a Contact) to every response but
        // 100 to an initial INVITE.
        let mut spec = ResponseSpec::new(status).with_header("Server", &self.release);
        if let Some(text) = reason.warning_text() {
            let warning = format!("399 {} \"{text}\"", self.config.sip_addr);
            spec = spec.with_header("Warning", &warning);
        }
        self.ua.respond(tx, spec, now)?;
        // The user agent keeps a dialog for a final non-2xx response to an
        // initial INVITE; no request can use it: forget it.
        let stale: Vec<DialogId> = self
            .ua
            .dialogs()
            .filter(|d| d.call_id() == call_id && !self.dialogs.contains_key(&d.id()))
            .map(|d| d.id())
            .collect();
        for d in stale {
            let _ = self.ua.terminate_dialog(d);
        }
        self.event(Event::RetrievalRefused { status, reason });
        Ok(())
    }

    /// Sends the INVITE of a recording (13.3.1.2 steps 1 to 4).
    fn invite(&mut self, session: HistorySessionId, now: Instant) -> Result<(), HistoryError> {
        let path = self.msrp_path();
        let host = self.config.msrp_addr.ip().to_string();
        let mut local = LocalParameters::new(
            session.0,
            1,
            host.as_str(),
            self.config.msrp_addr.port(),
            path.as_str(),
        );
        local.direction = Direction::RecvOnly;
        local.accept_wrapped_types = Some(AcceptTypes::from_iter(["*"]));
        let body = offer(&local).to_bytes();
        let r = self.recording(session)?;
        let spec = RequestSpec::new(
            Method::Invite,
            &r.target,
            format!("<{}>", r.initiator),
            format!("<{}>", r.target),
        )
        .with_header("Accept-Contact", ACCEPT_CONTACT_IM)
        .with_header("User-Agent", &self.release)
        .with_body("application/sdp", body.clone());
        let tx = self.ua.send_request(spec, now)?;
        self.transactions.insert(tx, TxUse::Invite(session));
        let deadline = now + self.config.invitation_timeout;
        let r = self.recording_mut(session)?;
        r.state = RecordingState::Inviting;
        r.invite_tx = Some(tx);
        r.invite_deadline = Some(deadline);
        r.offer = body;
        Ok(())
    }

    /// Moves every output of the user agent and the MSRP sessions out,
    /// reacting to their events, until nothing moves.
    fn settle(&mut self, now: Instant) {
        loop {
            let mut moved = false;
            while let Some(output) = self.ua.poll_output() {
                moved = true;
                match output {
                    dialog::Output::Transmit(t) => self.out.push_back(Output::Transmit(t)),
                    dialog::Output::Event(e) => self.on_sip_event(e, now),
                }
            }
            let ids: Vec<HistorySessionId> = self
                .sessions
                .iter()
                .filter(|(_, s)| s.msrp.is_some())
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                while let Some(output) = self
                    .sessions
                    .get_mut(&id)
                    .and_then(|s| s.msrp.as_mut())
                    .and_then(MsrpSession::poll_output)
                {
                    moved = true;
                    match output {
                        msrp_session::Output::Transmit(t) => {
                            self.out.push_back(Output::MsrpTransmit {
                                session: id,
                                data: t.data,
                            })
                        }
                        msrp_session::Output::Event(e) => self.on_msrp_event(id, e, now),
                    }
                }
            }
            if !moved {
                if self.accepted.is_empty() {
                    break;
                }
                // Connections that came before their session's SDP
                // exchange completed here.
                let before = self.out.len();
                self.bind_waiting(now);
                if self.out.len() == before {
                    break;
                }
            }
        }
    }

    fn on_sip_event(&mut self, event: dialog::Event, now: Instant) {
        match event {
            dialog::Event::RequestReceived {
                transaction,
                dialog,
                request,
            } => self.on_request(transaction, dialog, &request, now),
            dialog::Event::AckReceived { dialog, .. } => self.on_ack(dialog, now),
            dialog::Event::ResponseReceived {
                transaction,
                dialog,
                response,
            } => self.on_response(transaction, dialog, &response, now),
            dialog::Event::DialogTerminated { dialog, reason, .. } => {
                self.on_dialog_terminated(dialog, reason, now)
            }
            dialog::Event::NotifyReceived {
                subscription,
                request,
                ..
            } => self.on_conference_notify(subscription, &request),
            dialog::Event::SubscriptionActive { subscription, .. } => {
                self.on_subscription_active(subscription, now)
            }
            dialog::Event::SubscriptionTerminated { subscription, .. } => {
                self.on_subscription_terminated(subscription)
            }
            dialog::Event::TransactionTimedOut {
                transaction: TransactionId::Client(tx),
                ..
            }
            | dialog::Event::TransportError {
                transaction: TransactionId::Client(tx),
            } => {
                if let Some(TxUse::Invite(session)) = self.transactions.remove(&tx) {
                    self.recording_failed(session, 408, now);
                }
            }
            _ => {}
        }
    }

    fn respond(&mut self, tx: ServerTxId, status: u16, now: Instant) {
        let spec = ResponseSpec::new(status).with_header("Server", &self.release);
        let spec = if (200..300).contains(&status) {
            spec
        } else {
            spec.with_header("Allow", &self.allow)
        };
        // Fails only when the transaction is already answered or gone.
        let _ = self.ua.respond(tx, spec, now);
    }

    fn on_request(
        &mut self,
        tx: ServerTxId,
        dialog: Option<DialogId>,
        request: &OwnedMessage,
        now: Instant,
    ) {
        let msg = request.message();
        let method = msg.method().unwrap_or_default();
        match (method, dialog) {
            ("INVITE", None) => self.on_retrieval_invite(tx, &msg, now),
            ("REFER", None) => self.on_refer(tx, &msg, now),
            // The conference-state NOTIFYs are answered by the user agent
            // (its subscriptions); no other subscription lives here.
            ("NOTIFY", Some(_)) => self.respond(tx, 481, now),
            ("OPTIONS", _) | ("UPDATE", Some(_)) => self.respond(tx, 200, now),
            ("INVITE", Some(_)) => self.respond(tx, 488, now),
            (_, None) if method == "NOTIFY" => self.respond(tx, 481, now),
            _ => self.respond(tx, 405, now),
        }
    }

    fn on_retrieval_invite(&mut self, tx: ServerTxId, msg: &SipMessage<'_>, now: Instant) {
        let call_id = msg
            .call_id()
            .and_then(Result::ok)
            .map(|c| c.id.to_owned())
            .unwrap_or_default();
        if self.sessions.len() >= self.config.limits.max_sessions {
            let _ = self.refuse(tx, &call_id, RejectReason::Busy, now);
            return;
        }
        let who = self.requester(msg);
        let request = match retrieval::check_invite(msg, &self.config.limits, who.as_ref()) {
            Ok(r) => r,
            Err(reason) => {
                let _ = self.refuse(tx, &call_id, reason, now);
                return;
            }
        };
        let items = vec![Item::Pending; request.references.len()];
        let session = self.new_session(Kind::Retrieval(Retrieval {
            state: RetrievalState::Authorizing,
            invite_tx: tx,
            call_id,
            offer: request.offer,
            references: request.references.clone(),
            items,
            next: 0,
            acked: false,
        }));
        self.event(Event::RetrievalRequested {
            session,
            requester: request.requester,
            verified: request.verified,
            allow: request.allow,
            references: request.references,
        });
    }

    /// The requester of a request: the `P-Asserted-Identity` of the trust
    /// domain, or — when [`UnverifiedRequests::AcceptMarked`] — the `From`,
    /// unverified; `None` when it must be refused.
    fn requester(&self, msg: &SipMessage<'_>) -> Option<Originator> {
        let who = originator(msg, self.input_trusted)?;
        (who.verified || self.config.unverified_requests == UnverifiedRequests::AcceptMarked)
            .then_some(who)
    }

    fn on_refer(&mut self, tx: ServerTxId, msg: &SipMessage<'_>, now: Instant) {
        let target = match msg.refer_to() {
            Some(Ok(to)) => to.uri.to_string(),
            _ => return self.respond(tx, 400, now),
        };
        if self.sessions.len() >= self.config.limits.max_sessions {
            return self.respond(tx, 486, now);
        }
        if msg.from().and_then(Result::ok).is_none() {
            return self.respond(tx, 400, now);
        }
        // RFC 3325: only an identity the trust domain asserted is believed;
        // without one the request is refused, or marked, by configuration.
        let Some(who) = self.requester(msg) else {
            return self.respond(tx, self.config.missing_identity_status, now);
        };
        let (requester, verified) = (who.address, who.verified);
        let call_id = msg
            .call_id()
            .and_then(Result::ok)
            .map(|c| c.id.to_owned())
            .unwrap_or_default();
        let session = self.new_session(Kind::Recording(Recording {
            state: RecordingState::Requested,
            refer_tx: Some(tx),
            refer_call_id: call_id,
            refer_dialog: None,
            target: target.clone(),
            initiator: requester.clone(),
            invite_tx: None,
            invite_deadline: None,
            offer: Vec::new(),
            info: None,
            subscription: None,
        }));
        self.event(Event::RecordingRequested {
            session,
            requester,
            verified,
            im_session_identity: target,
        });
    }
}
