//! The user plane: one MSRP switch per IM Session (7.2.1.2 step 4), its
//! legs bound to MSRP connections the application opens or accepts.

use std::time::Instant;

use crate::im::accept::{to_path_session_id, Lookup};
use crate::msrp::session::Authority;
use crate::msrp::switch::{LegConfig, LegFailure, LegId, LegInput, SwitchEvent, SwitchOutput};
use crate::sdp::offer_answer::{negotiate, Side};
use crate::sdp::SessionDescription;

use super::{
    Connection, ConnectionId, Event, ImServer, LeaveReason, Output, ParticipantId, SessionId, Timer,
};

/// What a switch leg takes from a completed SDP exchange.
#[derive(Debug, Clone)]
pub(super) struct LegParams {
    /// The participant's MSRP path, as negotiated.
    pub(super) remote_path: Vec<String>,
    /// The server opens the connection.
    pub(super) active: bool,
}

impl LegParams {
    /// From the server's description (`local`) and the participant's.
    pub(super) fn negotiate(
        local: &SessionDescription<'_>,
        remote: &SessionDescription<'_>,
        side: Side,
    ) -> Option<Self> {
        let negotiated = negotiate(local, remote, side).ok()?;
        Some(Self {
            remote_path: negotiated
                .remote_path
                .iter()
                .map(|u| u.to_string())
                .collect(),
            active: negotiated.is_active(),
        })
    }
}

impl ImServer {
    /// Puts a Participant whose SDP exchange is complete on the session's
    /// switch; asks for the connection when the server is the active end.
    pub(super) fn join_switch(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
        now: Instant,
    ) {
        let Some((config, active)) = self.leg_config(session, participant) else {
            return;
        };
        // The address an active leg connects to, before the switch takes
        // the path.
        let address = active.then(|| {
            config
                .remote_path
                .first()
                .and_then(|u| Authority::from_msrp_uri(u))
                .unwrap_or_else(|| Authority::new("", None))
        });
        let leg = LegId(participant.0);
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        if s.switch.join(leg, config, now).is_err() {
            return;
        }
        if let Some(p) = s.participant_mut(participant) {
            // Its description was needed for the answer only.
            p.offer = None;
        }
        // The Participant may have connected (and sent) before its SDP
        // exchange completed here.
        let early = s
            .participant_mut(participant)
            .and_then(|p| p.leg.as_mut())
            .filter(|l| l.connection.is_some())
            .map(|l| std::mem::take(&mut l.early));
        match early {
            Some(bytes) => {
                s.switch.handle_input(leg, LegInput::Connected, now);
                if !bytes.is_empty() {
                    self.feed_switch(session, leg, &bytes, now);
                }
                return self.drain_switch(session, now);
            }
            None => s.switch.handle_input(leg, LegInput::Blocked, now),
        }
        if let Some(address) = address {
            let connection = ConnectionId(self.fresh_id());
            self.connections
                .insert(connection, Connection::Bound(session, participant));
            if let Some(l) = self
                .sessions
                .get_mut(&session)
                .and_then(|s| s.participant_mut(participant))
                .and_then(|p| p.leg.as_mut())
            {
                l.connection = Some(connection);
            }
            self.out.push_back(Output::MsrpConnect {
                connection,
                address,
            });
        }
        self.drain_switch(session, now);
    }

    /// The switch leg of a Participant from its completed SDP exchange.
    fn leg_config(
        &mut self,
        session: SessionId,
        participant: ParticipantId,
    ) -> Option<(LegConfig, bool)> {
        let p = self
            .sessions
            .get_mut(&session)?
            .participant_mut(participant)?;
        let token = p.leg.as_ref()?;
        let local_uri = Self::leg_uri_of(&self.config, &token.token);
        // Negotiated where both descriptions were parsed (none: the
        // exchange did not give a leg); needed for the leg only, so taken.
        let LegParams {
            remote_path,
            active,
        } = *p.leg_params.take()?;
        let config = LegConfig {
            local_uri,
            remote_path,
            identity: p.address.clone(),
            anonymous_identity: p.anonymous.then(|| self.config.anonymous_uri.clone()),
            active,
            max_queued_bytes: self.config.limits.max_msrp_queued_bytes_per_leg,
        };
        Some((config, active))
    }

