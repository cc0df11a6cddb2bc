//! Lexical helpers shared by the SIP value parsers (RFC 3261 §25.1): tokens,
//! linear white space (including header folding), quoted-strings, comments,
//! comma-separated lists and generic `;name[=value]` parameter lists.
//!
//! Every scanner works on a value string and a byte position in it, and
//! reports errors at offsets relative to that string.

use std::borrow::Cow;

use super::value::{ValueError, ValueErrorKind, ValueLimits};

/// `token` characters: alphanumerics and `-.!%*_+`'~`.
pub(crate) const fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// Linear white space: SP, HT and the CR LF of a folded header line.
pub(crate) const fn is_lws_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Position of the first non-LWS byte at or after `i`.
pub(crate) fn skip_lws(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    while b.get(i).is_some_and(|c| LWS[usize::from(*c)]) {
        i += 1;
    }
    i
}

/// [`is_token_byte`] as a lookup table.
static TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = is_token_byte(i as u8);
        i += 1;
    }
    table
};

/// [`is_lws_byte`] as a lookup table.
static LWS: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = is_lws_byte(i as u8);
        i += 1;
    }
    table
};

/// The octets that end a parameter name in checked parameter text: `=`,
/// `;` and LWS.
static ENDS_NAME: [bool; 256] = {
    let mut table = LWS;
    table[b'=' as usize] = true;
    table[b';' as usize] = true;
    table
};

/// The octets that end an unquoted parameter value in checked parameter
/// text: `;` and LWS.
static ENDS_VALUE: [bool; 256] = {
    let mut table = LWS;
    table[b';' as usize] = true;
    table
};

/// [`is_gen_value_byte`] as a lookup table.
static GEN_VALUE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = is_gen_value_byte(i as u8);
        i += 1;
    }
    table
};

/// Position of the first non-token byte at or after `i`.
pub(crate) fn token_end(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    while b.get(i).is_some_and(|c| TOKEN[usize::from(*c)]) {
        i += 1;
    }
    i
}

/// The token starting at `i` and the position after it.
pub(crate) fn token(s: &str, i: usize) -> Result<(&str, usize), ValueError> {
    let end = token_end(s, i);
    match s.get(i..end) {
        Some(t) if !t.is_empty() => Ok((t, end)),
        _ => Err(ValueError::new(ValueErrorKind::ExpectedToken, i)),
    }
}

/// True when `s` is a non-empty token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// The quoted-string whose opening `"` is at `i`: its raw inside (escapes
/// kept) and the position after the closing `"`.
pub(crate) fn quoted_string(s: &str, i: usize) -> Result<(&str, usize), ValueError> {
    let b = s.as_bytes();
    if b.get(i) != Some(&b'"') {
        return Err(ValueError::new(ValueErrorKind::Expected('"'), i));
    }
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'"' => {
                let inner = s.get(i + 1..j).unwrap_or_default();
                return Ok((inner, j + 1));
            }
            b'\\' => {
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                match b.get(j + 1) {
                    Some(&n) if n < 0x80 && n != b'\r' && n != b'\n' => j += 2,
                    _ => return Err(ValueError::new(ValueErrorKind::UnexpectedCharacter, j + 1)),
                }
            }
            _ => j += 1,
        }
    }
    Err(ValueError::new(ValueErrorKind::UnterminatedQuotedString, i))
}

