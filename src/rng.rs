//! The crate's only source of randomness: a seeded, cryptographically secure
//! generator.
//!
//! Tags, branches, Call-IDs, IM Session Identities, MSRP session-ids,
//! transaction and message identifiers all come from an [`Rng`] built from
//! the [`Seed`] in a state machine's configuration (multipart boundaries
//! from a value drawn from it; they need not be secret, since a boundary is
//! checked against the body it delimits), so a run is reproduced exactly by reusing the seed. There
//! is no global generator and nothing reads the operating system's entropy:
//! the embedding program supplies 256 bits (from `/dev/urandom`,
//! `getrandom`, or a fixed value in tests).
//!
//! # Which identifiers must be unguessable, and why
//!
//! An attacker who can predict an identifier the crate hands out can act as
//! the party it was handed to:
//!
//! * **MSRP session-ids** (the last path segment of every `a=path` URI): an
//!   MSRP connection is matched to its session by the session-id of its
//!   `To-Path` alone, so RFC 4975 §14.1 asks for at least 80 bits of
//!   randomness that an attacker cannot predict. The IM Server draws 20
//!   alphanumeric characters (about 119 bits) per leg.
//! * **IM Session Identities** (`sip:<token>@<domain>`): the focus URI of a
//!   running session is what a rejoin, a subscription to the conference
//!   state or a recording leg is addressed to. The IM Server authorizes each
//!   of those (see [`im::server`](crate::im::server)), but the identity is
//!   still a capability handed only to the participants: 16 characters,
//!   about 95 bits.
//! * **Tags, Call-IDs and branches** (RFC 3261 §19.3, §8.1.1.4, §8.1.1.7):
//!   a dialog is identified by its Call-ID and tags and a transaction by its
//!   branch, so whoever can predict them can inject a BYE, a re-INVITE or a
//!   response into someone else's dialog. RFC 3261 asks for at least 32 bits
//!   of randomness in tags and global uniqueness of Call-IDs; the crate
//!   draws them all from this generator.
//!
//! The generator is ChaCha20 (RFC 8439) as a random number generator, from
//! the RustCrypto `chacha20` crate: its output does not reveal its key, so
//! seeing any number of identifiers does not help guess the next one. It is
//! only as good as its seed: **seed it from the operating system's entropy
//! in production.** [`Seed::from_u64`] (and `From<u64>`) exist for tests and
//! reproducible simulations; a 64-bit seed is not secret.
//!
//! ```
//! use oma_im::rng::{Rng, Seed};
//!
//! let seed = Seed::new([7; 32]);
//! let mut a = Rng::new(seed);
//! let mut b = Rng::new(seed);
//! assert_eq!(a.token(10), b.token(10));
//! assert_eq!(a.token(10).len(), 10);
//! // Another stream of the same seed is independent.
//! let mut c = Rng::with_stream(seed, 1);
//! assert_ne!(Rng::new(seed).token(16), c.token(16));
//! ```

use chacha20::rand_core::{Rng as _, SeedableRng};
use chacha20::ChaCha20Rng;

/// Characters [`Rng::token`] draws from: letters and digits, valid in a SIP
/// token, an MSRP transaction identifier and a MIME boundary alike.
const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The number of token characters.
const BASE: u64 = ALPHABET.len() as u64;

/// Token characters taken from one 64-bit draw.
const DIGITS_PER_DRAW: usize = 10;

/// `BASE^n` for `n` in `0..=DIGITS_PER_DRAW`.
const BASE_POWERS: [u64; DIGITS_PER_DRAW + 1] = {
    let mut powers = [1u64; DIGITS_PER_DRAW + 1];
    let mut n = 1;
    while n <= DIGITS_PER_DRAW {
        powers[n] = powers[n - 1] * BASE;
        n += 1;
    }
    powers
};

/// 256 bits that fix every identifier a state machine hands out.
///
/// In production, fill it from the operating system's entropy (for
/// example 32 bytes read from `/dev/urandom`). Its `Debug` output does not
/// show the bytes.
///
/// ```
/// use oma_im::rng::Seed;
///
/// let seed = Seed::new([0x5a; 32]);
/// assert_eq!(format!("{seed:?}"), "Seed(..)");
/// // For tests only: a seed anyone can guess.
/// assert_eq!(Seed::from(3u64), Seed::from_u64(3));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Seed([u8; 32]);

impl Seed {
    /// The seed made of these 256 bits.
    pub const fn new(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }

    /// A seed made from a 64-bit value, **for tests and reproducible
    /// simulations only**: 64 bits that are often small numbers are easy to
    /// guess, and with them every identifier. The value fills the first
    /// eight bytes (little-endian); the others are zero.
    pub const fn from_u64(value: u64) -> Self {
        let v = value.to_le_bytes();
        let mut bytes = [0u8; 32];
        let mut i = 0;
        while i < 8 {
            bytes[i] = v[i];
            i += 1;
        }
        Seed(bytes)
    }

    /// The 256 bits.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(..)")
    }
}

impl From<[u8; 32]> for Seed {
    fn from(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }
}

impl From<u64> for Seed {
    /// [`Seed::from_u64`]: for tests only.
    fn from(value: u64) -> Self {
        Seed::from_u64(value)
    }
}

/// A ChaCha20 generator keyed by a [`Seed`]. Cloning it forks an identical
/// sequence. Its `Debug` output does not show its state.
#[derive(Debug, PartialEq, Eq)]
pub struct Rng {
    inner: ChaCha20Rng,
}

