//! MSRP URIs (RFC 4975 §6 and §9):
//! `msrp-scheme "://" authority ["/" session-id] ";" transport *( ";" URI-parameter)`.

use std::fmt;

use super::error::{MsrpError, MsrpErrorKind};
use super::syntax::{is_sub_delim, is_token_str, is_unreserved};

/// `msrp` or `msrps` (MSRP over TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `msrp`.
    Msrp,
    /// `msrps`: the connection must use TLS.
    Msrps,
}

impl Scheme {
    /// The scheme as written (lower case).
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Msrp => "msrp",
            Scheme::Msrps => "msrps",
        }
    }
}

/// An MSRP URI, borrowing the text it was parsed from.
///
/// `==` compares every part exactly. [`MsrpUri::matches`] is the comparison of
/// RFC 4975 §6.1, which MSRP endpoints use to match a received URI against
/// their own.
///
/// ```
/// use oma_im::msrp::{MsrpUri, Scheme};
///
/// let uri = MsrpUri::parse("msrp://alice@[2001:db8::1]:7777/iau39soe2843z;tcp;x=1")?;
/// assert_eq!(uri.scheme, Scheme::Msrp);
/// assert_eq!(uri.userinfo, Some("alice"));
/// assert_eq!(uri.host, "[2001:db8::1]");
/// assert_eq!(uri.port, Some(7777));
/// assert_eq!(uri.session_id, Some("iau39soe2843z"));
/// assert_eq!(uri.transport, "tcp");
/// assert_eq!(uri.params().collect::<Vec<_>>(), [("x", Some("1"))]);
/// let other = MsrpUri::parse("MSRP://Alice@[2001:DB8::1]:7777/iau39soe2843z;TCP")?;
/// assert!(uri.matches(&other));
/// # Ok::<(), oma_im::msrp::MsrpError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsrpUri<'a> {
    /// `msrp` or `msrps`.
    pub scheme: Scheme,
    /// The userinfo of the authority, without the `@`.
    pub userinfo: Option<&'a str>,
    /// The host: a name, an IPv4 address, or an IPv6 literal in brackets.
    pub host: &'a str,
    /// The port.
    pub port: Option<u16>,
    /// The session-id (after the `/`).
    pub session_id: Option<&'a str>,
    /// The transport, `tcp` for plain MSRP.
    pub transport: &'a str,
    /// The URI-parameters after the transport, without the leading `;`
    /// (for example `a=b;c`); see [`MsrpUri::params`].
    pub params: Option<&'a str>,
}

fn err(offset: usize) -> MsrpError {
    MsrpError::new(MsrpErrorKind::InvalidUri, offset)
}

/// The octets of `userinfo` (unreserved, sub-delims and `:`), of a host
/// name (`reg-name` without `;`, which ends it) and of a `session-id`
/// (unreserved, `+`, `=` and `/`), as tables.
static USERINFO: [bool; 256] = table(0);
static HOST: [bool; 256] = table(1);
static SESSION: [bool; 256] = table(2);

const fn table(part: u8) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = match part {
            0 => is_unreserved(c) || is_sub_delim(c) || c == b':',
            1 => is_unreserved(c) || (is_sub_delim(c) && c != b';'),
            _ => is_unreserved(c) || matches!(c, b'+' | b'=' | b'/'),
        };
        i += 1;
    }
    t
}

/// Checks a run of `allowed` octets and `pct-encoded` triplets.
fn check_chars(s: &str, base: usize, allowed: &[bool; 256]) -> Result<(), MsrpError> {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if allowed[usize::from(c)] {
            i += 1;
        } else if c == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return Err(err(base + i)),
            }
        } else {
            return Err(err(base + i));
        }
    }
    Ok(())
}

/// Where the octet `c` first is in `s` (an ASCII delimiter: a whole
/// character, never inside another's encoding).
fn find(s: &str, c: u8) -> Option<usize> {
    memchr::memchr(c, s.as_bytes())
}

