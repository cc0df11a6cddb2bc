//! `name-addr` / `addr-spec` with header parameters (RFC 3261 §20.10, §25.1):
//! the shape of From, To, Contact, Route, Record-Route, P-Asserted-Identity,
//! P-Preferred-Identity, Refer-To, Referred-By and Reply-To values.

use std::borrow::Cow;
use std::fmt;

use super::lex::{self, Param, Params};
use super::uri::Uri;
use super::value::{ValueError, ValueErrorKind, ValueLimits};

/// The display name before `<uri>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayName<'a> {
    /// `token *(LWS token)`, as written (may contain folding; written with
    /// each run of white space as one SP).
    Tokens(&'a str),
    /// The raw inside of a quoted-string, escapes kept.
    Quoted(&'a str),
}

impl<'a> DisplayName<'a> {
    /// The display name as text: escapes removed, white space runs kept as written.
    pub fn text(&self) -> Cow<'a, str> {
        match self {
            DisplayName::Tokens(t) => Cow::Borrowed(t),
            DisplayName::Quoted(q) => lex::unquote(q),
        }
    }

    /// Appends the display name in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            DisplayName::Tokens(t) => lex::write_collapsed(t, out),
            DisplayName::Quoted(q) => lex::write_quoted(q, out),
        }
    }
}

/// An address with optional display name and header parameters.
///
/// Whether written as `name-addr` (`"Bob" <sip:bob@biloxi.com>;tag=1`) or as a
/// bare `addr-spec` (`sip:bob@biloxi.com;tag=1`), parameters after the URI are
/// header parameters: in the bare form they do not belong to the URI
/// (RFC 3261 §20.10). The canonical form written always uses `<...>`.
///
/// ```
/// use oma_im::sip::NameAddr;
///
/// let a = NameAddr::parse(r#""Alice \"A\"" <sip:alice@atlanta.com;transport=tcp>;tag=88sja8x"#).unwrap();
/// assert_eq!(a.display_name.unwrap().text(), r#"Alice "A""#);
/// assert_eq!(a.uri.as_sip().unwrap().transport(), Some("tcp"));
/// assert_eq!(a.tag(), Some("88sja8x"));
///
/// let b = NameAddr::parse("sip:bob@biloxi.com;tag=a6c85cf").unwrap();
/// assert!(b.uri.as_sip().unwrap().params.is_empty());
/// assert_eq!(b.tag(), Some("a6c85cf"));
/// assert_eq!(b.to_string(), "<sip:bob@biloxi.com>;tag=a6c85cf");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name, if any.
    pub display_name: Option<DisplayName<'a>>,
    /// The address.
    pub uri: Uri<'a>,
    /// The header parameters after the address.
    pub params: Params<'a>,
}

impl<'a> NameAddr<'a> {
    /// Parses one name-addr or addr-spec with its parameters, and nothing after
    /// it, under the default [`ValueLimits`].
    pub fn parse(value: &'a str) -> Result<Self, ValueError> {
        Self::parse_with(value, &ValueLimits::DEFAULT)
    }

