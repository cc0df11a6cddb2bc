//! The session description (RFC 4566 §5) and its parts, with the writer.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::accept_types::AcceptTypes;
use super::attribute::{Attribute, ConnectionAttribute, Direction, SetupRole};
use super::text::own;
use crate::decimal::push_decimal;

/// A parsed or built session description. Text borrows the parsed input
/// (`Cow::Borrowed`) or is owned; [`into_owned`](Self::into_owned) gives a
/// `'static` copy a state machine can keep.
///
/// The type is invariant in `'a` (its small inline vectors are), so two
/// descriptions borrowing different buffers do not compare directly:
/// compare [`to_owned_description`](Self::to_owned_description) copies, or the
/// written bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription<'a> {
    /// `o=`: originator and session identifier.
    pub origin: Origin<'a>,
    /// `s=`: the session name; empty for `s= ` (RFC 4566 §5.3: a single space
    /// when the session has no name), which is how an empty name is written.
    pub session_name: Cow<'a, str>,
    /// `i=`: session information.
    pub information: Option<Cow<'a, str>>,
    /// `u=`: URI of description.
    pub uri: Option<Cow<'a, str>>,
    /// `e=` lines: email addresses.
    pub emails: Vec<Cow<'a, str>>,
    /// `p=` lines: phone numbers.
    pub phones: Vec<Cow<'a, str>>,
    /// `c=` at the session level.
    pub connection: Option<Connection<'a>>,
    /// `b=` lines at the session level, each `<bwtype>:<bandwidth>`.
    pub bandwidths: Vec<Cow<'a, str>>,
    /// `t=` lines, each with its `r=` lines. A valid description has one or
    /// more.
    pub times: SmallVec<[Timing<'a>; 1]>,
    /// `z=`: time zone adjustments, as written.
    pub time_zones: Option<Cow<'a, str>>,
    /// `k=` at the session level, as written.
    pub key: Option<Cow<'a, str>>,
    /// `a=` lines at the session level, in order.
    pub attributes: SmallVec<[Attribute<'a>; 2]>,
    /// Media descriptions, in order.
    pub media: SmallVec<[Media<'a>; 1]>,
}

/// The `o=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin<'a> {
    /// `<username>`, `-` when there is none.
    pub username: Cow<'a, str>,
    /// `<sess-id>`.
    pub session_id: u64,
    /// `<sess-version>`.
    pub session_version: u64,
    /// `<nettype>`, `IN`.
    pub net_type: Cow<'a, str>,
    /// `<addrtype>`, `IP4` or `IP6`.
    pub addr_type: Cow<'a, str>,
    /// `<unicast-address>`.
    pub unicast_address: Cow<'a, str>,
}

/// A `c=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection<'a> {
    /// `<nettype>`, `IN`.
    pub net_type: Cow<'a, str>,
    /// `<addrtype>`, `IP4` or `IP6` (RFC 4566; RFC 5118 §4.6 for IPv6).
    pub addr_type: Cow<'a, str>,
    /// `<connection-address>`, with any `/ttl` or `/number` suffix.
    pub address: Cow<'a, str>,
}

impl<'a> Connection<'a> {
    /// `IN IP4 <address>` or, when `address` holds a colon, `IN IP6 <address>`.
    pub fn internet(address: impl Into<Cow<'a, str>>) -> Self {
        let address = address.into();
        Self {
            net_type: Cow::Borrowed("IN"),
            addr_type: Cow::Borrowed(address_type_of(&address)),
            address,
        }
    }
}

/// `IP6` when `address` holds a colon, `IP4` otherwise.
pub(crate) fn address_type_of(address: &str) -> &'static str {
    if address.contains(':') {
        "IP6"
    } else {
        "IP4"
    }
}

/// A `t=` line and its `r=` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing<'a> {
    /// `<start-time>` (NTP seconds, 0 for unbounded).
    pub start: u64,
    /// `<stop-time>` (NTP seconds, 0 for unbounded).
    pub stop: u64,
    /// `r=` lines, as written.
    pub repeats: Vec<Cow<'a, str>>,
}

