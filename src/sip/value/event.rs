//! Event and Subscription-State (RFC 6665).

use crate::sip::lex::{self, Params};
use crate::sip::{ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// `Event: conference;id=42`: the event type and its parameters.
///
/// ```
/// use oma_im::sip::Event;
/// let e = Event::parse("presence.winfo ; id=7").unwrap();
/// assert_eq!(e.package(), "presence");
/// assert_eq!(e.templates().collect::<Vec<_>>(), ["winfo"]);
/// assert_eq!(e.id(), Some("7"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// The event type: package and templates, e.g. `presence.winfo`.
    pub event_type: &'a str,
    /// The parameters (`id`, generic).
    pub params: Params<'a>,
}

impl<'a> Event<'a> {
    /// Parses `event-type *(;event-param)`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let (event_type, end) = lex::token(value, lex::skip_lws(value, 0))?;
        let (params, end) = lex::generic_params(value, end, limits)?;
        lex::expect_end(value, end)?;
        Ok(Event { event_type, params })
    }

    /// The event package: the event type up to the first `.`.
    pub fn package(&self) -> &'a str {
        self.event_type.split('.').next().unwrap_or(self.event_type)
    }

    /// The event templates after the package (`winfo` in `presence.winfo`).
    pub fn templates(&self) -> impl Iterator<Item = &'a str> {
        self.event_type.split('.').skip(1)
    }

    /// The `id` parameter.
    pub fn id(&self) -> Option<&'a str> {
        self.params.get("id").flatten()
    }

    /// True when both name the same event (RFC 6665): same event type
    /// (case-sensitive, as tokens are compared) and same `id`, byte for byte.
    pub fn matches(&self, other: &Event<'_>) -> bool {
        self.event_type == other.event_type && self.id() == other.id()
    }

    /// Appends `type;params`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.event_type.as_bytes());
        self.params.write(out);
    }
}

value_type!(Event<'a>);

/// The substate of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubState<'a> {
    /// `active`.
    Active,
    /// `pending`.
    Pending,
    /// `terminated`.
    Terminated,
    /// An extension substate.
    Other(&'a str),
}

impl<'a> SubState<'a> {
    fn from_token(t: &'a str) -> Self {
        if t.eq_ignore_ascii_case("active") {
            SubState::Active
        } else if t.eq_ignore_ascii_case("pending") {
            SubState::Pending
        } else if t.eq_ignore_ascii_case("terminated") {
            SubState::Terminated
        } else {
            SubState::Other(t)
        }
    }

    /// The substate as written on the wire.
    pub fn as_str(&self) -> &'a str {
        match self {
            SubState::Active => "active",
            SubState::Pending => "pending",
            SubState::Terminated => "terminated",
            SubState::Other(t) => t,
        }
    }
}

/// `Subscription-State: terminated;reason=timeout;retry-after=30`.
///
/// ```
/// use oma_im::sip::{SubState, SubscriptionState};
/// let s = SubscriptionState::parse("active;expires=600").unwrap();
/// assert_eq!(s.state, SubState::Active);
/// assert_eq!(s.expires(), Some(600));
/// let t = SubscriptionState::parse("terminated;reason=noresource").unwrap();
/// assert_eq!(t.reason(), Some("noresource"));
/// assert!(SubscriptionState::parse("active;expires=soon").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState<'a> {
    /// The substate.
    pub state: SubState<'a>,
    /// The parameters (`expires` and `retry-after` checked to be delta-seconds).
    pub params: Params<'a>,
}

impl<'a> SubscriptionState<'a> {
    /// Parses `substate-value *(;subexp-params)`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let (state, end) = lex::token(value, lex::skip_lws(value, 0))?;
        let (params, end) = lex::generic_params(value, end, limits)?;
        lex::expect_end(value, end)?;
        for name in ["expires", "retry-after"] {
            if let Some(p) = params.find(name) {
                let ok = p
                    .value
                    .is_some_and(|v| lex::whole_number(v, u64::from(u32::MAX)).is_ok());
                if !ok {
                    let at = lex::offset_in(value, p.value.unwrap_or(p.name));
                    return Err(ValueError::new(ValueErrorKind::InvalidParamValue, at));
                }
            }
        }
        Ok(SubscriptionState {
            state: SubState::from_token(state),
            params,
        })
    }

    fn seconds(&self, name: &str) -> Option<u32> {
        let v = self.params.get(name).flatten()?;
        lex::whole_number(v, u64::from(u32::MAX))
            .ok()
            .and_then(|n| u32::try_from(n).ok())
    }

    /// The `expires` parameter in seconds.
    pub fn expires(&self) -> Option<u32> {
        self.seconds("expires")
    }

    /// The `retry-after` parameter in seconds.
    pub fn retry_after(&self) -> Option<u32> {
        self.seconds("retry-after")
    }

    /// The `reason` parameter (`deactivated`, `probation`, `rejected`,
    /// `timeout`, `giveup`, `noresource`, `invariant`, ...).
    pub fn reason(&self) -> Option<&'a str> {
        self.params.get("reason").flatten()
    }

    /// Appends `state;params`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.state.as_str().as_bytes());
        self.params.write(out);
    }
}

value_type!(SubscriptionState<'a>);
