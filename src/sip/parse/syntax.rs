//! Character classes and the small grammars the message parser checks
//! eagerly (RFC 3261 §25.1).

/// `token` characters: alphanumerics and `-.!%*_+`'~`.
const fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// Lookup table for [`token_byte`].
static TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = token_byte(i as u8);
        i += 1;
    }
    table
};

/// `true` when `b` is a token character.
#[inline]
pub(crate) fn is_token_byte(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// `true` for a non-empty `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// `word` characters of a Call-ID (RFC 3261 §25.1).
fn is_word_byte(b: u8) -> bool {
    is_token_byte(b)
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

/// `callid = word [ "@" word ]`.
pub(crate) fn is_call_id(s: &str) -> bool {
    let (local, host) = s.split_once('@').unwrap_or((s, "x"));
    let word = |w: &str| !w.is_empty() && w.bytes().all(is_word_byte);
    word(local) && word(host)
}

/// Request-URI = SIP-URI / SIPS-URI / absoluteURI: checked here as
/// `scheme ":" 1*uric-ish` with no white space or control character; the
/// URI parser of [`crate::sip`] gives the full structure on demand.
pub(crate) fn valid_request_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let mut scheme_bytes = scheme.bytes();
    scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b > b' ' && b != 0x7f && b != b'<' && b != b'>' && b != b'"')
}

/// LWS: SP, HT and the CRLF of a folded line.
#[inline]
pub(crate) fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A run of decimal digits as a `u64`, `None` when empty, not all digits, or
/// over `max`. Stops multiplying as soon as the value passes `max`.
pub(crate) fn decimal(digits: &str, max: u64) -> Result<u64, DecimalError> {
    if digits.is_empty() {
        return Err(DecimalError::NotDecimal);
    }
    let mut value: u64 = 0;
    let mut too_big = false;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return Err(DecimalError::NotDecimal);
        }
        if !too_big {
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
            {
                Some(v) if v <= max => value = v,
                _ => too_big = true,
            }
        }
    }
    if too_big {
        Err(DecimalError::TooBig)
    } else {
        Ok(value)
    }
}

/// Why [`decimal`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalError {
    /// Empty or with a non-digit.
    NotDecimal,
    /// Over the maximum.
    TooBig,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_call_ids() {
        assert!(is_token("!interesting-Method0123456789_*+`.%indeed'~"));
        assert!(!is_token("IN VITE"));
        assert!(!is_token(""));
        assert!(is_call_id("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));
        assert!(is_call_id("a84b4c76e66710"));
        assert!(!is_call_id("a@b@c"));
        assert!(!is_call_id("@b"));
        assert!(!is_call_id("a b"));
        assert!(!is_call_id(""));
    }

    #[test]
    fn request_uris() {
        assert!(valid_request_uri("sip:user@example.com"));
        assert!(valid_request_uri("soap.beep://192.0.2.103:3002"));
        assert!(valid_request_uri(
            "nobodyKnowsThisScheme:totallyopaquecontent"
        ));
        assert!(!valid_request_uri("<sip:user@example.com>"));
        assert!(!valid_request_uri("sip:"));
        assert!(!valid_request_uri("user@example.com"));
        assert!(!valid_request_uri("1sip:a"));
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal("0068", 255), Ok(68));
        assert_eq!(decimal("300", 255), Err(DecimalError::TooBig));
        assert_eq!(
            decimal("36893488147419103232", u64::MAX),
            Err(DecimalError::TooBig)
        );
        assert_eq!(decimal("-1", 10), Err(DecimalError::NotDecimal));
        assert_eq!(
            decimal("99999999999999999999999x", 10),
            Err(DecimalError::NotDecimal)
        );
        assert_eq!(decimal("", 10), Err(DecimalError::NotDecimal));
    }
}
