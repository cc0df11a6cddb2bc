//! Shared MIME pieces (RFC 2045, RFC 2046, RFC 2183): header blocks, media
//! types with their parameters, `Content-Disposition`, the error type and the
//! limits every body codec of [`crate::body`] uses.
//!
//! Parsing borrows the input; header fields keep their value as written
//! (folding included), trimmed of the white space around it. A header block
//! ends at the first empty line; line ends are CRLF, or LF alone (lenient).

use std::borrow::Cow;
use std::fmt;

use smallvec::SmallVec;

/// Limits on MIME bodies: everything that grows with the input is bounded by one
/// of these fields. Exceeding one is a [`MimeError`], found before the large work
/// is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MimeLimits {
    /// Most header fields in one header block (a multipart part's headers, a
    /// CPIM message header block, CPIM encapsulated MIME headers).
    pub max_headers: usize,
    /// Longest header field in bytes, name, colon, value and folding included.
    pub max_header_len: usize,
    /// Most body parts in one multipart body.
    pub max_parts: usize,
    /// Most parameters on one `Content-Type` or `Content-Disposition` value,
    /// or on one CPIM header.
    pub max_params: usize,
    /// Deepest nesting [`Multipart::walk`](super::multipart::Multipart::walk)
    /// descends into: the outer body is level 1, a `multipart/*` part of it
    /// holds level 2, and so on. Values above
    /// [`MimeLimits::NESTING_CEILING`] act as the ceiling. A walk reads each
    /// level's bytes once, so its work is at most the body length times
    /// this depth.
    pub max_nesting: usize,
}

impl MimeLimits {
    /// The deepest nesting any configuration accepts (see
    /// [`MimeLimits::max_nesting`]): 32 levels, which keeps a walk of a body
    /// within 32 reads of its bytes.
    pub const NESTING_CEILING: usize = 32;

    /// The nesting limit in force: [`MimeLimits::max_nesting`], at most
    /// [`MimeLimits::NESTING_CEILING`], at least 1.
    ///
    /// ```
    /// use oma_im::body::mime::MimeLimits;
    /// let limits = MimeLimits { max_nesting: usize::MAX, ..MimeLimits::default() };
    /// assert_eq!(limits.effective_max_nesting(), MimeLimits::NESTING_CEILING);
    /// ```
    pub fn effective_max_nesting(&self) -> usize {
        self.max_nesting.clamp(1, Self::NESTING_CEILING)
    }
}

impl Default for MimeLimits {
    fn default() -> Self {
        MimeLimits {
            max_headers: 64,
            max_header_len: 8 * 1024,
            max_parts: 16,
            max_params: 16,
            max_nesting: 4,
        }
    }
}

