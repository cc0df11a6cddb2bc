//! Header field names (RFC 3261 §7.3, §20 and the IANA "Header Fields"
//! registry): recognition of long and compact forms, canonical spelling.

use core::fmt;
use core::hash::{Hash, Hasher};

macro_rules! header_names {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// The name of a SIP header field.
        ///
        /// Header names are case-insensitive (RFC 3261 §7.3.1). [`HeaderName::parse`]
        /// recognises the long names below and the compact forms of RFC 3261 §7.3.3
        /// and the IANA registry; anything else is kept as [`HeaderName::Other`],
        /// which compares case-insensitively. [`HeaderName::as_str`] gives the
        /// canonical long name. Build names from text with [`HeaderName::parse`]:
        /// `HeaderName::Other("v")` is a header named `v`, not Via.
        ///
        /// ```
        /// use oma_im::sip::HeaderName;
        ///
        /// assert_eq!(HeaderName::parse("v"), HeaderName::Via);
        /// assert_eq!(HeaderName::parse("cALL-iD"), HeaderName::CallId);
        /// assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
        /// assert_eq!(HeaderName::parse("X-Foo"), HeaderName::Other("x-FOO"));
        /// ```
        #[derive(Debug, Clone, Copy)]
        #[non_exhaustive]
        pub enum HeaderName<'a> {
            $( $(#[$doc])* $variant, )*
            /// Any other header field, spelled as in the message.
            Other(&'a str),
        }

        impl<'a> HeaderName<'a> {
            /// The canonical long name (the spelling of RFC 3261 / the IANA
            /// registry); for [`HeaderName::Other`], the name as given.
            pub fn as_str(&self) -> &'a str {
                match *self {
                    $( HeaderName::$variant => $name, )*
                    HeaderName::Other(name) => name,
                }
            }
        }

        /// Every known name, in declaration order: the known name with
        /// [`HeaderName::id`] `n` is at index `n - 1`.
        const ALL_KNOWN: &[HeaderName<'static>] = &[$( HeaderName::$variant, )*];

        /// The canonical long names, in declaration order.
        const NAMES: &[&str] = &[$( $name, )*];

        /// The position of each known name in [`ALL_KNOWN`].
        #[repr(u8)]
        enum KnownId {
            $( $variant, )*
        }

        impl HeaderName<'_> {
            /// A one-octet identifier: `1 + ` the index of a known name in
            /// the list of known names, `0` for [`HeaderName::Other`].
            #[inline]
            pub(crate) const fn id(&self) -> u8 {
                match self {
                    $( HeaderName::$variant => KnownId::$variant as u8 + 1, )*
                    HeaderName::Other(_) => 0,
                }
            }
        }
    };
}

