//! [`Relays`]: the messages a leg is sending, in a table that exists only
//! while there is one (most legs, most of the time, send none).

use std::collections::HashMap;

use super::Relay;

/// A leg's messages whose first chunk was relayed and last not yet, by
/// Message-ID.
#[derive(Debug, Clone, Default)]
// Boxed: one pointer in every leg while the table is empty (most of the
// time), the table's 48 bytes only while a message is on its way.
#[allow(clippy::box_collection)]
pub(super) struct Relays(Option<Box<HashMap<Box<str>, Relay>>>);

impl Relays {
    pub(super) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |m| m.len())
    }

    pub(super) fn contains_key(&self, message_id: &str) -> bool {
        self.get(message_id).is_some()
    }

    pub(super) fn get(&self, message_id: &str) -> Option<&Relay> {
        self.0.as_ref()?.get(message_id)
    }

    pub(super) fn get_mut(&mut self, message_id: &str) -> Option<&mut Relay> {
        self.0.as_mut()?.get_mut(message_id)
    }

    pub(super) fn insert(&mut self, message_id: &str, relay: Relay) {
        self.0
            .get_or_insert_with(Box::default)
            .insert(message_id.into(), relay);
    }

    pub(super) fn remove(&mut self, message_id: &str) {
        if let Some(map) = self.0.as_mut() {
            map.remove(message_id);
            if map.is_empty() {
                self.0 = None;
            }
        }
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Relay> {
        self.0.iter().flat_map(|m| m.values())
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut Relay> {
        self.0.iter_mut().flat_map(|m| m.values_mut())
    }
}