    pub(super) fn msrp_connected(&mut self, connection: ConnectionId, now: Instant) {
        match self.connections.get(&connection) {
            Some(Connection::Bound(session, participant)) => {
                let (session, participant) = (*session, *participant);
                if let Some(s) = self.sessions.get_mut(&session) {
                    let leg = LegId(participant.0);
                    s.switch.handle_input(leg, LegInput::Writable, now);
                    s.switch.handle_input(leg, LegInput::Connected, now);
                }
                self.drain_switch(session, now);
            }
            Some(Connection::Unbound(_) | Connection::Refused(_)) => {
                self.arm_unbound(connection, now)
            }
            None => {}
        }
    }

    /// Starts the clock of an accepted connection that names no leg yet:
    /// it is closed at `Limits::unbound_msrp_timeout` unless bound.
    pub(super) fn arm_unbound(&mut self, connection: ConnectionId, now: Instant) {
        let timeout = self.config.limits.unbound_msrp_timeout;
        let Some(Connection::Unbound(u) | Connection::Refused(u)) =
            self.connections.get_mut(&connection)
        else {
            return;
        };
        if u.deadline.is_some() {
            return;
        }
        let at = now + timeout;
        u.deadline = Some(at);
        self.schedule(at, Timer::Unbound(connection));
    }

    pub(super) fn msrp_bytes(&mut self, connection: ConnectionId, bytes: &[u8], now: Instant) {
        let max = self.config.limits.max_unbound_msrp_bytes;
        self.arm_unbound(connection, now);
        let bound = match self.connections.get_mut(&connection) {
            None => return,
            Some(Connection::Bound(s, p)) => Some((*s, *p)),
            Some(Connection::Unbound(u)) => {
                if u.received.saturating_add(bytes.len()) > max {
                    return self.close_unbound(connection);
                }
                u.received += bytes.len();
                u.buffer.extend_from_slice(bytes);
                None
            }
            Some(Connection::Refused(u)) => {
                // RFC 4975 §5.4: the leg stays on its first connection;
                // whatever else this one sends is dropped, within bounds.
                u.received = u.received.saturating_add(bytes.len());
                if u.received > max {
                    self.close_unbound(connection);
                }
                return;
            }
        };
        if let Some((session, participant)) = bound {
            let leg = LegId(participant.0);
            if self
                .sessions
                .get(&session)
                .is_some_and(|s| s.switch.has_leg(leg))
            {
                self.feed_switch(session, leg, bytes, now);
            } else if let Some(s) = self.sessions.get_mut(&session) {
                if let Some(l) = s.participant_mut(participant).and_then(|p| p.leg.as_mut()) {
                    if l.early.len().saturating_add(bytes.len()) <= max {
                        l.early.extend_from_slice(bytes);
                    }
                }
            }
            return self.drain_switch(session, now);
        }
        self.bind(connection, now);
    }

