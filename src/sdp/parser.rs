//! The line-oriented SDP parser: one pass over the input, each line split
//! with `memchr`, every field borrowed from the input.

use std::borrow::Cow;

use memchr::memchr;
use smallvec::SmallVec;

use super::attribute::Attribute;
use super::description::{Connection, Media, Origin, SessionDescription, Timing};
use super::error::{SdpError, SdpErrorKind};
use super::text::{parse_u16, parse_u64, tokens, trim};
use super::Limits;

/// The session-level state while lines are read.
struct Session<'a> {
    version_seen: bool,
    origin: Option<Origin<'a>>,
    session_name: Option<Cow<'a, str>>,
    information: Option<Cow<'a, str>>,
    uri: Option<Cow<'a, str>>,
    emails: Vec<Cow<'a, str>>,
    phones: Vec<Cow<'a, str>>,
    connection: Option<Connection<'a>>,
    bandwidths: Vec<Cow<'a, str>>,
    times: SmallVec<[Timing<'a>; 1]>,
    time_zones: Option<Cow<'a, str>>,
    key: Option<Cow<'a, str>>,
    attributes: SmallVec<[Attribute<'a>; 2]>,
    media: SmallVec<[Media<'a>; 1]>,
    /// Offset of each `m=` line, for a missing-connection error.
    media_offsets: SmallVec<[usize; 1]>,
}

fn err(kind: SdpErrorKind, offset: usize) -> SdpError {
    SdpError::new(kind, offset)
}

/// Sets a field that may appear once per level.
fn set_once<'a>(
    slot: &mut Option<Cow<'a, str>>,
    value: &'a str,
    offset: usize,
) -> Result<(), SdpError> {
    if slot.is_some() {
        return Err(err(SdpErrorKind::Duplicate, offset));
    }
    *slot = Some(Cow::Borrowed(value));
    Ok(())
}

pub(crate) fn parse<'a>(
    input: &'a [u8],
    limits: &Limits,
) -> Result<SessionDescription<'a>, SdpError> {
    if input.len() > limits.max_size {
        return Err(err(SdpErrorKind::TooLarge, limits.max_size));
    }
    let text =
        std::str::from_utf8(input).map_err(|e| err(SdpErrorKind::NotUtf8, e.valid_up_to()))?;
    let mut session = Session {
        version_seen: false,
        origin: None,
        session_name: None,
        information: None,
        uri: None,
        emails: Vec::new(),
        phones: Vec::new(),
        connection: None,
        bandwidths: Vec::new(),
        times: SmallVec::new(),
        time_zones: None,
        key: None,
        attributes: SmallVec::new(),
        media: SmallVec::new(),
        media_offsets: SmallVec::new(),
    };
    let mut lines = 0usize;
    let mut pos = 0usize;
    while pos < text.len() {
        let end = memchr(b'\n', &input[pos..]).map_or(text.len(), |i| pos + i);
        let line_offset = pos;
        let raw = text.get(pos..end).unwrap_or("");
        pos = end.saturating_add(1);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.bytes().all(|b| b == b' ' || b == b'\t') {
            continue;
        }
        lines += 1;
        if lines > limits.max_lines {
            return Err(err(SdpErrorKind::TooManyLines, line_offset));
        }
        if let Some(bad) = memchr::memchr2(b'\r', b'\0', line.as_bytes()) {
            return Err(err(SdpErrorKind::InvalidCharacter, line_offset + bad));
        }
        session.line(line, line_offset, limits)?;
    }
    session.finish(text.len())
}

