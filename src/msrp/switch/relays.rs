//! [`Relays`]: the messages a leg is sending, in a table that exists only
//! while there is one (most legs, most of the time, send none).
//!
//! A leg has at most `SwitchLimits::max_relayed_messages_per_leg` of them
//! (8 by default) and mostly one: a scan comparing Message-IDs finds a
//! chunk's message without hashing the attacker-chosen id, at a cost that
//! limit bounds.

use super::Relay;

/// A leg's messages whose first chunk was relayed and last not yet, each
/// found by its Message-ID.
#[derive(Debug, Clone, Default)]
// Boxed: one pointer in every leg while the table is empty (most of the
// time), the vector only while a message is on its way.
#[allow(clippy::box_collection)]
pub(super) struct Relays(Option<Box<Vec<Relay>>>);

impl Relays {
    /// The bytes it holds: the vector and the Message-IDs.
    pub(super) fn held_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |m| {
            size_of::<Vec<Relay>>()
                + m.capacity() * size_of::<Relay>()
                + m.iter().map(|r| r.message_id.len()).sum::<usize>()
        })
    }

    pub(super) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |m| m.len())
    }

    fn position(&self, message_id: &str) -> Option<usize> {
        self.0
            .as_ref()?
            .iter()
            .position(|r| &*r.message_id == message_id)
    }

    pub(super) fn contains_key(&self, message_id: &str) -> bool {
        self.position(message_id).is_some()
    }

    pub(super) fn get_mut(&mut self, message_id: &str) -> Option<&mut Relay> {
        let at = self.position(message_id)?;
        self.0.as_mut()?.get_mut(at)
    }

    /// Takes the message `message_id` out, keeping the table's memory for
    /// the [`put`](Self::put) that usually follows (the next chunk).
    pub(super) fn take(&mut self, message_id: &str) -> Option<Relay> {
        let at = self.position(message_id)?;
        Some(self.0.as_mut()?.swap_remove(at))
    }

    /// Adds `relay`, whose Message-ID is not in the table.
    pub(super) fn put(&mut self, relay: Relay) {
        self.0.get_or_insert_with(Box::default).push(relay);
    }

    /// Gives the table's memory back once it holds no message.
    pub(super) fn release_if_empty(&mut self) {
        if self.0.as_ref().is_some_and(|m| m.is_empty()) {
            self.0 = None;
        }
    }

    pub(super) fn remove(&mut self, message_id: &str) {
        self.take(message_id);
        self.release_if_empty();
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Relay> {
        self.0.iter().flat_map(|m| m.iter())
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut Relay> {
        self.0.iter_mut().flat_map(|m| m.iter_mut())
    }
}
