//! `message/cpim` (RFC 3862): the message header block (`From`, `To`, `cc`,
//! `DateTime`, `Subject`, `NS`, `Require` and namespaced extension headers), an
//! empty line, the encapsulated MIME headers, an empty line, then the content.
//!
//! Parsing borrows the input: text is copied only where a value holds `\`
//! escapes (RFC 3862 §3.6), which parsing removes. Writing puts the escapes
//! back: it produces the header block in the order `From`, `To`, `cc`,
//! `DateTime`, `Subject`, `NS`, `Require`, extension headers, then exactly one
//! CRLF empty line, the MIME headers, one CRLF empty line, and the content as
//! is (no line end added after it).
//!
//! Parameters are kept on `Subject` (`lang`) and on extension headers; on the
//! other headers RFC 3862 defines none, and any found there are ignored.
//!
//! ```
//! use oma_im::body::cpim::CpimMessage;
//!
//! let input = b"From: MR SANDERS <im:piglet@100akerwood.com>\r\n\
//! To: Depressed Donkey <im:eeyore@100akerwood.com>\r\n\
//! DateTime: 2000-12-13T13:40:00-08:00\r\n\
//! \r\n\
//! Content-Type: text/plain\r\n\
//! \r\n\
//! Here is the text of my message.";
//! let msg = CpimMessage::parse(input).unwrap();
//! assert_eq!(msg.from.as_ref().unwrap().display_name.as_deref(), Some("MR SANDERS"));
//! assert_eq!(msg.to[0].uri, "im:eeyore@100akerwood.com");
//! assert_eq!(msg.date_time_fields().unwrap().unwrap().offset_minutes, -480);
//! assert_eq!(&msg.content[..], b"Here is the text of my message.");
//!
//! let mut out = Vec::new();
//! msg.write(&mut out);
//! assert_eq!(out, input);
//! ```

use std::borrow::Cow;

use smallvec::SmallVec;

use super::mime::{HeaderBlock, HeaderField, MediaType, MimeError, MimeErrorKind, MimeLimits};

/// The default namespace of CPIM header names (RFC 3862 §3.4).
pub const DEFAULT_NAMESPACE: &str = "urn:ietf:params:cpim-headers:";

/// `NAMECHAR` of RFC 3862 §3.6.
fn is_namechar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(b, 0x21 | 0x23..=0x27 | 0x2a | 0x2b | 0x2d | 0x5e..=0x60 | 0x7c | 0x7e)
}

/// `TOKENCHAR` of RFC 3862 §3.6: `NAMECHAR`, `.` or a non-ASCII character
/// (`UCS-high`) that is not a control.
fn is_tokenchar(c: char) -> bool {
    if c.is_ascii() {
        c == '.' || is_namechar(c as u8)
    } else {
        !c.is_control()
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_tokenchar)
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_namechar)
}

/// A CPIM header or parameter name: `[ Name-prefix "." ] Name` (RFC 3862
/// §3.1, §3.4), where a `Name` is made of `NAMECHAR`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpimName<'a>(Cow<'a, str>);

impl<'a> CpimName<'a> {
    /// Checks `name`; fails with [`MimeErrorKind::InvalidCpimHeader`].
    pub fn new(name: impl Into<Cow<'a, str>>) -> Result<Self, MimeError> {
        let name = name.into();
        let ok = match name.split_once('.') {
            Some((prefix, local)) => is_name(prefix) && is_name(local),
            None => is_name(&name),
        };
        if ok {
            Ok(CpimName(name))
        } else {
            Err(MimeError::new(MimeErrorKind::InvalidCpimHeader, 0))
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The namespace prefix before the `.`, if any.
    pub fn prefix(&self) -> Option<&str> {
        self.0.split_once('.').map(|(p, _)| p)
    }

    /// The name after the prefix.
    pub fn local_name(&self) -> &str {
        self.0.split_once('.').map_or(&self.0, |(_, n)| n)
    }

    fn into_owned(self) -> CpimName<'static> {
        CpimName(Cow::Owned(self.0.into_owned()))
    }
}

/// A `From`, `To` or `cc` value: `[ Formal-name ] "<" URI ">"` (RFC 3862 §4.1).
///
/// When written, a display name made of tokens separated by single spaces is
/// written bare, any other one as a quoted string with escapes; bytes that
/// cannot appear in a URI (controls, space, `<`, `>`) are percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpimAddress<'a> {
    /// The display name (`Formal-name`), escapes removed.
    pub display_name: Option<Cow<'a, str>>,
    /// The URI between `<` and `>`.
    pub uri: Cow<'a, str>,
}

impl<'a> CpimAddress<'a> {
    /// An address.
    pub fn new(display_name: Option<&'a str>, uri: &'a str) -> Self {
        CpimAddress {
            display_name: display_name.map(Cow::Borrowed),
            uri: Cow::Borrowed(uri),
        }
    }

    /// The same address, owning its text.
    pub fn into_owned(self) -> CpimAddress<'static> {
        CpimAddress {
            display_name: self.display_name.map(|n| Cow::Owned(n.into_owned())),
            uri: Cow::Owned(self.uri.into_owned()),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        if let Some(name) = &self.display_name {
            let bare = !name.is_empty() && name.split(' ').all(is_token);
            if bare {
                out.extend_from_slice(name.as_bytes());
            } else {
                write_quoted(out, name);
            }
            out.push(b' ');
        }
        write_uri(out, &self.uri);
    }
}

