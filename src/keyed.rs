//! [`KeyedIndex`]: values found by a text key that their owner keeps, the
//! index keeping only a keyed hash of it.
//!
//! The keys (Call-IDs, session and leg tokens) arrive in what peers send, so
//! they are hashed with a keyed hash (foldhash under this index's random
//! seed); every hit is checked against the value's owner (`is`), and a key
//! whose hash another key holds goes to a small map of copied keys instead,
//! hashed with the standard library's SipHash. A peer that found colliding
//! keys (which it cannot aim at without the seed) would only move them to
//! that map: lookups stay correct, and the map is the DoS-resistant one.

use std::collections::hash_map::{Entry, HashMap};

use foldhash::fast::RandomState;
use std::hash::BuildHasher;

use crate::hash::IdMap;
use crate::spare::Spare;

/// Values by text key, without a copy of the key.
#[derive(Debug)]
pub(crate) struct KeyedIndex<V> {
    keys: RandomState,
    by_hash: IdMap<u64, V>,
    /// Values whose key hashes like another key.
    overflow: HashMap<Box<str>, V>,
}

impl<V> Default for KeyedIndex<V> {
    fn default() -> Self {
        KeyedIndex {
            keys: RandomState::default(),
            by_hash: IdMap::default(),
            overflow: HashMap::new(),
        }
    }
}

impl<V: Copy> KeyedIndex<V> {
    fn hash(&self, key: &str) -> u64 {
        self.keys.hash_one(key)
    }

    /// The value under `key`; `is(v, key)` says whether `v`'s owner has
    /// that key.
    pub(crate) fn get(&self, key: &str, is: impl Fn(V, &str) -> bool) -> Option<V> {
        match self.by_hash.get(&self.hash(key)) {
            Some(&v) if is(v, key) => Some(v),
            _ if self.overflow.is_empty() => None,
            _ => self.overflow.get(key).copied(),
        }
    }

    /// Puts `v` under `key`, replacing the value there; `is` as for
    /// [`get`](Self::get), about the value already there.
    pub(crate) fn insert(&mut self, key: &str, v: V, is: impl Fn(V, &str) -> bool) {
        let hash = self.hash(key);
        match self.by_hash.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert(v);
            }
            Entry::Occupied(mut slot) => {
                if is(*slot.get(), key) {
                    slot.insert(v);
                } else {
                    self.overflow.insert(key.into(), v);
                }
            }
        }
    }

    /// Removes `v` from under `key` (its owner may be gone already).
    pub(crate) fn remove(&mut self, key: &str, v: V)
    where
        V: PartialEq,
    {
        if !self.overflow.is_empty() && self.overflow.get(key) == Some(&v) {
            self.overflow.remove(key);
            return;
        }
        let hash = self.hash(key);
        if self.by_hash.get(&hash) == Some(&v) {
            self.by_hash.remove(&hash);
        }
    }

    /// Gives back the capacity a burst left unused.
    pub(crate) fn release_spare(&mut self) {
        self.by_hash.release_spare();
        self.overflow.release_spare();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_their_owners_key_and_collisions_kept_apart() {
        let owners = ["alpha", "beta", "gamma"];
        let is = |v: usize, key: &str| owners.get(v) == Some(&key);
        let mut index = KeyedIndex::default();
        for (v, key) in owners.iter().enumerate() {
            index.insert(key, v, is);
        }
        assert_eq!(index.get("beta", is), Some(1));
        assert_eq!(index.get("delta", is), None);
        // Another key in the slot of "gamma": it goes to the overflow.
        let hash = index.hash("delta");
        let gamma = index.by_hash.remove(&index.hash("gamma")).unwrap();
        index.by_hash.insert(hash, gamma);
        let owners2 = ["alpha", "beta", "gamma", "delta"];
        let is2 = |v: usize, key: &str| owners2.get(v) == Some(&key);
        index.insert("delta", 3, is2);
        assert_eq!(index.overflow.len(), 1);
        assert_eq!(index.get("delta", is2), Some(3));
        index.remove("delta", 3);
        assert_eq!(index.get("delta", is2), None);
        index.remove("alpha", 0);
        assert_eq!(index.get("alpha", is2), None);
        assert_eq!(index.get("beta", is2), Some(1));
    }
}