impl Timing<'_> {
    /// `t=0 0`: a session not bounded in time, as SIP uses.
    pub fn unbounded() -> Self {
        Self {
            start: 0,
            stop: 0,
            repeats: Vec::new(),
        }
    }
}

/// The transport of an MSRP media line (RFC 4975 §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsrpTransport {
    /// `TCP/MSRP`.
    Tcp,
    /// `TCP/TLS/MSRP`.
    Tls,
}

impl MsrpTransport {
    /// The `<proto>` field.
    pub fn proto(self) -> &'static str {
        match self {
            Self::Tcp => "TCP/MSRP",
            Self::Tls => "TCP/TLS/MSRP",
        }
    }
}

/// A media description: an `m=` line and the lines after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media<'a> {
    /// `<media>`, `message` for MSRP.
    pub media: Cow<'a, str>,
    /// `<port>`; 0 marks a rejected or disabled stream (RFC 3264 §6).
    pub port: u16,
    /// `/<number of ports>` after the port, if given.
    pub port_count: Option<u16>,
    /// `<proto>`, `TCP/MSRP` or `TCP/TLS/MSRP` for MSRP.
    pub proto: Cow<'a, str>,
    /// `<fmt>` list, `*` for MSRP.
    pub formats: SmallVec<[Cow<'a, str>; 1]>,
    /// `i=`: media title.
    pub information: Option<Cow<'a, str>>,
    /// `c=` of this media description.
    pub connection: Option<Connection<'a>>,
    /// `b=` lines, each `<bwtype>:<bandwidth>`.
    pub bandwidths: Vec<Cow<'a, str>>,
    /// `k=`, as written.
    pub key: Option<Cow<'a, str>>,
    /// `a=` lines, in order.
    pub attributes: SmallVec<[Attribute<'a>; 8]>,
}

impl<'a> Media<'a> {
    /// An MSRP media line `m=message <port> TCP/MSRP *` (or `TCP/TLS/MSRP`)
    /// without attributes.
    pub fn msrp(port: u16, transport: MsrpTransport) -> Self {
        Self {
            media: Cow::Borrowed("message"),
            port,
            port_count: None,
            proto: Cow::Borrowed(transport.proto()),
            formats: SmallVec::from_buf([Cow::Borrowed("*")]),
            information: None,
            connection: None,
            bandwidths: Vec::new(),
            key: None,
            attributes: SmallVec::new(),
        }
    }

    /// The same media type, proto and formats with port 0 and nothing else:
    /// how an answer rejects this stream (RFC 3264 §6). Borrows this line's
    /// text.
    pub fn rejected(&self) -> Media<'_> {
        Media {
            media: Cow::Borrowed(&self.media),
            port: 0,
            port_count: None,
            proto: Cow::Borrowed(&self.proto),
            formats: self.formats.iter().map(|f| Cow::Borrowed(&**f)).collect(),
            information: None,
            connection: None,
            bandwidths: Vec::new(),
            key: None,
            attributes: SmallVec::new(),
        }
    }

    /// The MSRP transport when this is `m=message ... TCP/MSRP` or
    /// `TCP/TLS/MSRP` (ASCII case ignored); `None` for any other media line.
    pub fn msrp_transport(&self) -> Option<MsrpTransport> {
        if !self.media.eq_ignore_ascii_case("message") {
            return None;
        }
        [MsrpTransport::Tcp, MsrpTransport::Tls]
            .into_iter()
            .find(|t| t.proto().eq_ignore_ascii_case(&self.proto))
    }

    /// `a=accept-types`, if present.
    pub fn accept_types(&self) -> Option<&AcceptTypes<'a>> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::AcceptTypes(t) => Some(t),
            _ => None,
        })
    }

    /// `a=accept-wrapped-types`, if present.
    pub fn accept_wrapped_types(&self) -> Option<&AcceptTypes<'a>> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::AcceptWrappedTypes(t) => Some(t),
            _ => None,
        })
    }

    /// `a=max-size`, if present.
    pub fn max_size(&self) -> Option<u64> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::MaxSize(n) => Some(*n),
            _ => None,
        })
    }

    /// The URIs of `a=path`, if present.
    pub fn path(&self) -> Option<&[Cow<'a, str>]> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Path(uris) => Some(&uris[..]),
            _ => None,
        })
    }

    /// `a=setup`, if present.
    pub fn setup(&self) -> Option<SetupRole> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Setup(r) => Some(*r),
            _ => None,
        })
    }

    /// `a=connection`, if present.
    pub fn connection_attribute(&self) -> Option<ConnectionAttribute> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Connection(c) => Some(*c),
            _ => None,
        })
    }

    /// The direction attribute of this media description, if present.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }

    /// Appends this media description, `m=` line first, in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"m=");
        out.extend_from_slice(self.media.as_bytes());
        out.push(b' ');
        push_decimal(out, u64::from(self.port));
        if let Some(count) = self.port_count {
            out.push(b'/');
            push_decimal(out, u64::from(count));
        }
        out.push(b' ');
        out.extend_from_slice(self.proto.as_bytes());
        for format in &self.formats {
            out.push(b' ');
            out.extend_from_slice(format.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        write_opt(out, b"i=", &self.information);
        if let Some(c) = &self.connection {
            c.write(out);
        }
        write_all(out, b"b=", &self.bandwidths);
        write_opt(out, b"k=", &self.key);
        for attribute in &self.attributes {
            attribute.write(out);
        }
    }

    /// The same media description, owning its text.
    pub fn into_owned(self) -> Media<'static> {
        Media {
            media: own(self.media),
            port: self.port,
            port_count: self.port_count,
            proto: own(self.proto),
            formats: self.formats.into_iter().map(own).collect(),
            information: self.information.map(own),
            connection: self.connection.map(Connection::into_owned),
            bandwidths: self.bandwidths.into_iter().map(own).collect(),
            key: self.key.map(own),
            attributes: self
                .attributes
                .into_iter()
                .map(Attribute::into_owned)
                .collect(),
        }
    }
}

