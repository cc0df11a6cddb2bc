//! The media type lists of `a=accept-types` and `a=accept-wrapped-types`
//! (RFC 4975 §8.6): `*`, `type/*` or `type/subtype`, space separated.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::error::{SdpError, SdpErrorKind};
use super::text::{own, tokens};
use super::Limits;

/// A list of accepted media types, each `*`, `type/*` or `type/subtype`.
///
/// ```
/// use oma_im::sdp::AcceptTypes;
///
/// let types = AcceptTypes::from_iter(["message/cpim", "text/*"]);
/// assert!(types.matches("text/plain; charset=utf-8"));
/// assert!(types.matches("Message/CPIM"));
/// assert!(!types.matches("image/png"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptTypes<'a> {
    entries: SmallVec<[Cow<'a, str>; 4]>,
}

impl<'a> AcceptTypes<'a> {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one entry (`*`, `type/*` or `type/subtype`), unless an equal
    /// one (ignoring ASCII case) is already there. The entry is written as
    /// given: it is the caller's to keep it well formed. (A parsed list keeps
    /// its entries as received, duplicates included.)
    pub fn push(&mut self, entry: impl Into<Cow<'a, str>>) {
        let entry = entry.into();
        if !self.entries.iter().any(|e| e.eq_ignore_ascii_case(&entry)) {
            self.entries.push(entry);
        }
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| &**e)
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `content_type` (a `Content-Type` value; parameters after `;`
    /// are ignored) is accepted: some entry is `*`, or `type/*` with the same
    /// type, or the same `type/subtype`. Comparison ignores ASCII case.
    pub fn matches(&self, content_type: &str) -> bool {
        // A value written as an entry is (the common case, found without
        // splitting it).
        if self
            .iter()
            .any(|entry| entry == content_type || entry.eq_ignore_ascii_case(content_type))
        {
            return true;
        }
        let essence = content_type.split(';').next().unwrap_or("").trim();
        self.iter().any(|entry| range_covers(entry, essence))
    }

    /// The entries both lists accept, respecting wildcards: for each pair of
    /// entries where one covers the other (`*` covers everything, `type/*`
    /// covers `type/anything`), the narrower one is kept. Order follows
    /// `self`, then `other` for entries of `other` narrowed from a wildcard
    /// of `self`; duplicates are dropped.
    ///
    /// ```
    /// use oma_im::sdp::AcceptTypes;
    ///
    /// let offer = AcceptTypes::from_iter(["message/cpim", "text/*"]);
    /// let local = AcceptTypes::from_iter(["text/plain", "message/cpim", "image/png"]);
    /// let both = offer.intersection(&local);
    /// assert_eq!(both.iter().collect::<Vec<_>>(), ["message/cpim", "text/plain"]);
    /// ```
    ///
    /// The entries are cloned, which copies no text when they borrow it; use
    /// [`borrowed`](Self::borrowed) first to intersect lists of unrelated
    /// lifetimes.
    pub fn intersection<'o>(&self, other: &AcceptTypes<'o>) -> AcceptTypes<'o>
    where
        'a: 'o,
    {
        let mut out = AcceptTypes::new();
        for mine in &self.entries {
            for theirs in &other.entries {
                let kept: &Cow<'o, str> = if range_covers(theirs, mine) {
                    mine
                } else if range_covers(mine, theirs) {
                    theirs
                } else {
                    continue;
                };
                out.push(kept.clone());
            }
        }
        out
    }

    /// A copy borrowing this list's text (no string is copied).
    pub fn borrowed(&self) -> AcceptTypes<'_> {
        AcceptTypes {
            entries: self.iter().map(Cow::Borrowed).collect(),
        }
    }

    /// Parses a space-separated list starting at byte `offset` of the input.
    pub(crate) fn parse(value: &'a str, offset: usize, limits: &Limits) -> Result<Self, SdpError> {
        let mut entries = SmallVec::new();
        for (at, entry) in tokens(value, offset) {
            if entries.len() == limits.max_accept_types {
                return Err(SdpError::new(SdpErrorKind::TooManyAcceptTypes, at));
            }
            if !is_media_range(entry) {
                return Err(SdpError::new(SdpErrorKind::InvalidAcceptType, at));
            }
            entries.push(Cow::Borrowed(entry));
        }
        if entries.is_empty() {
            return Err(SdpError::new(SdpErrorKind::InvalidAttribute, offset));
        }
        Ok(Self { entries })
    }

    /// Appends the entries separated by single spaces.
    pub fn write(&self, out: &mut Vec<u8>) {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(entry.as_bytes());
        }
    }

    /// The same list, owning its text.
    pub fn into_owned(self) -> AcceptTypes<'static> {
        AcceptTypes {
            entries: self.entries.into_iter().map(own).collect(),
        }
    }
}

impl<'a, S: Into<Cow<'a, str>>> FromIterator<S> for AcceptTypes<'a> {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut types = AcceptTypes::new();
        for entry in iter {
            types.push(entry);
        }
        types
    }
}

/// RFC 2045 token characters.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || TOKEN_MARKS[usize::from(b)])
}

/// The token characters that are not letters or digits, by octet.
const TOKEN_MARKS: [bool; 256] = crate::body::mime::octet_table(b"!#$%&'*+-.^_`{|}~");

/// `*`, `type/*` or `type/subtype`.
fn is_media_range(entry: &str) -> bool {
    if entry == "*" {
        return true;
    }
    match entry.split_once('/') {
        Some((ty, sub)) => {
            !ty.contains('*') && is_token(ty) && is_token(sub) && (sub == "*" || !sub.contains('*'))
        }
        None => false,
    }
}

/// Whether the media range `range` covers the media range or type `ty`.
fn range_covers(range: &str, ty: &str) -> bool {
    if range == "*" {
        return true;
    }
    let (Some((range_type, range_sub)), Some((ty_type, ty_sub))) =
        (range.split_once('/'), ty.split_once('/'))
    else {
        return false;
    };
    range_type.eq_ignore_ascii_case(ty_type)
        && (range_sub == "*" || range_sub.eq_ignore_ascii_case(ty_sub))
}
