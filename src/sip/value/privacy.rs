//! Privacy (RFC 3323, `id` from RFC 3325).

use std::fmt;

use arrayvec::ArrayVec;

use crate::sip::lex;
use crate::sip::{ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// A priv-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrivValue<'a> {
    /// `header`.
    Header,
    /// `session`.
    Session,
    /// `user`.
    User,
    /// `none`.
    None,
    /// `critical`.
    Critical,
    /// `id` (RFC 3325).
    Id,
    /// Any other token.
    Other(&'a str),
}

const KNOWN: [(PrivValue<'static>, &str); 6] = [
    (PrivValue::Header, "header"),
    (PrivValue::Session, "session"),
    (PrivValue::User, "user"),
    (PrivValue::None, "none"),
    (PrivValue::Critical, "critical"),
    (PrivValue::Id, "id"),
];

impl<'a> PrivValue<'a> {
    /// Recognises a priv-value (known ones case-insensitively).
    pub fn from_token(t: &'a str) -> Self {
        KNOWN
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(t))
            .map_or(PrivValue::Other(t), |(v, _)| *v)
    }

    /// The value as written on the wire.
    pub fn as_str(&self) -> &'a str {
        match self {
            PrivValue::Other(t) => t,
            known => KNOWN
                .iter()
                .find(|(v, _)| v == known)
                .map_or("", |(_, n)| n),
        }
    }

    fn bit(&self) -> Option<u8> {
        KNOWN.iter().position(|(v, _)| v == self).map(|p| 1 << p)
    }
}

impl fmt::Display for PrivValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most unknown priv-values a [`Privacy`] keeps.
const MAX_OTHER: usize = 4;

/// `Privacy: id;header` as a set.
///
/// ```
/// use oma_im::sip::{Privacy, PrivValue};
/// let p = Privacy::parse("id ; critical").unwrap();
/// assert!(p.contains(PrivValue::Id) && p.contains(PrivValue::Critical));
/// assert!(!p.contains(PrivValue::None));
/// assert_eq!(p.to_string(), "critical;id");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Privacy<'a> {
    bits: u8,
    others: ArrayVec<&'a str, MAX_OTHER>,
}

impl<'a> Privacy<'a> {
    /// Parses `priv-value *(";" priv-value)`; commas are accepted as
    /// separators too (several headers combined).
    pub fn parse_with(value: &'a str, _limits: &ValueLimits) -> Result<Self, ValueError> {
        let mut p = Self::default();
        p.extend_from(value)?;
        if p.is_empty() {
            return Err(ValueError::new(ValueErrorKind::Empty, 0));
        }
        Ok(p)
    }

    /// Adds the values of another Privacy header.
    pub fn extend_from(&mut self, value: &'a str) -> Result<(), ValueError> {
        let b = value.as_bytes();
        let mut i = lex::skip_lws(value, 0);
        while i < b.len() {
            let (t, end) = lex::token(value, i)?;
            if !self.insert(PrivValue::from_token(t)) {
                return Err(ValueError::new(ValueErrorKind::TooManyItems, i));
            }
            let j = lex::skip_lws(value, end);
            match b.get(j) {
                None => break,
                Some(b';' | b',') => i = lex::skip_lws(value, j + 1),
                Some(_) => return Err(ValueError::new(ValueErrorKind::Expected(';'), j)),
            }
        }
        Ok(())
    }

    /// Adds `v`; false when it is unknown and there is no room left.
    pub fn insert(&mut self, v: PrivValue<'a>) -> bool {
        match (v.bit(), v) {
            (Some(bit), _) => {
                self.bits |= bit;
                true
            }
            (None, PrivValue::Other(t)) => {
                self.others.contains(&t) || self.others.try_push(t).is_ok()
            }
            (None, _) => false,
        }
    }

    /// True when `v` is requested.
    pub fn contains(&self, v: PrivValue<'_>) -> bool {
        match (v.bit(), v) {
            (Some(bit), _) => self.bits & bit != 0,
            (None, PrivValue::Other(t)) => self.others.contains(&t),
            (None, _) => false,
        }
    }

    /// The values, known ones first.
    pub fn iter(&self) -> impl Iterator<Item = PrivValue<'a>> + '_ {
        KNOWN
            .iter()
            .map(|(v, _)| *v)
            .filter(|v| v.bit().is_some_and(|b| self.bits & b != 0))
            .chain(self.others.iter().map(|t| PrivValue::Other(t)))
    }

    /// True when no value is present.
    pub fn is_empty(&self) -> bool {
        self.bits == 0 && self.others.is_empty()
    }

    /// Appends `v1;v2;...`.
    pub fn write(&self, out: &mut Vec<u8>) {
        for (k, v) in self.iter().enumerate() {
            if k > 0 {
                out.push(b';');
            }
            out.extend_from_slice(v.as_str().as_bytes());
        }
    }
}

value_type!(Privacy<'a>);