/// What went wrong in a MIME body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MimeErrorKind {
    /// A header line has no `:`.
    MissingColon,
    /// A header field name is empty or holds a character a field name cannot.
    InvalidHeaderName,
    /// A header field value holds a control character (a bare CR or LF, NUL, ...).
    InvalidHeaderValue,
    /// A header block starts with a continuation line (leading white space).
    UnexpectedContinuation,
    /// Header bytes are not UTF-8.
    InvalidUtf8,
    /// More header fields than [`MimeLimits::max_headers`].
    TooManyHeaders,
    /// A header field longer than [`MimeLimits::max_header_len`].
    HeaderTooLong,
    /// A block ends before the empty line that must close it.
    MissingBlankLine,
    /// A media type is not `type/subtype` made of tokens.
    InvalidMediaType,
    /// A `Content-Disposition` value has no valid disposition type.
    InvalidDisposition,
    /// A parameter is not `name=value` with a token or quoted-string value.
    InvalidParameter,
    /// A quoted string has no closing `"`.
    UnterminatedQuotedString,
    /// More parameters than [`MimeLimits::max_params`].
    TooManyParams,
    /// The content type is not `multipart/*`.
    NotMultipart,
    /// The multipart content type has no `boundary` parameter.
    MissingBoundary,
    /// The boundary is empty, longer than 70 characters, holds a character
    /// outside `bchars`, or ends with a space (RFC 2046 §5.1.1).
    InvalidBoundary,
    /// The multipart body has no delimiter line at all.
    MissingDelimiter,
    /// The multipart body ends without its close delimiter `--boundary--`.
    MissingCloseDelimiter,
    /// The close delimiter comes before any body part.
    NoBodyPart,
    /// More body parts than [`MimeLimits::max_parts`].
    TooManyParts,
    /// `multipart/*` bodies nested deeper than [`MimeLimits::max_nesting`].
    TooDeep,
    /// A CPIM header line is not `Name: value` (RFC 3862 §3).
    InvalidCpimHeader,
    /// A CPIM header that may appear only once appears again (RFC 3862 §3:
    /// only `To`, `cc`, `Subject` and `NS` repeat).
    DuplicateHeader,
    /// A CPIM address is not `[Formal-name] "<" URI ">"`.
    InvalidAddress,
    /// A CPIM `NS` value is not `[Name-prefix SP] "<" URI ">"`.
    InvalidNamespace,
    /// A `\` escape other than those of RFC 3862 §3.6.
    InvalidEscape,
    /// A CPIM `DateTime` value is not an RFC 3339 `date-time`.
    InvalidDateTime,
}

impl fmt::Display for MimeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            MimeErrorKind::MissingColon => "header line without ':'",
            MimeErrorKind::InvalidHeaderName => "invalid header field name",
            MimeErrorKind::InvalidHeaderValue => "control character in header field value",
            MimeErrorKind::UnexpectedContinuation => "continuation line without a header",
            MimeErrorKind::InvalidUtf8 => "header bytes are not UTF-8",
            MimeErrorKind::TooManyHeaders => "too many header fields",
            MimeErrorKind::HeaderTooLong => "header field too long",
            MimeErrorKind::MissingBlankLine => "missing empty line after the headers",
            MimeErrorKind::InvalidMediaType => "invalid media type",
            MimeErrorKind::InvalidDisposition => "invalid disposition type",
            MimeErrorKind::InvalidParameter => "invalid parameter",
            MimeErrorKind::UnterminatedQuotedString => "unterminated quoted string",
            MimeErrorKind::TooManyParams => "too many parameters",
            MimeErrorKind::NotMultipart => "content type is not multipart",
            MimeErrorKind::MissingBoundary => "multipart content type without boundary",
            MimeErrorKind::InvalidBoundary => "invalid multipart boundary",
            MimeErrorKind::MissingDelimiter => "no multipart delimiter line",
            MimeErrorKind::MissingCloseDelimiter => "multipart body without close delimiter",
            MimeErrorKind::NoBodyPart => "multipart body without body part",
            MimeErrorKind::TooManyParts => "too many body parts",
            MimeErrorKind::TooDeep => "multipart bodies nested too deep",
            MimeErrorKind::InvalidCpimHeader => "invalid CPIM header line",
            MimeErrorKind::DuplicateHeader => "CPIM header repeated",
            MimeErrorKind::InvalidAddress => "invalid CPIM address",
            MimeErrorKind::InvalidNamespace => "invalid CPIM NS value",
            MimeErrorKind::InvalidEscape => "invalid escape sequence",
            MimeErrorKind::InvalidDateTime => "invalid DateTime value",
        };
        f.write_str(text)
    }
}

/// A MIME body error: what went wrong and the byte offset in the input where
/// it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimeError {
    /// The cause.
    pub kind: MimeErrorKind,
    /// Byte offset in the parsed input.
    pub offset: usize,
}

impl MimeError {
    pub(crate) fn new(kind: MimeErrorKind, offset: usize) -> Self {
        MimeError { kind, offset }
    }

    /// The same error, with its offset moved by `base` (for a sub-slice that
    /// starts at `base` in the whole input).
    pub(crate) fn shifted(self, base: usize) -> Self {
        MimeError {
            kind: self.kind,
            offset: self.offset.saturating_add(base),
        }
    }
}

