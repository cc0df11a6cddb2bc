//! Warning (RFC 3261 §20.43).

use crate::sip::lex;
use crate::sip::{ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// One warning-value: `399 example.com "Multicast not available"`.
///
/// ```
/// use oma_im::sip::{value, Warning};
/// let ws: Vec<Warning> = value::list(r#"307 isi.edu "Session parameter 'foo' not understood", 301 [2001:db8::1]:5060 "a, b""#)
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(ws[0].code, 307);
/// assert_eq!(ws[1].agent, "[2001:db8::1]:5060");
/// assert_eq!(ws[1].text(), "a, b");
/// assert!(Warning::parse(r#"3070 isi.edu "x""#).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warning<'a> {
    /// The warn-code: exactly three digits on the wire (`0..=999`).
    pub code: u16,
    /// The warn-agent: `host[:port]` or a pseudonym, as written.
    pub agent: &'a str,
    /// The raw inside of the quoted warn-text, escapes kept.
    pub raw_text: &'a str,
}

impl<'a> Warning<'a> {
    /// Parses `warn-code SP warn-agent SP warn-text`.
    pub fn parse_with(value: &'a str, _limits: &ValueLimits) -> Result<Self, ValueError> {
        let b = value.as_bytes();
        let i = lex::skip_lws(value, 0);
        let digits = b.get(i..).unwrap_or_default();
        let three = digits.len() >= 3
            && digits.iter().take(3).all(u8::is_ascii_digit)
            && !digits.get(3).is_some_and(u8::is_ascii_digit);
        if !three {
            return Err(ValueError::new(ValueErrorKind::ExpectedDigits, i));
        }
        let code = digits
            .iter()
            .take(3)
            .fold(0u16, |n, c| n * 10 + u16::from(c - b'0'));
        let a = lex::skip_lws(value, i + 3);
        if a == i + 3 {
            return Err(ValueError::new(ValueErrorKind::Expected(' '), a));
        }
        let mut e = a;
        while b
            .get(e)
            .is_some_and(|c| lex::is_token_byte(*c) || matches!(c, b'[' | b']' | b':'))
        {
            e += 1;
        }
        if e == a {
            return Err(ValueError::new(ValueErrorKind::ExpectedToken, a));
        }
        let agent = value.get(a..e).unwrap_or_default();
        let t = lex::skip_lws(value, e);
        if t == e {
            return Err(ValueError::new(ValueErrorKind::Expected(' '), t));
        }
        let (raw_text, end) = lex::quoted_string(value, t)?;
        lex::expect_end(value, end)?;
        Ok(Warning {
            code,
            agent,
            raw_text,
        })
    }

    /// The warn-text, escapes removed.
    pub fn text(&self) -> std::borrow::Cow<'a, str> {
        lex::unquote(self.raw_text)
    }

    /// Appends `code agent "text"`.
    pub fn write(&self, out: &mut Vec<u8>) {
        // Exactly three digits, even for a code below 100.
        out.extend_from_slice(&[
            b'0' + (self.code / 100 % 10) as u8,
            b'0' + (self.code / 10 % 10) as u8,
            b'0' + (self.code % 10) as u8,
        ]);
        out.push(b' ');
        out.extend_from_slice(self.agent.as_bytes());
        out.push(b' ');
        lex::write_quoted(self.raw_text, out);
    }
}

value_type!(Warning<'a>);