header_names! {
    /// `Accept` (RFC 3261 §20.1).
    Accept => "Accept",
    /// `Accept-Contact` (RFC 3841), compact `a`.
    AcceptContact => "Accept-Contact",
    /// `Accept-Encoding` (RFC 3261 §20.2).
    AcceptEncoding => "Accept-Encoding",
    /// `Accept-Language` (RFC 3261 §20.3).
    AcceptLanguage => "Accept-Language",
    /// `Alert-Info` (RFC 3261 §20.4).
    AlertInfo => "Alert-Info",
    /// `Allow` (RFC 3261 §20.5).
    Allow => "Allow",
    /// `Allow-Events` (RFC 6665), compact `u`.
    AllowEvents => "Allow-Events",
    /// `Authentication-Info` (RFC 3261 §20.6).
    AuthenticationInfo => "Authentication-Info",
    /// `Authorization` (RFC 3261 §20.7).
    Authorization => "Authorization",
    /// `Call-ID` (RFC 3261 §20.8), compact `i`.
    CallId => "Call-ID",
    /// `Call-Info` (RFC 3261 §20.9).
    CallInfo => "Call-Info",
    /// `Contact` (RFC 3261 §20.10), compact `m`.
    Contact => "Contact",
    /// `Content-Disposition` (RFC 3261 §20.11).
    ContentDisposition => "Content-Disposition",
    /// `Content-Encoding` (RFC 3261 §20.12), compact `e`.
    ContentEncoding => "Content-Encoding",
    /// `Content-ID` (RFC 2045, used by OMA IM).
    ContentId => "Content-ID",
    /// `Content-Language` (RFC 3261 §20.13).
    ContentLanguage => "Content-Language",
    /// `Content-Length` (RFC 3261 §20.14), compact `l`.
    ContentLength => "Content-Length",
    /// `Content-Type` (RFC 3261 §20.15), compact `c`.
    ContentType => "Content-Type",
    /// `CSeq` (RFC 3261 §20.16).
    CSeq => "CSeq",
    /// `Date` (RFC 3261 §20.17).
    Date => "Date",
    /// `Error-Info` (RFC 3261 §20.18).
    ErrorInfo => "Error-Info",
    /// `Event` (RFC 6665), compact `o`.
    Event => "Event",
    /// `Expires` (RFC 3261 §20.19).
    Expires => "Expires",
    /// `From` (RFC 3261 §20.20), compact `f`.
    From => "From",
    /// `Identity` (RFC 4474), compact `y`.
    Identity => "Identity",
    /// `Identity-Info` (RFC 4474), compact `n`.
    IdentityInfo => "Identity-Info",
    /// `In-Reply-To` (RFC 3261 §20.21).
    InReplyTo => "In-Reply-To",
    /// `Max-Forwards` (RFC 3261 §20.22).
    MaxForwards => "Max-Forwards",
    /// `MIME-Version` (RFC 3261 §20.24).
    MimeVersion => "MIME-Version",
    /// `Min-Expires` (RFC 3261 §20.23).
    MinExpires => "Min-Expires",
    /// `Min-SE` (RFC 4028).
    MinSe => "Min-SE",
    /// `Organization` (RFC 3261 §20.25).
    Organization => "Organization",
    /// `P-Asserted-Identity` (RFC 3325).
    PAssertedIdentity => "P-Asserted-Identity",
    /// `P-Preferred-Identity` (RFC 3325).
    PPreferredIdentity => "P-Preferred-Identity",
    /// `Priority` (RFC 3261 §20.26).
    Priority => "Priority",
    /// `Privacy` (RFC 3323).
    Privacy => "Privacy",
    /// `Proxy-Authenticate` (RFC 3261 §20.27).
    ProxyAuthenticate => "Proxy-Authenticate",
    /// `Proxy-Authorization` (RFC 3261 §20.28).
    ProxyAuthorization => "Proxy-Authorization",
    /// `Proxy-Require` (RFC 3261 §20.29).
    ProxyRequire => "Proxy-Require",
    /// `Reason` (RFC 3326).
    Reason => "Reason",
    /// `Record-Route` (RFC 3261 §20.30).
    RecordRoute => "Record-Route",
    /// `Refer-To` (RFC 3515), compact `r`.
    ReferTo => "Refer-To",
    /// `Referred-By` (RFC 3892), compact `b`.
    ReferredBy => "Referred-By",
    /// `Reject-Contact` (RFC 3841), compact `j`.
    RejectContact => "Reject-Contact",
    /// `Reply-To` (RFC 3261 §20.31).
    ReplyTo => "Reply-To",
    /// `Request-Disposition` (RFC 3841), compact `d`.
    RequestDisposition => "Request-Disposition",
    /// `Require` (RFC 3261 §20.32).
    Require => "Require",
    /// `Retry-After` (RFC 3261 §20.33).
    RetryAfter => "Retry-After",
    /// `Route` (RFC 3261 §20.34).
    Route => "Route",
    /// `Server` (RFC 3261 §20.35).
    Server => "Server",
    /// `Session-Expires` (RFC 4028), compact `x`.
    SessionExpires => "Session-Expires",
    /// `Subject` (RFC 3261 §20.36), compact `s`.
    Subject => "Subject",
    /// `Subscription-State` (RFC 6665).
    SubscriptionState => "Subscription-State",
    /// `Supported` (RFC 3261 §20.37), compact `k`.
    Supported => "Supported",
    /// `Timestamp` (RFC 3261 §20.38).
    Timestamp => "Timestamp",
    /// `To` (RFC 3261 §20.39), compact `t`.
    To => "To",
    /// `Unsupported` (RFC 3261 §20.40).
    Unsupported => "Unsupported",
    /// `User-Agent` (RFC 3261 §20.41).
    UserAgent => "User-Agent",
    /// `Via` (RFC 3261 §20.42), compact `v`.
    Via => "Via",
    /// `Warning` (RFC 3261 §20.43).
    Warning => "Warning",
    /// `WWW-Authenticate` (RFC 3261 §20.44).
    WwwAuthenticate => "WWW-Authenticate",
}

