//! Client transactions (RFC 3261 §17.1): INVITE (Figure 5) and non-INVITE
//! (Figure 6).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::build::ack_for_non_2xx;
use super::{OwnedMessage, Timer, TimerConfig, Timers, TransactionOutput, Transmit, Transport};
use crate::sip::SipMessage;

/// The states of a client transaction (Figures 5 and 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// INVITE: the request was sent, no response yet.
    Calling,
    /// Non-INVITE: the request was sent, no response yet.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived (INVITE: a non-2xx one); waiting for its
    /// retransmissions (timer D or K).
    Completed,
    /// Done; the transaction can be dropped.
    Terminated,
}

/// A client transaction: sends a request, retransmits it over UDP, passes
/// responses up, ACKs a non-2xx final response to INVITE, and times out.
///
/// Sans-IO: the owner calls [`handle_response`](Self::handle_response) and
/// [`handle_timeout`](Self::handle_timeout), then drains
/// [`poll_output`](Self::poll_output) and sleeps until
/// [`poll_timeout`](Self::poll_timeout).
///
/// ```
/// use std::time::{Duration, Instant};
/// use oma_im::transaction::{ClientState, ClientTransaction, OwnedMessage, TimerConfig,
///     TransactionOutput, Transport};
///
/// let request = OwnedMessage::new(b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
///     Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9\r\n\
///     Max-Forwards: 70\r\n\
///     To: <sip:bob@example.com>\r\n\
///     From: <sip:alice@example.com>;tag=9fxced76sl\r\n\
///     Call-ID: 3848276298220188511\r\n\
///     CSeq: 1 OPTIONS\r\n\
///     Content-Length: 0\r\n\r\n".to_vec())?;
/// let now = Instant::now();
/// let mut tx = ClientTransaction::start(request, "192.0.2.2:5060".parse().unwrap(),
///     Transport::Udp, TimerConfig::default(), now);
/// assert!(matches!(tx.poll_output(), Some(TransactionOutput::Transmit(_))));
/// // Timer E fires after T1: the request is sent again.
/// tx.handle_timeout(now + Duration::from_millis(500));
/// assert!(matches!(tx.poll_output(), Some(TransactionOutput::Transmit(_))));
/// assert_eq!(tx.state(), ClientState::Trying);
/// # Ok::<(), oma_im::sip::SipError>(())
/// ```
#[derive(Debug)]
pub struct ClientTransaction {
    invite: bool,
    /// An INVITE inside a dialog (its To has a tag): a re-INVITE.
    reinvite: bool,
    state: ClientState,
    request: OwnedMessage,
    destination: SocketAddr,
    transport: Transport,
    config: TimerConfig,
    timers: Timers,
    interval: Duration,
    ack: Option<Vec<u8>>,
    out: VecDeque<TransactionOutput>,
}

impl ClientTransaction {
    /// Starts the transaction for `request` (INVITE or not, by its method):
    /// sends it to `destination` and starts timers A and B (INVITE) or E and
    /// F (non-INVITE); A and E only on an unreliable transport.
    pub fn start(
        request: OwnedMessage,
        destination: SocketAddr,
        transport: Transport,
        config: TimerConfig,
        now: Instant,
    ) -> Self {
        let invite = request.request_method() == Some("INVITE");
        let reinvite = invite
            && request
                .message()
                .to()
                .and_then(Result::ok)
                .is_some_and(|to| to.tag().is_some());
        Self::start_known(request, reinvite, destination, transport, config, now)
    }

    /// [`start`](Self::start) for a request whose sender knows whether it
    /// is a re-INVITE (an INVITE inside a dialog), without reading its To.
    pub(crate) fn start_known(
        request: OwnedMessage,
        reinvite: bool,
        destination: SocketAddr,
        transport: Transport,
        config: TimerConfig,
        now: Instant,
    ) -> Self {
        let invite = request.request_method() == Some("INVITE");
        let mut tx = ClientTransaction {
            invite,
            reinvite,
            state: if invite {
                ClientState::Calling
            } else {
                ClientState::Trying
            },
            request,
            destination,
            transport,
            config,
            timers: Timers::default(),
            interval: config.t1,
            ack: None,
            out: VecDeque::new(),
        };
        tx.send_request();
        let (retransmit, timeout) = if invite {
            (Timer::A, Timer::B)
        } else {
            (Timer::E, Timer::F)
        };
        if !transport.is_reliable() {
            tx.timers.set(retransmit, now + config.t1);
        }
        tx.timers.set(timeout, now + config.timeout());
        tx
    }

