//! The hasher for maps keyed by identifiers the crate draws itself.
//!
//! Transact-ids, leg and connection numbers and the other keys the crate
//! generates from its seeded generator ([`crate::rng`]) are not chosen by a
//! peer, so a peer cannot aim many keys at one bucket: a fast multiply-rotate
//! hash is enough for them. Maps keyed by anything a peer writes (Call-IDs,
//! tags, Message-IDs, URIs) keep the standard library's keyed SipHash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiply-rotate hasher, for keys the crate generates (never for keys a
/// peer chooses).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IdHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` keyed by identifiers the crate generates.
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_ids_hash_apart() {
        let hash = |bytes: &[u8]| {
            let mut h = IdHasher::default();
            h.write(bytes);
            h.finish()
        };
        assert_ne!(hash(b"abcdefgh12345678"), hash(b"abcdefgh12345679"));
        assert_ne!(hash(b"a"), hash(b"b"));
        let mut map: IdMap<[u8; 16], u32> = IdMap::default();
        map.insert(*b"abcdefgh12345678", 1);
        assert_eq!(map.get(b"abcdefgh12345678"), Some(&1));
    }
}