impl fmt::Display for MimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for MimeError {}

/// `token` characters of RFC 2045 §5.1: printable US-ASCII except space and
/// `tspecials`.
pub(crate) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !TSPECIALS[usize::from(b)]
}

/// The `tspecials` of RFC 2045 §5.1, by octet: a table, not a search of
/// the list for every octet of every media type and parameter.
const TSPECIALS: [bool; 256] = octet_table(b"()<>@,;:\\\"/[]?=");

/// A table by octet, `true` for the octets of `set`.
pub(crate) const fn octet_table(set: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < set.len() {
        table[set[i] as usize] = true;
        i += 1;
    }
    table
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// Header field name characters (RFC 5322 `ftext`): printable US-ASCII but `:`.
fn is_field_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Checks a field value: no control characters except HTAB, and CR/LF only as
/// folding (a line end followed by white space).
fn check_field_value(value: &str) -> Result<(), usize> {
    let bytes = value.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                if !bytes.get(i + 2).is_some_and(|&c| is_wsp(c)) {
                    return Err(i);
                }
                i += 2;
            }
            b'\n' => {
                if !bytes.get(i + 1).is_some_and(|&c| is_wsp(c)) {
                    return Err(i);
                }
                i += 1;
            }
            b'\t' => i += 1,
            _ if b.is_ascii_control() => return Err(i),
            _ => i += 1,
        }
    }
    Ok(())
}

/// One header field: a name and its value as written (folding kept, white
/// space around the value removed).
///
/// Built by the parsers, or by [`HeaderField::new`], which checks that writing
/// the field cannot produce anything but that one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
}

impl<'a> HeaderField<'a> {
    /// A header field; the value is trimmed of surrounding white space.
    ///
    /// Fails with [`MimeErrorKind::InvalidHeaderName`] when the name is empty or
    /// holds a space, control character or `:`, and with
    /// [`MimeErrorKind::InvalidHeaderValue`] when the value holds a control
    /// character other than HTAB or a line end not followed by white space
    /// (folding). The offsets are into the value.
    pub fn new(
        name: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Result<Self, MimeError> {
        let name = name.into();
        if !is_field_name(&name) {
            return Err(MimeError::new(MimeErrorKind::InvalidHeaderName, 0));
        }
        let value = match value.into() {
            Cow::Borrowed(v) => Cow::Borrowed(trim_wsp(v)),
            Cow::Owned(v) => Cow::Owned(trim_wsp(&v).to_owned()),
        };
        check_field_value(&value)
            .map_err(|at| MimeError::new(MimeErrorKind::InvalidHeaderValue, at))?;
        Ok(HeaderField { name, value })
    }

    /// The field name, as written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field value, as written (folding kept).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether the field is named `name` (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The same field, owning its text.
    pub fn into_owned(self) -> HeaderField<'static> {
        HeaderField {
            name: Cow::Owned(self.name.into_owned()),
            value: Cow::Owned(self.value.into_owned()),
        }
    }

    /// Appends `name: value` CRLF.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(self.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Trims spaces, tabs and line ends on both sides.
fn trim_wsp(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// A header block: header fields in their order.
///
/// Blocks compare equal when they hold the same fields in the same order,
/// whatever buffers they borrow.
#[derive(Debug, Clone, Default, Eq)]
pub struct HeaderBlock<'a> {
    fields: SmallVec<[HeaderField<'a>; 4]>,
}

impl<'b> PartialEq<HeaderBlock<'b>> for HeaderBlock<'_> {
    fn eq(&self, other: &HeaderBlock<'b>) -> bool {
        self.fields.len() == other.fields.len()
            && self
                .fields
                .iter()
                .zip(other.fields.iter())
                .all(|(a, b)| a.name == b.name && a.value == b.value)
    }
}

impl<'a> HeaderBlock<'a> {
    /// An empty block.
    pub fn new() -> Self {
        HeaderBlock::default()
    }