/// The comment whose opening `(` is at `i`: its raw inside and the position
/// after the matching `)`. Nested comments deeper than `max_depth` fail.
pub(crate) fn comment(s: &str, i: usize, max_depth: usize) -> Result<(&str, usize), ValueError> {
    let b = s.as_bytes();
    if b.get(i) != Some(&b'(') {
        return Err(ValueError::new(ValueErrorKind::Expected('('), i));
    }
    let mut depth = 0usize;
    let mut j = i;
    while let Some(&c) = b.get(j) {
        match c {
            b'(' => {
                depth += 1;
                if depth > max_depth {
                    return Err(ValueError::new(ValueErrorKind::CommentTooDeep, j));
                }
                j += 1;
            }
            b')' => {
                depth -= 1;
                j += 1;
                if depth == 0 {
                    let inner = s.get(i + 1..j - 1).unwrap_or_default();
                    return Ok((inner, j));
                }
            }
            b'\\' => match b.get(j + 1) {
                Some(&n) if n < 0x80 && n != b'\r' && n != b'\n' => j += 2,
                _ => return Err(ValueError::new(ValueErrorKind::UnexpectedCharacter, j + 1)),
            },
            _ => j += 1,
        }
    }
    Err(ValueError::new(ValueErrorKind::UnterminatedComment, i))
}

/// Removes the backslash of every quoted-pair in the raw inside of a
/// quoted-string or comment. Borrows when there is none.
///
/// ```
/// use oma_im::sip::unquote;
/// assert_eq!(unquote(r#"Alice \"Al\" Smith"#), r#"Alice "Al" Smith"#);
/// assert!(matches!(unquote("plain"), std::borrow::Cow::Borrowed("plain")));
/// ```
pub fn unquote(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Appends `s` with every run of linear white space (folding included)
/// replaced by one SP: the canonical form of text that may have been folded.
pub(crate) fn write_collapsed(s: &str, out: &mut Vec<u8>) {
    let mut in_lws = false;
    for &c in s.as_bytes() {
        if is_lws_byte(c) {
            in_lws = true;
        } else {
            if in_lws {
                out.push(b' ');
                in_lws = false;
            }
            out.push(c);
        }
    }
    if in_lws {
        out.push(b' ');
    }
}

/// Appends `s` with every line fold (white space containing CR or LF)
/// replaced by one SP; other white space is kept as written, since inside a
/// quoted-string or comment it may matter (a MIME boundary, a warn-text).
pub(crate) fn write_unfolded(s: &str, out: &mut Vec<u8>) {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\r' || c == b'\n' {
            while b.get(i).is_some_and(|c| is_lws_byte(*c)) {
                i += 1;
            }
            out.push(b' ');
        } else {
            out.push(c);
            i += 1;
        }
    }
}

/// Appends a quoted-string whose raw inside is `raw`, line folds unfolded.
pub(crate) fn write_quoted(raw: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    write_unfolded(raw, out);
    out.push(b'"');
}

/// Fails with [`ValueErrorKind::TrailingData`] unless only LWS is left after `i`.
pub(crate) fn expect_end(s: &str, i: usize) -> Result<(), ValueError> {
    let j = skip_lws(s, i);
    if j < s.len() {
        Err(ValueError::new(ValueErrorKind::TrailingData, j))
    } else {
        Ok(())
    }
}

/// Splits a header value at its top-level commas: commas inside
/// quoted-strings, `<...>` and comments do not split. Yields each element
/// trimmed of LWS together with its offset in the value; empty elements are
/// skipped. Linear in the length of the value.
#[derive(Debug, Clone)]
pub struct CommaSplit<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> CommaSplit<'a> {
    /// Splits `value`.
    pub fn new(value: &'a str) -> Self {
        Self { s: value, pos: 0 }
    }
}

impl<'a> Iterator for CommaSplit<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.s.as_bytes();
        while self.pos < b.len() {
            let start = self.pos;
            let rest = b.get(start..).unwrap_or_default();
            if memchr::memchr(b',', rest).is_none() {
                // No comma left: the rest is the last element, whatever it
                // quotes or brackets.
                self.pos = b.len();
                return trimmed(self.s, start, b.len());
            }
            let mut j = start;
            let mut in_quote = false;
            let mut in_angle = false;
            let mut comment_depth = 0usize;
            while let Some(&c) = b.get(j) {
                if in_quote {
                    match c {
                        b'\\' => j += 1,
                        b'"' => in_quote = false,
                        _ => {}
                    }
                } else if comment_depth > 0 {
                    match c {
                        b'\\' => j += 1,
                        b'(' => comment_depth += 1,
                        b')' => comment_depth -= 1,
                        _ => {}
                    }
                } else {
                    match c {
                        b'"' => in_quote = true,
                        b'<' => in_angle = true,
                        b'>' => in_angle = false,
                        b'(' if !in_angle => comment_depth = 1,
                        b',' if !in_angle => break,
                        _ => {}
                    }
                }
                j += 1;
            }
            let end = j.min(b.len());
            self.pos = end + 1;
            if let Some(item) = trimmed(self.s, start, end) {
                return Some(item);
            }
        }
        None
    }
}

