//! Headers whose values are name-addrs: From, To, Contact, Route,
//! Record-Route, P-Asserted-Identity, P-Preferred-Identity, Refer-To,
//! Referred-By (RFC 3261 §20, RFC 3325, RFC 3515, RFC 3892; feature tags of
//! RFC 3840).

use std::borrow::Cow;

use crate::sip::lex::{self, Params};
use crate::sip::{NameAddr, ValueError, ValueErrorKind, ValueLimits};

use super::{value_type, ParseValue};

impl<'a> ParseValue<'a> for NameAddr<'a> {
    fn parse_value(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        NameAddr::parse_with(value, limits)
    }
    fn write_value(&self, out: &mut Vec<u8>) {
        self.write(out);
    }
}

/// A From or To value: a name-addr whose `tag` parameter identifies the dialog
/// side ([`NameAddr::tag`]).
pub type FromTo<'a> = NameAddr<'a>;
/// One element of a Route header.
pub type Route<'a> = NameAddr<'a>;
/// One element of a Record-Route header.
pub type RecordRoute<'a> = NameAddr<'a>;
/// One element of a P-Asserted-Identity header (RFC 3325).
pub type PAssertedIdentity<'a> = NameAddr<'a>;
/// One element of a P-Preferred-Identity header (RFC 3325).
pub type PPreferredIdentity<'a> = NameAddr<'a>;
/// A Refer-To value (RFC 3515).
pub type ReferTo<'a> = NameAddr<'a>;
/// A Referred-By value (RFC 3892); its `cid` parameter is a header parameter.
pub type ReferredBy<'a> = NameAddr<'a>;

/// One element of a Contact header: `*` or an address with contact-params.
///
/// ```
/// use oma_im::sip::{value, Contact};
///
/// let v = r#"<sip:conf1@im.example.com>;isfocus;+g.oma.sip-im;+g.oma.sip-im.large-message;expires=3600;q=0.7, "Bob" <sip:bob@h>"#;
/// let contacts: Vec<Contact> = value::list(v).collect::<Result<_, _>>().unwrap();
/// assert!(contacts[0].is_focus());
/// assert!(contacts[0].has_feature("+g.oma.sip-im"));
/// assert!(contacts[0].has_feature("+g.oma.sip-im.large-message"));
/// assert_eq!(contacts[0].expires(), Some(3600));
/// assert_eq!(contacts[0].q(), Some(700));
/// assert!(!contacts[1].is_focus());
/// assert_eq!(Contact::parse("*").unwrap(), Contact::Wildcard);
/// ```
// `*` is rare and small; boxing the address would cost an allocation per element.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `*` (REGISTER: remove every binding).
    Wildcard,
    /// An address with its contact-params.
    Address(NameAddr<'a>),
}

impl<'a> Contact<'a> {
    /// Parses one Contact element; `expires` and `q` are checked.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let i = lex::skip_lws(value, 0);
        if value.as_bytes().get(i) == Some(&b'*') {
            lex::expect_end(value, i + 1)?;
            return Ok(Contact::Wildcard);
        }
        // `expires` and `q` are checked as the parameters are found; the
        // first bad one is reported once the whole value has parsed.
        let mut bad_param = None;
        let na = NameAddr::parse_checked(value, limits, |p| {
            let ok = if p.name.eq_ignore_ascii_case("expires") {
                p.value
                    .is_some_and(|v| lex::whole_number(v, u64::from(u32::MAX)).is_ok())
            } else if p.name.eq_ignore_ascii_case("q") {
                p.value.and_then(qvalue).is_some()
            } else {
                true
            };
            if !ok && bad_param.is_none() {
                bad_param = Some(lex::offset_in(value, p.value.unwrap_or(p.name)));
            }
        })?;
        if let Some(at) = bad_param {
            return Err(ValueError::new(ValueErrorKind::InvalidParamValue, at));
        }
        Ok(Contact::Address(na))
    }

    /// The address, unless this is `*`.
    pub fn address(&self) -> Option<&NameAddr<'a>> {
        match self {
            Contact::Wildcard => None,
            Contact::Address(na) => Some(na),
        }
    }

    /// The contact-params (empty for `*`).
    pub fn params(&self) -> Option<&Params<'a>> {
        self.address().map(|na| &na.params)
    }

    /// The `expires` parameter in seconds.
    pub fn expires(&self) -> Option<u32> {
        let v = self.params()?.get("expires").flatten()?;
        lex::whole_number(v, u64::from(u32::MAX))
            .ok()
            .and_then(|n| u32::try_from(n).ok())
    }

    /// The `q` parameter in thousandths (`q=0.7` is 700).
    pub fn q(&self) -> Option<u16> {
        self.params()?.get("q").flatten().and_then(qvalue)
    }

    /// True when the feature tag `name` (e.g. `+g.oma.sip-im`, `isfocus`) is
    /// present, with or without a value (RFC 3840).
    pub fn has_feature(&self, name: &str) -> bool {
        self.params().is_some_and(|p| p.contains(name))
    }

    /// The value of feature tag `name`, without quotes.
    pub fn feature_value(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params()?.find(name)?.unquoted_value()
    }

    /// True when the `isfocus` feature tag is present (RFC 3840, conference focus).
    pub fn is_focus(&self) -> bool {
        self.has_feature("isfocus")
    }

    /// Appends `*` or the name-addr in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Contact::Wildcard => out.push(b'*'),
            Contact::Address(na) => na.write(out),
        }
    }
}

value_type!(Contact<'a>);

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths.
pub(crate) fn qvalue(v: &str) -> Option<u16> {
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, f),
        None => (v, ""),
    };
    if frac.len() > 3 || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (k, c) in frac.bytes().enumerate() {
        let place = [100, 10, 1].get(k).copied().unwrap_or(0);
        thousandths += u16::from(c - b'0') * place;
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}
