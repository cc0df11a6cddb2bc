//! RFC 4575 §4.6: building a coherent local copy of the conference state from full
//! and partial notifications.

use std::fmt;

use super::{
    ConferenceDescription, ConferenceInfo, ConferenceState, ElementState, Endpoint, HostInfo,
    Media, Uris, User, Users,
};

/// Why a notification could not be applied to the local conference state. The local
/// copy is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApplyError {
    /// The notification has no `version` attribute, so it cannot be ordered.
    MissingVersion,
    /// The notification is about another conference (`entity` differs).
    EntityMismatch,
    /// The notification is not newer than the local copy (a duplicate or a
    /// reordered old one): discard it.
    Stale {
        /// The local version.
        current: u32,
        /// The version received.
        received: u32,
    },
    /// A partial notification whose version is not exactly the local version plus
    /// one (a notification was lost), or a partial notification with no full state
    /// to apply it to. The subscriber must fetch a full state: refresh the
    /// subscription (RFC 4575 §4.6).
    FullStateNeeded {
        /// The version expected (local + 1), if there is a local version.
        expected: Option<u32>,
        /// The version received.
        received: u32,
    },
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::MissingVersion => f.write_str("notification without a version"),
            ApplyError::EntityMismatch => f.write_str("notification for another conference"),
            ApplyError::Stale { current, received } => {
                write!(f, "stale notification: version {received}, local {current}")
            }
            ApplyError::FullStateNeeded { expected, received } => match expected {
                Some(e) => write!(
                    f,
                    "version {received} received, {e} expected: a full state must be fetched"
                ),
                None => write!(
                    f,
                    "partial version {received} with no full state: a full state must be fetched"
                ),
            },
        }
    }
}

impl std::error::Error for ApplyError {}

impl ConferenceInfo {
    /// Applies a notification to this local copy (RFC 4575 §4.6):
    ///
    /// * a `full` document newer than the local copy replaces it;
    /// * a `partial` document must carry exactly the local version + 1; it is
    ///   merged element by element: `<user>`s and `<endpoint>`s are matched by
    ///   `entity`, `<media>` by `id`, URI entries by `<uri>`. A keyed element with
    ///   `state="deleted"` is removed, with `state="full"` replaces its old copy,
    ///   with `state="partial"` is merged into it (a child present in the
    ///   notification replaces the old one, an absent child keeps it); elements
    ///   without a `state` attribute (`conference-description`, `host-info`,
    ///   `conference-state`, `media`) are merged child by child the same way;
    /// * a `deleted` document (the conference is gone) newer than the local copy
    ///   replaces it.
    ///
    /// After a successful merge the local copy has the notification's version and
    /// `state="full"` (unless deleted). On error nothing changes.
    pub fn apply(&mut self, notification: ConferenceInfo) -> Result<(), ApplyError> {
        let received = notification.version.ok_or(ApplyError::MissingVersion)?;
        if notification.entity != self.entity {
            return Err(ApplyError::EntityMismatch);
        }
        if let Some(current) = self.version {
            if received <= current {
                return Err(ApplyError::Stale { current, received });
            }
        }
        match notification.state {
            ElementState::Full | ElementState::Deleted => *self = notification,
            ElementState::Partial => {
                let expected = self.version.and_then(|v| v.checked_add(1));
                if self.state == ElementState::Deleted || expected != Some(received) {
                    return Err(ApplyError::FullStateNeeded { expected, received });
                }
                self.merge(notification);
                self.version = Some(received);
                self.state = ElementState::Full;
            }
        }
        Ok(())
    }

    fn merge(&mut self, n: ConferenceInfo) {
        if let Some(d) = n.description {
            merge_description(self.description.get_or_insert_with(Default::default), d);
        }
        if let Some(h) = n.host_info {
            merge_host_info(self.host_info.get_or_insert_with(Default::default), h);
        }
        if let Some(s) = n.conference_state {
            merge_conference_state(
                self.conference_state.get_or_insert_with(Default::default),
                s,
            );
        }
        if let Some(u) = n.users {
            merge_users(&mut self.users, u);
        }
        if let Some(s) = n.sidebars_by_ref {
            merge_uris(&mut self.sidebars_by_ref, s);
        }
    }
}

/// Replaces `old` with `new` when `new` is present.
fn set<T>(old: &mut Option<T>, new: Option<T>) {
    if new.is_some() {
        *old = new;
    }
}

