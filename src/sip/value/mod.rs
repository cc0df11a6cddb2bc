//! Typed SIP header values, one module per header family.
//!
//! Every type parses leniently from a borrowed header value (`parse`, or
//! `parse_with` for explicit [`ValueLimits`]), borrows the text it came from,
//! and writes its canonical form with `write` (which parses back equal).
//! Errors are [`ValueError`]s with offsets relative to the value.
//!
//! List-valued headers (Via, Contact, Route, ...) are split at top-level
//! commas by [`list`], which yields one parsed element at a time without
//! allocating.

use std::fmt;
use std::marker::PhantomData;

use super::lex::CommaSplit;

mod address;
mod caller_prefs;
mod content;
mod error;
mod event;
mod limits;
mod numeric;
mod option_tags;
mod privacy;
mod product;
mod session_timer;
mod via;
mod warning;

pub use address::{
    Contact, FromTo, PAssertedIdentity, PPreferredIdentity, RecordRoute, ReferTo, ReferredBy, Route,
};
pub use caller_prefs::{AcceptContact, RejectContact};
pub use content::{ContentDisposition, ContentType};
pub use error::{ValueError, ValueErrorKind};
pub use event::{Event, SubState, SubscriptionState};
pub(crate) use limits::KeptValueLimits;
pub use limits::ValueLimits;

/// The methods of an Allow header (RFC 3261 §20.5).
pub type Allow<'a> = crate::sip::MethodSet<'a>;
pub use numeric::{CSeq, CallId, Expires, MaxForwards};
pub use option_tags::{
    OptionTag, OptionTags, ProxyRequire, Require, Supported, Unsupported, MAX_OTHER_OPTION_TAGS,
};
pub use privacy::{PrivValue, Privacy};
pub use product::{Product, ProductItem, ProductList};
pub use session_timer::{MinSe, Refresher, SessionExpires};
pub use via::Via;
pub use warning::Warning;

/// A header value type: parsed from a borrowed value, written canonically.
pub trait ParseValue<'a>: Sized {
    /// Parses the value under `limits`.
    fn parse_value(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError>;
    /// Appends the canonical form.
    fn write_value(&self, out: &mut Vec<u8>);
}

/// Implements `parse`, [`ParseValue`] and `Display` from inherent
/// `parse_with` and `write`.
macro_rules! value_type {
    ($t:ident <$l:lifetime>) => {
        impl<$l> $t<$l> {
            /// Parses the value with the default [`ValueLimits`](crate::sip::ValueLimits).
            pub fn parse(value: &$l str) -> Result<Self, $crate::sip::ValueError> {
                Self::parse_with(value, &$crate::sip::ValueLimits::DEFAULT)
            }
        }
        impl<$l> $crate::sip::value::ParseValue<$l> for $t<$l> {
            fn parse_value(
                value: &$l str,
                limits: &$crate::sip::ValueLimits,
            ) -> Result<Self, $crate::sip::ValueError> {
                Self::parse_with(value, limits)
            }
            fn write_value(&self, out: &mut Vec<u8>) {
                self.write(out)
            }
        }
        impl std::fmt::Display for $t<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                $crate::sip::value::display(f, |out| self.write(out))
            }
        }
    };
    ($t:ident) => {
        impl $t {
            /// Parses the value.
            pub fn parse(value: &str) -> Result<Self, $crate::sip::ValueError> {
                Self::parse_with(value, &$crate::sip::ValueLimits::DEFAULT)
            }
        }
        impl<'a> $crate::sip::value::ParseValue<'a> for $t {
            fn parse_value(
                value: &'a str,
                limits: &$crate::sip::ValueLimits,
            ) -> Result<Self, $crate::sip::ValueError> {
                Self::parse_with(value, limits)
            }
            fn write_value(&self, out: &mut Vec<u8>) {
                self.write(out)
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                $crate::sip::value::display(f, |out| self.write(out))
            }
        }
    };
}
pub(crate) use value_type;

/// Formats what `write` appends.
pub(crate) fn display(f: &mut fmt::Formatter<'_>, write: impl FnOnce(&mut Vec<u8>)) -> fmt::Result {
    let mut out = Vec::new();
    write(&mut out);
    f.write_str(&String::from_utf8_lossy(&out))
}

/// The elements of a comma-separated header value, parsed one at a time.
///
/// ```
/// use oma_im::sip::{value, Via};
///
/// let vias: Vec<_> = value::list::<Via>("SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP [2001:db8::1]:5061")
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(vias.len(), 2);
/// assert_eq!(vias[1].port, Some(5061));
/// ```
pub fn list<'a, T: ParseValue<'a>>(value: &'a str) -> List<'a, T> {
    list_with(value, &ValueLimits::DEFAULT)
}

/// [`list`] under explicit limits.
pub fn list_with<'a, T: ParseValue<'a>>(value: &'a str, limits: &ValueLimits) -> List<'a, T> {
    List {
        split: CommaSplit::new(value),
        limits: *limits,
        item: PhantomData,
    }
}

/// Iterator returned by [`list`]: each element parsed, errors at offsets
/// relative to the whole value.
#[derive(Debug, Clone)]
pub struct List<'a, T> {
    split: CommaSplit<'a>,
    limits: ValueLimits,
    item: PhantomData<fn() -> T>,
}

impl<'a, T: ParseValue<'a>> Iterator for List<'a, T> {
    type Item = Result<T, ValueError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (at, item) = self.split.next()?;
        Some(T::parse_value(item, &self.limits).map_err(|e| e.shifted(at)))
    }
}