    /// Appends a field.
    pub fn push(&mut self, field: HeaderField<'a>) {
        self.fields.push(field);
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[HeaderField<'a>] {
        &self.fields
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the block has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The value of the first field named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.is(name)).map(|f| f.value())
    }

    /// The values of every field named `name` (case-insensitive), in order.
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.fields
            .iter()
            .filter(move |f| f.is(name))
            .map(|f| f.value())
    }

    /// The `Content-Type` field, parsed; `None` when there is none.
    pub fn content_type(&self) -> Option<Result<MediaType<'_>, MimeError>> {
        self.get("Content-Type").map(MediaType::parse)
    }

    /// The `Content-Disposition` field (RFC 2183), parsed; `None` when there is
    /// none.
    pub fn content_disposition(&self) -> Option<Result<ContentDisposition<'_>, MimeError>> {
        self.get("Content-Disposition")
            .map(ContentDisposition::parse)
    }

    /// The same block, owning its text.
    pub fn into_owned(self) -> HeaderBlock<'static> {
        HeaderBlock {
            fields: self
                .fields
                .into_iter()
                .map(HeaderField::into_owned)
                .collect(),
        }
    }

    /// Appends every field, each ending with CRLF (not the empty line).
    pub fn write(&self, out: &mut Vec<u8>) {
        for field in &self.fields {
            field.write(out);
        }
    }

    /// Parses a header block at the start of `input`, up to and including the
    /// empty line that ends it, or up to the end of `input`.
    ///
    /// Returns the block, the number of bytes consumed, and whether an empty
    /// line ended the block. Offsets in errors are into `input`.
    pub fn parse(
        input: &'a [u8],
        limits: &MimeLimits,
    ) -> Result<(HeaderBlock<'a>, usize, bool), MimeError> {
        let mut block = HeaderBlock::new();
        let mut pos = 0usize;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            if rest.is_empty() {
                return Ok((block, pos, false));
            }
            if rest.starts_with(b"\r\n") {
                return Ok((block, pos + 2, true));
            }
            if rest.starts_with(b"\n") {
                return Ok((block, pos + 1, true));
            }
            if rest.first().is_some_and(|&b| is_wsp(b)) {
                return Err(MimeError::new(MimeErrorKind::UnexpectedContinuation, pos));
            }
            if block.len() >= limits.max_headers {
                return Err(MimeError::new(MimeErrorKind::TooManyHeaders, pos));
            }
            let (field, len) = parse_field(rest, limits).map_err(|e| e.shifted(pos))?;
            block.push(field);
            pos += len;
        }
    }
}

