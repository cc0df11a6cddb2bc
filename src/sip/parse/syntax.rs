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

/// LWS: SP, HT and the CRLF of a folded line.
#[inline]
pub(crate) fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A run of decimal digits as a `u64`, `None` when empty, not all digits, or
/// over `max`. Stops multiplying as soon as the value passes `max`.
pub(crate) fn decimal(digits: &[u8], max: u64) -> Result<u64, DecimalError> {
    if digits.is_empty() {
        return Err(DecimalError::NotDecimal);
    }
    let mut value: u64 = 0;
    let mut too_big = false;
    for &b in digits {
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
    fn tokens() {
        assert!(is_token("!interesting-Method0123456789_*+`.%indeed'~"));
        assert!(!is_token("IN VITE"));
        assert!(!is_token(""));
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal(b"0068", 255), Ok(68));
        assert_eq!(decimal(b"300", 255), Err(DecimalError::TooBig));
        assert_eq!(
            decimal(b"36893488147419103232", u64::MAX),
            Err(DecimalError::TooBig)
        );
        assert_eq!(decimal(b"-1", 10), Err(DecimalError::NotDecimal));
        assert_eq!(
            decimal(b"99999999999999999999999x", 10),
            Err(DecimalError::NotDecimal)
        );
        assert_eq!(decimal(b"", 10), Err(DecimalError::NotDecimal));
    }
}