impl<'a> MsrpUri<'a> {
    /// Parses one MSRP URI. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<Self, MsrpError> {
        let (scheme, mut at) = if starts_with_ignore_case(s, "msrps://") {
            (Scheme::Msrps, 8)
        } else if starts_with_ignore_case(s, "msrp://") {
            (Scheme::Msrp, 7)
        } else {
            return Err(err(0));
        };
        let rest = s.get(at..).ok_or(err(at))?;
        // `@` can occur only in the userinfo: neither session-id, transport
        // nor URI-parameter tokens allow it.
        let (userinfo, rest) = match find(rest, b'@') {
            Some(i) => {
                let user = &rest[..i];
                check_chars(user, at, &USERINFO)?;
                at += i + 1;
                (Some(user), &rest[i + 1..])
            }
            None => (None, rest),
        };
        let end = memchr::memchr2(b'/', b';', rest.as_bytes()).unwrap_or(rest.len());
        let (host, port) = split_host_port(&rest[..end], at)?;
        at += end;
        let mut rest = &rest[end..];
        let session_id = match rest.strip_prefix('/') {
            Some(after) => {
                let end = find(after, b';').unwrap_or(after.len());
                let id = &after[..end];
                if id.is_empty() {
                    return Err(err(at + 1));
                }
                check_chars(id, at + 1, &SESSION)?;
                at += 1 + end;
                rest = &after[end..];
                Some(id)
            }
            None => None,
        };
        let after = rest.strip_prefix(';').ok_or(err(at))?;
        at += 1;
        let (transport, params) = match find(after, b';') {
            Some(i) => (&after[..i], Some(&after[i + 1..])),
            None => (after, None),
        };
        if transport.is_empty() || !transport.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(err(at));
        }
        if let Some(params) = params {
            let mut p_at = at + transport.len() + 1;
            for param in params.split(';') {
                let valid = match param.split_once('=') {
                    Some((name, value)) => is_token_str(name) && is_token_str(value),
                    None => is_token_str(param),
                };
                if !valid {
                    return Err(err(p_at));
                }
                p_at += param.len() + 1;
            }
        }
        Ok(Self {
            scheme,
            userinfo,
            host,
            port,
            session_id,
            transport,
            params,
        })
    }

    /// The URI-parameters as `(name, value)` pairs.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> {
        self.params
            .into_iter()
            .flat_map(|p| p.split(';'))
            .map(|p| match p.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            })
    }

    /// The URI comparison of RFC 4975 §6.1: equal schemes, hosts (ignoring
    /// case), ports, session-ids (case-sensitive) and transports (ignoring
    /// case). Userinfo and URI-parameters take no part.
    pub fn matches(&self, other: &MsrpUri<'_>) -> bool {
        self.scheme == other.scheme
            && self.host.eq_ignore_ascii_case(other.host)
            && self.port == other.port
            && self.session_id == other.session_id
            && self.transport.eq_ignore_ascii_case(other.transport)
    }

    /// Appends the URI in canonical form (lower-case scheme).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.scheme.as_str().as_bytes());
        out.extend_from_slice(b"://");
        if let Some(user) = self.userinfo {
            out.extend_from_slice(user.as_bytes());
            out.push(b'@');
        }
        out.extend_from_slice(self.host.as_bytes());
        if let Some(port) = self.port {
            out.push(b':');
            crate::decimal::push_decimal(out, u64::from(port));
        }
        if let Some(id) = self.session_id {
            out.push(b'/');
            out.extend_from_slice(id.as_bytes());
        }
        out.push(b';');
        out.extend_from_slice(self.transport.as_bytes());
        if let Some(params) = self.params {
            out.push(b';');
            out.extend_from_slice(params.as_bytes());
        }
    }
}

impl fmt::Display for MsrpUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Splits `host [":" port]`; the host is an IPv6 literal in brackets or a
/// reg-name / IPv4 address.
fn split_host_port(s: &str, base: usize) -> Result<(&str, Option<u16>), MsrpError> {
    let (host, rest) = if s.starts_with('[') {
        let close = find(s, b']').ok_or(err(base))?;
        let inner = &s[1..close];
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return Err(err(base + 1));
        }
        (&s[..=close], &s[close + 1..])
    } else {
        let end = find(s, b':').unwrap_or(s.len());
        let host = &s[..end];
        if host.is_empty() {
            return Err(err(base));
        }
        check_chars(host, base, &HOST)?;
        (host, &s[end..])
    };
    let port_at = base + host.len();
    let port = match rest.strip_prefix(':') {
        Some(digits) => {
            if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|c| c.is_ascii_digit())
            {
                return Err(err(port_at + 1));
            }
            Some(digits.parse::<u16>().map_err(|_| err(port_at + 1))?)
        }
        None if rest.is_empty() => None,
        None => return Err(err(port_at)),
    };
    Ok((host, port))
}