/// A `Subject` header (RFC 3862 §4.5): text with an optional `lang` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpimSubject<'a> {
    /// The `;lang=` language tag, if any.
    pub lang: Option<Cow<'a, str>>,
    /// The subject text, escapes removed.
    pub text: Cow<'a, str>,
}

/// An `NS` header (RFC 3862 §4.6): a namespace URI and the prefix that names
/// it in header names; without a prefix it sets the default namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpimNamespace<'a> {
    /// The prefix (`MyFeatures` in `NS: MyFeatures <mid:...>`).
    pub prefix: Option<CpimName<'a>>,
    /// The namespace URI.
    pub uri: Cow<'a, str>,
}

/// A header parameter other than `Subject`'s `lang`: `;name=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpimParam<'a> {
    /// The parameter name.
    pub name: CpimName<'a>,
    /// The value (a token, a number or a string; escapes removed).
    pub value: Cow<'a, str>,
}

/// Any header but the ones RFC 3862 defines, such as the namespaced
/// `MyFeatures.VitalMessageOption: Confirmation-requested`.
#[derive(Debug, Clone, Eq)]
pub struct CpimHeader<'a> {
    /// The header name, with its namespace prefix if any.
    pub name: CpimName<'a>,
    /// The header's parameters.
    pub params: SmallVec<[CpimParam<'a>; 1]>,
    /// The value, escapes removed.
    pub value: Cow<'a, str>,
}

impl<'b> PartialEq<CpimHeader<'b>> for CpimHeader<'_> {
    fn eq(&self, other: &CpimHeader<'b>) -> bool {
        self.name.0 == other.name.0
            && self.value == other.value
            && slices_eq(&self.params, &other.params)
    }
}

/// Slice equality for element types that only differ in the lifetime of the
/// text they borrow (they are covariant, so both coerce to a common one).
fn slices_eq<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a == b
}

/// A `DateTime` value (RFC 3339 `date-time`) split into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpimDateTime {
    /// Year, 0 to 9999.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31 (checked against the month and leap years).
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Second, 0 to 60 (60: a leap second).
    pub second: u8,
    /// Fraction of the second in nanoseconds (digits past the ninth are
    /// dropped).
    pub nanosecond: u32,
    /// Offset from UTC in minutes (`Z` is 0), -1439 to 1439.
    pub offset_minutes: i16,
}

impl CpimDateTime {
    /// Parses an RFC 3339 `date-time` (`2000-12-13T13:40:00-08:00`); `T` and
    /// `Z` may be lower case. Fails with [`MimeErrorKind::InvalidDateTime`],
    /// the offset being where the value stops matching.
    pub fn parse(value: &str) -> Result<Self, MimeError> {
        let b = value.as_bytes();
        let err = |at: usize| MimeError::new(MimeErrorKind::InvalidDateTime, at);
        let digits = |at: usize, n: usize| -> Result<u32, MimeError> {
            let mut v = 0u32;
            for i in at..at + n {
                match b.get(i) {
                    Some(d) if d.is_ascii_digit() => v = v * 10 + u32::from(d - b'0'),
                    _ => return Err(err(i)),
                }
            }
            Ok(v)
        };
        let expect = |at: usize, c: &[u8]| -> Result<(), MimeError> {
            match b.get(at) {
                Some(x) if c.contains(x) => Ok(()),
                _ => Err(err(at)),
            }
        };
        let year = digits(0, 4)?;
        expect(4, b"-")?;
        let month = digits(5, 2)?;
        if !(1..=12).contains(&month) {
            return Err(err(5));
        }
        expect(7, b"-")?;
        let day = digits(8, 2)?;
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days_in_month = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if !(1..=days_in_month).contains(&day) {
            return Err(err(8));
        }
        expect(10, b"Tt")?;
        let hour = digits(11, 2)?;
        if hour > 23 {
            return Err(err(11));
        }
        expect(13, b":")?;
        let minute = digits(14, 2)?;
        if minute > 59 {
            return Err(err(14));
        }
        expect(16, b":")?;
        let second = digits(17, 2)?;
        if second > 60 {
            return Err(err(17));
        }
        let mut at = 19;
        let mut nanosecond = 0u32;
        if b.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while let Some(d) = b.get(at).filter(|d| d.is_ascii_digit()) {
                if at - start < 9 {
                    nanosecond = nanosecond * 10 + u32::from(d - b'0');
                }
                at += 1;
            }
            if at == start {
                return Err(err(at));
            }
            for _ in (at - start)..9 {
                nanosecond *= 10;
            }
        }
        let offset_minutes = match b.get(at) {
            Some(b'Z' | b'z') => {
                at += 1;
                0
            }
            Some(&sign @ (b'+' | b'-')) => {
                let h = digits(at + 1, 2)?;
                expect(at + 3, b":")?;
                let m = digits(at + 4, 2)?;
                if h > 23 || m > 59 {
                    return Err(err(at + 1));
                }
                let total = (h * 60 + m) as i16;
                at += 6;
                if sign == b'-' {
                    -total
                } else {
                    total
                }
            }
            _ => return Err(err(at)),
        };
        if at != b.len() {
            return Err(err(at));
        }
        Ok(CpimDateTime {
            year: year as u16,
            month: month as u8,
            day: day as u8,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
            nanosecond,
            offset_minutes,
        })
    }

    /// Appends the value in RFC 3339 form: fraction digits only when not zero
    /// (trailing zeros dropped), `Z` for a zero offset.
    pub fn write(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        // Writing into a Vec cannot fail.
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.nanosecond != 0 {
            let frac = format!("{:09}", self.nanosecond);
            out.push(b'.');
            out.extend_from_slice(frac.trim_end_matches('0').as_bytes());
        }
        if self.offset_minutes == 0 {
            out.push(b'Z');
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let abs = self.offset_minutes.unsigned_abs();
            let _ = write!(out, "{sign}{:02}:{:02}", abs / 60, abs % 60);
        }
    }
}

