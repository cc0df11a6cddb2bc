//! URIs as they appear in SIP: `sip:` / `sips:` (RFC 3261 §19.1, IPv6 per
//! RFC 5118), `tel:` (RFC 3966), and any other scheme kept opaque.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use smallvec::SmallVec;

use super::lex::{Param, Params};
use super::value::{ValueError, ValueErrorKind, ValueLimits};

/// A parsed URI, borrowing the text it was parsed from.
///
/// ```
/// use oma_im::sip::{Host, Uri};
///
/// let uri = Uri::parse("sip:alice@[2001:db8::10]:5070;transport=tcp;lr").unwrap();
/// let Uri::Sip(sip) = &uri else { panic!("not a SIP URI") };
/// assert_eq!(sip.user, Some("alice"));
/// assert_eq!(sip.host, Host::Ipv6("2001:db8::10".parse().unwrap()));
/// assert_eq!(sip.port, Some(5070));
/// assert_eq!(sip.transport(), Some("tcp"));
/// assert!(sip.lr());
/// assert_eq!(uri.to_string(), "sip:alice@[2001:db8::10]:5070;transport=tcp;lr");
///
/// // Angle brackets belong to name-addr, not to the URI.
/// assert!(Uri::parse("<sip:a@b>").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri<'a> {
    /// A `sip:` or `sips:` URI.
    Sip(SipUri<'a>),
    /// A `tel:` URI.
    Tel(TelUri<'a>),
    /// Any other scheme, kept as written.
    Other {
        /// The scheme, without the `:`.
        scheme: &'a str,
        /// Everything after the `:`.
        rest: &'a str,
    },
}

/// A `sip:` or `sips:` URI (RFC 3261 §19.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri<'a> {
    /// `true` for `sips:`.
    pub secure: bool,
    /// The user part, escapes kept (see [`percent_decode`]).
    pub user: Option<&'a str>,
    /// The password after `user:`, escapes kept.
    pub password: Option<&'a str>,
    /// The host.
    pub host: Host<'a>,
    /// The port, if given.
    pub port: Option<u16>,
    /// The uri-parameters, in order, escapes kept.
    pub params: Params<'a>,
    /// The headers after `?`, in order, escapes kept.
    pub headers: UriHeaders<'a>,
}

/// The headers of a SIP URI: the checked `hname=hvalue *("&" ...)` text
/// after the `?`, read on demand.
#[derive(Debug, Clone, Copy, Default)]
pub struct UriHeaders<'a> {
    text: &'a str,
}

impl<'a> UriHeaders<'a> {
    /// The headers in order.
    pub fn iter(&self) -> UriHeadersIter<'a> {
        UriHeadersIter {
            rest: (!self.text.is_empty()).then_some(self.text),
        }
    }

    /// The header at `index` (0 for the first).
    pub fn get(&self, index: usize) -> Option<UriHeader<'a>> {
        self.iter().nth(index)
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The header text after `?` as written (empty when there is none).
    pub fn as_str(&self) -> &'a str {
        self.text
    }
}

impl PartialEq<UriHeaders<'_>> for UriHeaders<'_> {
    fn eq(&self, other: &UriHeaders<'_>) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for UriHeaders<'_> {}

impl<'a> IntoIterator for &UriHeaders<'a> {
    type Item = UriHeader<'a>;
    type IntoIter = UriHeadersIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The headers of a [`UriHeaders`], in order.
#[derive(Debug, Clone)]
pub struct UriHeadersIter<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for UriHeadersIter<'a> {
    type Item = UriHeader<'a>;

    fn next(&mut self) -> Option<UriHeader<'a>> {
        let rest = self.rest?;
        let (header, more) = match rest.split_once('&') {
            Some((header, more)) => (header, Some(more)),
            None => (rest, None),
        };
        self.rest = more;
        let (name, value) = header.split_once('=').unwrap_or((header, ""));
        Some(UriHeader { name, value })
    }
}

/// One `hname=hvalue` header of a SIP URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriHeader<'a> {
    /// The header name, escapes kept.
    pub name: &'a str,
    /// The header value, escapes kept (may be empty).
    pub value: &'a str,
}

/// A `tel:` URI (RFC 3966): the number and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri<'a> {
    /// The global (`+...`) or local number, visual separators kept.
    pub number: &'a str,
    /// The parameters (`;phone-context=...`, `;ext=...`, ...), in order.
    pub params: Params<'a>,
}

/// The host of a SIP URI or of a Via sent-by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A host name, as written.
    Domain(&'a str),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written `[...]` in a URI, RFC 5118).
    Ipv6(Ipv6Addr),
}

