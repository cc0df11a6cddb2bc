//! SIP methods (RFC 3261 §7.1 and the extensions OMA SIMPLE IM uses) and the
//! method set of an Allow header.

use std::fmt;

use arrayvec::ArrayVec;

use super::lex::{self, CommaSplit};
use super::value::{ParseValue, ValueError, ValueErrorKind, ValueLimits};

/// A SIP method. Method names are case-sensitive (RFC 3261 §7.1): `invite`
/// is an extension method, not INVITE.
///
/// ```
/// use oma_im::sip::Method;
/// assert_eq!(Method::parse("MESSAGE"), Ok(Method::Message));
/// assert_eq!(Method::parse("invite"), Ok(Method::Extension("invite")));
/// assert!(Method::parse("IN VITE").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// INVITE (RFC 3261).
    Invite,
    /// ACK (RFC 3261).
    Ack,
    /// BYE (RFC 3261).
    Bye,
    /// CANCEL (RFC 3261).
    Cancel,
    /// OPTIONS (RFC 3261).
    Options,
    /// REGISTER (RFC 3261).
    Register,
    /// PRACK (RFC 3262).
    Prack,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// NOTIFY (RFC 6665).
    Notify,
    /// PUBLISH (RFC 3903).
    Publish,
    /// INFO (RFC 6086).
    Info,
    /// REFER (RFC 3515).
    Refer,
    /// MESSAGE (RFC 3428).
    Message,
    /// UPDATE (RFC 3311).
    Update,
    /// Any other method token.
    Extension(&'a str),
}

/// The known methods, in bit order of [`MethodSet`].
const KNOWN: [Method<'static>; 14] = [
    Method::Invite,
    Method::Ack,
    Method::Bye,
    Method::Cancel,
    Method::Options,
    Method::Register,
    Method::Prack,
    Method::Subscribe,
    Method::Notify,
    Method::Publish,
    Method::Info,
    Method::Refer,
    Method::Message,
    Method::Update,
];

impl<'a> Method<'a> {
    /// Parses a method token (exactly; no surrounding white space).
    pub fn parse(s: &'a str) -> Result<Self, ValueError> {
        if let Some(known) = Self::known(s.as_bytes()) {
            return Ok(known);
        }
        if s.is_empty() {
            return Err(ValueError::new(ValueErrorKind::ExpectedToken, 0));
        }
        if let Some(bad) = s.bytes().position(|c| !lex::is_token_byte(c)) {
            return Err(ValueError::new(ValueErrorKind::UnexpectedCharacter, bad));
        }
        Ok(Method::Extension(s))
    }

    /// The known method spelled `name` (case-sensitive): the one candidate
    /// its length and first letter leave, compared once.
    fn known(name: &[u8]) -> Option<Method<'static>> {
        let candidate = match (name.len(), *name.first()?) {
            (6, b'I') => Method::Invite,
            (3, b'A') => Method::Ack,
            (3, b'B') => Method::Bye,
            (6, b'C') => Method::Cancel,
            (7, b'O') => Method::Options,
            (8, b'R') => Method::Register,
            (5, b'P') => Method::Prack,
            (9, b'S') => Method::Subscribe,
            (6, b'N') => Method::Notify,
            (7, b'P') => Method::Publish,
            (4, b'I') => Method::Info,
            (5, b'R') => Method::Refer,
            (7, b'M') => Method::Message,
            (6, b'U') => Method::Update,
            _ => return None,
        };
        (candidate.as_str().as_bytes() == name).then_some(candidate)
    }

    /// The method name as sent on the wire.
    pub fn as_str(&self) -> &'a str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Publish => "PUBLISH",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Update => "UPDATE",
            Method::Extension(s) => s,
        }
    }

    /// The bit of a known method in [`MethodSet`].
    fn bit(&self) -> Option<u16> {
        KNOWN.iter().position(|m| m == self).map(|p| 1 << p)
    }

    /// Appends the method name.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_str().as_bytes());
    }
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most extension methods a [`MethodSet`] keeps.
pub const MAX_EXTENSION_METHODS: usize = 8;

