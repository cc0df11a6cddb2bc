//! The server's IM Sessions, and what they hold: each session's bytes
//! (its state, its Participants' copies of what peers sent, its switch's
//! legs) are counted again after every call that changed it, and the sum
//! is what [`Limits::max_session_bytes`](super::Limits::max_session_bytes)
//! bounds.

use std::mem::size_of;

use super::session::{ImSession, Participant, State, Subscriber};
use super::SessionId;
use crate::slab::Slab;

/// The sessions, by id, with the count of their bytes.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    /// In place, in chunks that never move: a session is read without a
    /// box to follow.
    map: Slab<SessionId, ImSession>,
    /// Sessions changed since the last count.
    dirty: Vec<SessionId>,
    /// The bytes of every session, as last counted.
    held: usize,
}

impl Sessions {
    pub(super) fn get(&self, id: &SessionId) -> Option<&ImSession> {
        self.map.get(id)
    }

    /// The session, to change: it is counted again at the next
    /// [`recount`](Self::recount).
    pub(super) fn get_mut(&mut self, id: &SessionId) -> Option<&mut ImSession> {
        let s = self.map.get_mut(id)?;
        if !s.dirty {
            s.dirty = true;
            self.dirty.push(*id);
        }
        Some(s)
    }

    /// The id the next [`insert`](Self::insert) gives; `None` when the
    /// table is full.
    pub(super) fn vacant_id(&self) -> Option<SessionId> {
        self.map.vacant_key()
    }

    /// Stores `session`; its id, the last [`vacant_id`](Self::vacant_id).
    pub(super) fn insert(&mut self, session: ImSession) -> Option<SessionId> {
        let id = self.map.insert(session)?;
        let _ = self.get_mut(&id);
        Some(id)
    }

    pub(super) fn remove(&mut self, id: &SessionId) -> Option<ImSession> {
        let s = self.map.remove(id)?;
        self.held = self.held.saturating_sub(s.counted);
        Some(s)
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Gives back the memory of the table once it emptied.
    pub(super) fn release_spare(&mut self) {
        self.map.release_spare();
        if self.dirty.capacity() > 64 && self.dirty.is_empty() {
            self.dirty = Vec::new();
        }
    }

    /// The bytes of every session, as last counted.
    pub(super) fn held_bytes(&self) -> usize {
        self.held
    }

    /// Counts the sessions changed since the last call again; an
    /// invitation not answered yet is counted with room for an answer of
    /// `answer_room` bytes.
    pub(super) fn recount(&mut self, answer_room: usize) {
        for id in std::mem::take(&mut self.dirty) {
            if let Some(s) = self.map.get_mut(&id) {
                s.dirty = false;
                let bytes = s.held_bytes(answer_room);
                self.held = self.held.saturating_sub(s.counted).saturating_add(bytes);
                s.counted = bytes;
            }
        }
    }
}

impl ImSession {
    /// What the session holds: itself, its texts, its Participants and
    /// subscribers, and its switch's legs (not the switch's MSRP buffers:
    /// those are `Limits::max_msrp_buffered_bytes`'s).
    fn held_bytes(&self, answer_room: usize) -> usize {
        // The token is also a key of the server's index.
        let texts = self.names.held_bytes()
            + self.names.token().len()
            + self.deferred_answer.as_ref().map_or(0, Vec::capacity);
        let participants: usize = self
            .participants
            .iter()
            .map(|p| p.held_bytes(answer_room))
            .sum();
        // A subscriber's Call-ID is also a key of the server's index.
        let subscribers: usize = self.subscribers.iter().map(|s| 2 * s.call_id.len()).sum();
        // Participants in place are in the session's own size.
        let spilled = if self.participants.spilled() {
            self.participants.capacity() * size_of::<Participant>()
        } else {
            0
        };
        size_of::<ImSession>()
            + texts
            + spilled
            + participants
            + self.subscribers.capacity() * size_of::<Subscriber>()
            + subscribers
            + self.switch.state_bytes()
    }
}

/// What one entry of the server's indexes (by Call-ID, dialog,
/// transaction, leg token) costs beyond its key.
const INDEX_ENTRY: usize = 48;

impl Participant {
    /// The texts and bodies it keeps; an invitee that has not answered is
    /// counted with room for an answer of `answer_room` bytes and the leg
    /// it brings.
    fn held_bytes(&self, answer_room: usize) -> usize {
        let leg = self
            .leg
            .as_ref()
            .map_or(0, |l| 2 * l.token.len() + l.early.capacity() + INDEX_ENTRY);
        let params = self.leg_params.as_ref().map_or(0, |p| {
            p.remote_path.iter().map(String::len).sum::<usize>()
                + size_of::<String>() * p.remote_path.len()
        });
        let offer = self.offer.as_ref().map_or(0, |o| o.held_bytes());
        let remote = match self.state {
            State::Inviting(_) => offer.max(answer_room.saturating_mul(3)),
            _ => offer,
        };
        // The Call-ID is also a key of the server's index.
        self.address.len()
            + 2 * self.call_id.as_ref().map_or(0, String::len)
            + self.allow.as_ref().map_or(0, String::len)
            + self.local_sdp.capacity()
            + remote
            + leg
            + params
            + self.disconnection.as_ref().map_or(0, |d| d.1.len())
            + 3 * INDEX_ENTRY
    }
}