impl<'a> Host<'a> {
    /// Parses a host: a domain name, an IPv4 address, or an IPv6 reference in
    /// brackets. With `bare_ipv6`, an IPv6 address without brackets is also
    /// accepted (the Via `received` parameter, RFC 5118 §4.5).
    pub fn parse(s: &'a str, bare_ipv6: bool) -> Result<Self, ValueError> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or(ValueError::new(ValueErrorKind::InvalidIpv6, 0))?;
            return parse_ipv6_reference(inner)
                .map(Host::Ipv6)
                .ok_or(ValueError::new(ValueErrorKind::InvalidIpv6, 1));
        }
        // One pass over the octets: the first one a host name cannot hold,
        // and the classes seen.
        match scan_host(s.as_bytes(), 0, HostEnd::Whole) {
            Ok(scan) => scan.host(s),
            Err(_) if s.contains(':') => {
                if bare_ipv6 {
                    return s
                        .parse::<Ipv6Addr>()
                        .map(Host::Ipv6)
                        .map_err(|_| ValueError::new(ValueErrorKind::InvalidIpv6, 0));
                }
                Err(ValueError::new(ValueErrorKind::InvalidIpv6, 0))
            }
            Err(e) => Err(e),
        }
    }

    /// Appends the host: IPv6 in brackets.
    pub fn write(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        // Writing into a Vec cannot fail.
        let _ = match self {
            Host::Domain(d) => {
                out.extend_from_slice(d.as_bytes());
                Ok(())
            }
            Host::Ipv4(a) => {
                crate::decimal::push_ipv4(out, *a);
                Ok(())
            }
            Host::Ipv6(a) => write!(out, "[{a}]"),
        };
    }

    /// RFC 3261 host comparison: domain names case-insensitively, addresses by value.
    pub fn matches(&self, other: &Host<'_>) -> bool {
        match (self, other) {
            (Host::Domain(a), Host::Domain(b)) => a.eq_ignore_ascii_case(b),
            (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
            (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
            _ => false,
        }
    }
}

/// [`HOST_CLASS`]: an octet no host name holds.
const HOST_INVALID: u8 = 0;
/// [`HOST_CLASS`] bit: a decimal digit.
const HOST_DIGIT: u8 = 1;
/// [`HOST_CLASS`] bit: `.`.
const HOST_DOT: u8 = 2;
/// [`HOST_CLASS`] bit: a letter, `-` or `_`.
const HOST_OTHER: u8 = 4;

/// The class of every octet in a host name or IPv4 address.
static HOST_CLASS: [u8; 256] = {
    let mut table = [HOST_INVALID; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        table[i] = if c.is_ascii_digit() {
            HOST_DIGIT
        } else if c == b'.' {
            HOST_DOT
        } else if c.is_ascii_alphabetic() || c == b'-' || c == b'_' {
            HOST_OTHER
        } else {
            HOST_INVALID
        };
        i += 1;
    }
    table
};

/// Parses an `IPv4address` the way `Ipv4Addr::from_str` does (four decimal
/// octets of at most three digits, no leading zero, each at most 255), in
/// one pass.
pub(crate) fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).filter(|c| c.is_ascii_digit()).map(|c| c - b'0');
    // The octet whose first digit is at `i`, and the position after it.
    let octet = |i: usize| -> Option<(u8, usize)> {
        let first = digit(i)?;
        let Some(second) = digit(i + 1) else {
            return Some((first, i + 1));
        };
        if first == 0 {
            return None;
        }
        let Some(third) = digit(i + 2) else {
            return Some((first * 10 + second, i + 2));
        };
        let value = u16::from(first) * 100 + u16::from(second) * 10 + u16::from(third);
        Some((u8::try_from(value).ok()?, i + 3))
    };
    let mut octets = [0u8; 4];
    let mut at = 0;
    for (k, slot) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
        (*slot, at) = octet(at)?;
    }
    (at == b.len()).then(|| Ipv4Addr::from(octets))
}

/// Parses the inside of an IPv6 reference. Besides standard text forms, it
/// tolerates the three-colon form `hexpart ":" IPv4address` with a hexpart
/// ending in `::` (`2001:db8:::192.0.2.1`), which the RFC 3261 ABNF allows by
/// mistake; RFC 5118 §4.10 asks receivers to treat it as the two-colon form.
fn parse_ipv6_reference(s: &str) -> Option<Ipv6Addr> {
    if let Ok(a) = s.parse() {
        return Some(a);
    }
    let (head, ipv4) = s.split_once(":::")?;
    ipv4.parse::<Ipv4Addr>().ok()?;
    let mut fixed = arrayvec::ArrayString::<64>::new();
    fixed.try_push_str(head).ok()?;
    fixed.try_push_str("::").ok()?;
    fixed.try_push_str(ipv4).ok()?;
    fixed.parse().ok()
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// `unreserved` = alphanum / mark.
const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

const fn is_user_byte(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/')
}

const fn is_password_byte(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',')
}

const fn is_param_byte(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$')
}

const fn is_header_byte(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$')
}

/// The lookup table of a byte class: `true` for the octets `class` allows.
macro_rules! byte_table {
    ($class:ident) => {{
        let mut table = [false; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = $class(i as u8);
            i += 1;
        }
        table
    }};
}

/// [`is_user_byte`] as a table.
static USER: [bool; 256] = byte_table!(is_user_byte);
/// [`is_password_byte`] as a table.
static PASSWORD: [bool; 256] = byte_table!(is_password_byte);
/// [`is_param_byte`] as a table.
static PARAM: [bool; 256] = byte_table!(is_param_byte);
/// [`is_header_byte`] as a table.
static HEADER: [bool; 256] = byte_table!(is_header_byte);
/// [`is_tel_number_byte`] as a table.
static TEL_NUMBER: [bool; 256] = byte_table!(is_tel_number_byte);

/// Checks that every byte of `s` (at `base` in the URI) is allowed by the
/// table `ok` or is a valid `%hh` escape.
fn check_chars(
    s: &str,
    base: usize,
    ok: &[bool; 256],
    kind: ValueErrorKind,
) -> Result<(), ValueError> {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if ok[usize::from(c)] {
            i += 1;
        } else if c == b'%' {
            let hex = |k: usize| b.get(k).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return Err(ValueError::new(ValueErrorKind::InvalidEscape, base + i));
            }
            i += 3;
        } else {
            return Err(ValueError::new(kind, base + i));
        }
    }
    Ok(())
}

/// Decodes the `%hh` escapes of `s`; borrows when there is none. Invalid
/// escapes are kept as written.
///
/// ```
/// use oma_im::sip::percent_decode;
/// assert_eq!(&*percent_decode("sips%3Auser%40example.com"), b"sips:user@example.com");
/// ```
pub fn percent_decode(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    Cow::Owned(Decoded::new(s).collect())
}

