//! The User Plane of a session: one MSRP session, built from the SDP
//! offer/answer when the session is established, carrying CPIM-wrapped
//! messages. The TCP connection is the application's: the client asks for
//! it ([`Output::MsrpConnect`]) when it is the active end, and takes its
//! state and bytes as [`Input`](super::Input)s.

use std::time::Instant;

use crate::msrp::session::{self as msrp, CpimIdentities, MsrpSession, SendOptions, SessionConfig};
use crate::sdp::offer_answer::{negotiate, Side};
use crate::sdp::SessionDescription;

use super::session::{Origin, State};
use super::{ClientError, Event, ImClient, ImSessionId, Output};

impl ImClient {
    /// Sends `body` of `content_type` on the MSRP session of `session`,
    /// wrapped in `message/cpim`; returns its Message-ID. A success REPORT
    /// is asked for when `delivery_report` ([`Event::MessageDelivered`]).
    pub fn send_message(
        &mut self,
        session: ImSessionId,
        content_type: &str,
        body: &[u8],
        delivery_report: bool,
        now: Instant,
    ) -> Result<String, ClientError> {
        self.send(session, content_type, body, delivery_report, None, now)
    }

    /// As [`send_message`](Self::send_message), with a CPIM `DateTime`
    /// (RFC 3862 §5.3, e.g. `2008-09-03T10:00:00Z`) stamped on the message:
    /// the client reads no clock, so the application supplies the time. An
    /// IM History Function that records the session keeps it and delivers
    /// it with the message on retrieval (13.3.3).
    pub fn send_message_dated(
        &mut self,
        session: ImSessionId,
        content_type: &str,
        body: &[u8],
        delivery_report: bool,
        date_time: &str,
        now: Instant,
    ) -> Result<String, ClientError> {
        self.send(
            session,
            content_type,
            body,
            delivery_report,
            Some(date_time),
            now,
        )
    }

    fn send(
        &mut self,
        session: ImSessionId,
        content_type: &str,
        body: &[u8],
        delivery_report: bool,
        date_time: Option<&str>,
        now: Instant,
    ) -> Result<String, ClientError> {
        let options = SendOptions {
            success_report: delivery_report,
            date_time: date_time.map(str::to_owned),
            ..SendOptions::default()
        };
        let id = self.send_with(session, content_type, body, options, now)?;
        self.composing.message_sent(session);
        Ok(id)
    }

    /// Sends on the MSRP session of `session` with `options`.
    pub(super) fn send_with(
        &mut self,
        session: ImSessionId,
        content_type: &str,
        body: &[u8],
        options: SendOptions,
        now: Instant,
    ) -> Result<String, ClientError> {
        let s = self
            .sessions
            .get_mut(&session)
            .ok_or(ClientError::UnknownSession)?;
        if s.receive_only {
            return Err(ClientError::ReceiveOnly);
        }
        let msrp = s.msrp.as_mut().ok_or(ClientError::WrongState)?;
        let id = msrp
            .send_message(content_type, body, options, now)
            .map_err(ClientError::Msrp)?;
        self.pump(now);
        Ok(id)
    }

    /// Builds the MSRP session of `id` from its offer and answer; asks for
    /// the connection when the local end is active; queues a Large Message.
    pub(super) fn start_msrp(&mut self, id: ImSessionId, now: Instant) {
        let chunk_size = self.config.msrp_chunk_size;
        let limits = self.config.limits.layers.session_limits();
        let rng_seed = self.rng.fork_seed();
        let from = self.config.im_address.clone();
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let (local, remote) = (s.local_sdp.clone(), s.remote_offer.clone());
        let side = if s.is_uac() {
            Side::Offerer
        } else {
            Side::Answerer
        };
        let built = (|| {
            let sdp_limits = &self.config.limits.layers.sdp;
            let local = SessionDescription::parse_with_limits(&local, sdp_limits).ok()?;
            let remote = SessionDescription::parse_with_limits(&remote, sdp_limits).ok()?;
            let negotiated = negotiate(&local, &remote, side).ok()?;
            let config = SessionConfig {
                chunk_size,
                limits,
                rng_seed,
                cpim: Some(CpimIdentities {
                    from,
                    // In a conference, messages are to the IM Session
                    // Identity; else to the peer.
                    to: match (&s.large_message_to, &s.identity) {
                        // The address the offer's `a=max-size` was counted
                        // with.
                        (Some(to), _) => to.clone(),
                        (None, Some(identity)) if identity.is_focus => identity.uri.clone(),
                        _ => s.peer.clone(),
                    },
                }),
                ..SessionConfig::default()
            };
            MsrpSession::from_negotiated(&negotiated, config).ok()
        })();
        let Some(mut msrp) = built else {
            return;
        };
        if msrp.params().active {
            self.out.push_back(Output::MsrpConnect {
                session: id,
                destination: msrp.destination().clone(),
            });
        }
        if let Some((content_type, body)) = s.large_message.take() {
            if msrp
                .send_message(&content_type, &body, SendOptions::default(), now)
                .is_err()
            {
                // Refused locally (too large, not accepted): release at once.
                s.state = State::Ending;
                if let Some(d) = s.dialog {
                    let _ = self.ua.bye(d, now);
                }
                return;
            }
        }
        s.msrp = Some(msrp);
    }