impl<'a> Session<'a> {
    fn line(&mut self, line: &'a str, offset: usize, limits: &Limits) -> Result<(), SdpError> {
        let mut chars = line.chars();
        let kind = chars.next().unwrap_or(' ');
        let after_kind = chars.as_str();
        let rest = after_kind.trim_start_matches(super::text::is_space);
        let value_start = offset + line.len() - rest.len();
        let Some(value) = rest.strip_prefix('=') else {
            let kind = if self.version_seen {
                SdpErrorKind::MalformedLine
            } else {
                SdpErrorKind::NotSdp
            };
            return Err(err(kind, offset));
        };
        if !kind.is_ascii_lowercase() {
            let kind = if self.version_seen {
                SdpErrorKind::MalformedLine
            } else {
                SdpErrorKind::NotSdp
            };
            return Err(err(kind, offset));
        }
        let (at, value) = trim(value, value_start + 1);
        if !self.version_seen {
            if kind != 'v' {
                return Err(err(SdpErrorKind::NotSdp, offset));
            }
            if value != "0" {
                return Err(err(SdpErrorKind::UnsupportedVersion, at));
            }
            self.version_seen = true;
            return Ok(());
        }
        if kind != 'm' {
            if let Some(media) = self.media.last_mut() {
                return media_line(media, kind, value, at, offset, limits);
            }
        }
        match kind {
            'v' => Err(err(SdpErrorKind::Duplicate, offset)),
            'o' => {
                if self.origin.is_some() {
                    return Err(err(SdpErrorKind::Duplicate, offset));
                }
                self.origin = Some(origin(value, at)?);
                Ok(())
            }
            's' => set_once(&mut self.session_name, value, offset),
            'i' => set_once(&mut self.information, value, offset),
            'u' => set_once(&mut self.uri, value, offset),
            'e' => {
                self.emails.push(Cow::Borrowed(value));
                Ok(())
            }
            'p' => {
                self.phones.push(Cow::Borrowed(value));
                Ok(())
            }
            'c' => {
                if self.connection.is_some() {
                    return Err(err(SdpErrorKind::Duplicate, offset));
                }
                self.connection = Some(connection(value, at)?);
                Ok(())
            }
            'b' => {
                self.bandwidths.push(bandwidth(value, at)?);
                Ok(())
            }
            't' => {
                self.times.push(timing(value, at)?);
                Ok(())
            }
            'r' => match self.times.last_mut() {
                Some(timing) => {
                    timing.repeats.push(Cow::Borrowed(value));
                    Ok(())
                }
                None => Err(err(SdpErrorKind::UnexpectedLine, offset)),
            },
            'z' => set_once(&mut self.time_zones, value, offset),
            'k' => set_once(&mut self.key, value, offset),
            'a' => {
                if self.attributes.len() == limits.max_attributes {
                    return Err(err(SdpErrorKind::TooManyAttributes, offset));
                }
                self.attributes.push(Attribute::parse(value, at, limits)?);
                Ok(())
            }
            'm' => {
                if self.media.len() == limits.max_media {
                    return Err(err(SdpErrorKind::TooManyMedia, offset));
                }
                self.media.push(media(value, at)?);
                self.media_offsets.push(offset);
                Ok(())
            }
            _ => Err(err(SdpErrorKind::UnknownType, offset)),
        }
    }

    fn finish(self, end: usize) -> Result<SessionDescription<'a>, SdpError> {
        if !self.version_seen {
            return Err(err(SdpErrorKind::NotSdp, 0));
        }
        let origin = self
            .origin
            .ok_or_else(|| err(SdpErrorKind::MissingOrigin, end))?;
        let session_name = self
            .session_name
            .ok_or_else(|| err(SdpErrorKind::MissingSessionName, end))?;
        if self.times.is_empty() {
            return Err(err(SdpErrorKind::MissingTiming, end));
        }
        if self.connection.is_none() {
            if let Some((_, at)) = self
                .media
                .iter()
                .zip(&self.media_offsets)
                .find(|(m, _)| m.connection.is_none())
            {
                return Err(err(SdpErrorKind::MissingConnection, *at));
            }
        }
        Ok(SessionDescription {
            origin,
            session_name,
            information: self.information,
            uri: self.uri,
            emails: self.emails,
            phones: self.phones,
            connection: self.connection,
            bandwidths: self.bandwidths,
            times: self.times,
            time_zones: self.time_zones,
            key: self.key,
            attributes: self.attributes,
            media: self.media,
        })
    }
}

/// A line other than `m=` inside a media description.
fn media_line<'a>(
    media: &mut Media<'a>,
    kind: char,
    value: &'a str,
    at: usize,
    offset: usize,
    limits: &Limits,
) -> Result<(), SdpError> {
    match kind {
        'i' => set_once(&mut media.information, value, offset),
        'c' => {
            if media.connection.is_some() {
                return Err(err(SdpErrorKind::Duplicate, offset));
            }
            media.connection = Some(connection(value, at)?);
            Ok(())
        }
        'b' => {
            media.bandwidths.push(bandwidth(value, at)?);
            Ok(())
        }
        'k' => set_once(&mut media.key, value, offset),
        'a' => {
            if media.attributes.len() == limits.max_attributes {
                return Err(err(SdpErrorKind::TooManyAttributes, offset));
            }
            media.attributes.push(Attribute::parse(value, at, limits)?);
            Ok(())
        }
        'v' | 'o' | 's' | 'u' | 'e' | 'p' | 't' | 'r' | 'z' => {
            Err(err(SdpErrorKind::UnexpectedLine, offset))
        }
        _ => Err(err(SdpErrorKind::UnknownType, offset)),
    }
}