/// `true` when `name` equals `known` ignoring ASCII case (lengths first).
///
/// Known names hold only letters and `-`. A letter of `known` matches
/// either case of itself and `-` matches only `-`: with `m` holding bit
/// 0x20 at the letters of `known` (bit 0x40 of a letter, shifted down),
/// `name | m == known | m` octet by octet, compared a word at a time
/// (overlapping words at the end).
#[inline]
fn is(name: &[u8], known: &str) -> bool {
    let known = known.as_bytes();
    let n = known.len();
    if name.len() != n {
        return false;
    }
    if n >= 8 {
        let word = |b: &[u8], at: usize| {
            b.get(at..at + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map_or(0, u64::from_le_bytes)
        };
        let same = |at: usize| {
            let (x, k) = (word(name, at), word(known, at));
            let m = (k >> 1) & u64::from_ne_bytes([0x20; 8]);
            x | m == k | m
        };
        let mut at = 0;
        while at + 8 < n {
            if !same(at) {
                return false;
            }
            at += 8;
        }
        return same(n - 8);
    }
    if n >= 4 {
        let word = |b: &[u8], at: usize| {
            b.get(at..at + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok())
                .map_or(0, u32::from_le_bytes)
        };
        let same = |at: usize| {
            let (x, k) = (word(name, at), word(known, at));
            let m = (k >> 1) & u32::from_ne_bytes([0x20; 4]);
            x | m == k | m
        };
        return same(0) && same(n - 4);
    }
    name.iter().zip(known).all(|(&x, &k)| {
        let m = (k >> 1) & 0x20;
        x | m == k | m
    })
}

/// Bit 0x20 of every octet of a word: the case bit of a letter.
const CASE: u64 = 0x2020_2020_2020_2020;

/// The multiplier of the hash of [`key`] into [`ID_BY_KEY`], chosen so that
/// no two known names share a slot (checked when the table is built).
const MAGIC: u64 = 0xe66743dc5e3c1d97;

/// Up to eight octets of `name` from `at` as a little-endian word, zero
/// past the end.
const fn word(name: &[u8], at: usize) -> u64 {
    let mut w = 0;
    let mut i = 0;
    while i < 8 && at + i < name.len() {
        w |= (name[at + i] as u64) << (8 * i);
        i += 1;
    }
    w
}

/// The slot in [`ID_BY_KEY`] of a name of `n` octets whose first word
/// (zero past the name) is `first` and whose last eight octets are `last`
/// (`first` again for short names). Letters hash alike in either case.
const fn slot(n: usize, first: u64, last: u64) -> usize {
    let key = (first | CASE) ^ (last | CASE).rotate_left(29) ^ n as u64;
    (key.wrapping_mul(MAGIC) >> 56) as usize
}

/// A known long name as the words a header name is compared with: word 0
/// holds octets 0..8, word 1 the last eight octets (names over eight
/// octets), word 2 octets 8..16 (names over sixteen octets).
#[derive(Clone, Copy)]
struct Pattern {
    /// The name's length.
    len: usize,
    /// The words of the name with its letters in lower case.
    lower: [u64; 3],
    /// Bit 0x20 at the letters of each word: `x | letters == lower`
    /// accepts either case of a letter and only the octet itself elsewhere.
    letters: [u64; 3],
}

/// The [`Pattern`] of each known name, in declaration order.
static PATTERNS: [Pattern; NAMES.len()] = {
    let mut patterns = [Pattern {
        len: 0,
        lower: [0; 3],
        letters: [0; 3],
    }; NAMES.len()];
    let mut k = 0;
    while k < NAMES.len() {
        let name = NAMES[k].as_bytes();
        let n = name.len();
        assert!(n <= 24);
        let mut lower = [0u8; 24];
        let mut letters = [0u8; 24];
        let mut i = 0;
        while i < n {
            if name[i].is_ascii_alphabetic() {
                letters[i] = 0x20;
            }
            lower[i] = name[i].to_ascii_lowercase();
            i += 1;
        }
        let (lower, letters) = (lower.split_at(n).0, letters.split_at(n).0);
        let last = n.saturating_sub(8);
        patterns[k] = Pattern {
            len: n,
            lower: [word(lower, 0), word(lower, last), word(lower, 8)],
            letters: [word(letters, 0), word(letters, last), word(letters, 8)],
        };
        k += 1;
    }
    patterns
};

/// The [`HeaderName::id`] of the known long name in each [`slot`], `0`
/// for none. Building it checks that [`MAGIC`] keeps the names apart.
static ID_BY_KEY: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut k = 0;
    while k < NAMES.len() {
        let p = &PATTERNS[k];
        let at = slot(p.len, p.lower[0], p.lower[1]);
        assert!(table[at] == 0, "two known names share a hash slot");
        table[at] = (k + 1) as u8;
        k += 1;
    }
    table
};

