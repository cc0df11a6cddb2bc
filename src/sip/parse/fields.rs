//! Eager checks of the header values the parser validates: the scalars RFC
//! 4475 asks a receiver to range-check, and the fields that identify a
//! transaction. The value types of [`crate::sip::value`] do the parsing,
//! under the message's [`ValueLimits`]; this module maps their errors to
//! message offsets.

use crate::sip::message::HeaderValue;
use crate::sip::name_addr::NameAddr;
use crate::sip::value::{self, CSeq, CallId, Expires, MaxForwards, Via, Warning};
use crate::sip::{HeaderName, SipError, SipErrorKind, ValueError, ValueErrorKind, ValueLimits};

use super::syntax::{decimal, DecimalError};

/// Largest delta-seconds (RFC 3261 §20.33: 2³² − 1).
const DELTA_SECONDS_MAX: u64 = u32::MAX as u64;

/// `value`'s error `e` as a message error: out-of-range numbers become
/// [`SipErrorKind::ValueOutOfRange`], anything else
/// [`SipErrorKind::MalformedHeader`], at the absolute offset.
fn in_header(name: HeaderName<'static>, v: &HeaderValue<'_>, e: ValueError) -> SipError {
    let kind = match e.kind {
        ValueErrorKind::NumberOutOfRange => SipErrorKind::ValueOutOfRange(name),
        _ => SipErrorKind::MalformedHeader(name),
    };
    SipError::new(kind, v.offset.saturating_add(e.offset))
}

/// `CSeq = 1*DIGIT LWS Method`, the number below 2³¹.
pub(super) fn cseq<'a>(v: &HeaderValue<'a>, limits: &ValueLimits) -> Result<CSeq<'a>, SipError> {
    CSeq::parse_with(v.value, limits).map_err(|e| in_header(HeaderName::CSeq, v, e))
}

/// `Max-Forwards = 1*DIGIT`, at most 255.
pub(super) fn max_forwards(v: &HeaderValue<'_>, limits: &ValueLimits) -> Result<(), SipError> {
    MaxForwards::parse_with(v.value, limits)
        .map(drop)
        .map_err(|e| in_header(HeaderName::MaxForwards, v, e))
}

/// `Expires = delta-seconds`, at most 2³² − 1.
pub(super) fn expires(v: &HeaderValue<'_>, limits: &ValueLimits) -> Result<(), SipError> {
    Expires::parse_with(v.value, limits)
        .map(drop)
        .map_err(|e| in_header(HeaderName::Expires, v, e))
}

/// `Call-ID = callid`.
pub(super) fn call_id<'a>(
    v: &HeaderValue<'a>,
    limits: &ValueLimits,
) -> Result<CallId<'a>, SipError> {
    CallId::parse_with(v.value, limits).map_err(|e| in_header(HeaderName::CallId, v, e))
}

/// From and To: `( name-addr / addr-spec ) *( SEMI param )`.
#[inline]
pub(super) fn name_addr<'a>(
    v: &HeaderValue<'a>,
    name: HeaderName<'static>,
    limits: &ValueLimits,
) -> Result<NameAddr<'a>, SipError> {
    NameAddr::parse_with(v.value, limits).map_err(|e| in_header(name, v, e))
}

/// Every `via-parm` of a Via value, checked; the first one, if any, is
/// stored into `top` when `top` is empty; `more` is set when one comes
/// after the one in `top`.
#[inline]
pub(super) fn via<'a>(
    v: &HeaderValue<'a>,
    top: &mut Option<Via<'a>>,
    more: &mut bool,
    limits: &ValueLimits,
) -> Result<(), SipError> {
    value::list_with::<Via>(v.value, limits)
        .try_for_each(|r| {
            let via = r?;
            if top.is_none() {
                *top = Some(via);
            } else {
                *more = true;
            }
            Ok(())
        })
        .map_err(|e| in_header(HeaderName::Via, v, e))
}

/// Every `warning-value` of a Warning value: a three-digit warn-code, an
/// agent and a quoted text.
pub(super) fn warning(v: &HeaderValue<'_>, limits: &ValueLimits) -> Result<(), SipError> {
    value::list_with::<Warning>(v.value, limits)
        .try_for_each(|r| r.map(drop))
        .map_err(|e| in_header(HeaderName::Warning, v, e))
}