/// `s[start..end]` trimmed of LWS, with its offset; `None` when empty.
fn trimmed(s: &str, start: usize, end: usize) -> Option<(usize, &str)> {
    let b = s.as_bytes();
    let item_start = skip_lws(s, start).min(end);
    let mut item_end = end;
    while item_end > item_start && b.get(item_end - 1).is_some_and(|c| is_lws_byte(*c)) {
        item_end -= 1;
    }
    s.get(item_start..item_end)
        .filter(|item| !item.is_empty())
        .map(|item| (item_start, item))
}

/// One generic parameter `name[=value]` of a header value (RFC 3261 `generic-param`)
/// or of a URI (`uri-parameter`).
///
/// `value` is kept as written: a quoted value keeps its quotes (see
/// [`Param::unquoted_value`]), a URI parameter keeps its `%hh` escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Param<'a> {
    /// The parameter name, as written (compare case-insensitively).
    pub name: &'a str,
    /// The value after `=`, if any, as written.
    pub value: Option<&'a str>,
}

impl<'a> Param<'a> {
    /// True when the value is a quoted-string.
    pub fn is_quoted(&self) -> bool {
        self.value
            .is_some_and(|v| v.len() >= 2 && v.starts_with('"') && v.ends_with('"'))
    }

    /// The value without its quotes and escapes.
    pub fn unquoted_value(&self) -> Option<Cow<'a, str>> {
        let v = self.value?;
        if self.is_quoted() {
            Some(unquote(v.get(1..v.len() - 1).unwrap_or_default()))
        } else {
            Some(Cow::Borrowed(v))
        }
    }

    /// Appends `;name` or `;name=value`, quoted values with folding collapsed.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(b';');
        out.extend_from_slice(self.name.as_bytes());
        if let Some(v) = self.value {
            out.push(b'=');
            if self.is_quoted() {
                write_quoted(v.get(1..v.len() - 1).unwrap_or_default(), out);
            } else {
                out.extend_from_slice(v.as_bytes());
            }
        }
    }
}

/// An ordered list of parameters: the `;name[=value]...` text they were
/// parsed from, read on demand.
///
/// The parser that built it has checked the text; the lookups and the
/// iterator scan it again, which for the usual few parameters costs less
/// than storing them. Two lists are equal when they hold the same
/// parameters, as written, in the same order (white space around `;` and `=`
/// is not compared).
///
/// ```
/// use oma_im::sip::NameAddr;
///
/// let to = NameAddr::parse("<sip:bob@biloxi.com> ; tag = a6c85cf ;x").unwrap();
/// assert_eq!(to.params.get("TAG"), Some(Some("a6c85cf")));
/// assert_eq!(to.params.get("x"), Some(None));
/// let names: Vec<_> = to.params.iter().map(|p| p.name).collect();
/// assert_eq!(names, ["tag", "x"]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Params<'a> {
    /// The checked parameter text, from the first `;` (possibly after LWS).
    text: &'a str,
}

impl<'a> Params<'a> {
    /// An empty list.
    pub fn new() -> Self {
        Self { text: "" }
    }

