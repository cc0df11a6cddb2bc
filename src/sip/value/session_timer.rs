//! Session timers (RFC 4028): Session-Expires and Min-SE.

use crate::sip::lex::{self, Params};
use crate::sip::{ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// Who refreshes the session (`refresher=uac|uas`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refresher {
    /// The UAC refreshes.
    Uac,
    /// The UAS refreshes.
    Uas,
}

/// `Session-Expires: 1800;refresher=uac`.
///
/// ```
/// use oma_im::sip::{Refresher, SessionExpires};
/// let se = SessionExpires::parse("1800 ; refresher = UAS").unwrap();
/// assert_eq!(se.delta_seconds, 1800);
/// assert_eq!(se.refresher(), Some(Refresher::Uas));
/// assert!(SessionExpires::parse("1800;refresher=me").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionExpires<'a> {
    /// The session interval in seconds.
    pub delta_seconds: u32,
    /// The parameters (`refresher` checked to be `uac` or `uas`).
    pub params: Params<'a>,
}

fn delta_and_params<'a>(
    value: &'a str,
    limits: &ValueLimits,
) -> Result<(u32, Params<'a>), ValueError> {
    let i = lex::skip_lws(value, 0);
    let (n, end) = lex::number(value, i, u64::from(u32::MAX))?;
    let (params, end) = lex::generic_params(value, end, limits)?;
    lex::expect_end(value, end)?;
    let n = u32::try_from(n).map_err(|_| ValueError::new(ValueErrorKind::NumberOutOfRange, i))?;
    Ok((n, params))
}

impl<'a> SessionExpires<'a> {
    /// Parses `delta-seconds *(;se-params)`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let (delta_seconds, params) = delta_and_params(value, limits)?;
        if let Some(p) = params.find("refresher") {
            if refresher(p.value).is_none() {
                let at = lex::offset_in(value, p.value.unwrap_or(p.name));
                return Err(ValueError::new(ValueErrorKind::InvalidParamValue, at));
            }
        }
        Ok(SessionExpires {
            delta_seconds,
            params,
        })
    }

    /// The `refresher` parameter.
    pub fn refresher(&self) -> Option<Refresher> {
        self.params
            .find("refresher")
            .and_then(|p| refresher(p.value))
    }

    /// Appends `delta;params`.
    pub fn write(&self, out: &mut Vec<u8>) {
        crate::decimal::push_decimal(out, u64::from(self.delta_seconds));
        self.params.write(out);
    }
}

fn refresher(v: Option<&str>) -> Option<Refresher> {
    match v? {
        r if r.eq_ignore_ascii_case("uac") => Some(Refresher::Uac),
        r if r.eq_ignore_ascii_case("uas") => Some(Refresher::Uas),
        _ => None,
    }
}

value_type!(SessionExpires<'a>);

/// `Min-SE: 90`: the smallest session interval accepted, in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinSe<'a> {
    /// The interval in seconds.
    pub delta_seconds: u32,
    /// Generic parameters.
    pub params: Params<'a>,
}

impl<'a> MinSe<'a> {
    /// Parses `delta-seconds *(;generic-param)`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let (delta_seconds, params) = delta_and_params(value, limits)?;
        Ok(MinSe {
            delta_seconds,
            params,
        })
    }

    /// Appends `delta;params`.
    pub fn write(&self, out: &mut Vec<u8>) {
        crate::decimal::push_decimal(out, u64::from(self.delta_seconds));
        self.params.write(out);
    }
}

value_type!(MinSe<'a>);
