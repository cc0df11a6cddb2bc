//! The local tags of the dialogs this user agent creates as UAS: each tag
//! names its dialog, so that a request inside the dialog (whose To tag is
//! that tag) finds it where it lies, without the index.
//!
//! A tag is the dialog's id (the place and insertion number of its
//! [`Slab`](crate::slab::Slab) entry) under a keyed permutation, in 11
//! token characters, then 6 random ones: 17 characters in all. The
//! permutation (a four-round Feistel network keyed from the configured
//! seed) keeps a peer from reading how many dialogs the user agent made;
//! the random characters keep the tag unguessable (RFC 3261 §19.3: at
//! least 32 bits of randomness, here 62^6 > 2^35). Nothing is believed
//! from a tag: the dialog it names is used only when its whole key
//! (Call-ID, local and remote tags) is the request's. A tag of another
//! length (a UAC's, a peer's) names nothing and goes to the index.

use crate::dialog::DialogId;
use crate::rng::{Rng, Seed};

/// Token characters, value by value.
const DIGITS: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Characters of the permuted id: 62^11 > 2^64.
const NAMED_LEN: usize = 11;
/// Random characters after them.
const RANDOM_LEN: usize = 6;
/// The length of a tag that names a dialog.
pub(super) const NAMING_TAG_LEN: usize = NAMED_LEN + RANDOM_LEN;
/// The stream of the configured seed the keys and random characters come
/// from (apart from the user agent's own).
const STREAM: u64 = 0x7a6d_d1a1_0967_7a65;

/// Makes and reads the tags that name dialogs.
#[derive(Debug, Clone)]
pub(super) struct DialogTags {
    keys: [u32; 4],
    rng: Rng,
}

/// The round function of the permutation.
fn round(half: u32, key: u32) -> u32 {
    let mixed = u64::from(half ^ key).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((mixed >> 29) as u32).rotate_left(7) ^ (mixed as u32)
}

fn value_of(digit: u8) -> Option<u64> {
    let v = match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'z' => digit - b'a' + 10,
        b'A'..=b'Z' => digit - b'A' + 36,
        _ => return None,
    };
    Some(u64::from(v))
}

impl DialogTags {
    /// Keys and random characters from `seed`.
    pub(super) fn new(seed: Seed) -> Self {
        let mut rng = Rng::with_stream(seed, STREAM);
        let (a, b) = (rng.next_u64(), rng.next_u64());
        DialogTags {
            keys: [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32],
            rng,
        }
    }

    fn permute(&self, value: u64) -> u64 {
        let (mut left, mut right) = ((value >> 32) as u32, value as u32);
        for &key in &self.keys {
            (left, right) = (right, left ^ round(right, key));
        }
        u64::from(left) << 32 | u64::from(right)
    }

    fn unpermute(&self, value: u64) -> u64 {
        let (mut left, mut right) = ((value >> 32) as u32, value as u32);
        for &key in self.keys.iter().rev() {
            (left, right) = (right ^ round(left, key), left);
        }
        u64::from(left) << 32 | u64::from(right)
    }

    /// A fresh tag naming dialog `id`.
    pub(super) fn tag(&mut self, id: DialogId) -> String {
        let mut out = String::with_capacity(NAMING_TAG_LEN);
        let mut value = self.permute(id.0);
        for _ in 0..NAMED_LEN {
            out.push(char::from(DIGITS[(value % 62) as usize]));
            value /= 62;
        }
        self.rng.fill_token(&mut out, RANDOM_LEN);
        out
    }

    /// The dialog `tag` names, if it is a tag of this form (whether that
    /// dialog exists, and has that tag, is for the caller to check).
    pub(super) fn dialog(&self, tag: &str) -> Option<DialogId> {
        let named = tag.as_bytes().get(..NAMED_LEN)?;
        if tag.len() != NAMING_TAG_LEN {
            return None;
        }
        let mut value: u64 = 0;
        for &digit in named.iter().rev() {
            value = value.checked_mul(62)?.checked_add(value_of(digit)?)?;
        }
        Some(DialogId(self.unpermute(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every id comes back from its tag; tags of one id differ.
        #[test]
        fn a_tag_names_its_dialog(id in any::<u64>(), seed in any::<u64>()) {
            let mut tags = DialogTags::new(Seed::from(seed));
            let tag = tags.tag(DialogId(id));
            prop_assert_eq!(tag.len(), NAMING_TAG_LEN);
            prop_assert!(tag.bytes().all(|b| b.is_ascii_alphanumeric()));
            prop_assert_eq!(tags.dialog(&tag), Some(DialogId(id)));
            prop_assert_ne!(tags.tag(DialogId(id)), tag);
        }

        /// Any text is read without panic, and names a dialog only in the
        /// tag form.
        #[test]
        fn any_text_is_read_safely(text in "\\PC{0,40}") {
            let tags = DialogTags::new(Seed::from(1u64));
            let named = tags.dialog(&text);
            prop_assert!(named.is_none() || text.len() == NAMING_TAG_LEN);
        }
    }

    #[test]
    fn another_seed_names_the_same_dialog_otherwise() {
        let mut one = DialogTags::new(Seed::from(1u64));
        let mut two = DialogTags::new(Seed::from(2u64));
        let id = DialogId(3 << 32 | 7);
        let (a, b) = (one.tag(id), two.tag(id));
        assert_ne!(a[..NAMED_LEN], b[..NAMED_LEN]);
        assert_ne!(two.dialog(&a), Some(id));
        // Too long, too short, out of range, not token characters.
        assert_eq!(one.dialog(&format!("{a}x")), None);
        assert_eq!(one.dialog(&a[..16]), None);
        assert_eq!(one.dialog("ZZZZZZZZZZZ000000"), None);
        assert_eq!(one.dialog("-----------000000"), None);
    }
}
