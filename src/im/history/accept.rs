//! The MSRP connections the History Function accepts as the passive end
//! (a recorded IM Server or a retrieving client that connects, RFC 4145):
//! the application names each one with
//! [`ImHistoryFunction::msrp_accepted_at`] and hands its bytes in; the
//! History Function binds it to the session whose local MSRP URI its first
//! `To-Path` names, as the IM Server and the IM Client do. A second
//! connection for a session already carried, or for a session whose own
//! end connects, gets `506` (RFC 4975 §5.4) and nothing of the session.

use std::time::Instant;

use crate::im::accept::{local_path_session_id, refusal, to_path_session_id, Lookup, Refusal};
use crate::im::ConnectionId;
use crate::msrp::session as msrp_session;

use super::session::Kind;
use super::{HistorySessionId, ImHistoryFunction, Output};

/// How an accepted connection stands.
#[derive(Debug)]
pub(super) enum Accepted {
    /// It has not named a session yet.
    Unbound {
        /// What it sent so far.
        buffer: Vec<u8>,
        /// When it is closed unless bound.
        deadline: Instant,
    },
    /// Refused with `506`: what it sends is counted and dropped.
    Refused {
        /// Bytes it sent.
        received: usize,
        /// When it is closed.
        deadline: Instant,
    },
    /// Carries the MSRP of a session.
    Bound(HistorySessionId),
}

impl ImHistoryFunction {
    /// A name for an MSRP connection the application accepted on
    /// [`HistoryConfig::msrp_addr`](super::HistoryConfig::msrp_addr), at
    /// `now`: hand its bytes in with
    /// [`Input::MsrpAcceptedBytes`](super::Input::MsrpAcceptedBytes) and its
    /// end with [`Input::MsrpAcceptedClosed`](super::Input::MsrpAcceptedClosed).
    /// The History Function binds it to its session from the first
    /// `To-Path` ([`Output::MsrpAccepted`]), refuses a second connection for
    /// a session with `506`, and closes
    /// ([`Output::MsrpConnectionClose`]) a connection that names no session
    /// of its own within
    /// [`Limits::max_unbound_msrp_bytes`](super::Limits::max_unbound_msrp_bytes)
    /// and [`Limits::unbound_msrp_timeout`](super::Limits::unbound_msrp_timeout).
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::history::{HistoryConfig, ImHistoryFunction, Input, Output};
    ///
    /// let mut history = ImHistoryFunction::new(HistoryConfig::new(
    ///     "sip:history@im.example.com",
    ///     "192.0.2.50:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(),
    /// ));
    /// let now = Instant::now();
    /// let connection = history.msrp_accepted_at(now);
    /// // A SEND for a session the History Function does not have: closed.
    /// let stranger = b"MSRP a1 SEND\r\nTo-Path: msrp://192.0.2.50:5060/nobody;tcp\r\n\
    /// From-Path: msrp://192.0.2.9:2855/x;tcp\r\nMessage-ID: m\r\n\
    /// Byte-Range: 1-0/0\r\n-------a1$\r\n";
    /// history.handle_input(Input::MsrpAcceptedBytes { connection, bytes: stranger }, now);
    /// assert_eq!(history.poll_output(), Some(Output::MsrpConnectionClose { connection }));
    /// assert!(history.is_idle());
    /// ```
    pub fn msrp_accepted_at(&mut self, now: Instant) -> ConnectionId {
        self.next_connection = self.next_connection.wrapping_add(1);
        let id = ConnectionId(self.next_connection);
        let deadline = now + self.config.limits.unbound_msrp_timeout;
        self.accepted.insert(
            id,
            Accepted::Unbound {
                buffer: Vec::new(),
                deadline,
            },
        );
        id
    }

    /// The accepted connection that carries `session`, if any.
    pub fn session_connection(&self, session: HistorySessionId) -> Option<ConnectionId> {
        self.sessions.get(&session).and_then(|s| s.connection)
    }

    pub(super) fn accepted_bytes(&mut self, connection: ConnectionId, bytes: &[u8], now: Instant) {
        let max = self.config.limits.max_unbound_msrp_bytes;
        match self.accepted.get_mut(&connection) {
            None => {}
            Some(Accepted::Bound(session)) => {
                let session = *session;
                self.msrp_input(session, msrp_session::Input::Bytes(bytes), now);
            }
            Some(Accepted::Refused { received, .. }) => {
                *received = received.saturating_add(bytes.len());
                if *received > max {
                    self.close_accepted(connection);
                }
            }
            Some(Accepted::Unbound { buffer, .. }) => {
                if buffer.len().saturating_add(bytes.len()) > max {
                    return self.close_accepted(connection);
                }
                buffer.extend_from_slice(bytes);
                self.bind_accepted(connection, now);
            }
        }
    }

