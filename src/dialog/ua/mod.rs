//! The user agent core (RFC 3261 §8, §12 to §15): transactions and dialogs
//! behind one sans-IO interface.

mod config;
mod incoming;
mod index;
mod outgoing;
mod routing;
mod session_timer;
mod subscription;
mod types;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use smallvec::SmallVec;

pub use config::{Config, Limits};
use index::DialogIndex;
pub use routing::Routing;
pub use session_timer::{RefreshMethod, SessionTimerConfig};
use session_timer::{SessionDeadline, SessionTimer};
use subscription::{SubDeadline, Subscription};
pub use subscription::{SubscribeSpec, SubscriptionConfig, SubscriptionEnd, SubscriptionId};
pub use types::{
    ClientTxId, Deadline, DeadlineReason, DialogRequestSpec, DropReason, Event, Input, Output,
    RequestSpec, ResponseSpec, ServerTxId, TerminationReason, TransactionId, UaError,
};

use super::state::is_target_refresh;
use super::{Dialog, DialogId, DialogOwner, DialogState};
use crate::hash::IdMap;
use crate::rng::Rng;
use crate::sip::{parse_message_with, HeaderName, Method};
use crate::slab::Slab;
use crate::spare::Spare;
use crate::transaction::{
    cancel_for, reason_phrase, ClientKey, ClientState, ClientTransaction, OwnedMessage, ServerKey,
    ServerState, ServerTransaction, Timer, TransactionOutput, Transmit, Transport,
};

/// Where a request goes and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hop {
    destination: SocketAddr,
    transport: Transport,
}

/// A client transaction and what the UA core knows about it.
#[derive(Debug)]
struct ClientEntry {
    tx: ClientTransaction,
    key: ClientKey,
    /// The dialog of an in-dialog request.
    dialog: Option<DialogId>,
    /// The INVITE set of an out-of-dialog INVITE: (Call-ID, From tag).
    invite_set: Option<InviteSetKey>,
    /// An out-of-dialog REFER: its (Call-ID, From tag).
    refer: Option<(String, String)>,
    cancel: CancelState,
    /// CANCELs are the UA's own business: no events for them.
    internal: bool,
    scheduled: Option<(Instant, Timer)>,
    /// Its bytes as last counted in the UA's byte budget.
    held: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CancelState {
    None,
    /// CANCEL asked before any provisional: sent on the first one (§9.1).
    Pending,
    Sent,
}

/// A server transaction and what the UA core knows about it.
#[derive(Debug)]
struct ServerEntry {
    tx: ServerTransaction,
    key: ServerKey,
    dialog: Option<DialogId>,
    /// The To tag of our responses.
    to_tag: String,
    scheduled: Option<(Instant, Timer)>,
    /// The request's (Call-ID, From tag, CSeq) when it came outside a
    /// dialog: the key merged requests are found by (§8.2.2.2).
    merge_key: Option<MergeKey>,
    /// Its bytes as last counted in the UA's byte budget.
    held: usize,
}

/// Call-ID, From tag, CSeq number and method of a request received outside
/// a dialog (RFC 3261 §8.2.2.2).
type MergeKey = (String, String, u32, String);

/// An INVITE this UA sent, across its forks and retries: its Call-ID and
/// From tag, in one shared string (`call-id from-tag`: neither holds a
/// space), so that the client transaction, the dialogs and the expiry
/// queue that name the set share it instead of copying it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct InviteSetKey(std::sync::Arc<str>);

impl InviteSetKey {
    fn new(call_id: &str, from_tag: &str) -> Self {
        InviteSetKey([call_id, " ", from_tag].concat().into())
    }

    fn call_id(&self) -> &str {
        self.0.split_once(' ').map_or(&*self.0, |(c, _)| c)
    }

