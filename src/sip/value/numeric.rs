//! Single-valued headers: CSeq, Max-Forwards, Expires and Call-ID
//! (RFC 3261 §20.16, §20.22, §20.19, §20.8).

use crate::sip::lex;
use crate::sip::{Method, ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// `CSeq: 4711 INVITE`: a sequence number below 2³¹ and a method.
///
/// ```
/// use oma_im::sip::{CSeq, Method};
/// let c = CSeq::parse("  4711\r\n INVITE ").unwrap();
/// assert_eq!((c.seq, c.method), (4711, Method::Invite));
/// assert!(CSeq::parse("2147483648 INVITE").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number, `0..2^31`.
    pub seq: u32,
    /// The method.
    pub method: Method<'a>,
}

impl<'a> CSeq<'a> {
    /// Parses `number LWS method`.
    pub fn parse_with(value: &'a str, _limits: &ValueLimits) -> Result<Self, ValueError> {
        let i = lex::skip_lws(value, 0);
        let (n, end) = lex::number(value, i, (1 << 31) - 1)?;
        let m_at = lex::skip_lws(value, end);
        if m_at == end {
            return Err(ValueError::new(ValueErrorKind::Expected(' '), end));
        }
        let (m, m_end) = lex::token(value, m_at)?;
        lex::expect_end(value, m_end)?;
        Ok(CSeq {
            seq: u32::try_from(n)
                .map_err(|_| ValueError::new(ValueErrorKind::NumberOutOfRange, i))?,
            method: Method::parse(m).map_err(|e| e.shifted(m_at))?,
        })
    }

    /// Appends `seq METHOD`.
    pub fn write(&self, out: &mut Vec<u8>) {
        crate::decimal::push_decimal(out, u64::from(self.seq));
        out.push(b' ');
        self.method.write(out);
    }
}

value_type!(CSeq<'a>);

/// `Max-Forwards: 70` (`0..=255`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MaxForwards(pub u8);

impl MaxForwards {
    /// Parses the number.
    pub fn parse_with(value: &str, _limits: &ValueLimits) -> Result<Self, ValueError> {
        let n = lex::whole_number(value, u64::from(u8::MAX))?;
        u8::try_from(n)
            .map(MaxForwards)
            .map_err(|_| ValueError::new(ValueErrorKind::NumberOutOfRange, 0))
    }

    /// Appends the number.
    pub fn write(&self, out: &mut Vec<u8>) {
        crate::decimal::push_decimal(out, u64::from(u32::from(self.0)));
    }
}

value_type!(MaxForwards);

/// `Expires: 3600`: delta-seconds (`0..2^32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expires(pub u32);

impl Expires {
    /// Parses the number.
    pub fn parse_with(value: &str, _limits: &ValueLimits) -> Result<Self, ValueError> {
        let n = lex::whole_number(value, u64::from(u32::MAX))?;
        u32::try_from(n)
            .map(Expires)
            .map_err(|_| ValueError::new(ValueErrorKind::NumberOutOfRange, 0))
    }

    /// Appends the number.
    pub fn write(&self, out: &mut Vec<u8>) {
        crate::decimal::push_decimal(out, u64::from(self.0));
    }
}

value_type!(Expires);

/// `Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com`: `word ["@" word]`.
///
/// Compared byte for byte (RFC 3261 §20.8: case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallId<'a> {
    /// The identifier as written.
    pub id: &'a str,
}

/// `word` characters (RFC 3261 §25.1).
const fn is_word_byte(b: u8) -> bool {
    lex::is_token_byte(b)
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

/// [`is_word_byte`] as a lookup table.
static WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = is_word_byte(i as u8);
        i += 1;
    }
    table
};

impl<'a> CallId<'a> {
    /// Parses the Call-ID (surrounding LWS ignored).
    pub fn parse_with(value: &'a str, _limits: &ValueLimits) -> Result<Self, ValueError> {
        let start = lex::skip_lws(value, 0);
        let b = value.as_bytes();
        let word_end = |from: usize| {
            let rest = b.get(from..).unwrap_or_default();
            from + rest
                .iter()
                .position(|&c| !WORD[usize::from(c)])
                .unwrap_or(rest.len())
        };
        // word, then "@" word if the first word is not empty.
        let mut i = word_end(start);
        if i > start && b.get(i) == Some(&b'@') {
            i = word_end(i + 1);
        }
        if i == start {
            return Err(ValueError::new(ValueErrorKind::Empty, start));
        }
        if b.get(i.saturating_sub(1)) == Some(&b'@') {
            return Err(ValueError::new(ValueErrorKind::ExpectedToken, i));
        }
        lex::expect_end(value, i)?;
        Ok(CallId {
            id: value.get(start..i).unwrap_or_default(),
        })
    }

    /// Appends the identifier.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.id.as_bytes());
    }
}

value_type!(CallId<'a>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_id_is_word_then_at_most_one_at_word() {
        let id = |s| {
            CallId::parse(s)
                .map(|c| c.id)
                .map_err(|e| (e.kind, e.offset))
        };
        assert_eq!(
            id(" a84b4c76e66710@pc33.example.com "),
            Ok("a84b4c76e66710@pc33.example.com")
        );
        assert_eq!(id("f81d4fae"), Ok("f81d4fae"));
        assert_eq!(id(""), Err((ValueErrorKind::Empty, 0)));
        assert_eq!(id("@host"), Err((ValueErrorKind::Empty, 0)));
        assert_eq!(id("abc@"), Err((ValueErrorKind::ExpectedToken, 4)));
        assert_eq!(id("a@b@c"), Err((ValueErrorKind::TrailingData, 3)));
        assert_eq!(id("a b"), Err((ValueErrorKind::TrailingData, 2)));
    }
}
