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
    /// `cursor` in id order, then from the first. `cursor` is the leg
    /// taken last and the place it had then (found again by its id when
    /// legs joined or left since). Gives the leg and its place.
    pub(super) fn next_ready(
        &mut self,
        cursor: Option<(LegId, usize)>,
        ready: impl Fn(&Leg) -> bool,
    ) -> Option<(LegId, usize, &mut Leg)> {
        let from = match cursor {
            None => 0,
            Some((id, at)) if self.legs.get(at).is_some_and(|(k, _)| *k == id) => at + 1,
            Some((id, _)) => self.legs.partition_point(|(k, _)| *k <= id),
        };
        let ready_at = |i: &usize| self.legs.get(*i).is_some_and(|(_, leg)| ready(leg));
        let at = (from..self.legs.len())
            .find(ready_at)
            .or_else(|| (0..from.min(self.legs.len())).find(ready_at))?;
        let (id, leg) = self.legs.get_mut(at)?;
        Some((*id, at, &mut **leg))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use crate::msrp::switch::{Leg, LegConfig, LegId, MsrpSwitch, SwitchConfig};

    fn with_legs(ids: &[u64]) -> MsrpSwitch {
        let mut switch = MsrpSwitch::new(SwitchConfig::default());
        for &n in ids {
            let local = format!("msrp://switch.example.com:2855/leg{n};tcp");
            let remote = format!("msrp://ue{n}.example.com:7777/p{n};tcp");
            let config = LegConfig::new(&local, &remote, "sip:user@example.com");
            switch.join(LegId(n), config, Instant::now()).expect("join");
        }
        switch
    }

    #[test]
    fn next_ready_goes_round_robin_from_the_cursor_even_a_stale_one() {
        let mut switch = with_legs(&[1, 2, 3, 5, 8]);
        let legs = &mut switch.legs;
        let mut next = |cursor: Option<(u64, usize)>, ready: &[u64]| {
            // A leg is known by its From-Path line, which ends in its number.
            let is = |leg: &Leg, n: &u64| {
                let line = format!("/leg{n};tcp\r\n");
                leg.lines.local_line().ends_with(line.as_bytes())
            };
            legs.next_ready(cursor.map(|(id, at)| (LegId(id), at)), |leg| {
                ready.iter().any(|n| is(leg, n))
            })
            .map(|(id, at, _)| (id.0, at))
        };
        // From the start, then after the cursor, wrapping around.
        assert_eq!(next(None, &[3, 8]), Some((3, 2)));
        assert_eq!(next(Some((3, 2)), &[3, 8]), Some((8, 4)));
        assert_eq!(next(Some((8, 4)), &[3, 8]), Some((3, 2)));
        assert_eq!(next(Some((3, 2)), &[3]), Some((3, 2)));
        assert_eq!(next(Some((3, 2)), &[]), None);
        // A stale place (legs joined or left since): found by id.
        assert_eq!(next(Some((3, 0)), &[1, 5]), Some((5, 3)));
        // The cursor's leg left: the next id after it.
        assert_eq!(next(Some((4, 3)), &[1, 5, 8]), Some((5, 3)));
        assert_eq!(next(Some((9, 7)), &[2, 5]), Some((2, 1)));
    }

    #[test]
    fn among_mut_finds_each_present_id_with_its_place() {
        let switch = with_legs(&[1, 2, 3, 5, 8]);
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
