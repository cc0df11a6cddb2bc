//! Character classes and small lexical rules of the RFC 4975 §9 grammar.

use super::error::{MsrpError, MsrpErrorKind};

/// `token` of RFC 4975 §9 (one table look-up: header names are checked
/// byte by byte).
pub(crate) const fn is_token(b: u8) -> bool {
    TOKEN[b as usize]
}

/// The bytes of `token`, as the grammar lists them.
const fn is_token_by_rule(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x27 | 0x2A | 0x2B | 0x2D | 0x2E | 0x30..=0x39 | 0x41..=0x5A | 0x5E..=0x7E)
}

/// [`is_token_by_rule`] of every byte.
const TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_token_by_rule(b as u8);
        b += 1;
    }
    table
};

/// Whether the token `name` is `lower` without regard to case, where
/// `lower` is written in lower case, letters and `-` only. Setting bit 0x20
/// of a token byte lowers a letter and changes nothing else that `lower`
/// could match (`-` is 0x2D; 0x0D is not a token byte), so one OR and one
/// comparison per byte decide.
pub(crate) fn is_name(name: &str, lower: &str) -> bool {
    name.len() == lower.len() && name.bytes().zip(lower.bytes()).all(|(a, b)| a | 0x20 == b)
}

/// `unreserved` of RFC 3986.
pub(crate) const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `sub-delims` of RFC 3986.
pub(crate) const fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// `ident-char` of RFC 4975 §9.
pub(crate) const fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'%' | b'=')
}

/// Whether `s` is an `ident` (`ALPHANUM *ident-char`) of 1 to `max` bytes.
///
/// The RFC asks for 4 to 32 characters; shorter ones are accepted (parse
/// leniently), longer ones up to the configured limit.
pub(crate) fn is_ident(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(c) if c.is_ascii_alphanumeric()) && b.iter().all(|&c| is_ident_char(c))
}

/// `utf8text` of RFC 4975 §9 (already known to be UTF-8): no control
/// characters other than HTAB.
pub(crate) fn is_utf8text(s: &str) -> bool {
    // Every byte looked at, without an early exit: the compiler checks
    // many bytes per instruction.
    s.bytes().fold(true, |ok, b| {
        ok & ((b == b'\t') | ((b >= 0x20) & (b != 0x7F)))
    })
}

/// Whether `s` is a non-empty run of `token` characters.
pub(crate) fn is_token_str(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token)
}

/// Parses `1*DIGIT` into a `u64`, rejecting overflow.
pub(crate) fn parse_u64(s: &str, kind: MsrpErrorKind, offset: usize) -> Result<u64, MsrpError> {
    if s.is_empty() {
        return Err(MsrpError::new(kind, offset));
    }
    let mut n: u64 = 0;
    for (i, b) in s.bytes().enumerate() {
        let digit = match b {
            b'0'..=b'9' => u64::from(b - b'0'),
            _ => return Err(MsrpError::new(kind, offset + i)),
        };
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(digit))
            .ok_or(MsrpError::new(kind, offset))?;
    }
    Ok(n)
}

/// Parses exactly three digits (a status code or a Status namespace).
pub(crate) fn parse_3digit(s: &str) -> Option<u16> {
    match s.as_bytes() {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// Appends a status code as exactly three digits.
pub(crate) fn write_3digit(out: &mut Vec<u8>, n: u16) {
    let n = n % 1000;
    out.extend_from_slice(&[
        b'0' + (n / 100) as u8,
        b'0' + (n / 10 % 10) as u8,
        b'0' + (n % 10) as u8,
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_name_is_eq_ignore_ascii_case_on_tokens() {
        let names = ["to-path", "from-path", "message-id", "content-", "status"];
        let samples = [
            "To-Path", "TO-PATH", "to-path", "To_Path", "To-Pat", "To-Paths", "Tp-Path",
        ];
        for lower in names {
            for sample in samples.iter().copied().chain([
                "Message-ID",
                "MESSAGE-id",
                "Content-",
                "STATUS",
                "Statu~",
            ]) {
                if sample.bytes().all(is_token) {
                    assert_eq!(
                        is_name(sample, lower),
                        sample.eq_ignore_ascii_case(lower),
                        "{sample} / {lower}"
                    );
                }
            }
        }
        // Every token byte against every byte of the names' alphabet.
        for a in (0u8..=255).filter(|&b| is_token(b)) {
            for b in (b'a'..=b'z').chain([b'-']) {
                let (x, y) = ([a], [b]);
                let (x, y) = (
                    std::str::from_utf8(&x).unwrap_or("\u{0}"),
                    std::str::from_utf8(&y).unwrap_or(""),
                );
                assert_eq!(is_name(x, y), x.eq_ignore_ascii_case(y), "{a:#x} / {b:#x}");
            }
        }
    }

    #[test]
    fn utf8text_is_htab_and_every_character_but_controls() {
        for b in 0u8..0x80 {
            let text = format!("Hello {} there", char::from(b));
            let allowed = b == b'\t' || (0x20..0x7F).contains(&b);
            assert_eq!(is_utf8text(&text), allowed, "{b:#x}");
        }
        assert!(is_utf8text("naïve façade"));
        assert!(!is_utf8text(&format!("{}\r", "a".repeat(100))));
    }
}