    fn local_tag(&self) -> &str {
        self.0.split_once(' ').map_or("", |(_, t)| t)
    }
}

/// The dialogs an INVITE this UA sent created, across forks (§13.2.2.4).
#[derive(Debug)]
struct InviteSet {
    request: OwnedMessage,
    seq: u32,
    tx: Option<ClientTxId>,
    dialogs: SmallVec<[DialogId; 2]>,
    confirmed: Option<DialogId>,
    /// With session timers: the application's spec, the Session-Expires
    /// and Min-SE sent, for the retry after a 422 (RFC 4028 §7.4).
    session: Option<(RequestSpec, u32, u32)>,
    /// Its bytes as last counted in the UA's byte budget.
    held: usize,
}

/// The UAS core's retransmission of a 2xx to INVITE (§13.3.1.4).
#[derive(Debug)]
struct Pending2xx {
    transmit: Transmit,
    interval: Duration,
    next: Instant,
    give_up: Instant,
}

impl Pending2xx {
    fn deadline(&self) -> Instant {
        self.next.min(self.give_up)
    }
}

/// A dialog and the UA core's state around it.
#[derive(Debug)]
struct DialogEntry {
    dialog: Dialog,
    /// UAC: the CSeq number and branch of the ACK of the 2xx, made and
    /// sent again for each retransmitted 2xx.
    ack: Option<(u32, [u8; outgoing::BRANCH_LEN])>,
    pending_2xx: Option<Box<Pending2xx>>,
    invite_set: Option<Box<InviteSetKey>>,
    /// Why the BYE we sent was sent, reported when it completes.
    bye_reason: Option<TerminationReason>,
    /// The session timer (RFC 4028), when one was negotiated.
    session: Option<SessionTimer>,
    /// The last session description this UA sent, for re-INVITE refreshes.
    session_body: Option<Box<(String, Vec<u8>)>>,
    /// The subscriptions (RFC 6665) this dialog carries.
    subscriptions: SmallVec<[SubscriptionId; 1]>,
    /// Its bytes as last counted in the UA's byte budget.
    held: usize,
    /// What the application keeps with it.
    owner: Option<DialogOwner>,
    /// A deadline the application keeps with it (the UA does not act on
    /// it).
    deadline: Option<Instant>,
}

/// What an entry costs beyond the texts it holds: its own size and the
/// slots of the maps it is found in.
const MAP_SLOT: usize = 48;
const CLIENT_FIXED: usize = std::mem::size_of::<ClientEntry>() + 2 * MAP_SLOT;
const SERVER_FIXED: usize = std::mem::size_of::<ServerEntry>() + 3 * MAP_SLOT;
const DIALOG_FIXED: usize = std::mem::size_of::<DialogEntry>() + 3 * MAP_SLOT;
const INVITE_SET_FIXED: usize = std::mem::size_of::<InviteSet>() + MAP_SLOT;

impl DialogEntry {
    /// What the dialog holds: itself, its state and the messages it keeps
    /// (the ACK of its 2xx, a 2xx awaiting its ACK, its session
    /// description).
    fn held_bytes(&self) -> usize {
        self.dialog
            .held_bytes()
            .saturating_add(DIALOG_FIXED)
            .saturating_add(
                self.pending_2xx
                    .as_ref()
                    .map_or(0, |p| p.transmit.bytes.len()),
            )
            .saturating_add(
                self.session_body
                    .as_ref()
                    .map_or(0, |body| body.0.len().saturating_add(body.1.len())),
            )
    }
}

/// A SIP user agent core: client and server transactions, dialogs, CANCEL,
/// stateless answers, over any transport, without I/O.
///
/// # The drain contract
///
/// After **every** call that takes `now` (`handle_input`, `handle_timeout`
/// and the commands), drain [`poll_output`](Self::poll_output) until it
/// returns `None`: send each [`Output::Transmit`] and act on each
/// [`Output::Event`]. Then sleep until [`poll_timeout`](Self::poll_timeout)
/// (or the next datagram) and call [`handle_timeout`](Self::handle_timeout)
/// with the time it is then. A deadline at or before `now` is handled by the
/// call that receives `now`: after any call, `poll_timeout` is in the future
/// (or `None`), so the loop never spins.
/// [`next_deadline`](Self::next_deadline) says why the next deadline exists.
///
/// ```
/// use std::time::{Duration, Instant};
/// use oma_im::dialog::{Config, Event, Input, Output, RequestSpec, ResponseSpec, UserAgent};
/// use oma_im::sip::Method;
/// use oma_im::transaction::Transport;
///
/// let addrs = ["192.0.2.1:5060".parse().unwrap(), "192.0.2.2:5060".parse().unwrap()];
/// // Each one's outbound proxy is the other: a direct link.
/// let mut uas = [
///     UserAgent::new(Config::new(addrs[0], addrs[1], Transport::Udp, 1)),
///     UserAgent::new(Config::new(addrs[1], addrs[0], Transport::Udp, 2)),
/// ];
/// let mut now = Instant::now();
/// uas[0].send_request(RequestSpec::new(Method::Message, "sip:bob@192.0.2.2",
///     "<sip:alice@192.0.2.1>", "<sip:bob@192.0.2.2>")
///     .with_body("text/plain", b"Hello".to_vec()), now)?;
///
/// // The run loop: drain each side, deliver what crossed the wire, answer
/// // requests; when nothing moves, jump to the earliest deadline.
/// let mut answered = false;
/// loop {
///     let mut progress = false;
///     for me in 0..2 {
///         while let Some(output) = uas[me].poll_output() {
///             progress = true;
///             match output {
///                 Output::Transmit(t) => uas[1 - me].handle_input(Input::Datagram {
///                     bytes: &t.bytes, source: addrs[me], transport: t.transport }, now),
///                 Output::Event(Event::RequestReceived { transaction, request, .. }) => {
///                     assert_eq!(request.message().body(), b"Hello");
///                     uas[me].respond(transaction, ResponseSpec::new(200), now)?;
///                 }
///                 Output::Event(Event::ResponseReceived { response, .. }) => {
///                     answered = response.message().status_code() == Some(200);
///                 }
///                 Output::Event(_) => {}
///             }
///         }
///     }
///     if progress {
///         continue;
///     }
///     match uas.iter().filter_map(UserAgent::poll_timeout).min() {
///         Some(deadline) => {
///             now = now.max(deadline);
///             uas.iter_mut().for_each(|ua| ua.handle_timeout(now));
///         }
///         None => break,
///     }
/// }
/// assert!(answered);
/// assert!(uas.iter().all(UserAgent::is_idle));
/// # Ok::<(), oma_im::dialog::UaError>(())
/// ```
#[derive(Debug)]
pub struct UserAgent {
    config: Config,
    rng: Rng,
    /// The Allow value of `config.capabilities`, written once: every
    /// dialog-creating request and response carries it.
    allow_text: Box<[u8]>,
    next_id: u64,
    /// The SIP bytes held, as counted for `Limits::max_held_bytes`.
    held: usize,
    clients: IdMap<ClientTxId, ClientEntry>,
    /// By branch and method: keys the user agent drew itself (the
    /// responses looked up carry any), hence the fast hasher.
    client_keys: IdMap<ClientKey, ClientTxId>,
    servers: IdMap<ServerTxId, ServerEntry>,
    server_keys: HashMap<ServerKey, ServerTxId>,
    /// In place, in chunks that never move: a dialog is read without a box
    /// to follow.
    dialogs: Slab<DialogId, DialogEntry>,
    /// Dialogs by key (§12), and by (Call-ID, remote tag): an INVITE
    /// outside any dialog that names one of them is a stale copy of the
    /// request that created it.
    index: DialogIndex,
    /// Server transactions of requests received outside a dialog, by
    /// their merge key (§8.2.2.2).
    merge_keys: HashMap<MergeKey, ServerTxId>,
    /// By the (Call-ID, From tag) the user agent drew for the INVITE.
    invite_sets: IdMap<InviteSetKey, InviteSet>,
    /// INVITEs answered with 2xx, by key, for 64*T1 (RFC 6026 §8.7's
    /// Accepted state): their retransmissions get the 2xx again or are
    /// absorbed, never taken for new calls.
    accepted: HashMap<ServerKey, DialogId>,
    /// When each accepted INVITE is forgotten, oldest first.
    accepted_expiry: VecDeque<(Instant, ServerKey)>,
    /// When each INVITE set with a 2xx is forgotten (64*T1 after its first
    /// 2xx, RFC 6026 Timer M), oldest first: its dialogs live on alone.
    answered_expiry: VecDeque<(Instant, InviteSetKey)>,
    /// Subscriptions (RFC 6665), by id.
    subscriptions: IdMap<SubscriptionId, Subscription>,
    /// Subscriptions by dialog and Event (type, id).
    subscription_keys: HashMap<(DialogId, (String, Option<String>)), SubscriptionId>,
    /// Subscriptions sent whose dialog does not exist yet, by the
    /// SUBSCRIBE's (Call-ID, From tag).
    pending_subscriptions: HashMap<(String, String), SubscriptionId>,
    /// The subscription each SUBSCRIBE (and final NOTIFY) in flight serves.
    subscription_txs: IdMap<ClientTxId, SubscriptionId>,
    /// Out-of-dialog REFERs in flight, by (Call-ID, From tag): a NOTIFY of
    /// their implicit subscription may overtake the 2xx (RFC 6665
    /// §4.1.2.4, RFC 3515).
    pending_refers: HashMap<(String, String), ClientTxId>,
    /// The dialog such an early NOTIFY created, by REFER, while the REFER's
    /// transaction exists.
    refer_dialogs: IdMap<ClientTxId, DialogId>,
    deadlines: BinaryHeap<Reverse<(Instant, u64, DeadlineReason)>>,
    /// When the heap holds more entries than this, the entries of
    /// deadlines no longer scheduled (a forgotten transaction, a timer
    /// rescheduled) are dropped: twice what was live at the last
    /// compaction, so the heap stays within a constant factor of the live
    /// deadlines at amortized constant cost.
    compact_at: usize,
    deadline_seq: u64,
    out: VecDeque<Output>,
}

impl UserAgent {
    /// A user agent with no transaction and no dialog.
    pub fn new(config: Config) -> Self {
        let mut allow_text = Vec::new();
        config.capabilities.allow.write(&mut allow_text);
        UserAgent {
            rng: Rng::new(config.seed),
            allow_text: allow_text.into_boxed_slice(),
            config,
            next_id: 1,
            held: 0,
            clients: IdMap::default(),
            client_keys: IdMap::default(),
            servers: IdMap::default(),
            server_keys: HashMap::new(),
            dialogs: Slab::default(),
            index: DialogIndex::default(),
            merge_keys: HashMap::new(),
            invite_sets: IdMap::default(),
            accepted: HashMap::new(),
            accepted_expiry: VecDeque::new(),
            answered_expiry: VecDeque::new(),
            subscriptions: IdMap::default(),
            subscription_keys: HashMap::new(),
            pending_subscriptions: HashMap::new(),
            subscription_txs: IdMap::default(),
            pending_refers: HashMap::new(),
            refer_dialogs: IdMap::default(),
            deadlines: BinaryHeap::new(),
            compact_at: 64,
            deadline_seq: 0,
            out: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles a message from the network.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) {
        match input {
            Input::Datagram {
                bytes,
                source,
                transport,
            } => match parse_message_with(bytes, &self.config.limits.sip) {
                Ok(message) => {
                    let owned = || OwnedMessage::parsed(bytes.to_vec(), &message);
                    self.on_message(&message, owned, source, transport, now);
                }
                Err(error) => self.on_unparsable(bytes, error, source, transport),
            },
            Input::Message {
                message,
                source,
                transport,
            } => {
                let limits = self.config.limits.sip;
                match OwnedMessage::from_message(&message, limits) {
                    Ok(owned) => self.on_message(&message, move || owned, source, transport, now),
                    Err(error) => self.event(Event::MessageDropped {
                        source,
                        reason: DropReason::Malformed(error),
                    }),
                }
            }
        }
        self.process_due(now);
    }

    /// Reports that the transport could not deliver to `destination` (a
    /// failed send, a TCP connection lost): every transaction sending there
    /// over `transport` fails (§17.1.4, §17.2.4) with
    /// [`Event::TransportError`]; a failed request in a dialog ends it. This
    /// rare path visits every live transaction.
    pub fn handle_transport_error(
        &mut self,
        destination: SocketAddr,
        transport: Transport,
        now: Instant,
    ) {
        let clients: Vec<ClientTxId> = self
            .clients
            .iter()
            .filter(|(_, e)| e.tx.destination() == destination && e.tx.transport() == transport)
            .map(|(id, _)| *id)
            .collect();
        for id in clients {
            if let Some(e) = self.clients.get_mut(&id) {
                e.tx.handle_transport_error();
            }
            self.drive_client(id, now);
        }
        let servers: Vec<ServerTxId> = self
            .servers
            .iter()
            .filter(|(_, e)| e.tx.destination() == destination && e.tx.transport() == transport)
            .map(|(id, _)| *id)
            .collect();
        for id in servers {
            if let Some(e) = self.servers.get_mut(&id) {
                e.tx.handle_transport_error();
            }
            self.drive_server(id);
        }
        self.process_due(now);
    }

    /// Handles the deadlines due at `now`; leaves none at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.process_due(now);
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
        self.deadlines
            .peek()
            .map(|Reverse((at, _, reason))| Deadline {
                at: *at,
                reason: *reason,
            })
    }

