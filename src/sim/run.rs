//! Running a [`Sim`]: moving every node's outputs onto the network,
//! delivering what is due, and jumping the virtual clock to the earliest
//! deadline when nothing moves.

use std::time::{Duration, Instant};

use crate::im::client;

use super::nodes::{Action, NodeId, Nodes, SimEvent};
use super::wire::Entry;
use super::{Recorded, Sim, SimError};

/// What a run calls with every event.
type Hook<'a> = dyn FnMut(&mut Nodes, NodeId, &SimEvent, Instant) + 'a;

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// At the time given (or earlier, with the clock moved to it, when
    /// nothing is left to happen).
    At,
    /// When every node is idle; an error at the time given.
    Idle,
    /// When nothing is in flight and no node has a deadline; an error at
    /// the time given.
    Quiet,
}

impl Sim {
    /// Runs for `duration` of virtual time (or less when everything is
    /// idle before).
    pub fn run_for(&mut self, duration: Duration) -> Result<(), SimError> {
        self.run_for_with(duration, |_, _, _, _| {})
    }

    /// [`run_for`](Self::run_for), calling `hook` with every node, the
    /// node that reported, each event and the time.
    pub fn run_for_with(
        &mut self,
        duration: Duration,
        mut hook: impl FnMut(&mut Nodes, NodeId, &SimEvent, Instant),
    ) -> Result<(), SimError> {
        let until = self.now + duration;
        self.run(until, Stop::At, &mut hook)
    }

    /// Runs until every node is idle and nothing is in flight; fails with
    /// [`SimError::NotIdle`] when that does not happen within `bound` of
    /// virtual time.
    pub fn run_until_idle(&mut self, bound: Duration) -> Result<(), SimError> {
        self.run_until_idle_with(bound, |_, _, _, _| {})
    }

    /// [`run_until_idle`](Self::run_until_idle) with a hook on every
    /// event.
    pub fn run_until_idle_with(
        &mut self,
        bound: Duration,
        mut hook: impl FnMut(&mut Nodes, NodeId, &SimEvent, Instant),
    ) -> Result<(), SimError> {
        let until = self.now + bound;
        self.run(until, Stop::Idle, &mut hook)
    }

    /// Runs until nothing is in flight and no node has a deadline — the
    /// nodes may still keep state that waits for a command, such as an
    /// established dialog without a session timer — and leaves the clock
    /// there; fails with [`SimError::NotIdle`] when that does not happen
    /// within `bound` of virtual time.
    pub fn run_until_quiet(&mut self, bound: Duration) -> Result<(), SimError> {
        self.run_until_quiet_with(bound, |_, _, _, _| {})
    }

    /// [`run_until_quiet`](Self::run_until_quiet) with a hook on every
    /// event.
    pub fn run_until_quiet_with(
        &mut self,
        bound: Duration,
        mut hook: impl FnMut(&mut Nodes, NodeId, &SimEvent, Instant),
    ) -> Result<(), SimError> {
        let until = self.now + bound;
        self.run(until, Stop::Quiet, &mut hook)
    }

    /// Whether every node is idle and nothing is in flight or held.
    pub fn is_idle(&self) -> bool {
        self.flights.is_empty()
            && self.held.is_empty()
            && self
                .nodes
                .id_list()
                .iter()
                .all(|id| self.nodes.busy(*id).is_none())
    }

