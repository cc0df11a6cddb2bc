//! `application/conference-info+xml` (RFC 4575): the conference state a
//! controlling IM Server (the focus) sends in NOTIFYs of the `conference` event
//! package, and that IM Clients and the IM History Function keep.
//!
//! * [`ConferenceInfo::parse`] and [`ConferenceInfo::write`] read and write full
//!   and partial documents. Values are owned (`String`): documents are small and
//!   kept by the state machines across notifications.
//! * [`ConferenceInfo::apply`] merges a notification into the local copy following
//!   RFC 4575 §4.6 (see [`ApplyError`] for version handling).
//! * [`ConferenceInfo::full_state`], [`ConferenceInfo::user_joined`] and
//!   [`ConferenceInfo::user_left`] build what a controlling IM Server sends;
//!   [`ConferenceInfo::participants`] lists who is in the session.
//!
//! # What is kept
//!
//! Every element of the RFC 4575 schema is kept except `<available-media>` (of
//! `<conference-description>`), `<sidebars-by-val>` (whole nested conferences) and
//! `<modified>` of URI entries, which are skipped: OMA SIMPLE IM uses neither
//! sidebars nor conference media descriptions. `<sidebars-by-ref>` is kept.
//! Elements and attributes of other namespaces, and unknown elements of the
//! conference-info namespace, are skipped (RFC 4575 extensibility), not errors.
//!
//! # Bounds
//!
//! Users are bounded by [`XmlLimits::max_users`] ([`XmlErrorKind::TooManyUsers`]);
//! endpoints of a user, media of an endpoint, URI entries, roles and languages by
//! [`XmlLimits::max_children`]; the rest by the shared [`XmlLimits`].
//!
//! # Example
//!
//! ```
//! use oma_im::body::conference_info::{ConferenceInfo, DisconnectionMethod, Participant};
//! use oma_im::body::xml::XmlLimits;
//!
//! let conf = "sip:adhoc-1@im.example.com";
//! let alice = Participant::new("sip:alice@example.com");
//! let bob = Participant::new("sip:bob@example.com");
//!
//! // The focus sends full state first, then one partial notification per change.
//! let mut body = Vec::new();
//! ConferenceInfo::full_state(conf, 1, [&alice, &bob]).write(&mut body);
//! let mut roster = ConferenceInfo::parse(&body, &XmlLimits::default())?;
//!
//! body.clear();
//! ConferenceInfo::user_left(conf, 2, &bob, DisconnectionMethod::Booted).write(&mut body);
//! let notification = ConferenceInfo::parse(&body, &XmlLimits::default())?;
//! roster.apply(notification).expect("version 2 follows version 1");
//!
//! let present: Vec<&str> = roster.participants().map(|u| u.entity.as_str()).collect();
//! assert_eq!(present, ["sip:alice@example.com"]);
//! # Ok::<(), oma_im::body::xml::XmlError>(())
//! ```

mod merge;
mod parse;
mod roster;
mod write;

pub use merge::ApplyError;
pub use roster::Participant;

#[cfg(doc)]
use super::xml::{XmlErrorKind, XmlLimits};

/// The media type of a conference-info body.
pub const CONTENT_TYPE: &str = "application/conference-info+xml";

/// The event package name (`Event: conference`).
pub const EVENT_PACKAGE: &str = "conference";

/// Defines a closed enumeration of XML string values.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in schema order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The XML value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }

            /// Parses the XML value (surrounding white space allowed).
            pub(crate) fn parse(
                value: &str,
                offset: usize,
            ) -> Result<Self, super::xml::XmlError> {
                match value.trim_matches(|c: char| c.is_ascii_whitespace()) {
                    $($value => Ok($name::$variant),)+
                    _ => Err(super::xml::XmlError::new(
                        super::xml::XmlErrorKind::InvalidValue($field),
                        offset,
                    )),
                }
            }
        }
    };
}

string_enum!(
    /// The `state` attribute of the document and of the elements that carry one.
    ElementState, "state" {
        /// `full`: the element is complete and replaces any earlier copy.
        Full = "full",
        /// `partial`: only what changed; merged into the earlier copy.
        Partial = "partial",
        /// `deleted`: the element is gone.
        Deleted = "deleted",
    }
);

