//! Server transactions (RFC 3261 §17.2): INVITE (Figure 7) and non-INVITE
//! (Figure 8), and where their responses go (§18.2.2, RFC 3581).

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::build::ResponseBasis;
use super::{OwnedMessage, Timer, TimerConfig, Timers, TransactionOutput, Transmit, Transport};
use crate::sip::{Host, SipMessage};

/// The states of a server transaction (Figures 7 and 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Non-INVITE: the request arrived, no response sent yet.
    Trying,
    /// A provisional response was sent (an INVITE transaction starts here,
    /// having sent 100 Trying).
    Proceeding,
    /// A final response was sent (INVITE: a non-2xx one); it is retransmitted
    /// until the ACK (INVITE) or absorbs request retransmissions (non-INVITE).
    Completed,
    /// INVITE: the ACK arrived; absorbing ACK retransmissions (timer I).
    Confirmed,
    /// Done; the transaction can be dropped.
    Terminated,
}

/// Why a server transaction refused a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespondError {
    /// A final response was already sent.
    AlreadyFinal,
    /// The response has no valid Status-Code.
    NotAResponse,
}

impl fmt::Display for RespondError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RespondError::AlreadyFinal => f.write_str("a final response was already sent"),
            RespondError::NotAResponse => f.write_str("not a SIP response"),
        }
    }
}

impl std::error::Error for RespondError {}

/// A server transaction: absorbs request retransmissions (answering them
/// with the last response), retransmits a non-2xx final response to INVITE
/// over UDP until the ACK, and times out.
///
/// ```
/// use std::time::Instant;
/// use oma_im::transaction::{OwnedMessage, ServerState, ServerTransaction, TimerConfig,
///     TransactionOutput, Transport};
///
/// let request = OwnedMessage::new(b"MESSAGE sip:bob@example.com SIP/2.0\r\n\
///     Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776sgdkse\r\n\
///     Max-Forwards: 70\r\n\
///     To: <sip:bob@example.com>\r\n\
///     From: <sip:alice@example.com>;tag=49583\r\n\
///     Call-ID: asd88asd77a@1.2.3.4\r\n\
///     CSeq: 1 MESSAGE\r\n\
///     Content-Length: 0\r\n\r\n".to_vec())?;
/// let now = Instant::now();
/// let source = "192.0.2.1:5060".parse().unwrap();
/// let mut tx = ServerTransaction::new(request, source, Transport::Udp, TimerConfig::default(), now);
/// let ok = tx.response(200, "OK", None).finish(b"");
/// tx.respond(ok, now).unwrap();
/// assert_eq!(tx.state(), ServerState::Completed);
/// match tx.poll_output() {
///     Some(TransactionOutput::Transmit(t)) => assert_eq!(t.destination, source),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), oma_im::sip::SipError>(())
/// ```
#[derive(Debug)]
pub struct ServerTransaction {
    invite: bool,
    state: ServerState,
    request: OwnedMessage,
    destination: SocketAddr,
    transport: Transport,
    config: TimerConfig,
    timers: Timers,
    interval: Duration,
    last_response: Option<Vec<u8>>,
    last_status: u16,
    out: VecDeque<TransactionOutput>,
    /// What each response copies from the request, made once.
    basis: ResponseBasis,
}

impl ServerTransaction {
    /// Creates the transaction for `request`, received from `source` on
    /// `transport`. An INVITE transaction starts in Proceeding and sends
    /// 100 Trying at once (§17.2.1); a non-INVITE one starts in Trying.
    pub fn new(
        request: OwnedMessage,
        source: SocketAddr,
        transport: Transport,
        config: TimerConfig,
        now: Instant,
    ) -> Self {
        let head = {
            let msg = request.message();
            Head::of(&msg, source, transport)
        };
        Self::start(request, head, transport, config, now)
    }

    /// [`new`](Self::new) for a caller that holds the request already parsed
    /// (`parsed` must be the view of `request`): the same transaction,
    /// without parsing the request again.
    pub fn from_parsed(
        request: OwnedMessage,
        parsed: &SipMessage<'_>,
        source: SocketAddr,
        transport: Transport,
        config: TimerConfig,
        now: Instant,
    ) -> Self {
        let head = Head::of(parsed, source, transport);
        Self::start(request, head, transport, config, now)
    }

    fn start(
        request: OwnedMessage,
        head: Head,
        transport: Transport,
        config: TimerConfig,
        now: Instant,
    ) -> Self {
        let mut tx = ServerTransaction {
            basis: head.basis,
            invite: head.invite,
            state: ServerState::Trying,
            request,
            destination: head.destination,
            transport,
            config,
            timers: Timers::default(),
            interval: config.t1,
            last_response: None,
            last_status: 0,
            out: VecDeque::new(),
        };
        if let Some(trying) = head.trying {
            // A fresh transaction accepts any response.
            let _ = tx.respond(trying, now);
        }
        tx
    }