/// Iterator over the bytes of `s` with `%hh` escapes decoded (no allocation).
struct Decoded<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Decoded<'a> {
    fn new(s: &'a str) -> Self {
        Self {
            b: s.as_bytes(),
            i: 0,
        }
    }
}

impl Iterator for Decoded<'_> {
    type Item = u8;
    fn next(&mut self) -> Option<u8> {
        let c = *self.b.get(self.i)?;
        if c == b'%' {
            let hi = self
                .b
                .get(self.i + 1)
                .and_then(|h| (*h as char).to_digit(16));
            let lo = self
                .b
                .get(self.i + 2)
                .and_then(|h| (*h as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                self.i += 3;
                // Two hex digits are at most 0xFF.
                return u8::try_from(hi * 16 + lo).ok();
            }
        }
        self.i += 1;
        Some(c)
    }
}

/// Byte-wise equality after decoding escapes; case-insensitive for ASCII if `ci`.
fn decoded_eq(a: &str, b: &str, ci: bool) -> bool {
    let mut x = Decoded::new(a);
    let mut y = Decoded::new(b);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p == q || (ci && p.eq_ignore_ascii_case(&q)) => {}
            _ => return false,
        }
    }
}

/// Length of the run of user characters (or valid `%hh` escapes) at the
/// start of `b`: the position of the first octet a user part cannot hold.
fn user_chars_end(b: &[u8]) -> usize {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if USER[usize::from(c)] {
            i += 1;
        } else if c == b'%'
            && b.get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
        {
            i += 3;
        } else {
            break;
        }
    }
    i
}

/// Position of the first `byte` in `s` (a short part of a URI: a plain loop
/// beats a vectorised search's set-up).
fn find(s: &str, byte: u8) -> Option<usize> {
    s.bytes().position(|c| c == byte)
}

/// Position of the first `;` or `?` in `b` from `from`, or `b.len()`.
fn param_or_header_start(b: &[u8], from: usize) -> usize {
    b.get(from..)
        .unwrap_or_default()
        .iter()
        .position(|&c| c == b';' || c == b'?')
        .map_or(b.len(), |p| p + from)
}

fn scheme_end(s: &str) -> Result<usize, ValueError> {
    let b = s.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(ValueError::new(ValueErrorKind::InvalidScheme, 0));
    }
    let mut i = 1;
    while b
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        i += 1;
    }
    if b.get(i) != Some(&b':') {
        return Err(ValueError::new(ValueErrorKind::InvalidScheme, i));
    }
    Ok(i)
}

impl<'a> Uri<'a> {
    /// Parses a URI with the default [`ValueLimits`]. The whole string must be
    /// the URI: no surrounding white space or angle brackets.
    pub fn parse(s: &'a str) -> Result<Self, ValueError> {
        Self::parse_with(s, &ValueLimits::DEFAULT)
    }

