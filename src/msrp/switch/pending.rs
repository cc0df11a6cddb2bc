//! A leg's relayed transactions awaiting its response, found by transact-id.
//!
//! A leg has at most `SwitchLimits::max_pending_per_leg` of them (64 by
//! default) and mostly one or two: a scan of the ids compared as bytes
//! finds a response's transaction without hashing, at a cost the limit
//! bounds whatever the leg sends.

use super::{Pending, TransactId};

#[derive(Debug, Clone, Default)]
pub(super) struct PendingTable {
    entries: Vec<(TransactId, Pending)>,
}

impl PendingTable {
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries its memory holds room for.
    pub(super) fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    fn position(&self, tid: &TransactId) -> Option<usize> {
        self.entries.iter().position(|(id, _)| id == tid)
    }

    pub(super) fn get(&self, tid: &TransactId) -> Option<&Pending> {
        self.position(tid).map(|at| &self.entries[at].1)
    }

    /// Takes the transaction `tid` out.
    pub(super) fn remove(&mut self, tid: &TransactId) -> Option<Pending> {
        self.position(tid).map(|at| self.entries.swap_remove(at).1)
    }

    /// Records the transaction `tid`, replacing one of the same id.
    pub(super) fn insert(&mut self, tid: TransactId, pending: Pending) {
        match self.position(&tid) {
            Some(at) => self.entries[at].1 = pending,
            None => self.entries.push((tid, pending)),
        }
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Pending> {
        self.entries.iter().map(|(_, p)| p)
    }
}
