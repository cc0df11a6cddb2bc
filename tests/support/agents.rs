//! Bare SIP user agents on the public simulator ([`oma_im::sim`]), named by
//! their index: the shorthand of the dialog-layer flow tests. Every
//! message crosses the simulator's network as bytes; this only maps
//! indexes to [`AgentId`]s and the simulator's events to each agent's.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oma_im::dialog::{Config, Event, UserAgent};
use oma_im::sim::{AgentId, Faults, NodeId, Sim, SimEvent, WireRecord};

/// User agents `0..n` on a simulator.
pub struct Agents {
    /// The simulator.
    pub sim: Sim,
    ids: Vec<AgentId>,
}

impl Agents {
    /// One user agent per configuration, at its `local_addr`, on a network
    /// with `faults` drawing from `seed`.
    pub fn new(faults: Faults, seed: u64, configs: Vec<Config>) -> Self {
        let mut sim = Sim::new(seed).with_faults(faults);
        let ids = configs
            .into_iter()
            .enumerate()
            .map(|(i, c)| sim.add_agent(&format!("ua{i}"), c))
            .collect();
        Agents { sim, ids }
    }

    /// The user agent `i`.
    pub fn ua(&mut self, i: usize) -> &mut UserAgent {
        self.sim.agent(self.ids[i])
    }

    /// The SIP address of user agent `i`.
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.sim.sip_addr(self.ids[i])
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.sim.now()
    }

    /// The wire log.
    pub fn wire(&self) -> &[WireRecord] {
        self.sim.wire()
    }

    /// Every event, with the index of the agent that reported it.
    pub fn events(&self) -> Vec<(usize, Event)> {
        self.sim
            .events()
            .iter()
            .filter_map(|r| match (r.node, &r.event) {
                (NodeId::Agent(a), SimEvent::Agent(e)) => Some((self.index(a), e.clone())),
                _ => None,
            })
            .collect()
    }

    fn index(&self, id: AgentId) -> usize {
        self.ids.iter().position(|a| *a == id).unwrap_or(usize::MAX)
    }

    /// A simulator hook that calls `hook` with the agent's index.
    fn hook<'a>(
        ids: &'a [AgentId],
        mut hook: impl FnMut(usize, &mut UserAgent, &Event, Instant) + 'a,
    ) -> impl FnMut(&mut oma_im::sim::Nodes, NodeId, &SimEvent, Instant) + 'a {
        move |nodes, node, event, now| {
            if let (NodeId::Agent(a), SimEvent::Agent(e)) = (node, event) {
                let i = ids.iter().position(|x| *x == a).unwrap_or(usize::MAX);
                hook(i, nodes.agent(a), e, now);
            }
        }
    }

    /// Runs until the virtual clock reaches `until` (or nothing is left to
    /// happen), calling `hook` with every event.
    pub fn run_until(
        &mut self,
        until: Instant,
        hook: impl FnMut(usize, &mut UserAgent, &Event, Instant),
    ) {
        let duration = until.saturating_duration_since(self.sim.now());
        let ids = self.ids.clone();
        if let Err(e) = self.sim.run_for_with(duration, Self::hook(&ids, hook)) {
            panic!("{e}");
        }
    }

    /// Runs until nothing is in flight and no agent has a deadline; fails
    /// the test when that takes longer than `bound` of virtual time.
    pub fn run_until_quiet(
        &mut self,
        bound: Duration,
        hook: impl FnMut(usize, &mut UserAgent, &Event, Instant),
    ) {
        let ids = self.ids.clone();
        if let Err(e) = self.sim.run_until_quiet_with(bound, Self::hook(&ids, hook)) {
            panic!("{e}");
        }
    }

    /// Whether every agent is idle and nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.sim.is_idle()
    }

    /// The first lines of the SIP messages from agent `from` to agent
    /// `to`, in order (lost ones included).
    pub fn lines(&self, from: usize, to: usize) -> Vec<String> {
        let (a, b) = (self.addr(from), self.addr(to));
        self.wire()
            .iter()
            .filter(|r| r.from == a && r.to == b)
            .map(|r| r.first_line())
            .collect()
    }
}