    /// Parses a URI under `limits`.
    pub fn parse_with(s: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        // The usual lower-case schemes, without scanning for the colon.
        match s.as_bytes().get(..5) {
            Some([b's', b'i', b'p', b':', _]) => {
                let rest = s.get(4..).unwrap_or_default();
                return SipUri::parse_rest(rest, 4, false, limits).map(Uri::Sip);
            }
            Some(b"sips:") => {
                let rest = s.get(5..).unwrap_or_default();
                return SipUri::parse_rest(rest, 5, true, limits).map(Uri::Sip);
            }
            _ => {}
        }
        let colon = scheme_end(s)?;
        let scheme = s.get(..colon).unwrap_or_default();
        let rest = s.get(colon + 1..).unwrap_or_default();
        let base = colon + 1;
        if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
            let secure = scheme.len() == 4;
            SipUri::parse_rest(rest, base, secure, limits).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_rest(rest, base, limits).map(Uri::Tel)
        } else {
            if rest.is_empty() {
                return Err(ValueError::new(ValueErrorKind::Empty, base));
            }
            if let Some(bad) = rest
                .bytes()
                .position(|c| !c.is_ascii_graphic() || matches!(c, b'<' | b'>' | b'"'))
            {
                return Err(ValueError::new(
                    ValueErrorKind::UnexpectedCharacter,
                    base + bad,
                ));
            }
            Ok(Uri::Other { scheme, rest })
        }
    }

    /// The scheme, in canonical lower case for `sip`, `sips` and `tel`.
    pub fn scheme(&self) -> &'a str {
        match self {
            Uri::Sip(u) if u.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Other { scheme, .. } => scheme,
        }
    }

    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// Appends the URI in canonical form (lower-case scheme).
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Uri::Sip(u) => u.write(out),
            Uri::Tel(t) => t.write(out),
            Uri::Other { scheme, rest } => {
                out.extend_from_slice(scheme.as_bytes());
                out.push(b':');
                out.extend_from_slice(rest.as_bytes());
            }
        }
    }

    /// URI comparison of RFC 3261 §19.1.4 for SIP URIs (RFC 3966 §4 for `tel:`;
    /// other schemes: scheme case-insensitive, rest byte for byte).
    ///
    /// ```
    /// use oma_im::sip::Uri;
    /// let a = Uri::parse("sip:%61lice@ATLANTA.com;transport=TCP").unwrap();
    /// let b = Uri::parse("sip:alice@AtLanTa.CoM;Transport=tcp").unwrap();
    /// assert!(a.uri_eq(&b));
    /// let c = Uri::parse("sip:alice@atlanta.com:5060").unwrap();
    /// assert!(!b.uri_eq(&c)); // an explicit default port still differs
    /// ```
    pub fn uri_eq(&self, other: &Uri<'_>) -> bool {
        match (self, other) {
            (Uri::Sip(a), Uri::Sip(b)) => a.uri_eq(b),
            (Uri::Tel(a), Uri::Tel(b)) => a.uri_eq(b),
            (
                Uri::Other {
                    scheme: s1,
                    rest: r1,
                },
                Uri::Other {
                    scheme: s2,
                    rest: r2,
                },
            ) => s1.eq_ignore_ascii_case(s2) && r1 == r2,
            _ => false,
        }
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

impl<'a> SipUri<'a> {
    fn parse_rest(
        s: &'a str,
        base: usize,
        secure: bool,
        limits: &ValueLimits,
    ) -> Result<Self, ValueError> {
        // userinfo: up to the first '@', if any. The usual `user@` is found
        // in one scan of the user characters, which stops at that '@'; when
        // it stops elsewhere the general search below decides.
        let user_end = user_chars_end(s.as_bytes());
        if s.as_bytes().get(user_end) == Some(&b'@') {
            if user_end == 0 {
                return Err(ValueError::new(ValueErrorKind::InvalidUserinfo, base));
            }
            let user = s.get(..user_end).unwrap_or_default();
            return Self::parse_hostport(s, base, secure, limits, Some(user), None, user_end + 1);
        }
        let (user, password, host_at) = match find(s, b'@') {
            Some(at) => {
                let userinfo = s.get(..at).unwrap_or_default();
                let (user, password) = match find(userinfo, b':') {
                    Some(c) => (userinfo.get(..c).unwrap_or_default(), userinfo.get(c + 1..)),
                    None => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(ValueError::new(ValueErrorKind::InvalidUserinfo, base));
                }
                check_chars(user, base, &USER, ValueErrorKind::InvalidUserinfo)?;
                if let Some(p) = password {
                    let p_at = base + user.len() + 1;
                    check_chars(p, p_at, &PASSWORD, ValueErrorKind::InvalidUserinfo)?;
                }
                (Some(user), password, at + 1)
            }
            None => (None, None, 0),
        };
        Self::parse_hostport(s, base, secure, limits, user, password, host_at)
    }

    /// The rest of [`SipUri::parse_rest`] once the userinfo is known: the
    /// hostport at `host_at`, the uri-parameters and the headers, each
    /// checked in one forward scan.
    #[inline]
    fn parse_hostport(
        s: &'a str,
        base: usize,
        secure: bool,
        limits: &ValueLimits,
        user: Option<&'a str>,
        password: Option<&'a str>,
        host_at: usize,
    ) -> Result<Self, ValueError> {
        Self::parse_after_userinfo(s, secure, limits, user, password, host_at)
            .map_err(|e| e.shifted(base))
    }

    /// [`SipUri::parse_hostport`] with error offsets relative to `s`.
    fn parse_after_userinfo(
        s: &'a str,
        secure: bool,
        limits: &ValueLimits,
        user: Option<&'a str>,
        password: Option<&'a str>,
        host_at: usize,
    ) -> Result<Self, ValueError> {
        let b = s.as_bytes();
        let (host, port, mut i) = if b.get(host_at) == Some(&b'[') {
            bracketed_hostport(s, host_at)?
        } else {
            let scan = scan_host(b, host_at, HostEnd::Uri)?;
            let text = s.get(host_at..scan.end).unwrap_or_default();
            let host = scan.host(text).map_err(|e| e.shifted(host_at))?;
            if b.get(scan.end) == Some(&b':') {
                let (port, end) = scan_port(b, scan.end + 1)?;
                (host, Some(port), end)
            } else {
                (host, None, scan.end)
            }
        };
        // uri-parameters
        let params_at = i;
        let mut count = 0usize;
        let mut names = Names::default();
        while b.get(i) == Some(&b';') {
            let start = i + 1;
            let (name_end, stop) = scan_chars(b, start, &PARAM, UriStop::Param)?;
            if name_end == start {
                return Err(ValueError::new(ValueErrorKind::ExpectedToken, start));
            }
            let mut end = name_end;
            if stop == Some(b'=') {
                let (value_end, _) = scan_chars(b, name_end + 1, &PARAM, UriStop::Value)?;
                if value_end == name_end + 1 {
                    return Err(ValueError::new(
                        ValueErrorKind::InvalidParamValue,
                        value_end,
                    ));
                }
                end = value_end;
            }
            let name = s.get(start..name_end).unwrap_or_default();
            let before = s.get(params_at..i).unwrap_or_default();
            if names.seen(name, before) {
                return Err(ValueError::new(ValueErrorKind::DuplicateParam, start));
            }
            if count >= limits.max_params {
                return Err(ValueError::new(ValueErrorKind::TooManyParams, i));
            }
            count += 1;
            i = end;
        }
        let params = Params::from_checked(s.get(params_at..i).unwrap_or_default());
        // headers
        let mut headers = UriHeaders::default();
        if b.get(i) == Some(&b'?') {
            let (mut start, mut count) = (i + 1, 0usize);
            loop {
                let (name_end, stop) = scan_chars(b, start, &HEADER, UriStop::HeaderName)?;
                if stop != Some(b'=') {
                    return Err(ValueError::new(ValueErrorKind::Expected('='), name_end));
                }
                if name_end == start {
                    return Err(ValueError::new(ValueErrorKind::ExpectedToken, start));
                }
                let (end, stop) = scan_chars(b, name_end + 1, &HEADER, UriStop::HeaderValue)?;
                if count >= limits.max_uri_headers {
                    return Err(ValueError::new(ValueErrorKind::TooManyItems, start));
                }
                count += 1;
                if stop.is_none() {
                    break;
                }
                start = end + 1;
            }
            headers = UriHeaders {
                text: s.get(i + 1..).unwrap_or_default(),
            };
        } else if i < s.len() {
            return Err(ValueError::new(ValueErrorKind::UnexpectedCharacter, i));
        }
        Ok(SipUri {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }
}

/// The names of the uri-parameters seen so far, for the duplicate check:
/// the first few kept at hand, any more found again in the parameter text.
#[derive(Default)]
struct Names<'a> {
    first: arrayvec::ArrayVec<&'a str, 8>,
}

impl<'a> Names<'a> {
    /// `true` when `name` is a duplicate of one of the parameters in
    /// `before`, the checked text of those seen so far, compared as
    /// [`SipUri::uri_eq`] compares names (escapes decoded, ASCII
    /// case-insensitively: `;%72` and `;R` both name `r`); notes it
    /// otherwise.
    fn seen(&mut self, name: &'a str, before: &str) -> bool {
        let duplicate = self.first.iter().any(|n| decoded_eq(n, name, true))
            || (self.first.is_full()
                && Params::from_checked(before)
                    .iter()
                    .any(|q| decoded_eq(q.name, name, true)));
        if !duplicate {
            // Once full, the parameter text is searched instead.
            let _ = self.first.try_push(name);
        }
        duplicate
    }
}

/// Where [`scan_chars`] stops besides the end of the URI: the delimiters
/// that may follow the part scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UriStop {
    /// A uri-parameter name: `=`, `;` or `?`.
    Param,
    /// A uri-parameter value: `;` or `?`.
    Value,
    /// A header name: `=` or `&`.
    HeaderName,
    /// A header value: `&`.
    HeaderValue,
}

impl UriStop {
    fn stops_at(self, c: u8) -> bool {
        match self {
            UriStop::Param => matches!(c, b'=' | b';' | b'?'),
            UriStop::Value => matches!(c, b';' | b'?'),
            UriStop::HeaderName => matches!(c, b'=' | b'&'),
            UriStop::HeaderValue => c == b'&',
        }
    }
}

/// Scans the octets of `b` from `from` that the table `ok` allows (and
/// valid `%hh` escapes) up to a delimiter of `stop` or the end: the position
/// reached and the delimiter found there. Any other octet is an error at its
/// position.
fn scan_chars(
    b: &[u8],
    from: usize,
    ok: &[bool; 256],
    stop: UriStop,
) -> Result<(usize, Option<u8>), ValueError> {
    let mut i = from;
    while let Some(&c) = b.get(i) {
        if ok[usize::from(c)] {
            i += 1;
        } else if stop.stops_at(c) {
            return Ok((i, Some(c)));
        } else if c == b'%' {
            let hex = |k: usize| b.get(k).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return Err(ValueError::new(ValueErrorKind::InvalidEscape, i));
            }
            i += 3;
        } else {
            return Err(ValueError::new(ValueErrorKind::UnexpectedCharacter, i));
        }
    }
    Ok((i, None))
}