    /// `true` for an INVITE client transaction.
    pub fn is_invite(&self) -> bool {
        self.invite
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// The request this transaction sends.
    pub fn request(&self) -> &OwnedMessage {
        &self.request
    }

    /// Where the request goes.
    pub fn destination(&self) -> SocketAddr {
        self.destination
    }

    /// The transport the request goes on.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Handles a response matched to this transaction (§17.1.3). Returns
    /// `true` when the response goes up to the transaction user, `false`
    /// when the transaction absorbs it (a retransmission in Completed, or
    /// anything once Terminated).
    pub fn handle_response(&mut self, response: &SipMessage<'_>, now: Instant) -> bool {
        let Some(code) = response.status_code() else {
            return false;
        };
        let pass = match (self.invite, self.state, code) {
            (_, ClientState::Terminated, _) => false,
            (true, ClientState::Completed, 300..) => {
                // A retransmitted final response: ACK it again (§17.1.1.2).
                self.send_ack();
                false
            }
            (_, ClientState::Completed, _) => false,
            (true, ClientState::Calling, 100..=199) => {
                self.state = ClientState::Proceeding;
                self.timers.cancel(Timer::A);
                // Timer B only bounds the wait in Calling (Figure 5) of an
                // initial INVITE, which may ring for minutes. A re-INVITE
                // is answered at once (RFC 3261 §14.2): its Timer B keeps
                // running, so a peer that sends a provisional response and
                // never a final one (or whose final response is lost on a
                // connection) does not hold the transaction forever.
                if !self.reinvite {
                    self.timers.cancel(Timer::B);
                }
                true
            }
            (true, _, 100..=199) => true,
            (true, _, 200..=299) => {
                self.terminate();
                true
            }
            (true, _, _) => {
                self.state = ClientState::Completed;
                self.timers.clear();
                let ack = ack_for_non_2xx(&self.request.message(), response);
                self.ack = Some(ack);
                self.send_ack();
                let d = self.config.timer_d(self.transport.is_reliable());
                self.timers.set(Timer::D, now + d);
                true
            }
            (false, _, 100..=199) => {
                self.state = ClientState::Proceeding;
                true
            }
            (false, _, _) => {
                self.state = ClientState::Completed;
                self.timers.clear();
                let k = self.config.timer_t4(self.transport.is_reliable());
                self.timers.set(Timer::K, now + k);
                true
            }
        };
        self.handle_timeout(now);
        pass
    }

    /// Fires every timer due at `now`: retransmits (A, E), times out (B, F)
    /// or terminates (D, K). Leaves no timer at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.take_due(now) {
            match timer {
                Timer::A => {
                    self.send_request();
                    self.interval = self.interval.saturating_mul(2);
                    self.timers.set(Timer::A, now + self.interval);
                }
                Timer::E => {
                    self.send_request();
                    self.interval = if self.state == ClientState::Proceeding {
                        self.config.t2
                    } else {
                        self.config.backoff(self.interval)
                    };
                    self.timers.set(Timer::E, now + self.interval);
                }
                Timer::B | Timer::F => {
                    self.out.push_back(TransactionOutput::TimedOut(timer));
                    self.terminate();
                }
                _ => self.terminate(),
            }
        }
    }

    /// The SIP bytes the transaction holds, charged against the user
    /// agent's byte budget: its request and the ACK of a failure response.
    pub(crate) fn held_bytes(&self) -> usize {
        self.request
            .bytes()
            .len()
            .saturating_add(self.ack.as_ref().map_or(0, Vec::len))
    }

    /// Notes that a CANCEL for this INVITE was sent (§9.1): if no final
    /// response arrives within 64*T1, the transaction times out (timer B is
    /// restarted, also in Proceeding, where it otherwise does not run).
    pub fn cancel_sent(&mut self, now: Instant) {
        if self.invite && matches!(self.state, ClientState::Calling | ClientState::Proceeding) {
            self.timers.set(Timer::B, now + self.config.timeout());
        }
    }

    /// Reports that the transport could not send the request (§17.1.4): the
    /// transaction user is told and the transaction terminates.
    pub fn handle_transport_error(&mut self) {
        if self.state != ClientState::Terminated {
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
        self.state == ClientState::Terminated
    }

    fn terminate(&mut self) {
        self.state = ClientState::Terminated;
        self.timers.clear();
        self.out.push_back(TransactionOutput::Terminated);
    }

    fn send_request(&mut self) {
        self.out.push_back(TransactionOutput::Transmit(Transmit {
            destination: self.destination,
            transport: self.transport,
            bytes: self.request.bytes().to_vec(),
        }));
    }

    fn send_ack(&mut self) {
        if let Some(ack) = &self.ack {
            self.out.push_back(TransactionOutput::Transmit(Transmit {
                destination: self.destination,
                transport: self.transport,
                bytes: ack.clone(),
            }));
        }
    }
}
