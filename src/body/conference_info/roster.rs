//! What a controlling IM Server sends and an IM Client reads: full state from a
//! participant list, one-user partial notifications, and the current roster.

use super::{
    ConferenceInfo, ConferenceState, DisconnectionMethod, ElementState, Endpoint, EndpointStatus,
    JoiningMethod, User, Users,
};

/// A participant of an IM Session as the controlling IM Server knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// The participant's address (the `<user entity>`).
    pub entity: String,
    /// Its display name, if known.
    pub display_text: Option<String>,
    /// The URI of the device in the session (the `<endpoint entity>`, typically the
    /// Contact); the participant's address when `None`.
    pub endpoint: Option<String>,
    /// How it joined: `dialed-out` for invitees, `dialed-in` for the inviting client.
    pub joining_method: Option<JoiningMethod>,
}

impl Participant {
    /// A participant known only by its address.
    pub fn new(entity: impl Into<String>) -> Self {
        Participant {
            entity: entity.into(),
            display_text: None,
            endpoint: None,
            joining_method: None,
        }
    }

    fn endpoint_entity(&self) -> &str {
        self.endpoint.as_deref().unwrap_or(&self.entity)
    }

    /// The `<user>` of a connected participant, with one connected endpoint.
    fn connected_user(&self) -> User {
        let mut endpoint = Endpoint::new(self.endpoint_entity(), ElementState::Full);
        endpoint.status = Some(EndpointStatus::Connected);
        endpoint.joining_method = self.joining_method;
        let mut user = User::new(self.entity.clone(), ElementState::Full);
        user.display_text = self.display_text.clone();
        user.endpoints.push(endpoint);
        user
    }
}

impl ConferenceInfo {
    /// A full-state document for conference `entity` at `version`, listing every
    /// participant as a connected user, with the `<user-count>`.
    pub fn full_state<'p>(
        entity: &str,
        version: u32,
        participants: impl IntoIterator<Item = &'p Participant>,
    ) -> Self {
        let users: Vec<User> = participants
            .into_iter()
            .map(Participant::connected_user)
            .collect();
        let mut info = ConferenceInfo::new(entity, ElementState::Full, Some(version));
        info.conference_state = Some(ConferenceState {
            user_count: u32::try_from(users.len()).ok(),
            active: Some(true),
            locked: None,
        });
        info.users = Some(Users {
            state: ElementState::Full,
            users,
        });
        info
    }

    /// A partial notification at `version`: `participant` joined (a full `<user>`
    /// with a connected endpoint).
    pub fn user_joined(entity: &str, version: u32, participant: &Participant) -> Self {
        Self::one_user(entity, version, participant.connected_user())
    }

    /// A partial notification at `version`: `participant` left the session, by
    /// itself (`departed`) or removed by the server (`booted`). Its endpoint becomes
    /// `disconnected` with that disconnection method; the user stays listed, as in
    /// RFC 4575's examples, and no longer counts in [`ConferenceInfo::participants`].
    pub fn user_left(
        entity: &str,
        version: u32,
        participant: &Participant,
        method: DisconnectionMethod,
    ) -> Self {
        let mut endpoint = Endpoint::new(participant.endpoint_entity(), ElementState::Full);
        endpoint.status = Some(EndpointStatus::Disconnected);
        endpoint.disconnection_method = Some(method);
        let mut user = User::new(participant.entity.clone(), ElementState::Partial);
        user.endpoints.push(endpoint);
        Self::one_user(entity, version, user)
    }

    fn one_user(entity: &str, version: u32, user: User) -> Self {
        let mut info = ConferenceInfo::new(entity, ElementState::Partial, Some(version));
        info.users = Some(Users {
            state: ElementState::Partial,
            users: vec![user],
        });
        info
    }

    /// The users currently in the session: those with at least one endpoint that
    /// is `connected`, `on-hold` or `muted-via-focus` (see [`Endpoint::is_present`]).
    pub fn participants(&self) -> impl Iterator<Item = &User> {
        self.users()
            .filter(|u| u.endpoints.iter().any(Endpoint::is_present))
    }
}