/// Parses one header field (with its continuation lines) at the start of
/// `input`; returns it and the bytes consumed, line end included.
fn parse_field<'a>(
    input: &'a [u8],
    limits: &MimeLimits,
) -> Result<(HeaderField<'a>, usize), MimeError> {
    // Find the end of the field: the first line end not followed by WSP.
    let window = &input[..input.len().min(limits.max_header_len.saturating_add(2))];
    let mut end = None;
    let mut search = 0usize;
    while let Some(i) = memchr::memchr(b'\n', window.get(search..).unwrap_or_default()) {
        let nl = search + i;
        if !input.get(nl + 1).is_some_and(|&b| is_wsp(b)) {
            end = Some(nl);
            break;
        }
        search = nl + 1;
    }
    let (content_end, consumed) = match end {
        Some(nl) => {
            let content_end = if nl > 0 && input.get(nl - 1) == Some(&b'\r') {
                nl - 1
            } else {
                nl
            };
            (content_end, nl + 1)
        }
        None if input.len() <= limits.max_header_len => (input.len(), input.len()),
        None => return Err(MimeError::new(MimeErrorKind::HeaderTooLong, 0)),
    };
    if content_end > limits.max_header_len {
        return Err(MimeError::new(MimeErrorKind::HeaderTooLong, 0));
    }
    let line = &input[..content_end];
    let colon = memchr::memchr(b':', line).ok_or(MimeError::new(MimeErrorKind::MissingColon, 0))?;
    let name = std::str::from_utf8(&line[..colon])
        .map_err(|e| MimeError::new(MimeErrorKind::InvalidUtf8, e.valid_up_to()))?;
    // Obsolete syntax (RFC 5322 §4.5) allows white space before the colon.
    let name = name.trim_end_matches([' ', '\t']);
    if !is_field_name(name) {
        return Err(MimeError::new(MimeErrorKind::InvalidHeaderName, 0));
    }
    let value_start = colon + 1;
    let value = std::str::from_utf8(&line[value_start..])
        .map_err(|e| MimeError::new(MimeErrorKind::InvalidUtf8, value_start + e.valid_up_to()))?;
    let trimmed = trim_wsp(value);
    let lead = value.len() - value.trim_start_matches([' ', '\t', '\r', '\n']).len();
    check_field_value(trimmed)
        .map_err(|at| MimeError::new(MimeErrorKind::InvalidHeaderValue, value_start + lead + at))?;
    Ok((
        HeaderField {
            name: Cow::Borrowed(name),
            value: Cow::Borrowed(trimmed),
        },
        consumed,
    ))
}

/// A parameter value as written: a token, or the inside of a quoted string
/// (escapes still in place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamValue<'a> {
    raw: &'a str,
    quoted: bool,
}

impl<'a> ParamValue<'a> {
    /// The value as written, without surrounding quotes (escapes kept).
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the value was a quoted string.
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// The value with quoted-pair escapes (`\x`) removed; borrows when there
    /// is none.
    pub fn unquoted(&self) -> Cow<'a, str> {
        if !self.quoted || !self.raw.contains('\\') {
            return Cow::Borrowed(self.raw);
        }
        let mut out = String::with_capacity(self.raw.len());
        let mut chars = self.raw.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    }

    /// Whether the value equals `other`, ignoring ASCII case (for values such
    /// as `handling=optional`).
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.unquoted().eq_ignore_ascii_case(other)
    }
}

/// One `name=value` parameter of a media type or disposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The parameter name (compare case-insensitively).
    pub name: &'a str,
    /// The value.
    pub value: ParamValue<'a>,
}

/// Parameters in their order.
pub type Params<'a> = SmallVec<[Param<'a>; 4]>;

fn is_lws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Parses `*( ";" parameter )` from `s` (`base` is the offset of `s` in the
/// field value, for errors).
fn parse_params<'a>(s: &'a str, base: usize, limits: &MimeLimits) -> Result<Params<'a>, MimeError> {
    let mut params = Params::new();
    let mut rest = s;
    loop {
        let trimmed = rest.trim_start_matches(is_lws);
        let at = base + (s.len() - trimmed.len());
        if trimmed.is_empty() {
            return Ok(params);
        }
        let Some(after) = trimmed.strip_prefix(';') else {
            return Err(MimeError::new(MimeErrorKind::InvalidParameter, at));
        };
        let after = after.trim_start_matches(is_lws);
        if after.is_empty() {
            // A trailing ';' is tolerated.
            return Ok(params);
        }
        if params.len() >= limits.max_params {
            return Err(MimeError::new(MimeErrorKind::TooManyParams, at));
        }
        let name_end = token_len(after);
        let name = &after[..name_end];
        let after_name = after[name_end..].trim_start_matches(is_lws);
        let Some(after_eq) = after_name.strip_prefix('=') else {
            return Err(MimeError::new(MimeErrorKind::InvalidParameter, at));
        };
        if name.is_empty() {
            return Err(MimeError::new(MimeErrorKind::InvalidParameter, at));
        }
        let v = after_eq.trim_start_matches(is_lws);
        let value_at = base + (s.len() - v.len());
        let (value, tail) = if let Some(q) = v.strip_prefix('"') {
            let end = quoted_end(q).ok_or(MimeError::new(
                MimeErrorKind::UnterminatedQuotedString,
                value_at,
            ))?;
            (
                ParamValue {
                    raw: &q[..end],
                    quoted: true,
                },
                &q[end + 1..],
            )
        } else {
            let end = token_len(v);
            if end == 0 {
                return Err(MimeError::new(MimeErrorKind::InvalidParameter, value_at));
            }
            (
                ParamValue {
                    raw: &v[..end],
                    quoted: false,
                },
                &v[end..],
            )
        };
        params.push(Param { name, value });
        rest = tail;
    }
}

