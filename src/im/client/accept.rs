//! The MSRP connections the client accepts as the passive end (RFC 4145
//! `a=setup:passive`, an answer to an offer that connects): the
//! application names each one with [`ImClient::msrp_accepted_at`] and
//! hands its bytes in; the client binds it to the session whose local MSRP
//! URI its first `To-Path` names, like the IM Server does for its legs.
//! A second connection for a session already carried gets `506` (RFC 4975
//! §5.4) and nothing of the session.

use std::time::Instant;

use crate::im::accept::{local_path_session_id, refusal, to_path_session_id, Lookup, Refusal};
use crate::im::ConnectionId;

use super::{ImClient, ImSessionId, Output};

/// How an accepted connection stands.
#[derive(Debug)]
pub(crate) enum Accepted {
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
    Bound(ImSessionId),
}

impl ImClient {
    /// A name for an MSRP connection the application accepted on
    /// [`ClientConfig::msrp_addr`](super::ClientConfig::msrp_addr), at
    /// `now`: hand its bytes in with
    /// [`Input::MsrpAcceptedBytes`](super::Input::MsrpAcceptedBytes). The
    /// client binds it to its session from the first `To-Path`
    /// ([`Output::MsrpAccepted`]), refuses a second connection for a
    /// session with `506`, and closes
    /// ([`Output::MsrpConnectionClose`]) a connection that names no session
    /// of its own within
    /// [`Limits::max_unbound_msrp_bytes`](super::Limits::max_unbound_msrp_bytes)
    /// and [`Limits::unbound_msrp_timeout`](super::Limits::unbound_msrp_timeout).
    ///
    /// ```
    /// use std::time::Instant;
    /// use oma_im::im::client::{ClientConfig, ImClient, Input, Output};
    ///
    /// let mut bob = ImClient::new(ClientConfig::new(
    ///     "sip:bob@example.com",
    ///     "sip:conference-factory@im.example.com",
    ///     "192.0.2.2:5060".parse().unwrap(),
    ///     "192.0.2.100:5060".parse().unwrap(),
    /// ));
    /// let now = Instant::now();
    /// let connection = bob.msrp_accepted_at(now);
    /// // A SEND for a session bob does not have: the connection is closed.
    /// let stranger = b"MSRP a1 SEND\r\nTo-Path: msrp://192.0.2.2:2855/nobody;tcp\r\n\
    /// From-Path: msrp://192.0.2.9:2855/x;tcp\r\nMessage-ID: m\r\n\
    /// Byte-Range: 1-0/0\r\n-------a1$\r\n";
    /// bob.handle_input(Input::MsrpAcceptedBytes { connection, bytes: stranger }, now);
    /// assert_eq!(bob.poll_output(), Some(Output::MsrpConnectionClose { connection }));
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
    pub fn session_connection(&self, session: ImSessionId) -> Option<ConnectionId> {
        self.sessions.get(&session).and_then(|s| s.connection)
    }

    pub(super) fn accepted_bytes(&mut self, connection: ConnectionId, bytes: &[u8], now: Instant) {
        let max = self.config.limits.max_unbound_msrp_bytes;
        match self.accepted.get_mut(&connection) {
            None => {}
            Some(Accepted::Bound(session)) => {
                let session = *session;
                self.msrp_input(session, crate::msrp::session::Input::Bytes(bytes), now);
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
                self.msrp_input(session, crate::msrp::session::Input::Closed, now);
            }
        }
    }

    /// Binds an unbound connection once its first To-Path is complete and
    /// its session's MSRP endpoint exists (the connection may come before
    /// the 2xx that completes the SDP exchange here: it then waits).
    fn bind_accepted(&mut self, connection: ConnectionId, now: Instant) {
        let Some(Accepted::Unbound { buffer, .. }) = self.accepted.get(&connection) else {
            return;
        };
        let token = match to_path_session_id(buffer) {
            Lookup::Incomplete => return,
            Lookup::Found(token) => token,
            Lookup::Invalid => return self.close_accepted(connection),
        };
        let sdp_limits = &self.config.limits.layers.sdp;
        let found = self.sessions.iter().find(|(_, s)| {
            local_path_session_id(&s.local_sdp, sdp_limits).is_some_and(|own| own == token)
        });
        let Some((&session, s)) = found else {
            return self.close_accepted(connection);
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
        self.msrp_input(session, crate::msrp::session::Input::Connected, now);
        self.msrp_input(session, crate::msrp::session::Input::Bytes(&buffer), now);
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

    /// Forgets the accepted connection of a session that ends.
    pub(super) fn forget_accepted(&mut self, session: ImSessionId) {
        if let Some(c) = self
            .sessions
            .get_mut(&session)
            .and_then(|s| s.connection.take())
        {
            self.accepted.remove(&c);
        }
    }
}