    /// The list held by `text`, which a parser has checked to be
    /// `*( LWS ";" LWS name [ LWS "=" LWS value ] )` (LWS only in header
    /// parameters, values token-like or quoted-strings).
    pub(crate) fn from_checked(text: &'a str) -> Self {
        Self { text }
    }

    /// The parameter text as written (empty when there is none).
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The first parameter named `name` (case-insensitive).
    pub fn find(&self, name: &str) -> Option<Param<'a>> {
        self.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The value of the first parameter named `name`, `Some(None)` when it has
    /// no value, `None` when it is absent.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.find(name).map(|p| p.value)
    }

    /// True when a parameter named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The parameters in order.
    pub fn iter(&self) -> ParamsIter<'a> {
        ParamsIter {
            text: self.text,
            pos: 0,
        }
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Appends every parameter as `;name[=value]`.
    pub fn write(&self, out: &mut Vec<u8>) {
        // Without white space (a URI's parameters, most header parameters)
        // the checked text is already in canonical form.
        if !self.text.bytes().any(is_lws_byte) {
            out.extend_from_slice(self.text.as_bytes());
            return;
        }
        for p in self {
            p.write(out);
        }
    }
}

impl PartialEq<Params<'_>> for Params<'_> {
    fn eq(&self, other: &Params<'_>) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Params<'_> {}

impl<'a> IntoIterator for &Params<'a> {
    type Item = Param<'a>;
    type IntoIter = ParamsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for Params<'a> {
    type Item = Param<'a>;
    type IntoIter = ParamsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The parameters of a [`Params`], in order.
#[derive(Debug, Clone)]
pub struct ParamsIter<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for ParamsIter<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        let s = self.text;
        let b = s.as_bytes();
        // LWS is rare: each skip is tried only where the byte says so.
        let skip = |i: usize| {
            if b.get(i).is_some_and(|&c| LWS[usize::from(c)]) {
                skip_lws(s, i)
            } else {
                i
            }
        };
        let semi = skip(self.pos);
        if b.get(semi) != Some(&b';') {
            self.pos = s.len();
            return None;
        }
        let name_at = skip(semi + 1);
        let mut i = name_at;
        while b.get(i).is_some_and(|&c| !ENDS_NAME[usize::from(c)]) {
            i += 1;
        }
        let name = s.get(name_at..i).unwrap_or_default();
        let eq = skip(i);
        let value = if b.get(eq) == Some(&b'=') {
            let v_at = skip(eq + 1);
            let mut e = v_at;
            if b.get(v_at) == Some(&b'"') {
                e = quoted_string(s, v_at).map_or(s.len(), |(_, end)| end);
            } else {
                while b.get(e).is_some_and(|&c| !ENDS_VALUE[usize::from(c)]) {
                    e += 1;
                }
            }
            i = e;
            s.get(v_at..e)
        } else {
            None
        };
        self.pos = i;
        Some(Param { name, value })
    }
}

/// Bytes allowed in an unquoted generic-param value: token characters plus the
/// `[`, `]` and `:` of an IPv6 reference (`gen-value = token / host / quoted-string`).
const fn is_gen_value_byte(b: u8) -> bool {
    is_token_byte(b) || matches!(b, b'[' | b']' | b':')
}

/// Parses `*( SEMI generic-param )` starting at `i` (LWS allowed around `;`
/// and `=`). Stops before the first byte that does not start a parameter and
/// returns the list with that position. Fails once `limits.max_params` is
/// passed.
pub(crate) fn generic_params<'a>(
    s: &'a str,
    i: usize,
    limits: &ValueLimits,
) -> Result<(Params<'a>, usize), ValueError> {
    generic_params_checked(s, i, limits, |_| {})
}