/// Length of the token at the start of `s` (a byte count: tokens are ASCII).
fn token_len(s: &str) -> usize {
    s.bytes().position(|b| !is_token_byte(b)).unwrap_or(s.len())
}

/// Index of the closing `"` in `s` (which starts just after the opening one),
/// skipping `\x` pairs.
fn quoted_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Writes `;name=value`, quoting the value when it is not a token.
fn write_param(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(b';');
    out.extend_from_slice(name.as_bytes());
    out.push(b'=');
    write_token_or_quoted(out, value);
}

/// Writes `value` as a token when it is one, else as a quoted string.
pub(crate) fn write_token_or_quoted(out: &mut Vec<u8>, value: &str) {
    if is_token(value) {
        out.extend_from_slice(value.as_bytes());
    } else {
        out.push(b'"');
        for b in value.bytes() {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    }
}

fn write_params(out: &mut Vec<u8>, params: &[Param<'_>]) {
    for p in params {
        write_param(out, p.name, &p.value.unquoted());
    }
}

/// A media type (RFC 2045 §5.1): `type "/" subtype *( ";" parameter )`.
///
/// Type, subtype and parameter names compare case-insensitively; parameter
/// values are kept as written.
///
/// ```
/// use oma_im::body::mime::MediaType;
///
/// let ct = MediaType::parse("multipart/mixed; boundary=\"simple boundary\"").unwrap();
/// assert!(ct.is("Multipart", "MIXED"));
/// assert_eq!(ct.param("boundary").unwrap().unquoted(), "simple boundary");
/// let mut out = Vec::new();
/// ct.write(&mut out);
/// assert_eq!(out, b"multipart/mixed;boundary=\"simple boundary\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// The top-level type (`application`, `multipart`, ...).
    pub top_level: &'a str,
    /// The subtype (`sdp`, `mixed`, ...).
    pub subtype: &'a str,
    /// The parameters, in order.
    pub params: Params<'a>,
}

impl<'a> MediaType<'a> {
    /// `top_level/subtype` without parameters.
    pub fn new(top_level: &'a str, subtype: &'a str) -> Self {
        MediaType {
            top_level,
            subtype,
            params: Params::new(),
        }
    }

    /// Parses a `Content-Type` value with [`MimeLimits::default`].
    pub fn parse(value: &'a str) -> Result<Self, MimeError> {
        Self::parse_with(value, &MimeLimits::default())
    }

    /// Parses a `Content-Type` value; offsets in errors are into `value`.
    pub fn parse_with(value: &'a str, limits: &MimeLimits) -> Result<Self, MimeError> {
        let start = value.len() - value.trim_start_matches(is_lws).len();
        let v = &value[start..];
        let top_end = token_len(v);
        let top_level = &v[..top_end];
        let after_top = v[top_end..].trim_start_matches(is_lws);
        let Some(after_slash) = after_top.strip_prefix('/') else {
            return Err(MimeError::new(
                MimeErrorKind::InvalidMediaType,
                start + top_end,
            ));
        };
        let after_slash = after_slash.trim_start_matches(is_lws);
        let sub_end = token_len(after_slash);
        let subtype = &after_slash[..sub_end];
        if top_level.is_empty() || subtype.is_empty() {
            return Err(MimeError::new(MimeErrorKind::InvalidMediaType, start));
        }
        let rest = &after_slash[sub_end..];
        let params = parse_params(rest, value.len() - rest.len(), limits)?;
        Ok(MediaType {
            top_level,
            subtype,
            params,
        })
    }

    /// Whether this is `top_level/subtype` (case-insensitive).
    pub fn is(&self, top_level: &str, subtype: &str) -> bool {
        self.top_level.eq_ignore_ascii_case(top_level) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// Whether the top-level type is `multipart`.
    pub fn is_multipart(&self) -> bool {
        self.top_level.eq_ignore_ascii_case("multipart")
    }

    /// The first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<ParamValue<'a>> {
        find_param(&self.params, name)
    }

    /// Appends the media type in canonical form: `type/subtype`, then each
    /// parameter as `;name=value` (quoted when the value is not a token).
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.top_level.as_bytes());
        out.push(b'/');
        out.extend_from_slice(self.subtype.as_bytes());
        write_params(out, &self.params);
    }
}