    fn run(&mut self, until: Instant, stop: Stop, hook: &mut Hook<'_>) -> Result<(), SimError> {
        // The instant the nodes' deadlines were last handled at.
        let mut fired_at: Option<Instant> = None;
        loop {
            let mut moved = false;
            while self.step(hook)? {
                moved = true;
            }
            let ids = self.nodes.id_list();
            let next_node = ids
                .iter()
                .filter_map(|id| self.nodes.poll_timeout(*id))
                .min();
            let next_flight = self.flights.keys().next().map(|(at, _)| *at);
            let next = next_node.into_iter().chain(next_flight).min();
            match next {
                Some(next) if next <= until => {
                    if !moved && next <= self.now && fired_at == Some(self.now) {
                        return Err(self.stuck());
                    }
                    self.now = self.now.max(next);
                    let now = self.now;
                    for id in ids {
                        if self.nodes.poll_timeout(id).is_some_and(|t| t <= now) {
                            self.nodes.handle_timeout(id, now);
                        }
                    }
                    fired_at = Some(now);
                }
                _ => {
                    match stop {
                        Stop::At => self.now = self.now.max(until),
                        Stop::Idle if !self.is_idle() => return Err(self.not_idle()),
                        Stop::Quiet if next.is_some() || !self.held.is_empty() => {
                            return Err(self.not_idle())
                        }
                        Stop::Idle | Stop::Quiet => {}
                    }
                    return Ok(());
                }
            }
        }
    }

    fn stuck(&self) -> SimError {
        let nodes = self
            .nodes
            .id_list()
            .into_iter()
            .filter(|id| self.nodes.poll_timeout(*id).is_some_and(|t| t <= self.now))
            .map(|id| self.nodes.name(id).to_owned())
            .collect();
        SimError::StuckDeadline {
            nodes,
            elapsed: self.elapsed(),
        }
    }

    fn not_idle(&self) -> SimError {
        let mut busy: Vec<(String, String)> = self
            .nodes
            .id_list()
            .into_iter()
            .filter_map(|id| Some((self.nodes.name(id).to_owned(), self.nodes.busy(id)?)))
            .collect();
        if !self.held.is_empty() {
            busy.push((
                "network".to_owned(),
                format!("{} segment(s) held by a partition", self.held.len()),
            ));
        }
        if !self.flights.is_empty() {
            busy.push((
                "network".to_owned(),
                format!("{} message(s) in flight", self.flights.len()),
            ));
        }
        SimError::NotIdle {
            elapsed: self.elapsed(),
            busy,
            ladder_tail: self.ladder_tail(),
        }
    }

    fn count_step(&mut self) -> Result<(), SimError> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(SimError::TooManySteps {
                steps: self.max_steps,
                elapsed: self.elapsed(),
                ladder_tail: self.ladder_tail(),
            });
        }
        Ok(())
    }

    /// Moves every node's outputs out, then delivers what is due now.
    fn step(&mut self, hook: &mut Hook<'_>) -> Result<bool, SimError> {
        let mut progress = false;
        for id in self.nodes.id_list() {
            while let Some(action) = self.nodes.poll(id) {
                progress = true;
                self.count_step()?;
                self.act(id, action, hook);
            }
            // What the node wrote on its streams in this turn leaves now.
            self.flush_streams();
        }
        while let Some(entry) = self.flights.first_entry() {
            if entry.key().0 > self.now {
                break;
            }
            let flight = entry.remove();
            progress = true;
            self.count_step()?;
            self.arrive(flight);
        }
        Ok(progress)
    }

    fn act(&mut self, id: NodeId, action: Action, hook: &mut Hook<'_>) {
        match action {
            Action::Sip(t) => self.send_sip(id, t),
            Action::Connect { end, to } => self.connect(id, end, to),
            Action::Write { end, data } => self.write(id, end, data),
            Action::Close { end } => self.close(id, end),
            Action::Bound { accepted, session } => {
                if let Some(&conn) = self.ends.get(&(id, accepted)) {
                    self.ends.insert((id, session), conn);
                }
            }
            Action::Event(event) => {
                let now = self.now;
                if self.nodes.auto_accept(id) {
                    if let (
                        NodeId::Client(c),
                        SimEvent::Client(client::Event::InvitationReceived { session, .. }),
                    ) = (id, &event)
                    {
                        let _ = self.nodes.client(c).accept(*session, now);
                    }
                }
                hook(&mut self.nodes, id, &event, now);
                self.order.push(Entry::Event(self.events.len()));
                self.events.push(Recorded {
                    at: self.elapsed(),
                    node: id,
                    event,
                });
            }
        }
    }
}