fn merge_description(old: &mut ConferenceDescription, new: ConferenceDescription) {
    set(&mut old.display_text, new.display_text);
    set(&mut old.subject, new.subject);
    set(&mut old.free_text, new.free_text);
    set(&mut old.keywords, new.keywords);
    if let Some(u) = new.conf_uris {
        merge_uris(&mut old.conf_uris, u);
    }
    if let Some(u) = new.service_uris {
        merge_uris(&mut old.service_uris, u);
    }
    set(&mut old.maximum_user_count, new.maximum_user_count);
}

fn merge_host_info(old: &mut HostInfo, new: HostInfo) {
    set(&mut old.display_text, new.display_text);
    set(&mut old.web_page, new.web_page);
    if let Some(u) = new.uris {
        merge_uris(&mut old.uris, u);
    }
}

fn merge_conference_state(old: &mut ConferenceState, new: ConferenceState) {
    set(&mut old.user_count, new.user_count);
    set(&mut old.active, new.active);
    set(&mut old.locked, new.locked);
}

fn merge_uris(old: &mut Option<Uris>, new: Uris) {
    match new.state {
        ElementState::Deleted => *old = None,
        ElementState::Full => *old = Some(new),
        ElementState::Partial => match old {
            None => *old = Some(new),
            Some(old) => {
                for entry in new.entries {
                    match old.entries.iter_mut().find(|e| e.uri == entry.uri) {
                        Some(e) => {
                            set(&mut e.display_text, entry.display_text);
                            set(&mut e.purpose, entry.purpose);
                        }
                        None => old.entries.push(entry),
                    }
                }
            }
        },
    }
}

fn merge_users(old: &mut Option<Users>, new: Users) {
    match new.state {
        ElementState::Deleted => *old = None,
        ElementState::Full => *old = Some(new),
        ElementState::Partial => {
            let old = old.get_or_insert_with(|| Users {
                state: ElementState::Full,
                users: Vec::new(),
            });
            for user in new.users {
                merge_keyed(&mut old.users, user, |u| &u.entity, |u| u.state, merge_user);
            }
        }
    }
}

/// Merges `new` into the element of `list` with the same key: removes it when
/// `new` is deleted, replaces it when full, merges with `merge` when partial; an
/// element not yet known is added (unless deleted).
fn merge_keyed<T>(
    list: &mut Vec<T>,
    new: T,
    key: impl Fn(&T) -> &String,
    state: impl Fn(&T) -> ElementState,
    merge: impl FnOnce(&mut T, T),
) {
    let position = list.iter().position(|old| key(old) == key(&new));
    match (state(&new), position) {
        (ElementState::Deleted, Some(i)) => {
            list.remove(i);
        }
        (ElementState::Deleted, None) => {}
        (ElementState::Full, Some(i)) => list[i] = new,
        (ElementState::Partial, Some(i)) => merge(&mut list[i], new),
        (ElementState::Full | ElementState::Partial, None) => list.push(new),
    }
}

fn merge_user(old: &mut User, new: User) {
    set(&mut old.display_text, new.display_text);
    if let Some(u) = new.associated_aors {
        merge_uris(&mut old.associated_aors, u);
    }
    set(&mut old.roles, new.roles);
    set(&mut old.languages, new.languages);
    set(&mut old.cascaded_focus, new.cascaded_focus);
    for endpoint in new.endpoints {
        merge_keyed(
            &mut old.endpoints,
            endpoint,
            |e| &e.entity,
            |e| e.state,
            merge_endpoint,
        );
    }
}

fn merge_endpoint(old: &mut Endpoint, new: Endpoint) {
    set(&mut old.display_text, new.display_text);
    set(&mut old.referred, new.referred);
    set(&mut old.status, new.status);
    set(&mut old.joining_method, new.joining_method);
    set(&mut old.joining_info, new.joining_info);
    set(&mut old.disconnection_method, new.disconnection_method);
    set(&mut old.disconnection_info, new.disconnection_info);
    for media in new.media {
        match old.media.iter_mut().find(|m| m.id == media.id) {
            Some(m) => merge_media(m, media),
            None => old.media.push(media),
        }
    }
    set(&mut old.call_info, new.call_info);
}

fn merge_media(old: &mut Media, new: Media) {
    set(&mut old.display_text, new.display_text);
    set(&mut old.media_type, new.media_type);
    set(&mut old.label, new.label);
    set(&mut old.src_id, new.src_id);
    set(&mut old.status, new.status);
}