    /// Sends a request outside any dialog; an INVITE may create dialogs.
    pub fn send_request(&mut self, spec: RequestSpec, now: Instant) -> Result<ClientTxId, UaError> {
        if matches!(spec.method, Method::Ack | Method::Cancel) {
            return Err(UaError::NotAllowed);
        }
        self.check_client_room()?;
        let branch = outgoing::new_branch(&mut self.rng);
        let from_tag = self.rng.token(10);
        let call_id = self.rng.token(20);
        let seq = 1;
        // An INVITE keeps the application's spec, for a retry after 422:
        // the one sent, without the fields the session timer appended.
        let (spec, session) = match (&self.config.session_timer, spec.method == Method::Invite) {
            (Some(st), true) => {
                let (se, min) = (st.session_expires, st.min_se);
                let own = spec.headers.len();
                let sent = session_timer::with_session_headers(spec, st, se, min);
                (sent, Some((own, se, min)))
            }
            _ => (spec, None),
        };
        let request = outgoing::request(
            &self.config,
            &self.allow_text,
            &spec,
            (&branch, &from_tag, &call_id),
            seq,
        )
        .map_err(UaError::InvalidMessage)?;
        let (request, hop) = self.route(request, false)?;
        let refer = (spec.method == Method::Refer).then(|| (call_id.clone(), from_tag.clone()));
        let invite_set =
            (spec.method == Method::Invite).then(|| InviteSetKey::new(&call_id, &from_tag));
        let session = session.map(|(own, se, min)| {
            let mut kept = spec;
            kept.headers.truncate(own);
            (kept, se, min)
        });
        let id = self.start_client(
            (request.clone(), hop),
            branch,
            None,
            invite_set.clone(),
            false,
            now,
        );
        if let Some(key) = refer {
            if let Some(entry) = self.clients.get_mut(&id) {
                entry.refer = Some(key.clone());
                self.pending_refers.insert(key, id);
            }
        }
        if let Some(key) = invite_set {
            self.invite_sets.insert(
                key.clone(),
                InviteSet {
                    request,
                    seq,
                    tx: Some(id),
                    dialogs: SmallVec::new(),
                    confirmed: None,
                    session,
                    held: 0,
                },
            );
            self.recount_invite_set(&key);
        }
        self.process_due(now);
        Ok(id)
    }

    /// The dialog with key (Call-ID, local tag, remote tag).
    fn find_dialog(&self, call_id: &str, local: &str, remote: &str) -> Option<DialogId> {
        let dialogs = &self.dialogs;
        self.index.find((call_id, local, remote), |d| {
            dialogs.get(&d).map(|e| e.dialog.ids())
        })
    }

    /// Sends a request inside a dialog (BYE, re-INVITE, UPDATE, INFO,
    /// REFER, NOTIFY, MESSAGE, ...), with the next local CSeq.
    pub fn send_in_dialog(
        &mut self,
        dialog: DialogId,
        spec: DialogRequestSpec,
        now: Instant,
    ) -> Result<ClientTxId, UaError> {
        let id = self.request_in_dialog(dialog, &spec, now)?;
        self.process_due(now);
        Ok(id)
    }

    /// Sends BYE in `dialog`; it is terminated when the BYE completes.
    pub fn bye(&mut self, dialog: DialogId, now: Instant) -> Result<ClientTxId, UaError> {
        self.send_in_dialog(dialog, DialogRequestSpec::new(Method::Bye), now)
    }

    /// Cancels a pending INVITE (§9.1): the CANCEL goes now if a provisional
    /// response arrived, else on the first one.
    pub fn cancel(&mut self, invite: ClientTxId, now: Instant) -> Result<(), UaError> {
        let entry = self
            .clients
            .get_mut(&invite)
            .ok_or(UaError::UnknownTransaction)?;
        if !entry.tx.is_invite() || entry.cancel != CancelState::None {
            return Err(UaError::NotCancellable);
        }
        match entry.tx.state() {
            ClientState::Calling => entry.cancel = CancelState::Pending,
            ClientState::Proceeding => self.send_cancel(invite, now),
            _ => return Err(UaError::NotCancellable),
        }
        self.process_due(now);
        Ok(())
    }

    /// Answers a server transaction with a final response (300 to 699) and
    /// forgets the transaction at once, as a stateless UAS would (RFC 3261
    /// §8.2.7): nothing of the request is kept, so a request refused under
    /// load holds no bytes while its timers would run. A retransmission of
    /// the request is then a new request, answered again; the ACK of the
    /// response matches no transaction and is dropped. The response goes out
    /// once, as [`respond`](Self::respond) would send it.
    ///
    /// Only a transaction that has sent no provisional response can be
    /// forgotten: a stateless UAS sends no 1xx (§8.2.7), and a client that
    /// got one retransmits its INVITE no more (§17.1.1.2), so a lost final
    /// response would never be asked for again. An INVITE transaction,
    /// which has sent 100 Trying (§17.2.1), is therefore answered as by
    /// [`respond`](Self::respond): it keeps the request's identifying
    /// fields and its response, retransmits the response until the ACK
    /// (§17.2.1) and ends with its timers.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use oma_im::dialog::{Config, Event, Input, Output, ResponseSpec, UserAgent};
    /// use oma_im::transaction::Transport;
    ///
    /// let config = Config::new("192.0.2.1:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(), Transport::Udp, 1);
    /// let mut ua = UserAgent::new(config);
    /// let now = Instant::now();
    /// let refuse = |ua: &mut UserAgent, request: &[u8]| {
    ///     ua.handle_input(Input::Datagram { bytes: request,
    ///         source: "192.0.2.9:5060".parse().unwrap(), transport: Transport::Udp }, now);
    ///     let mut transaction = None;
    ///     while let Some(output) = ua.poll_output() {
    ///         if let Output::Event(Event::RequestReceived { transaction: t, .. }) = output {
    ///             transaction = Some(t);
    ///         }
    ///     }
    ///     ua.respond_and_forget(transaction.unwrap(), ResponseSpec::new(503), now).unwrap();
    ///     std::iter::from_fn(|| ua.poll_output()).any(|o|
    ///         matches!(o, Output::Transmit(t) if t.bytes.starts_with(b"SIP/2.0 503")))
    /// };
    /// let message = b"MESSAGE sip:ua@192.0.2.1 SIP/2.0\r\n\
    ///     Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK76\r\nMax-Forwards: 70\r\n\
    ///     From: <sip:a@example.com>;tag=1\r\nTo: <sip:ua@example.com>\r\n\
    ///     Call-ID: c0\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
    /// assert!(refuse(&mut ua, message));
    /// assert!(ua.is_idle());
    /// // An INVITE got 100 Trying: its 503 is kept for retransmission until
    /// // the ACK, or Timer H.
    /// let invite = b"INVITE sip:ua@192.0.2.1 SIP/2.0\r\n\
    ///     Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK77\r\nMax-Forwards: 70\r\n\
    ///     From: <sip:a@example.com>;tag=1\r\nTo: <sip:ua@example.com>\r\n\
    ///     Call-ID: c1\r\nCSeq: 1 INVITE\r\nContact: <sip:a@192.0.2.9>\r\n\
    ///     Content-Length: 0\r\n\r\n";
    /// assert!(refuse(&mut ua, invite));
    /// assert!(!ua.is_idle());
    /// ua.handle_timeout(now + Duration::from_secs(32));
    /// while ua.poll_output().is_some() {}
    /// assert!(ua.is_idle());
    /// ```
    pub fn respond_and_forget(
        &mut self,
        transaction: ServerTxId,
        spec: ResponseSpec,
        now: Instant,
    ) -> Result<(), UaError> {
        if !(300..=699).contains(&spec.status) {
            return Err(UaError::NotAllowed);
        }
        // §8.2.7: after a provisional response (an INVITE's 100 Trying) the
        // transaction stays, to retransmit the final response.
        if self
            .servers
            .get(&transaction)
            .is_some_and(|e| e.tx.is_invite())
        {
            return self.respond(transaction, spec, now);
        }
        self.respond_inner(transaction, spec, now, true)?;
        if let Some(entry) = self.servers.remove(&transaction) {
            self.held = self.held.saturating_sub(entry.held);
            self.server_keys.remove(&entry.key);
            if let Some(merge) = entry.merge_key {
                if self.merge_keys.get(&merge) == Some(&transaction) {
                    self.merge_keys.remove(&merge);
                }
            }
        }
        self.cleanup();
        Ok(())
    }