    /// Binds an accepted connection to its leg once its first To-Path is
    /// complete (the session-id of the server's URI names the leg). A leg
    /// already carried by another connection stays there: the newcomer is
    /// answered 506 (RFC 4975 §5.4) and gets nothing of the session.
    fn bind(&mut self, connection: ConnectionId, now: Instant) {
        let Some(Connection::Unbound(u)) = self.connections.get(&connection) else {
            return;
        };
        let token = match to_path_session_id(&u.buffer) {
            Lookup::Incomplete => return,
            Lookup::Found(token) => token,
            Lookup::Invalid => return self.close_unbound(connection),
        };
        let Some((session, participant)) = self.leg_by_token(token) else {
            return self.close_unbound(connection);
        };
        let current = self
            .sessions
            .get(&session)
            .and_then(|s| s.participant(participant))
            .and_then(|p| p.leg.as_ref())
            .and_then(|l| l.connection)
            .filter(|c| *c != connection && self.connections.contains_key(c));
        if current.is_some() {
            return self.refuse_bound(connection);
        }
        let Some(Connection::Unbound(u)) = self
            .connections
            .insert(connection, Connection::Bound(session, participant))
        else {
            return;
        };
        self.unbound = self.unbound.saturating_sub(1);
        let buffer = u.buffer;
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        if let Some(l) = s.participant_mut(participant).and_then(|p| p.leg.as_mut()) {
            l.connection = Some(connection);
        }
        let leg = LegId(participant.0);
        if s.switch.has_leg(leg) {
            s.switch.handle_input(leg, LegInput::Writable, now);
            s.switch.handle_input(leg, LegInput::Connected, now);
            self.feed_switch(session, leg, &buffer, now);
        } else if let Some(l) = s.participant_mut(participant).and_then(|p| p.leg.as_mut()) {
            // Its SDP exchange is not complete here yet: kept until it joins.
            l.early = buffer;
        }
        self.drain_switch(session, now);
    }

    /// RFC 4975 §5.4: a second connection for a leg already bound gets 506
    /// to its first request, once its head is complete (no response is
    /// owed to a REPORT or with `Failure-Report: no`), then only counts
    /// against the unbound bounds until it closes.
    fn refuse_bound(&mut self, connection: ConnectionId) {
        let Some(Connection::Unbound(u)) = self.connections.get(&connection) else {
            return;
        };
        let reply = match crate::im::accept::refusal(&u.buffer, &self.config.limits.layers.msrp) {
            crate::im::accept::Refusal::Incomplete => return,
            crate::im::accept::Refusal::Reply(reply) => reply,
            crate::im::accept::Refusal::Invalid => return self.close_unbound(connection),
        };
        let Some(Connection::Unbound(u)) = self.connections.remove(&connection) else {
            return;
        };
        self.connections.insert(
            connection,
            Connection::Refused(super::Unbound {
                buffer: Vec::new(),
                received: u.received,
                deadline: u.deadline,
            }),
        );
        if !reply.is_empty() {
            self.out.push_back(Output::MsrpTransmit {
                connection,
                bytes: reply,
            });
        }
    }

    /// Closes an accepted connection that carries no leg.
    pub(super) fn close_unbound(&mut self, connection: ConnectionId) {
        if matches!(
            self.connections.get(&connection),
            Some(Connection::Unbound(_) | Connection::Refused(_))
        ) {
            self.connections.remove(&connection);
            self.unbound = self.unbound.saturating_sub(1);
            self.out.push_back(Output::MsrpClose { connection });
        }
    }

    pub(super) fn msrp_closed(&mut self, connection: ConnectionId, now: Instant) {
        let (session, participant) = match self.connections.remove(&connection) {
            Some(Connection::Bound(session, participant)) => (session, participant),
            Some(Connection::Unbound(_) | Connection::Refused(_)) => {
                self.unbound = self.unbound.saturating_sub(1);
                return;
            }
            None => return,
        };
        if let Some(s) = self.sessions.get_mut(&session) {
            let mine = match s.participant_mut(participant).and_then(|p| p.leg.as_mut()) {
                Some(l) if l.connection == Some(connection) => {
                    l.connection = None;
                    true
                }
                _ => false,
            };
            // A connection that no longer carries the leg closing does not
            // take the leg down; the one carrying it does, and with it the
            // Participant, unless its BYE follows within the grace period.
            if mine {
                s.switch
                    .handle_input(LegId(participant.0), LegInput::Closed, now);
                let at = now + self.config.connection_loss_grace;
                if let Some(p) = s.participant_mut(participant).filter(|p| p.is_alive()) {
                    if p.lost_at.is_none() {
                        p.lost_at = Some(at);
                        self.schedule(at, Timer::ConnectionLost(session, participant));
                    }
                }
            }
        }
        self.drain_switch(session, now);
    }