fn find_param<'a>(params: &[Param<'a>], name: &str) -> Option<ParamValue<'a>> {
    params
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .map(|p| p.value)
}

/// A `Content-Disposition` value (RFC 2183): `disposition-type *( ";"
/// parameter )`, such as `recipient-list` (RFC 5366), `render` or `session`
/// (RFC 3261), with `handling=optional|required`.
///
/// ```
/// use oma_im::body::mime::ContentDisposition;
///
/// let cd = ContentDisposition::parse("session;handling=optional").unwrap();
/// assert!(cd.is("Session"));
/// assert!(cd.param("handling").unwrap().eq_ignore_case("optional"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDisposition<'a> {
    /// The disposition type.
    pub disposition_type: &'a str,
    /// The parameters, in order.
    pub params: Params<'a>,
}

impl<'a> ContentDisposition<'a> {
    /// Parses a `Content-Disposition` value with [`MimeLimits::default`].
    pub fn parse(value: &'a str) -> Result<Self, MimeError> {
        Self::parse_with(value, &MimeLimits::default())
    }

    /// Parses a `Content-Disposition` value; offsets in errors are into
    /// `value`.
    pub fn parse_with(value: &'a str, limits: &MimeLimits) -> Result<Self, MimeError> {
        let start = value.len() - value.trim_start_matches(is_lws).len();
        let v = &value[start..];
        let end = token_len(v);
        if end == 0 {
            return Err(MimeError::new(MimeErrorKind::InvalidDisposition, start));
        }
        let rest = &v[end..];
        let params = parse_params(rest, start + end, limits)?;
        Ok(ContentDisposition {
            disposition_type: &v[..end],
            params,
        })
    }

    /// Whether the disposition type is `ty` (case-insensitive).
    pub fn is(&self, ty: &str) -> bool {
        self.disposition_type.eq_ignore_ascii_case(ty)
    }