    /// Responds on a server transaction. A To tag is added to every response
    /// but 100; a 1xx (other than 100) or 2xx to INVITE, SUBSCRIBE or REFER
    /// outside a dialog creates one (early for 1xx) and carries a Contact;
    /// a 2xx to INVITE is retransmitted until the ACK (§13.3.1.4).
    pub fn respond(
        &mut self,
        transaction: ServerTxId,
        spec: ResponseSpec,
        now: Instant,
    ) -> Result<(), UaError> {
        self.respond_inner(transaction, spec, now, false)
    }

    /// [`respond`](Self::respond); `forget`: the transaction is dropped
    /// right after, so its request is not shrunk first.
    fn respond_inner(
        &mut self,
        transaction: ServerTxId,
        spec: ResponseSpec,
        now: Instant,
        forget: bool,
    ) -> Result<(), UaError> {
        if !(100..=699).contains(&spec.status) {
            return Err(UaError::NotAllowed);
        }
        let entry = self
            .servers
            .get(&transaction)
            .ok_or(UaError::UnknownTransaction)?;
        if !matches!(
            entry.tx.state(),
            ServerState::Trying | ServerState::Proceeding
        ) {
            return Err(UaError::AlreadyFinal);
        }
        let code = spec.status;
        // The request's view borrows the transaction: read, not copied.
        let msg = entry.tx.request().message();
        let method = msg.method().unwrap_or_default();
        let invite = method == "INVITE";
        // A response to a dialog-creating request received outside a dialog
        // (no To tag) carries Contact and Allow (and echoes Record-Route)
        // whatever its code — also the 2xx that confirms the early dialog
        // an earlier 1xx created; it creates a dialog only when it is a 2xx,
        // or (INVITE) an early one from a 101-199: a 300-699 final response
        // creates none (§12.1.1).
        let outside = !entry.tx.request_to_tagged();
        let answers_initial = matches!(method, "INVITE" | "SUBSCRIBE" | "REFER")
            && outside
            && ((invite && code > 100) || (200..300).contains(&code));
        let creating = answers_initial && code < 300 && entry.dialog.is_none();
        let refresh =
            entry.dialog.is_some() && is_target_refresh(method) && (200..300).contains(&code);
        let to_tag = (code > 100).then_some(entry.to_tag.as_str());
        if let Some(reason) = &spec.reason {
            // After `SIP/2.0 NNN `.
            crate::sip::check_reason_phrase(reason, 12).map_err(UaError::InvalidMessage)?;
        }
        let reason = spec.reason.as_deref().unwrap_or(reason_phrase(code));
        let mut w = entry.tx.response_to_parsed(&msg, code, reason, to_tag);
        if code > 100 && (answers_initial || is_target_refresh(method)) {
            // §12.1.1: the Record-Route of the request goes back unchanged
            // in every response that creates or confirms a dialog; echoed
            // too for target refreshes inside one (re-INVITE, UPDATE,
            // SUBSCRIBE refresh, NOTIFY — including the NOTIFY that creates
            // the subscriber's dialog, RFC 6665 §4.1.2.4), whose route set
            // the UAC keeps unchanged (§12.2.1.2).
            for rr in msg.header_values(HeaderName::RecordRoute) {
                w.header("Record-Route", rr.value);
            }
        }
        let capabilities = answers_initial || refresh;
        if capabilities {
            // A typed set: valid as written.
            w.header_with("Allow", |out| out.extend_from_slice(&self.allow_text));
        }
        // What follows is appended to fields copied from the request (and
        // Allow), which the parser accepted: only the appended ones are
        // checked below.
        let (appended_at, copied) = (w.len(), w.fields());
        // The Contact: the response's own for a dialog-creating answer, the
        // dialog's for a refresh (and the 2xx confirming an early dialog)
        // unless the response names its own.
        let contact = if answers_initial && entry.dialog.is_none() {
            spec.contact.as_deref()
        } else {
            spec.contact.as_deref().or_else(|| {
                entry
                    .dialog
                    .and_then(|d| self.dialogs.get(&d))
                    .and_then(|e| e.dialog.local_contact())
            })
        };
        if capabilities {
            w.header_with("Contact", |out| {
                outgoing::write_contact(out, &self.config, contact)
            });
        }
        let session = if (200..300).contains(&code) {
            self.session_uas_answer(&msg, &spec.headers)
        } else {
            None
        };
        if let Some(answer) = &session {
            let [se, require] = Self::session_answer_headers(answer);
            w.header(&se.0, &se.1);
            if answer.require {
                w.header(&require.0, &require.1);
            }
        }
        for (name, value) in &spec.headers {
            w.header(name, value);
        }
        if let Some(ct) = &spec.content_type {
            w.header("Content-Type", ct);
        }
        let appended = appended_at..w.len();
        let bytes = w.finish(&spec.body);
        let check = crate::sip::Appended {
            message: &bytes,
            fields: core::slice::from_ref(&appended),
            // Content-Length included.
            other_fields: copied + 1,
            present: crate::sip::Present::RESPONSE,
            content_length: spec.body.len(),
            method: None,
        };
        crate::sip::check_appended(&check, &self.config.limits.sip, None)
            .map_err(UaError::InvalidMessage)?;

        // Dialog state (§12.1.1, §13.3.1).
        let mut dialog = entry.dialog;
        let to_tag = entry.to_tag.clone();
        // Kept by the dialog of a 2xx to INVITE only (RFC 6026 Accepted).
        let key = (invite && (200..300).contains(&code)).then(|| entry.key.clone());
        let (destination, transport) = (entry.tx.destination(), entry.tx.transport());
        if creating {
            if self.dialogs.len() >= self.config.limits.max_dialogs {
                return Err(UaError::TooManyDialogs);
            }
            // The slab's key, on the field: `msg` still borrows the
            // transaction.
            let id = self.dialogs.vacant_key().ok_or(UaError::TooManyDialogs)?;
            let confirmed = code >= 200;
            let created = Dialog::from_request(
                id,
                &msg,
                &to_tag,
                // A created dialog answers outside any: the response's own.
                spec.contact.as_deref(),
                confirmed,
                self.config.limits.max_route_set,
            );
            if let Some(d) = created {
                self.insert_dialog(d, None);
                dialog = Some(id);
                if let Some(e) = self.servers.get_mut(&transaction) {
                    e.dialog = Some(id);
                }
                self.event(if confirmed {
                    Event::DialogEstablished { dialog: id }
                } else {
                    Event::DialogEarly { dialog: id }
                });
            }
        } else if let Some(id) = dialog {
            if let (true, Some(own), Some(e)) = (refresh, &spec.contact, self.dialogs.get_mut(&id))
            {
                if e.dialog.set_local_contact(own) {
                    self.recount_dialog(id);
                }
            }
            let established = match self.dialogs.get_mut(&id) {
                Some(e) if (200..300).contains(&code) => {
                    let was_early = e.dialog.state == DialogState::Early;
                    e.dialog.state = DialogState::Confirmed;
                    was_early
                }
                _ => false,
            };
            if established {
                self.event(Event::DialogEstablished { dialog: id });
            }
        }
        if let (Some(answer), Some(id)) = (&session, dialog) {
            let body = match (&spec.content_type, invite) {
                (Some(ct), true) => Some((ct.clone(), spec.body.clone())),
                _ => None,
            };
            self.session_uas_started(id, answer, body, now);
        }
        if let (true, Some(id)) = (invite, dialog) {
            let early = self
                .dialogs
                .get(&id)
                .is_some_and(|e| e.dialog.state == DialogState::Early);
            if code >= 300 && early {
                self.remove_dialog(id, TerminationReason::FinalResponse(code));
            } else if let Some(key) = key {
                self.accept_invite(id, key, bytes.clone(), destination, transport, now);
            }
        }
        if let Some(id) = dialog {
            self.debug_check_counted(id);
        }
        if let Some(e) = self.servers.get_mut(&transaction) {
            // The state was checked above and the bytes are a response.
            let _ = e.tx.respond(bytes, now);
            if !forget {
                e.tx.release_request();
            }
        }
        self.drive_server(transaction);
        self.process_due(now);
        Ok(())
    }