/// What one scan of a host name or IPv4 address saw.
pub(crate) struct HostScan {
    /// Position of the octet after the host.
    pub(crate) end: usize,
    /// The [`HOST_CLASS`] bits of every octet.
    seen: u8,
    /// Two dots in a row.
    double_dot: bool,
}

impl HostScan {
    /// The host `text` (the octets scanned), classified; offsets relative
    /// to it.
    pub(crate) fn host<'a>(&self, text: &'a str) -> Result<Host<'a>, ValueError> {
        if text.is_empty() {
            return Err(ValueError::new(ValueErrorKind::InvalidHost, 0));
        }
        if self.seen & HOST_OTHER == 0 {
            // All digits and dots: must be an IPv4address, a toplabel never
            // starts with a digit.
            return parse_ipv4(text)
                .map(Host::Ipv4)
                .ok_or(ValueError::new(ValueErrorKind::InvalidHost, 0));
        }
        if text.starts_with('.') || self.double_dot {
            return Err(ValueError::new(ValueErrorKind::InvalidHost, 0));
        }
        Ok(Host::Domain(text))
    }
}

/// Where a host name or IPv4 address ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostEnd {
    /// In a SIP URI: at `:`, `;`, `?` or the end.
    Uri,
    /// In a Via sent-by: at `:`, `;`, `,`, LWS or the end.
    Via,
    /// A whole string: only at the end.
    Whole,
}

impl HostEnd {
    fn stops_at(self, c: u8) -> bool {
        match self {
            HostEnd::Uri => matches!(c, b':' | b';' | b'?'),
            HostEnd::Via => matches!(c, b':' | b';' | b',' | b' ' | b'\t' | b'\r' | b'\n'),
            HostEnd::Whole => false,
        }
    }
}

/// Scans a host name or IPv4 address at `from` up to where `end` says it
/// ends; any other octet a host cannot hold is an
/// [`ValueErrorKind::InvalidHost`] at its position.
pub(crate) fn scan_host(b: &[u8], from: usize, end: HostEnd) -> Result<HostScan, ValueError> {
    // `pairs` gathers the classes two octets in a row share: its dot bit
    // is set by two dots in a row.
    let (mut i, mut seen, mut previous, mut pairs) = (from, 0u8, 0u8, 0u8);
    while let Some(&c) = b.get(i) {
        let class = HOST_CLASS[usize::from(c)];
        if class == HOST_INVALID {
            if end.stops_at(c) {
                break;
            }
            return Err(ValueError::new(ValueErrorKind::InvalidHost, i));
        }
        pairs |= previous & class;
        previous = class;
        seen |= class;
        i += 1;
    }
    Ok(HostScan {
        end: i,
        seen,
        double_dot: pairs & HOST_DOT != 0,
    })
}

