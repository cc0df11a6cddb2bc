//! Accept-Contact and Reject-Contact (RFC 3841 caller preferences).

use std::borrow::Cow;

use crate::sip::lex::{self, Params};
use crate::sip::{ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// One element of an Accept-Contact (or Reject-Contact) header:
/// `*;+g.oma.sip-im;require;explicit`.
///
/// ```
/// use oma_im::sip::AcceptContact;
/// let ac = AcceptContact::parse("*;+g.oma.sip-im;require;explicit").unwrap();
/// assert!(ac.has_feature("+g.oma.sip-im"));
/// assert!(ac.require() && ac.explicit());
/// assert_eq!(ac.to_string(), "*;+g.oma.sip-im;require;explicit");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptContact<'a> {
    /// The feature parameters and `require` / `explicit`, in order.
    pub params: Params<'a>,
}

/// One element of a Reject-Contact header: `*` with feature parameters.
pub type RejectContact<'a> = AcceptContact<'a>;

impl<'a> AcceptContact<'a> {
    /// Parses `"*" *(SEMI ac-params)`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let i = lex::skip_lws(value, 0);
        if value.as_bytes().get(i) != Some(&b'*') {
            return Err(ValueError::new(ValueErrorKind::Expected('*'), i));
        }
        let (params, end) = lex::generic_params(value, i + 1, limits)?;
        lex::expect_end(value, end)?;
        Ok(AcceptContact { params })
    }

    /// True when feature tag `name` is present.
    pub fn has_feature(&self, name: &str) -> bool {
        self.params.contains(name)
    }

    /// The value of feature tag `name`, without quotes.
    pub fn feature_value(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params.find(name)?.unquoted_value()
    }

    /// True when the `require` parameter is present.
    pub fn require(&self) -> bool {
        self.params.contains("require")
    }

    /// True when the `explicit` parameter is present.
    pub fn explicit(&self) -> bool {
        self.params.contains("explicit")
    }

    /// Appends `*;params`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(b'*');
        self.params.write(out);
    }
}

value_type!(AcceptContact<'a>);