/// A set of methods, as listed by an Allow header: known methods as bits,
/// up to [`MAX_EXTENSION_METHODS`] extension methods kept by name.
///
/// ```
/// use oma_im::sip::{Method, MethodSet};
/// let allow = MethodSet::parse("INVITE, ACK ,MESSAGE,FOO").unwrap();
/// assert!(allow.contains(Method::Message));
/// assert!(allow.contains(Method::Extension("FOO")));
/// assert!(!allow.contains(Method::Bye));
/// assert_eq!(allow.to_string(), "INVITE, ACK, MESSAGE, FOO");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MethodSet<'a> {
    bits: u16,
    extensions: ArrayVec<&'a str, MAX_EXTENSION_METHODS>,
}

impl<'a> MethodSet<'a> {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a comma-separated list of methods (an empty value is the empty
    /// set). More than [`MAX_EXTENSION_METHODS`] distinct extension methods
    /// fail with [`ValueErrorKind::TooManyItems`].
    pub fn parse(value: &'a str) -> Result<Self, ValueError> {
        let mut set = Self::new();
        set.extend_from(value)?;
        Ok(set)
    }

    /// Adds every method of a comma-separated list (another Allow header).
    pub fn extend_from(&mut self, value: &'a str) -> Result<(), ValueError> {
        for (at, item) in CommaSplit::new(value) {
            let m = Method::parse(item).map_err(|e| e.shifted(at))?;
            if !self.insert(m) {
                return Err(ValueError::new(ValueErrorKind::TooManyItems, at));
            }
        }
        Ok(())
    }

    /// Adds `m`; false when `m` is an extension method and the extension space
    /// is full.
    pub fn insert(&mut self, m: Method<'a>) -> bool {
        match (m.bit(), m) {
            (Some(bit), _) => {
                self.bits |= bit;
                true
            }
            (None, Method::Extension(name)) => {
                self.extensions.contains(&name) || self.extensions.try_push(name).is_ok()
            }
            (None, _) => false,
        }
    }

    /// True when `m` is in the set.
    pub fn contains(&self, m: Method<'_>) -> bool {
        match (m.bit(), m) {
            (Some(bit), _) => self.bits & bit != 0,
            (None, Method::Extension(name)) => self.extensions.contains(&name),
            (None, _) => false,
        }
    }

    /// The methods, known ones first in a fixed order, then extensions.
    pub fn iter(&self) -> impl Iterator<Item = Method<'a>> + '_ {
        // A known method's bit is its position in `KNOWN`.
        KNOWN
            .iter()
            .enumerate()
            .filter(|(at, _)| self.bits & (1 << at) != 0)
            .map(|(_, m)| *m)
            .chain(self.extensions.iter().map(|e| Method::Extension(e)))
    }

    /// Number of methods.
    pub fn len(&self) -> usize {
        self.bits.count_ones() as usize + self.extensions.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `M1, M2, ...`.
    pub fn write(&self, out: &mut Vec<u8>) {
        for (k, m) in self.iter().enumerate() {
            if k > 0 {
                out.extend_from_slice(b", ");
            }
            m.write(out);
        }
    }
}

impl<'a> ParseValue<'a> for MethodSet<'a> {
    fn parse_value(value: &'a str, _limits: &ValueLimits) -> Result<Self, ValueError> {
        Self::parse(value)
    }
    fn write_value(&self, out: &mut Vec<u8>) {
        self.write(out);
    }
}

impl fmt::Display for MethodSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, m) in self.iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            f.write_str(m.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_parse_to_themselves() {
        for known in KNOWN {
            assert_eq!(Method::parse(known.as_str()), Ok(known));
        }
        assert_eq!(Method::parse("invite"), Ok(Method::Extension("invite")));
        assert_eq!(Method::parse("FOO"), Ok(Method::Extension("FOO")));
        assert!(Method::parse("IN VITE").is_err());
    }

    #[test]
    fn every_set_writes_its_methods_comma_separated() {
        for bits in 0..1u32 << KNOWN.len() {
            let mut set = MethodSet::new();
            for (at, m) in KNOWN.iter().enumerate() {
                if bits & (1 << at) != 0 {
                    set.insert(*m);
                }
            }
            if bits % 3 == 0 {
                set.insert(Method::Extension("FOO"));
                set.insert(Method::Extension("BAR"));
            }
            let mut names: Vec<&str> = (0..KNOWN.len())
                .filter(|at| bits & (1 << at) != 0)
                .map(|at| KNOWN[at].as_str())
                .collect();
            if bits % 3 == 0 {
                names.extend(["FOO", "BAR"]);
            }
            let mut out = b"x".to_vec();
            set.write(&mut out);
            assert_eq!(out, format!("x{}", names.join(", ")).into_bytes());
        }
    }
}