    /// Bytes read on a leg's connection, into its session's switch, under
    /// what is left of the server's MSRP buffer budget
    /// (`Limits::max_msrp_buffered_bytes`) once the other sessions' share
    /// is counted.
    fn feed_switch(&mut self, session: SessionId, leg: LegId, bytes: &[u8], now: Instant) {
        let budget = self.config.limits.max_msrp_buffered_bytes;
        let total = self.msrp_buffered;
        if let Some(s) = self.sessions.get_mut(&session) {
            let others = total.saturating_sub(s.msrp_charged);
            s.switch.set_buffer_allowance(budget.saturating_sub(others));
            // Buffers for the relayed chunks: one per other leg, and the
            // response.
            for _ in 0..s.switch.leg_count() {
                match self.buffers.pop() {
                    Some(buffer) => s.switch.recycle(buffer),
                    None => break,
                }
            }
            s.switch.handle_input(leg, LegInput::Bytes(bytes), now);
        }
    }

    /// Moves the switch's transmits to the legs' connections and its
    /// events out; keeps its deadline scheduled.
    pub(super) fn drain_switch(&mut self, session: SessionId, now: Instant) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        let mut outputs = Vec::new();
        let mut dead = Vec::new();
        while let Some(output) = s.switch.poll_output() {
            match output {
                SwitchOutput::Transmit(t) => {
                    let connection = s
                        .participant(ParticipantId(t.leg.0))
                        .and_then(|p| p.leg.as_ref())
                        .and_then(|l| l.connection);
                    if let Some(connection) = connection {
                        outputs.push(Output::MsrpTransmit {
                            connection,
                            bytes: t.into_bytes(),
                        });
                    }
                }
                SwitchOutput::Event(SwitchEvent::MessageRelayed {
                    from_leg, to_legs, ..
                }) => outputs.push(Output::Event(Event::MessageRelayed {
                    session,
                    from: ParticipantId(from_leg.0),
                    recipients: to_legs.len(),
                })),
                // RFC 4975 §7.1: a transaction left unanswered (or a
                // leg that no longer knows the session, 481, or that
                // sends what is not MSRP) means the leg is dead.
                SwitchOutput::Event(
                    SwitchEvent::DeliveryFailed {
                        leg,
                        cause: LegFailure::Timeout | LegFailure::Response(481),
                        ..
                    }
                    | SwitchEvent::ProtocolError { leg, .. },
                ) => dead.push((ParticipantId(leg.0), LeaveReason::ConnectionLost)),
                SwitchOutput::Event(SwitchEvent::BufferExceeded { leg }) => {
                    dead.push((ParticipantId(leg.0), LeaveReason::BufferExceeded))
                }
                SwitchOutput::Event(_) => {}
            }
        }
        let held = s.switch.buffered_bytes();
        self.msrp_buffered = self
            .msrp_buffered
            .saturating_sub(s.msrp_charged)
            .saturating_add(held);
        s.msrp_charged = held;
        if s.large_message
            && outputs
                .iter()
                .any(|o| matches!(o, Output::Event(Event::MessageRelayed { .. })))
        {
            s.large_message_relayed = true;
        }
        // A relayed Large Message ends the session once every recipient's
        // queue has drained.
        let delivered = s.large_message_relayed
            && s.participants
                .iter()
                .all(|p| s.switch.queued_bytes(LegId(p.id.0)).unwrap_or(0) == 0);
        // Buffers it did not use go back to the server.
        while let Some(buffer) = s.switch.take_spare() {
            if self.buffers.len() < super::MAX_SPARE_BUFFERS {
                self.buffers.push(buffer);
            }
        }
        let next = s.switch.poll_timeout();
        let reschedule = next != s.switch_deadline;
        s.switch_deadline = next;
        self.out.extend(outputs);
        if let (true, Some(at)) = (reschedule, next) {
            self.schedule(at, Timer::Switch(session));
        }
        if delivered {
            self.release_all(session, now);
            return self.drop_session(session, super::EndReason::LargeMessageDelivered, now);
        }
        dead.dedup_by_key(|(p, _)| *p);
        for (participant, reason) in dead {
            self.remove_participant(session, participant, reason, now);
        }
    }
}
