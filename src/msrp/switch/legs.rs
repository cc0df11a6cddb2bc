//! The switch's legs: a vector sorted by leg id, sized to the session.
//!
//! A session has a handful of legs; a B-tree node sized for eleven of them
//! cost every session about 10 KB whatever its size. Each leg is boxed so
//! that the vector's spare capacity costs a pointer, not a leg.

use super::{Leg, LegId};

#[derive(Debug, Clone, Default)]
pub(super) struct Legs {
    legs: Vec<(LegId, Box<Leg>)>,
}

impl Legs {
    fn find(&self, id: LegId) -> Result<usize, usize> {
        self.legs.binary_search_by_key(&id, |(k, _)| *k)
    }

    pub(super) fn len(&self) -> usize {
        self.legs.len()
    }

    pub(super) fn contains_key(&self, id: &LegId) -> bool {
        self.find(*id).is_ok()
    }

    pub(super) fn get(&self, id: &LegId) -> Option<&Leg> {
        self.find(*id).ok().map(|i| &*self.legs[i].1)
    }

    pub(super) fn get_mut(&mut self, id: &LegId) -> Option<&mut Leg> {
        self.find(*id).ok().map(|i| &mut *self.legs[i].1)
    }

    /// Adds or replaces the leg `id`.
    pub(super) fn insert(&mut self, id: LegId, leg: Leg) {
        match self.find(id) {
            Ok(i) => *self.legs[i].1 = leg,
            Err(i) => {
                // Grow one leg at a time: sessions gain legs one by one.
                self.legs.reserve_exact(1);
                self.legs.insert(i, (id, Box::new(leg)));
            }
        }
    }

    pub(super) fn remove(&mut self, id: &LegId) -> Option<Leg> {
        let i = self.find(*id).ok()?;
        let (_, leg) = self.legs.remove(i);
        Some(*leg)
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut Leg> {
        self.legs.iter_mut().map(|(_, leg)| &mut **leg)
    }

    /// The legs in id order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (LegId, &Leg)> {
        self.legs.iter().map(|(id, leg)| (*id, &**leg))
    }

    /// The legs whose ids are in `ids` (ascending, as a message's targets
    /// are kept), each with the place of its id in `ids`: one walk of both
    /// lists rather than a search per id. Ids of legs that left are skipped.
    pub(super) fn among_mut<'s>(
        &'s mut self,
        ids: &'s [LegId],
    ) -> impl Iterator<Item = (usize, LegId, &'s mut Leg)> + 's {
        debug_assert!(ids.is_sorted(), "targets are kept in id order");
        let mut at = 0;
        self.legs.iter_mut().filter_map(move |(id, leg)| {
            while ids.get(at).is_some_and(|t| t < id) {
                at += 1;
            }
            if ids.get(at) != Some(id) {
                return None;
            }
            at += 1;
            Some((at - 1, *id, &mut **leg))
        })
    }

    /// The first leg for which `ready` holds, taken round robin: after
    /// `cursor` in id order, then from the first.
    pub(super) fn next_ready(
        &mut self,
        cursor: Option<LegId>,
        ready: impl Fn(&Leg) -> bool,
    ) -> Option<(LegId, &mut Leg)> {
        let from = cursor.map_or(0, |c| self.legs.partition_point(|(id, _)| *id <= c));
        let at = (from..self.legs.len())
            .chain(0..from)
            .find(|&i| self.legs.get(i).is_some_and(|(_, leg)| ready(leg)))?;
        let (id, leg) = self.legs.get_mut(at)?;
        Some((*id, &mut **leg))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use crate::msrp::switch::{LegConfig, LegId, MsrpSwitch, SwitchConfig};

    #[test]
    fn among_mut_finds_each_present_id_with_its_place() {
        let mut switch = MsrpSwitch::new(SwitchConfig::default());
        for n in [1, 2, 3, 5, 8] {
            let local = format!("msrp://switch.example.com:2855/leg{n};tcp");
            let remote = format!("msrp://ue{n}.example.com:7777/p{n};tcp");
            let config = LegConfig::new(&local, &remote, "sip:user@example.com");
            switch.join(LegId(n), config, Instant::now()).expect("join");
        }
        let found = |ids: &[u64]| {
            let ids: Vec<LegId> = ids.iter().copied().map(LegId).collect();
            switch
                .legs
                .clone()
                .among_mut(&ids)
                .map(|(place, id, _)| (place, id.0))
                .collect::<Vec<_>>()
        };
        assert_eq!(found(&[2, 4, 5, 9]), [(0, 2), (2, 5)]);
        assert_eq!(found(&[0, 1, 8]), [(1, 1), (2, 8)]);
        assert_eq!(
            found(&[1, 2, 3, 5, 8]),
            [(0, 1), (1, 2), (2, 3), (3, 5), (4, 8)]
        );
        assert_eq!(found(&[]), []);
        assert_eq!(found(&[9]), []);
    }
}
