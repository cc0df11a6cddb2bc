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