impl Clone for Rng {
    fn clone(&self) -> Self {
        let mut inner = ChaCha20Rng::from_seed(self.inner.get_seed());
        inner.set_stream(self.inner.get_stream());
        inner.set_word_pos(self.inner.get_word_pos());
        Rng { inner }
    }
}

impl Rng {
    /// A generator whose sequence is fixed by `seed` (stream 0).
    pub fn new(seed: impl Into<Seed>) -> Self {
        Self::with_stream(seed, 0)
    }

    /// A generator on stream `stream` of `seed`: the streams of one seed
    /// are independent sequences, so each user of a shared seed (a role and
    /// its SIP user agent) takes its own.
    pub fn with_stream(seed: impl Into<Seed>, stream: u64) -> Self {
        let mut inner = ChaCha20Rng::from_seed(seed.into().0);
        inner.set_stream(stream);
        Rng { inner }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A fresh 256-bit seed drawn from this generator, for a machine this
    /// one creates (an MSRP switch, an MSRP session).
    pub fn fork_seed(&mut self) -> Seed {
        let mut bytes = [0u8; 32];
        self.inner.fill_bytes(&mut bytes);
        Seed(bytes)
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
        let mut left = len;
        while left > 0 {
            let n = left.min(DIGITS_PER_DRAW);
            for digit in self.draw_digits(n) {
                out.push(char::from(digit));
            }
            left -= n;
        }
    }

    /// Fills `out` with random alphanumeric characters (ASCII), the ones
    /// [`fill_token`](Self::fill_token) appends for the same length.
    pub(crate) fn fill_token_bytes(&mut self, out: &mut [u8]) {
        // The digits of `draw_digits`, written in place.
        for group in out.chunks_mut(DIGITS_PER_DRAW) {
            let mut value = self.below(BASE_POWERS[group.len()]);
            for slot in group {
                *slot = ALPHABET[(value % BASE) as usize];
                value /= BASE;
            }
        }
    }

    /// Writes `value` in token characters (base 62, least significant
    /// first) filling `out`: distinct values give distinct characters.
    /// `false` when `value` needs more characters than `out` holds.
    pub(crate) fn token_digits(mut value: usize, out: &mut [u8]) -> bool {
        for slot in out {
            *slot = ALPHABET[value % ALPHABET.len()];
            value /= ALPHABET.len();
        }
        value == 0
    }

    /// `n` (at most ten) token characters from one draw: 62^10 < 2^64, and
    /// a value uniform below 62^n gives n uniform base-62 digits.
    fn draw_digits(&mut self, n: usize) -> impl Iterator<Item = u8> {
        let mut value = self.below(BASE_POWERS[n.min(DIGITS_PER_DRAW)]);
        (0..n).map(move |_| {
            let digit = ALPHABET[(value % BASE) as usize];
            value /= BASE;
            digit
        })
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
    fn chacha20_keystream_reference_values() {
        // RFC 8439 appendix A.1, test vector 1: all-zero key, nonce and
        // counter; the keystream starts 76 b8 e0 ad a0 f1 3d 90.
        let mut r = Rng::new(Seed::new([0; 32]));
        assert_eq!(
            r.next_u64().to_le_bytes(),
            [0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90]
        );
    }

    #[test]
    fn a_clone_continues_the_same_sequence() {
        let mut a = Rng::new(5);
        a.next_u64();
        let mut b = a.clone();
        assert_eq!(a.token(40), b.token(40));
    }

    #[test]
    fn streams_and_forked_seeds_differ() {
        let seed = Seed::from_u64(9);
        let mut s0 = Rng::with_stream(seed, 0);
        let mut s1 = Rng::with_stream(seed, 1);
        assert_ne!(s0.next_u64(), s1.next_u64());
        let forked = s0.fork_seed();
        assert_ne!(forked, seed);
        assert_ne!(Rng::new(forked).next_u64(), Rng::new(seed).next_u64());
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
    fn token_bytes_are_the_token_of_the_same_draws() {
        let (mut a, mut b) = (Rng::new(11), Rng::new(11));
        for len in [0, 1, 10, 16, 25] {
            let mut bytes = vec![0u8; len];
            a.fill_token_bytes(&mut bytes);
            assert_eq!(bytes, b.token(len).into_bytes());
        }
    }

    #[test]
    fn token_digits_are_distinct_for_distinct_values_that_fit() {
        let mut seen = std::collections::HashSet::new();
        for value in 0..62 * 62 {
            let mut out = [0u8; 2];
            assert!(Rng::token_digits(value, &mut out));
            assert!(out.iter().all(u8::is_ascii_alphanumeric));
            assert!(seen.insert(out), "{value}");
        }
        assert!(!Rng::token_digits(62 * 62, &mut [0u8; 2]));
        assert!(Rng::token_digits(0, &mut []));
        assert!(!Rng::token_digits(1, &mut []));
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

    #[test]
    fn token_characters_are_uniform_at_every_position() {
        // 16-character tokens take a ten-digit draw and a six-digit one:
        // every position of both is uniform over the 62 characters.
        let mut r = Rng::new(5);
        let mut counts = [[0u32; 62]; 16];
        for _ in 0..6200 {
            for (i, b) in r.token(16).bytes().enumerate() {
                let digit = ALPHABET.iter().position(|&a| a == b).unwrap();
                counts[i][digit] += 1;
            }
        }
        // 100 expected per cell; a chi-square over 61 degrees of freedom
        // beyond 120 has a probability below 1e-5.
        for position in &counts {
            let chi2: f64 = position
                .iter()
                .map(|&c| (f64::from(c) - 100.0).powi(2) / 100.0)
                .sum();
            assert!(chi2 < 120.0, "chi-square {chi2}");
        }
    }
}
