//! [`HashSlots`]: a map from 64-bit hashes to small ids, each entry in one
//! 16-byte slot of one vector (open addressing, linear probing).
//!
//! A lookup reads the slot its key names and, rarely, the next ones: one
//! cache line, where a hash map reads a control group and then a bucket.
//! The keys are hashes already (keyed by their owner when a peer chooses
//! what is hashed); they are spread once more with a multiplication, so
//! that even a poor key makes short probes.

use crate::slab::SlabKey;

/// Ids of type `V` under 64-bit keys.
#[derive(Debug)]
pub(crate) struct HashSlots<V> {
    /// `(key, raw id)`; key 0 marks an empty slot (the value of key 0 is
    /// kept in `zero`). The length is 0 or a power of two.
    slots: Vec<(u64, u64)>,
    len: usize,
    zero: Option<V>,
}

impl<V> Default for HashSlots<V> {
    fn default() -> Self {
        HashSlots {
            slots: Vec::new(),
            len: 0,
            zero: None,
        }
    }
}

/// Below this many slots nothing is given back.
const SMALL: usize = 64;

impl<V: SlabKey> HashSlots<V> {
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The slot where `key` is looked for first.
    fn home(&self, key: u64) -> usize {
        let spread = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (spread >> 32) as usize & self.mask()
    }

    /// The slot holding `key`, if any.
    fn place(&self, key: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            match self.slots.get(i)?.0 {
                0 => return None,
                k if k == key => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    pub(crate) fn get(&self, key: &u64) -> Option<V> {
        if *key == 0 {
            return self.zero;
        }
        let i = self.place(*key)?;
        self.slots.get(i).map(|&(_, raw)| V::from_raw(raw))
    }

    /// Puts `value` under `key`; the value it replaces.
    pub(crate) fn insert(&mut self, key: u64, value: V) -> Option<V> {
        if key == 0 {
            let old = self.zero.replace(value);
            if old.is_none() {
                self.len += 1;
            }
            return old;
        }
        if let Some(i) = self.place(key) {
            let slot = self.slots.get_mut(i)?;
            let old = V::from_raw(slot.1);
            slot.1 = value.raw();
            return Some(old);
        }
        // At most three quarters full: probes stay short.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.resize((self.slots.len() * 2).max(16));
        }
        self.put(key, value.raw());
        self.len += 1;
        None
    }

    /// Writes an entry known to be absent, in a table with room.
    fn put(&mut self, key: u64, raw: u64) {
        let mask = self.mask();
        let mut i = self.home(key);
        while let Some(slot) = self.slots.get_mut(i) {
            if slot.0 == 0 {
                *slot = (key, raw);
                return;
            }
            i = (i + 1) & mask;
        }
    }

    pub(crate) fn remove(&mut self, key: &u64) -> Option<V> {
        if *key == 0 {
            let old = self.zero.take();
            if old.is_some() {
                self.len -= 1;
            }
            return old;
        }
        let mut hole = self.place(*key)?;
        let old = V::from_raw(self.slots.get(hole)?.1);
        self.len -= 1;
        // Backward shift: each entry after the hole that may move closer
        // to its home does, so that no probe meets a gap before its key.
        let mask = self.mask();
        let mut next = (hole + 1) & mask;
        while let Some(&(k, raw)) = self.slots.get(next).filter(|slot| slot.0 != 0) {
            let home = self.home(k);
            if (next.wrapping_sub(home) & mask) >= (next.wrapping_sub(hole) & mask) {
                if let Some(slot) = self.slots.get_mut(hole) {
                    *slot = (k, raw);
                }
                hole = next;
            }
            next = (next + 1) & mask;
        }
        if let Some(slot) = self.slots.get_mut(hole) {
            *slot = (0, 0);
        }
        Some(old)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); slots]);
        for (key, raw) in old {
            if key != 0 {
                self.put(key, raw);
            }
        }
    }

    /// Shrinks the table once at most a quarter of it is used (as
    /// [`Spare`](crate::spare::Spare) does for the standard tables).
    pub(crate) fn release_spare(&mut self) {
        let len = self.slots.len();
        if len > SMALL && self.len.saturating_mul(4) <= len {
            let to = (self.len.saturating_mul(2)).next_power_of_two().max(16);
            if to < len {
                self.resize(to);
            }
        }
    }

    /// The table's own memory.
    #[cfg(test)]
    fn capacity_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<(u64, u64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_zero_and_colliding_homes_are_kept_apart() {
        let mut t: HashSlots<u64> = HashSlots::default();
        assert_eq!(t.insert(0, 5), None);
        assert_eq!(t.get(&0), Some(5));
        // Keys that share a home slot in a 16-slot table: probes step over.
        let same: Vec<u64> = (1..10_000u64)
            .filter(|&k| {
                let spread = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                (spread >> 32) & 15 == 3
            })
            .take(3)
            .collect();
        for (i, &k) in same.iter().enumerate() {
            assert_eq!(t.insert(k, i as u64), None);
        }
        assert_eq!(t.remove(&same[0]), Some(0));
        assert_eq!(t.get(&same[1]), Some(1), "shifted back over the hole");
        assert_eq!(t.get(&same[2]), Some(2));
        assert_eq!(t.len(), 3);
        assert_eq!(t.remove(&0), Some(5));
        assert_eq!(t.get(&0), None);
    }

    #[test]
    fn release_spare_gives_back_and_keeps_the_entries() {
        let mut t: HashSlots<u64> = HashSlots::default();
        for k in 1..=4096u64 {
            t.insert(k * 7919, k);
        }
        for k in 9..=4096u64 {
            t.remove(&(k * 7919));
        }
        let before = t.capacity_bytes();
        t.release_spare();
        assert!(t.capacity_bytes() * 64 <= before);
        for k in 1..=8u64 {
            assert_eq!(t.get(&(k * 7919)), Some(k));
        }
        assert_eq!(t.len(), 8);
    }

    proptest! {
        /// Against the standard map, for keys from a small set (many
        /// collisions, key 0 included) and a large one.
        #[test]
        fn behaves_as_a_map(
            ops in proptest::collection::vec((0u8..5, 0u64..40, any::<u64>()), 0..600),
        ) {
            let mut t: HashSlots<u64> = HashSlots::default();
            let mut model = std::collections::HashMap::new();
            for (op, small, big) in ops {
                let key = if op % 2 == 0 { small } else { big };
                match op {
                    0 | 1 => prop_assert_eq!(t.insert(key, big), model.insert(key, big)),
                    2 | 3 => prop_assert_eq!(t.remove(&key), model.remove(&key)),
                    _ => t.release_spare(),
                }
                prop_assert_eq!(t.len(), model.len());
                prop_assert_eq!(t.is_empty(), model.is_empty());
                for k in (0..40).chain([key]) {
                    prop_assert_eq!(t.get(&k), model.get(&k).copied());
                }
            }
        }
    }
}
