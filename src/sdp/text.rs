//! Small text helpers shared by the parser and the writer.

use std::borrow::Cow;

/// Space or horizontal tab.
pub(crate) fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `s` without leading and trailing spaces and tabs, with the offset of
/// the first byte kept (`offset` is where `s` starts in the input).
pub(crate) fn trim(s: &str, offset: usize) -> (usize, &str) {
    let start = s.trim_start_matches(is_space);
    let lead = s.len() - start.len();
    (offset + lead, start.trim_end_matches(is_space))
}

/// The space-separated tokens of `s`, each with its offset in the input.
pub(crate) fn tokens(s: &str, offset: usize) -> impl Iterator<Item = (usize, &str)> {
    s.split(is_space)
        .scan(offset, |at, token| {
            let here = *at;
            *at = here.saturating_add(token.len()).saturating_add(1);
            Some((here, token))
        })
        .filter(|(_, token)| !token.is_empty())
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
