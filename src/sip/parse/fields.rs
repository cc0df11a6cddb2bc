//! Eager checks of the header values the parser validates: the scalars RFC
//! 4475 asks a receiver to range-check, and the identifying fields.

use crate::sip::message::HeaderValue;
use crate::sip::{HeaderName, SipError, SipErrorKind};

use super::syntax::{decimal, is_call_id, is_lws, is_token, DecimalError};

/// Largest CSeq sequence number plus one (RFC 3261 §8.1.1.5: less than 2³¹).
const CSEQ_LIMIT: u64 = 1 << 31;
/// Largest delta-seconds (RFC 3261 §20.19, §20.33: 2³² − 1).
const DELTA_SECONDS_MAX: u64 = u32::MAX as u64;

fn malformed(name: HeaderName<'static>, at: usize) -> SipError {
    SipError::new(SipErrorKind::MalformedHeader(name), at)
}

fn out_of_range(name: HeaderName<'static>, at: usize) -> SipError {
    SipError::new(SipErrorKind::ValueOutOfRange(name), at)
}

/// `CSeq = 1*DIGIT LWS Method`: the Method, after range-checking the number.
pub(super) fn cseq<'a>(v: &HeaderValue<'a>) -> Result<&'a str, SipError> {
    let text = v.value;
    let digits_end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, rest) = text.split_at(digits_end);
    match decimal(digits, CSEQ_LIMIT - 1) {
        Ok(_) => {}
        Err(DecimalError::TooBig) => return Err(out_of_range(HeaderName::CSeq, v.offset)),
        Err(DecimalError::NotDecimal) => return Err(malformed(HeaderName::CSeq, v.offset)),
    }
    let method = rest.trim_start_matches(|c: char| c.is_ascii() && is_lws(c as u8));
    if method.len() == rest.len() || !is_token(method) {
        return Err(malformed(HeaderName::CSeq, v.offset + digits_end));
    }
    Ok(method)
}

/// `Max-Forwards = 1*DIGIT`, at most 255 (RFC 3261 §20.22 and §16.6).
pub(super) fn max_forwards(v: &HeaderValue<'_>) -> Result<(), SipError> {
    scalar(v, HeaderName::MaxForwards, 255)
}

/// `Expires = delta-seconds`, at most 2³² − 1.
pub(super) fn expires(v: &HeaderValue<'_>) -> Result<(), SipError> {
    scalar(v, HeaderName::Expires, DELTA_SECONDS_MAX)
}

/// `Retry-After = delta-seconds [ comment ] *( SEMI retry-param )`: the
/// delta-seconds at most 2³² − 1; the rest is left to the value parser.
pub(super) fn retry_after(v: &HeaderValue<'_>) -> Result<(), SipError> {
    let text = v.value;
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    let digits = HeaderValue {
        value: text.get(..end).unwrap_or_default(),
        offset: v.offset,
    };
    scalar(&digits, HeaderName::RetryAfter, DELTA_SECONDS_MAX)
}

/// Content-Length = 1*DIGIT, as a `usize`.
pub(super) fn content_length(v: &HeaderValue<'_>) -> Result<usize, SipError> {
    content_length_of(v.value.as_bytes())
        .ok_or(SipError::new(SipErrorKind::InvalidContentLength, v.offset))
}

/// A trimmed Content-Length value as a `usize`; `None` when it is not
/// 1*DIGIT or does not fit.
pub(crate) fn content_length_of(value: &[u8]) -> Option<usize> {
    let digits = core::str::from_utf8(value).ok()?;
    decimal(digits, usize::MAX as u64)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
}

fn scalar(v: &HeaderValue<'_>, name: HeaderName<'static>, max: u64) -> Result<(), SipError> {
    match decimal(v.value, max) {
        Ok(_) => Ok(()),
        Err(DecimalError::TooBig) => Err(out_of_range(name, v.offset)),
        Err(DecimalError::NotDecimal) => Err(malformed(name, v.offset)),
    }
}

/// `Call-ID = callid`.
pub(super) fn call_id(v: &HeaderValue<'_>) -> Result<(), SipError> {
    if is_call_id(v.value) {
        Ok(())
    } else {
        Err(malformed(HeaderName::CallId, v.offset))
    }
}