/// The [`HeaderName::id`] of the known long name (any case) that the first
/// `n` octets of `field` spell, `n` being at least 2: one hash look-up,
/// then one to three word comparisons.
#[inline]
fn known_long(field: &[u8], n: usize) -> Option<u8> {
    let at = |i: usize| {
        field
            .get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
    };
    let first = match at(0) {
        Some(w) if n < 8 => w & (u64::MAX >> (64 - 8 * n.max(1))),
        Some(w) => w,
        None => word(field.get(..n)?, 0),
    };
    let last = if n <= 8 { first } else { at(n - 8)? };
    let id = *ID_BY_KEY.get(slot(n, first, last))?;
    let p = PATTERNS.get(usize::from(id).checked_sub(1)?)?;
    let same = |x: u64, i: usize| x | p.letters[i] == p.lower[i];
    let found = p.len == n
        && same(first, 0)
        && (n <= 8 || same(last, 1))
        && (n <= 16 || at(8).is_some_and(|x| same(x, 2)));
    found.then_some(id)
}

/// The length of the run of octets at the start of `field` that may belong
/// to a known name: it ends at the first octet below `A` other than `-`
/// (`:`, LWS, CR, digits...). Eight octets at a time: an octet `b` below
/// 0x80 is below `A` when `(b | 0x80) - 0x41` has its top bit clear, and is
/// `-` when `b ^ b'-'` is zero; no step carries into the next octet.
#[inline]
fn name_run(field: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let mut at = 0;
    while let Some(word) = field
        .get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let w = u64::from_le_bytes(word);
        let below_a = !((w | HIGH) - ONES * 0x41) & !w & HIGH;
        let t = w ^ (ONES * u64::from(b'-'));
        let dash = !(((t & !HIGH) + !HIGH) | t) & HIGH;
        let end = below_a & !dash;
        if end != 0 {
            return at + (end.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = field.get(at..).unwrap_or_default();
    at + tail.iter().take_while(|&&b| b >= b'A' || b == b'-').count()
}

impl<'a> HeaderName<'a> {
    /// Recognises a header name, long or compact form, ignoring ASCII case.
    /// Unknown names become [`HeaderName::Other`] borrowing `name`.
    ///
    /// Dispatches on the first byte, then compares lengths before bytes: no
    /// allocation, a handful of comparisons.
    pub fn parse(name: &'a str) -> HeaderName<'a> {
        HeaderName::known(name.as_bytes()).unwrap_or(HeaderName::Other(name))
    }

    /// The known header `name` stands for (long or compact form, any case),
    /// if any.
    pub(crate) fn known(name: &[u8]) -> Option<HeaderName<'static>> {
        let b = name;
        let &first = b.first()?;
        if b.len() == 1 {
            return Self::compact(first);
        }
        match first.to_ascii_lowercase() {
            b'a' => match b.len() {
                5 if is(b, "Allow") => Some(HeaderName::Allow),
                6 if is(b, "Accept") => Some(HeaderName::Accept),
                10 if is(b, "Alert-Info") => Some(HeaderName::AlertInfo),
                12 if is(b, "Allow-Events") => Some(HeaderName::AllowEvents),
                13 if is(b, "Authorization") => Some(HeaderName::Authorization),
                14 if is(b, "Accept-Contact") => Some(HeaderName::AcceptContact),
                15 if is(b, "Accept-Encoding") => Some(HeaderName::AcceptEncoding),
                15 if is(b, "Accept-Language") => Some(HeaderName::AcceptLanguage),
                19 if is(b, "Authentication-Info") => Some(HeaderName::AuthenticationInfo),
                _ => None,
            },
            b'c' => match b.len() {
                4 if is(b, "CSeq") => Some(HeaderName::CSeq),
                7 if is(b, "Call-ID") => Some(HeaderName::CallId),
                7 if is(b, "Contact") => Some(HeaderName::Contact),
                9 if is(b, "Call-Info") => Some(HeaderName::CallInfo),
                10 if is(b, "Content-ID") => Some(HeaderName::ContentId),
                12 if is(b, "Content-Type") => Some(HeaderName::ContentType),
                14 if is(b, "Content-Length") => Some(HeaderName::ContentLength),
                16 if is(b, "Content-Encoding") => Some(HeaderName::ContentEncoding),
                16 if is(b, "Content-Language") => Some(HeaderName::ContentLanguage),
                19 if is(b, "Content-Disposition") => Some(HeaderName::ContentDisposition),
                _ => None,
            },
            b'd' if is(b, "Date") => Some(HeaderName::Date),
            b'e' => match b.len() {
                5 if is(b, "Event") => Some(HeaderName::Event),
                7 if is(b, "Expires") => Some(HeaderName::Expires),
                10 if is(b, "Error-Info") => Some(HeaderName::ErrorInfo),
                _ => None,
            },
            b'f' if is(b, "From") => Some(HeaderName::From),
            b'i' => match b.len() {
                8 if is(b, "Identity") => Some(HeaderName::Identity),
                11 if is(b, "In-Reply-To") => Some(HeaderName::InReplyTo),
                13 if is(b, "Identity-Info") => Some(HeaderName::IdentityInfo),
                _ => None,
            },
            b'm' => match b.len() {
                6 if is(b, "Min-SE") => Some(HeaderName::MinSe),
                11 if is(b, "Min-Expires") => Some(HeaderName::MinExpires),
                12 if is(b, "Max-Forwards") => Some(HeaderName::MaxForwards),
                12 if is(b, "MIME-Version") => Some(HeaderName::MimeVersion),
                _ => None,
            },
            b'o' if is(b, "Organization") => Some(HeaderName::Organization),
            b'p' => match b.len() {
                7 if is(b, "Privacy") => Some(HeaderName::Privacy),
                8 if is(b, "Priority") => Some(HeaderName::Priority),
                13 if is(b, "Proxy-Require") => Some(HeaderName::ProxyRequire),
                18 if is(b, "Proxy-Authenticate") => Some(HeaderName::ProxyAuthenticate),
                19 if is(b, "P-Asserted-Identity") => Some(HeaderName::PAssertedIdentity),
                19 if is(b, "Proxy-Authorization") => Some(HeaderName::ProxyAuthorization),
                20 if is(b, "P-Preferred-Identity") => Some(HeaderName::PPreferredIdentity),
                _ => None,
            },
            b'r' => match b.len() {
                5 if is(b, "Route") => Some(HeaderName::Route),
                6 if is(b, "Reason") => Some(HeaderName::Reason),
                7 if is(b, "Require") => Some(HeaderName::Require),
                8 if is(b, "Refer-To") => Some(HeaderName::ReferTo),
                8 if is(b, "Reply-To") => Some(HeaderName::ReplyTo),
                11 if is(b, "Referred-By") => Some(HeaderName::ReferredBy),
                11 if is(b, "Retry-After") => Some(HeaderName::RetryAfter),
                12 if is(b, "Record-Route") => Some(HeaderName::RecordRoute),
                14 if is(b, "Reject-Contact") => Some(HeaderName::RejectContact),
                19 if is(b, "Request-Disposition") => Some(HeaderName::RequestDisposition),
                _ => None,
            },
            b's' => match b.len() {
                6 if is(b, "Server") => Some(HeaderName::Server),
                7 if is(b, "Subject") => Some(HeaderName::Subject),
                9 if is(b, "Supported") => Some(HeaderName::Supported),
                15 if is(b, "Session-Expires") => Some(HeaderName::SessionExpires),
                18 if is(b, "Subscription-State") => Some(HeaderName::SubscriptionState),
                _ => None,
            },
            b't' => match b.len() {
                2 if is(b, "To") => Some(HeaderName::To),
                9 if is(b, "Timestamp") => Some(HeaderName::Timestamp),
                _ => None,
            },
            b'u' => match b.len() {
                10 if is(b, "User-Agent") => Some(HeaderName::UserAgent),
                11 if is(b, "Unsupported") => Some(HeaderName::Unsupported),
                _ => None,
            },
            b'v' if is(b, "Via") => Some(HeaderName::Via),
            b'w' => match b.len() {
                7 if is(b, "Warning") => Some(HeaderName::Warning),
                16 if is(b, "WWW-Authenticate") => Some(HeaderName::WwwAuthenticate),
                _ => None,
            },
            _ => None,
        }
    }

    /// The [`HeaderName::id`] of the known name (long or compact form, any
    /// case) at the start of the header field `field`, if the name ends
    /// there (at `:`, LWS or the end of the field), and its length.
    ///
    /// The name's end is found a word at a time; a long name is then
    /// looked up by a hash of its words and compared once.
    #[inline(always)]
    pub(crate) fn known_prefix(field: &[u8]) -> Option<(u8, usize)> {
        let n = name_run(field);
        if !field
            .get(n)
            .is_none_or(|b| matches!(b, b':' | b' ' | b'\t' | b'\r' | b'\n'))
        {
            return None;
        }
        let id = match n {
            0 => return None,
            1 => Self::compact(*field.first()?)?.id(),
            _ => known_long(field, n)?,
        };
        Some((id, n))
    }

    /// The header a one-letter compact form stands for (RFC 3261 §7.3.3 and
    /// the IANA registry), ignoring case.
    pub fn compact(letter: u8) -> Option<HeaderName<'static>> {
        Some(match letter.to_ascii_lowercase() {
            b'a' => HeaderName::AcceptContact,
            b'b' => HeaderName::ReferredBy,
            b'c' => HeaderName::ContentType,
            b'd' => HeaderName::RequestDisposition,
            b'e' => HeaderName::ContentEncoding,
            b'f' => HeaderName::From,
            b'i' => HeaderName::CallId,
            b'j' => HeaderName::RejectContact,
            b'k' => HeaderName::Supported,
            b'l' => HeaderName::ContentLength,
            b'm' => HeaderName::Contact,
            b'n' => HeaderName::IdentityInfo,
            b'o' => HeaderName::Event,
            b'r' => HeaderName::ReferTo,
            b's' => HeaderName::Subject,
            b't' => HeaderName::To,
            b'u' => HeaderName::AllowEvents,
            b'v' => HeaderName::Via,
            b'x' => HeaderName::SessionExpires,
            b'y' => HeaderName::Identity,
            _ => return None,
        })
    }

    /// The known name whose [`HeaderName::id`] is `id` (not `0`).
    pub(crate) fn from_id(id: u8) -> Option<HeaderName<'static>> {
        ALL_KNOWN.get(usize::from(id).checked_sub(1)?).copied()
    }

    /// `true` for [`HeaderName::Other`].
    pub fn is_other(&self) -> bool {
        matches!(self, HeaderName::Other(_))
    }
}