    pub(super) fn msrp_input(&mut self, id: ImSessionId, input: msrp::Input<'_>, now: Instant) {
        // The sessions share `Limits::max_msrp_buffered_bytes`: this one
        // may take what the others leave.
        let others: usize = self
            .sessions
            .iter()
            .filter(|(other, _)| **other != id)
            .filter_map(|(_, s)| s.msrp.as_ref())
            .map(MsrpSession::buffered_bytes)
            .sum();
        let budget = self.config.limits.max_msrp_buffered_bytes;
        if let Some(m) = self.sessions.get_mut(&id).and_then(|s| s.msrp.as_mut()) {
            m.set_buffer_allowance(budget.saturating_sub(others));
            m.handle_input(input, now);
        }
    }

    /// Closes the MSRP session of `id` and tells the application.
    pub(super) fn close_msrp(&mut self, id: ImSessionId) {
        if let Some(mut m) = self.sessions.get_mut(&id).and_then(|s| s.msrp.take()) {
            m.close();
            while m.poll_output().is_some() {}
            self.out.push_back(Output::MsrpClose { session: id });
        }
        self.forget_accepted(id);
    }

    /// Moves every MSRP session's output out; returns whether any moved.
    pub(super) fn drain_msrp(&mut self, now: Instant) -> bool {
        let mut moved = false;
        let mut finished = Vec::new();
        let mut exceeded = Vec::new();
        let mut events = Vec::new();
        for (id, s) in &mut self.sessions {
            let Some(m) = &mut s.msrp else { continue };
            while let Some(output) = m.poll_output() {
                moved = true;
                match output {
                    msrp::Output::Transmit(t) => self.out.push_back(Output::MsrpTransmit {
                        session: *id,
                        data: t.data,
                    }),
                    msrp::Output::Event(e) => {
                        let mut parts = super::imdn::Parts {
                            notes: &mut self.notifications,
                            composing: &mut self.composing,
                            rng: &mut self.rng,
                            config: &self.config,
                        };
                        let Some(e) = parts.on_msrp_event(
                            *id,
                            &s.peer,
                            s.receive_only,
                            m,
                            e,
                            &mut events,
                            now,
                        ) else {
                            continue;
                        };
                        let large = s.origin == Origin::LargeMessage;
                        match e {
                            msrp::Event::MessageReceived(m) => {
                                events.push(received(*id, *m, &s.peer))
                            }
                            msrp::Event::MessageSent { message_id } => {
                                if large {
                                    finished.push(*id);
                                }
                                events.push(Event::MessageSent {
                                    session: *id,
                                    message_id,
                                });
                            }
                            msrp::Event::ReportReceived { message_id, .. } => {
                                events.push(Event::MessageDelivered {
                                    session: *id,
                                    message_id,
                                })
                            }
                            msrp::Event::BufferExceeded => {
                                exceeded.push(*id);
                                events.push(Event::BufferExceeded { session: *id });
                            }
                            msrp::Event::DeliveryFailed { message_id, cause } => {
                                if large {
                                    finished.push(*id);
                                }
                                events.push(Event::DeliveryFailed {
                                    session: *id,
                                    message_id,
                                    cause,
                                });
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        for e in events {
            self.event(e);
        }
        // 9.2.2 step 4: the sender releases a Large Message session once
        // the message is through.
        for id in finished {
            let _ = self.leave(id, now);
        }
        // A peer over the buffer budget: its chunk was answered 413; the
        // session is left.
        for id in exceeded {
            let _ = self.leave(id, now);
        }
        moved
    }
}

/// The event of a received message: the CPIM content and sender when it is
/// wrapped, else the MSRP body.
pub(super) fn received(session: ImSessionId, m: msrp::ReceivedMessage, peer: &str) -> Event {
    match m.cpim {
        Some(Ok(cpim)) => Event::MessageReceived {
            session,
            from: cpim.from.as_ref().map(|f| f.uri.to_string()),
            to: cpim.to.iter().map(|t| t.uri.to_string()).collect(),
            date_time: cpim.date_time.as_ref().map(|d| d.to_string()),
            content_type: cpim
                .mime_headers
                .get("Content-Type")
                .unwrap_or("text/plain")
                .to_owned(),
            body: cpim.content.into_owned(),
        },
        _ => Event::MessageReceived {
            session,
            from: Some(peer.to_owned()),
            to: Vec::new(),
            date_time: None,
            content_type: m.content_type,
            body: m.body,
        },
    }
}