/// `<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
fn origin(value: &str, at: usize) -> Result<Origin<'_>, SdpError> {
    let invalid = |at| err(SdpErrorKind::InvalidOrigin, at);
    let mut fields = tokens(value, at);
    let mut next = || fields.next().ok_or_else(|| invalid(at));
    let (_, username) = next()?;
    let (id_at, id) = next()?;
    let (version_at, version) = next()?;
    let (_, net_type) = next()?;
    let (_, addr_type) = next()?;
    let (_, address) = next()?;
    if let Some((extra, _)) = fields.next() {
        return Err(invalid(extra));
    }
    Ok(Origin {
        username: Cow::Borrowed(username),
        session_id: parse_u64(id).ok_or_else(|| invalid(id_at))?,
        session_version: parse_u64(version).ok_or_else(|| invalid(version_at))?,
        net_type: Cow::Borrowed(net_type),
        addr_type: Cow::Borrowed(addr_type),
        unicast_address: Cow::Borrowed(address),
    })
}

/// `<nettype> <addrtype> <connection-address>`.
fn connection(value: &str, at: usize) -> Result<Connection<'_>, SdpError> {
    let mut fields = tokens(value, at);
    match (fields.next(), fields.next(), fields.next(), fields.next()) {
        (Some((_, net_type)), Some((_, addr_type)), Some((_, address)), None) => Ok(Connection {
            net_type: Cow::Borrowed(net_type),
            addr_type: Cow::Borrowed(addr_type),
            address: Cow::Borrowed(address),
        }),
        (_, _, _, Some((extra, _))) => Err(err(SdpErrorKind::InvalidConnection, extra)),
        _ => Err(err(SdpErrorKind::InvalidConnection, at)),
    }
}

/// `<bwtype>:<bandwidth>`.
fn bandwidth(value: &str, at: usize) -> Result<Cow<'_, str>, SdpError> {
    match value.split_once(':') {
        Some((ty, bw)) if !ty.is_empty() && parse_u64(bw).is_some() => Ok(Cow::Borrowed(value)),
        _ => Err(err(SdpErrorKind::InvalidBandwidth, at)),
    }
}

/// `<start-time> <stop-time>`.
fn timing(value: &str, at: usize) -> Result<Timing<'_>, SdpError> {
    let mut fields = tokens(value, at);
    match (fields.next(), fields.next(), fields.next()) {
        (Some((start_at, start)), Some((stop_at, stop)), None) => Ok(Timing {
            start: parse_u64(start).ok_or_else(|| err(SdpErrorKind::InvalidTiming, start_at))?,
            stop: parse_u64(stop).ok_or_else(|| err(SdpErrorKind::InvalidTiming, stop_at))?,
            repeats: Vec::new(),
        }),
        (_, _, Some((extra, _))) => Err(err(SdpErrorKind::InvalidTiming, extra)),
        _ => Err(err(SdpErrorKind::InvalidTiming, at)),
    }
}

/// `<media> <port>[/<number of ports>] <proto> 1*(SP <fmt>)`.
fn media(value: &str, at: usize) -> Result<Media<'_>, SdpError> {
    let invalid = |at| err(SdpErrorKind::InvalidMedia, at);
    let mut fields = tokens(value, at);
    let (_, media) = fields.next().ok_or_else(|| invalid(at))?;
    let (port_at, port_field) = fields.next().ok_or_else(|| invalid(at))?;
    let (port, port_count) = match port_field.split_once('/') {
        Some((port, count)) => (
            port,
            Some(parse_u16(count).ok_or_else(|| invalid(port_at))?),
        ),
        None => (port_field, None),
    };
    let port = parse_u16(port).ok_or_else(|| invalid(port_at))?;
    let (_, proto) = fields.next().ok_or_else(|| invalid(at))?;
    let formats: SmallVec<[Cow<'_, str>; 1]> = fields.map(|(_, f)| Cow::Borrowed(f)).collect();
    if formats.is_empty() {
        return Err(invalid(at));
    }
    Ok(Media {
        media: Cow::Borrowed(media),
        port,
        port_count,
        proto: Cow::Borrowed(proto),
        formats,
        information: None,
        connection: None,
        bandwidths: Vec::new(),
        key: None,
        attributes: SmallVec::new(),
    })
}
