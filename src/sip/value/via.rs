//! Via (RFC 3261 §20.42; IPv6 per RFC 5118; `rport` per RFC 3581).

use std::net::IpAddr;

use crate::sip::lex::{self, Param, Params};
use crate::sip::uri::{parse_port, scan_host, Host, HostEnd};
use crate::sip::{ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// One via-parm: `SIP/2.0/UDP host:port;branch=...;received=...`.
///
/// A Via header may hold several, comma-separated: parse them with
/// [`value::list`](super::list) or the message accessor `via()`.
///
/// ```
/// use oma_im::sip::{Host, Via};
///
/// let via = Via::parse("SIP / 2.0 / UDP [2001:db8::9:1];branch=z9hG4bKas3-111;received=2001:db8::9:255;rport").unwrap();
/// assert_eq!(via.transport, "UDP");
/// assert_eq!(via.host, Host::Ipv6("2001:db8::9:1".parse().unwrap()));
/// assert_eq!(via.branch(), Some("z9hG4bKas3-111"));
/// assert_eq!(via.received(), Some("2001:db8::9:255".parse().unwrap()));
/// assert_eq!(via.rport(), Some(None));
/// assert_eq!(via.to_string(), "SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111;received=2001:db8::9:255;rport");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via<'a> {
    /// The protocol name, normally `SIP`.
    pub protocol_name: &'a str,
    /// The protocol version, normally `2.0`.
    pub protocol_version: &'a str,
    /// The transport (`UDP`, `TCP`, `TLS`, `SCTP`, ...), as written.
    pub transport: &'a str,
    /// The sent-by host.
    pub host: Host<'a>,
    /// The sent-by port.
    pub port: Option<u16>,
    /// The via-params, in order. `received`, `rport`, `maddr` and `ttl` were
    /// checked when parsing.
    pub params: Params<'a>,
}

impl<'a> Via<'a> {
    /// Parses one via-parm under `limits`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let b = value.as_bytes();
        let (protocol_name, protocol_version, i) = match value.get(..8) {
            // The usual sent-protocol, without LWS: what the general path
            // below would find, without the scanning.
            Some("SIP/2.0/") => ("SIP", "2.0", 8),
            _ => {
                let (name, i) = lex::token(value, lex::skip_lws(value, 0))?;
                let i = slash(value, i)?;
                let (version, i) = lex::token(value, i)?;
                (name, version, slash(value, i)?)
            }
        };
        let (transport, i) = lex::token(value, i)?;
        let start = lex::skip_lws(value, i);
        if start == i {
            return Err(ValueError::new(ValueErrorKind::Expected(' '), i));
        }
        // sent-by host: to ':' (outside brackets), ';', ',' or LWS.
        let (host, end) = if b.get(start) == Some(&b'[') {
            let end = value
                .get(start..)
                .and_then(|r| r.find(']'))
                .map(|p| start + p + 1)
                .ok_or(ValueError::new(ValueErrorKind::InvalidIpv6, start))?;
            let host_text = value.get(start..end).unwrap_or_default();
            let host = Host::parse(host_text, false).map_err(|e| e.shifted(start))?;
            (host, end)
        } else {
            let scan = scan_host(b, start, HostEnd::Via)?;
            let host_text = value.get(start..scan.end).unwrap_or_default();
            let host = scan.host(host_text).map_err(|e| e.shifted(start))?;
            (host, scan.end)
        };
        let mut i = end;
        let mut port = None;
        let c = lex::skip_lws(value, i);
        if b.get(c) == Some(&b':') {
            let p_at = lex::skip_lws(value, c + 1);
            let bad = ValueError::new(ValueErrorKind::InvalidPort, p_at);
            let (mut p_end, mut n) = (p_at, 0u32);
            while let Some(d) = b.get(p_end).filter(|d| d.is_ascii_digit()) {
                n = n * 10 + u32::from(d - b'0');
                if n > u32::from(u16::MAX) {
                    return Err(bad);
                }
                p_end += 1;
            }
            if p_end == p_at {
                return Err(bad);
            }
            port = Some(u16::try_from(n).map_err(|_| bad)?);
            i = p_end;
        }
        // The values of the parameters with a defined syntax are checked
        // as the parameters are found; the first bad one is reported once
        // the whole value has parsed.
        let mut bad_param = None;
        let (params, end) = lex::generic_params_checked(value, i, limits, |p| {
            if bad_param.is_none() && !param_ok(&p) {
                bad_param = Some(lex::offset_in(value, p.value.unwrap_or(p.name)));
            }
        })?;
        lex::expect_end(value, end)?;
        if let Some(at) = bad_param {
            return Err(ValueError::new(ValueErrorKind::InvalidParamValue, at));
        }
        Ok(Via {
            protocol_name,
            protocol_version,
            transport,
            host,
            port,
            params,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.params.get("branch").flatten()
    }

    /// The `received` parameter: an IPv4 address, or an IPv6 address with or
    /// without brackets (RFC 5118 §4.5).
    pub fn received(&self) -> Option<IpAddr> {
        self.params.get("received").flatten().and_then(parse_ip)
    }

    /// The `rport` parameter (RFC 3581): `Some(None)` when present without a
    /// value (a request asking for it), `Some(Some(port))` when filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| parse_port(p).ok()))
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<Host<'a>> {
        self.params
            .get("maddr")
            .flatten()
            .and_then(|h| Host::parse(h, false).ok())
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.params
            .get("ttl")
            .flatten()
            .and_then(|t| t.parse().ok())
    }

    /// Appends the via-parm in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.protocol_name.as_bytes());
        out.push(b'/');
        out.extend_from_slice(self.protocol_version.as_bytes());
        out.push(b'/');
        out.extend_from_slice(self.transport.as_bytes());
        out.push(b' ');
        self.host.write(out);
        if let Some(p) = self.port {
            out.push(b':');
            crate::decimal::push_decimal(out, u64::from(u32::from(p)));
        }
        self.params.write(out);
    }
}

value_type!(Via<'a>);

/// `false` when `p` is a via-param with a defined syntax (`received`,
/// `rport`, `ttl`, `maddr`, `branch`) whose value breaks it. Names are
/// told apart by length first.
fn param_ok(p: &Param<'_>) -> bool {
    let name = p.name;
    let is = |known: &str| name.len() == known.len() && name.eq_ignore_ascii_case(known);
    match p.value {
        None => !(is("received") || is("maddr") || is("ttl") || is("branch")),
        Some(v) => {
            if is("received") {
                parse_ip(v).is_some()
            } else if is("rport") {
                parse_port(v).is_ok()
            } else if is("ttl") {
                v.parse::<u8>().is_ok() && v.bytes().all(|c| c.is_ascii_digit())
            } else if is("maddr") {
                Host::parse(v, false).is_ok()
            } else {
                true
            }
        }
    }
}

/// Skips `LWS "/" LWS`.
fn slash(s: &str, i: usize) -> Result<usize, ValueError> {
    let j = lex::skip_lws(s, i);
    if s.as_bytes().get(j) != Some(&b'/') {
        return Err(ValueError::new(ValueErrorKind::InvalidProtocol, j));
    }
    Ok(lex::skip_lws(s, j + 1))
}

/// An IPv4 address, or an IPv6 address with or without brackets.
fn parse_ip(v: &str) -> Option<IpAddr> {
    let inner = v
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(v);
    inner.parse().ok()
}