impl<'a> From<&'a str> for HeaderName<'a> {
    fn from(name: &'a str) -> Self {
        HeaderName::parse(name)
    }
}

impl PartialEq for HeaderName<'_> {
    /// Known names compare by identity; [`HeaderName::Other`] compares with
    /// anything by its name, ignoring ASCII case.
    fn eq(&self, other: &HeaderName<'_>) -> bool {
        match (self, other) {
            (HeaderName::Other(a), b) => a.eq_ignore_ascii_case(b.as_str()),
            (a, HeaderName::Other(b)) => b.eq_ignore_ascii_case(a.as_str()),
            (a, b) => core::mem::discriminant(a) == core::mem::discriminant(b),
        }
    }
}

impl Eq for HeaderName<'_> {}

impl Hash for HeaderName<'_> {
    /// Hashes the name's ASCII-lowercased bytes, consistently with `==`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.as_str().bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
        state.write_u8(0xff);
    }
}

impl fmt::Display for HeaderName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_is_recognised_in_any_case() {
        for known in ALL_KNOWN {
            let name = known.as_str();
            assert_eq!(HeaderName::parse(name), *known, "{name}");
            assert!(!HeaderName::parse(name).is_other(), "{name}");
            let lower = name.to_ascii_lowercase();
            assert!(!HeaderName::parse(&lower).is_other(), "{lower}");
            assert_eq!(HeaderName::parse(&lower).as_str(), name);
            let upper = name.to_ascii_uppercase();
            assert_eq!(HeaderName::parse(&upper).as_str(), name);
        }
    }

    #[test]
    fn names_differing_in_one_octet_are_not_recognised() {
        for known in ALL_KNOWN {
            let name = known.as_str();
            for at in 0..name.len() {
                for replacement in [b'\r', b'\n', b'x', b'-', b'_', b'0', 0x80] {
                    let mut bytes = name.as_bytes().to_vec();
                    if bytes[at].eq_ignore_ascii_case(&replacement) {
                        continue;
                    }
                    bytes[at] = replacement;
                    let known = HeaderName::known(&bytes);
                    assert!(
                        known.is_none_or(|k| k.as_str().len() != name.len()),
                        "{:?} taken for {known:?}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
            }
        }
    }

    #[test]
    fn compact_forms_map_to_their_long_names() {
        let pairs = [
            ("i", "Call-ID"),
            ("m", "Contact"),
            ("e", "Content-Encoding"),
            ("l", "Content-Length"),
            ("c", "Content-Type"),
            ("f", "From"),
            ("s", "Subject"),
            ("k", "Supported"),
            ("t", "To"),
            ("v", "Via"),
            ("o", "Event"),
            ("r", "Refer-To"),
            ("b", "Referred-By"),
            ("a", "Accept-Contact"),
            ("j", "Reject-Contact"),
            ("d", "Request-Disposition"),
            ("x", "Session-Expires"),
            ("u", "Allow-Events"),
            ("y", "Identity"),
            ("n", "Identity-Info"),
        ];
        for (short, long) in pairs {
            assert_eq!(HeaderName::parse(short).as_str(), long);
            assert_eq!(
                HeaderName::parse(&short.to_ascii_uppercase()).as_str(),
                long
            );
        }
        assert!(HeaderName::parse("g").is_other());
        assert!(HeaderName::parse("").is_other());
    }

    #[test]
    fn other_names_compare_ignoring_case() {
        assert_eq!(HeaderName::Other("X-Custom"), HeaderName::parse("x-cUSTOM"));
        assert_ne!(
            HeaderName::Other("X-Custom"),
            HeaderName::Other("X-Custom2")
        );
        assert_eq!(HeaderName::Other("via"), HeaderName::Via);
        assert_ne!(HeaderName::Via, HeaderName::To);
        assert_eq!(
            HeaderName::parse("NewFangledHeader").as_str(),
            "NewFangledHeader"
        );
    }

    proptest::proptest! {
        #[test]
        fn word_comparison_is_exact(
            k in 0..ALL_KNOWN.len(),
            flips in proptest::collection::vec((0usize..24, proptest::num::u8::ANY), 0..3),
        ) {
            let known = ALL_KNOWN[k].as_str();
            let mut name = known.as_bytes().to_vec();
            for (at, byte) in flips {
                if let Some(b) = name.get_mut(at) {
                    *b = byte;
                }
            }
            proptest::prop_assert_eq!(is(&name, known), name.eq_ignore_ascii_case(known.as_bytes()));
            let upper = known.to_ascii_uppercase();
            proptest::prop_assert!(is(upper.as_bytes(), known));
        }
    }

    proptest::proptest! {
        #[test]
        fn name_run_agrees_with_octet_by_octet(
            k in 0..ALL_KNOWN.len(),
            prefix in proptest::collection::vec(proptest::num::u8::ANY, 0..24),
            use_known in proptest::bool::ANY,
            suffix in proptest::collection::vec(proptest::num::u8::ANY, 0..12),
        ) {
            let mut field = if use_known {
                ALL_KNOWN[k].as_str().as_bytes().to_vec()
            } else {
                prefix
            };
            field.extend_from_slice(&suffix);
            let run = field.iter().take_while(|&&b| b >= b'A' || b == b'-').count();
            proptest::prop_assert_eq!(name_run(&field), run);
            let ends = field.get(run).is_none_or(|b| matches!(b, b':' | b' ' | b'\t' | b'\r' | b'\n'));
            let expected = HeaderName::known(&field[..run])
                .filter(|_| ends)
                .map(|name| (name.id(), run));
            proptest::prop_assert_eq!(HeaderName::known_prefix(&field), expected);
        }
    }

    #[test]
    fn known_prefix_agrees_with_known() {
        for known in ALL_KNOWN {
            let name = known.as_str();
            for end in ["", ":", " :", "\t: x", "\r\n :"] {
                let upper = format!("{}{end}", name.to_ascii_uppercase());
                let found = HeaderName::known_prefix(upper.as_bytes());
                assert_eq!(found, Some((known.id(), name.len())));
            }
            // A longer name, or one ending in another octet, is not it.
            for more in ["x:", "-Foo:", "@"] {
                let longer = format!("{name}{more}");
                let found = HeaderName::known_prefix(longer.as_bytes());
                assert!(found.is_none_or(|(id, _)| id != known.id()), "{longer}");
            }
        }
        assert_eq!(
            HeaderName::known_prefix(b"v: SIP/2.0/UDP h"),
            Some((HeaderName::Via.id(), 1))
        );
        assert!(HeaderName::known_prefix(b"q: 1").is_none());
        assert!(HeaderName::known_prefix(b"Call\rID: 1").is_none());
        assert!(HeaderName::known_prefix(b"").is_none());
        assert!(HeaderName::known_prefix(b"9: 1").is_none());
    }

    #[test]
    fn ids_identify_known_names() {
        assert_eq!(HeaderName::Other("X-Foo").id(), 0);
        assert_eq!(HeaderName::from_id(0), None);
        for known in ALL_KNOWN {
            let back = HeaderName::from_id(known.id()).unwrap();
            assert_eq!(back.as_str(), known.as_str());
        }
        assert_eq!(HeaderName::from_id(ALL_KNOWN.len() as u8 + 1), None);
    }

    #[test]
    fn hash_agrees_with_eq() {
        use std::collections::hash_map::DefaultHasher;
        let h = |n: HeaderName<'_>| {
            let mut s = DefaultHasher::new();
            n.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(HeaderName::Other("CALL-id")), h(HeaderName::CallId));
        assert_eq!(h(HeaderName::Other("x-a")), h(HeaderName::Other("X-A")));
    }
}
