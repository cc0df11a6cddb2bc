//! A table that makes its own keys: a key is the place of its value and
//! the number of the insertion that put it there.
//!
//! A lookup reads the value where it lies, where a hash map of boxed
//! values reads a control group, a bucket and then the box: with a few
//! hundred thousand dialogs or sessions, two cache misses less on every
//! request that finds its dialog. The values live in chunks of
//! [`CHUNK`] places that never move, so the table grows one chunk at a
//! time (no doubling, no copy of what it holds) and a large value costs no
//! box of its own. A key that outlived its value finds nothing, even once
//! its place holds another value (its insertion number differs), until
//! 2³² insertions later.

/// A key of a [`Slab`]: a number the table made, in a type of its own.
pub(crate) trait SlabKey: Copy {
    fn from_raw(raw: u64) -> Self;
    fn raw(self) -> u64;
}

impl SlabKey for u64 {
    fn from_raw(raw: u64) -> Self {
        raw
    }
    fn raw(self) -> u64 {
        self
    }
}

/// Places per chunk.
const CHUNK: usize = 32;

/// Values under keys the table makes.
#[derive(Debug)]
pub(crate) struct Slab<K, T> {
    /// Every chunk but the last is full ([`CHUNK`] places); each is
    /// allocated with room for [`CHUNK`] places and never grows past it.
    chunks: Vec<Vec<Slot<T>>>,
    /// The first free place, [`NONE`] when every place is taken.
    free: u32,
    len: usize,
    /// Insertions so far: the upper half of the keys.
    inserted: u32,
    /// Removals since [`release_spare`](Slab::release_spare) last worked.
    removed: usize,
    /// Chunks given back (left empty) because no value was in them: used
    /// again, whole, before the table grows.
    released: Vec<usize>,
    key: std::marker::PhantomData<K>,
}

#[derive(Debug)]
enum Slot<T> {
    Full { stamp: u32, value: T },
    Free { next: u32 },
}

/// No place.
const NONE: u32 = u32::MAX;

impl<K, T> Default for Slab<K, T> {
    fn default() -> Self {
        Slab {
            chunks: Vec::new(),
            free: NONE,
            len: 0,
            inserted: 0,
            removed: 0,
            released: Vec::new(),
            key: std::marker::PhantomData,
        }
    }
}

/// The insertion number and the place of `key`.
fn split(key: u64) -> (u32, usize) {
    ((key >> 32) as u32, (key & u64::from(u32::MAX)) as usize)
}

impl<K: SlabKey, T> Slab<K, T> {
    /// Places in use or free (not the room allocated for them).
    fn places(&self) -> usize {
        self.chunks
            .last()
            .map_or(0, |last| (self.chunks.len() - 1) * CHUNK + last.len())
    }

    fn slot(&self, place: usize) -> Option<&Slot<T>> {
        self.chunks.get(place / CHUNK)?.get(place % CHUNK)
    }

    fn slot_mut(&mut self, place: usize) -> Option<&mut Slot<T>> {
        self.chunks.get_mut(place / CHUNK)?.get_mut(place % CHUNK)
    }

    /// The key the next [`insert`](Self::insert) returns; `None` when the
    /// table has no place left (2³² − 1 values).
    pub(crate) fn vacant_key(&self) -> Option<K> {
        let place = match (self.free, self.released.last()) {
            (NONE, Some(&chunk)) => u32::try_from(chunk * CHUNK).ok()?,
            (NONE, None) => u32::try_from(self.places()).ok().filter(|&p| p != NONE)?,
            (free, _) => free,
        };
        let raw = (u64::from(self.inserted.wrapping_add(1)) << 32) | u64::from(place);
        Some(K::from_raw(raw))
    }

    /// Puts `value` in the table; its key, or `None` (and `value` dropped)
    /// when the table has no place left.
    pub(crate) fn insert(&mut self, value: T) -> Option<K> {
        let key = self.vacant_key()?;
        if self.free == NONE {
            if let Some(chunk) = self.released.pop() {
                self.restore(chunk);
            }
        }
        let (stamp, place) = split(key.raw());
        let full = Slot::Full { stamp, value };
        let mut next_free = None;
        if let Some(slot) = self.slot_mut(place) {
            if let Slot::Free { next } = *slot {
                next_free = Some(next);
            }
            *slot = full;
        } else {
            // A new place, at the end: in the last chunk or a new one.
            match self.chunks.last_mut().filter(|c| c.len() < CHUNK) {
                Some(chunk) => chunk.push(full),
                None => {
                    let mut chunk = Vec::with_capacity(CHUNK);
                    chunk.push(full);
                    self.chunks.push(chunk);
                }
            }
        }
        if let Some(next) = next_free {
            self.free = next;
        }
        self.inserted = stamp;
        self.len += 1;
        Some(key)
    }