/// The port whose first digit is at `from`, up to `;`, `?` or the end, and
/// the position after it.
fn scan_port(b: &[u8], from: usize) -> Result<(u16, usize), ValueError> {
    let bad = ValueError::new(ValueErrorKind::InvalidPort, from);
    let (mut i, mut n) = (from, 0u32);
    while let Some(&c) = b.get(i) {
        if c.is_ascii_digit() {
            n = n * 10 + u32::from(c - b'0');
            if n > u32::from(u16::MAX) {
                return Err(bad);
            }
            i += 1;
        } else if c == b';' || c == b'?' {
            break;
        } else {
            return Err(bad);
        }
    }
    if i == from {
        return Err(bad);
    }
    u16::try_from(n).map(|port| (port, i)).map_err(|_| bad)
}

/// A hostport whose host is an IPv6 reference (`[` at `host_at`): the host,
/// the port and the position after them. Offsets relative to `s`.
fn bracketed_hostport(
    s: &str,
    host_at: usize,
) -> Result<(Host<'_>, Option<u16>, usize), ValueError> {
    let hp_end = param_or_header_start(s.as_bytes(), host_at);
    let hostport = s.get(host_at..hp_end).unwrap_or_default();
    let close =
        find(hostport, b']').ok_or(ValueError::new(ValueErrorKind::InvalidIpv6, host_at))?;
    let after = hostport.get(close + 1..).unwrap_or_default();
    let port_text = match after.strip_prefix(':') {
        Some(p) => Some(p),
        None if after.is_empty() => None,
        None => {
            return Err(ValueError::new(
                ValueErrorKind::UnexpectedCharacter,
                host_at + close + 1,
            ))
        }
    };
    let host_text = hostport.get(..=close).unwrap_or_default();
    let host = Host::parse(host_text, false).map_err(|e| e.shifted(host_at))?;
    let port = match port_text {
        Some(p) => Some(parse_port(p).map_err(|e| e.shifted(host_at + close + 2))?),
        None => None,
    };
    Ok((host, port, hp_end))
}

impl<'a> SipUri<'a> {
    /// The `transport` uri-parameter.
    pub fn transport(&self) -> Option<&'a str> {
        self.params.get("transport").flatten()
    }

    /// True when the `lr` uri-parameter is present (loose routing).
    pub fn lr(&self) -> bool {
        self.params.contains("lr")
    }

    /// The `maddr` uri-parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.params.get("maddr").flatten()
    }

    /// The `user` uri-parameter (`phone`, `ip`, ...).
    pub fn user_param(&self) -> Option<&'a str> {
        self.params.get("user").flatten()
    }

    /// The `method` uri-parameter.
    pub fn method(&self) -> Option<&'a str> {
        self.params.get("method").flatten()
    }

    /// The `ttl` uri-parameter, when it is a number in `0..=255`.
    pub fn ttl(&self) -> Option<u8> {
        self.params
            .get("ttl")
            .flatten()
            .and_then(|t| t.parse().ok())
    }

    /// Appends the URI in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.secure { b"sips:" } else { b"sip:" });
        if let Some(u) = self.user {
            out.extend_from_slice(u.as_bytes());
            if let Some(p) = self.password {
                out.push(b':');
                out.extend_from_slice(p.as_bytes());
            }
            out.push(b'@');
        }
        self.host.write(out);
        if let Some(p) = self.port {
            out.push(b':');
            crate::decimal::push_decimal(out, u64::from(u32::from(p)));
        }
        self.params.write(out);
        // The checked header text is already `hname=hvalue *("&" ...)`.
        if !self.headers.is_empty() {
            out.push(b'?');
            out.extend_from_slice(self.headers.as_str().as_bytes());
        }
    }

    /// URI comparison of RFC 3261 §19.1.4.
    pub fn uri_eq(&self, other: &SipUri<'_>) -> bool {
        if self.secure != other.secure
            || !opt_eq(self.user, other.user, false)
            || !opt_eq(self.password, other.password, false)
            || !self.host.matches(&other.host)
            || self.port != other.port
        {
            return false;
        }
        // Parameters in both must match; user, ttl, method and maddr must be
        // in both or in neither; others in only one are ignored. Names and
        // values compare case-insensitively after decoding escapes.
        // Each side's parameters are read once (inline for up to eight).
        let mine: SmallVec<[Param<'_>; 8]> = self.params.iter().collect();
        let theirs: SmallVec<[Param<'_>; 8]> = other.params.iter().collect();
        fn find<'p>(ps: &[Param<'p>], name: &str) -> Option<Option<&'p str>> {
            ps.iter()
                .find(|q| decoded_eq(q.name, name, true))
                .map(|q| q.value)
        }
        let restricted = |name: &str| {
            ["user", "ttl", "method", "maddr"]
                .iter()
                .any(|n| decoded_eq(name, n, true))
        };
        for p in &mine {
            match find(&theirs, p.name) {
                Some(v) if !opt_eq(p.value, v, true) => return false,
                None if restricted(p.name) => return false,
                _ => {}
            }
        }
        if theirs
            .iter()
            .any(|q| restricted(q.name) && find(&mine, q.name).is_none())
        {
            return false;
        }
        // Headers are never ignored: the same set on both sides.
        let covered = |a: &UriHeaders<'_>, b: &UriHeaders<'_>| {
            a.iter().all(|h| {
                b.iter()
                    .any(|g| decoded_eq(h.name, g.name, true) && decoded_eq(h.value, g.value, true))
            })
        };
        covered(&self.headers, &other.headers) && covered(&other.headers, &self.headers)
    }
}

fn opt_eq(a: Option<&str>, b: Option<&str>, ci: bool) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => decoded_eq(x, y, ci),
        _ => false,
    }
}