    /// `true` for an INVITE server transaction.
    pub fn is_invite(&self) -> bool {
        self.invite
    }

    /// The current state.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// The request that created the transaction.
    pub fn request(&self) -> &OwnedMessage {
        &self.request
    }

    /// Whether the request's To has a tag: a request without one was sent
    /// outside any dialog (§8.2.2.2, §12.2.2).
    pub fn request_to_tagged(&self) -> bool {
        self.basis.to_tagged()
    }

    /// Where responses go (§18.2.2).
    pub fn destination(&self) -> SocketAddr {
        self.destination
    }

    /// The transport responses go on.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The SIP bytes the transaction holds, charged against the user
    /// agent's byte budget: its request counted twice (the request, and
    /// the keys and response text drawn from it) and its last response;
    /// before a final response, room for one as large as the request.
    pub(crate) fn held_bytes(&self) -> usize {
        let request = self.request.bytes().len();
        let response = self.last_response.as_ref().map_or(0, Vec::len);
        let response = if self.last_status < 200 {
            response.max(request)
        } else {
            response
        };
        request
            .saturating_mul(2)
            .saturating_add(response)
            .saturating_add(self.basis.held_bytes())
    }

    /// The status of the last response sent, 0 before any.
    pub fn last_status(&self) -> u16 {
        self.last_status
    }

    /// Starts a response to the request: its Via (stamped with `received`
    /// and `rport`), From, To (with `to_tag` added when it has none),
    /// Call-ID and CSeq. Add fields, then `finish(body)` it and pass the
    /// bytes to [`respond`](Self::respond).
    pub fn response(&self, code: u16, reason: &str, to_tag: Option<&str>) -> ResponseWriter {
        ResponseWriter(
            self.basis
                .response(&self.request.message(), code, reason, to_tag),
        )
    }

    /// [`response`](Self::response) for a caller that holds the request
    /// already parsed (`request` must be this transaction's request, as
    /// given by [`request`](Self::request)): the same response, without
    /// parsing the request again.
    pub fn response_to_parsed(
        &self,
        request: &SipMessage<'_>,
        code: u16,
        reason: &str,
        to_tag: Option<&str>,
    ) -> ResponseWriter {
        ResponseWriter(self.basis.response(request, code, reason, to_tag))
    }

    /// Handles a retransmission of the request, or (INVITE) the ACK of a
    /// non-2xx final response: a retransmission is answered with the last
    /// response; the ACK moves Completed to Confirmed (timer I).
    pub fn handle_request(&mut self, request: &SipMessage<'_>, now: Instant) {
        if request.method() == Some("ACK") {
            if self.invite && self.state == ServerState::Completed {
                self.state = ServerState::Confirmed;
                self.timers.clear();
                let i = self.config.timer_t4(self.transport.is_reliable());
                self.timers.set(Timer::I, now + i);
            }
        } else if matches!(self.state, ServerState::Proceeding | ServerState::Completed) {
            self.retransmit();
        }
        self.handle_timeout(now);
    }

    /// Sends `response` (a complete response message, usually started with
    /// [`response`](Self::response)) and moves on: 1xx stays in (or enters)
    /// Proceeding; 2xx to INVITE terminates the transaction (the UAS core
    /// retransmits it, §13.3.1.4); other finals enter Completed with timers
    /// G and H (INVITE) or J.
    pub fn respond(&mut self, response: Vec<u8>, now: Instant) -> Result<(), RespondError> {
        let code = status_code(&response).ok_or(RespondError::NotAResponse)?;
        if !matches!(self.state, ServerState::Trying | ServerState::Proceeding) {
            return Err(RespondError::AlreadyFinal);
        }
        let reliable = self.transport.is_reliable();
        self.last_status = code;
        self.last_response = Some(response);

        self.retransmit();
        match (self.invite, code) {
            (_, 100..=199) => self.state = ServerState::Proceeding,
            (true, 200..=299) => self.terminate(),
            (true, _) => {
                self.state = ServerState::Completed;
                if !reliable {
                    self.timers.set(Timer::G, now + self.config.t1);
                }
                self.timers.set(Timer::H, now + self.config.timeout());
            }
            (false, _) => {
                self.state = ServerState::Completed;
                self.timers
                    .set(Timer::J, now + self.config.timer_j(reliable));
            }
        }
        self.handle_timeout(now);
        Ok(())
    }