string_enum!(
    /// The `<status>` of an endpoint.
    EndpointStatus, "status" {
        /// `pending`: not yet contacted.
        Pending = "pending",
        /// `dialing-out`: the focus is calling the endpoint.
        DialingOut = "dialing-out",
        /// `dialing-in`: the endpoint is calling the focus.
        DialingIn = "dialing-in",
        /// `alerting`: the endpoint is ringing.
        Alerting = "alerting",
        /// `on-hold`: in the conference, media on hold.
        OnHold = "on-hold",
        /// `connected`: in the conference.
        Connected = "connected",
        /// `muted-via-focus`: in the conference, muted by the focus.
        MutedViaFocus = "muted-via-focus",
        /// `disconnecting`: leaving.
        Disconnecting = "disconnecting",
        /// `disconnected`: gone.
        Disconnected = "disconnected",
    }
);

string_enum!(
    /// The `<joining-method>` of an endpoint.
    JoiningMethod, "joining-method" {
        /// `dialed-in`: the endpoint called the focus.
        DialedIn = "dialed-in",
        /// `dialed-out`: the focus called the endpoint.
        DialedOut = "dialed-out",
        /// `focus-owner`: the endpoint is the focus.
        FocusOwner = "focus-owner",
    }
);

string_enum!(
    /// The `<disconnection-method>` of an endpoint.
    DisconnectionMethod, "disconnection-method" {
        /// `departed`: the participant left.
        Departed = "departed",
        /// `booted`: the participant was removed.
        Booted = "booted",
        /// `failed`: the connection failed.
        Failed = "failed",
        /// `busy`: the endpoint was busy.
        Busy = "busy",
    }
);

string_enum!(
    /// The `<status>` of a media stream.
    MediaStatus, "media status" {
        /// `recvonly`.
        RecvOnly = "recvonly",
        /// `sendonly`.
        SendOnly = "sendonly",
        /// `sendrecv`.
        SendRecv = "sendrecv",
        /// `inactive`.
        Inactive = "inactive",
    }
);

/// A `<conference-info>` document (full or partial).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceInfo {
    /// The `entity` attribute: the conference URI (IM Session Identity).
    pub entity: String,
    /// The `state` attribute (`full` when absent).
    pub state: ElementState,
    /// The `version` attribute: incremented by one per notification.
    pub version: Option<u32>,
    /// `<conference-description>`.
    pub description: Option<ConferenceDescription>,
    /// `<host-info>`.
    pub host_info: Option<HostInfo>,
    /// `<conference-state>`.
    pub conference_state: Option<ConferenceState>,
    /// `<users>`.
    pub users: Option<Users>,
    /// `<sidebars-by-ref>`.
    pub sidebars_by_ref: Option<Uris>,
}

/// `<conference-description>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConferenceDescription {
    /// `<display-text>`.
    pub display_text: Option<String>,
    /// `<subject>`.
    pub subject: Option<String>,
    /// `<free-text>`.
    pub free_text: Option<String>,
    /// `<keywords>`, as written (a white-space separated list).
    pub keywords: Option<String>,
    /// `<conf-uris>`: URIs to join the conference.
    pub conf_uris: Option<Uris>,
    /// `<service-uris>`: auxiliary services (web page, recording…).
    pub service_uris: Option<Uris>,
    /// `<maximum-user-count>`.
    pub maximum_user_count: Option<u32>,
}

/// `<host-info>`: who hosts the conference.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostInfo {
    /// `<display-text>`.
    pub display_text: Option<String>,
    /// `<web-page>`.
    pub web_page: Option<String>,
    /// `<uris>`.
    pub uris: Option<Uris>,
}

/// `<conference-state>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConferenceState {
    /// `<user-count>`.
    pub user_count: Option<u32>,
    /// `<active>`.
    pub active: Option<bool>,
    /// `<locked>`.
    pub locked: Option<bool>,
}

/// A list of URIs (`conf-uris`, `service-uris`, `associated-aors`, `uris`,
/// `sidebars-by-ref`), keyed by URI when merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uris {
    /// The `state` attribute.
    pub state: ElementState,
    /// The `<entry>` children.
    pub entries: Vec<UriEntry>,
}

/// One `<entry>` of a [`Uris`] list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriEntry {
    /// `<uri>` (required).
    pub uri: String,
    /// `<display-text>`.
    pub display_text: Option<String>,
    /// `<purpose>`.
    pub purpose: Option<String>,
}

/// `<users>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Users {
    /// The `state` attribute.
    pub state: ElementState,
    /// The `<user>` children, keyed by `entity` when merged.
    pub users: Vec<User>,
}

