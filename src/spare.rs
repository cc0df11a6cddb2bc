//! Giving back the spare capacity of collections that emptied.
//!
//! A table sized for a burst (the INVITE sets of a thousand set-ups in the
//! same second, their deadlines) keeps its memory once the burst is over.
//! [`Spare::release_spare`] shrinks a collection holding at most a quarter
//! of its capacity to twice its length: each shrink follows at least as
//! many removals as the slots it gives back, so the cost stays amortized
//! O(1) per operation, and a collection that merely breathes is left alone.

use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};

/// Below this capacity nothing is given back.
const SMALL: usize = 64;

/// Whether `capacity` holds at most a quarter used, and what to shrink to.
#[inline]
fn target(len: usize, capacity: usize) -> Option<usize> {
    (capacity > SMALL && len.saturating_mul(4) <= capacity).then(|| len.saturating_mul(2))
}

/// A collection whose spare capacity can be given back.
pub(crate) trait Spare {
    /// Shrinks the collection if at most a quarter of it is used.
    fn release_spare(&mut self);
}

impl<K: Eq + Hash, V, S: BuildHasher> Spare for HashMap<K, V, S> {
    // Called after every input on every table: the check, inlined,
    // is what it costs.
    #[inline]
    fn release_spare(&mut self) {
        if let Some(to) = target(self.len(), self.capacity()) {
            self.shrink_to(to);
        }
    }
}

impl<T: Eq + Hash, S: BuildHasher> Spare for HashSet<T, S> {
    // Called after every input on every table: the check, inlined,
    // is what it costs.
    #[inline]
    fn release_spare(&mut self) {
        if let Some(to) = target(self.len(), self.capacity()) {
            self.shrink_to(to);
        }
    }
}

impl<T> Spare for VecDeque<T> {
    // Called after every input on every table: the check, inlined,
    // is what it costs.
    #[inline]
    fn release_spare(&mut self) {
        if let Some(to) = target(self.len(), self.capacity()) {
            self.shrink_to(to);
        }
    }
}

impl<T: Ord> Spare for BinaryHeap<T> {
    // Called after every input on every table: the check, inlined,
    // is what it costs.
    #[inline]
    fn release_spare(&mut self) {
        if let Some(to) = target(self.len(), self.capacity()) {
            self.shrink_to(to);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drained_table_gives_its_memory_back_and_a_busy_one_keeps_it() {
        let mut map: HashMap<u32, u32> = (0..10_000).map(|i| (i, i)).collect();
        let full = map.capacity();
        map.retain(|k, _| *k < 5_000);
        let half = map.capacity();
        map.release_spare();
        assert_eq!(map.capacity(), half, "half used: kept");
        assert!(half >= full / 2);
        map.retain(|k, _| *k < 100);
        map.release_spare();
        assert!(map.capacity() < full / 16, "1% used: given back");
        assert_eq!(map.len(), 100);

        let mut queue: VecDeque<u32> = (0..1000).collect();
        queue.drain(..990);
        queue.release_spare();
        assert!(queue.capacity() < 64);
        let mut small: VecDeque<u32> = VecDeque::with_capacity(64);
        small.release_spare();
        assert!(small.capacity() >= 64, "small collections are left alone");
    }
}