/// A `message/cpim` message (RFC 3862).
///
/// Parsed messages borrow their input; [`CpimMessageBuf`] is the owned form
/// ([`CpimMessage::into_owned`]), for instance for the History Function, which
/// keeps a stored message's original `From`, `To` and `DateTime`.
///
/// Messages compare equal when their fields do, whatever buffers they borrow.
#[derive(Debug, Clone, Default, Eq)]
pub struct CpimMessage<'a> {
    /// `From`: the sender.
    pub from: Option<CpimAddress<'a>>,
    /// `To` (repeatable): the recipients.
    pub to: SmallVec<[CpimAddress<'a>; 2]>,
    /// `cc` (repeatable): courtesy copies.
    pub cc: SmallVec<[CpimAddress<'a>; 2]>,
    /// `DateTime`, as written (see [`CpimMessage::date_time_fields`]).
    pub date_time: Option<Cow<'a, str>>,
    /// `Subject` (repeatable, one per language).
    pub subject: SmallVec<[CpimSubject<'a>; 1]>,
    /// `NS` (repeatable): namespace declarations.
    pub ns: SmallVec<[CpimNamespace<'a>; 1]>,
    /// `Require`: header names the receiver must understand.
    pub require: SmallVec<[CpimName<'a>; 1]>,
    /// Every other header, in order (namespaced extension headers).
    pub extensions: SmallVec<[CpimHeader<'a>; 2]>,
    /// The encapsulated MIME headers (`Content-Type`, `Content-ID`, ...).
    pub mime_headers: HeaderBlock<'a>,
    /// The content, as octets.
    pub content: Cow<'a, [u8]>,
}

impl<'b> PartialEq<CpimMessage<'b>> for CpimMessage<'_> {
    fn eq(&self, other: &CpimMessage<'b>) -> bool {
        let from_eq = match (&self.from, &other.from) {
            (Some(a), Some(b)) => slices_eq(std::slice::from_ref(a), std::slice::from_ref(b)),
            (None, None) => true,
            _ => false,
        };
        from_eq
            && slices_eq(&self.to, &other.to)
            && slices_eq(&self.cc, &other.cc)
            && self.date_time == other.date_time
            && slices_eq(&self.subject, &other.subject)
            && slices_eq(&self.ns, &other.ns)
            && slices_eq(&self.require, &other.require)
            && self.extensions.len() == other.extensions.len()
            && self
                .extensions
                .iter()
                .zip(other.extensions.iter())
                .all(|(a, b)| a == b)
            && self.mime_headers == other.mime_headers
            && self.content == other.content
    }
}

/// An owned [`CpimMessage`].
pub type CpimMessageBuf = CpimMessage<'static>;

impl<'a> CpimMessage<'a> {
    /// A message from `from` to `to` holding `content` of type
    /// `content_type`.
    ///
    /// Fails when `content_type` is not a valid header value.
    pub fn new(
        from: CpimAddress<'a>,
        to: CpimAddress<'a>,
        content_type: &'a str,
        content: impl Into<Cow<'a, [u8]>>,
    ) -> Result<Self, MimeError> {
        let mut msg = CpimMessage {
            from: Some(from),
            content: content.into(),
            ..Default::default()
        };
        msg.to.push(to);
        msg.mime_headers
            .push(HeaderField::new("Content-Type", content_type)?);
        Ok(msg)
    }

    /// Parses a message with [`MimeLimits::default`].
    pub fn parse(input: &'a [u8]) -> Result<Self, MimeError> {
        Self::parse_with(input, &MimeLimits::default())
    }

    /// Parses a message; offsets in errors are into `input`.
    pub fn parse_with(input: &'a [u8], limits: &MimeLimits) -> Result<Self, MimeError> {
        let mut msg = CpimMessage::default();
        let mut pos = 0usize;
        let mut count = 0usize;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            if rest.is_empty() {
                return Err(MimeError::new(MimeErrorKind::MissingBlankLine, pos));
            }
            let window = &rest[..rest.len().min(limits.max_header_len.saturating_add(2))];
            let Some(nl) = memchr::memchr(b'\n', window) else {
                let kind = if rest.len() > limits.max_header_len {
                    MimeErrorKind::HeaderTooLong
                } else {
                    MimeErrorKind::MissingBlankLine
                };
                return Err(MimeError::new(kind, pos));
            };
            let line_end = if nl > 0 && rest.get(nl - 1) == Some(&b'\r') {
                nl - 1
            } else {
                nl
            };
            if line_end == 0 {
                pos += nl + 1;
                break;
            }
            if line_end > limits.max_header_len {
                return Err(MimeError::new(MimeErrorKind::HeaderTooLong, pos));
            }
            if count >= limits.max_headers {
                return Err(MimeError::new(MimeErrorKind::TooManyHeaders, pos));
            }
            count += 1;
            let line = std::str::from_utf8(&rest[..line_end])
                .map_err(|e| MimeError::new(MimeErrorKind::InvalidUtf8, pos + e.valid_up_to()))?;
            msg.add_header_line(line, limits)
                .map_err(|e| e.shifted(pos))?;
            pos += nl + 1;
        }
        let rest = input.get(pos..).unwrap_or_default();
        let (mime_headers, used, ended) =
            HeaderBlock::parse(rest, limits).map_err(|e| e.shifted(pos))?;
        if !ended {
            return Err(MimeError::new(MimeErrorKind::MissingBlankLine, input.len()));
        }
        msg.mime_headers = mime_headers;
        msg.content = Cow::Borrowed(rest.get(used..).unwrap_or_default());
        Ok(msg)
    }

    /// Parses one header line (no line end) into the message; offsets are
    /// into the line.
    fn add_header_line(&mut self, line: &'a str, limits: &MimeLimits) -> Result<(), MimeError> {
        let invalid = |at: usize| MimeError::new(MimeErrorKind::InvalidCpimHeader, at);
        let colon = line.find(':').ok_or(invalid(0))?;
        let name = CpimName::new(&line[..colon]).map_err(|_| invalid(0))?;
        let mut at = colon + 1;
        let mut params: SmallVec<[CpimParam<'a>; 1]> = SmallVec::new();
        while line[at..].starts_with(';') {
            if params.len() >= limits.max_params {
                return Err(MimeError::new(MimeErrorKind::TooManyParams, at));
            }
            let (param, next) = parse_param(line, at + 1)?;
            params.push(param);
            at = next;
        }
        if line[at..].starts_with([' ', '\t']) {
            at += 1;
        }
        let raw = &line[at..];
        if let Some(i) = find_control(raw) {
            return Err(invalid(at + i));
        }
        let header = name.as_str();
        if header.eq_ignore_ascii_case("From") {
            if self.from.is_some() {
                return Err(MimeError::new(MimeErrorKind::DuplicateHeader, 0));
            }
            self.from = Some(parse_address(raw).map_err(|e| e.shifted(at))?);
        } else if header.eq_ignore_ascii_case("To") {
            self.to.push(parse_address(raw).map_err(|e| e.shifted(at))?);
        } else if header.eq_ignore_ascii_case("cc") {
            self.cc.push(parse_address(raw).map_err(|e| e.shifted(at))?);
        } else if header.eq_ignore_ascii_case("DateTime") {
            if self.date_time.is_some() {
                return Err(MimeError::new(MimeErrorKind::DuplicateHeader, 0));
            }
            self.date_time = Some(unescape(raw).map_err(|e| e.shifted(at))?);
        } else if header.eq_ignore_ascii_case("Subject") {
            let lang = params
                .into_iter()
                .find(|p| p.name.as_str().eq_ignore_ascii_case("lang"))
                .map(|p| p.value);
            let text = unescape(raw).map_err(|e| e.shifted(at))?;
            self.subject.push(CpimSubject { lang, text });
        } else if header.eq_ignore_ascii_case("NS") {
            self.ns
                .push(parse_namespace(raw).map_err(|e| e.shifted(at))?);
        } else if header.eq_ignore_ascii_case("Require") {
            if !self.require.is_empty() {
                return Err(MimeError::new(MimeErrorKind::DuplicateHeader, 0));
            }
            let mut offset = at;
            for item in raw.split(',') {
                let trimmed = item.trim_matches([' ', '\t']);
                self.require
                    .push(CpimName::new(trimmed).map_err(|_| invalid(offset))?);
                offset += item.len() + 1;
            }
        } else {
            let value = unescape(raw).map_err(|e| e.shifted(at))?;
            self.extensions.push(CpimHeader {
                name,
                params,
                value,
            });
        }
        Ok(())
    }

    /// The `DateTime` value split into fields; `None` without `DateTime`.
    pub fn date_time_fields(&self) -> Option<Result<CpimDateTime, MimeError>> {
        self.date_time.as_deref().map(CpimDateTime::parse)
    }

    /// The encapsulated `Content-Type`, parsed; `None` when there is none.
    pub fn content_type(&self) -> Option<Result<MediaType<'_>, MimeError>> {
        self.mime_headers.content_type()
    }

    /// The URI of the namespace declared for `prefix` by an `NS` header.
    pub fn namespace(&self, prefix: &str) -> Option<&str> {
        self.ns
            .iter()
            .find(|ns| ns.prefix.as_ref().is_some_and(|p| p.as_str() == prefix))
            .map(|ns| &*ns.uri)
    }

    /// The first extension header named `name` (prefix included, compared
    /// exactly).
    pub fn extension(&self, name: &str) -> Option<&CpimHeader<'a>> {
        self.extensions.iter().find(|h| h.name.as_str() == name)
    }

    /// The same message, owning all its text and content.
    pub fn into_owned(self) -> CpimMessageBuf {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        CpimMessage {
            from: self.from.map(CpimAddress::into_owned),
            to: self.to.into_iter().map(CpimAddress::into_owned).collect(),
            cc: self.cc.into_iter().map(CpimAddress::into_owned).collect(),
            date_time: self.date_time.map(own),
            subject: self
                .subject
                .into_iter()
                .map(|s| CpimSubject {
                    lang: s.lang.map(own),
                    text: own(s.text),
                })
                .collect(),
            ns: self
                .ns
                .into_iter()
                .map(|n| CpimNamespace {
                    prefix: n.prefix.map(CpimName::into_owned),
                    uri: own(n.uri),
                })
                .collect(),
            require: self.require.into_iter().map(CpimName::into_owned).collect(),
            extensions: self
                .extensions
                .into_iter()
                .map(|h| CpimHeader {
                    name: h.name.into_owned(),
                    params: h
                        .params
                        .into_iter()
                        .map(|p| CpimParam {
                            name: p.name.into_owned(),
                            value: own(p.value),
                        })
                        .collect(),
                    value: own(h.value),
                })
                .collect(),
            mime_headers: self.mime_headers.into_owned(),
            content: Cow::Owned(self.content.into_owned()),
        }
    }

    /// Appends the message: header block, CRLF, MIME headers, CRLF, content.
    pub fn write(&self, out: &mut Vec<u8>) {
        if let Some(from) = &self.from {
            out.extend_from_slice(b"From: ");
            from.write(out);
            out.extend_from_slice(b"\r\n");
        }
        for to in &self.to {
            out.extend_from_slice(b"To: ");
            to.write(out);
            out.extend_from_slice(b"\r\n");
        }
        for cc in &self.cc {
            out.extend_from_slice(b"cc: ");
            cc.write(out);
            out.extend_from_slice(b"\r\n");
        }
        if let Some(dt) = &self.date_time {
            out.extend_from_slice(b"DateTime: ");
            write_escaped(out, dt, false);
            out.extend_from_slice(b"\r\n");
        }
        for subject in &self.subject {
            out.extend_from_slice(b"Subject:");
            if let Some(lang) = &subject.lang {
                out.extend_from_slice(b";lang=");
                write_param_value(out, lang);
            }
            out.push(b' ');
            write_escaped(out, &subject.text, false);
            out.extend_from_slice(b"\r\n");
        }
        for ns in &self.ns {
            out.extend_from_slice(b"NS: ");
            if let Some(prefix) = &ns.prefix {
                out.extend_from_slice(prefix.as_str().as_bytes());
                out.push(b' ');
            }
            write_uri(out, &ns.uri);
            out.extend_from_slice(b"\r\n");
        }
        if !self.require.is_empty() {
            out.extend_from_slice(b"Require: ");
            for (i, name) in self.require.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(name.as_str().as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
        for header in &self.extensions {
            out.extend_from_slice(header.name.as_str().as_bytes());
            out.push(b':');
            for p in &header.params {
                out.push(b';');
                out.extend_from_slice(p.name.as_str().as_bytes());
                out.push(b'=');
                write_param_value(out, &p.value);
            }
            out.push(b' ');
            write_escaped(out, &header.value, false);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        self.mime_headers.write(out);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.content);
    }
}

/// Offset of the first control character other than HTAB in `s` (C0, DEL or
/// C1), if any.
fn find_control(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    bytes.iter().enumerate().find_map(|(i, &b)| {
        let c0 = (b < 0x20 && b != b'\t') || b == 0x7f;
        // C1 controls U+0080..U+009F are encoded 0xC2 0x80..0x9F.
        let c1 = b == 0xc2 && bytes.get(i + 1).is_some_and(|n| (0x80..0xa0).contains(n));
        (c0 || c1).then_some(i)
    })
}

/// Parses `Param-name "=" Param-value` starting at `at` (just after `;`);
/// returns it and the offset after it.
fn parse_param(line: &str, at: usize) -> Result<(CpimParam<'_>, usize), MimeError> {
    let invalid = |i: usize| MimeError::new(MimeErrorKind::InvalidCpimHeader, i);
    let rest = &line[at..];
    let name_len = rest.bytes().take_while(|&b| is_namechar(b)).count();
    let name = CpimName::new(&rest[..name_len]).map_err(|_| invalid(at))?;
    let Some(value_part) = rest[name_len..].strip_prefix('=') else {
        return Err(invalid(at + name_len));
    };
    let value_at = at + name_len + 1;
    let (value, len) = if let Some(inner) = value_part.strip_prefix('"') {
        let end = quoted_end(inner).ok_or(MimeError::new(
            MimeErrorKind::UnterminatedQuotedString,
            value_at,
        ))?;
        let value = unescape(&inner[..end]).map_err(|e| e.shifted(value_at + 1))?;
        (value, end + 2)
    } else {
        let len = value_part
            .find(|c: char| !is_tokenchar(c))
            .unwrap_or(value_part.len());
        if len == 0 {
            return Err(invalid(value_at));
        }
        (Cow::Borrowed(&value_part[..len]), len)
    };
    let next = value_at + len;
    if !(line[next..].is_empty() || line[next..].starts_with([';', ' ', '\t'])) {
        return Err(invalid(next));
    }
    Ok((CpimParam { name, value }, next))
}

/// Index of the closing `"` in `s` (just after the opening one), skipping
/// escape pairs.
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

/// Removes RFC 3862 escapes: `\\`, `\"`, `\'`, `\b`, `\t`, `\n`, `\r` and
/// `\uXXXX`. Borrows when there is no `\`. Offsets are into `s`.
fn unescape(s: &str) -> Result<Cow<'_, str>, MimeError> {
    let Some(first) = s.find('\\') else {
        return Ok(Cow::Borrowed(s));
    };
    let err = |at: usize| MimeError::new(MimeErrorKind::InvalidEscape, at);
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    let mut i = first;
    while i < s.len() {
        let rest = &s[i..];
        let Some(after) = rest.strip_prefix('\\') else {
            let next = rest.find('\\').unwrap_or(rest.len());
            out.push_str(&rest[..next]);
            i += next;
            continue;
        };
        let (c, len) = match after.as_bytes().first() {
            Some(b'\\') => ('\\', 2),
            Some(b'"') => ('"', 2),
            Some(b'\'') => ('\'', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b't') => ('\t', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b'u') => {
                let hex = after.get(1..5).ok_or(err(i))?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(err(i));
                }
                let code = u32::from_str_radix(hex, 16).map_err(|_| err(i))?;
                (char::from_u32(code).ok_or(err(i))?, 6)
            }
            _ => return Err(err(i)),
        };
        out.push(c);
        i += len;
    }
    Ok(Cow::Owned(out))
}

/// Appends `s` with RFC 3862 escapes for `\` and control characters (and `"`
/// when `in_quotes`).
fn write_escaped(out: &mut Vec<u8>, s: &str, in_quotes: bool) {
    let plain = s
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'\\' && !(in_quotes && b == b'"'));
    if plain {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '"' if in_quotes => out.extend_from_slice(b"\\\""),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if c.is_control() => {
                // Controls beyond U+FFFF do not exist; `\u` takes 4 digits.
                let code = u32::from(c);
                out.extend_from_slice(format!("\\u{code:04x}").as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

fn write_quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_escaped(out, s, true);
    out.push(b'"');
}

/// Writes a parameter value as a token when it is one, else as a string.
fn write_param_value(out: &mut Vec<u8>, value: &str) {
    if is_token(value) {
        out.extend_from_slice(value.as_bytes());
    } else {
        write_quoted(out, value);
    }
}

/// Whether a URI may hold byte `b` as is.
fn is_uri_byte(b: u8) -> bool {
    b > b' ' && b != 0x7f && b != b'<' && b != b'>'
}

/// Writes `<uri>`, percent-encoding the UTF-8 bytes of characters a URI
/// cannot hold (controls, space, `<`, `>`).
fn write_uri(out: &mut Vec<u8>, uri: &str) {
    out.push(b'<');
    if uri.bytes().all(is_uri_byte) && uri.is_ascii() {
        out.extend_from_slice(uri.as_bytes());
        out.push(b'>');
        return;
    }
    for c in uri.chars() {
        let mut buf = [0u8; 4];
        let bytes = c.encode_utf8(&mut buf).as_bytes();
        let keep = if c.is_ascii() {
            is_uri_byte(c as u8)
        } else {
            !c.is_control()
        };
        if keep {
            out.extend_from_slice(bytes);
        } else {
            for &b in bytes.iter() {
                out.push(b'%');
                out.push(b"0123456789ABCDEF"[usize::from(b >> 4)]);
                out.push(b"0123456789ABCDEF"[usize::from(b & 0xf)]);
            }
        }
    }
    out.push(b'>');
}

/// Parses `"<" URI ">"` at the start of `s` (offset `at` in the value); only
/// white space may follow.
fn parse_angle_uri(s: &str, at: usize, kind: MimeErrorKind) -> Result<&str, MimeError> {
    let err = |i: usize| MimeError::new(kind, i);
    let inner = s.strip_prefix('<').ok_or(err(at))?;
    let end = inner.find('>').ok_or(err(at))?;
    let uri = &inner[..end];
    if uri.is_empty() {
        return Err(err(at + 1));
    }
    if let Some(i) = uri.bytes().position(|b| !is_uri_byte(b) && b < 0x80) {
        return Err(err(at + 1 + i));
    }
    let tail = &inner[end + 1..];
    if !tail.trim_matches([' ', '\t']).is_empty() {
        return Err(err(at + end + 2));
    }
    Ok(uri)
}

/// Parses `[ Formal-name ] "<" URI ">"`.
fn parse_address(value: &str) -> Result<CpimAddress<'_>, MimeError> {
    let err = |i: usize| MimeError::new(MimeErrorKind::InvalidAddress, i);
    if let Some(inner) = value.strip_prefix('"') {
        let end = quoted_end(inner).ok_or(err(0))?;
        let name = unescape(&inner[..end]).map_err(|e| e.shifted(1))?;
        let after = &inner[end + 1..];
        let rest = after.trim_start_matches([' ', '\t']);
        let at = value.len() - rest.len();
        let uri = parse_angle_uri(rest, at, MimeErrorKind::InvalidAddress)?;
        return Ok(CpimAddress {
            display_name: Some(name),
            uri: Cow::Borrowed(uri),
        });
    }
    let lt = value.find('<').ok_or(err(0))?;
    let name = value[..lt].trim_matches([' ', '\t']);
    if name.contains('"') || name.contains('>') {
        return Err(err(0));
    }
    let uri = parse_angle_uri(&value[lt..], lt, MimeErrorKind::InvalidAddress)?;
    let display_name = if name.is_empty() {
        None
    } else {
        Some(unescape(name)?)
    };
    Ok(CpimAddress {
        display_name,
        uri: Cow::Borrowed(uri),
    })
}

/// Parses `[ Name-prefix SP ] "<" URI ">"`.
fn parse_namespace(value: &str) -> Result<CpimNamespace<'_>, MimeError> {
    let err = |i: usize| MimeError::new(MimeErrorKind::InvalidNamespace, i);
    let lt = value.find('<').ok_or(err(0))?;
    let prefix = value[..lt].trim_matches([' ', '\t']);
    let prefix = if prefix.is_empty() {
        None
    } else {
        Some(CpimName::new(prefix).map_err(|_| err(0))?)
    };
    let uri = parse_angle_uri(&value[lt..], lt, MimeErrorKind::InvalidNamespace)?;
    Ok(CpimNamespace {
        prefix,
        uri: Cow::Borrowed(uri),
    })
}

/// Header fields a sender adds to a CPIM message it builds around its
/// content, such as the `imdn` namespace and its `imdn.Message-ID` and
/// `imdn.Disposition-Notification` (RFC 5438 §6) on a message, or
/// `Content-Disposition: notification` on a notification (RFC 5438 §7.1).
///
/// ```
/// use oma_im::body::cpim::{CpimAddress, CpimExtras, CpimMessage};
///
/// let extras = CpimExtras {
///     namespaces: vec![("imdn".into(), "urn:ietf:params:imdn".into())],
///     headers: vec![("imdn.Message-ID".into(), "34jk324j".into())],
///     ..CpimExtras::default()
/// };
/// let mut msg = CpimMessage::new(
///     CpimAddress::new(None, "sip:alice@example.com"),
///     CpimAddress::new(None, "sip:bob@example.com"),
///     "text/plain",
///     &b"hi"[..],
/// )
/// .unwrap();
/// extras.apply(&mut msg).unwrap();
/// let mut out = Vec::new();
/// msg.write(&mut out);
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.contains("NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: 34jk324j\r\n"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpimExtras {
    /// When set, the one `To` address, in place of the default one (a
    /// notification goes to the sender of the message it reports on, not
    /// to the conference).
    pub to: Option<String>,
    /// `NS` headers: prefix and namespace URI.
    pub namespaces: Vec<(String, String)>,
    /// Extension headers: name (with its prefix) and value.
    pub headers: Vec<(String, String)>,
    /// MIME headers of the content besides `Content-Type`.
    pub mime_headers: Vec<(String, String)>,
}

impl CpimExtras {
    /// Whether nothing is added.
    pub fn is_empty(&self) -> bool {
        self.to.is_none()
            && self.namespaces.is_empty()
            && self.headers.is_empty()
            && self.mime_headers.is_empty()
    }

    /// Adds the fields to `msg` (the `To` replaced when [`to`](Self::to)
    /// is set). A prefix or header name that is not a CPIM name fails with
    /// [`MimeErrorKind::InvalidCpimHeader`], a MIME header as
    /// [`HeaderField::new`] does; `msg` is then left unchanged.
    pub fn apply<'a>(&'a self, msg: &mut CpimMessage<'a>) -> Result<(), MimeError> {
        let mut ns = SmallVec::<[CpimNamespace<'a>; 1]>::new();
        for (prefix, uri) in &self.namespaces {
            ns.push(CpimNamespace {
                prefix: Some(CpimName::new(prefix.as_str())?),
                uri: Cow::Borrowed(uri),
            });
        }
        let mut headers = SmallVec::<[CpimHeader<'a>; 2]>::new();
        for (name, value) in &self.headers {
            headers.push(CpimHeader {
                name: CpimName::new(name.as_str())?,
                params: SmallVec::new(),
                value: Cow::Borrowed(value),
            });
        }
        let mut mime = Vec::with_capacity(self.mime_headers.len());
        for (name, value) in &self.mime_headers {
            mime.push(HeaderField::new(name.as_str(), value.as_str())?);
        }
        if let Some(to) = &self.to {
            msg.to.clear();
            msg.to.push(CpimAddress::new(None, to));
        }
        msg.ns.extend(ns);
        msg.extensions.extend(headers);
        for field in mime {
            msg.mime_headers.push(field);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let text = "a\\b\"c\td\ne\rf\u{8}g\u{1}h é";
        let mut out = Vec::new();
        write_escaped(&mut out, text, true);
        let written = String::from_utf8(out).unwrap();
        assert_eq!(written, "a\\\\b\\\"c\\td\\ne\\rf\\bg\\u0001h é");
        assert_eq!(unescape(&written).unwrap(), text);
        assert!(matches!(unescape("plain").unwrap(), Cow::Borrowed("plain")));
        assert_eq!(
            unescape("x\\q").unwrap_err(),
            MimeError::new(MimeErrorKind::InvalidEscape, 1)
        );
        assert_eq!(
            unescape("\\u12").unwrap_err().kind,
            MimeErrorKind::InvalidEscape
        );
        assert_eq!(
            unescape("\\ud800").unwrap_err().kind,
            MimeErrorKind::InvalidEscape
        );
        assert_eq!(unescape("\\u00e9\\'").unwrap(), "é'");
    }

    #[test]
    fn addresses() {
        let a = parse_address("\"Winnie \\\"the\\\" Pooh\" <im:pooh@100akerwood.com>").unwrap();
        assert_eq!(a.display_name.as_deref(), Some("Winnie \"the\" Pooh"));
        let b = parse_address("<im:tigger@100akerwood.com>").unwrap();
        assert_eq!(b.display_name, None);
        assert_eq!(b.uri, "im:tigger@100akerwood.com");
        assert_eq!(
            parse_address("no uri").unwrap_err().kind,
            MimeErrorKind::InvalidAddress
        );
        assert_eq!(
            parse_address("<a b>").unwrap_err(),
            MimeError::new(MimeErrorKind::InvalidAddress, 2)
        );
        assert_eq!(
            parse_address("<a> x").unwrap_err().kind,
            MimeErrorKind::InvalidAddress
        );
        let mut out = Vec::new();
        CpimAddress::new(Some("two  spaces"), "x:a b").write(&mut out);
        assert_eq!(out, b"\"two  spaces\" <x:a%20b>");
    }

    #[test]
    fn date_time() {
        let dt = CpimDateTime::parse("2000-12-13T13:40:00-08:00").unwrap();
        assert_eq!((dt.year, dt.month, dt.day, dt.hour), (2000, 12, 13, 13));
        assert_eq!(dt.offset_minutes, -480);
        let dt = CpimDateTime::parse("2019-07-31t21:54:12.000123z").unwrap();
        assert_eq!(dt.nanosecond, 123_000);
        let mut out = Vec::new();
        dt.write(&mut out);
        assert_eq!(out, b"2019-07-31T21:54:12.000123Z");
        assert_eq!(
            CpimDateTime::parse(std::str::from_utf8(&out).unwrap()).unwrap(),
            dt
        );
        assert!(CpimDateTime::parse("2000-02-29T00:00:00Z").is_ok());
        assert!(CpimDateTime::parse("1900-02-29T00:00:00Z").is_err());
        assert!(CpimDateTime::parse("2000-04-31T00:00:00Z").is_err());
        assert!(CpimDateTime::parse("2000-01-01T24:00:00Z").is_err());
        assert!(CpimDateTime::parse("2000-01-01T00:00:60+01:00").is_ok());
        assert_eq!(
            CpimDateTime::parse("2000-01-01T00:00:00").unwrap_err(),
            MimeError::new(MimeErrorKind::InvalidDateTime, 19)
        );
        assert!(CpimDateTime::parse("2000-01-01T00:00:00Zx").is_err());
        assert!(CpimDateTime::parse("2000-01-01T00:00:00.Z").is_err());
    }

    #[test]
    fn header_line_errors() {
        let parse = |s: &'static str| CpimMessage::parse(s.as_bytes());
        assert_eq!(
            parse("From <im:a>\r\n\r\n\r\n").unwrap_err(),
            MimeError::new(MimeErrorKind::InvalidCpimHeader, 0)
        );
        assert_eq!(
            parse("From: <im:a>\r\nFrom: <im:b>\r\n\r\n\r\n").unwrap_err(),
            MimeError::new(MimeErrorKind::DuplicateHeader, 14)
        );
        assert_eq!(
            parse("To: <im:a>\r\n").unwrap_err().kind,
            MimeErrorKind::MissingBlankLine
        );
        assert_eq!(
            parse("To: <im:a>\r\n\r\nContent-Type: text/plain\r\n")
                .unwrap_err()
                .kind,
            MimeErrorKind::MissingBlankLine
        );
        assert_eq!(
            parse(" To: <im:a>\r\n\r\n\r\n").unwrap_err().kind,
            MimeErrorKind::InvalidCpimHeader
        );
        assert_eq!(
            parse("X:;a=\"b <x>\r\n\r\n\r\n").unwrap_err(),
            MimeError::new(MimeErrorKind::UnterminatedQuotedString, 5)
        );
        assert_eq!(
            parse("Require: A, B.c, \r\n\r\n\r\n").unwrap_err(),
            MimeError::new(MimeErrorKind::InvalidCpimHeader, 16)
        );
    }

    #[test]
    fn params_and_extensions_round_trip() {
        let input = "Test:;aaa=bbb;yes=\"n o\" CheckMe\r\nNS: <urn:x>\r\nP.Q: a\\\\b\r\n\r\n\r\n";
        let msg = CpimMessage::parse(input.as_bytes()).unwrap();
        assert_eq!(msg.extensions.len(), 2);
        let test = &msg.extensions[0];
        assert_eq!(test.params[1].value, "n o");
        assert_eq!(test.value, "CheckMe");
        assert_eq!(msg.extension("P.Q").unwrap().value, "a\\b");
        assert_eq!(msg.extension("P.Q").unwrap().name.prefix(), Some("P"));
        assert_eq!(msg.ns[0].prefix, None);
        let mut out = Vec::new();
        msg.write(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NS: <urn:x>\r\nTest:;aaa=bbb;yes=\"n o\" CheckMe\r\nP.Q: a\\\\b\r\n\r\n\r\n"
        );
    }

    #[test]
    fn limits() {
        let limits = MimeLimits {
            max_headers: 2,
            ..MimeLimits::default()
        };
        let input = b"To: <a:1>\r\nTo: <a:2>\r\nTo: <a:3>\r\n\r\n\r\n";
        assert_eq!(
            CpimMessage::parse_with(input, &limits).unwrap_err(),
            MimeError::new(MimeErrorKind::TooManyHeaders, 22)
        );
        let limits = MimeLimits {
            max_header_len: 8,
            ..MimeLimits::default()
        };
        assert_eq!(
            CpimMessage::parse_with(b"To: <a:1>\r\n\r\n\r\n", &limits)
                .unwrap_err()
                .kind,
            MimeErrorKind::HeaderTooLong
        );
        let limits = MimeLimits {
            max_params: 1,
            ..MimeLimits::default()
        };
        assert_eq!(
            CpimMessage::parse_with(b"X:;a=1;b=2 v\r\n\r\n\r\n", &limits).unwrap_err(),
            MimeError::new(MimeErrorKind::TooManyParams, 6)
        );
    }

    #[test]
    fn owned_builder() {
        let content = String::from("hello");
        let owned: CpimMessageBuf = {
            let msg = CpimMessage::new(
                CpimAddress::new(None, "sip:alice@example.com"),
                CpimAddress::new(Some("Bob"), "sip:bob@example.com"),
                "text/plain;charset=utf-8",
                content.as_bytes(),
            )
            .unwrap();
            msg.into_owned()
        };
        drop(content);
        let mut out = Vec::new();
        owned.write(&mut out);
        assert_eq!(
            out,
            b"From: <sip:alice@example.com>\r\nTo: Bob <sip:bob@example.com>\r\n\r\n\
Content-Type: text/plain;charset=utf-8\r\n\r\nhello"
        );
        assert_eq!(CpimMessage::parse(&out).unwrap().into_owned(), owned);
    }
}