/// `<user>`: one participant, possibly with several endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The `entity` attribute: the user's address (required).
    pub entity: String,
    /// The `state` attribute.
    pub state: ElementState,
    /// `<display-text>`.
    pub display_text: Option<String>,
    /// `<associated-aors>`.
    pub associated_aors: Option<Uris>,
    /// `<roles>`: the text of each `<entry>`.
    pub roles: Option<Vec<String>>,
    /// `<languages>`: language tags.
    pub languages: Option<Vec<String>>,
    /// `<cascaded-focus>`.
    pub cascaded_focus: Option<String>,
    /// The `<endpoint>` children, keyed by `entity` when merged.
    pub endpoints: Vec<Endpoint>,
}

/// `<endpoint>`: one device of a user, in the conference or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The `entity` attribute (required).
    pub entity: String,
    /// The `state` attribute.
    pub state: ElementState,
    /// `<display-text>`.
    pub display_text: Option<String>,
    /// `<referred>`: who invited this endpoint.
    pub referred: Option<ExecutionInfo>,
    /// `<status>`.
    pub status: Option<EndpointStatus>,
    /// `<joining-method>`.
    pub joining_method: Option<JoiningMethod>,
    /// `<joining-info>`.
    pub joining_info: Option<ExecutionInfo>,
    /// `<disconnection-method>`.
    pub disconnection_method: Option<DisconnectionMethod>,
    /// `<disconnection-info>`.
    pub disconnection_info: Option<ExecutionInfo>,
    /// The `<media>` children, keyed by `id` when merged.
    pub media: Vec<Media>,
    /// `<call-info>`: the SIP dialog of this endpoint.
    pub call_info: Option<SipDialogId>,
}

/// The `when`, `reason` and `by` of `referred`, `joining-info` and
/// `disconnection-info`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecutionInfo {
    /// `<when>` (an `xs:dateTime`, kept as written).
    pub when: Option<String>,
    /// `<reason>`.
    pub reason: Option<String>,
    /// `<by>`: the URI of who did it.
    pub by: Option<String>,
}

/// `<media>`: one media stream of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// The `id` attribute (required).
    pub id: String,
    /// `<display-text>`.
    pub display_text: Option<String>,
    /// `<type>` (`audio`, `video`, `message`…).
    pub media_type: Option<String>,
    /// `<label>`.
    pub label: Option<String>,
    /// `<src-id>`.
    pub src_id: Option<String>,
    /// `<status>`.
    pub status: Option<MediaStatus>,
}

/// `<call-info><sip>…</sip></call-info>`: the SIP dialog identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SipDialogId {
    /// `<display-text>`.
    pub display_text: Option<String>,
    /// `<call-id>`.
    pub call_id: Option<String>,
    /// `<from-tag>`.
    pub from_tag: Option<String>,
    /// `<to-tag>`.
    pub to_tag: Option<String>,
}

impl ConferenceInfo {
    /// An empty document for `entity` with the given state and version.
    pub fn new(entity: impl Into<String>, state: ElementState, version: Option<u32>) -> Self {
        ConferenceInfo {
            entity: entity.into(),
            state,
            version,
            description: None,
            host_info: None,
            conference_state: None,
            users: None,
            sidebars_by_ref: None,
        }
    }

    /// Every `<user>` of the document, in order.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.iter().flat_map(|u| u.users.iter())
    }

    /// The user with this `entity`, if listed.
    pub fn user(&self, entity: &str) -> Option<&User> {
        self.users().find(|u| u.entity == entity)
    }
}

impl User {
    /// A user with only its entity and state.
    pub fn new(entity: impl Into<String>, state: ElementState) -> Self {
        User {
            entity: entity.into(),
            state,
            display_text: None,
            associated_aors: None,
            roles: None,
            languages: None,
            cascaded_focus: None,
            endpoints: Vec::new(),
        }
    }
}

impl Endpoint {
    /// An endpoint with only its entity and state.
    pub fn new(entity: impl Into<String>, state: ElementState) -> Self {
        Endpoint {
            entity: entity.into(),
            state,
            display_text: None,
            referred: None,
            status: None,
            joining_method: None,
            joining_info: None,
            disconnection_method: None,
            disconnection_info: None,
            media: Vec::new(),
            call_info: None,
        }
    }

    /// Whether the endpoint is in the conference: `connected`, `on-hold` or
    /// `muted-via-focus`.
    pub fn is_present(&self) -> bool {
        matches!(
            self.status,
            Some(
                EndpointStatus::Connected | EndpointStatus::OnHold | EndpointStatus::MutedViaFocus
            )
        )
    }
}

impl Media {
    /// A media stream with only its id.
    pub fn new(id: impl Into<String>) -> Self {
        Media {
            id: id.into(),
            display_text: None,
            media_type: None,
            label: None,
            src_id: None,
            status: None,
        }
    }
}
