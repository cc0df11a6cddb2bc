//! Small text helpers shared by the parser and the writer.

use std::borrow::Cow;

/// Space or horizontal tab.
pub(crate) fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Whether `b` is a space or a horizontal tab (the bytes of
/// [`is_space`]: both ASCII, so byte positions are char boundaries).
fn is_space_byte(b: &u8) -> bool {
    matches!(b, b' ' | b'\t')
}

/// `s` without leading and trailing spaces and tabs, with the offset of
/// the first byte kept (`offset` is where `s` starts in the input).
pub(crate) fn trim(s: &str, offset: usize) -> (usize, &str) {
    let b = s.as_bytes();
    let lead = b.iter().take_while(|c| is_space_byte(c)).count();
    let rest = b.get(lead..).unwrap_or_default();
    let trail = rest.iter().rev().take_while(|c| is_space_byte(c)).count();
    (
        offset + lead,
        s.get(lead..s.len() - trail).unwrap_or_default(),
    )
}

/// The space-separated tokens of `s`, each with its offset in the input.
pub(crate) fn tokens(s: &str, offset: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0usize;
    s.as_bytes().split(is_space_byte).filter_map(move |piece| {
        let here = start;
        start = here + piece.len() + 1;
        let token = s.get(here..here + piece.len()).unwrap_or_default();
        (!token.is_empty()).then(|| (offset.saturating_add(here), token))
    })
}

/// A non-empty run of ASCII digits as a `u64`, `None` when it is anything
/// else or does not fit.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Like [`parse_u64`], for a `u16`.
pub(crate) fn parse_u16(s: &str) -> Option<u16> {
    parse_u64(s).and_then(|n| u16::try_from(n).ok())
}

/// Turns a borrowed or owned string into an owned one that lives forever.
pub(crate) fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The char-wise forms the byte-wise [`trim`] and [`tokens`] replace.
    fn trim_chars(s: &str, offset: usize) -> (usize, &str) {
        let start = s.trim_start_matches(is_space);
        (
            offset + s.len() - start.len(),
            start.trim_end_matches(is_space),
        )
    }

    fn tokens_chars(s: &str, offset: usize) -> Vec<(usize, &str)> {
        s.split(is_space)
            .scan(offset, |at, token| {
                let here = *at;
                *at = here + token.len() + 1;
                Some((here, token))
            })
            .filter(|(_, token)| !token.is_empty())
            .collect()
    }

    #[test]
    fn byte_wise_trim_and_tokens_equal_the_char_wise_ones() {
        let cases = [
            "",
            " ",
            "\t \t",
            "a",
            " a ",
            "msrp://192.0.2.1:7000/abc;tcp",
            "\tmessage/cpim  text/plain\t",
            "  é ü\tß  ",
            "a  b\t\tc ",
            "IN IP4 192.0.2.1",
        ];
        for s in cases {
            assert_eq!(trim(s, 7), trim_chars(s, 7), "{s:?}");
            assert_eq!(
                tokens(s, 3).collect::<Vec<_>>(),
                tokens_chars(s, 3),
                "{s:?}"
            );
        }
    }
}