fn direction_of(attributes: &[Attribute<'_>]) -> Option<Direction> {
    attributes.iter().find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}

fn write_opt(out: &mut Vec<u8>, prefix: &[u8], value: &Option<Cow<'_, str>>) {
    if let Some(value) = value {
        write_line(out, prefix, value);
    }
}

fn write_all(out: &mut Vec<u8>, prefix: &[u8], values: &[Cow<'_, str>]) {
    for value in values {
        write_line(out, prefix, value);
    }
}

fn write_line(out: &mut Vec<u8>, prefix: &[u8], value: &str) {
    out.extend_from_slice(prefix);
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

impl Connection<'_> {
    /// Appends the `c=` line.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"c=");
        out.extend_from_slice(self.net_type.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.addr_type.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.address.as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// The same line, owning its text.
    pub fn into_owned(self) -> Connection<'static> {
        Connection {
            net_type: own(self.net_type),
            addr_type: own(self.addr_type),
            address: own(self.address),
        }
    }
}

impl Origin<'_> {
    /// Appends the `o=` line.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"o=");
        out.extend_from_slice(self.username.as_bytes());
        out.push(b' ');
        push_decimal(out, self.session_id);
        out.push(b' ');
        push_decimal(out, self.session_version);
        out.push(b' ');
        out.extend_from_slice(self.net_type.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.addr_type.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.unicast_address.as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// The same line, owning its text.
    pub fn into_owned(self) -> Origin<'static> {
        Origin {
            username: own(self.username),
            session_id: self.session_id,
            session_version: self.session_version,
            net_type: own(self.net_type),
            addr_type: own(self.addr_type),
            unicast_address: own(self.unicast_address),
        }
    }
}

impl Timing<'_> {
    /// Appends the `t=` line and its `r=` lines.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"t=");
        push_decimal(out, self.start);
        out.push(b' ');
        push_decimal(out, self.stop);
        out.extend_from_slice(b"\r\n");
        write_all(out, b"r=", &self.repeats);
    }

    /// A copy borrowing these lines' text.
    pub fn borrowed(&self) -> Timing<'_> {
        Timing {
            start: self.start,
            stop: self.stop,
            repeats: self.repeats.iter().map(|r| Cow::Borrowed(&**r)).collect(),
        }
    }

    /// The same lines, owning their text.
    pub fn into_owned(self) -> Timing<'static> {
        Timing {
            start: self.start,
            stop: self.stop,
            repeats: self.repeats.into_iter().map(own).collect(),
        }
    }
}