pub(crate) fn parse_port(p: &str) -> Result<u16, ValueError> {
    if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ValueError::new(ValueErrorKind::InvalidPort, 0));
    }
    let mut n: u32 = 0;
    for c in p.bytes() {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u32::from(c - b'0')))
            .filter(|n| *n <= u32::from(u16::MAX))
            .ok_or(ValueError::new(ValueErrorKind::InvalidPort, 0))?;
    }
    u16::try_from(n).map_err(|_| ValueError::new(ValueErrorKind::InvalidPort, 0))
}

const fn is_tel_number_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || matches!(b, b'*' | b'#' | b'+' | b'-' | b'.' | b'(' | b')')
}

impl<'a> TelUri<'a> {
    fn parse_rest(s: &'a str, base: usize, limits: &ValueLimits) -> Result<Self, ValueError> {
        let end = find(s, b';').unwrap_or(s.len());
        let number = s.get(..end).unwrap_or_default();
        if number.is_empty() {
            return Err(ValueError::new(ValueErrorKind::Empty, base));
        }
        check_chars(
            number,
            base,
            &TEL_NUMBER,
            ValueErrorKind::UnexpectedCharacter,
        )?;
        let (mut i, mut count) = (end, 0usize);
        let mut names = Names::default();
        let b = s.as_bytes();
        while b.get(i) == Some(&b';') {
            let start = i + 1;
            let e = s
                .get(start..)
                .and_then(|r| find(r, b';'))
                .map_or(s.len(), |p| p + start);
            let text = s.get(start..e).unwrap_or_default();
            let (name, value) = match find(text, b'=') {
                Some(q) => (text.get(..q).unwrap_or_default(), text.get(q + 1..)),
                None => (text, None),
            };
            if name.is_empty() {
                return Err(ValueError::new(ValueErrorKind::ExpectedToken, base + start));
            }
            check_chars(
                name,
                base + start,
                &PARAM,
                ValueErrorKind::UnexpectedCharacter,
            )?;
            if let Some(v) = value {
                check_chars(
                    v,
                    base + start + name.len() + 1,
                    &PARAM,
                    ValueErrorKind::UnexpectedCharacter,
                )?;
            }
            let before = s.get(end..i).unwrap_or_default();
            if names.seen(name, before) {
                return Err(ValueError::new(
                    ValueErrorKind::DuplicateParam,
                    base + start,
                ));
            }
            if count >= limits.max_params {
                return Err(ValueError::new(ValueErrorKind::TooManyParams, base + i));
            }
            count += 1;
            i = e;
        }
        let params = Params::from_checked(s.get(end..i).unwrap_or_default());
        Ok(TelUri { number, params })
    }