    /// The checks of RFC 3261 §8.2.2.3 and §8.2.3 on the request of server
    /// transaction `transaction`, for a core that screens Request-URIs
    /// ([`Config::core_screens_request_uri`]): a Require naming an option
    /// tag supported neither in the capabilities nor in `also_supported`
    /// (extensions served only at this Request-URI, such as
    /// `recipient-list-invite` at a Conference-factory-URI, RFC 5366 §5) is
    /// answered 420 with Unsupported, a body of a type not accepted 415
    /// with Accept, and the answer's status is returned as
    /// [`UaError::Refused`]. `Ok` when the request may be processed.
    pub fn check_extensions(
        &mut self,
        transaction: ServerTxId,
        also_supported: &[crate::sip::OptionTag<'_>],
        now: Instant,
    ) -> Result<(), UaError> {
        let entry = self
            .servers
            .get(&transaction)
            .ok_or(UaError::UnknownTransaction)?;
        let msg = entry.tx.request().message();
        let Err(rejection) =
            crate::transaction::check_extensions(&msg, &self.config.capabilities, also_supported)
        else {
            return Ok(());
        };
        let mut spec = ResponseSpec::new(rejection.status);
        spec.reason = Some(rejection.reason);
        if let Some((name, value)) = rejection.header {
            spec = spec.with_header(name, value);
        }
        self.respond(transaction, spec, now)?;
        Err(UaError::Refused {
            status: rejection.status,
        })
    }

    /// Forgets `dialog` at once, sending nothing (for dialog usages ended by
    /// other means, such as an expired subscription).
    pub fn terminate_dialog(&mut self, dialog: DialogId) -> Result<(), UaError> {
        if !self.dialogs.contains_key(&dialog) {
            return Err(UaError::UnknownDialog);
        }
        self.remove_dialog(dialog, TerminationReason::Local);
        self.cleanup();
        Ok(())
    }

    /// The dialog `id`, if it is alive.
    pub fn dialog(&self, id: DialogId) -> Option<&Dialog> {
        self.dialogs.get(&id).map(|e| &e.dialog)
    }

    /// What the application keeps with dialog `id`
    /// ([`set_dialog_owner`](Self::set_dialog_owner)).
    pub fn dialog_owner(&self, id: DialogId) -> Option<DialogOwner> {
        self.dialogs.get(&id).and_then(|e| e.owner)
    }

    /// Keeps `owner` with dialog `id` (or nothing, with `None`) until the
    /// dialog ends, when [`Event::DialogTerminated`] gives it back; `false`
    /// when there is no such dialog. One lookup then finds the dialog and
    /// what the application made of it, with no map of the application's
    /// own to keep in step.
    pub fn set_dialog_owner(&mut self, id: DialogId, owner: Option<DialogOwner>) -> bool {
        match self.dialogs.get_mut(&id) {
            Some(e) => {
                e.owner = owner;
                true
            }
            None => false,
        }
    }

    /// The deadline the application keeps with dialog `id`
    /// ([`set_dialog_deadline`](Self::set_dialog_deadline)).
    pub fn dialog_deadline(&self, id: DialogId) -> Option<Instant> {
        self.dialogs.get(&id).and_then(|e| e.deadline)
    }

    /// Keeps `deadline` with dialog `id` (or none, with `None`) for the
    /// application, which reads it back with
    /// [`dialog_deadline`](Self::dialog_deadline); the user agent does
    /// not act on it (it is not one of its
    /// [`poll_timeout`](Self::poll_timeout) deadlines). `false` when there
    /// is no such dialog. State the application changes on every request
    /// of a dialog (a refresh deadline) is then read and written where the
    /// dialog is, with nothing else to look up.
    pub fn set_dialog_deadline(&mut self, id: DialogId, deadline: Option<Instant>) -> bool {
        match self.dialogs.get_mut(&id) {
            Some(e) => {
                e.deadline = deadline;
                true
            }
            None => false,
        }
    }

    /// The dialog of the implicit subscription of out-of-dialog REFER
    /// `refer` when a NOTIFY created it before the REFER's 2xx arrived
    /// (RFC 6665 §4.1.2.4, RFC 3515 §2.4.4), while the REFER's transaction
    /// exists. (A dialog the 2xx creates is in its
    /// [`Event::ResponseReceived`].)
    pub fn refer_dialog(&self, refer: ClientTxId) -> Option<DialogId> {
        self.refer_dialogs.get(&refer).copied()
    }

    /// Every live dialog.
    pub fn dialogs(&self) -> impl Iterator<Item = &Dialog> {
        self.dialogs.values().map(|e| &e.dialog)
    }

    /// The request client transaction `transaction` sends, while it is
    /// alive: e.g. the Call-ID of an INVITE just sent.
    pub fn client_request(&self, transaction: ClientTxId) -> Option<&OwnedMessage> {
        self.clients.get(&transaction).map(|e| e.tx.request())
    }

    /// How many client transactions are alive.
    pub fn client_transaction_count(&self) -> usize {
        self.clients.len()
    }

    /// How many server transactions are alive.
    pub fn server_transaction_count(&self) -> usize {
        self.servers.len()
    }

    /// The state of a live client transaction.
    pub fn client_state(&self, id: ClientTxId) -> Option<ClientState> {
        self.clients.get(&id).map(|e| e.tx.state())
    }

    /// The state of a live server transaction.
    pub fn server_state(&self, id: ServerTxId) -> Option<ServerState> {
        self.servers.get(&id).map(|e| e.tx.state())
    }

    /// `true` when nothing is alive: no transaction, no dialog, no deadline,
    /// no output waiting.
    pub fn is_idle(&self) -> bool {
        self.clients.is_empty()
            && self.servers.is_empty()
            && self.dialogs.is_empty()
            && self.invite_sets.is_empty()
            && self.accepted.is_empty()
            && self.subscriptions.is_empty()
            && self.pending_subscriptions.is_empty()
            && self.subscription_txs.is_empty()
            && self.pending_refers.is_empty()
            && self.deadlines.is_empty()
            && self.out.is_empty()
            // Nothing is held: the byte count came back to zero.
            && self.held == 0
    }

    // ----- plumbing -----

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    fn event(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    fn transmit(&mut self, transmit: Transmit) {
        self.out.push_back(Output::Transmit(transmit));
    }

    fn check_client_room(&self) -> Result<(), UaError> {
        if self.clients.len() >= self.config.limits.max_transactions
            || self.held >= self.config.limits.max_held_bytes
        {
            Err(UaError::TooManyTransactions)
        } else {
            Ok(())
        }
    }

    /// Whether a new dialog may be created: under the dialog count and the
    /// byte budget.
    fn dialog_room(&self) -> bool {
        self.dialogs.len() < self.config.limits.max_dialogs
            && self.held < self.config.limits.max_held_bytes
    }

    /// The SIP bytes the UA holds (transactions, INVITE sets, dialogs), as
    /// counted in its byte budget
    /// ([`Limits::max_held_bytes`](super::Limits::max_held_bytes)).
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Counts a dialog's bytes again after a change.
    fn recount_dialog(&mut self, id: DialogId) {
        if let Some(e) = self.dialogs.get_mut(&id) {
            let held = e.held_bytes();
            self.held = self.held.saturating_sub(e.held).saturating_add(held);
            e.held = held;
        }
    }

    /// Debug builds: checks that dialog `id`'s bytes, as last counted, are
    /// what it holds (the count is skipped after changes of no size).
    pub(super) fn debug_check_counted(&self, id: DialogId) {
        if cfg!(debug_assertions) {
            if let Some(e) = self.dialogs.get(&id) {
                assert_eq!(e.held, e.held_bytes(), "dialog {id:?} counted stale");
            }
        }
    }

    /// Counts an INVITE set's bytes again (its request) after a change.
    fn recount_invite_set(&mut self, key: &InviteSetKey) {
        if let Some(set) = self.invite_sets.get_mut(key) {
            let held = set.request.bytes().len() + INVITE_SET_FIXED;
            self.held = self.held.saturating_sub(set.held).saturating_add(held);
            set.held = held;
        }
    }

    fn schedule(&mut self, at: Instant, reason: DeadlineReason) {
        self.deadline_seq = self.deadline_seq.wrapping_add(1);
        self.deadlines
            .push(Reverse((at, self.deadline_seq, reason)));
        if self.deadlines.len() > self.compact_at {
            let heap = std::mem::take(&mut self.deadlines);
            self.deadlines = heap
                .into_iter()
                .filter(|Reverse((at, _, reason))| self.is_live(*at, *reason))
                .collect();
            self.compact_at = self.deadlines.len().saturating_mul(2).max(64);
        }
    }

    /// Whether a heap entry still describes a scheduled deadline.
    fn is_live(&self, at: Instant, reason: DeadlineReason) -> bool {
        match reason {
            DeadlineReason::Client { transaction, timer } => self
                .clients
                .get(&transaction)
                .is_some_and(|e| e.scheduled == Some((at, timer))),
            DeadlineReason::Server { transaction, timer } => self
                .servers
                .get(&transaction)
                .is_some_and(|e| e.scheduled == Some((at, timer))),
            DeadlineReason::Retransmit2xx { dialog } => self
                .dialogs
                .get(&dialog)
                .and_then(|e| e.pending_2xx.as_ref())
                .is_some_and(|p| p.deadline() == at),
            DeadlineReason::AcceptedInvite => {
                self.accepted_expiry.front().is_some_and(|(t, _)| *t == at)
            }
            DeadlineReason::AnsweredInvite => {
                self.answered_expiry.front().is_some_and(|(t, _)| *t == at)
            }
            DeadlineReason::SessionRefresh { dialog } => {
                self.session_deadline_live(dialog, at, SessionDeadline::Refresh)
            }
            DeadlineReason::SessionExpiry { dialog } => {
                self.session_deadline_live(dialog, at, SessionDeadline::Expiry)
            }
            DeadlineReason::SubscriptionRefresh { subscription } => {
                self.sub_deadline_live(subscription, at, SubDeadline::Refresh)
            }
            DeadlineReason::SubscriptionExpiry { subscription } => {
                self.sub_deadline_live(subscription, at, SubDeadline::Expiry)
            }
        }
    }

    /// Drops stale deadlines from the top of the heap (and the expiries
    /// of INVITE sets released already from the front of their queue).
    fn cleanup(&mut self) {
        let mut purged = false;
        while self
            .answered_expiry
            .front()
            .is_some_and(|(_, key)| !self.invite_sets.contains_key(key))
        {
            self.answered_expiry.pop_front();
            purged = true;
        }
        if let Some(&(next, _)) = self.answered_expiry.front().filter(|_| purged) {
            self.schedule(next, DeadlineReason::AnsweredInvite);
        }
        while let Some(Reverse((at, _, reason))) = self.deadlines.peek().copied() {
            if self.is_live(at, reason) {
                break;
            }
            self.deadlines.pop();
        }
    }

    /// Handles every deadline due at `now`.
    fn process_due(&mut self, now: Instant) {
        self.cleanup();
        while let Some(Reverse((at, _, reason))) = self.deadlines.peek().copied() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            if !self.is_live(at, reason) {
                continue;
            }
            match reason {
                DeadlineReason::Client { transaction, .. } => {
                    if let Some(e) = self.clients.get_mut(&transaction) {
                        e.scheduled = None;
                        e.tx.handle_timeout(now);
                    }
                    self.drive_client(transaction, now);
                }
                DeadlineReason::Server { transaction, .. } => {
                    if let Some(e) = self.servers.get_mut(&transaction) {
                        e.scheduled = None;
                        e.tx.handle_timeout(now);
                    }
                    self.drive_server(transaction);
                }
                DeadlineReason::Retransmit2xx { dialog } => self.on_2xx_timer(dialog, now),
                DeadlineReason::AcceptedInvite => {
                    while self.accepted_expiry.front().is_some_and(|(t, _)| *t <= now) {
                        if let Some((_, key)) = self.accepted_expiry.pop_front() {
                            self.accepted.remove(&key);
                        }
                    }
                    // Only the front's deadline is live (compaction drops
                    // the others): the next one is scheduled again.
                    if let Some(&(next, _)) = self.accepted_expiry.front() {
                        self.schedule(next, DeadlineReason::AcceptedInvite);
                    }
                }
                DeadlineReason::AnsweredInvite => {
                    while self.answered_expiry.front().is_some_and(|(t, _)| *t <= now) {
                        if let Some((_, key)) = self.answered_expiry.pop_front() {
                            self.forget_invite_set(&key);
                        }
                    }
                    if let Some(&(next, _)) = self.answered_expiry.front() {
                        self.schedule(next, DeadlineReason::AnsweredInvite);
                    }
                }
                DeadlineReason::SessionRefresh { dialog } => self.on_session_refresh(dialog, now),
                DeadlineReason::SessionExpiry { dialog } => self.on_session_expiry(dialog, now),
                DeadlineReason::SubscriptionRefresh { subscription } => {
                    self.on_subscription_deadline(subscription, SubDeadline::Refresh, now)
                }
                DeadlineReason::SubscriptionExpiry { subscription } => {
                    self.on_subscription_deadline(subscription, SubDeadline::Expiry, now)
                }
            }
            self.cleanup();
        }
        self.release_spare();
    }

    /// Gives back the capacity of tables a burst left mostly empty.
    fn release_spare(&mut self) {
        self.clients.release_spare();
        self.client_keys.release_spare();
        self.servers.release_spare();
        self.server_keys.release_spare();
        self.dialogs.release_spare();
        self.index.release_spare();
        self.merge_keys.release_spare();
        self.invite_sets.release_spare();
        self.accepted.release_spare();
        self.accepted_expiry.release_spare();
        self.answered_expiry.release_spare();
        self.deadlines.release_spare();
        self.out.release_spare();
    }

    /// Where `request` goes under the configured [`Routing`] (`strict`: the
    /// dialog's first route is a strict router, so the Request-URI names
    /// the next hop), and the request with its top Via naming the transport
    /// chosen: TCP for a request over
    /// [`Config::max_udp_request_size`] that would go over UDP (§18.1.1).
    fn route(&self, request: OwnedMessage, strict: bool) -> Result<(OwnedMessage, Hop), UaError> {
        let (destination, mut transport) = match self.config.routing {
            Routing::OutboundProxy | Routing::PreloadedRoute => {
                (self.config.outbound_proxy, self.config.transport)
            }
            Routing::RequestTarget => {
                routing::next_hop(&request.message(), strict, self.config.transport)
                    .map_err(UaError::Unroutable)?
            }
        };
        if !transport.is_reliable() && request.bytes().len() > self.config.max_udp_request_size {
            transport = Transport::Tcp;
        }
        let hop = Hop {
            destination,
            transport,
        };
        if transport == self.config.transport {
            return Ok((request, hop));
        }
        let mut request = request;
        // Three octets of the Via's transport token changed for another
        // valid token: the message is still the one validated.
        request.patch(|bytes| {
            routing::set_top_via_transport(bytes, transport);
        });
        Ok((request, hop))
    }

    /// [`route`](Self::route) for the bytes of a request the user agent
    /// wrote itself, under a routing that does not read the request
    /// (not [`Routing::RequestTarget`]).
    fn route_bytes(&self, mut bytes: Vec<u8>) -> (Vec<u8>, Hop) {
        let destination = self.config.outbound_proxy;
        let mut transport = self.config.transport;
        if !transport.is_reliable() && bytes.len() > self.config.max_udp_request_size {
            transport = Transport::Tcp;
            routing::set_top_via_transport(&mut bytes, transport);
        }
        (
            bytes,
            Hop {
                destination,
                transport,
            },
        )
    }

    /// Starts a client transaction for a routed request (see
    /// [`route`](Self::route)).
    fn start_client(
        &mut self,
        (request, hop): (OwnedMessage, Hop),
        branch: String,
        dialog: Option<DialogId>,
        invite_set: Option<InviteSetKey>,
        internal: bool,
        now: Instant,
    ) -> ClientTxId {
        let id = ClientTxId(self.fresh_id());
        let key = ClientKey::new(&branch, request.request_method().unwrap_or_default());
        // An INVITE inside a dialog is a re-INVITE (RFC 3261 §14).
        let reinvite = dialog.is_some() && key.method() == "INVITE";
        let tx = ClientTransaction::start_known(
            request,
            reinvite,
            hop.destination,
            hop.transport,
            self.config.timers,
            now,
        );
        self.client_keys.insert(key.clone(), id);
        self.clients.insert(
            id,
            ClientEntry {
                tx,
                key,
                dialog,
                invite_set,
                refer: None,
                cancel: CancelState::None,
                internal,
                scheduled: None,
                held: 0,
            },
        );
        self.drive_client(id, now);
        id
    }

    /// Builds and starts an in-dialog request.
    fn request_in_dialog(
        &mut self,
        dialog: DialogId,
        spec: &DialogRequestSpec,
        now: Instant,
    ) -> Result<ClientTxId, UaError> {
        if matches!(spec.method, Method::Ack | Method::Cancel) {
            return Err(UaError::NotAllowed);
        }
        self.check_client_room()?;
        let branch = outgoing::new_branch(&mut self.rng);
        let entry = self
            .dialogs
            .get_mut(&dialog)
            .ok_or(UaError::UnknownDialog)?;
        let seq = entry
            .dialog
            .local_seq
            .checked_add(1)
            .ok_or(UaError::NotAllowed)?
            .max(1);
        let bytes = outgoing::in_dialog(&self.config, &entry.dialog, spec, &branch, seq);
        let strict = entry.dialog.first_route_is_strict();
        let request = OwnedMessage::with_limits(bytes, self.config.limits.sip)
            .map_err(UaError::InvalidMessage)?;
        let (request, hop) = self.route(request, strict)?;
        let Some(entry) = self.dialogs.get_mut(&dialog) else {
            return Err(UaError::UnknownDialog);
        };
        entry.dialog.local_seq = seq;
        if spec.method == Method::Bye && entry.bye_reason.is_none() {
            entry.bye_reason = Some(TerminationReason::ByeSent);
        }
        Ok(self.start_client((request, hop), branch, Some(dialog), None, false, now))
    }

    fn send_cancel(&mut self, invite: ClientTxId, now: Instant) {
        let Some(entry) = self.clients.get_mut(&invite) else {
            return;
        };
        entry.cancel = CancelState::Sent;
        entry.tx.cancel_sent(now);
        let bytes = cancel_for(&entry.tx.request().message());
        let branch = entry.key.branch().to_owned();
        // §9.1: the CANCEL goes where the INVITE went, the same way (its
        // Via is the INVITE's).
        let hop = Hop {
            destination: entry.tx.destination(),
            transport: entry.tx.transport(),
        };
        if let Ok(cancel) = OwnedMessage::with_limits(bytes, self.config.limits.sip) {
            self.start_client((cancel, hop), branch, None, None, true, now);
        }
        self.drive_client(invite, now);
    }

    /// Moves a client transaction's outputs out and reacts to its end.
    fn drive_client(&mut self, id: ClientTxId, now: Instant) {
        let mut terminated = false;
        let mut failure = None;
        while let Some(output) = self.clients.get_mut(&id).and_then(|e| e.tx.poll_output()) {
            match output {
                TransactionOutput::Transmit(t) => self.transmit(t),
                TransactionOutput::TimedOut(timer) => {
                    failure = Some(408);
                    self.event(Event::TransactionTimedOut {
                        transaction: TransactionId::Client(id),
                        timer,
                    });
                }
                TransactionOutput::TransportError => {
                    failure = Some(503);
                    self.event(Event::TransportError {
                        transaction: TransactionId::Client(id),
                    });
                }
                TransactionOutput::Terminated => terminated = true,
            }
        }
        if let Some(code) = failure {
            self.on_client_failure(id, code, now);
        }
        if terminated {
            if let Some(entry) = self.clients.remove(&id) {
                self.held = self.held.saturating_sub(entry.held);
                self.client_keys.remove(&entry.key);
                self.subscription_txs.remove(&id);
                self.refer_dialogs.remove(&id);
                if let Some(key) = entry.refer {
                    self.pending_refers.remove(&key);
                }
                if let Some(key) = entry.invite_set {
                    if let Some(set) = self.invite_sets.get_mut(&key) {
                        // After a 422 retry the set's transaction is the new one.
                        if set.tx == Some(id) {
                            set.tx = None;
                        }
                    }
                    self.release_invite_set(&key);
                }
            }
        } else if let Some(entry) = self.clients.get_mut(&id) {
            let held = entry.tx.held_bytes() + CLIENT_FIXED;
            self.held = self.held.saturating_sub(entry.held).saturating_add(held);
            entry.held = held;
            let next = entry.tx.poll_timeout();
            if next != entry.scheduled {
                entry.scheduled = next;
                if let Some((at, timer)) = next {
                    self.schedule(
                        at,
                        DeadlineReason::Client {
                            transaction: id,
                            timer,
                        },
                    );
                }
            }
        }
    }

    /// A client transaction timed out or failed: its dialog effects (§12.2.1.2).
    fn on_client_failure(&mut self, id: ClientTxId, code: u16, now: Instant) {
        let Some((dialog, method, invite_set)) = self
            .clients
            .get(&id)
            .map(|e| (e.dialog, e.key.method().to_owned(), e.invite_set.clone()))
        else {
            return;
        };
        if let Some(sub) = self.take_subscription_tx(id) {
            self.on_subscription_answer(sub, dialog, code, None, now);
        }
        if let Some(dialog) = dialog.filter(|d| method != "BYE" && self.is_session_refresh(*d, id))
        {
            return self.on_refresh_failed(dialog, code, None, now);
        }
        if let Some(dialog) = dialog {
            let reason = if method == "BYE" {
                self.dialogs
                    .get(&dialog)
                    .and_then(|d| d.bye_reason)
                    .filter(|r| *r != TerminationReason::ByeSent)
                    .unwrap_or(TerminationReason::Timeout)
            } else {
                TerminationReason::RequestFailed(code)
            };
            self.remove_dialog(dialog, reason);
        }
        if let Some(key) = invite_set {
            let early: SmallVec<[DialogId; 2]> = self
                .invite_sets
                .get(&key)
                .map(|s| {
                    s.dialogs
                        .iter()
                        .copied()
                        .filter(|d| Some(*d) != s.confirmed)
                        .collect()
                })
                .unwrap_or_default();
            for d in early {
                self.remove_dialog(d, TerminationReason::Timeout);
            }
        }
    }

    /// Moves a server transaction's outputs out and reacts to its end.
    fn drive_server(&mut self, id: ServerTxId) {
        let mut terminated = false;
        while let Some(output) = self.servers.get_mut(&id).and_then(|e| e.tx.poll_output()) {
            match output {
                TransactionOutput::Transmit(t) => self.transmit(t),
                TransactionOutput::TimedOut(timer) => self.event(Event::TransactionTimedOut {
                    transaction: TransactionId::Server(id),
                    timer,
                }),
                TransactionOutput::TransportError => self.event(Event::TransportError {
                    transaction: TransactionId::Server(id),
                }),
                TransactionOutput::Terminated => terminated = true,
            }
        }
        if terminated {
            if let Some(entry) = self.servers.remove(&id) {
                self.held = self.held.saturating_sub(entry.held);
                self.server_keys.remove(&entry.key);
                if let Some(merge) = entry.merge_key {
                    if self.merge_keys.get(&merge) == Some(&id) {
                        self.merge_keys.remove(&merge);
                    }
                }
            }
        } else if let Some(entry) = self.servers.get_mut(&id) {
            let held = entry.tx.held_bytes() + SERVER_FIXED;
            self.held = self.held.saturating_sub(entry.held).saturating_add(held);
            entry.held = held;
            let next = entry.tx.poll_timeout();
            if next != entry.scheduled {
                entry.scheduled = next;
                if let Some((at, timer)) = next {
                    self.schedule(
                        at,
                        DeadlineReason::Server {
                            transaction: id,
                            timer,
                        },
                    );
                }
            }
        }
    }

    /// Drops an INVITE set once its transaction and its dialogs are gone.
    fn release_invite_set(&mut self, key: &InviteSetKey) {
        if self
            .invite_sets
            .get(key)
            .is_some_and(|s| s.tx.is_none() && s.dialogs.is_empty())
        {
            if let Some(set) = self.invite_sets.remove(key) {
                self.held = self.held.saturating_sub(set.held);
            }
        }
    }

    /// Forgets an INVITE set whose transaction is over, 64*T1 after its
    /// first 2xx (RFC 6026): a 2xx of another fork is no longer expected,
    /// and the set's dialogs need nothing of it.
    fn forget_invite_set(&mut self, key: &InviteSetKey) {
        if self.invite_sets.get(key).is_none_or(|s| s.tx.is_some()) {
            return;
        }
        let Some(set) = self.invite_sets.remove(key) else {
            return;
        };
        self.held = self.held.saturating_sub(set.held);
        for d in set.dialogs {
            if let Some(entry) = self.dialogs.get_mut(&d) {
                entry.invite_set = None;
            }
        }
    }

    /// Starts the 64*T1 after which the INVITE set `key`, answered with a
    /// 2xx at `now`, is forgotten.
    fn expire_invite_set(&mut self, key: &InviteSetKey, now: Instant) {
        let at = now + self.config.timers.timeout();
        self.answered_expiry.push_back((at, key.clone()));
        self.schedule(at, DeadlineReason::AnsweredInvite);
    }

    /// The id of the next dialog [`insert_dialog`](Self::insert_dialog)
    /// stores, made just before it; `None` when the table is full.
    fn new_dialog_id(&self) -> Option<DialogId> {
        self.dialogs.vacant_key()
    }

    /// Stores `dialog`, made with the id [`new_dialog_id`](Self::new_dialog_id)
    /// gave just before.
    fn insert_dialog(&mut self, dialog: Dialog, invite_set: Option<InviteSetKey>) {
        let id = dialog.id;
        if self.dialogs.vacant_key() != Some(id) {
            debug_assert!(false, "{id} is not the table's next key");
            return;
        }
        let dialogs = &self.dialogs;
        self.index.insert(id, dialog.ids(), |d| {
            dialogs.get(&d).map(|e| e.dialog.ids())
        });
        if let Some(set) = invite_set
            .as_ref()
            .and_then(|k| self.invite_sets.get_mut(k))
        {
            set.dialogs.push(id);
        }
        self.dialogs.insert(DialogEntry {
            dialog,
            ack: None,
            pending_2xx: None,
            invite_set: invite_set.map(Box::new),
            bye_reason: None,
            session: None,
            session_body: None,
            subscriptions: SmallVec::new(),
            held: 0,
            owner: None,
            deadline: None,
        });
        self.recount_dialog(id);
    }

    fn remove_dialog(&mut self, id: DialogId, reason: TerminationReason) {
        let Some(entry) = self.dialogs.remove(&id) else {
            return;
        };
        self.held = self.held.saturating_sub(entry.held);
        self.index.remove(id, entry.dialog.ids());
        self.dialog_subscriptions_gone(entry.subscriptions);
        if let Some(key) = entry.invite_set {
            if let Some(set) = self.invite_sets.get_mut(&key) {
                set.dialogs.retain(|d| *d != id);
                if set.confirmed == Some(id) {
                    set.confirmed = None;
                }
            }
            self.release_invite_set(&key);
        }
        self.event(Event::DialogTerminated {
            dialog: id,
            reason,
            owner: entry.owner,
        });
    }

    /// Starts the UAS core's retransmission of a 2xx to INVITE.
    fn accept_invite(
        &mut self,
        dialog: DialogId,
        key: ServerKey,
        bytes: Vec<u8>,
        destination: SocketAddr,
        transport: Transport,
        now: Instant,
    ) {
        let timers = self.config.timers;
        let Some(entry) = self.dialogs.get_mut(&dialog) else {
            return;
        };
        // §13.3.1.4: "independent of whatever transport protocols are used
        // to send the response" — the ACK is end to end and may cross a
        // UDP hop (a request over 1300 bytes goes by TCP, its ACK by UDP).
        let pending = Pending2xx {
            transmit: Transmit {
                destination,
                transport,
                bytes,
            },
            interval: timers.t1,
            next: now + timers.t1,
            give_up: now + timers.timeout(),
        };
        let at = pending.deadline();
        entry.pending_2xx = Some(Box::new(pending));
        self.recount_dialog(dialog);
        self.schedule(at, DeadlineReason::Retransmit2xx { dialog });
        let expiry = now + timers.timeout();
        self.accepted.insert(key.clone(), dialog);
        self.accepted_expiry.push_back((expiry, key));
        self.schedule(expiry, DeadlineReason::AcceptedInvite);
    }

    /// The 2xx retransmission timer of `dialog` fired (§13.3.1.4).
    fn on_2xx_timer(&mut self, dialog: DialogId, now: Instant) {
        let t2 = self.config.timers.t2;
        let Some(entry) = self.dialogs.get_mut(&dialog) else {
            return;
        };
        let Some(pending) = entry.pending_2xx.as_mut() else {
            return;
        };
        if now >= pending.give_up {
            entry.pending_2xx = None;
            entry.bye_reason = Some(TerminationReason::AckTimeout);
            self.recount_dialog(dialog);
            // The dialog is confirmed, but the session must end (§13.3.1.4).
            let bye = DialogRequestSpec::new(Method::Bye);
            if self.request_in_dialog(dialog, &bye, now).is_err() {
                self.remove_dialog(dialog, TerminationReason::AckTimeout);
            }
            return;
        }
        let transmit = pending.transmit.clone();
        pending.interval = pending.interval.saturating_mul(2).min(t2);
        pending.next = now + pending.interval;
        let at = pending.deadline();
        self.transmit(transmit);
        self.schedule(at, DeadlineReason::Retransmit2xx { dialog });
    }
}