/// [`generic_params`], handing each parameter to `each` as it is found
/// (for the checks of a parameter's value that a header defines).
pub(crate) fn generic_params_checked<'a>(
    s: &'a str,
    i: usize,
    limits: &ValueLimits,
    mut each: impl FnMut(Param<'a>),
) -> Result<(Params<'a>, usize), ValueError> {
    let b = s.as_bytes();
    // LWS is rare: each skip is tried only where the byte says so.
    let skip = |i: usize| {
        if b.get(i).is_some_and(|&c| LWS[usize::from(c)]) {
            skip_lws(s, i)
        } else {
            i
        }
    };
    let (start, mut i, mut count) = (i, i, 0usize);
    loop {
        let j = skip(i);
        if b.get(j) != Some(&b';') {
            let text = s.get(start..i).unwrap_or_default();
            return Ok((Params::from_checked(text), i));
        }
        if count >= limits.max_params {
            return Err(ValueError::new(ValueErrorKind::TooManyParams, j));
        }
        count += 1;
        let name_at = skip(j + 1);
        let mut after_name = name_at;
        while b.get(after_name).is_some_and(|&c| TOKEN[usize::from(c)]) {
            after_name += 1;
        }
        if after_name == name_at {
            return Err(ValueError::new(ValueErrorKind::ExpectedToken, name_at));
        }
        let name = s.get(name_at..after_name).unwrap_or_default();
        let k = skip(after_name);
        let value;
        (value, i) = if b.get(k) == Some(&b'=') {
            let v_at = skip(k + 1);
            let end = if b.get(v_at) == Some(&b'"') {
                quoted_string(s, v_at)?.1
            } else {
                let mut e = v_at;
                while b.get(e).is_some_and(|c| GEN_VALUE[usize::from(*c)]) {
                    e += 1;
                }
                if e == v_at {
                    return Err(ValueError::new(ValueErrorKind::InvalidParamValue, v_at));
                }
                e
            };
            (s.get(v_at..end), end)
        } else {
            (None, after_name)
        };
        each(Param { name, value });
    }
}

/// Parses a decimal number of at most `max` at `[i..]`, returning it and the
/// position after the digits.
pub(crate) fn number(s: &str, i: usize, max: u64) -> Result<(u64, usize), ValueError> {
    let b = s.as_bytes();
    let mut j = i;
    let mut n: u64 = 0;
    while let Some(&c) = b.get(j) {
        if !c.is_ascii_digit() {
            break;
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(c - b'0')))
            .filter(|n| *n <= max)
            .ok_or(ValueError::new(ValueErrorKind::NumberOutOfRange, i))?;
        j += 1;
    }
    if j == i {
        return Err(ValueError::new(ValueErrorKind::ExpectedDigits, i));
    }
    Ok((n, j))
}

/// Parses a whole value that must be one decimal number of at most `max`,
/// LWS around it allowed.
pub(crate) fn whole_number(s: &str, max: u64) -> Result<u64, ValueError> {
    let i = skip_lws(s, 0);
    let (n, end) = number(s, i, max)?;
    expect_end(s, end)?;
    Ok(n)
}