    /// Appends `tel:number;params`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"tel:");
        out.extend_from_slice(self.number.as_bytes());
        self.params.write(out);
    }

    /// RFC 3966 §4 comparison: numbers equal ignoring visual separators,
    /// parameters equal as sets (names and values case-insensitive).
    pub fn uri_eq(&self, other: &TelUri<'_>) -> bool {
        let digits = |n: &'a str| {
            n.bytes()
                .filter(|c| !matches!(c, b'-' | b'.' | b'(' | b')'))
        };
        let mut x = digits(self.number);
        let mut y = other
            .number
            .bytes()
            .filter(|c| !matches!(c, b'-' | b'.' | b'(' | b')'));
        loop {
            match (x.next(), y.next()) {
                (None, None) => break,
                (Some(p), Some(q)) if p.eq_ignore_ascii_case(&q) => {}
                _ => return false,
            }
        }
        let covered = |a: &Params<'_>, b: &Params<'_>| {
            a.iter().all(|p| {
                b.find(p.name)
                    .is_some_and(|q| opt_eq(p.value, q.value, true))
            })
        };
        self.params.len() == other.params.len()
            && covered(&self.params, &other.params)
            && covered(&other.params, &self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri<'_> {
        match Uri::parse(s) {
            Ok(Uri::Sip(u)) => u,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn full_sip_uri() {
        let u = sip("sips:alice:secret@atlanta.com:5061;transport=tcp;maddr=239.255.255.1;ttl=15;user=ip;method=INVITE;lr?subject=project%20x&priority=urgent");
        assert!(u.secure);
        assert_eq!(u.user, Some("alice"));
        assert_eq!(u.password, Some("secret"));
        assert_eq!(u.host, Host::Domain("atlanta.com"));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.transport(), Some("tcp"));
        assert_eq!(u.maddr(), Some("239.255.255.1"));
        assert_eq!(u.ttl(), Some(15));
        assert_eq!(u.user_param(), Some("ip"));
        assert_eq!(u.method(), Some("INVITE"));
        assert!(u.lr());
        assert_eq!(u.headers.len(), 2);
        assert_eq!(
            u.headers.iter().next().unwrap(),
            UriHeader {
                name: "subject",
                value: "project%20x"
            }
        );
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "<sip:a@b>",
            "sip:a b@c",
            "sip:a@b c",
            "sip:@b",
            "sip:a@",
            "sip:a@b:99999",
            "sip:a@b:",
            "sip:a@[::1",
            "sip:a@[2001:db8:::1]",
            "sip:a@2001:db8::1",
            "sip:a@b;=x",
            "sip:a@b?x",
            "sip:a%zz@b",
            "sip:a@256.1.1.1",
            "1sip:a@b",
            "nocolon",
            "tel:",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad} accepted");
        }
    }

    proptest::proptest! {
        #[test]
        fn ipv4_like_the_standard_library(s in "[0-9.]{0,17}") {
            proptest::prop_assert_eq!(parse_ipv4(&s), s.parse::<Ipv4Addr>().ok());
        }
    }

    #[test]
    fn ipv4_edge_cases_like_the_standard_library() {
        for s in [
            "1.2.3.4",
            "01.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "0001.2.3.4",
            "00.1.1.1",
            "1.2.3.4 ",
            ".1.2.3",
            "1.2.3.",
            "10.20.30.40",
            "1.0.0.09",
            "199.299.1.1",
            "",
            "....",
        ] {
            assert_eq!(parse_ipv4(s), s.parse::<Ipv4Addr>().ok(), "{s}");
        }
    }

    #[test]
    fn host_classes_in_one_pass() {
        let kind = |s, bare| Host::parse(s, bare).map_err(|e| (e.kind, e.offset));
        assert_eq!(
            kind("a.example.com", false),
            Ok(Host::Domain("a.example.com"))
        );
        assert_eq!(
            kind("192.0.2.1", false),
            Ok(Host::Ipv4([192, 0, 2, 1].into()))
        );
        assert_eq!(kind("1.2.3", false), Err((ValueErrorKind::InvalidHost, 0)));
        assert_eq!(kind("x_y-1.c0m", false), Ok(Host::Domain("x_y-1.c0m")));
        assert_eq!(kind("", false), Err((ValueErrorKind::InvalidHost, 0)));
        assert_eq!(kind("a b", false), Err((ValueErrorKind::InvalidHost, 1)));
        // A colon anywhere makes it an IPv6 question, even after a bad octet.
        assert_eq!(kind("a b:c", false), Err((ValueErrorKind::InvalidIpv6, 0)));
        assert_eq!(kind("::1", true), Ok(Host::Ipv6(Ipv6Addr::LOCALHOST)));
        assert_eq!(kind(".a.com", false), Err((ValueErrorKind::InvalidHost, 0)));
        assert_eq!(kind("a..com", false), Err((ValueErrorKind::InvalidHost, 0)));
        assert_eq!(kind("a.com.", false), Ok(Host::Domain("a.com.")));
    }

    #[test]
    fn escapes_and_classes_in_uri_parts() {
        let kind = |s| Uri::parse(s).map(drop).map_err(|e| (e.kind, e.offset));
        assert_eq!(kind("sip:%61l%2Bice@h;x=%41"), Ok(()));
        assert_eq!(kind("sip:a%4@h"), Err((ValueErrorKind::InvalidEscape, 5)));
        assert_eq!(
            kind("sip:a\"b@h"),
            Err((ValueErrorKind::InvalidUserinfo, 5))
        );
        assert_eq!(kind("sip:a:p@ss@h"), Err((ValueErrorKind::InvalidHost, 10)));
        assert_eq!(
            kind("sip:h;a=b{"),
            Err((ValueErrorKind::UnexpectedCharacter, 9))
        );
        assert_eq!(
            kind("sip:h?a=b;c"),
            Err((ValueErrorKind::UnexpectedCharacter, 9))
        );
        assert_eq!(kind("tel:+1-555;ext=12"), Ok(()));
        assert_eq!(
            kind("tel:+1 555"),
            Err((ValueErrorKind::UnexpectedCharacter, 6))
        );
    }

    #[test]
    fn duplicate_params_found_however_many_come_first() {
        let many: String = (0..12).map(|k| format!(";p{k}=v")).collect();
        assert!(Uri::parse(&format!("sip:h{many}")).is_ok());
        for again in ["P0", "p7", "p8", "P11"] {
            let uri = format!("sip:h{many};{again}");
            let err = Uri::parse(&uri).unwrap_err();
            assert_eq!(err.kind, ValueErrorKind::DuplicateParam, "{uri}");
            assert_eq!(err.offset, uri.len() - again.len(), "{uri}");
        }
        // Names are compared decoded: `%72` is `r` (found by the
        // sip_uri fuzz target, where it made `uri_eq` irreflexive).
        for uri in ["sip:h;%72;r=ue", "sip:h;R=1;%72", "sip:h;a%41=1;AA"] {
            let err = Uri::parse(uri).unwrap_err();
            assert_eq!(err.kind, ValueErrorKind::DuplicateParam, "{uri}");
        }
        let escaped: String = (0..12).map(|k| format!(";p{k}=v")).collect();
        let err = Uri::parse(&format!("sip:h{escaped};%5011")).unwrap_err();
        assert_eq!(err.kind, ValueErrorKind::DuplicateParam);
        let tel = Uri::parse("tel:+1;a=1;b;A").unwrap_err();
        assert_eq!((tel.kind, tel.offset), (ValueErrorKind::DuplicateParam, 13));
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(
            sip("sip:[::ffff:192.0.2.1]").host,
            Host::Ipv6("::ffff:192.0.2.1".parse().unwrap())
        );
        assert_eq!(sip("sip:u@[2001:db8::192.0.2.1]:5060").port, Some(5060));
    }

    #[test]
    fn comparison_rules() {
        let eq = |a: &str, b: &str| Uri::parse(a).unwrap().uri_eq(&Uri::parse(b).unwrap());
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eq(
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"
        ));
        assert!(eq(
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x"
        ));
        assert!(!eq(
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP"
        ));
        assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
        assert!(!eq("sip:bob@biloxi.com", "sips:bob@biloxi.com"));
        assert!(!eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;security=on;maddr=1.2.3.4"
        ));
        assert!(!eq(
            "sip:carol@chicago.com?Subject=next%20meeting",
            "sip:carol@chicago.com"
        ));
        assert!(eq("sip:[::1]", "sip:[0:0:0:0:0:0:0:1]"));
        assert!(eq("tel:+1-201-555-0123", "tel:+1.201.555.0123"));
        assert!(!eq("tel:+12015550123", "sip:+12015550123@h"));
    }

    #[test]
    fn other_scheme_is_opaque() {
        assert_eq!(
            Uri::parse("im:alice@example.com").unwrap(),
            Uri::Other {
                scheme: "im",
                rest: "alice@example.com"
            }
        );
        assert!(Uri::parse("urn:a b").is_err());
    }
}
