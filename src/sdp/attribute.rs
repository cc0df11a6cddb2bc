//! Attributes (`a=` lines): the MSRP ones (RFC 4975 §8), `setup` and
//! `connection` (RFC 4145), the direction attributes (RFC 4566 §6), and any
//! other attribute kept as it came.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::accept_types::AcceptTypes;
use super::error::{SdpError, SdpErrorKind};
use super::text::{own, parse_u64, tokens, trim};
use super::Limits;

/// One `a=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute<'a> {
    /// `a=accept-types:` — the media types the endpoint accepts (RFC 4975).
    AcceptTypes(AcceptTypes<'a>),
    /// `a=accept-wrapped-types:` — the media types accepted only inside a
    /// wrapper such as `message/cpim` (RFC 4975).
    AcceptWrappedTypes(AcceptTypes<'a>),
    /// `a=max-size:` — the largest message, in octets, the endpoint wishes to
    /// receive (RFC 4975).
    MaxSize(u64),
    /// `a=path:` — the MSRP URIs of the endpoint, space separated, kept as
    /// text (RFC 4975).
    Path(SmallVec<[Cow<'a, str>; 2]>),
    /// `a=setup:` — which end opens the TCP connection (RFC 4145).
    Setup(SetupRole),
    /// `a=connection:` — whether a new TCP connection is needed (RFC 4145).
    Connection(ConnectionAttribute),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly` or `a=inactive` (RFC 4566).
    Direction(Direction),
    /// Any other attribute, with its value if it has one (`a=name:value`) or
    /// without (`a=name`).
    Other {
        /// The attribute name.
        name: Cow<'a, str>,
        /// The value after the colon, `None` for a property attribute.
        value: Option<Cow<'a, str>>,
    },
}

/// The media direction attributes of RFC 4566 §6 (RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `sendrecv`: send and receive (the default).
    SendRecv,
    /// `sendonly`: send only.
    SendOnly,
    /// `recvonly`: receive only.
    RecvOnly,
    /// `inactive`: neither.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction that sends when `send` and receives when `recv`.
    pub fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// Whether this end sends.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether this end receives.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The direction an answerer with `preference` puts in its answer to an
    /// offer with direction `self` (RFC 3264 §6.1): it sends only if the
    /// offerer receives, and receives only if the offerer sends. So
    /// `recvonly` is answered `sendonly`, `sendonly` is answered `recvonly`,
    /// `inactive` is answered `inactive`, and `sendrecv` is answered with the
    /// preference.
    pub fn answer(self, preference: Direction) -> Direction {
        Self::from_flags(
            self.receives() && preference.sends(),
            self.sends() && preference.receives(),
        )
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Self::SendRecv,
            Self::SendOnly,
            Self::RecvOnly,
            Self::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(name))
    }
}

/// The `a=setup` values of RFC 4145 §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetupRole {
    /// `active`: this end opens the connection.
    Active,
    /// `passive`: this end accepts the connection.
    Passive,
    /// `actpass`: this end may do either (offers only).
    ActPass,
    /// `holdconn`: no connection for now.
    HoldConn,
}

impl SetupRole {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::ActPass => "actpass",
            Self::HoldConn => "holdconn",
        }
    }

    /// The role an answerer puts in its answer to an offer carrying `offer`
    /// (`None`: no `a=setup`, which RFC 4145 §4.1 reads as `active`), given the
    /// answerer's `preference`. This is the table of OMA SIMPLE IM §5.8.1:
    ///
    /// | offer      | answer                                                  |
    /// |------------|---------------------------------------------------------|
    /// | `active`   | `passive` (`holdconn` if the preference is `holdconn`)  |
    /// | `passive`  | `active` (`holdconn` if the preference is `holdconn`)   |
    /// | `actpass`  | the preference; `active` when it is `actpass` (RFC 6135)|
    /// | `holdconn` | `holdconn`                                              |
    pub fn answer(offer: Option<SetupRole>, preference: SetupRole) -> SetupRole {
        match (offer.unwrap_or(Self::Active), preference) {
            (Self::HoldConn, _) | (_, Self::HoldConn) => Self::HoldConn,
            (Self::Active, _) => Self::Passive,
            (Self::Passive, _) => Self::Active,
            (Self::ActPass, Self::Passive) => Self::Passive,
            (Self::ActPass, _) => Self::Active,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Active, Self::Passive, Self::ActPass, Self::HoldConn]
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name))
    }
}

/// The `a=connection` values of RFC 4145 §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionAttribute {
    /// `new`: a new connection is needed.
    New,
    /// `existing`: the existing connection is reused.
    Existing,
}

impl ConnectionAttribute {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Existing => "existing",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::New, Self::Existing]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }
}

/// The value attributes this module types.
#[derive(Clone, Copy)]
enum Known {
    AcceptTypes,
    AcceptWrappedTypes,
    MaxSize,
    Path,
    Setup,
    Connection,
}

impl Known {
    fn from_name(name: &str) -> Option<Self> {
        [
            ("accept-types", Self::AcceptTypes),
            ("accept-wrapped-types", Self::AcceptWrappedTypes),
            ("max-size", Self::MaxSize),
            ("path", Self::Path),
            ("setup", Self::Setup),
            ("connection", Self::Connection),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, known)| known)
    }
}

/// The space-separated URIs of `a=path`, at least one.
fn parse_path<'a>(
    value: &'a str,
    offset: usize,
    limits: &Limits,
) -> Result<SmallVec<[Cow<'a, str>; 2]>, SdpError> {
    let mut uris = SmallVec::new();
    for (at, uri) in tokens(value, offset) {
        if uris.len() == limits.max_path_uris {
            return Err(SdpError::new(SdpErrorKind::TooManyPathUris, at));
        }
        uris.push(Cow::Borrowed(uri));
    }
    if uris.is_empty() {
        return Err(SdpError::new(SdpErrorKind::InvalidAttribute, offset));
    }
    Ok(uris)
}

impl<'a> Attribute<'a> {
    /// The attribute name as written on the wire.
    pub fn name(&self) -> &str {
        match self {
            Self::AcceptTypes(_) => "accept-types",
            Self::AcceptWrappedTypes(_) => "accept-wrapped-types",
            Self::MaxSize(_) => "max-size",
            Self::Path(_) => "path",
            Self::Setup(_) => "setup",
            Self::Connection(_) => "connection",
            Self::Direction(d) => d.as_str(),
            Self::Other { name, .. } => name,
        }
    }

    /// Parses the value of an `a=` line (what follows `a=`), which starts at
    /// byte `offset` of the input. Spaces around the name and the colon are
    /// accepted (`a = accept-types : message/cpim`).
    pub(crate) fn parse(line: &'a str, offset: usize, limits: &Limits) -> Result<Self, SdpError> {
        let invalid = |at| SdpError::new(SdpErrorKind::InvalidAttribute, at);
        let (name_part, value) = match line.split_once(':') {
            Some((name, value)) => {
                let value_offset = offset + name.len() + 1;
                (name, Some(trim(value, value_offset)))
            }
            None => (line, None),
        };
        let (name_offset, name) = trim(name_part, offset);
        if name.is_empty() || name.bytes().any(|b| b == b' ' || b == b'\t') {
            return Err(invalid(name_offset));
        }
        if let Some(direction) = Direction::from_name(name) {
            return match value {
                None => Ok(Self::Direction(direction)),
                Some((at, _)) => Err(invalid(at)),
            };
        }
        let Some(known) = Known::from_name(name) else {
            return Ok(Self::Other {
                name: Cow::Borrowed(name),
                value: value.map(|(_, v)| Cow::Borrowed(v)),
            });
        };
        let (at, value) = value.ok_or_else(|| invalid(name_offset))?;
        match known {
            Known::AcceptTypes => AcceptTypes::parse(value, at, limits).map(Self::AcceptTypes),
            Known::AcceptWrappedTypes => {
                AcceptTypes::parse(value, at, limits).map(Self::AcceptWrappedTypes)
            }
            Known::MaxSize => parse_u64(value)
                .map(Self::MaxSize)
                .ok_or_else(|| invalid(at)),
            Known::Path => parse_path(value, at, limits).map(Self::Path),
            Known::Setup => SetupRole::from_name(value)
                .map(Self::Setup)
                .ok_or_else(|| invalid(at)),
            Known::Connection => ConnectionAttribute::from_name(value)
                .map(Self::Connection)
                .ok_or_else(|| invalid(at)),
        }
    }

    /// Appends the line `a=...` with its CRLF, in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"a=");
        out.extend_from_slice(self.name().as_bytes());
        match self {
            Self::AcceptTypes(types) | Self::AcceptWrappedTypes(types) => {
                out.push(b':');
                types.write(out);
            }
            Self::MaxSize(size) => {
                out.push(b':');
                crate::decimal::push_decimal(out, *size);
            }
            Self::Path(uris) => {
                out.push(b':');
                for (i, uri) in uris.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    out.extend_from_slice(uri.as_bytes());
                }
            }
            Self::Setup(role) => {
                out.push(b':');
                out.extend_from_slice(role.as_str().as_bytes());
            }
            Self::Connection(c) => {
                out.push(b':');
                out.extend_from_slice(c.as_str().as_bytes());
            }
            Self::Direction(_) => {}
            Self::Other { value, .. } => {
                if let Some(value) = value {
                    out.push(b':');
                    out.extend_from_slice(value.as_bytes());
                }
            }
        }
        out.extend_from_slice(b"\r\n");
    }

    /// A copy borrowing this attribute's text (no string is copied).
    pub fn borrowed(&self) -> Attribute<'_> {
        match self {
            Self::AcceptTypes(t) => Attribute::AcceptTypes(t.borrowed()),
            Self::AcceptWrappedTypes(t) => Attribute::AcceptWrappedTypes(t.borrowed()),
            Self::MaxSize(n) => Attribute::MaxSize(*n),
            Self::Path(uris) => Attribute::Path(uris.iter().map(|u| Cow::Borrowed(&**u)).collect()),
            Self::Setup(r) => Attribute::Setup(*r),
            Self::Connection(c) => Attribute::Connection(*c),
            Self::Direction(d) => Attribute::Direction(*d),
            Self::Other { name, value } => Attribute::Other {
                name: Cow::Borrowed(name),
                value: value.as_deref().map(Cow::Borrowed),
            },
        }
    }

    /// The same attribute, owning its text.
    pub fn into_owned(self) -> Attribute<'static> {
        match self {
            Self::AcceptTypes(t) => Attribute::AcceptTypes(t.into_owned()),
            Self::AcceptWrappedTypes(t) => Attribute::AcceptWrappedTypes(t.into_owned()),
            Self::MaxSize(n) => Attribute::MaxSize(n),
            Self::Path(uris) => Attribute::Path(uris.into_iter().map(own).collect()),
            Self::Setup(r) => Attribute::Setup(r),
            Self::Connection(c) => Attribute::Connection(c),
            Self::Direction(d) => Attribute::Direction(d),
            Self::Other { name, value } => Attribute::Other {
                name: own(name),
                value: value.map(own),
            },
        }
    }
}
