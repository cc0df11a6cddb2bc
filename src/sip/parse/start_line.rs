//! The start line: Request-Line or Status-Line (RFC 3261 §7.1, §7.2).

use crate::sip::message::{RequestLine, StartLine, StatusLine};
use crate::sip::{SipError, SipErrorKind, ValueLimits};

use crate::sip::Uri;

use super::syntax::{is_token, is_token_byte};

/// Parses the start line `line` (without its CRLF), found at `base` in the
/// input; for a request, also gives the Request-URI, parsed under `limits`.
pub(super) fn parse<'a>(
    line: &'a str,
    base: usize,
    limits: &ValueLimits,
) -> Result<(StartLine<'a>, Option<Uri<'a>>), SipError> {
    let is_status = line
        .as_bytes()
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"));
    if is_status {
        status_line(line, base).map(|line| (StartLine::Response(line), None))
    } else {
        request_line(line, base, limits).map(|(line, uri)| (StartLine::Request(line), Some(uri)))
    }
}

/// `Method SP Request-URI SP SIP-Version`, single SPs only.
fn request_line<'a>(
    line: &'a str,
    base: usize,
    limits: &ValueLimits,
) -> Result<(RequestLine<'a>, Uri<'a>), SipError> {
    // The usual line, `token SP uri SP SIP/2.0`, in one scan of the method:
    // the URI parser rejects any SP inside the URI.
    let bytes = line.as_bytes();
    let method_end = bytes
        .iter()
        .position(|&b| !is_token_byte(b))
        .unwrap_or(bytes.len());
    let version_at = bytes.len().saturating_sub(7);
    let usual = method_end > 0
        && bytes.get(method_end) == Some(&b' ')
        && version_at > method_end + 1
        && bytes.get(version_at - 1) == Some(&b' ')
        && bytes
            .get(version_at..)
            .is_some_and(|v| v.eq_ignore_ascii_case(b"SIP/2.0"));
    if usual {
        let uri_at = method_end + 1;
        let uri = line.get(uri_at..version_at - 1).unwrap_or_default();
        let parsed = Uri::parse_with(uri, limits)
            .map_err(|_| SipError::new(SipErrorKind::InvalidRequestUri, base + uri_at))?;
        let line = RequestLine {
            method: line.get(..method_end).unwrap_or_default(),
            uri,
            uri_offset: base + uri_at,
        };
        return Ok((line, parsed));
    }
    general_request_line(line, base, limits)
}

/// [`request_line`] for any line: finds the first and last SP.
fn general_request_line<'a>(
    line: &'a str,
    base: usize,
    limits: &ValueLimits,
) -> Result<(RequestLine<'a>, Uri<'a>), SipError> {
    let err = |kind, at: usize| Err(SipError::new(kind, base + at));
    // The first and last SP, and how many there are.
    let bytes = line.as_bytes();
    let (Some(first), Some(last)) = (memchr::memchr(b' ', bytes), memchr::memrchr(b' ', bytes))
    else {
        return err(SipErrorKind::InvalidRequestLine, line.len());
    };
    if first == last {
        return err(SipErrorKind::InvalidRequestLine, line.len());
    }
    let spaces = memchr::memchr_iter(b' ', bytes).count();
    let method = line.get(..first).unwrap_or_default();
    let uri = line.get(first + 1..last).unwrap_or_default();
    let version = line.get(last + 1..).unwrap_or_default();
    if !is_token(method) {
        return err(SipErrorKind::InvalidMethod, 0);
    }
    if version.is_empty() {
        return err(SipErrorKind::InvalidRequestLine, last);
    }
    let parsed = match Uri::parse_with(uri, limits) {
        Ok(parsed) if spaces == 2 => parsed,
        _ => return err(SipErrorKind::InvalidRequestUri, first + 1),
    };
    check_version(version, base + last + 1)?;
    let line = RequestLine {
        method,
        uri,
        uri_offset: base + first + 1,
    };
    Ok((line, parsed))
}

