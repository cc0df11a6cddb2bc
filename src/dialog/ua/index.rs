//! [`DialogIndex`]: a user agent's dialogs by their identifiers, without a
//! copy of the identifiers.
//!
//! Call-IDs and tags are chosen by peers, so they are hashed with a keyed
//! hash (foldhash under this index's random seed): the index keeps the
//! 64-bit hash and the dialog it names, and every hit is checked against
//! the dialog itself. Two identifiers with the same hash (which a peer
//! cannot aim at without the seed) are still told apart: the second one
//! goes to a small map of copied identifiers, hashed with the standard
//! library's DoS-resistant SipHash. One table serves
//! both lookups: a server holds a dialog per participant, and a table entry
//! per dialog and key would cost more than the rest of its index.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};

use crate::dialog::DialogId;
use crate::hash_slots::HashSlots;
use crate::spare::Spare;

/// A dialog's identifiers: Call-ID, local tag, remote tag.
pub(super) type Ids<'a> = (&'a str, &'a str, &'a str);

/// Dialogs by (Call-ID, local tag, remote tag) — the dialog key of RFC
/// 3261 §12 — and by (Call-ID, remote tag), in one table keyed by the
/// latter: dialogs that share a Call-ID and remote tag but not the local
/// tag (rare: a request merged on its way) go to the overflow.
#[derive(Debug, Default)]
pub(super) struct DialogIndex {
    keys: RandomState,
    by_remote: HashSlots<DialogId>,
    /// Dialogs whose (Call-ID, remote tag) hashes like another dialog's.
    overflow: HashMap<(String, String, String), DialogId>,
}

impl DialogIndex {
    fn hash(&self, call_id: &str, remote: &str) -> u64 {
        let mut h = self.keys.build_hasher();
        call_id.hash(&mut h);
        remote.hash(&mut h);
        h.finish()
    }

    /// The dialog with key `(call_id, local, remote)`; `ids` gives a
    /// dialog's identifiers.
    pub(super) fn find<'d>(
        &self,
        key: Ids<'_>,
        ids: impl Fn(DialogId) -> Option<Ids<'d>>,
    ) -> Option<DialogId> {
        let (call_id, local, remote) = key;
        match self.by_remote.get(&self.hash(call_id, remote)) {
            Some(d) if ids(d) == Some(key) => Some(d),
            _ if self.overflow.is_empty() => None,
            _ => self
                .overflow
                .get(&(call_id.to_owned(), local.to_owned(), remote.to_owned()))
                .copied(),
        }
    }

    /// A dialog with Call-ID `call_id` and remote tag `remote`.
    pub(super) fn find_remote<'d>(
        &self,
        call_id: &str,
        remote: &str,
        ids: impl Fn(DialogId) -> Option<Ids<'d>>,
    ) -> Option<DialogId> {
        let same = |d: DialogId| ids(d).is_some_and(|(c, _, r)| (c, r) == (call_id, remote));
        match self.by_remote.get(&self.hash(call_id, remote)) {
            Some(d) if same(d) => Some(d),
            _ => self
                .overflow
                .iter()
                .find(|((c, _, r), _)| (c.as_str(), r.as_str()) == (call_id, remote))
                .map(|(_, &d)| d),
        }
    }

    /// Indexes dialog `d` under its identifiers `of_d` (replacing a dialog
    /// indexed under the same key).
    pub(super) fn insert<'d>(
        &mut self,
        d: DialogId,
        of_d: Ids<'_>,
        ids: impl Fn(DialogId) -> Option<Ids<'d>>,
    ) {
        let (call_id, local, remote) = of_d;
        let hash = self.hash(call_id, remote);
        match self.by_remote.get(&hash) {
            Some(other) if ids(other).is_some_and(|other| other != of_d) => {
                let key = (call_id.to_owned(), local.to_owned(), remote.to_owned());
                self.overflow.insert(key, d);
            }
            _ => {
                self.by_remote.insert(hash, d);
            }
        }
    }

    /// Forgets dialog `d`, indexed under `of_d`.
    pub(super) fn remove(&mut self, d: DialogId, (call_id, local, remote): Ids<'_>) {
        let hash = self.hash(call_id, remote);
        if self.by_remote.get(&hash) == Some(d) {
            self.by_remote.remove(&hash);
        } else if !self.overflow.is_empty() {
            let key = (call_id.to_owned(), local.to_owned(), remote.to_owned());
            if self.overflow.get(&key) == Some(&d) {
                self.overflow.remove(&key);
            }
        }
    }

    /// Gives back the capacity a burst left unused.
    pub(super) fn release_spare(&mut self) {
        self.by_remote.release_spare();
        self.overflow.release_spare();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialogs_are_found_by_both_keys_and_forgotten() {
        let dialogs = [
            (DialogId(1), ("c1", "l1", "r1")),
            (DialogId(2), ("c1", "l1", "r2")),
            (DialogId(3), ("c2", "l1", "r1")),
        ];
        let ids = |d: DialogId| dialogs.iter().find(|(id, _)| *id == d).map(|(_, k)| *k);
        let mut index = DialogIndex::default();
        for (d, k) in dialogs {
            index.insert(d, k, ids);
        }
        for (d, k) in dialogs {
            assert_eq!(index.find(k, ids), Some(d));
            assert_eq!(index.find_remote(k.0, k.2, ids), Some(d));
        }
        assert_eq!(index.find(("c1", "l2", "r1"), ids), None);
        index.remove(DialogId(2), dialogs[1].1);
        assert_eq!(index.find(dialogs[1].1, ids), None);
        assert_eq!(index.find(dialogs[0].1, ids), Some(DialogId(1)));
    }

    #[test]
    fn a_taken_slot_sends_the_dialog_to_the_overflow() {
        // Two dialogs of one Call-ID and remote tag (a merged request),
        // and a third whose slot another holds.
        let table = [
            (DialogId(7), ("x", "y", "z")),
            (DialogId(8), ("c", "l", "r")),
            (DialogId(9), ("c", "m", "r")),
        ];
        let ids = |d: DialogId| table.iter().find(|(id, _)| *id == d).map(|(_, k)| *k);
        let mut index = DialogIndex::default();
        index.insert(DialogId(8), table[1].1, ids);
        index.insert(DialogId(9), table[2].1, ids);
        assert_eq!(index.overflow.len(), 1);
        assert_eq!(index.find(table[1].1, ids), Some(DialogId(8)));
        assert_eq!(index.find(table[2].1, ids), Some(DialogId(9)));
        assert!(index.find_remote("c", "r", ids).is_some());
        index.remove(DialogId(8), table[1].1);
        assert_eq!(index.find(table[2].1, ids), Some(DialogId(9)));
        assert_eq!(index.find_remote("c", "r", ids), Some(DialogId(9)));
        index.remove(DialogId(9), table[2].1);
        assert!(index.overflow.is_empty());

        let hash = index.hash("c", "r");
        index.by_remote.insert(hash, DialogId(7));
        index.insert(DialogId(8), table[1].1, ids);
        assert_eq!(index.find(table[1].1, ids), Some(DialogId(8)));
        index.remove(DialogId(8), table[1].1);
        assert!(index.overflow.is_empty());
        assert_eq!(index.by_remote.get(&hash), Some(DialogId(7)));
    }
}