/// `Warning = warning-value *(COMMA warning-value)` where each
/// `warning-value = warn-code SP warn-agent SP warn-text` starts with a
/// three-digit warn-code. Commas inside the quoted warn-text are skipped.
pub(super) fn warning(v: &HeaderValue<'_>) -> Result<(), SipError> {
    let bytes = v.value.as_bytes();
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(|&b| is_lws(b)) {
            i += 1;
        }
        let digits = bytes
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit());
        let count = digits.count();
        if count != 3 || bytes.get(i + 3) != Some(&b' ') {
            return Err(malformed(HeaderName::Warning, v.offset + i));
        }
        // Skip to the comma after this warning-value, honouring quotes.
        let mut quoted = false;
        loop {
            match bytes.get(i) {
                None => return Ok(()),
                Some(b'"') => quoted = !quoted,
                Some(b'\\') if quoted => i += 1,
                Some(b',') if !quoted => break,
                Some(_) => {}
            }
            i += 1;
        }
        i += 1;
    }
}

/// From and To: `( name-addr / addr-spec ) *( SEMI param )`. Checked here as
/// holding a URI scheme; the name-addr parser gives the full structure.
pub(super) fn name_addr(v: &HeaderValue<'_>, name: HeaderName<'static>) -> Result<(), SipError> {
    if v.value.contains(':') {
        Ok(())
    } else {
        Err(malformed(name, v.offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hv(value: &str) -> HeaderValue<'_> {
        HeaderValue { value, offset: 0 }
    }

    fn kind<T: core::fmt::Debug>(r: Result<T, SipError>) -> SipErrorKind {
        r.expect_err("an error").kind
    }

    #[test]
    fn cseq_values() {
        assert_eq!(cseq(&hv("1 INVITE")), Ok("INVITE"));
        assert_eq!(cseq(&hv("0009\r\n  INVITE")), Ok("INVITE"));
        assert_eq!(cseq(&hv("2147483647 ACK")), Ok("ACK"));
        let big = SipErrorKind::ValueOutOfRange(HeaderName::CSeq);
        assert_eq!(kind(cseq(&hv("2147483648 ACK"))), big);
        assert_eq!(kind(cseq(&hv("36893488147419103232 REGISTER"))), big);
        let bad = SipErrorKind::MalformedHeader(HeaderName::CSeq);
        assert_eq!(kind(cseq(&hv("INVITE"))), bad);
        assert_eq!(kind(cseq(&hv("1INVITE"))), bad);
        assert_eq!(kind(cseq(&hv("1 "))), bad);
        assert_eq!(kind(cseq(&hv("-1 INVITE"))), bad);
    }

    #[test]
    fn scalars() {
        assert!(max_forwards(&hv("0068")).is_ok());
        assert!(max_forwards(&hv("255")).is_ok());
        let mf = SipErrorKind::ValueOutOfRange(HeaderName::MaxForwards);
        assert_eq!(kind(max_forwards(&hv("300"))), mf);
        assert!(expires(&hv("4294967295")).is_ok());
        let ex = SipErrorKind::ValueOutOfRange(HeaderName::Expires);
        assert_eq!(kind(expires(&hv("4294967296"))), ex);
        assert!(retry_after(&hv("18000;duration=3600")).is_ok());
        assert!(retry_after(&hv("120 (I'm in a meeting)")).is_ok());
        let ra = SipErrorKind::ValueOutOfRange(HeaderName::RetryAfter);
        assert_eq!(kind(retry_after(&hv("949302838503028349304023988"))), ra);
        assert_eq!(content_length(&hv("0150")), Ok(150));
        assert_eq!(
            kind(content_length(&hv("-999"))),
            SipErrorKind::InvalidContentLength
        );
        assert_eq!(
            kind(content_length(&hv("99999999999999999999999"))),
            SipErrorKind::InvalidContentLength
        );
    }

    #[test]
    fn warnings() {
        assert!(warning(&hv("370 devnull \"Choose a bigger pipe\"")).is_ok());
        assert!(warning(&hv("307 isi.edu \"a, b\", 399 x \"\\\", y\"")).is_ok());
        let w = SipErrorKind::MalformedHeader(HeaderName::Warning);
        assert_eq!(kind(warning(&hv("1812 overture \"In Progress\""))), w);
        assert_eq!(kind(warning(&hv("370 a \"b\", 12 c \"d\""))), w);
        assert_eq!(kind(warning(&hv(""))), w);
    }
}