    pub(super) fn accepted_closed(&mut self, connection: ConnectionId, now: Instant) {
        if let Some(Accepted::Bound(session)) = self.accepted.remove(&connection) {
            let mine = self
                .sessions
                .get_mut(&session)
                .filter(|s| s.connection == Some(connection))
                .map(|s| s.connection = None)
                .is_some();
            if mine {
                self.msrp_input(session, msrp_session::Input::Closed, now);
            }
        }
    }

    /// The session whose local MSRP URI has the session-id `token`: its
    /// MSRP endpoint's, or before that (a recording whose 200 OK has not
    /// arrived) its offer's.
    fn session_of_token(&self, token: &str) -> Option<HistorySessionId> {
        self.sessions.iter().find_map(|(id, s)| {
            let own = match (&s.msrp, &s.kind) {
                (Some(m), _) => m
                    .params()
                    .local_path
                    .last()
                    .and_then(|p| crate::msrp::MsrpUri::parse(p).ok())
                    .and_then(|u| u.session_id.map(str::to_owned)),
                (None, Kind::Recording(r)) => {
                    local_path_session_id(&r.offer, &self.config.limits.layers.sdp)
                }
                (None, Kind::Retrieval(_)) => None,
            };
            (own.as_deref() == Some(token)).then_some(*id)
        })
    }

    /// Binds an unbound connection once its first To-Path is complete and
    /// its session's MSRP endpoint exists (the connection may come before
    /// the 200 OK that completes the SDP exchange here: it then waits).
    fn bind_accepted(&mut self, connection: ConnectionId, now: Instant) {
        let Some(Accepted::Unbound { buffer, .. }) = self.accepted.get(&connection) else {
            return;
        };
        let token = match to_path_session_id(buffer) {
            Lookup::Incomplete => return,
            Lookup::Found(token) => token,
            Lookup::Invalid => return self.close_accepted(connection),
        };
        let Some(session) = self.session_of_token(token) else {
            return self.close_accepted(connection);
        };
        let Some(s) = self.sessions.get(&session) else {
            return;
        };
        let carried = s
            .connection
            .is_some_and(|c| c != connection && self.accepted.contains_key(&c));
        let active = s.msrp.as_ref().is_some_and(|m| m.params().active);
        if carried || active {
            return self.refuse_accepted(connection);
        }
        if s.msrp.is_none() {
            return;
        }
        let Some(Accepted::Unbound { buffer, .. }) =
            self.accepted.insert(connection, Accepted::Bound(session))
        else {
            return;
        };
        if let Some(s) = self.sessions.get_mut(&session) {
            s.connection = Some(connection);
        }
        self.out.push_back(Output::MsrpAccepted {
            connection,
            session,
        });
        self.msrp_input(session, msrp_session::Input::Connected, now);
        self.msrp_input(session, msrp_session::Input::Bytes(&buffer), now);
    }

    /// Binds the connections that wait for their session's SDP exchange.
    pub(super) fn bind_waiting(&mut self, now: Instant) {
        let waiting: Vec<ConnectionId> = self
            .accepted
            .iter()
            .filter(|(_, a)| matches!(a, Accepted::Unbound { buffer, .. } if !buffer.is_empty()))
            .map(|(c, _)| *c)
            .collect();
        for connection in waiting {
            self.bind_accepted(connection, now);
        }
    }

    fn refuse_accepted(&mut self, connection: ConnectionId) {
        let Some(Accepted::Unbound { buffer, deadline }) = self.accepted.get(&connection) else {
            return;
        };
        let deadline = *deadline;
        match refusal(buffer, &self.config.limits.layers.msrp) {
            Refusal::Incomplete => {}
            Refusal::Invalid => self.close_accepted(connection),
            Refusal::Reply(data) => {
                let received = buffer.len();
                self.accepted
                    .insert(connection, Accepted::Refused { received, deadline });
                if !data.is_empty() {
                    self.out
                        .push_back(Output::MsrpConnectionTransmit { connection, data });
                }
            }
        }
    }

    fn close_accepted(&mut self, connection: ConnectionId) {
        if self.accepted.remove(&connection).is_some() {
            self.out
                .push_back(Output::MsrpConnectionClose { connection });
        }
    }

    /// Closes the unbound and refused connections whose time is up.
    pub(super) fn expire_accepted(&mut self, now: Instant) {
        let expired: Vec<ConnectionId> = self
            .accepted
            .iter()
            .filter(|(_, a)| match a {
                Accepted::Unbound { deadline, .. } | Accepted::Refused { deadline, .. } => {
                    *deadline <= now
                }
                Accepted::Bound(_) => false,
            })
            .map(|(c, _)| *c)
            .collect();
        for connection in expired {
            self.close_accepted(connection);
        }
    }

    /// The earliest deadline of an unbound or refused connection.
    pub(super) fn accepted_deadline(&self) -> Option<(Instant, ConnectionId)> {
        self.accepted
            .iter()
            .filter_map(|(c, a)| match a {
                Accepted::Unbound { deadline, .. } | Accepted::Refused { deadline, .. } => {
                    Some((*deadline, *c))
                }
                Accepted::Bound(_) => None,
            })
            .min()
    }
}