/// `SIP-Version SP Status-Code SP Reason-Phrase`; a missing SP before an
/// empty Reason-Phrase is tolerated.
fn status_line(line: &str, base: usize) -> Result<StatusLine<'_>, SipError> {
    let Some((version, rest)) = line.split_once(' ') else {
        return Err(SipError::new(
            SipErrorKind::InvalidStatusLine,
            base + line.len(),
        ));
    };
    check_version(version, base)?;
    let code_at = base + version.len() + 1;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    let code = match code.as_bytes() {
        &[a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(SipError::new(SipErrorKind::InvalidStatusCode, code_at)),
    };
    if !(100..=699).contains(&code) {
        return Err(SipError::new(SipErrorKind::InvalidStatusCode, code_at));
    }
    check_reason_phrase(reason, code_at + 4)?;
    Ok(StatusLine { code, reason })
}

/// Reason-Phrase, found at `at`: any text but control characters other
/// than HT.
pub(crate) fn check_reason_phrase(reason: &str, at: usize) -> Result<(), SipError> {
    match reason
        .bytes()
        .position(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        Some(bad) => Err(SipError::new(SipErrorKind::InvalidReasonPhrase, at + bad)),
        None => Ok(()),
    }
}

/// `SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT`, which must be 2.0.
fn check_version(version: &str, at: usize) -> Result<(), SipError> {
    if version.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    let numbers = version
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("SIP/"))
        .and_then(|_| version.get(4..));
    let well_formed = numbers
        .and_then(|n| n.split_once('.'))
        .is_some_and(|(major, minor)| {
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            digits(major) && digits(minor)
        });
    let kind = if well_formed {
        SipErrorKind::UnsupportedVersion
    } else {
        SipErrorKind::InvalidVersion
    };
    Err(SipError::new(kind, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> SipErrorKind {
        parse(line, 0, &ValueLimits::DEFAULT).expect_err(line).kind
    }

    #[test]
    fn request_line_parts() {
        let (StartLine::Request(line), Some(uri)) = parse(
            "INVITE sip:bob@example.com SIP/2.0",
            10,
            &ValueLimits::DEFAULT,
        )
        .unwrap() else {
            panic!("not a request");
        };
        assert_eq!(line.method, "INVITE");
        assert_eq!(line.uri, "sip:bob@example.com");
        assert_eq!(line.uri_offset, 17);
        assert_eq!(uri.as_sip().unwrap().user, Some("bob"));
        assert!(parse("MESSAGE sip:a@b sip/2.0", 0, &ValueLimits::DEFAULT).is_ok());
    }

    #[test]
    fn status_line_parts() {
        let cases = [
            ("SIP/2.0 200 OK", 200, "OK"),
            ("SIP/2.0 100 ", 100, ""),
            ("SIP/2.0 180", 180, ""),
        ];
        for (text, code, reason) in cases {
            let (StartLine::Response(line), None) = parse(text, 0, &ValueLimits::DEFAULT).unwrap()
            else {
                panic!("not a response");
            };
            assert_eq!((line.code, line.reason), (code, reason));
        }
    }

    #[test]
    fn malformed_start_lines() {
        assert_eq!(
            kind("INVITE  sip:a@b SIP/2.0"),
            SipErrorKind::InvalidRequestUri
        );
        assert_eq!(
            kind("INVITE sip:a@b SIP/2.0  "),
            SipErrorKind::InvalidRequestLine
        );
        assert_eq!(
            kind("INVITE sip:a@b; lr SIP/2.0"),
            SipErrorKind::InvalidRequestUri
        );
        assert_eq!(
            kind("INVITE <sip:a@b> SIP/2.0"),
            SipErrorKind::InvalidRequestUri
        );
        assert_eq!(kind("INV@TE sip:a@b SIP/2.0"), SipErrorKind::InvalidMethod);
        assert_eq!(
            kind("OPTIONS sip:a@b SIP/7.0"),
            SipErrorKind::UnsupportedVersion
        );
        assert_eq!(
            kind("OPTIONS sip:a@b HTTP/1.1"),
            SipErrorKind::InvalidVersion
        );
        assert_eq!(
            kind("SIP/2.0 4294967301 big"),
            SipErrorKind::InvalidStatusCode
        );
        assert_eq!(kind("SIP/2.0 700 Big"), SipErrorKind::InvalidStatusCode);
        assert_eq!(kind("SIP/2.0 099 Small"), SipErrorKind::InvalidStatusCode);
        assert_eq!(kind("SIP/3.0 200 OK"), SipErrorKind::UnsupportedVersion);
        assert_eq!(kind("SIP/2.0"), SipErrorKind::InvalidStatusLine);
        assert_eq!(kind("INVITE"), SipErrorKind::InvalidRequestLine);
    }
}