    /// The first parameter named `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<ParamValue<'a>> {
        find_param(&self.params, name)
    }

    /// Appends the value in canonical form.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.disposition_type.as_bytes());
        write_params(out, &self.params);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_block_folding_and_lf_only() {
        let input = b"Content-Type: text/plain;\r\n charset=us-ascii\nX-A:b\n\nbody";
        let (block, used, ended) = HeaderBlock::parse(input, &MimeLimits::default()).unwrap();
        assert!(ended);
        assert_eq!(&input[used..], b"body");
        assert_eq!(block.len(), 2);
        assert_eq!(
            block.get("content-type"),
            Some("text/plain;\r\n charset=us-ascii")
        );
        assert_eq!(block.get("x-a"), Some("b"));
        let ct = block.content_type().unwrap().unwrap();
        assert_eq!(ct.param("charset").unwrap().raw(), "us-ascii");
    }

    #[test]
    fn header_block_errors_have_offsets() {
        let limits = MimeLimits::default();
        let e = HeaderBlock::parse(b"A: b\r\nno colon\r\n\r\n", &limits).unwrap_err();
        assert_eq!(e, MimeError::new(MimeErrorKind::MissingColon, 6));
        let e = HeaderBlock::parse(b" folded\r\n", &limits).unwrap_err();
        assert_eq!(e.kind, MimeErrorKind::UnexpectedContinuation);
        let e = HeaderBlock::parse(b"A: b\rc\r\n\r\n", &limits).unwrap_err();
        assert_eq!(e, MimeError::new(MimeErrorKind::InvalidHeaderValue, 4));
        let e = HeaderBlock::parse(b"A: \xff\r\n", &limits).unwrap_err();
        assert_eq!(e, MimeError::new(MimeErrorKind::InvalidUtf8, 3));
    }

    #[test]
    fn header_limits() {
        let limits = MimeLimits {
            max_headers: 2,
            max_header_len: 10,
            ..MimeLimits::default()
        };
        let e = HeaderBlock::parse(b"A: 1\r\nB: 2\r\nC: 3\r\n\r\n", &limits).unwrap_err();
        assert_eq!(e, MimeError::new(MimeErrorKind::TooManyHeaders, 12));
        let e = HeaderBlock::parse(b"A: 123456789\r\n\r\n", &limits).unwrap_err();
        assert_eq!(e.kind, MimeErrorKind::HeaderTooLong);
        assert!(HeaderBlock::parse(b"A: 1234567\r\n\r\n", &limits).is_ok());
    }

    #[test]
    fn header_field_new_rejects_injection() {
        assert!(HeaderField::new("X", "a\r\nY: b").is_err());
        assert!(HeaderField::new("X:", "a").is_err());
        assert!(HeaderField::new("", "a").is_err());
        let f = HeaderField::new("X", "  a\r\n b ").unwrap();
        assert_eq!(f.value(), "a\r\n b");
    }

    #[test]
    fn media_type_params() {
        let ct = MediaType::parse("Multipart/Mixed ; boundary = \"a\\\"b\" ;x=y;").unwrap();
        assert!(ct.is_multipart());
        assert_eq!(ct.param("BOUNDARY").unwrap().unquoted(), "a\"b");
        assert_eq!(ct.params.len(), 2);
        let mut out = Vec::new();
        ct.write(&mut out);
        assert_eq!(out, b"Multipart/Mixed;boundary=\"a\\\"b\";x=y");
        let text = String::from_utf8(out).unwrap();
        let again = MediaType::parse(&text).unwrap();
        assert_eq!(again.params.len(), 2);
        assert_eq!(again.param("boundary").unwrap().unquoted(), "a\"b");
    }

    #[test]
    fn media_type_errors() {
        assert_eq!(
            MediaType::parse("text").unwrap_err().kind,
            MimeErrorKind::InvalidMediaType
        );
        assert_eq!(
            MediaType::parse("/x").unwrap_err().kind,
            MimeErrorKind::InvalidMediaType
        );
        assert_eq!(
            MediaType::parse("a/b; c=\"x").unwrap_err(),
            MimeError::new(MimeErrorKind::UnterminatedQuotedString, 7)
        );
        assert_eq!(
            MediaType::parse("a/b; c").unwrap_err().kind,
            MimeErrorKind::InvalidParameter
        );
        let limits = MimeLimits {
            max_params: 1,
            ..MimeLimits::default()
        };
        assert_eq!(
            MediaType::parse_with("a/b;c=d;e=f", &limits).unwrap_err(),
            MimeError::new(MimeErrorKind::TooManyParams, 7)
        );
    }

    #[test]
    fn disposition() {
        let cd = ContentDisposition::parse("recipient-list").unwrap();
        assert!(cd.is("RECIPIENT-LIST"));
        assert!(cd.params.is_empty());
        assert!(ContentDisposition::parse(";x=y").is_err());
        let mut out = Vec::new();
        ContentDisposition::parse("render ; handling=\"optional\"")
            .unwrap()
            .write(&mut out);
        assert_eq!(out, b"render;handling=optional");
    }
}