impl<'a> SessionDescription<'a> {
    /// A description with the given origin, session name `-`, no connection,
    /// `t=0 0`, and no attributes or media: the skeleton builders fill in.
    pub fn new(origin: Origin<'a>) -> Self {
        Self {
            origin,
            session_name: Cow::Borrowed("-"),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            times: SmallVec::from_buf([Timing::unbounded()]),
            time_zones: None,
            key: None,
            attributes: SmallVec::new(),
            media: SmallVec::new(),
        }
    }

    /// The session-level direction attribute, if present.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }

    /// The direction in force for `media`: its own direction attribute, else
    /// the session-level one, else `sendrecv` (RFC 4566 §6).
    pub fn media_direction(&self, media: &Media<'_>) -> Direction {
        media
            .direction()
            .or_else(|| self.direction())
            .unwrap_or(Direction::SendRecv)
    }

    /// The connection in force for `media`: its own `c=`, else the
    /// session-level one.
    pub fn media_connection<'m>(&'m self, media: &'m Media<'a>) -> Option<&'m Connection<'a>> {
        media.connection.as_ref().or(self.connection.as_ref())
    }

    /// The first MSRP media description with a non-zero port, with its index.
    pub fn msrp_media(&self) -> Option<(usize, &Media<'a>)> {
        self.media
            .iter()
            .enumerate()
            .find(|(_, m)| m.port != 0 && m.msrp_transport().is_some())
    }

    /// Appends the description in canonical form: lines in RFC 4566 order,
    /// `<type>=<value>` with no spaces around `=`, CRLF line ends.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"v=0\r\n");
        self.origin.write(out);
        let name: &str = if self.session_name.is_empty() {
            " "
        } else {
            &self.session_name
        };
        write_line(out, b"s=", name);
        write_opt(out, b"i=", &self.information);
        write_opt(out, b"u=", &self.uri);
        write_all(out, b"e=", &self.emails);
        write_all(out, b"p=", &self.phones);
        if let Some(c) = &self.connection {
            c.write(out);
        }
        write_all(out, b"b=", &self.bandwidths);
        for timing in &self.times {
            timing.write(out);
        }
        write_opt(out, b"z=", &self.time_zones);
        write_opt(out, b"k=", &self.key);
        for attribute in &self.attributes {
            attribute.write(out);
        }
        for media in &self.media {
            media.write(out);
        }
    }

    /// The description written into a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.write(&mut out);
        out
    }

    /// The same description, owning all its text, so it outlives the input.
    pub fn into_owned(self) -> SessionDescription<'static> {
        SessionDescription {
            origin: self.origin.into_owned(),
            session_name: own(self.session_name),
            information: self.information.map(own),
            uri: self.uri.map(own),
            emails: self.emails.into_iter().map(own).collect(),
            phones: self.phones.into_iter().map(own).collect(),
            connection: self.connection.map(Connection::into_owned),
            bandwidths: self.bandwidths.into_iter().map(own).collect(),
            times: self.times.into_iter().map(Timing::into_owned).collect(),
            time_zones: self.time_zones.map(own),
            key: self.key.map(own),
            attributes: self
                .attributes
                .into_iter()
                .map(Attribute::into_owned)
                .collect(),
            media: self.media.into_iter().map(Media::into_owned).collect(),
        }
    }

    /// An owned copy that outlives the input.
    pub fn to_owned_description(&self) -> SessionDescription<'static> {
        self.clone().into_owned()
    }
}
