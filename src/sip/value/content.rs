//! Content-Type and Content-Disposition (RFC 3261 §20.15, §20.11).

use std::borrow::Cow;

use crate::sip::lex::{self, Params};
use crate::sip::{ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// `Content-Type: multipart/mixed;boundary="b1"`.
///
/// ```
/// use oma_im::sip::ContentType;
/// let ct = ContentType::parse(r#"Multipart/Mixed ; boundary="simple boundary""#).unwrap();
/// assert!(ct.is("multipart", "mixed"));
/// assert_eq!(ct.boundary().as_deref(), Some("simple boundary"));
/// assert_eq!(ct.to_string(), r#"Multipart/Mixed;boundary="simple boundary""#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType<'a> {
    /// The media type (`text`, `application`, ...), as written.
    pub mtype: &'a str,
    /// The subtype, as written.
    pub subtype: &'a str,
    /// The media parameters, in order.
    pub params: Params<'a>,
}

impl<'a> ContentType<'a> {
    /// Parses `type "/" subtype *(;m-parameter)`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let (mtype, end) = lex::token(value, lex::skip_lws(value, 0))?;
        let slash = lex::skip_lws(value, end);
        if value.as_bytes().get(slash) != Some(&b'/') {
            return Err(ValueError::new(ValueErrorKind::Expected('/'), slash));
        }
        let (subtype, end) = lex::token(value, lex::skip_lws(value, slash + 1))?;
        let (params, end) = lex::generic_params(value, end, limits)?;
        lex::expect_end(value, end)?;
        Ok(ContentType {
            mtype,
            subtype,
            params,
        })
    }

    /// True when the media type is `mtype/subtype`, ignoring ASCII case.
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// True when both have the same type and subtype, ignoring ASCII case
    /// (parameters are not compared).
    pub fn same_media_type(&self, other: &ContentType<'_>) -> bool {
        self.is(other.mtype, other.subtype)
    }

    /// The value of parameter `name`, without quotes.
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params.find(name)?.unquoted_value()
    }

    /// The `boundary` parameter of a multipart type, without quotes.
    pub fn boundary(&self) -> Option<Cow<'a, str>> {
        self.param("boundary")
    }

    /// The `charset` parameter, without quotes.
    pub fn charset(&self) -> Option<Cow<'a, str>> {
        self.param("charset")
    }

    /// Appends `type/subtype;params`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.mtype.as_bytes());
        out.push(b'/');
        out.extend_from_slice(self.subtype.as_bytes());
        self.params.write(out);
    }
}

value_type!(ContentType<'a>);

/// `Content-Disposition: render;handling=optional`.
///
/// ```
/// use oma_im::sip::ContentDisposition;
/// let cd = ContentDisposition::parse("recipient-list ; handling=required").unwrap();
/// assert_eq!(cd.disposition_type, "recipient-list");
/// assert_eq!(cd.handling(), Some("required"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDisposition<'a> {
    /// The disposition type (`render`, `session`, `icon`, `alert`,
    /// `recipient-list`, ...), as written.
    pub disposition_type: &'a str,
    /// The parameters, in order.
    pub params: Params<'a>,
}

impl<'a> ContentDisposition<'a> {
    /// Parses `disp-type *(;disp-param)`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let (disposition_type, end) = lex::token(value, lex::skip_lws(value, 0))?;
        let (params, end) = lex::generic_params(value, end, limits)?;
        lex::expect_end(value, end)?;
        Ok(ContentDisposition {
            disposition_type,
            params,
        })
    }

    /// True when the disposition type is `t`, ignoring ASCII case.
    pub fn is(&self, t: &str) -> bool {
        self.disposition_type.eq_ignore_ascii_case(t)
    }

    /// The `handling` parameter (`optional` / `required`).
    pub fn handling(&self) -> Option<&'a str> {
        self.params.get("handling").flatten()
    }

    /// Appends `type;params`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.disposition_type.as_bytes());
        self.params.write(out);
    }
}

value_type!(ContentDisposition<'a>);