    pub(crate) fn get(&self, key: &K) -> Option<&T> {
        let (stamp, place) = split(key.raw());
        match self.slot(place)? {
            Slot::Full { stamp: s, value } if *s == stamp => Some(value),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut T> {
        let (stamp, place) = split(key.raw());
        match self.slot_mut(place)? {
            Slot::Full { stamp: s, value } if *s == stamp => Some(value),
            _ => None,
        }
    }

    pub(crate) fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// Takes the value of `key` out; its place is the next one used.
    pub(crate) fn remove(&mut self, key: &K) -> Option<T> {
        let (stamp, place) = split(key.raw());
        let free = self.free;
        let slot = self.slot_mut(place)?;
        if !matches!(slot, Slot::Full { stamp: s, .. } if *s == stamp) {
            return None;
        }
        let Slot::Full { value, .. } = std::mem::replace(slot, Slot::Free { next: free }) else {
            return None;
        };
        // `place` < NONE: it was given by `vacant_key`.
        self.free = place as u32;
        self.len -= 1;
        self.removed += 1;
        Some(value)
    }

    /// Gives chunk `chunk`, released, its places back, all free.
    fn restore(&mut self, chunk: usize) {
        let base = chunk * CHUNK;
        let head = self.free;
        let places = (0..CHUNK)
            .map(|i| Slot::Free {
                next: if i + 1 < CHUNK {
                    (base + i + 1) as u32
                } else {
                    head
                },
            })
            .collect();
        if let Some(c) = self.chunks.get_mut(chunk) {
            *c = places;
            self.free = base as u32;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every value, in the order of their places.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten().filter_map(|s| match s {
            Slot::Full { value, .. } => Some(value),
            Slot::Free { .. } => None,
        })
    }

    /// Gives back the memory of chunks no value is in: those at the end go,
    /// those between others are left empty (their places are used again,
    /// whole, before the table grows). It works once at least half as many
    /// values were removed as there are places since it last did, so that
    /// its walk over the places costs O(1) per removal however often it is
    /// called; the insertion count goes on, so old keys still find nothing.
    /// Values never move: a table whose every chunk keeps one value keeps
    /// every chunk.
    pub(crate) fn release_spare(&mut self) {
        let places = self.places();
        if places <= CHUNK || self.removed < places / 2 {
            return;
        }
        self.removed = 0;
        let empty = |c: &Vec<Slot<T>>| c.iter().all(|s| matches!(s, Slot::Free { .. }));
        // Free places at the end go, and with them any chunk left empty.
        while let Some(last) = self.chunks.last_mut() {
            while matches!(last.last(), Some(Slot::Free { .. })) {
                last.pop();
            }
            if !last.is_empty() {
                break;
            }
            self.chunks.pop();
        }
        let count = self.chunks.len();
        self.released.retain(|&c| c < count);
        for (c, chunk) in self.chunks.iter_mut().enumerate() {
            if c + 1 < count && !chunk.is_empty() && empty(chunk) {
                *chunk = Vec::new();
                self.released.push(c);
            }
        }
        self.chunks.shrink_to_fit();
        // The free places left, lowest first: filled before the end grows.
        self.free = NONE;
        for place in (0..self.places()).rev() {
            let head = self.free;
            if let Some(Slot::Free { next }) = self.slot_mut(place) {
                *next = head;
                self.free = place as u32;
            }
        }
    }

    /// The table's own memory (its places, not what the values hold).
    #[cfg(test)]
    fn capacity_bytes(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum::<usize>() * std::mem::size_of::<Slot<T>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_key_that_outlived_its_value_finds_nothing_in_its_reused_place() {
        let mut slab: Slab<u64, _> = Slab::default();
        let a = slab.insert("a").unwrap();
        assert_eq!(slab.vacant_key(), Some((2 << 32) | 1));
        assert_eq!(slab.remove(&a), Some("a"));
        let b = slab.insert("b").unwrap();
        assert_eq!(split(a).1, split(b).1, "the place is reused");
        assert_eq!(slab.get(&a), None);
        assert_eq!(slab.remove(&a), None);
        assert!(!slab.contains_key(&a));
        assert_eq!(slab.get(&b), Some(&"b"));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn keys_past_the_end_and_made_up_find_nothing() {
        let mut slab: Slab<u64, _> = Slab::default();
        let a = slab.insert(1u8).unwrap();
        assert_eq!(slab.get(&(a + 1)), None, "a place never used");
        assert_eq!(slab.get(&(a ^ (1 << 40))), None, "another insertion number");
        assert_eq!(slab.get_mut(&u64::MAX), None);
        assert_eq!(slab.remove(&0), None);
    }

    #[test]
    fn release_spare_keeps_every_value_and_old_keys_stay_dead() {
        let mut slab: Slab<u64, _> = Slab::default();
        let keys: Vec<u64> = (0..1000).map(|i| slab.insert(i).unwrap()).collect();
        for &k in &keys[10..] {
            slab.remove(&k);
        }
        let before = slab.capacity_bytes();
        slab.release_spare();
        assert!(
            slab.capacity_bytes() < before / 10,
            "the places are given back"
        );
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(slab.get(&k).copied(), (i < 10).then_some(i));
        }
        let again = slab.insert(5000).unwrap();
        assert!(!keys.contains(&again));
        assert_eq!(slab.values().count(), 11);
    }

    #[test]
    fn chunks_emptied_between_others_are_given_back_and_used_again_first() {
        let mut slab: Slab<u64, usize> = Slab::default();
        let keys: Vec<u64> = (0..10 * CHUNK).map(|i| slab.insert(i).unwrap()).collect();
        let full = slab.capacity_bytes();
        // Chunks 2 to 7 emptied, and all of chunk 9 but its first value.
        let gone: Vec<usize> = (2 * CHUNK..8 * CHUNK)
            .chain(9 * CHUNK + 1..10 * CHUNK)
            .collect();
        for &i in &gone {
            assert_eq!(slab.remove(&keys[i]), Some(i));
        }
        slab.release_spare();
        assert_eq!(slab.removed, 0, "it worked");
        assert_eq!(slab.released.len(), 6);
        assert!(
            slab.capacity_bytes() <= full * 4 / 10,
            "six chunks of ten given back"
        );
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(slab.get(k).copied(), (!gone.contains(&i)).then_some(i));
        }
        // Called again with no removal since, it does nothing.
        slab.release_spare();
        assert_eq!(slab.released.len(), 6);
        // The free places at the end went: 9 chunks and one place left.
        assert_eq!(slab.places(), 9 * CHUNK + 1);
        // New values fill the given-back chunks before the table grows at
        // its end again; no key comes back.
        let again: Vec<u64> = (0..gone.len())
            .map(|i| slab.insert(1000 + i).unwrap())
            .collect();
        assert!(slab.released.is_empty());
        assert_eq!(slab.places(), 10 * CHUNK);
        let first_new: Vec<usize> = again[..6 * CHUNK].iter().map(|&k| split(k).1).collect();
        assert!(first_new
            .iter()
            .all(|&p| (2 * CHUNK..8 * CHUNK).contains(&p)));
        assert_eq!(slab.capacity_bytes(), full);
        for k in &again {
            assert!(!keys.contains(k));
        }
        for (i, k) in again.iter().enumerate() {
            assert_eq!(slab.get(k), Some(&(1000 + i)));
        }
        assert_eq!(slab.len(), 10 * CHUNK);
    }

    proptest! {
        /// Against a map of the keys it gave: every operation agrees, and
        /// a key is never given twice.
        #[test]
        fn behaves_as_a_map_of_the_keys_it_gives(
            ops in proptest::collection::vec((0u8..4, 0usize..64), 0..1200),
        ) {
            let mut slab: Slab<u64, _> = Slab::default();
            let mut model = std::collections::HashMap::new();
            let mut given = std::collections::HashSet::new();
            let mut keys: Vec<u64> = Vec::new();
            for (i, (op, pick)) in ops.into_iter().enumerate() {
                match op {
                    0 | 1 => {
                        let expected = slab.vacant_key();
                        let key = slab.insert(i).unwrap();
                        prop_assert_eq!(expected, Some(key));
                        prop_assert!(given.insert(key), "a key given twice");
                        model.insert(key, i);
                        keys.push(key);
                    }
                    2 if !keys.is_empty() => {
                        let key = keys[pick % keys.len()];
                        prop_assert_eq!(slab.remove(&key), model.remove(&key));
                    }
                    _ => slab.release_spare(),
                }
                prop_assert_eq!(slab.len(), model.len());
                if i % 64 == 0 {
                    for &k in &keys {
                        prop_assert_eq!(slab.get(&k), model.get(&k));
                    }
                }
            }
            for &k in &keys {
                prop_assert_eq!(slab.get(&k), model.get(&k));
            }
            prop_assert_eq!(slab.values().count(), model.len());
        }
    }
}