    /// Once the final response is sent no other response is built: keeps of
    /// the request only its request line and the fields that identify it
    /// (Via, From, To, Call-ID, CSeq), so a rejected request does not hold
    /// its bytes (a body, long fields) while Timer H or J runs. Does nothing
    /// before the final response, nor once Terminated (a non-INVITE
    /// transaction on a reliable transport ends with its final response:
    /// Timer J is zero), when the whole transaction is about to go.
    pub fn release_request(&mut self) {
        if self.last_status >= 200 && self.state != ServerState::Terminated {
            self.request.shrink_to_skeleton();
        }
    }

    /// Fires every timer due at `now`: G retransmits the final response, H
    /// times out waiting for the ACK, I and J terminate.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.take_due(now) {
            match timer {
                Timer::G => {
                    self.retransmit();
                    self.interval = self.config.backoff(self.interval);
                    self.timers.set(Timer::G, now + self.interval);
                }
                Timer::H => {
                    self.out.push_back(TransactionOutput::TimedOut(Timer::H));
                    self.terminate();
                }
                _ => self.terminate(),
            }
        }
    }

    /// Reports that the transport could not send a response (§17.2.4).
    pub fn handle_transport_error(&mut self) {
        if self.state != ServerState::Terminated {
            self.out.push_back(TransactionOutput::TransportError);
            self.terminate();
        }
    }

    /// The next output: drain until `None` after every `handle_*` call.
    pub fn poll_output(&mut self) -> Option<TransactionOutput> {
        self.out.pop_front()
    }

    /// The earliest running timer and when it fires.
    pub fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        self.timers.earliest()
    }

    /// `true` once Terminated.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerState::Terminated
    }

    fn terminate(&mut self) {
        self.state = ServerState::Terminated;
        self.timers.clear();
        self.out.push_back(TransactionOutput::Terminated);
    }

    fn retransmit(&mut self) {
        if let Some(bytes) = &self.last_response {
            self.out.push_back(TransactionOutput::Transmit(Transmit {
                destination: self.destination,
                transport: self.transport,
                bytes: bytes.clone(),
            }));
        }
    }
}

/// What a new server transaction takes from its request.
struct Head {
    invite: bool,
    destination: SocketAddr,
    /// The 100 Trying an INVITE transaction sends at once (§17.2.1).
    trying: Option<Vec<u8>>,
    basis: ResponseBasis,
}

impl Head {
    fn of(msg: &SipMessage<'_>, source: SocketAddr, transport: Transport) -> Self {
        let invite = msg.method() == Some("INVITE");
        let basis = ResponseBasis::of(msg, source);
        Head {
            invite,
            destination: response_destination(msg, source, transport),
            trying: invite.then(|| basis.response(msg, 100, "Trying", None).finish(b"")),
            basis,
        }
    }
}

/// A response being written by [`ServerTransaction::response`].
#[derive(Debug)]
pub struct ResponseWriter(super::build::MessageWriter);

impl ResponseWriter {
    /// Appends the header field `name: value`.
    pub fn header(&mut self, name: &str, value: &str) -> &mut Self {
        self.0.header(name, value);
        self
    }

    /// Appends the header field `name: ` and whatever `value` writes.
    pub fn header_with(&mut self, name: &str, value: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        self.0.header_with(name, value);
        self
    }

    /// Appends Content-Length, the empty line and `body`: the response bytes.
    pub fn finish(self, body: &[u8]) -> Vec<u8> {
        self.0.finish(body)
    }

    /// Octets written so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Header fields written so far, Content-Length not yet among them.
    pub(crate) fn fields(&self) -> usize {
        self.0.fields()
    }
}

/// The status code of a serialized response, read from its Status-Line.
fn status_code(bytes: &[u8]) -> Option<u16> {
    let digits = bytes.strip_prefix(b"SIP/2.0 ")?.get(..3)?;
    let text = std::str::from_utf8(digits).ok()?;
    text.parse().ok().filter(|c| (100..=699).contains(c))
}

/// Where the responses to `request`, received from `source` on `transport`,
/// go (§18.2.2, RFC 3581): on a reliable transport back on the connection it
/// came on; otherwise to the source address (the `received` address) at the
/// source port when the top Via asked for `rport`, else at the sent-by port
/// (5060 when absent). A `maddr` naming an IP address wins over both.
pub fn response_destination(
    request: &SipMessage<'_>,
    source: SocketAddr,
    transport: Transport,
) -> SocketAddr {
    if transport.is_reliable() {
        return source;
    }
    let Some(Ok(via)) = request.top_via() else {
        return source;
    };
    let port = via.port.unwrap_or(5060);
    match via.maddr() {
        Some(Host::Ipv4(a)) => return SocketAddr::new(a.into(), port),
        Some(Host::Ipv6(a)) => return SocketAddr::new(a.into(), port),
        _ => {}
    }
    if via.rport().is_some() {
        source
    } else {
        SocketAddr::new(source.ip(), port)
    }
}