    /// Parses one name-addr or addr-spec with its parameters under `limits`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        Self::parse_checked(value, limits, |_| {})
    }

    /// [`NameAddr::parse_with`], handing each parameter to `each` as it is
    /// found.
    pub(crate) fn parse_checked(
        value: &'a str,
        limits: &ValueLimits,
        each: impl FnMut(Param<'a>),
    ) -> Result<Self, ValueError> {
        let (display_name, uri, end) = Self::parse_address(value, 0)?;
        let (params, end) = lex::generic_params_checked(value, end, limits, each)?;
        lex::expect_end(value, end)?;
        Ok(NameAddr {
            display_name,
            uri,
            params,
        })
    }

    /// Parses the address part (display name and URI, without parameters)
    /// starting at `i`; returns it and the position after it.
    pub(crate) fn parse_address(
        s: &'a str,
        i: usize,
    ) -> Result<(Option<DisplayName<'a>>, Uri<'a>, usize), ValueError> {
        let b = s.as_bytes();
        let i = lex::skip_lws(s, i);
        let (display_name, lt) = match b.get(i) {
            None => return Err(ValueError::new(ValueErrorKind::Empty, i)),
            Some(b'"') => {
                let (inner, end) = lex::quoted_string(s, i)?;
                let lt = lex::skip_lws(s, end);
                if b.get(lt) != Some(&b'<') {
                    return Err(ValueError::new(ValueErrorKind::Expected('<'), lt));
                }
                (Some(DisplayName::Quoted(inner)), Some(lt))
            }
            Some(b'<') => (None, Some(i)),
            Some(_) => {
                // A token sequence followed by '<' is a display name;
                // anything else is an addr-spec.
                let mut j = i;
                while b
                    .get(j)
                    .is_some_and(|c| lex::is_token_byte(*c) || lex::is_lws_byte(*c) || *c >= 0x80)
                {
                    j += 1;
                }
                if b.get(j) == Some(&b'<') {
                    let name = s
                        .get(i..j)
                        .unwrap_or_default()
                        .trim_end_matches(|c: char| c.is_ascii() && lex::is_lws_byte(c as u8));
                    (Some(DisplayName::Tokens(name)), Some(j))
                } else {
                    (None, None)
                }
            }
        };
        match lt {
            Some(lt) => {
                let start = lt + 1;
                let close = memchr::memchr(b'>', b.get(start..).unwrap_or_default()).ok_or(
                    ValueError::new(ValueErrorKind::UnterminatedAngleBracket, lt),
                )?;
                let text = s.get(start..start + close).unwrap_or_default();
                let uri = Uri::parse(text).map_err(|e| e.shifted(start))?;
                Ok((display_name, uri, start + close + 1))
            }
            None => {
                // addr-spec: the URI runs to ';', ',' or white space.
                let end = b
                    .iter()
                    .skip(i)
                    .position(|c| matches!(c, b';' | b',') || lex::is_lws_byte(*c))
                    .map_or(s.len(), |p| p + i);
                let text = s.get(i..end).unwrap_or_default();
                // A URI with headers must be enclosed in <> (RFC 3261 §20.10).
                if let Some(q) = text.bytes().position(|c| c == b'?') {
                    return Err(ValueError::new(ValueErrorKind::UnexpectedCharacter, i + q));
                }
                let uri = Uri::parse(text).map_err(|e| e.shifted(i))?;
                Ok((None, uri, end))
            }
        }
    }

    /// The `tag` parameter (From, To).
    pub fn tag(&self) -> Option<&'a str> {
        self.params.get("tag").flatten()
    }

    /// Appends the address as a name-addr in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        write_address(self.display_name.as_ref(), &self.uri, out);
        self.params.write(out);
    }
}

/// Appends `[display-name SP] "<" uri ">"`.
pub(crate) fn write_address(
    display_name: Option<&DisplayName<'_>>,
    uri: &Uri<'_>,
    out: &mut Vec<u8>,
) {
    if let Some(d) = display_name {
        d.write(out);
        out.push(b' ');
    }
    out.push(b'<');
    uri.write(out);
    out.push(b'>');
}

impl fmt::Display for NameAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let a = NameAddr::parse("Bob  Smith\r\n <sip:bob@b.com>").unwrap();
        assert_eq!(a.display_name, Some(DisplayName::Tokens("Bob  Smith")));
        assert_eq!(a.to_string(), "Bob Smith <sip:bob@b.com>");
        let b = NameAddr::parse("<sip:b.com;lr>;x=\"1 2\"").unwrap();
        assert!(b.uri.as_sip().unwrap().lr());
        assert_eq!(b.params.get("x"), Some(Some("\"1 2\"")));
        let c = NameAddr::parse("  sip:a@b.com ; tag = 7 ").unwrap();
        assert_eq!(c.tag(), Some("7"));
    }

    #[test]
    fn errors() {
        let kind = |s| NameAddr::parse(s).unwrap_err().kind;
        assert_eq!(
            kind(r#""Bob <sip:b@c>"#),
            ValueErrorKind::UnterminatedQuotedString
        );
        assert_eq!(kind("<sip:b@c"), ValueErrorKind::UnterminatedAngleBracket);
        assert_eq!(kind(r#""Bob" sip:b@c"#), ValueErrorKind::Expected('<'));
        assert_eq!(kind("<sip:b@c> x"), ValueErrorKind::TrailingData);
        assert_eq!(kind(""), ValueErrorKind::Empty);
        let e = NameAddr::parse("Bob <sip:b c>").unwrap_err();
        assert_eq!(e.offset, 10);
    }
}
