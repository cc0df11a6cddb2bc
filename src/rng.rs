//! The crate's only source of randomness: a small seedable generator.
//!
//! Tags, branches, Call-IDs, MSRP transaction and message identifiers and
//! multipart boundaries all come from an [`Rng`] held in a state machine's
//! configuration, so a run is reproduced exactly by reusing the seed. There is
//! no global generator and nothing reads the operating system's entropy: the
//! embedding program seeds it (from `getrandom`, a clock, or a fixed value in
//! tests).
//!
//! The generator is SplitMix64 (Steele, Lea and Flood, 2014): 64 bits of state,
//! full period, good statistical quality for identifiers. It is **not** a
//! cryptographic generator; identifiers that must resist guessing by an
//! attacker need a seed that an attacker cannot observe.
//!
//! ```
//! use oma_im::rng::Rng;
//!
//! let mut a = Rng::new(7);
//! let mut b = Rng::new(7);
//! assert_eq!(a.token(10), b.token(10));
//! assert_eq!(a.token(10).len(), 10);
//! ```

/// Characters [`Rng::token`] draws from: letters and digits, valid in a SIP
/// token, an MSRP transaction identifier and a MIME boundary alike.
const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A seedable SplitMix64 generator. Cloning it forks an identical sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value uniformly drawn from `0..bound` (`bound` > 0), without modulo
    /// bias (Lemire's multiply-and-reject method).
    ///
    /// # Panics
    ///
    /// When `bound` is 0: a caller's mistake, never a reaction to input.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "Rng::below(0)");
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(bound);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// Appends `len` random alphanumeric characters to `out`.
    pub fn fill_token(&mut self, out: &mut String, len: usize) {
        out.reserve(len);
        for _ in 0..len {
            let index = self.below(ALPHABET.len() as u64) as usize;
            out.push(char::from(ALPHABET[index]));
        }
    }

    /// `len` random alphanumeric characters.
    pub fn token(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        self.fill_token(&mut out, len);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_other_seed_other_sequence() {
        let (mut a, mut b, mut c) = (Rng::new(1), Rng::new(1), Rng::new(2));
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn splitmix64_reference_values() {
        // First outputs of SplitMix64 seeded with 1234567, as published with the
        // reference implementation (Vigna's splitmix64.c).
        let mut r = Rng::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = Rng::new(9);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let v = r.below(7);
            assert!(v < 7);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn tokens_are_alphanumeric_of_the_asked_length() {
        let mut r = Rng::new(3);
        for len in [0, 1, 8, 32] {
            let t = r.token(len);
            assert_eq!(t.len(), len);
            assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }
}