/// `Retry-After = delta-seconds [ comment ] *( SEMI retry-param )`: the
/// delta-seconds at most 2³² − 1; the rest is left to a value parser.
pub(super) fn retry_after(v: &HeaderValue<'_>) -> Result<(), SipError> {
    let text = v.value;
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    match decimal(
        text.as_bytes().get(..end).unwrap_or_default(),
        DELTA_SECONDS_MAX,
    ) {
        Ok(_) => Ok(()),
        Err(DecimalError::TooBig) => Err(SipError::new(
            SipErrorKind::ValueOutOfRange(HeaderName::RetryAfter),
            v.offset,
        )),
        Err(DecimalError::NotDecimal) => Err(SipError::new(
            SipErrorKind::MalformedHeader(HeaderName::RetryAfter),
            v.offset,
        )),
    }
}

/// Content-Length = 1*DIGIT, as a `usize`.
pub(super) fn content_length(v: &HeaderValue<'_>) -> Result<usize, SipError> {
    content_length_of(v.value.as_bytes())
        .ok_or(SipError::new(SipErrorKind::InvalidContentLength, v.offset))
}

/// A trimmed Content-Length value as a `usize`; `None` when it is not
/// 1*DIGIT or does not fit.
pub(crate) fn content_length_of(value: &[u8]) -> Option<usize> {
    decimal(value, usize::MAX as u64)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: ValueLimits = ValueLimits::DEFAULT;

    fn hv(value: &str) -> HeaderValue<'_> {
        HeaderValue { value, offset: 100 }
    }

    fn err<T: core::fmt::Debug>(r: Result<T, SipError>) -> SipError {
        r.expect_err("an error")
    }

    #[test]
    fn value_errors_become_message_errors_at_absolute_offsets() {
        assert_eq!(cseq(&hv("0009\r\n  INVITE"), &L).unwrap().seq, 9);
        let big = err(cseq(&hv("2147483648 ACK"), &L));
        assert_eq!(big.kind, SipErrorKind::ValueOutOfRange(HeaderName::CSeq));
        assert!(big.offset >= 100);
        let bad = err(cseq(&hv("1INVITE"), &L));
        assert_eq!(bad.kind, SipErrorKind::MalformedHeader(HeaderName::CSeq));
        assert_eq!(bad.offset, 101);
        assert_eq!(
            err(max_forwards(&hv("300"), &L)).kind,
            SipErrorKind::ValueOutOfRange(HeaderName::MaxForwards)
        );
        assert_eq!(
            err(expires(&hv("4294967296"), &L)).kind,
            SipErrorKind::ValueOutOfRange(HeaderName::Expires)
        );
        assert_eq!(
            err(warning(&hv("370 a \"b\", 1812 c \"d\""), &L)).kind,
            SipErrorKind::MalformedHeader(HeaderName::Warning)
        );
        assert!(warning(&hv("307 isi.edu \"a, b\", 399 x \"c\""), &L).is_ok());
        let (mut top, mut more) = (None, false);
        assert_eq!(
            err(via(
                &hv("SIP/2.0/UDP 192.0.2.15;;,;,,"),
                &mut top,
                &mut more,
                &L
            ))
            .kind,
            SipErrorKind::MalformedHeader(HeaderName::Via)
        );
        assert!(via(&hv(" , SIP/2.0/UDP a.example.com"), &mut top, &mut more, &L).is_ok());
        assert_eq!((top.as_ref().unwrap().transport, more), ("UDP", false));
        assert!(via(&hv("SIP/2.0/TCP b"), &mut top, &mut more, &L).is_ok());
        assert_eq!((top.unwrap().transport, more), ("UDP", true));
        assert_eq!(
            err(name_addr(
                &hv("\"Mr. J. User <sip:j.user@example.com>"),
                HeaderName::To,
                &L
            ))
            .kind,
            SipErrorKind::MalformedHeader(HeaderName::To)
        );
    }

    #[test]
    fn retry_after_and_content_length() {
        assert!(retry_after(&hv("18000;duration=3600")).is_ok());
        assert!(retry_after(&hv("120 (I'm in a meeting)")).is_ok());
        assert_eq!(
            err(retry_after(&hv("949302838503028349304023988"))).kind,
            SipErrorKind::ValueOutOfRange(HeaderName::RetryAfter)
        );
        assert_eq!(
            err(retry_after(&hv("soon"))).kind,
            SipErrorKind::MalformedHeader(HeaderName::RetryAfter)
        );
        assert_eq!(content_length(&hv("0150")), Ok(150));
        assert_eq!(
            err(content_length(&hv("-999"))).kind,
            SipErrorKind::InvalidContentLength
        );
        assert_eq!(
            err(content_length(&hv("99999999999999999999999"))).kind,
            SipErrorKind::InvalidContentLength
        );
        assert_eq!(content_length_of(b"5 5"), None);
    }
}