/// Offset of the sub-slice `part` in `whole` (0 if it is not one).
pub(crate) fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .checked_sub(whole.as_ptr() as usize)
        .filter(|o| *o <= whole.len())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_split_respects_quotes_angles_and_comments() {
        let v = r#"  "a,b" <sip:x,y@h>;p=1 , (c,d) e ,, f"#;
        let items: Vec<_> = CommaSplit::new(v).collect();
        assert_eq!(
            items,
            vec![(2, r#""a,b" <sip:x,y@h>;p=1"#), (26, "(c,d) e"), (37, "f")]
        );
    }

    #[test]
    fn comma_split_last_element_without_comma() {
        let items: Vec<_> = CommaSplit::new(" a , \"b\r\n c ").collect();
        assert_eq!(items, vec![(1, "a"), (5, "\"b\r\n c")]);
        assert_eq!(
            CommaSplit::new("x,  \t").collect::<Vec<_>>(),
            vec![(0, "x")]
        );
        assert_eq!(CommaSplit::new(" \t ").count(), 0);
    }

    #[test]
    fn quoted_string_escapes_and_errors() {
        assert_eq!(quoted_string(r#""a\"b" x"#, 0), Ok((r#"a\"b"#, 6)));
        assert_eq!(
            quoted_string(r#""abc"#, 0).unwrap_err().kind,
            ValueErrorKind::UnterminatedQuotedString
        );
    }

    #[test]
    fn comment_depth_is_limited() {
        assert_eq!(comment("(a(b)c) d", 0, 8), Ok(("a(b)c", 7)));
        assert_eq!(
            comment("((((x))))", 0, 3).unwrap_err().kind,
            ValueErrorKind::CommentTooDeep
        );
        assert_eq!(
            comment("(a(b)", 0, 8).unwrap_err().kind,
            ValueErrorKind::UnterminatedComment
        );
    }

    #[test]
    fn params_with_lws_and_quotes() {
        let s = " ; a = 1 ;b; c=\"x;y\"  rest";
        let (p, end) = generic_params(s, 0, &ValueLimits::DEFAULT).unwrap();
        assert_eq!(p.get("A"), Some(Some("1")));
        assert_eq!(p.get("b"), Some(None));
        assert_eq!(p.find("c").unwrap().unquoted_value().unwrap(), "x;y");
        assert_eq!(&s[end..], "  rest");
    }

    proptest::proptest! {
        /// The lazy iterator reads back exactly the parameters written,
        /// whatever white space surrounds `;` and `=`.
        #[test]
        fn params_read_back_what_was_written(
            params in proptest::collection::vec(
                (
                    "[a-zA-Z0-9.!%*_+`'~-]{1,8}",
                    proptest::option::of(proptest::prop_oneof![
                        "[a-zA-Z0-9.:\\[\\]-]{1,8}",
                        "\"[a-z ;,=]{0,6}\"",
                    ]),
                    proptest::sample::select(vec!["", " ", "\t", "\r\n "]),
                ),
                0..6,
            ),
        ) {
            let mut text = String::new();
            for (name, value, lws) in &params {
                text.push_str(&format!("{lws};{lws}{name}"));
                if let Some(v) = value {
                    text.push_str(&format!("{lws}={lws}{v}"));
                }
            }
            let (parsed, end) = generic_params(&text, 0, &ValueLimits::DEFAULT).unwrap();
            proptest::prop_assert_eq!(end, text.len());
            let read: Vec<_> = parsed.iter().map(|p| (p.name, p.value)).collect();
            let wanted: Vec<_> = params
                .iter()
                .map(|(n, v, _)| (n.as_str(), v.as_deref()))
                .collect();
            proptest::prop_assert_eq!(read, wanted);
            proptest::prop_assert_eq!(parsed.len(), params.len());
        }
    }

    #[test]
    fn params_write_canonically_with_or_without_white_space() {
        for (text, canonical) in [
            (";a=1;b;c=\"x;y\"", ";a=1;b;c=\"x;y\""),
            (" ; a = 1 ;b", ";a=1;b"),
            (";c=\"two\r\n words\";d", ";c=\"two words\";d"),
            ("", ""),
        ] {
            let (params, end) = generic_params(text, 0, &ValueLimits::DEFAULT).unwrap();
            assert_eq!(end, text.len(), "{text:?}");
            let mut out = Vec::new();
            params.write(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), canonical, "{text:?}");
            let mut each = Vec::new();
            params.iter().for_each(|p| p.write(&mut each));
            assert_eq!(String::from_utf8(each).unwrap(), canonical, "{text:?}");
        }
    }

    #[test]
    fn numbers_check_overflow() {
        assert_eq!(whole_number(" 42 ", 100), Ok(42));
        assert_eq!(
            whole_number("101", 100).unwrap_err().kind,
            ValueErrorKind::NumberOutOfRange
        );
        assert_eq!(
            whole_number("99999999999999999999999", u64::MAX)
                .unwrap_err()
                .kind,
            ValueErrorKind::NumberOutOfRange
        );
    }
}
