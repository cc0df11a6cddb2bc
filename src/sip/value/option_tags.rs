//! Option tags (RFC 3261 §19.2) of Supported, Require, Proxy-Require and
//! Unsupported.

use std::fmt;

use arrayvec::ArrayVec;

use crate::sip::lex::{self, CommaSplit};
use crate::sip::{ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// An option tag: the well-known ones by name, others as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionTag<'a> {
    /// `100rel` (RFC 3262).
    Rel100,
    /// `timer` (RFC 4028).
    Timer,
    /// `replaces` (RFC 3891).
    Replaces,
    /// `norefersub` (RFC 4488).
    NoReferSub,
    /// `gruu` (RFC 5627).
    Gruu,
    /// `path` (RFC 3327).
    Path,
    /// `outbound` (RFC 5626).
    Outbound,
    /// `precondition` (RFC 3312).
    Precondition,
    /// `eventlist` (RFC 4662).
    EventList,
    /// `join` (RFC 3911).
    Join,
    /// `tdialog` (RFC 4538).
    TDialog,
    /// `histinfo` (RFC 7044).
    HistInfo,
    /// `multiple-refer` (RFC 5368).
    MultipleRefer,
    /// `recipient-list-invite` (RFC 5366).
    RecipientListInvite,
    /// `recipient-list-message` (RFC 5365).
    RecipientListMessage,
    /// `recipient-list-subscribe` (RFC 5367).
    RecipientListSubscribe,
    /// Any other option tag.
    Other(&'a str),
}

const KNOWN: [(OptionTag<'static>, &str); 16] = [
    (OptionTag::Rel100, "100rel"),
    (OptionTag::Timer, "timer"),
    (OptionTag::Replaces, "replaces"),
    (OptionTag::NoReferSub, "norefersub"),
    (OptionTag::Gruu, "gruu"),
    (OptionTag::Path, "path"),
    (OptionTag::Outbound, "outbound"),
    (OptionTag::Precondition, "precondition"),
    (OptionTag::EventList, "eventlist"),
    (OptionTag::Join, "join"),
    (OptionTag::TDialog, "tdialog"),
    (OptionTag::HistInfo, "histinfo"),
    (OptionTag::MultipleRefer, "multiple-refer"),
    (OptionTag::RecipientListInvite, "recipient-list-invite"),
    (OptionTag::RecipientListMessage, "recipient-list-message"),
    (
        OptionTag::RecipientListSubscribe,
        "recipient-list-subscribe",
    ),
];

impl<'a> OptionTag<'a> {
    /// Recognises a tag (well-known tags case-insensitively).
    pub fn from_token(tag: &'a str) -> Self {
        KNOWN
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(tag))
            .map_or(OptionTag::Other(tag), |(t, _)| *t)
    }

    /// The tag as written on the wire.
    pub fn as_str(&self) -> &'a str {
        match self {
            OptionTag::Other(t) => t,
            known => KNOWN
                .iter()
                .find(|(t, _)| t == known)
                .map_or("", |(_, n)| n),
        }
    }

    fn bit(&self) -> Option<u16> {
        KNOWN.iter().position(|(t, _)| t == self).map(|p| 1 << p)
    }
}

impl fmt::Display for OptionTag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most unknown option tags an [`OptionTags`] keeps.
pub const MAX_OTHER_OPTION_TAGS: usize = 8;

/// A set of option tags: well-known tags as bits, up to
/// [`MAX_OTHER_OPTION_TAGS`] others by name.
///
/// ```
/// use oma_im::sip::{OptionTag, Supported};
/// let s = Supported::parse("timer, 100rel,\r\n x-foo").unwrap();
/// assert!(s.contains(OptionTag::Timer));
/// assert!(s.contains(OptionTag::Rel100));
/// assert!(s.contains(OptionTag::Other("x-foo")));
/// assert!(!s.contains(OptionTag::Replaces));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionTags<'a> {
    bits: u16,
    others: ArrayVec<&'a str, MAX_OTHER_OPTION_TAGS>,
}

/// The option tags of a Supported header.
pub type Supported<'a> = OptionTags<'a>;
/// The option tags of a Require header.
pub type Require<'a> = OptionTags<'a>;
/// The option tags of a Proxy-Require header.
pub type ProxyRequire<'a> = OptionTags<'a>;
/// The option tags of an Unsupported header.
pub type Unsupported<'a> = OptionTags<'a>;

impl<'a> OptionTags<'a> {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a comma-separated list of option tags (may be empty).
    pub fn parse_with(value: &'a str, _limits: &ValueLimits) -> Result<Self, ValueError> {
        let mut set = Self::new();
        set.extend_from(value)?;
        Ok(set)
    }

    /// Adds the tags of another header of the same name.
    pub fn extend_from(&mut self, value: &'a str) -> Result<(), ValueError> {
        for (at, item) in CommaSplit::new(value) {
            if !lex::is_token(item) {
                return Err(ValueError::new(ValueErrorKind::ExpectedToken, at));
            }
            if !self.insert(OptionTag::from_token(item)) {
                return Err(ValueError::new(ValueErrorKind::TooManyItems, at));
            }
        }
        Ok(())
    }

    /// Adds `tag`; false when it is an unknown tag and there is no room left.
    pub fn insert(&mut self, tag: OptionTag<'a>) -> bool {
        match (tag.bit(), tag) {
            (Some(bit), _) => {
                self.bits |= bit;
                true
            }
            (None, OptionTag::Other(t)) => {
                self.others.contains(&t) || self.others.try_push(t).is_ok()
            }
            (None, _) => false,
        }
    }

    /// True when `tag` is in the set.
    pub fn contains(&self, tag: OptionTag<'_>) -> bool {
        match (tag.bit(), tag) {
            (Some(bit), _) => self.bits & bit != 0,
            (None, OptionTag::Other(t)) => self.others.contains(&t),
            (None, _) => false,
        }
    }

    /// The tags, well-known first.
    pub fn iter(&self) -> impl Iterator<Item = OptionTag<'a>> + '_ {
        KNOWN
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| t.bit().is_some_and(|b| self.bits & b != 0))
            .chain(self.others.iter().map(|t| OptionTag::Other(t)))
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.bits.count_ones() as usize + self.others.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `tag1, tag2, ...`.
    pub fn write(&self, out: &mut Vec<u8>) {
        for (k, t) in self.iter().enumerate() {
            if k > 0 {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(t.as_str().as_bytes());
        }
    }
}

value_type!(OptionTags<'a>);
